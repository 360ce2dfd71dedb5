"""Forms of the board pages (the annual plan, a training class). The rules live in ``board`` and ``training``:
these forms render the fields and carry what was typed back, with each refusal's message under its field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import StringField, TextAreaField


class PlanForm(FlaskForm):
    """The unit's annual development plan: how many to admit, and notes."""

    target = StringField(_l("Planned admissions this year"), render_kw={"inputmode": "numeric"})
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 4, "maxlength": 5000})


class TrainingClassForm(FlaskForm):
    """A training class for candidates; a course of the online school counts when completed."""

    title = StringField(_l("Title"), render_kw={"maxlength": 200})
    hours = StringField(_l("Hours"), render_kw={"inputmode": "numeric"})
    course_id = StringField(_l("Course of the online school (its number, optional)"),
                            render_kw={"inputmode": "numeric"})
