"""open standards: the xAPI outbox, Open Badges classes and assertions, an account's e-mail address

Revision ID: core_0013
Revises: core_0012
Create Date: 2026-11-30 12:56:16.051633
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0013'
down_revision = 'core_0012'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('badge_class',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('criteria_narrative', sa.Text(), nullable=False),
    sa.Column('criteria_path', sa.String(length=500), nullable=True),
    sa.Column('image_key', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_class')),
    sa.UniqueConstraint('key', name=op.f('uq_badge_class_key'))
    )
    op.create_table('badge_assertion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('badge_class_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('recipient_type', sa.String(length=16), nullable=False),
    sa.Column('identity', sa.String(length=100), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('evidence_path', sa.String(length=500), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revocation_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['badge_class_id'], ['badge_class.id'], name=op.f('fk_badge_assertion_badge_class_id_badge_class'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_badge_assertion_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_assertion')),
    sa.UniqueConstraint('source', name=op.f('uq_badge_assertion_source')),
    sa.UniqueConstraint('uid', name=op.f('uq_badge_assertion_uid'))
    )
    with op.batch_alter_table('badge_assertion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_assertion_badge_class_id'), ['badge_class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_badge_assertion_member_id'), ['member_id'], unique=False)

    op.create_table('xapi_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_xapi_outbox_activity_id_activity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_outbox')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_xapi_outbox_activity_id'))
    )
    with op.batch_alter_table('xapi_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_outbox_due', ['sent_at', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))




def downgrade():

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('xapi_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_xapi_outbox_due')

    op.drop_table('xapi_outbox')
    with op.batch_alter_table('badge_assertion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_assertion_member_id'))
        batch_op.drop_index(batch_op.f('ix_badge_assertion_badge_class_id'))

    op.drop_table('badge_assertion')
    op.drop_table('badge_class')

