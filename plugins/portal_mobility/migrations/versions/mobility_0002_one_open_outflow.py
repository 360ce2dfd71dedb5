"""at most one open outflow registration per member

Revision ID: mobility_0002
Revises: mobility_0001
Create Date: 2026-11-21 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mobility_0002'
down_revision = 'mobility_0001'
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'changes_requested', 'approved')"


def upgrade():
    op.create_index('uq_mobility_outflow_open_member', 'mobility_outflow', ['member_id'], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('uq_mobility_outflow_open_member', table_name='mobility_outflow')
