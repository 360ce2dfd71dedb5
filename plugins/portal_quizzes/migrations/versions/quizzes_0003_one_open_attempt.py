"""at most one open attempt per member and quiz

Revision ID: quizzes_0003
Revises: quizzes_0002
Create Date: 2026-11-30 01:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'quizzes_0003'
down_revision = 'quizzes_0002'
branch_labels = None
depends_on = None

OPEN = "state = 'in_progress'"


def upgrade():
    # Earlier races may have left several open attempts: keep the newest open one of each member and quiz.
    op.execute(
        "UPDATE quizzes_attempt SET state = 'finished', submitted_at = started_at, score = 0"
        " WHERE state = 'in_progress' AND id NOT IN ("
        " SELECT MAX(id) FROM quizzes_attempt WHERE state = 'in_progress' GROUP BY quiz_id, member_id)")
    op.create_index('uq_quizzes_attempt_open', 'quizzes_attempt', ['quiz_id', 'member_id'], unique=True,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade():
    op.drop_index('uq_quizzes_attempt_open', table_name='quizzes_attempt')
