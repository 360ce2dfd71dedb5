"""Forms of the care pages. Field rules live in ``filing.clean_request`` (one validator for pages and the API)."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, IntegerField, MultipleFileField, SelectField, StringField, TextAreaField,
)
try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes plain (value, label) pairs
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal_care import vocabulary


def as_choices(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms options (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def _choices(mapping):
    return as_choices(mapping.items())


class RequestForm(FlaskForm):
    """A care request. ``filing.clean_request`` does the checking; this renders and carries values."""

    category = SelectField(_l("What do you need help with?"), validate_choice=False)
    title = StringField(_l("Title"), description=_l("A few words, e.g. “Wages for March not paid”."),
                        render_kw={"maxlength": vocabulary.TITLE_MAX, "autocomplete": "off"})
    description = TextAreaField(_l("Describe your situation"), render_kw={"rows": 6, "maxlength": vocabulary.TEXT_MAX},
                                description=_l("What happened, since when, who is involved, what you have tried."))
    urgency = SelectField(_l("How urgent is it?"), default="normal", validate_choice=False)
    where = SelectField(_l("Where is the need?"), default="hometown", validate_choice=False)
    consent_host = BooleanField(_l("I agree that the host branch may see this request and help me"))
    contact_pref = SelectField(_l("How should we contact you?"), default="phone", validate_choice=False)
    contact_detail = StringField(_l("Phone number or other contact (optional)"), render_kw={"maxlength": 100})
    attachments = MultipleFileField(_l("Photos or documents (optional)"))

    def set_choices(self) -> "RequestForm":
        self.category.choices = as_choices([("", _l("Choose…"))] + [(k, label) for k, label, _a in vocabulary.categories()])
        self.urgency.choices = _choices(vocabulary.URGENCIES)
        self.where.choices = _choices(vocabulary.WHERE)
        self.contact_pref.choices = _choices(vocabulary.CONTACT_PREFS)
        return self


class WishForm(FlaskForm):
    title = StringField(_l("My wish"), description=_l("Something small, e.g. “A school bag for my daughter”."),
                        render_kw={"maxlength": vocabulary.TITLE_MAX})
    description = TextAreaField(_l("Details (optional)"), render_kw={"rows": 4, "maxlength": 2000})


class CategoryForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(min=2, max=40), Regexp(
        r"^[a-z0-9_]+$", message=_l("Use lower-case letters, digits and _ only."))])
    label = StringField(lazy_pgettext("care category", "Name"), validators=[Optional(), Length(max=100)],
                        description=_l("Leave empty to keep the built-in, translated name."))
    position = IntegerField(_l("Position"), default=100, validators=[Optional(), NumberRange(min=0, max=10000)])
    active = BooleanField(_l("Offered to members"), default=True)


class RuleForm(FlaskForm):
    category = SelectField(_l("Category"))
    where = SelectField(_l("Where the need is"), choices=[SelectChoice("any", _l("Anywhere")),
                                                          SelectChoice("hometown", _l("Hometown")),
                                                          SelectChoice("host", _l("Host city"))])
    scope_unit = SelectField(_l("For members under"), coerce=int,
                             description=_l("The rule applies when the request would go to this unit or one below it."))
    target_unit = SelectField(_l("Send to"), coerce=int)
