"""Dues payments: recorded by a secretary, reported by a member and confirmed, or paid online; receipts.

A payment names its months (``"2026-10"``); each month is held by one ``PaymentMonth`` row, unique per
member and month, so a month cannot be paid twice — not even by two requests at the same moment.
A rejected payment frees its months (its rows are deleted). Months may be paid back at most
``back_payment_months`` before the current month, and ahead up to the end of the current quarter when
``quarterly_allowed`` (else up to the current month). A confirmed payment writes one ``dues.paid``
activity per month (counted for the member's home branch wherever it was collected) and has a
receipt anyone can verify at ``/dues/receipts/<code>`` once confirmed.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_dues import money, profiles
from portal_dues.models import CHANNELS, Payment, PaymentMonth

db = tk.db
#: The most months one payment names (two years: more is a typing mistake).
MONTHS_MAX = 24
TEXT_MAX = 2000
NAME_MAX = 100
#: Channels a secretary of the member's home branch records.
HOME_CHANNELS = ("cash", "transfer", "on_behalf")


def get_payment(payment_id: int) -> Payment:
    """The payment or ``tk.NotFound``."""
    payment = db.session.get(Payment, payment_id) if 0 < payment_id <= tk.MAX_ID else None
    if payment is None:
        raise tk.NotFound(_("Not found."))
    return payment


def receipt_url(payment: Payment) -> str | None:
    """The public check of the payment's receipt, ``/dues/receipts/<code>`` (None before it is confirmed)."""
    return tk.path_for("dues.verify", code=payment.receipt_code) if payment.receipt_code else None


def payment_json(payment: Payment) -> dict:
    """The API's view of a payment: money as ``"80.00"``, months as ``["2026-10", "2026-11"]``."""
    return {"id": payment.id, "member_id": payment.member_id,
            "months": [money.month_key(row.month) for row in payment.months],
            "amount": money.money_text(payment.amount), "extra_amount": money.money_text(payment.extra_amount),
            "flagged_large": payment.flagged_large, "channel": payment.channel, "status": payment.status,
            "paid_on": tk.isoformat(payment.paid_on), "payer_name": payment.payer_name, "note": payment.note,
            "home_unit_id": payment.home_unit_id, "collecting_unit_id": payment.collecting_unit_id,
            "receipt_code": payment.receipt_code,
            "receipt_url": receipt_url(payment), "rejected_reason": payment.rejected_reason,
            "confirmed_at": tk.isoformat(payment.confirmed_at), "created_at": tk.isoformat(payment.created_at)}


def paid_months(member: tk.Member) -> set[date]:
    """Months held by a payment of the member that is not rejected (confirmed, reported or pending)."""
    return set(db.session.scalars(select(PaymentMonth.month).where(PaymentMonth.member_id == member.id)))


# --- checking what is paid ----------------------------------------------------------------------------------------

def _invalid(field: str, message) -> tk.Invalid:
    return tk.Invalid(message, {field: message})


