"""Forms of the standing pages. The field rules live in ``records`` (one validator for pages and the API):
these forms render the fields and carry what was typed back, with each refusal's message under its field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import StringField, TextAreaField

_DAY = {"type": "date"}
_NOTE = {"rows": 4, "maxlength": 5000}


class LeaveForm(FlaskForm):
    """Approved leave (illness, a recorded good reason): the months it covers do not count."""

    starts_on = StringField(_l("From"), render_kw=_DAY)
    ends_on = StringField(_l("Until (empty: until further notice)"), render_kw=_DAY)
    reason = TextAreaField(_l("Reason"), render_kw=_NOTE)


class WorkForm(FlaskForm):
    """Work the branch assigned and the member did."""

    done_on = StringField(_l("Done on"), render_kw=_DAY)
    description = TextAreaField(_l("What was done"), render_kw=_NOTE)


class TalkForm(FlaskForm):
    """The record of a talk with the member (谈心谈话)."""

    held_on = StringField(_l("Held on"), render_kw=_DAY)
    notes = TextAreaField(_l("Record of the talk"), render_kw={"rows": 6, "maxlength": 20000})


class DecisionForm(FlaskForm):
    """The branch assembly's decision on a case."""

    decided_on = StringField(_l("Decided on"), render_kw=_DAY)
    decision = TextAreaField(_l("Decision of the branch assembly"), render_kw=_NOTE)


class ApprovalForm(FlaskForm):
    """The upper committee's approval of the branch assembly's decision."""

    approval = TextAreaField(_l("Approval of the upper committee"), render_kw=_NOTE)


class CloseForm(FlaskForm):
    """Closing a case (e.g. resolved by activity), with the reason why."""

    reason = TextAreaField(_l("Why the case is closed"), render_kw=_NOTE)
