"""index the cases hosted by a unit

The boards, the public-notice log and the xlsx read "open cases kept in the subtree OR hosted there":
without an index on ``host_unit_id`` SQLite walked every open case of the portal (issue 20: 6 480 cases
for a board of 10); with it each half of the OR walks its own index.

Revision ID: development_0002
Revises: development_0001
Create Date: 2026-11-30 16:10:11.414961
"""
from alembic import op

revision = 'development_0002'
down_revision = 'development_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('development_case', schema=None) as batch_op:
        batch_op.create_index('ix_development_case_host', ['host_unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('development_case', schema=None) as batch_op:
        batch_op.drop_index('ix_development_case_host')
