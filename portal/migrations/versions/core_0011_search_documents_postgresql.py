"""search on PostgreSQL: documents with jieba-segmented text in a tsvector column and a GIN index

Only on PostgreSQL: SQLite keeps the embedded whoosh index in the instance folder.

Revision ID: core_0011
Revises: core_0010
Create Date: 2026-11-30 09:50:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'core_0011'
down_revision = 'core_0010'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_table(
        'search_document',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('type', sa.String(length=50), nullable=False),
        sa.Column('plugin', sa.String(length=50), nullable=False),
        sa.Column('scope', sa.String(length=100), nullable=False),
        sa.Column('unit_path', sa.String(length=500), nullable=False, server_default=''),
        sa.Column('locale', sa.String(length=10), nullable=False, server_default=''),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('title', sa.Text(), nullable=False, server_default=''),
        sa.Column('body', sa.Text(), nullable=False, server_default=''),
        sa.Column('tags', sa.Text(), nullable=False, server_default=''),
        # jieba-segmented words, weighted: title A, tags B, body C (to_tsvector('simple', …) of each)
        sa.Column('words', postgresql.TSVECTOR(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_search_document')),
    )
    op.create_index('ix_search_document_words', 'search_document', ['words'], postgresql_using='gin')
    op.create_index('ix_search_document_unit_path', 'search_document', ['unit_path'])


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_table('search_document')
