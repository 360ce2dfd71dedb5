"""The secretaries' dues pages: the month's list, one member's book (profile, payments, months), the queue of
reported payments, arrears, the quarter's remittance, the year's disclosure, reductions, payments taken at
the host branch, and the downloads. Thin views: parse input, check permission, call a service, render.

Every page works on a 360 px phone: lists are cards, forms one column. A unit or member outside the
account's scope answers 404, as everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_dues import arrears, branch_reports, money, payments, profiles, receipts, vocabulary
from portal_dues.forms import (
    DecisionForm, DisclosureForm, HostedPaymentForm, PaymentForm, ProfileForm, RejectForm, RemittanceForm,
)
from portal_dues.models import DuesProfile, Payment, PaymentMonth, Reduction

bp = Blueprint("dues_manage", __name__, url_prefix="/dues/manage", template_folder="templates",
               static_folder="static", static_url_path="/static")
db = tk.db
PERMISSION = "dues.manage"
HOSTED = "dues.collect_hosted"
UPPER = "dues.approve_reduction"
# ``dues_labels`` is one app-wide template global: the same dicts the member's pages use.
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
#: The months grid on a member's page.
GRID_MONTHS = 12
PROFILE_FIELDS = ("category", "monthly_base", "insurance_deduction", "fixed_amount", "valid_from", "note")
PAYMENT_FIELDS = ("amount", "channel", "paid_on", "payer_name", "note")


# -- helpers -----------------------------------------------------------------


@bp.context_processor
def _formatters() -> dict:
    """Money and months as the pages write them (``"40.00"``, ``"2026-11"``)."""
    return {"money_text": money.money_text, "rate_text": money.rate_text, "month_key": money.month_key,
            "months_text": _months_text}


def _get_member(member_id: int) -> tk.Member:
    member = db.session.get(tk.Member, member_id) if member_id <= tk.MAX_ID else None
    if member is None:
        abort(404)
    return member


def _managed_member(member_id: int) -> tk.Member:
    """The member, when the account keeps the dues of their home branch (404 otherwise)."""
    member = _get_member(member_id)
    tk.require(PERMISSION, member.home_unit)
    return member


def _payment(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id) if payment_id <= tk.MAX_ID else None
    if payment is None:
        abort(404)
    return payment


def _managed_payment(payment_id: int) -> Payment:
    """A payment of a member whose home branch the account keeps the books of (404 otherwise)."""
    payment = _payment(payment_id)
    tk.require(PERMISSION, payment.member.home_unit)
    return payment


def _reduction(reduction_id: int) -> Reduction:
    reduction = db.session.get(Reduction, reduction_id) if reduction_id <= tk.MAX_ID else None
    if reduction is None:
        abort(404)
    return reduction


def _month_arg(text: str | None) -> tuple[date, str | None]:
    """The month of ``?month=`` (default: this month) and the message when it cannot be read."""
    if not text:
        return money.current_month(), None
    try:
        return money.parse_month(text, "month"), None
    except tk.Invalid as error:
        return money.current_month(), str(error.field_errors.get("month", error.message))


def _current_quarter() -> str:
    today = tk.local_today()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


# -- the month's list ------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """The unit picker and the month's list: who paid, who did not, who has no profile yet; the totals.

    The list is paged (and may be narrowed by name, ``?q=``); the totals are the whole unit's, whatever the page.
    """
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    month, error = _month_arg(request.args.get("month"))
    term = (request.args.get("q") or "").strip()[:50]
    # the same for every secretary of the unit: kept while no table it read (dues, members, units) was written
    totals = tk.cached("dues.branch_totals", (unit.id, month),
                       lambda: branch_reports.branch_totals(unit, month, waiting=_reported_query(unit)))
    # the totals count the unit's members already: only a search needs its own count
    page = tk.paginate(branch_reports.members_query(unit, term), total=None if term else totals["members"])
    return render_template("dues/manage/index.html", unit=unit, units=tk.unit_choices(PERMISSION),
                           shown_month=money.month_key(month), month_text=request.args.get("month", ""),
                           month_error=error, page=page, rows=branch_reports.month_rows(page.items, month),
                           totals=totals, term=term,
                           quarter=_current_quarter(), year=month.year,
                           reported=totals["waiting"]), 422 if error else 200


def _reported_query(unit: tk.OrgUnit):
    """Payments members reported for the unit's subtree, waiting for a secretary, oldest first."""
    return (select(Payment).join(tk.Member, Payment.member_id == tk.Member.id)
            .where(Payment.status == "reported", tk.Member.home_unit_id.in_(tk.subtree_ids(unit)))
            .order_by(Payment.created_at, Payment.id))


