"""Alembic migrations: the core's in ``versions/``, each plugin's in its own branch."""
