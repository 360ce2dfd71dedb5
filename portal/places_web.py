"""The place picker: a text field resolved on the server, enhanced with a ``<datalist>`` of matches.

Without JavaScript the member types "江西", "南昌" or "nanchang" and the service resolves it
(:func:`portal.places.clean_place`, a clear message when unknown or ambiguous). With JavaScript the
vendored ``static/places.js`` fills the datalist from ``GET /places?q=`` (no inline script: CSP).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import login_required
from markupsafe import Markup, escape
from wtforms import StringField

from portal.places import place_name, place_search

bp = Blueprint("places", __name__)
SEARCH_LIMIT = 12


@bp.get("/places")
@login_required
def search_places():
    """``?q=`` → ``{"places": [{"code": …, "name": …}]}``, best matches first (at most 12)."""
    term = (request.args.get("q") or "").strip()[:50]
    return jsonify({"places": [{"code": code, "name": name} for code, name in place_search(term, SEARCH_LIMIT)]})


def _picker_widget(field: "PlaceField", **kwargs) -> Markup:
    list_id = f"{field.id}-places"
    kwargs.setdefault("id", field.id)
    attributes = {"type": "text", "name": field.name, "value": field._value(), "list": list_id,
                  "autocomplete": "off", "data-places": url_for("places.search_places"), **kwargs}
    html = "".join(f' {key.replace("_", "-")}="{escape(value)}"' for key, value in attributes.items()
                   if value is not None and value is not False)
    script = url_for("static", filename="places.js")
    return Markup(f'<input{html}><datalist id="{list_id}"></datalist><script src="{script}" defer></script>')


class PlaceField(StringField):
    """A place picker: shows the stored code's full name; the posted text is resolved by the service."""

    widget = staticmethod(_picker_widget)

    def process_data(self, value) -> None:
        """A stored code is shown as its name (江西省南昌市); other text as it is."""
        self.data = (place_name(value) or value) if value else value
