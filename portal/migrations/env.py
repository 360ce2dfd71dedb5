"""Alembic environment: runs inside the portal app's context (see portal.migrate)."""
from alembic import context

from portal.extensions import db

config = context.config
owner = config.attributes.get("owner")  # "core" or a plugin name when autogenerating


def include_object(obj, name, type_, reflected, compare_to):
    """When autogenerating for one owner, only look at that owner's tables."""
    if owner is None or type_ != "table":
        return True
    from portal.migrate import table_owner

    return table_owner(name) == owner


def run_migrations_online() -> None:
    connectable = db.engine
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
