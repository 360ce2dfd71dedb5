"""index the reports shared with a host branch

The inbox reads "sent from the subtree, or shared with it as host": without an index on ``host_unit_id``
the host half scans every report (issue 20: ~200 ms for a branch at county scale).

Revision ID: reports_0002
Revises: reports_0001
Create Date: 2026-11-30 10:26:47.339897
"""
from alembic import op

revision = 'reports_0002'
down_revision = 'reports_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reports_report', schema=None) as batch_op:
        batch_op.create_index('ix_reports_report_host', ['host_unit_id', 'submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('reports_report', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_report_host')
