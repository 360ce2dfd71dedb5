"""Changes of place, employer or contact, periodic confirmations, and the prompts that ask for them."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

from .checkins import end_checkins
from .common import clean_text, day_of, parse_date, setting
from .models import Certificate, Move, Outflow
from .outflows import active_outflow

db = tk.db


MOVE_FIELDS = ("current_province", "current_city", "district", "employer", "industry", "phone")


def current_details(member) -> dict:
    outflow = active_outflow(member)
    return {"current_province": member.current_province, "current_city": member.current_city,
            "district": outflow.destination_district if outflow else None, "employer": member.employer,
            "industry": member.industry, "phone": member.phone}


def report_move(member, data: dict, *, by_account=None, now: datetime | None = None) -> Move:
    """Record a change of place, employer or contact. Reported later than the limit → flagged late.

    Moving to another city ends the check-in at a host branch in the old city.
    """
    now = now or tk.utcnow()
    changed_on = parse_date(data.get("changed_on"))
    errors = {}
    if changed_on is None:
        errors["changed_on"] = _("Enter a date as YYYY-MM-DD.")
    elif changed_on > day_of(now):
        errors["changed_on"] = _("The date cannot be in the future.")
    new = {key: clean_text(data.get(key), 200) or None for key in MOVE_FIELDS}
    old = current_details(member)
    changed = {key: value for key, value in new.items() if value is not None and value != old.get(key)}
    if not errors and not changed:
        errors["current_city"] = _("Nothing has changed. Use “confirm my details” if everything is still right.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    outflow = active_outflow(member)
    limit = int(setting("move_report_days") or 15)
    late = (day_of(now) - changed_on).days > limit
    move = Move(member_id=member.id, outflow_id=getattr(outflow, "id", None), kind="change", changed_on=changed_on,
                reported_at=now, late=late, old_values={k: old.get(k) for k in changed}, new_values=changed,
                note=clean_text(data.get("note"), 2000) or None, reported_by_account_id=getattr(by_account, "id", None))
    db.session.add(move)
    for key in ("current_province", "current_city", "employer", "industry", "phone"):
        if key in changed:
            setattr(member, key, changed[key])
    if outflow is not None:
        if "district" in changed:
            outflow.destination_district = changed["district"]
        outflow.last_confirmed_at = now
    host = member.host_unit
    if "current_city" in changed and host is not None and host.city and host.city != changed["current_city"]:
        end_checkins(member, now)
    db.session.flush()
    tk.record_activity(member, "mobility.moved", "mobility_move", move.id, at=now,
                       extras={"late": late, "fields": sorted(changed)})
    tk.notify(tk.secretaries_of(member.home_unit),
              _("%(name)s reported a change (late)", name=member.name) if late else
              _("%(name)s reported a change", name=member.name),
              url=tk.path_for("mobility.member", member_id=member.id), kind="mobility.moved")
    return move


def confirm_details(member, *, by_account=None, now: datetime | None = None) -> Move:
    """The member confirms that place, employer and contact are unchanged."""
    now = now or tk.utcnow()
    outflow = active_outflow(member)
    if outflow is None:
        raise tk.Conflict(_("You are not registered as away."))
    move = Move(member_id=member.id, outflow_id=outflow.id, kind="confirm", changed_on=day_of(now), reported_at=now,
                old_values={}, new_values={}, reported_by_account_id=getattr(by_account, "id", None))
    db.session.add(move)
    outflow.last_confirmed_at = now
    return move


def confirmation_due(member, now: datetime, *, outflow: Outflow | None = None) -> bool:
    """True when an away member has not confirmed their details for the configured interval.

    ``outflow``: the member's approved outflow when the caller already has it.
    """
    outflow = outflow if outflow is not None and outflow.status == "approved" else active_outflow(member)
    if outflow is None:
        return False
    last = outflow.last_confirmed_at or outflow.decided_at or outflow.created_at
    return now - last >= timedelta(days=int(setting("confirm_every_days") or 90))


def moves_of(member, limit: int = 50) -> list[Move]:
    return list(db.session.scalars(select(Move).where(Move.member_id == member.id)
                                   .order_by(Move.reported_at.desc()).limit(limit)))


def scan_prompts(now: datetime) -> list:
    """Periodic “confirm your details” prompts to members and “review due” notices to home branches."""
    alerts = []
    every = timedelta(days=int(setting("confirm_every_days") or 90))
    for outflow in db.session.scalars(select(Outflow).where(Outflow.status == "approved")):
        last = outflow.last_confirmed_at or outflow.decided_at or outflow.created_at
        prompted = outflow.confirm_prompted_at
        if now - last >= every and (prompted is None or prompted < last or now - prompted >= every):
            outflow.confirm_prompted_at = now
            if outflow.member.account_id:
                alerts.append(tk.Alert("mobility.confirm_details", None, outflow.member_id,
                                       _l("Please confirm where you are and how to reach you"),
                                       url=tk.path_for("mobility.report_move"),
                                       account_ids=(outflow.member.account_id,)))
    horizon = day_of(now) + timedelta(days=30)
    for certificate in db.session.scalars(select(Certificate).where(Certificate.status == "active",
                                                                    Certificate.valid_until <= horizon,
                                                                    Certificate.review_prompted_at.is_(None))):
        certificate.review_prompted_at = now
        alerts.append(tk.Alert("mobility.review_due", certificate.issuing_unit_id, certificate.member_id,
                               _l("The activity certificate of %(name)s is due for its annual review",
                                 name=certificate.member.name),
                               url=tk.path_for("mobility.review", certificate_id=certificate.id)))
    return alerts
