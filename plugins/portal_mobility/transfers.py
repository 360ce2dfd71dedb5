"""Membership transfers to another branch (both branches approve) and the letter of introduction."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

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
#: A line left to fill in by hand on the printed letter.
BLANK = "________"
_CUT = (95, 99, 104)  # the grey of the tear-off line


def new_transfer_number(now: datetime) -> str:
    return f"ZJ{now.year}{secrets.token_hex(4).upper()}"


def transfer_sides(transfer: Transfer) -> tuple[bool, bool]:
    """Whether the current account decides for the branch the member leaves, and for the one they join."""
    return tk.can("mobility.manage", transfer.from_unit), tk.can("mobility.host", transfer.to_unit)


def may_view_transfer(transfer: Transfer, account) -> bool:
    """The member and both branches' secretaries see a transfer and its letter."""
    return transfer.member.account_id == account.id or any(transfer_sides(transfer))


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
    """Ask to move membership to ``to_unit``; both branches must approve. Only members (full, probationary) transfer."""
    now = now or tk.utcnow()
    if not tk.is_member_stage(member.stage):
        raise tk.Invalid(_("Only full and probationary members can transfer membership; applicants, activists and "
                           "candidates are followed by their branch."), {"member_id": _("Not a member.")})
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
    tk.notify(tk.responsible_accounts(member.home_unit, "mobility.manage")[1]
              + tk.responsible_accounts(to_unit, "mobility.manage")[1],
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


def dues_paid_until(member) -> str | None:
    """The last month paid as ``YYYY-MM`` from the newest ``dues.paid`` activity, or ``None`` without one.

    A dues plugin records ``dues.paid`` with ``extras={"period": "YYYY-MM"}``; without a period the
    activity's own local month counts. With no dues plugin the letter leaves a line to fill by hand.
    """
    activity = db.session.scalar(select(tk.Activity).where(tk.Activity.actor_id == member.id,
                                                           tk.Activity.verb == "dues.paid")
                                 .order_by(tk.Activity.created_at.desc(), tk.Activity.id.desc()).limit(1))
    if activity is None:
        return None
    period = str((activity.extras or {}).get("period") or "")
    return period[:7] if len(period) >= 7 else tk.local_date(activity.created_at).strftime("%Y-%m")


def letter_valid_until(transfer: Transfer) -> date | None:
    """The last day the letter may be handed in: the configured days after both branches approved."""
    if transfer.status != "approved" or transfer.completed_at is None:
        return None
    return tk.local_date(transfer.completed_at) + timedelta(days=int(setting("transfer_letter_valid_days") or 30))


def _age(member, on: date) -> str:
    born = member.birth_date
    if born is None:
        return BLANK
    return str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def _month(period: str | None) -> str:
    if not period:
        return _("%(year)s-%(month)s", year=BLANK, month="____")
    return _("%(year)s-%(month)s", year=period[:4], month=period[5:7])


def letter_pdf(transfer: Transfer) -> bytes:
    """The letter of introduction (组织关系介绍信) with its tear-off return slip (回执), on one A4 page."""
    return letter_layout(transfer).pdf


def letter_layout(transfer: Transfer) -> tk.RenderedDocument:
    """The letter and the return slip laid out on one A4 page, with where each part went.

    No counterfoil (存根) is printed: the transfer record in the portal is the issuing branch's copy.
    The letter is dated and valid from the day both branches approved; before that it says so.
    """
    pdf = tk.new_pdf()
    pdf.set_auto_page_break(auto=False)
    width = 170.0
    letter = _letter(pdf, transfer, 20, width)
    cut = tk.DocumentBox(10, max(letter.bottom + 6, 185), 190, 4)
    pdf.set_draw_color(*_CUT)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(cut.x, cut.y + 2, cut.right, cut.y + 2)
    pdf.set_dash_pattern()
    pdf.set_font_size(7)
    pdf.set_text_color(*_CUT)
    pdf.set_xy(cut.x, cut.y - 2)
    pdf.cell(cut.w, 3, _("Cut here: the return slip goes back to the issuing branch"), align="C")
    slip = _return_slip(pdf, transfer, 20, cut.bottom + 4, width)
    return tk.RenderedDocument(bytes(pdf.output()), tk.DocumentBox(0, 0, 210, 297),
                               {"letter": letter, "cut": cut, "slip": slip})


def _letter(pdf, transfer: Transfer, x: float, width: float) -> tk.DocumentBox:
    member = transfer.member
    top = 18.0
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(x, top)
    pdf.set_font_size(18)
    pdf.cell(width, 12, _("Letter of introduction"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(10)
    pdf.set_x(x)
    pdf.cell(width, 7, _("No. %(number)s", number=transfer.number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(12)
    pdf.ln(3)
    tk.write_lines(pdf, x, width, 8, _("To %(unit)s:", unit=transfer.to_unit.name))
    issued = tk.local_date(transfer.completed_at) if transfer.status == "approved" and transfer.completed_at \
        else tk.local_date(transfer.requested_at)
    body = _("Comrade %(name)s, %(gender)s, aged %(age)s, of %(ethnicity)s nationality, %(stage)s, "
             "transfers membership from %(from_unit)s to your unit. Please receive them.",
             name=member.name, gender=tk.label(tk.GENDER_LABELS, member.gender) or BLANK, age=_age(member, issued),
             ethnicity=member.ethnicity or BLANK, stage=tk.label(tk.STAGE_LABELS, member.stage),
             from_unit=transfer.from_unit.name)
    tk.write_lines(pdf, x + 8, width - 8, 8, body)
    tk.write_lines(pdf, x + 8, width - 8, 8, _("Dues paid up to: %(month)s.", month=_month(dues_paid_until(member))))
    valid_until = letter_valid_until(transfer)
    days = int(setting("transfer_letter_valid_days") or 30)
    validity = (_("This letter is valid for %(days)s days, until %(date)s.", days=days,
                  date=tk.fmt_date(valid_until, "long"))
                if valid_until else _("This letter is valid for %(days)s days from the approval.", days=days))
    tk.write_lines(pdf, x + 8, width - 8, 8, validity)
    pdf.ln(4)
    if transfer.status != "approved":
        pdf.set_text_color(183, 28, 28)
        tk.write_lines(pdf, x, width, 8, _("Waiting for approval: not valid yet."))
        pdf.set_text_color(0, 0, 0)
    else:
        tk.write_lines(pdf, x, width, 8, _("Approved by both branches on %(date)s", date=tk.fmt_date(issued, "long")))
    pdf.ln(6)
    tk.write_lines(pdf, x, width, 8, _("%(unit)s (seal)", unit=transfer.from_unit.name), align="R")
    tk.write_lines(pdf, x, width, 8, tk.fmt_date(issued, "long"), align="R")
    return tk.DocumentBox(x, top, width, pdf.get_y() - top)


def _return_slip(pdf, transfer: Transfer, x: float, top: float, width: float) -> tk.DocumentBox:
    """The tear-off slip the receiving branch fills in, seals and sends back."""
    member = transfer.member
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(x, top)
    pdf.set_font_size(15)
    pdf.cell(width, 10, _("Return slip"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(10)
    pdf.set_x(x)
    pdf.cell(width, 6, _("No. %(number)s", number=transfer.number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(12)
    tk.write_lines(pdf, x, width, 8, _("To %(unit)s:", unit=transfer.from_unit.name))
    tk.write_lines(pdf, x + 8, width - 8, 8, _(
        "The membership of comrade %(name)s (%(stage)s) has been received.",
        name=member.name, stage=tk.label(tk.STAGE_LABELS, member.stage)))
    pdf.ln(4)
    for label in (_("Receiving unit (seal): %(blank)s", blank=BLANK * 3), _("Received by: %(blank)s", blank=BLANK * 2),
                  _("Date: %(date)s", date=_("%(year)s-%(month)s-%(day)s", year=BLANK, month="____",
                                              day="____"))):
        tk.write_lines(pdf, x + 60, width - 60, 9, label)
    return tk.DocumentBox(x, top, width, pdf.get_y() - top)
