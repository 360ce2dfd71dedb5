"""Full-text search: whoosh in the instance folder, or PostgreSQL's tsvector when shared (see service.py)."""
from flask import Flask, appcontext_pushed
from sqlalchemy.engine import make_url

from portal.search import models  # (registers the search_queue table)


def init_search(app: Flask) -> None:
    """Check ``SEARCH_BACKEND`` and match the metadata to the database: ``search_document`` exists on PostgreSQL only."""
    from portal.search.service import backend_name

    dialect = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    backend_name(app.config, dialect)  # a wrong value fails at start-up, not at the first search
    models.use_document_table(dialect)

    def follow_this_app(sender: Flask, **_extra) -> None:
        # The metadata is per process; a process holding apps on both kinds of database (the tests)
        # gets the table set of whichever app is in use.
        models.use_document_table(dialect)

    appcontext_pushed.connect(follow_this_app, app, weak=False)
