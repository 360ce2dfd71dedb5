"""What dues hold about a member (personal data export) and its part of the member summary.

Money leaves as text with two decimals (``"40.00"``), never as a float; months as ``"2026-11"``.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from . import arrears, money
from .models import DuesProfile, Payment, PaymentMonth, Reduction
from .vocabulary import CATEGORY_LABELS, CHANNEL_LABELS, PAYMENT_STATUS_LABELS, REDUCTION_STATE_LABELS


def _percent(rate: Decimal | None) -> str | None:
    """``0.005`` → ``"0.5%"`` (None for the fixed-amount categories)."""
    if rate is None:
        return None
    return format((Decimal(rate) * 100).normalize(), "f") + "%"


def _profile_rows(member) -> list[dict]:
    """The member's profile history, oldest first."""
    rows = tk.db.session.execute(
        select(DuesProfile.valid_from, DuesProfile.category, DuesProfile.monthly_base, DuesProfile.insurance_deduction,
               DuesProfile.rate, DuesProfile.monthly_due, DuesProfile.note, DuesProfile.created_at)
        .where(DuesProfile.member_id == member.id).order_by(DuesProfile.valid_from)).all()
    return [{"valid_from": r.valid_from, "category": r.category, "monthly_base": money.money_text(r.monthly_base),
             "insurance_deduction": money.money_text(r.insurance_deduction) if r.monthly_base is not None else None,
             "rate": _percent(r.rate), "monthly_due": money.money_text(r.monthly_due), "note": r.note,
             "set_at": r.created_at} for r in rows]


def _payment_rows(member) -> list[dict]:
    """The member's payments, newest first, each with the months it covers and what each month owed."""
    months: dict[int, dict[str, str]] = defaultdict(dict)
    for payment_id, month, due in tk.db.session.execute(
            select(PaymentMonth.payment_id, PaymentMonth.month, PaymentMonth.amount_due)
            .where(PaymentMonth.member_id == member.id).order_by(PaymentMonth.month)):
        months[payment_id][money.month_key(month)] = money.money_text(due)
    rows = tk.db.session.execute(
        select(Payment.id, Payment.paid_on, Payment.amount, Payment.extra_amount, Payment.channel, Payment.status,
               tk.OrgUnit.name.label("collected_by"), Payment.payer_name, Payment.note, Payment.receipt_code,
               Payment.proof_filename, Payment.confirmed_at, Payment.rejected_reason, Payment.created_at)
        .join(tk.OrgUnit, tk.OrgUnit.id == Payment.collecting_unit_id)
        .where(Payment.member_id == member.id).order_by(Payment.paid_on.desc(), Payment.id.desc())).all()
    return [{"paid_on": r.paid_on, "months": months.get(r.id, {}), "amount": money.money_text(r.amount),
             "extra_amount": money.money_text(r.extra_amount) if r.extra_amount else None, "channel": r.channel,
             "status": r.status, "collected_by": r.collected_by, "payer_name": r.payer_name, "note": r.note,
             "receipt_code": r.receipt_code if r.status == "confirmed" else None, "proof": r.proof_filename,
             "confirmed_at": r.confirmed_at, "rejected_reason": r.rejected_reason, "recorded_at": r.created_at}
            for r in rows]