def latest_payable_month(now: datetime | None = None) -> date:
    """The last month one may pay ahead: the end of the current quarter when quarterly payment is allowed."""
    current = money.current_month(now)
    if not tk.get_setting("dues", "quarterly_allowed"):
        return current
    return date(current.year, (current.month - 1) // 3 * 3 + 3, 1)


def clean_months(member: tk.Member, raw, *, now: datetime | None = None) -> dict[date, Decimal]:
    """``{month: amount due}`` for the named months, refused when a month is too far back, too far ahead or not owed.

    Months already held by another payment are a ``tk.Conflict`` (409).
    """
    if not isinstance(raw, list) or not raw or len(raw) > MONTHS_MAX:
        raise _invalid("months", _("Name between 1 and %(n)d months like 2026-11.", n=MONTHS_MAX))
    months = sorted({money.parse_month(value, "months") for value in raw})
    if len(months) != len(raw):
        raise _invalid("months", _("Name each month once."))
    current, limit = money.current_month(now), int(tk.get_setting("dues", "back_payment_months"))
    if money.months_between(months[0], current) > limit:
        raise _invalid("months", _("At most %(n)d months may be paid back at once; ask the branch.", n=limit))
    if months[-1] > latest_payable_month(now):
        raise _invalid("months", _("%(month)s cannot be paid yet.", month=money.month_key(months[-1])))
    dues = profiles.dues_for_months(member, months)
    not_owed = [money.month_key(m) for m, amount in dues.items() if amount <= 0]
    if not_owed:
        raise _invalid("months", _("Nothing is owed for %(months)s.", months=", ".join(not_owed)))
    taken = sorted(set(months) & paid_months(member))
    if taken:
        raise tk.Conflict(_("Already paid: %(months)s.", months=", ".join(money.month_key(m) for m in taken)),
                          field="months")
    return dues


def _amounts(data: dict, dues: dict[date, Decimal]) -> tuple[Decimal, Decimal, bool]:
    """``(amount, extra, flagged)``: the amount must cover the months; the rest is a voluntary extra payment."""
    amount = money.parse_amount(data.get("amount"), "amount")
    total = sum(dues.values(), Decimal("0.00"))
    if amount < total:
        raise _invalid("amount", _("The months come to %(total)s yuan; the amount is less.",
                                   total=money.money_text(total)))
    extra = amount - total
    return amount, extra, extra > 0 and extra >= Decimal(str(tk.get_setting("dues", "large_extra_payment")))


def _text(data: dict, name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise _invalid(name, _("At most %(n)d characters.", n=limit))
    return value.strip() or None


def _paid_on(data: dict, now: datetime | None) -> date:
    raw, today = data.get("paid_on"), tk.local_today(now)
    if raw in (None, ""):
        return today
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None or day > today:
        raise _invalid("paid_on", _("Enter a date like 2026-11-03, not in the future."))
    return day


def add_payment(member: tk.Member, dues: dict[date, Decimal], fields: dict) -> Payment:
    """Add a payment (``fields``) and its months (``dues``) in one SAVEPOINT.

    A month taken meanwhile by a concurrent request (the unique index) is a 409 and nothing is written.
    """
    try:
        with db.session.begin_nested():
            payment = Payment(member_id=member.id, member=member, home_unit_id=member.home_unit_id, **fields)
            db.session.add(payment)
            db.session.add_all(PaymentMonth(payment=payment, member_id=member.id, month=month, amount_due=amount)
                               for month, amount in dues.items())
            db.session.flush()
    except IntegrityError:
        raise tk.Conflict(_("Already paid: %(months)s.", months=", ".join(money.month_key(m) for m in dues)),
                          field="months") from None
    return payment


# --- recording, reporting, confirming -------------------------------------------------------------------------------

def _require_collector(member: tk.Member, channel: str, by) -> int:
    """Check who may record the channel and return the collecting unit's id."""
    if channel == "host_branch":
        tk.require_acting_on(member, "dues.collect_hosted", account=by)
        host = member.host_unit
        if host is None:
            raise _invalid("channel", _("The member is not hosted by another branch."))
        if by is not None and not tk.can("dues.collect_hosted", host, by):
            raise tk.Forbidden(_("Only the host branch's secretaries record dues paid at the host branch."))
        return host.id
    tk.require_acting_on(member, "dues.manage", member.home_unit, account=by)
    return member.home_unit_id


def record_payment(member: tk.Member, data: dict, *, by, now: datetime | None = None) -> Payment:
    """A secretary records money received (confirmed at once, activities and a receipt).

    ``data``: ``months``, ``amount``, ``channel`` (cash, transfer, on_behalf — the home branch's
    ``dues.manage``; host_branch — the host branch's ``dues.collect_hosted``), ``paid_on``,
    ``payer_name`` (required on behalf), ``note``. Online payments come only from providers.
    """
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise _invalid("channel", _("Choose how the dues were paid."))
    if channel == "online":
        raise _invalid("channel", _("Online payments come through a payment provider, not recorded by hand."))
    collecting_unit_id = _require_collector(member, channel, by)
    payer_name = _text(data, "payer_name", NAME_MAX)
    if channel == "on_behalf" and payer_name is None:
        raise _invalid("payer_name", _("Enter who paid on the member's behalf."))
    dues = clean_months(member, data.get("months"), now=now)
    amount, extra, flagged = _amounts(data, dues)
    at = now or tk.utcnow()
    payment = add_payment(member, dues, dict(
        collecting_unit_id=collecting_unit_id, amount=amount, extra_amount=extra, flagged_large=flagged,
        channel=channel, status="confirmed", paid_on=_paid_on(data, now), payer_name=payer_name,
        note=_text(data, "note", TEXT_MAX), recorded_by_account_id=getattr(by, "id", None),
        confirmed_by_account_id=getattr(by, "id", None), confirmed_at=at, created_at=at))
    _issue_receipt(payment)
    _counted(payment, at)
    tk.audit("dues.payment_recorded", "dues_payment", payment.id, unit_id=member.home_unit_id,
             actor_account_id=getattr(by, "id", None), amount=money.money_text(amount), channel=channel)
    return payment


def report_payment(member: tk.Member, data: dict, proof_upload, *, now: datetime | None = None) -> Payment:
    """The member reports a transfer with a photo of the receipt: its months are held until a secretary decides.

    ``proof_upload`` is the uploaded file (a werkzeug ``FileStorage``), checked and stored here.
    """
    dues = clean_months(member, data.get("months"), now=now)
    amount, extra, flagged = _amounts(data, dues)
    upload = tk.check_upload(proof_upload, allowed=tk.get_setting("dues", "proof_types"),
                             max_bytes=int(tk.get_setting("dues", "proof_max_kb")) * 1024, field="proof")
    paid_on, note = _paid_on(data, now), _text(data, "note", TEXT_MAX)
    payment = add_payment(member, dues, dict(
        collecting_unit_id=member.home_unit_id, amount=amount, extra_amount=extra, flagged_large=flagged,
        channel="transfer", status="reported", paid_on=paid_on, note=note,
        proof_stored_name=tk.store_upload("dues", upload), proof_filename=upload.name,
        recorded_by_account_id=member.account_id, created_at=now or tk.utcnow()))
    _unit, accounts = tk.responsible_accounts(member.home_unit, "dues.manage")
    tk.notify([a for a in accounts if a != member.account_id], _l("A member reported a dues payment"), member.name,
              url=tk.path_for("dues_manage.index"), kind="dues")
    return payment


def _require_decider(payment: Payment, by) -> None:
    """``by`` None is the system (a provider's verified callback); otherwise the home branch's ``dues.manage``."""
    if by is not None:
        tk.require_acting_on(payment.member, "dues.manage", payment.member.home_unit, account=by)


def confirm_payment(payment: Payment, *, by, now: datetime | None = None) -> None:
    """A reported (or pending online) payment counts: activities per month and a verifiable receipt."""
    _require_decider(payment, by)
    tk.lock(payment)
    if payment.status not in ("reported", "pending"):
        raise tk.Conflict(_("This payment is not waiting for confirmation."))
    at = now or tk.utcnow()
    payment.status, payment.confirmed_at = "confirmed", at
    payment.confirmed_by_account_id = getattr(by, "id", None)
    db.session.flush()
    _issue_receipt(payment)
    _counted(payment, at)
    if payment.member.account_id:
        tk.notify([payment.member.account_id], _l("Your dues payment was confirmed"),
                  url=tk.path_for("dues.mine"), kind="dues")
    tk.audit("dues.payment_confirmed", "dues_payment", payment.id, unit_id=payment.home_unit_id,
             actor_account_id=getattr(by, "id", None))


def reject_payment(payment: Payment, reason: str, *, by, now: datetime | None = None) -> None:
    """Refuse a reported (or failed online) payment with a reason: its months are free again."""
    _require_decider(payment, by)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > TEXT_MAX:
        raise _invalid("reason", _("Give a reason (at most %(n)d characters).", n=TEXT_MAX))
    tk.lock(payment)
    if payment.status not in ("reported", "pending"):
        raise tk.Conflict(_("This payment is not waiting for confirmation."))
    payment.status, payment.rejected_reason = "rejected", reason.strip()
    payment.months.clear()  # delete-orphan: the months may be paid again
    db.session.flush()
    if payment.member.account_id and by is not None:
        tk.notify([payment.member.account_id], _l("Your dues payment was not confirmed"), reason.strip(),
                  url=tk.path_for("dues.mine"), kind="dues")
    tk.audit("dues.payment_rejected", "dues_payment", payment.id, unit_id=payment.home_unit_id,
             actor_account_id=getattr(by, "id", None))


def _counted(payment: Payment, at: datetime) -> None:
    """One ``dues.paid`` activity per month (its key makes a month count once, whatever happens twice)."""
    member = payment.member
    for row in payment.months:
        key = money.month_key(row.month)
        tk.record_activity(member, "dues.paid", "dues_month", f"{member.id}:{key}", at=at, extras={
            "month": key, "amount": money.money_text(row.amount_due), "payment_id": payment.id,
            "collecting_unit_id": payment.collecting_unit_id,
            "at_host": payment.collecting_unit_id != payment.home_unit_id})


# --- receipts ------------------------------------------------------------------------------------------------------

def _issue_receipt(payment: Payment) -> None:
    """Draw the confirmed payment's receipt code (another code when the unique index refuses one)."""
    if payment.receipt_code is None:
        tk.add_with_unique_code(lambda code: _with_code(payment, code))


def _with_code(payment: Payment, code: str) -> Payment:
    payment.receipt_code = code
    return payment
