"""Translated labels for the core's coded values (in the words of docs/domain.md)."""
from __future__ import annotations

from typing import Any, Callable

from flask_babel import lazy_gettext as _l

STAGE_LABELS = {
    "applicant": _l("applicant"), "activist": _l("activist"), "candidate": _l("candidate"),
    "probationary": _l("probationary member"), "full": _l("full member"),
}
UNIT_KIND_LABELS = {
    "committee": _l("committee"), "general_branch": _l("general branch"), "branch": _l("branch"), "group": _l("group"),
}
GENDER_LABELS = {"male": _l("male"), "female": _l("female")}
EDUCATION_LABELS = {
    "primary": _l("primary school"), "junior_high": _l("junior high school"), "high_school": _l("high school"),
    "vocational": _l("vocational school"), "associate": _l("associate degree"), "bachelor": _l("bachelor's degree"),
    "master": _l("master's degree"), "doctorate": _l("doctorate"),
}
ROLE_LABELS = {"secretary": _l("secretary"), "organizer": _l("organization department"), "admin": _l("site admin")}


def label(mapping: dict | LabelFunction, value: Any) -> str:
    """The label of ``value`` in ``mapping`` (or computed by a :class:`LabelFunction`); unknown values show as they are."""
    if isinstance(mapping, LabelFunction):
        return str(mapping.function(value))
    if value is None:
        return ""
    return str(mapping.get(value, value))


def choices(mapping: dict, *, blank: bool = False) -> list[tuple[str, str]]:
    """``(value, label)`` pairs for a select field."""
    pairs = [(key, str(text)) for key, text in mapping.items()]
    return ([("", "—")] if blank else []) + pairs


class LabelFunction:
    """A label mapping computed per value: ``{{ verb|label(points_labels.verb) }}`` calls ``function(verb)``."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function
