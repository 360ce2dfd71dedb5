"""The notice form (``notices.clean_notice`` does the checking; this renders and carries the values)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from portal_meetings import notices
from portal_meetings.vocabulary import AUDIENCE_LABELS, NOTICE_KIND_LABELS

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes plain (value, label) pairs
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


def _choices(pairs) -> list:
    return [SelectChoice(str(value), str(label)) for value, label in pairs]


class NoticeForm(FlaskForm):
    """A notice to a unit's members; the chosen-list boxes are those of the unit picked above."""

    unit = SelectField(_l("From"), validate_choice=False)
    audience = SelectField(_l("To"), default="unit", validate_choice=False)
    member_ids = SelectMultipleField(_l("Chosen members"), validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                     description=_l("Only for a notice to chosen members."))
    kind = SelectField(_l("Kind"), default="general", validate_choice=False)
    title = StringField(_l("Title"), render_kw={"maxlength": notices.TITLE_MAX, "autocomplete": "off"})
    body = TextAreaField(_l("Text"), render_kw={"rows": 8, "maxlength": notices.BODY_MAX},
                         description=_l("Markdown: **bold**, lists with -, links."))
    requires_ack = BooleanField(_l("Members must sign for it (签收)"))
    deadline = StringField(_l("Sign by"), render_kw={"type": "datetime-local"},
                           description=_l("Local time. Members who have not signed by then are escalated to "
                                          "their contact person and listed for a phone call."))

    def set_choices(self, unit_choices: list[tuple[int, str]], members: list) -> "NoticeForm":
        """Fill the pickers: the sender's units and the members a chosen list may name."""
        self.unit.choices = _choices(unit_choices)
        self.audience.choices = _choices(AUDIENCE_LABELS.items())
        self.kind.choices = _choices(NOTICE_KIND_LABELS.items())
        self.member_ids.choices = _choices((member.id, f"{member.name} · {member.home_unit.name}")
                                           for member in members)
        return self
