"""the contact log tells an attempt that reached nobody from a contact

Revision ID: mobility_0004
Revises: mobility_0003
Create Date: 2026-11-30 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'mobility_0004'
down_revision = 'mobility_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mobility_contact_log') as batch:
        batch.add_column(sa.Column('reached', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('mobility_contact_log') as batch:
        batch.drop_column('reached')
