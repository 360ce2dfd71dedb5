"""Forms of the secretaries' review pages. The rules live in ``rounds``, ``grading`` and ``hostopinion``: these
forms render the fields and carry what was typed back, with each refusal's message under its field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField

from portal_review import vocabulary

_DAY = {"type": "date"}
#: How many follow-up dates the plan form offers (a plan seldom needs more; saving again adds none).
FOLLOW_UP_ROWS = 3


def _grades(blank: bool = False) -> list[tuple[str, str]]:
    """The grade choices, with an empty first choice when the grade is optional."""
    choices = [(code, label) for code, label in vocabulary.GRADE_LABELS.items()]
    return [("", _l("— none —")), *choices] if blank else choices


class OpenRoundForm(FlaskForm):
    """Open the review of a year for the unit."""

    year = StringField(_l("Year"), render_kw={"inputmode": "numeric", "maxlength": 4})


class DatesForm(FlaskForm):
    """The days each step starts and ends (local days; empty when not fixed yet)."""

    study_on = StringField(_l("Study from"), render_kw=_DAY)
    self_from = StringField(_l("Self-assessment from"), render_kw=_DAY)
    self_until = StringField(_l("Self-assessment until"), render_kw=_DAY)
    mutual_from = StringField(_l("Mutual assessment from"), render_kw=_DAY)
    mutual_until = StringField(_l("Mutual assessment until"), render_kw=_DAY)
    grading_on = StringField(_l("Grading on"), render_kw=_DAY)


class ExcellentReasonForm(FlaskForm):
    """Why more than the usual share were graded excellent."""

    reason = TextAreaField(_l("Why more than one third are excellent"), render_kw={"rows": 3, "maxlength": 2000})


class ProposeForm(FlaskForm):
    """The branch committee's proposed grade."""

    grade = SelectField(_l("Proposed grade"), choices=_grades())
    reason = TextAreaField(_l("Reason (optional)"), render_kw={"rows": 2, "maxlength": 2000})


class DecideForm(FlaskForm):
    """The branch assembly's decision, recorded by the secretary."""

    grade = SelectField(_l("Grade decided by the branch assembly"), choices=_grades())
    on = StringField(_l("Decided on"), render_kw=_DAY)
    reason = TextAreaField(_l("Reason (needed when deciding without the host branch's opinion)"),
                           render_kw={"rows": 2, "maxlength": 2000})


class PlanForm(FlaskForm):
    """The improvement plan of a member graded basically qualified, with its follow-up dates."""

    plan = TextAreaField(_l("Improvement plan"), render_kw={"rows": 4, "maxlength": 5000})


class HandlingForm(FlaskForm):
    """A handling step for a member graded unqualified (recorded, never carried out by the portal)."""

    kind = SelectField(_l("Handling step"), choices=list(vocabulary.HANDLING_LABELS.items()))
    decided_on = StringField(_l("Decided on"), render_kw=_DAY)
    until = StringField(_l("Correct by (for a correction within a time limit)"), render_kw=_DAY)
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 2, "maxlength": 2000})


class FeedbackForm(FlaskForm):
    """The feedback the member reads with their grade once the results are reported."""

    feedback = TextAreaField(_l("Feedback to the member"), render_kw={"rows": 3, "maxlength": 2000})


class HostOpinionForm(FlaskForm):
    """The host branch's opinion on a member away."""

    opinion = TextAreaField(_l("Opinion of the host branch"), render_kw={"rows": 4, "maxlength": 5000})
    proposed_grade = SelectField(_l("Proposed grade"), choices=_grades(blank=True),
                                 description=_l("Probationary members receive no grade: leave it empty for them."))
