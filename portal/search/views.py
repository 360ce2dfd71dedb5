"""Search API (the HTML search page is ``web.search``)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("search", __name__)
