"""plugin states are kept as settings (one query per request reads both)

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-21 08:00:00
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None

NAMESPACE = "core.plugins"


def upgrade():
    connection = op.get_bind()
    setting = sa.table("setting", sa.column("namespace", sa.String), sa.column("key", sa.String),
                       sa.column("value", sa.JSON), sa.column("updated_at", sa.DateTime))
    rows = connection.execute(sa.text("SELECT name, enabled, last_error, last_error_at FROM plugin_state")).fetchall()
    for name, enabled, last_error, last_error_at in rows:
        value = {"enabled": bool(enabled), "last_error": last_error,
                 "last_error_at": last_error_at.isoformat(timespec="seconds") if hasattr(last_error_at, "isoformat")
                 else (str(last_error_at) if last_error_at else None)}
        connection.execute(setting.insert().values(namespace=NAMESPACE, key=name, value=value,
                                                   updated_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    op.drop_table('plugin_state')


def downgrade():
    op.create_table(
        'plugin_state',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_error_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_plugin_state')),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT key, value, updated_at FROM setting WHERE namespace = :ns"),
                              {"ns": NAMESPACE}).fetchall()
    for key, value, updated_at in rows:
        value = json.loads(value) if isinstance(value, str) else value
        connection.execute(sa.text("INSERT INTO plugin_state (name, enabled, last_error, updated_at) "
                                   "VALUES (:n, :e, :l, :u)"),
                           {"n": key, "e": bool(value.get("enabled")), "l": value.get("last_error"), "u": updated_at})
    connection.execute(sa.text("DELETE FROM setting WHERE namespace = :ns"), {"ns": NAMESPACE})
