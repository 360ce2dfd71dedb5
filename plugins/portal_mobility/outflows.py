"""Outflow registrations: a member leaves home; the home branch approves, sends back or sees it withdrawn."""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk

from .certificates import issue_certificate
from .common import clean_text, parse_date, set_current_place
from .models import OPEN_OUTFLOW, Certificate, Outflow

db = tk.db


def open_outflow(member) -> Outflow | None:
    """The member's outflow that is waiting, sent back or approved (at most one)."""
    return db.session.scalar(select(Outflow).where(Outflow.member_id == member.id, Outflow.status.in_(OPEN_OUTFLOW))
                             .order_by(Outflow.id.desc()).limit(1))


def open_outflow_and_certificate(member) -> tuple[Outflow | None, Certificate | None]:
    """The member's open outflow and active certificate in one query (the dashboard shows both)."""
    row = db.session.execute(
        select(Outflow, Certificate)
        .outerjoin(Certificate, and_(Certificate.member_id == Outflow.member_id, Certificate.status == "active"))
        .where(Outflow.member_id == member.id, Outflow.status.in_(OPEN_OUTFLOW))
        .order_by(Outflow.id.desc(), Certificate.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row is not None else (None, None)


def active_outflow(member) -> Outflow | None:
    """The approved outflow of a member who is away, or None."""
    return db.session.scalar(select(Outflow).where(Outflow.member_id == member.id, Outflow.status == "approved")
                             .order_by(Outflow.id.desc()).limit(1))


def clean_destination(data: dict) -> dict:
    """The destination as a code and its names, from the picker (``destination``: a code, "南昌", "nanchang")
    or from the API's ``destination_province``/``destination_city``/``destination_district`` text.

    Unknown, ambiguous or province-only places raise tk.Invalid on the field they came from.
    """
    district = clean_text(data.get("destination_district"), 50) or None
    if "destination" in data:
        field, text = "destination", clean_text(data.get("destination"), 100)
    else:
        field = "destination_city"
        text = clean_text(data.get("destination_province"), 50) + clean_text(data.get("destination_city"), 50)
    # A district the table knows makes the place precise; an unknown one is kept as text only.
    code = (tk.place_from_text(text + district) if district and text else None) or \
        tk.clean_place(text, field, need_city=True)
    province, city, county = tk.place_parts(code)
    return {"destination_code": code, "destination_province": province, "destination_city": city,
            "destination_district": county or district}


def require_member_stage(member) -> None:
    """Outflows, certificates and transfers are for members (full, probationary) only: refuse others."""
    if not tk.is_member_stage(member.stage):
        raise tk.Invalid(_("Only full and probationary members register an outflow and receive an activity "
                           "certificate; %(name)s is not a member yet and is listed by the branch instead.",
                           name=member.name), {"member_id": _("Not a member.")})


def clean_outflow_data(data: dict) -> dict:
    """Validate an outflow's fields (form or API); raises tk.Invalid naming every bad field."""
    errors: dict[str, str] = {}
    cleaned = {
        "employer": clean_text(data.get("employer"), 200) or None,
        "industry": clean_text(data.get("industry"), 100) or None,
        "reason": clean_text(data.get("reason"), 2000),
        "contact_there": clean_text(data.get("contact_there"), 200) or None,
    }
    try:
        cleaned.update(clean_destination(data))
    except tk.Invalid as error:
        errors.update(error.field_errors)
    if not cleaned["reason"]:
        errors["reason"] = _("This field is required.")
    start = parse_date(data.get("start_date"))
    if start is None:
        errors["start_date"] = _("Enter a date as YYYY-MM-DD.")
    cleaned["start_date"] = start
    months = data.get("expected_months")
    if months in (None, ""):
        cleaned["expected_months"] = None
    else:
        try:
            cleaned["expected_months"] = int(months)
            if not 1 <= cleaned["expected_months"] <= 240:
                raise ValueError
        except (TypeError, ValueError):
            errors["expected_months"] = _("Enter a number of months between 1 and 240.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return cleaned


def register_outflow(member, data: dict, *, by_account=None, now: datetime | None = None) -> Outflow:
    """Record that ``member`` leaves (or has left) home; the home branch is asked to approve."""
    now = now or tk.utcnow()
    require_member_stage(member)
    cleaned = clean_outflow_data(data)
    cleaned["current_place_code"] = cleaned["destination_code"]
    if open_outflow(member) is not None:
        raise tk.Conflict(_("There is already an open outflow registration for this member."))
    outflow = Outflow(member_id=member.id, home_unit_id=member.home_unit_id, status="pending",
                      created_by_account_id=getattr(by_account, "id", None), created_at=now, **cleaned)
    try:
        with db.session.begin_nested():
            db.session.add(outflow)
            db.session.flush()
    except IntegrityError:  # a concurrent request registered first
        raise tk.Conflict(_("There is already an open outflow registration for this member.")) from None
    tk.record_activity(member, "mobility.registered", "mobility_outflow", outflow.id, at=now,
                       extras={"province": outflow.destination_province, "city": outflow.destination_city})
    tk.notify(tk.responsible_accounts(member.home_unit, "mobility.manage")[1],
              _l("%(name)s registered an outflow to %(city)s", name=member.name, city=outflow.destination_city),
              url=tk.path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.registered")
    return outflow


def update_outflow(outflow: Outflow, data: dict, *, now: datetime | None = None) -> Outflow:
    """Change a waiting or sent-back registration; it goes back to the home branch."""
    if outflow.status not in ("pending", "changes_requested"):
        raise tk.Conflict(_("Only a registration that is not yet approved can be changed."))
    for key, value in clean_outflow_data(data).items():
        setattr(outflow, key, value)
    outflow.current_place_code = outflow.destination_code
    was_sent_back = outflow.status == "changes_requested"
    outflow.status = "pending"
    outflow.updated_at = now or tk.utcnow()
    if was_sent_back:
        tk.notify(tk.responsible_accounts(outflow.home_unit, "mobility.manage")[1],
                  _l("%(name)s corrected the outflow registration", name=outflow.member.name),
                  url=tk.path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.registered")
    return outflow


def _ensure_decidable(outflow: Outflow) -> None:
    tk.lock(outflow)
    if outflow.status not in ("pending", "changes_requested"):
        raise tk.Conflict(_("This registration has already been decided."))


def approve_outflow(outflow: Outflow, *, by_account=None, note: str | None = None,
                    now: datetime | None = None) -> Certificate:
    """Approve an outflow: the member is away from now on and receives an activity certificate.

    Only the home side, and never on one's own registration (:func:`tk.require_acting_on`).
    """
    tk.require_acting_on(outflow.member, "mobility.manage", outflow.home_unit, account=by_account)
    now = now or tk.utcnow()
    _ensure_decidable(outflow)
    require_member_stage(outflow.member)
    outflow.status = "approved"
    outflow.decided_at = now
    outflow.decided_by_account_id = getattr(by_account, "id", None)
    outflow.decision_note = clean_text(note, 2000) or None
    outflow.last_confirmed_at = now
    member = outflow.member
    member.is_away = True
    set_current_place(outflow, outflow.destination_code)
    if outflow.employer:
        member.employer = outflow.employer
    if outflow.industry:
        member.industry = outflow.industry
    certificate = issue_certificate(outflow, now=now)
    tk.audit("mobility.outflow_approved", "mobility_outflow", outflow.id, unit_id=outflow.home_unit_id,
             certificate=certificate.number)
    if member.account_id:
        tk.notify([member.account_id], _l("Your outflow registration was approved"),
                  _l("Activity certificate %(number)s, valid until %(date)s.", number=certificate.number,
                    date=certificate.valid_until.isoformat()),
                  url=tk.path_for("mobility.index"), kind="mobility.approved")
    return certificate


def request_changes(outflow: Outflow, note: str, *, by_account=None, now: datetime | None = None) -> Outflow:
    """Send a registration back to the member with what to change (home side, not on one's own)."""
    tk.require_acting_on(outflow.member, "mobility.manage", outflow.home_unit, account=by_account)
    now = now or tk.utcnow()
    _ensure_decidable(outflow)
    note = clean_text(note, 2000)
    if not note:
        raise tk.Invalid(_("Say what should be changed."), {"note": _("This field is required.")})
    outflow.status = "changes_requested"
    outflow.decided_at = now
    outflow.decided_by_account_id = getattr(by_account, "id", None)
    outflow.decision_note = note
    if outflow.member.account_id:
        tk.notify([outflow.member.account_id], _l("Your outflow registration needs changes"), note,
                  url=tk.path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.changes")
    return outflow


def withdraw_outflow(outflow: Outflow) -> None:
    """The member (or secretary) withdraws a registration that was not approved yet."""
    if outflow.status not in ("pending", "changes_requested"):
        raise tk.Conflict(_("Only a registration that is not yet approved can be withdrawn."))
    outflow.status = "cancelled"
