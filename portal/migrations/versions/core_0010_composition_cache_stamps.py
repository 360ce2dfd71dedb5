"""composition cache: one version stamp per scope (a table), bumped by every committed write to it

Revision ID: core_0010
Revises: core_0009
Create Date: 2026-11-30 09:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'core_0010'
down_revision = 'core_0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cache_stamp',
        sa.Column('scope', sa.String(length=100), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_cache_stamp')),
    )


def downgrade():
    op.drop_table('cache_stamp')
