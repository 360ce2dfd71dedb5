"""STUB (owner D1 replaces): the secretaries' pages under /review/manage."""
from __future__ import annotations

from flask import Blueprint

from portal import toolkit as tk
from portal_review import vocabulary

bp = Blueprint("review_manage", __name__, url_prefix="/review/manage", template_folder="templates")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)


@bp.get("/")
def rounds():
    return ""
