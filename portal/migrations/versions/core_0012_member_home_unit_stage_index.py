"""member lists: the home-unit index also holds the stage, so counting a whole tree reads only the index

Revision ID: core_0012
Revises: core_0011
Create Date: 2026-11-30 10:15:00
"""
from alembic import op

revision = 'core_0012'
down_revision = 'core_0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_member_home_unit_stage', 'member', ['home_unit_id', 'stage'])
    op.drop_index('ix_member_home_unit', table_name='member')


def downgrade():
    op.create_index('ix_member_home_unit', 'member', ['home_unit_id'])
    op.drop_index('ix_member_home_unit_stage', table_name='member')
