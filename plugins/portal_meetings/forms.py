"""Forms of the secretary's meeting pages. Field rules live in ``meetings.create_meeting`` / ``update_meeting``
(one validator for pages and the API): these forms render the fields and carry what was typed back."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes plain (value, label) pairs
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

from portal_meetings.vocabulary import KIND_LABELS, MODE_LABELS

#: The value format of ``<input type="datetime-local">`` (local time, minutes).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
_LOCAL = {"type": "datetime-local", "step": 60}


def _choices(pairs) -> list:
    return [SelectChoice(str(value), str(label)) for value, label in pairs]


class MeetingForm(FlaskForm):
    """A meeting: what, when, where, who leads it. The unit is chosen only when the meeting is created."""

    unit = SelectField(_l("Unit"), validate_choice=False)
    kind = SelectField(_l("Kind of meeting"), validate_choice=False)
    topic = StringField(_l("Topic"), render_kw={"maxlength": 200, "autocomplete": "off"})
    starts_at = StringField(_l("Starts (local time)"), render_kw=_LOCAL)
    ends_at = StringField(_l("Ends (local time)"), render_kw=_LOCAL)
    place = StringField(_l("Place"), render_kw={"maxlength": 200})
    mode = SelectField(_l("How members take part"), default="onsite", validate_choice=False)
    online_url = StringField(_l("Link for joining online (optional)"), render_kw={"maxlength": 500, "inputmode": "url"},
                             description=_l("Without a link, members join online through the meeting's page."))
    host_name = StringField(_l("Chaired by"), render_kw={"maxlength": 100})
    recorder_name = StringField(_l("Minutes taken by"), render_kw={"maxlength": 100})
    lecturer_name = StringField(_l("Lecturer"), render_kw={"maxlength": 100})
    agenda = TextAreaField(_l("Agenda"), render_kw={"rows": 5, "maxlength": 10000})

    def set_choices(self, units: list[tuple[int, str]]) -> "MeetingForm":
        """Fill the pickers: ``units`` as ``tk.unit_choices`` gives them."""
        self.unit.choices = _choices([("", _l("Choose…"))] + list(units))
        self.kind.choices = _choices(KIND_LABELS.items())
        self.mode.choices = _choices(MODE_LABELS.items())
        return self


class MinutesForm(FlaskForm):
    """The minutes of a held meeting and who led it."""

    minutes = TextAreaField(_l("Minutes"), render_kw={"rows": 10, "maxlength": 50000})
    decisions = TextAreaField(_l("Decisions"), render_kw={"rows": 4, "maxlength": 20000})
    host_name = StringField(_l("Chaired by"), render_kw={"maxlength": 100})
    recorder_name = StringField(_l("Minutes taken by"), render_kw={"maxlength": 100})
    lecturer_name = StringField(_l("Lecturer"), render_kw={"maxlength": 100})
