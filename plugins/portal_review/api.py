"""STUB (owner E replaces): the JSON API under /api/v1/reviews."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review_api", __name__, url_prefix="/api/v1/reviews")
API_PATHS: dict = {}
