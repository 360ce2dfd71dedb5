"""comment reports and the moderation queue

Revision ID: courses_0002
Revises: courses_0001
Create Date: 2026-11-30 01:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'courses_0002'
down_revision = 'courses_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses_comment') as batch:
        batch.add_column(sa.Column('hidden_auto', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
    op.create_table('courses_comment_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['courses_comment.id'], name=op.f('fk_courses_comment_report_comment_id_courses_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_courses_comment_report_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses_comment_report')),
    sa.UniqueConstraint('comment_id', 'member_id', name='uq_courses_comment_report')
    )
    with op.batch_alter_table('courses_comment_report') as batch:
        batch.create_index(batch.f('ix_courses_comment_report_comment_id'), ['comment_id'], unique=False)
        batch.create_index(batch.f('ix_courses_comment_report_member_id'), ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('courses_comment_report') as batch:
        batch.drop_index(batch.f('ix_courses_comment_report_member_id'))
        batch.drop_index(batch.f('ix_courses_comment_report_comment_id'))
    op.drop_table('courses_comment_report')
    with op.batch_alter_table('courses_comment') as batch:
        batch.drop_column('reviewed_at')
        batch.drop_column('hidden_auto')
