"""one pending check-in per member and host branch, one active certificate per registration

Revision ID: mobility_0006
Revises: mobility_0005
Create Date: 2026-11-30 01:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mobility_0006'
down_revision = 'mobility_0005'
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"
ACTIVE = "status = 'active'"


def upgrade():
    # Races before the index may have left duplicates: the newest stays, the older ones end.
    op.execute("UPDATE mobility_checkin SET status = 'ended', ended_at = requested_at WHERE status = 'pending'"
               " AND id NOT IN (SELECT MAX(id) FROM mobility_checkin WHERE status = 'pending'"
               " GROUP BY member_id, host_unit_id)")
    op.execute("UPDATE mobility_certificate SET status = 'closed' WHERE status = 'active'"
               " AND id NOT IN (SELECT MAX(id) FROM mobility_certificate WHERE status = 'active' GROUP BY outflow_id)")
    op.create_index('uq_mobility_checkin_pending_host', 'mobility_checkin', ['member_id', 'host_unit_id'], unique=True,
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    op.create_index('uq_mobility_certificate_active_outflow', 'mobility_certificate', ['outflow_id'], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index('uq_mobility_certificate_active_outflow', table_name='mobility_certificate')
    op.drop_index('uq_mobility_checkin_pending_host', table_name='mobility_checkin')
