"""covering indexes for the inbox's two halves

The inbox reads "sent from the subtree" and "shared with it as host" as two halves of a UNION ALL. Each half
now reads one index holding its filters, its sort keys and the id, so a page sorts index entries instead of
loading every report of the subtree (issue 20: 29 ms on SQLite, 1.7 s on PostgreSQL for a village branch).
The host index of reports_0002 is superseded by the wider one.

Revision ID: reports_0003
Revises: reports_0002
Create Date: 2026-11-30 16:08:11.669196
"""
from alembic import op

revision = 'reports_0003'
down_revision = 'reports_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_reports_report_host', table_name='reports_report')
    op.create_index('ix_reports_report_home_sent', 'reports_report',
                    ['home_unit_id', 'status', 'submitted_at', 'id'], unique=False)
    op.create_index('ix_reports_report_host_sent', 'reports_report',
                    ['host_unit_id', 'share_with_host', 'status', 'home_unit_id', 'submitted_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_reports_report_host_sent', table_name='reports_report')
    op.drop_index('ix_reports_report_home_sent', table_name='reports_report')
    op.create_index('ix_reports_report_host', 'reports_report', ['host_unit_id', 'submitted_at'], unique=False)
