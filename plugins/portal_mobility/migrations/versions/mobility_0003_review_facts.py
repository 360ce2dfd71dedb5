"""the annual review keeps the facts counted from the activity stream

Revision ID: mobility_0003
Revises: mobility_0002
Create Date: 2026-11-30 00:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mobility_0003'
down_revision = 'mobility_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('mobility_review', sa.Column('facts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('mobility_review') as batch:
        batch.drop_column('facts')
