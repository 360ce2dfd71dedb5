"""STUB (owner F replaces): the JSON API under /api/v1/development."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("development_api", __name__, url_prefix="/api/v1/development")
API_PATHS: dict = {}