# -- one member -------------------------------------------------------------------


@dataclass
class _Book:
    """What a member's pages compute from: their dues schedule and the months taken by a payment (with its status)."""

    schedule: arrears.Schedule
    taken: dict[date, str]

    def due(self, month: date) -> Decimal:
        return self.schedule.due(month) or Decimal("0.00")


def _books(member_ids) -> dict[int, _Book]:
    """``{member id: _Book}`` for the members ``member_ids`` (a list or a ``select``): three queries for any number."""
    schedules = arrears.schedules(member_ids)
    taken: dict[int, dict[date, str]] = {}
    for member_id, month, status in db.session.execute(
            select(PaymentMonth.member_id, PaymentMonth.month, Payment.status)
            .join(Payment, Payment.id == PaymentMonth.payment_id).where(PaymentMonth.member_id.in_(member_ids))):
        taken.setdefault(member_id, {})[month] = status
    return {member_id: _Book(schedules.get(member_id, arrears.Schedule()), taken.get(member_id, {}))
            for member_id in set(schedules) | set(taken)}


def _book(member: tk.Member) -> _Book:
    return _books([member.id]).get(member.id) or _Book(arrears.Schedule(member.joined_on), {})


def _payable_months(book: _Book) -> list[tuple[date, Decimal, bool]]:
    """``(month, due, already_taken)`` of the months one payment may name: back to the limit, up to the quarter's end."""
    current = money.current_month()
    first = money.add_months(current, -int(tk.get_setting(vocabulary.PLUGIN, "back_payment_months")))
    return [(month, book.due(month), month in book.taken)
            for month in money.month_range(first, payments.latest_payable_month())]


def _payment_form(member: tk.Member, form_class=PaymentForm, *, posted: bool = False, prefix: str = "",
                  book: _Book | None = None) -> PaymentForm:
    """The payment form: unpaid months owed up to this month ticked, the amount their sum (the usual case).

    ``posted``: read what was sent instead (to show it again with the refusal's messages); ``prefix`` keeps
    the field names of several forms on one page apart; ``book``: the member's, when already loaded.
    """
    choices = _payable_months(book or _book(member))
    if posted:
        form = form_class(prefix=prefix)
    else:
        current = money.current_month()
        ticked = [(m, due) for m, due, taken in choices if not taken and due > 0 and m <= current]
        form = form_class(formdata=None, prefix=prefix, data={
            "months": [money.month_key(m) for m, _due in ticked], "channel": "cash",
            "amount": money.money_text(sum((due for _m, due in ticked), Decimal("0"))) if ticked else "",
            "paid_on": tk.local_today().isoformat()})
    payable = [(money.month_key(m), due) for m, due, taken in choices if not taken and due > 0]
    return form.set_months([(key, _("%(month)s · %(due)s yuan", month=key, due=money.money_text(due)))
                            for key, due in payable], {key: money.money_text(due) for key, due in payable})


def _grid(book: _Book) -> list[tuple[str, Decimal, str]]:
    """The last 12 months: ``(month, due, status)`` with status paid, reported, unpaid or not_due."""
    current = money.current_month()
    grid = []
    for month in money.month_range(money.add_months(current, 1 - GRID_MONTHS), current):
        due, held = book.due(month), book.taken.get(month)
        # a reported (or pending online) payment holds its months too: show it as waiting, not as paid
        status = "paid" if held == "confirmed" else "reported" if held else "unpaid" if due > 0 else "not_due"
        grid.append((money.month_key(month), due, status))
    return grid


def _arrears(member: tk.Member, book: _Book) -> tuple[int, date | None]:
    """``(months unpaid in a row, since)`` from the loaded book (the rule of ``arrears.arrears_for``)."""
    last = arrears.last_complete_month()
    paid = [month for month in book.taken if month <= last]
    run = book.schedule.run(last, max(paid, default=None)) if tk.is_member_stage(member.stage) else None
    return run or (0, None)


