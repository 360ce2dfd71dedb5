"""example_hello notes (a table, so installing the wheel runs a migration)

Revision ID: example_hello_0001
Revises:
Create Date: 2026-11-30 00:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'example_hello_0001'
down_revision = None
branch_labels = ('example_hello',)
depends_on = 'core_0001'


def upgrade():
    op.create_table(
        'example_hello_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('example_hello_note')
