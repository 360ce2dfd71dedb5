"""STUB (owner E replaces): the pipeline board, plan, notice log and exports under /development/board."""
from __future__ import annotations

from flask import Blueprint

from portal import toolkit as tk
from portal_development import vocabulary

bp = Blueprint("development_board", __name__, url_prefix="/development/board", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)


@bp.get("/")
def board():
    return ""
