"""Forms of the development pages. The rules live in the services (``cases``, ``mentors``, ``vetting``,
``notices``, ``votes``, ``training``; one validator for pages and the API): these forms render the fields and
carry what was typed back, with each refusal's message under its field.

A case page holds one step form per next step, each with the step's code as its prefix (``talk-on``), so that
the ids stay unique and a refused form comes back filled in.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import BooleanField, MultipleFileField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

_DAY = {"type": "date"}
_NUMBER = {"inputmode": "numeric", "pattern": "[0-9]*"}
_NOTE = {"rows": 3, "maxlength": 5000}
_FILES = {"accept": ".pdf,.jpg,.jpeg,.png,.doc,.docx"}

#: The counts of a branch assembly's tally, in the order of the form (``votes.clean_tally`` checks them).
TALLY_FIELDS = ("entitled", "present", "by_video", "ballots_issued", "ballots_returned", "yes", "no", "abstain",
                "written_yes", "written_no", "written_abstain")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (easier on a phone than a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CaseForm(FlaskForm):
    """A new application: the person (or an existing member record, found by ID number) and where they work."""

    name = StringField(_l("Name"), render_kw={"maxlength": 100, "autocomplete": "off"})
    id_number = StringField(_l("ID number"), render_kw={"maxlength": 18, "autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"inputmode": "tel", "maxlength": 30})
    applied_on = StringField(_l("Written application received on"), render_kw=_DAY)
    household_place = StringField(_l("Household registration place"), render_kw={"maxlength": 200})
    workplace = StringField(_l("Workplace"), render_kw={"maxlength": 200})
    host_unit_id = SelectField(_l("Branch where the person works away (if any)"), choices=[], validate_choice=False)


class StepForm(FlaskForm):
    """Recording one step: its day, notes, documents and what the step carries (the template shows only the
    fields of its step: hours or days of training, two introducers, a conclusion, a tally, an outcome)."""

    on = StringField(_l("Taken on"), render_kw=_DAY)
    notes = TextAreaField(_l("Notes"), render_kw=_NOTE)
    files = MultipleFileField(_l("Documents (PDF, image, Word)"), render_kw=_FILES)
    hours = StringField(_l("Hours of training"), render_kw=_NUMBER)
    days = StringField(_l("Or days of training"), render_kw=_NUMBER)
    class_id = SelectField(_l("Or a training class"), choices=[], validate_choice=False)
    introducer_1 = SelectField(_l("First introducer"), choices=[], validate_choice=False)
    introducer_2 = SelectField(_l("Second introducer"), choices=[], validate_choice=False)
    conclusion = TextAreaField(_l("Conclusion of the political review"), render_kw=_NOTE)
    methods = StringField(_l("How it was done (comma separated: talk, letter, visit …)"), render_kw={"maxlength": 500})
    outcome = SelectField(_l("Decision"), choices=[("convert", _l("Convert to full membership")),
                                                   ("extend", _l("Extend the probation")),
                                                   ("cancel", _l("Cancel the probation"))])
    months = StringField(_l("Extended by (6–12 months)"), render_kw=_NUMBER)
    entitled = StringField(_l("Full members entitled to vote"), render_kw=_NUMBER)
    present = StringField(_l("Present"), render_kw=_NUMBER)
    by_video = StringField(_l("Of them by video"), render_kw=_NUMBER)
    ballots_issued = StringField(_l("Ballots issued"), render_kw=_NUMBER)
    ballots_returned = StringField(_l("Ballots returned"), render_kw=_NUMBER)
    yes = StringField(_l("Yes"), render_kw=_NUMBER)
    no = StringField(_l("No"), render_kw=_NUMBER)
    abstain = StringField(_l("Abstain"), render_kw=_NUMBER)
    written_yes = StringField(_l("Written opinions: yes"), render_kw=_NUMBER)
    written_no = StringField(_l("Written opinions: no"), render_kw=_NUMBER)
    written_abstain = StringField(_l("Written opinions: abstain"), render_kw=_NUMBER)
    special = BooleanField(_l("Special circumstances (the longer time limit applies)"))


class MentorForm(FlaskForm):
    """Assigning a mentor (培养联系人): a full member, not a relative of the person."""

    member_id = SelectField(_l("Mentor"), choices=[], validate_choice=False)
    place = SelectField(_l("Where"), choices=[])
    on = StringField(_l("Assigned on"), render_kw=_DAY)
    not_relative = BooleanField(_l("The mentor is not a relative of the person"))


class EndMentorForm(FlaskForm):
    """Ending a mentor's assignment."""

    on = StringField(_l("Ended on"), render_kw=_DAY)


class VettingRequestForm(FlaskForm):
    """Asking one side for parts of the two-place vetting."""

    side = SelectField(_l("Side"), choices=[])
    parts = CheckboxesField(_l("Parts"), choices=[])
    on = StringField(_l("Asked on"), render_kw=_DAY)


class FindingsForm(FlaskForm):
    """The findings of one part of the vetting, by the side asked."""

    findings = TextAreaField(_l("Findings"), render_kw=_NOTE)
    on = StringField(_l("Recorded on"), render_kw=_DAY)


class NoticeForm(FlaskForm):
    """A public notice of the candidate in one place."""

    place = SelectField(_l("Place"), choices=[])
    starts_on = StringField(_l("From"), render_kw=_DAY)
    ends_on = StringField(_l("Until (empty: the shortest allowed)"), render_kw=_DAY)
    posted_at = StringField(_l("Posted at"), render_kw={"maxlength": 200})


class ObjectionForm(FlaskForm):
    """An objection received during a public notice."""

    received_on = StringField(_l("Received on"), render_kw=_DAY)
    body = TextAreaField(_l("Objection"), render_kw=_NOTE)


class ResolveForm(FlaskForm):
    """How an objection was resolved."""

    resolution = TextAreaField(_l("Resolution"), render_kw=_NOTE)
    on = StringField(_l("Resolved on"), render_kw=_DAY)


class TransferForm(FlaskForm):
    """Moving a case to another branch; every date is kept."""

    unit_id = SelectField(_l("New branch"), choices=[], validate_choice=False)
    on = StringField(_l("Transferred on"), render_kw=_DAY)
    reason = TextAreaField(_l("Reason"), render_kw=_NOTE)


class CloseForm(FlaskForm):
    """Closing a case before full membership (withdrawn, not admitted), with the reason."""

    outcome = SelectField(_l("Outcome"), choices=[])
    on = StringField(_l("Closed on"), render_kw=_DAY)
    reason = TextAreaField(_l("Reason"), render_kw=_NOTE)
