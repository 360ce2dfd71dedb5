"""Changes of place, employer or contact, periodic confirmations, and the prompts that ask for them."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk

from .checkins import end_checkins
from .common import clean_text, day_of, lies_within, parse_date, set_current_place, setting, unit_place_code
from .models import Certificate, Move, Outflow
from .outflows import active_outflow

db = tk.db


MOVE_FIELDS = ("employer", "industry", "phone")
#: What a change of place records (the code, and its names for people reading the history).
PLACE_KEYS = ("place_code", "current_province", "current_city", "district")


def current_place_code(member, outflow: Outflow | None = None) -> str | None:
    """Where ``member`` is now: the open outflow's current place, else the member's place text as a code."""
    outflow = outflow if outflow is not None else active_outflow(member)
    if outflow is not None and outflow.current_place_code:
        return outflow.current_place_code
    text = (member.current_province or "") + (member.current_city or "")
    return tk.place_from_text(text) if text else None


def _place_values(code: str | None, member=None) -> dict:
    province, city, county = tk.place_parts(code)
    if member is not None and not code:  # an old record without a code: its text
        province, city = member.current_province or "", member.current_city or ""
    return {"place_code": code, "current_province": province or None, "current_city": city or None,
            "district": county or None}


def current_details(member) -> dict:
    """The member's place (``place``: a code), employer and phone as the report form shows them."""
    outflow = active_outflow(member)
    code = current_place_code(member, outflow)
    return {"place": code or " ".join(filter(None, (member.current_province, member.current_city))),
            **_place_values(code, member), "employer": member.employer, "industry": member.industry,
            "phone": member.phone}


def _reported_place(data: dict) -> str | None:
    """The place a report names (the picker ``place``, or the API's province/city/district text), or None."""
    if "place" in data:
        return tk.clean_place(data.get("place"), "place", required=False)
    text = "".join(clean_text(data.get(key), 50) for key in ("current_province", "current_city", "district"))
    return tk.clean_place(text, "current_city", required=False)


def _same_city(code: str, host) -> bool:
    """True when ``code`` lies in the city of the host branch (by code; by name for a host without one)."""
    host_code = unit_place_code(host)
    if host_code:
        return lies_within(code, host_code if host_code.endswith("0000") else host_code[:4] + "00")
    return not host.city or host.city == tk.place_parts(code)[1]


def report_move(member, data: dict, *, by_account=None, now: datetime | None = None) -> Move:
    """Record a change of place, employer or contact. Reported later than the limit → flagged late.

    A new place becomes the member's one current place (the outflow's ``current_place_code``); the
    registered destination stays as it was. Moving to another city ends the check-in at a host branch there.
    """
    now = now or tk.utcnow()
    changed_on = parse_date(data.get("changed_on"))
    errors = {}
    if changed_on is None:
        errors["changed_on"] = _("Enter a date as YYYY-MM-DD.")
    elif changed_on > day_of(now):
        errors["changed_on"] = _("The date cannot be in the future.")
    outflow = active_outflow(member)
    old = current_details(member)
    try:
        place = _reported_place(data)
    except tk.Invalid as error:
        errors.update(error.field_errors)
        place = None
    new = {key: clean_text(data.get(key), 200) or None for key in MOVE_FIELDS}
    changed = {key: value for key, value in new.items() if value is not None and value != old.get(key)}
    if place and not lies_within(old["place_code"], place):  # naming the city one is in already is no move
        changed.update(_place_values(place))
    if not errors and not changed:
        errors["place" if "place" in data else "current_city"] = _(
            "Nothing has changed. Use “confirm my details” if everything is still right.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    limit = int(setting("move_report_days") or 15)
    late = (day_of(now) - changed_on).days > limit
    move = Move(member_id=member.id, outflow_id=getattr(outflow, "id", None), kind="change", changed_on=changed_on,
                reported_at=now, late=late, old_values={k: old.get(k) for k in changed}, new_values=changed,
                note=clean_text(data.get("note"), 2000) or None, reported_by_account_id=getattr(by_account, "id", None))
    db.session.add(move)
    for key in MOVE_FIELDS:
        if key in changed:
            setattr(member, key, changed[key])
    if "place_code" in changed:
        if outflow is not None:
            set_current_place(outflow, changed["place_code"])
        else:
            member.current_province, member.current_city = changed["current_province"], changed["current_city"]
    if outflow is not None:
        outflow.last_confirmed_at = now
    host = member.host_unit
    if "place_code" in changed and host is not None and not _same_city(changed["place_code"], host):
        end_checkins(member, now)
    db.session.flush()
    tk.record_activity(member, "mobility.moved", "mobility_move", move.id, at=now,
                       extras={"late": late, "fields": sorted(changed)})
    _unit, secretaries = tk.responsible_accounts(member.home_unit, "mobility.manage")
    tk.notify(secretaries,
              _l("%(name)s reported a change (late)", name=member.name) if late else
              _l("%(name)s reported a change", name=member.name),
              url=tk.path_for("mobility.member", member_id=member.id), kind="mobility.moved")
    if late and member.account_id:  # told once, with the report that was late
        tk.notify([member.account_id], _l("Your change was reported late"),
                  _l("A change of place, employer or contact must be reported within %(days)d days; "
                     "this one was reported %(late)d days after it happened.", days=limit,
                     late=(day_of(now) - changed_on).days),
                  url=tk.path_for("mobility.report_move"), kind="mobility.move_late")
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
        certificate.review_prompted_at = now  # the marker: the branch and the member are told once
        alerts.append(tk.Alert("mobility.review_due", certificate.issuing_unit_id, certificate.member_id,
                               _l("The activity certificate of %(name)s is due for its annual review",
                                 name=certificate.member.name),
                               url=tk.path_for("mobility.review", certificate_id=certificate.id),
                               permission="mobility.manage"))
        if certificate.member.account_id:
            alerts.append(tk.Alert("mobility.review_due_member", None, certificate.member_id,
                                   _l("Your activity certificate is valid until %(date)s: your branch will review it "
                                      "before then. Please make sure your details and reports are up to date.",
                                      date=certificate.valid_until.isoformat()),
                                   url=tk.path_for("mobility.index"),
                                   account_ids=(certificate.member.account_id,)))
    return alerts
