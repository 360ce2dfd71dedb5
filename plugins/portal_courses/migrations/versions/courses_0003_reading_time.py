"""reading time actually spent: seconds per lesson and the member's reading clock

Revision ID: courses_0003
Revises: courses_0002
Create Date: 2026-11-30 01:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'courses_0003'
down_revision = 'courses_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses_lesson_progress') as batch:
        batch.add_column(sa.Column('seconds_spent', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('courses_reading_clock',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('prev_lesson_id', sa.Integer(), nullable=True),
    sa.Column('prev_at', sa.DateTime(), nullable=True),
    sa.Column('prev_state', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_courses_reading_clock_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_courses_reading_clock'))
    )


def downgrade():
    op.drop_table('courses_reading_clock')
    with op.batch_alter_table('courses_lesson_progress') as batch:
        batch.drop_column('seconds_spent')