def _render_member(member: tk.Member, profile_form: ProfileForm | None = None,
                   payment_form: PaymentForm | None = None, status: int = 200):
    book = _book(member)
    history = list(db.session.scalars(select(DuesProfile).where(DuesProfile.member_id == member.id)
                                      .order_by(DuesProfile.valid_from.desc(), DuesProfile.id.desc())))
    current_month = money.current_month()
    current = next((row for row in history if row.valid_from <= current_month), None)
    if profile_form is None:
        profile_form = ProfileForm(formdata=None, data=_profile_data(current))
    return render_template(
        "dues/manage/member.html", member=member, profile=current, history=history, profile_form=profile_form,
        payment_form=payment_form or _payment_form(member, book=book), grid=_grid(book),
        payments=list(db.session.scalars(select(Payment).where(Payment.member_id == member.id)
                                         .order_by(Payment.paid_on.desc(), Payment.id.desc()))),
        reductions=list(db.session.scalars(select(Reduction).where(Reduction.member_id == member.id)
                                           .order_by(Reduction.requested_at.desc()))),
        acting_on_self=member.account_id == current_user.id, arrears=_arrears(member, book)), status


def _profile_data(profile: DuesProfile | None) -> dict:
    if profile is None:
        return {"category": "salaried"}
    return {"category": profile.category, "monthly_base": money.money_text(profile.monthly_base),
            "insurance_deduction": money.money_text(profile.insurance_deduction),
            "fixed_amount": money.money_text(profile.monthly_due) if profile.category == "farmer" else ""}


def _months_text(payment: Payment) -> str:
    return ", ".join(money.month_key(row.month) for row in payment.months)


@bp.get("/member/<int:member_id>")
@login_required
def member(member_id: int):
    """A member's dues book: the profile and its history, the last 12 months, payments, reductions, the forms."""
    return _render_member(_managed_member(member_id))


def _form_values(names: tuple[str, ...]) -> dict:
    return {name: request.form.get(name, "").strip() for name in names}


@bp.post("/member/<int:member_id>/profile")
@login_required
def set_profile(member_id: int):
    """Set (or re-base) the member's profile; the rate and the monthly amount are computed and shown."""
    member = _managed_member(member_id)
    form = ProfileForm()
    return tk.form_post(
        lambda: profiles.set_profile(member, _form_values(PROFILE_FIELDS), by=current_user),
        form=form,
        success=lambda profile: _("Saved: %(amount)s yuan a month from %(month)s (rate %(rate)s).",
                                  amount=money.money_text(profile.monthly_due), month=money.month_key(profile.valid_from),
                                  rate=money.rate_text(profile.rate) or "—"),
        redirect_to=url_for("dues_manage.member", member_id=member.id) + "#profile",
        on_error=lambda error: _render_member(_managed_member(member_id), profile_form=form, status=error.status))


def _payment_data(form: PaymentForm, channel: str | None = None) -> dict:
    """What the services read from a payment form (a hosted payment's channel is fixed)."""
    data = {name: (form[name].data or "").strip() for name in PAYMENT_FIELDS if name in form}
    data["months"] = list(form.months.data or [])
    if channel:
        data["channel"] = channel
    return data


@bp.post("/member/<int:member_id>/payments")
@login_required
def record_payment(member_id: int):
    """Record money received for named months (cash, transfer, on the member's behalf); each month counted once."""
    member = _managed_member(member_id)
    form = _payment_form(member, posted=True)
    return tk.form_post(
        lambda: payments.record_payment(member, _payment_data(form), by=current_user),
        form=form,
        success=lambda payment: _("Payment recorded for %(months)s.", months=_months_text(payment)),
        redirect_to=url_for("dues_manage.member", member_id=member.id) + "#months",
        on_error=lambda error: _render_member(_managed_member(member_id), payment_form=form, status=error.status))


# -- reported payments -------------------------------------------------------------


