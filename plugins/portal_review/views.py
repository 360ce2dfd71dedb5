"""STUB (owner D2 replaces): the member's pages under /review."""
from __future__ import annotations

from flask import Blueprint

from portal import toolkit as tk
from portal_review import vocabulary

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)


@bp.get("/")
def mine():
    return ""