def _reduction_rows(member) -> list[dict]:
    """The member's reduction requests and their decisions, newest first."""
    rows = tk.db.session.execute(
        select(Reduction.from_month, Reduction.to_month, Reduction.monthly_due, Reduction.reason, Reduction.state,
               Reduction.requested_at, Reduction.branch_decided_at, Reduction.branch_note, Reduction.upper_decided_at,
               Reduction.upper_note)
        .where(Reduction.member_id == member.id).order_by(Reduction.requested_at.desc(), Reduction.id.desc())).all()
    return [{"from_month": r.from_month, "to_month": r.to_month, "monthly_due": money.money_text(r.monthly_due),
             "reason": r.reason, "state": r.state, "requested_at": r.requested_at,
             "branch_decided_at": r.branch_decided_at, "branch_note": r.branch_note,
             "upper_decided_at": r.upper_decided_at, "upper_note": r.upper_note} for r in rows]


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's dues profiles (the history), payments with their months, and reduction requests."""
    return [
        tk.PersonalSection("profiles", _l("Dues profiles"), (
            ("valid_from", _l("Valid from"), "date"), ("category", _l("Category"), "choice", CATEGORY_LABELS),
            ("monthly_base", _l("Monthly base (yuan)")),
            ("insurance_deduction", _l("Social insurance and housing fund deducted (yuan)")),
            ("rate", _l("Rate")), ("monthly_due", _l("Monthly dues (yuan)")), ("note", _l("Note")),
            ("set_at", _l("Set"), "datetime"),
        ), _profile_rows(member)),
        tk.PersonalSection("payments", _l("Dues payments"), (
            ("paid_on", _l("Paid on"), "date"), ("months", _l("Months (dues of each)"), "lines"),
            ("amount", _l("Amount (yuan)")), ("extra_amount", _l("Voluntary extra (yuan)")),
            ("channel", _l("Paid how"), "choice", CHANNEL_LABELS),
            ("status", _l("Status"), "choice", PAYMENT_STATUS_LABELS), ("collected_by", _l("Collected by")),
            ("payer_name", _l("Paid on the member's behalf by")), ("note", _l("Note")), ("receipt_code", _l("Receipt code")),
            ("proof", _l("Receipt photo")), ("confirmed_at", _l("Confirmed"), "datetime"),
            ("rejected_reason", _l("Reason for rejection")), ("recorded_at", _l("Recorded"), "datetime"),
        ), _payment_rows(member)),
        tk.PersonalSection("reductions", _l("Dues reductions and exemptions"), (
            ("from_month", _l("From"), "date"), ("to_month", _l("To"), "date"),
            ("monthly_due", _l("Monthly dues asked for (yuan)")), ("reason", _l("Reason")),
            ("state", _l("Status"), "choice", REDUCTION_STATE_LABELS), ("requested_at", _l("Asked"), "datetime"),
            ("branch_decided_at", _l("Decided by the branch"), "datetime"), ("branch_note", _l("Branch's note")),
            ("upper_decided_at", _l("Decided by the upper committee"), "datetime"),
            ("upper_note", _l("Upper committee's note")),
        ), _reduction_rows(member)),
    ]


def member_summary(member, since: datetime | None, until: datetime | None) -> list[tuple[str, object]]:
    """Months of the period paid, the money paid in the period, and the months in arrears now.

    A month belongs to the period when its first day does (local dates); money by the day it was
    paid. Only confirmed payments count. Two grouped queries and the arrears run.
    """
    first = tk.local_date(since) if since is not None else None
    last = tk.local_date(until) if until is not None else None
    months = (select(func.count(PaymentMonth.id)).join(Payment, Payment.id == PaymentMonth.payment_id)
              .where(PaymentMonth.member_id == member.id, Payment.status == "confirmed"))
    amount = select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.member_id == member.id,
                                                                      Payment.status == "confirmed")
    if first is not None:  # months are stored as their first day
        months = months.where(PaymentMonth.month >= first)
        amount = amount.where(Payment.paid_on >= first)
    if last is not None:
        months = months.where(PaymentMonth.month < last)
        amount = amount.where(Payment.paid_on < last)
    paid = tk.db.session.scalar(months) or 0
    total = Decimal(str(tk.db.session.scalar(amount) or 0))
    behind, _since = arrears.arrears_for(member)
    return [(_("Dues months paid"), paid), (_("Dues paid (yuan)"), money.money_text(total)),
            (_("Dues months in arrears now"), behind)]


def review_evidence(member, since: date, until: date) -> dict:
    """The annual review's dues evidence for local days ``since..until``: months paid, months owed.

    ``paid_months``: months of the period covered by a confirmed payment. ``owed_months``: months of the
    period that are over by ``until``, had dues to pay (the member's schedule) and no payment that was not
    rejected (a payment waiting for confirmation is not owed, as in the arrears count). Two grouped queries
    for the schedule, one for the months.
    """
    first, last = money.month_start(since), money.month_start(until)
    paid_rows = tk.db.session.execute(
        select(PaymentMonth.month, func.max(case((Payment.status == "confirmed", 1), else_=0)))
        .join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(PaymentMonth.member_id == member.id, PaymentMonth.month >= first, PaymentMonth.month <= last,
               Payment.status != "rejected").group_by(PaymentMonth.month)).all()
    covered = {row[0] for row in paid_rows}
    paid = sum(1 for row in paid_rows if row[1])
    schedule = arrears.schedules(select(tk.Member.id).where(tk.Member.id == member.id)).get(member.id)
    owed, month = 0, first
    while schedule is not None and money.add_months(month, 1) <= until + timedelta(days=1):
        if month not in covered and schedule.due(month):
            owed += 1
        month = money.add_months(month, 1)
    return {"key": "dues", "label": _l("Dues"), "figures": {"paid_months": paid, "owed_months": owed},
            "lines": [(_("Dues months paid"), paid), (_("Dues months owed"), owed)]}