@bp.get("/reported")
@login_required
def reported():
    """Payments members reported with a receipt photo, waiting to be confirmed or rejected."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    page = tk.paginate(_reported_query(unit))
    return render_template("dues/manage/reported.html", unit=unit, units=tk.unit_choices(PERMISSION), page=page,
                           reject_form=RejectForm(formdata=None))


@bp.get("/payments/<int:payment_id>/proof")
@login_required
def proof(payment_id: int):
    """The member's receipt photo, after the same check as the payment (never from static)."""
    payment = _managed_payment(payment_id)
    return tk.send_upload(vocabulary.PLUGIN, payment.proof_stored_name, download_name=payment.proof_filename)


def _back_to_queue(payment: Payment) -> str:
    return url_for("dues_manage.reported", unit=request.args.get("unit") or payment.home_unit_id)


@bp.post("/payments/<int:payment_id>/confirm")
@login_required
def confirm(payment_id: int):
    """Confirm a reported payment: its months count as paid (one activity each) and it gets a receipt."""
    payment = _managed_payment(payment_id)
    return tk.form_post(lambda: payments.confirm_payment(payment, by=current_user),
                        success=_("Payment confirmed for %(months)s.", months=_months_text(payment)),
                        redirect_to=_back_to_queue(payment), on_error=_back_to_queue(payment))


@bp.post("/payments/<int:payment_id>/reject")
@login_required
def reject(payment_id: int):
    """Reject a reported payment with a reason the member reads; its months are free again."""
    payment = _managed_payment(payment_id)
    form = RejectForm()

    def on_error(error: tk.ServiceError):
        unit = tk.unit_from_arg(request.args.get("unit") or str(payment.home_unit_id), PERMISSION)
        return render_template("dues/manage/reported.html", unit=unit, units=tk.unit_choices(PERMISSION),
                               page=tk.paginate(_reported_query(unit)), reject_form=form, rejecting=payment.id,
                               ), error.status

    return tk.form_post(lambda: payments.reject_payment(payment, request.form.get("reason", "").strip(),
                                                        by=current_user),
                        form=form, success=_("Payment rejected: the member was told why."),
                        redirect_to=_back_to_queue(payment), on_error=on_error)


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@login_required
def receipt(payment_id: int):
    """The receipt of a confirmed payment, for the home branch and for the branch that collected it."""
    payment = _payment(payment_id)
    if not (tk.can(PERMISSION, payment.member.home_unit)
            or tk.can(PERMISSION, db.session.get(tk.OrgUnit, payment.collecting_unit_id))):
        abort(404)
    if payment.status != "confirmed":
        abort(404)
    return receipts.receipt_pdf(payment)


# -- arrears -----------------------------------------------------------------------


@bp.get("/arrears")
@login_required
def arrears_page():
    """Members of the subtree with unpaid months, longest run first, with the step of the countdown in words."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    return render_template("dues/manage/arrears.html", unit=unit, units=tk.unit_choices(PERMISSION),
                           rows=arrears.arrears_in_unit(unit))


# -- quarter and year --------------------------------------------------------------


def _period_arg() -> str:
    return (request.args.get("period") or _current_quarter()).strip()[:10]


def _render_quarter(unit: tk.OrgUnit, period: str, form: RemittanceForm | None = None, status: int = 200):
    """The quarter page; a period that cannot be read shows its message (422) and no figures."""
    try:
        summary, error = branch_reports.quarter_summary(unit, period), None
    except tk.Invalid as refused:
        summary, error, status = None, str(refused.message), 422
    if form is None:
        form = RemittanceForm(formdata=None, data={"amount": money.money_text((summary or {}).get("collected")),
                                                   "remitted_on": tk.local_today().isoformat()})
    return render_template("dues/manage/quarter.html", unit=unit, units=tk.unit_choices(PERMISSION), period=period,
                           summary=summary, error=error, form=form), status


@bp.get("/quarter")
@login_required
def quarter():
    """The quarter's collection and what is to be remitted to the upper committee, with the remittance form."""
    return _render_quarter(tk.unit_from_arg(request.args.get("unit"), PERMISSION), _period_arg())


