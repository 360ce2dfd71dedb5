"""org units keep their place as an administrative-division code (GB/T 2260), filled from the old text

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-11-30 01:00:00
"""
import sqlalchemy as sa
from alembic import op

from portal.places import place_from_text

revision = 'core_0007'
down_revision = 'core_0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_code', sa.String(length=6), nullable=True))
    # Data: a unit's province + city text becomes a code where the text names exactly one place.
    connection = op.get_bind()
    units = sa.table('org_unit', sa.column('id', sa.Integer), sa.column('province', sa.String),
                     sa.column('city', sa.String), sa.column('place_code', sa.String))
    for unit_id, province, city in connection.execute(sa.select(units.c.id, units.c.province, units.c.city)).all():
        text = (province or '') + (city or '')
        code = place_from_text(text) if text else None
        if code:
            connection.execute(units.update().where(units.c.id == unit_id).values(place_code=code))


def downgrade():
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_column('place_code')
