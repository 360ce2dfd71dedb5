"""Forms of the mobility pages. They render and bind input; the rules are checked in the service modules."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal import toolkit as tk

from .labels import CHANNEL_LABELS, REVIEW_CHECK_LABELS, REVIEW_OUTCOME_LABELS
from .models import CHANNELS, REVIEW_CHECKLIST, REVIEW_OUTCOMES

DATE = {"type": "date"}


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class OutflowForm(FlaskForm):
    destination = tk.PlaceField(_l("Destination (city or county)"),
                                description=_l("Type the name or its pinyin, e.g. 南昌, 江西南昌 or nanchang."))
    employer = StringField(_l("Employer (optional)"))
    industry = StringField(_l("Industry (optional)"))
    start_date = StringField(_l("Leaving on"), render_kw=DATE)
    expected_months = IntegerField(_l("Expected months away (optional)"), validators=[Optional()],
                                   render_kw={"inputmode": "numeric", "min": 1, "max": 240})
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3})
    contact_there = StringField(_l("How to reach you there (phone, WeChat …)"))


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note to the member (required when asking for changes)"), render_kw={"rows": 2})


class PhotoForm(FlaskForm):
    photo = FileField(_l("Member photo (JPEG or PNG)"), render_kw={"accept": "image/jpeg,image/png"})


class ReturnForm(FlaskForm):
    returned_on = StringField(_l("Back home on"), render_kw=DATE)
    certificate_returned = BooleanField(_l("The activity certificate was handed back for checking"))
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2})


def review_form(data=None) -> FlaskForm:
    class ReviewForm(FlaskForm):
        outcome = SelectField(_l("Outcome"), choices=options((key, REVIEW_OUTCOME_LABELS[key]) for key in REVIEW_OUTCOMES))
        note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2})

    for key in REVIEW_CHECKLIST:
        setattr(ReviewForm, f"check_{key}", BooleanField(REVIEW_CHECK_LABELS[key]))
    return ReviewForm() if data is None else ReviewForm(data=data)


class MoveForm(FlaskForm):
    changed_on = StringField(_l("Changed on"), render_kw=DATE)
    place = tk.PlaceField(_l("Where you live now (city or county)"),
                          description=_l("Leave it as it is if only your employer or phone changed."))
    employer = StringField(_l("Employer"))
    industry = StringField(_l("Industry"))
    phone = StringField(_l("Phone number"), render_kw={"inputmode": "tel", "autocomplete": "tel"})
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2})


def contact_form(data=None) -> FlaskForm:
    class ContactForm(FlaskForm):
        channel = SelectField(_l("Channel"), choices=options((key, CHANNEL_LABELS[key]) for key in CHANNELS))
        contacted_on = StringField(_l("Date"), render_kw=DATE)
        not_reached = BooleanField(_l("Tried, but could not reach them"))
        note = TextAreaField(_l("Note"), render_kw={"rows": 2})

    return ContactForm() if data is None else ContactForm(data=data)


class ArrivalForm(FlaskForm):
    name = StringField(_l("Member's name"))
    phone = StringField(_l("Member's phone number"), render_kw={"inputmode": "tel"})
    home_unit_id = SelectField(_l("Home branch"), coerce=str)
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2})


class TransferForm(FlaskForm):
    to_unit_id = SelectField(_l("Transfer membership to"), coerce=str)
    reason = TextAreaField(lazy_pgettext("transfer", "Reason"), render_kw={"rows": 3})
    member_id = HiddenField()