@bp.post("/quarter")
@login_required
def remit():
    """Record the quarter's remittance (once per quarter)."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    period = _period_arg()
    form = RemittanceForm()
    data = {**_form_values(("amount", "remitted_on", "note")), "period": period}
    return tk.form_post(lambda: branch_reports.record_remittance(unit, data, by=current_user), form=form,
                        success=_("The remittance for %(period)s was recorded.", period=period),
                        redirect_to=url_for("dues_manage.quarter", unit=unit.id, period=period),
                        on_error=lambda error: _render_quarter(unit, period, form, error.status))


def _year_arg() -> int | str:
    """The year of ``?year=`` (default: this one); text that is no year stays text, for the service to refuse."""
    text = (request.args.get("year") or "").strip()[:10]
    if not text:
        return tk.local_today().year
    return int(text) if text.isdigit() else text


def _render_year(unit: tk.OrgUnit, year: int | str, form: DisclosureForm | None = None, status: int = 200):
    """The year page; a year that cannot be shown (text, the future) shows its message (422) and no figures."""
    try:
        if not isinstance(year, int):
            raise tk.Invalid(_("Choose a year up to this one."), field="year")
        figures, error = branch_reports.disclosure(unit, year), None
    except tk.Invalid as refused:
        figures, error, status = None, str(refused.message), 422
    if form is None:
        form = DisclosureForm(formdata=None, data={"use_note": (figures or {}).get("use_note", "")})
    return render_template("dues/manage/year.html", unit=unit, units=tk.unit_choices(PERMISSION), year=year,
                           figures=figures, error=error, form=form), status


@bp.get("/year")
@login_required
def year():
    """The year's figures for the public disclosure, and the form that publishes them with the use note."""
    return _render_year(tk.unit_from_arg(request.args.get("unit"), PERMISSION), _year_arg())


@bp.post("/year")
@login_required
def publish():
    """Publish the year's disclosure with how the dues were used."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    year_ = _year_arg()
    form = DisclosureForm()
    if not isinstance(year_, int):
        abort(404)
    return tk.form_post(
        lambda: branch_reports.publish_disclosure(unit, year_, request.form.get("use_note", "").strip(),
                                                  by=current_user),
        form=form, success=_("The disclosure for %(year)d was published.", year=year_),
        redirect_to=url_for("dues_manage.year", unit=unit.id, year=year_),
        on_error=lambda error: _render_year(unit, year_, form, error.status))


# -- downloads -----------------------------------------------------------------------


@bp.get("/monthly.xlsx")
@login_required
def monthly_xlsx():
    """The month's due/paid/unpaid list as a spreadsheet."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    month, error = _month_arg(request.args.get("month"))
    if error:
        abort(404)
    return branch_reports.monthly_xlsx(unit, month)


@bp.get("/remittance.xlsx")
@login_required
def remittance_xlsx():
    """The quarter's remittance sheet."""
    return branch_reports.remittance_xlsx(tk.unit_from_arg(request.args.get("unit"), PERMISSION), _period_arg())


@bp.get("/disclosure.xlsx")
@login_required
def disclosure_xlsx():
    """The year's disclosure figures."""
    unit, year_ = tk.unit_from_arg(request.args.get("unit"), PERMISSION), _year_arg()
    if not isinstance(year_, int):
        abort(404)
    return branch_reports.disclosure_xlsx(unit, year_)


# -- reductions ----------------------------------------------------------------------


def _reductions(unit: tk.OrgUnit) -> tuple[list[Reduction], list[Reduction]]:
    """``(for the branch, for the upper committee)``: requests in the unit's subtree the account may decide."""
    query = (select(Reduction).join(tk.Member, Reduction.member_id == tk.Member.id)
             .where(tk.Member.home_unit_id.in_(tk.subtree_ids(unit))).order_by(Reduction.requested_at, Reduction.id))
    branch = [r for r in db.session.scalars(query.where(Reduction.state == "requested"))
              if tk.can(PERMISSION, r.member.home_unit)]
    upper = [r for r in db.session.scalars(query.where(Reduction.state == "branch_agreed"))
             if r.member.home_unit.parent is not None and tk.can(UPPER, r.member.home_unit.parent)]
    return branch, upper


def _render_reductions(unit: tk.OrgUnit, form: DecisionForm | None = None, deciding: int | None = None,
                       status: int = 200):
    branch, upper = _reductions(unit)
    return render_template("dues/manage/reductions.html", unit=unit, units=tk.unit_choices(PERMISSION),
                           branch=branch, upper=upper, form=form or DecisionForm(formdata=None), deciding=deciding), status


