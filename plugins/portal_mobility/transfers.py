"""Membership transfers to another branch (both branches approve) and the letter of introduction."""
from __future__ import annotations

import secrets
from datetime import datetime

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

from .certificates import close_certificate
from .checkins import end_checkins
from .common import clean_text, day_of, months_between, setting
from .contacts import clear_cases
from .models import Certificate, Transfer
from .outflows import active_outflow, open_outflow

db = tk.db


def new_transfer_number(now: datetime) -> str:
    return f"ZJ{now.year}{secrets.token_hex(4).upper()}"


def open_transfer(member) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(Transfer.member_id == member.id, Transfer.status == "pending")
                             .limit(1))


def settled_long_enough(member, now: datetime) -> bool:
    """Away at one place for the configured months or more: suggest a transfer (docs/domain.md, "Mobility")."""
    outflow = active_outflow(member)
    if outflow is None:
        return False
    months = int(setting("transfer_after_months") or 6)
    return months_between(outflow.start_date, day_of(now)) >= months


def request_transfer(member, to_unit, reason: str, *, by_account=None, now: datetime | None = None) -> Transfer:
    """Ask to move membership to ``to_unit``; both branches must approve."""
    now = now or tk.utcnow()
    errors = {}
    if to_unit is None or to_unit.is_closed or to_unit.kind not in ("branch", "group"):
        errors["to_unit_id"] = _("Choose an open branch.")
    elif to_unit.id == member.home_unit_id:
        errors["to_unit_id"] = _("This is already the member's home branch.")
    reason = clean_text(reason, 2000)
    if not reason:
        errors["reason"] = _("This field is required.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    if open_transfer(member) is not None:
        raise tk.Conflict(_("A transfer for this member is already waiting for approval."))
    transfer = Transfer(number=new_transfer_number(now), member_id=member.id, from_unit_id=member.home_unit_id,
                        to_unit_id=to_unit.id, reason=reason, requested_at=now,
                        requested_by_account_id=getattr(by_account, "id", None))
    db.session.add(transfer)
    db.session.flush()
    url = tk.path_for("mobility.transfer", transfer_id=transfer.id)
    tk.notify(tk.secretaries_of(member.home_unit) + tk.secretaries_of(to_unit),
              _l("Membership transfer of %(name)s to %(unit)s requested", name=member.name, unit=to_unit.name),
              url=url, kind="mobility.transfer")
    return transfer


def approve_transfer(transfer: Transfer, side: str, *, by_account=None, now: datetime | None = None) -> Transfer:
    """One side approves; when both have, the membership moves and the history stays here.

    Nobody approves their own transfer (:func:`tk.require_acting_on`).
    """
    _require_side(transfer, side, by_account)
    now = now or tk.utcnow()
    tk.lock(transfer)
    if transfer.status != "pending":
        raise tk.Conflict(_("This transfer has already been decided."))
    if side == "from":
        transfer.from_approved_at, transfer.from_approved_by = now, getattr(by_account, "id", None)
    elif side == "to":
        transfer.to_approved_at, transfer.to_approved_by = now, getattr(by_account, "id", None)
    else:
        raise ValueError(side)
    if transfer.from_approved_at and transfer.to_approved_at:
        _complete_transfer(transfer, now)
    return transfer


def _complete_transfer(transfer: Transfer, now: datetime) -> None:
    member = transfer.member
    transfer.status = "approved"
    transfer.completed_at = now
    outflow = active_outflow(member) or open_outflow(member)
    if outflow is not None:
        outflow.status = "transferred" if outflow.status == "approved" else "cancelled"
        for certificate in db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)):
            close_certificate(certificate, _("Closed: membership transferred"), now)
    end_checkins(member, now)
    member.home_unit_id = transfer.to_unit_id
    member.home_unit = transfer.to_unit
    member.is_away = False
    member.lost_contact = False
    member.contact_member_id = None
    clear_cases(member, now)
    tk.audit("mobility.transfer_completed", "mobility_transfer", transfer.id, unit_id=transfer.from_unit_id,
             to_unit=transfer.to_unit_id)
    if member.account_id:
        tk.notify([member.account_id], _l("Your membership was transferred to %(unit)s", unit=transfer.to_unit.name),
                  url=tk.path_for("mobility.transfer", transfer_id=transfer.id), kind="mobility.transfer")


def _require_side(transfer: Transfer, side: str, by_account) -> None:
    """The "from" side is the home branch's (``mobility.manage``), the "to" side the new branch's (``mobility.host``)."""
    permission, unit = ("mobility.manage", transfer.from_unit) if side == "from" else ("mobility.host", transfer.to_unit)
    tk.require_acting_on(transfer.member, permission, unit, account=by_account)


def reject_transfer(transfer: Transfer, note: str | None, *, side: str = "from", by_account=None,
                    now: datetime | None = None) -> Transfer:
    """One side declines the transfer (never their own)."""
    _require_side(transfer, side, by_account)
    if transfer.status != "pending":
        raise tk.Conflict(_("This transfer has already been decided."))
    transfer.status = "rejected"
    transfer.decision_note = clean_text(note, 2000) or None
    transfer.completed_at = now or tk.utcnow()
    if transfer.member.account_id:
        tk.notify([transfer.member.account_id], _l("The membership transfer was declined"), transfer.decision_note or "",
                  url=tk.path_for("mobility.transfer", transfer_id=transfer.id), kind="mobility.transfer")
    return transfer


def letter_pdf(transfer: Transfer) -> bytes:
    """The letter of introduction (组织关系介绍信) with its number, for printing."""
    member = transfer.member
    pdf = tk.new_pdf()
    pdf.set_font_size(18)
    pdf.cell(0, 14, _("Letter of introduction"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(10)
    pdf.cell(0, 8, _("No. %(number)s", number=transfer.number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(12)
    pdf.ln(4)
    pdf.multi_cell(0, 8, _("To %(unit)s:", unit=transfer.to_unit.name), new_x="LMARGIN", new_y="NEXT")
    body = _("Comrade %(name)s (%(gender)s, %(stage)s) of %(from_unit)s transfers membership to your unit. "
             "Reason: %(reason)s. Please take over the membership.",
             name=member.name, gender=tk.label(tk.GENDER_LABELS, member.gender),
             stage=tk.label(tk.STAGE_LABELS, member.stage),
             from_unit=transfer.from_unit.name, reason=transfer.reason)
    pdf.multi_cell(0, 8, body, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    status = _("Approved by both branches on %(date)s", date=tk.local_date(transfer.completed_at).isoformat()) \
        if transfer.status == "approved" and transfer.completed_at else _("Waiting for approval")
    pdf.multi_cell(0, 8, status, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(0, 8, transfer.from_unit.name, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, tk.local_date(transfer.requested_at).isoformat(), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
