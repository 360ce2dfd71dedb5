"""Full-text search: one whoosh index in the instance folder (see service.py)."""
from portal.search import models  # noqa: F401  (registers the search_queue table)