@bp.get("/reductions")
@login_required
def reductions():
    """Reduction and exemption requests waiting for the branch, and those waiting for the upper committee."""
    return _render_reductions(tk.unit_from_arg(request.args.get("unit"), PERMISSION))


def _decide(reduction_id: int, stage: str):
    """Agree/refuse as the branch (``stage="branch"``) or approve/refuse as the upper committee."""
    reduction = _reduction(reduction_id)
    home = reduction.member.home_unit
    if stage == "branch":
        tk.require(PERMISSION, home)
    elif home.parent is None or not tk.can(UPPER, home.parent):
        abort(404)
    agree = request.form.get("decision") == "agree"
    note = request.form.get("note", "").strip()
    form = DecisionForm()
    unit_id = request.args.get("unit") or str(home.id)

    def act():
        if stage == "branch":
            return profiles.decide_reduction_branch(reduction, agree, note, by=current_user)
        return profiles.decide_reduction_upper(reduction, agree, note, by=current_user)

    return tk.form_post(
        act, form=form, success=_("Agreed.") if agree else _("Refused: the member was told."),
        redirect_to=url_for("dues_manage.reductions", unit=unit_id),
        on_error=lambda error: _render_reductions(tk.unit_from_arg(unit_id, PERMISSION), form, reduction.id, error.status))


@bp.post("/reductions/<int:reduction_id>/branch")
@login_required
def decide_branch(reduction_id: int):
    """The branch agrees to (and sends up) or refuses a member's reduction request."""
    return _decide(reduction_id, "branch")


@bp.post("/reductions/<int:reduction_id>/upper")
@login_required
def decide_upper(reduction_id: int):
    """The upper committee approves or refuses a reduction the branch agreed to."""
    return _decide(reduction_id, "upper")


# -- the host branch -------------------------------------------------------------------


def _hosted_member(member_id: int) -> tk.Member:
    """A member hosted in a unit where the account collects dues for hosted members (404 otherwise)."""
    member = _get_member(member_id)
    if member.host_unit is None or not tk.can(HOSTED, member.host_unit):
        abort(404)
    return member


def _render_hosted(unit: tk.OrgUnit, forms: dict[int, HostedPaymentForm] | None = None, status: int = 200):
    hosted = list(db.session.scalars(select(tk.Member).where(tk.Member.host_unit_id.in_(tk.subtree_ids(unit)))
                                     .order_by(tk.Member.name, tk.Member.id)))
    forms = forms or {}
    books = _books([m.id for m in hosted]) if hosted else {}
    return render_template("dues/manage/hosted.html", unit=unit, units=tk.unit_choices(HOSTED),
                           rows=[(m, forms.get(m.id) or _payment_form(
                               m, HostedPaymentForm, prefix=_hosted_prefix(m),
                               book=books.get(m.id) or _Book(arrears.Schedule(m.joined_on), {})))
                                 for m in hosted]), status


def _hosted_prefix(member: tk.Member) -> str:
    """Field names of one member's form on the hosted page (several forms share it)."""
    return f"m{member.id}-"


@bp.get("/hosted")
@login_required
def hosted():
    """Members hosted in the unit's subtree, each with a form to record dues paid here (counted at home)."""
    return _render_hosted(tk.unit_from_arg(request.args.get("unit"), HOSTED))


@bp.post("/hosted/<int:member_id>/payments")
@login_required
def record_hosted(member_id: int):
    """Record dues a hosted member paid at the host branch; they count for the home branch."""
    member = _hosted_member(member_id)
    form = _payment_form(member, HostedPaymentForm, posted=True, prefix=_hosted_prefix(member))
    unit = member.host_unit
    return tk.form_post(
        lambda: payments.record_payment(member, _payment_data(form, "host_branch"), by=current_user), form=form,
        success=lambda payment: _("Payment recorded for %(months)s; it counts for the home branch.",
                                  months=_months_text(payment)),
        redirect_to=url_for("dues_manage.hosted", unit=unit.id) + f"#member-{member.id}",
        on_error=lambda error: _render_hosted(unit, {member.id: form}, error.status))
