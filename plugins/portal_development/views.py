"""STUB (owner D replaces): the case pages under /development."""
from __future__ import annotations

from flask import Blueprint

from portal import toolkit as tk
from portal_development import vocabulary

bp = Blueprint("development", __name__, url_prefix="/development", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)


@bp.get("/mine")
def mine():
    return ""
