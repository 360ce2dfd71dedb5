"""server-side login sessions, token labels, login failures per account, database rate-limit counters

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-11-30 01:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'core_0008'
down_revision = 'core_0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_session',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_login_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_account_id'), ['account_id'], unique=False)
    op.create_table('rate_counter',
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'key', 'window_start', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_login_failure_account_id_account'), 'account', ['account_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_index('ix_login_failure_account_ip_at', ['account_id', 'ip', 'at'], unique=False)
    # Sessions signed before this revision name no server-side session: everyone logs in once more.


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_account_ip_at')
        batch_op.drop_constraint(batch_op.f('fk_login_failure_account_id_account'), type_='foreignkey')
        batch_op.drop_column('account_id')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('label')
    op.drop_table('rate_counter')
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_account_id'))
    op.drop_table('login_session')
