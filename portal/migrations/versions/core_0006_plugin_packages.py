"""plugin wheels installed from the admin page, stored so every machine can unpack them

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-11-30 00:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'core_0006'
down_revision = 'core_0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'plugin_package',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('distribution', sa.String(length=128), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('wheel', sa.LargeBinary(), nullable=True),
        sa.Column('installed_at', sa.DateTime(), nullable=False),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.Column('schema_revisions', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('plugin_package')
