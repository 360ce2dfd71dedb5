"""outflows keep their destination and the member's current place as administrative-division codes

Revision ID: mobility_0005
Revises: mobility_0004
Create Date: 2026-11-30 01:05:00

The data step fills the codes from the old text where ``tk.place_from_text`` finds one place; the
current place is the last reported move's text, else the destination. Text stays as display fallback.
"""
import sqlalchemy as sa
from alembic import op

from portal import toolkit as tk

revision = 'mobility_0005'
down_revision = 'mobility_0004'
branch_labels = None
depends_on = None


def _code(*parts):
    text = ''.join(part for part in parts if part)
    return tk.place_from_text(text) if text else None


def upgrade():
    with op.batch_alter_table('mobility_outflow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('destination_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('current_place_code', sa.String(length=6), nullable=True))
    connection = op.get_bind()
    outflow = sa.table('mobility_outflow', sa.column('id', sa.Integer), sa.column('member_id', sa.Integer),
                       sa.column('status', sa.String), sa.column('destination_province', sa.String),
                       sa.column('destination_city', sa.String), sa.column('destination_district', sa.String),
                       sa.column('destination_code', sa.String), sa.column('current_place_code', sa.String))
    member = sa.table('member', sa.column('id', sa.Integer), sa.column('current_province', sa.String),
                      sa.column('current_city', sa.String))
    rows = connection.execute(sa.select(outflow.c.id, outflow.c.status, outflow.c.destination_province,
                                        outflow.c.destination_city, outflow.c.destination_district,
                                        member.c.current_province, member.c.current_city)
                              .join(member, member.c.id == outflow.c.member_id)).all()
    for outflow_id, status, province, city, district, now_province, now_city in rows:
        destination = _code(province, city, district) or _code(province, city)
        current = (_code(now_province, now_city) if status == 'approved' else None) or destination
        if destination or current:
            connection.execute(outflow.update().where(outflow.c.id == outflow_id)
                               .values(destination_code=destination, current_place_code=current))


def downgrade():
    with op.batch_alter_table('mobility_outflow', schema=None) as batch_op:
        batch_op.drop_column('current_place_code')
        batch_op.drop_column('destination_code')
