"""question versions, categories owned by a unit, responses keep their version

Revision ID: quizzes_0002
Revises: quizzes_0001
Create Date: 2026-11-30 01:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'quizzes_0002'
down_revision = 'quizzes_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quizzes_question_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('qtype', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_format', sa.String(length=10), nullable=False),
    sa.Column('general_feedback', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('default_mark', sa.Float(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['account.id'], name=op.f('fk_quizzes_question_version_created_by_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['quizzes_question.id'], name=op.f('fk_quizzes_question_version_question_id_quizzes_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes_question_version')),
    sa.UniqueConstraint('question_id', 'version', name='uq_quizzes_question_version')
    )
    with op.batch_alter_table('quizzes_question_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quizzes_question_version_question_id'), ['question_id'], unique=False)
    # Every existing question starts its history with its current state.
    op.execute("INSERT INTO quizzes_question_version (question_id, version, qtype, name, text, text_format, "
               "general_feedback, data, default_mark, created_at) SELECT id, version, qtype, name, text, text_format, "
               "general_feedback, data, default_mark, updated_at FROM quizzes_question")

    with op.batch_alter_table('quizzes_category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_quizzes_category_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_quizzes_category_unit_id_org_unit'), 'org_unit', ['unit_id'], ['id'])

    with op.batch_alter_table('quizzes_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_quizzes_response_version_id_quizzes_question_version'),
                                    'quizzes_question_version', ['version_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('quizzes_response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_quizzes_response_version_id_quizzes_question_version'), type_='foreignkey')
        batch_op.drop_column('version_id')

    with op.batch_alter_table('quizzes_category', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_quizzes_category_unit_id_org_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_quizzes_category_unit_id'))
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('quizzes_question_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quizzes_question_version_question_id'))

    op.drop_table('quizzes_question_version')
