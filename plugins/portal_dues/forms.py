"""Forms of the secretaries' dues pages. The field rules live in the services (``profiles.set_profile``,
``payments.record_payment``, ``branch_reports``: one validator for pages and the API); these forms render
the fields and carry what was typed back, with each refusal's message under its field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from portal.toolkit import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes plain (value, label) pairs
    def SelectChoice(value, label):  # noqa: N802
        return (value, label)

from portal_dues.vocabulary import CATEGORY_LABELS, CHANNEL_LABELS

#: What a home branch's secretary records by hand (``host_branch`` has its own page, ``online`` its providers).
SECRETARY_CHANNELS = ("cash", "transfer", "on_behalf")
_MONEY = {"inputmode": "decimal", "autocomplete": "off", "maxlength": 20, "placeholder": "0.00"}
_MONTH = {"type": "month", "placeholder": "2026-11"}
_DAY = {"type": "date"}


class ProfileForm(FlaskForm):
    """A member's dues profile from a month on: the category and what the amount is computed from."""

    category = SelectField(_l("Category"), choices=[SelectChoice(key, label) for key, label in CATEGORY_LABELS.items()],
                           validate_choice=False)
    monthly_base = StringField(_l("Monthly base (yuan)"), render_kw=_MONEY,
                               description=_l("After-tax regular monthly income or pension; for the self-employed, "
                                              "last quarter's average monthly net income."))
    insurance_deduction = StringField(_l("Social insurance and housing fund (yuan)"), render_kw=_MONEY,
                                      description=_l("Deducted from the base when the settings say so."))
    fixed_amount = StringField(_l("Fixed monthly amount for farmers (yuan)"), render_kw=_MONEY,
                               description=_l("Leave empty for the default amount."))
    valid_from = StringField(_l("Valid from (month)"), render_kw=_MONTH,
                             description=_l("Empty: from this month."))
    note = StringField(_l("Note"), render_kw={"maxlength": 500})


class PaymentForm(FlaskForm):
    """Money received for named months: which months, how much, how and when."""

    months = SelectMultipleField(_l("Months paid"), validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
    amount = StringField(_l("Amount received (yuan)"), render_kw=_MONEY,
                         description=_l("The months' dues; more is a voluntary extra payment."))
    channel = SelectField(_l("How it was paid"), validate_choice=False,
                          choices=[SelectChoice(key, CHANNEL_LABELS[key]) for key in SECRETARY_CHANNELS])
    paid_on = StringField(_l("Paid on"), render_kw=_DAY)
    payer_name = StringField(_l("Paid by (on the member's behalf)"), render_kw={"maxlength": 100},
                             description=_l("Only when someone paid for the member."))
    note = StringField(_l("Note"), render_kw={"maxlength": 500})

    def set_months(self, choices: list[tuple[str, str]], dues: dict[str, str]) -> "PaymentForm":
        """The months that may be ticked, as ``("2026-11", label)`` pairs, and each one's dues (``"40.00"``),
        which the page's script adds up into the amount as months are ticked."""
        self.months.choices = [SelectChoice(value, label) for value, label in choices]
        self.month_dues = dues
        return self


class HostedPaymentForm(PaymentForm):
    """A payment taken at the host branch: always the ``host_branch`` channel, so no channel or payer."""

    channel = None
    payer_name = None


class RejectForm(FlaskForm):
    """Why a member's reported payment is not confirmed (they read it)."""

    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 1000})


class DecisionForm(FlaskForm):
    """A decision on a reduction, with a note the member reads."""

    note = TextAreaField(_l("Note"), render_kw={"rows": 2, "maxlength": 1000})


class RemittanceForm(FlaskForm):
    """The quarter's dues handed to the upper committee."""

    amount = StringField(_l("Amount remitted (yuan)"), render_kw=_MONEY)
    remitted_on = StringField(_l("Remitted on"), render_kw=_DAY)
    note = StringField(_l("Note"), render_kw={"maxlength": 500})


class DisclosureForm(FlaskForm):
    """The annual disclosure: the figures come from the books, the secretary writes how the dues were used."""

    use_note = TextAreaField(_l("How the dues were used"), render_kw={"rows": 4, "maxlength": 5000})
