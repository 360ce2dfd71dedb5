"""The return home and the summary of what the member did while away."""
from __future__ import annotations

from datetime import datetime, time

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import func, select

from portal import toolkit as tk

from .certificates import close_certificate
from .checkins import end_checkins
from .common import clean_text, day_of, parse_date, unit_city, unit_province
from .contacts import clear_cases
from .models import Certificate, Outflow

db = tk.db


def participation_summary(member, since: datetime, until: datetime) -> list[dict]:
    """What the member did in a period, for the home branch.

    Sections from every plugin's ``portal_member_summary`` answer, plus the
    activity stream's count per verb of what was recorded at a host branch.
    """
    sections = []
    for plugin, pairs in tk.call_each("portal_member_summary", member=member, since=since, until=until):
        items = [(str(k), v) for k, v in pairs or []]
        if items:
            sections.append({"plugin": plugin, "items": items})
    verbs = {v.verb: v.label for v in tk.call_list("portal_activity_verbs")}
    rows = db.session.execute(
        select(tk.Activity.verb, func.count(tk.Activity.id)).where(
            tk.Activity.actor_id == member.id, tk.Activity.created_at >= since, tk.Activity.created_at <= until,
            tk.Activity.host_unit_id.is_not(None), ~tk.Activity.verb.like("mobility.%"))
        .group_by(tk.Activity.verb).order_by(tk.Activity.verb)).all()
    if rows:
        sections.append({"plugin": "activity",
                         "title": str(_l("Recorded at the host branch")),
                         "items": [(str(verbs.get(verb, verb)), count) for verb, count in rows]})
    return sections


def record_return(outflow: Outflow, data: dict, *, now: datetime | None = None) -> Outflow:
    """The member is back: certificate checked and closed, check-in ended, summary of the time away kept."""
    now = now or tk.utcnow()
    tk.lock(outflow)
    if outflow.status != "approved":
        raise tk.Conflict(_("Only an approved outflow can be closed by a return."))
    returned_on = parse_date(data.get("returned_on")) or day_of(now)
    if returned_on > day_of(now) or returned_on < outflow.start_date:
        raise tk.Invalid(_("Please correct the marked fields."),
                            {"returned_on": _("The date must lie between the start of the outflow and today.")})
    certificate_returned = bool(data.get("certificate_returned"))
    note = clean_text(data.get("note"), 2000) or None
    member = outflow.member
    since = datetime.combine(outflow.start_date, time.min)
    until = max(now, datetime.combine(returned_on, time.max))
    summary = participation_summary(member, since, until)
    days = (returned_on - outflow.start_date).days
    outflow.status = "returned"
    outflow.returned_on = returned_on
    outflow.return_note = note
    outflow.return_summary = [{"plugin": s["plugin"], "title": s.get("title"), "items": [list(i) for i in s["items"]]}
                              for s in summary] + [{"plugin": "mobility", "days": days,
                                                    "certificate_returned": certificate_returned}]
    for certificate in db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)):
        close_certificate(certificate, _("Handed back on return") if certificate_returned else
                          _("Closed on return (not handed back)"), now)
    end_checkins(member, now)
    member.is_away = False
    member.lost_contact = False
    clear_cases(member, now)
    home = member.home_unit
    member.current_province, member.current_city = unit_province(home), unit_city(home)
    tk.record_activity(member, "mobility.returned", "mobility_outflow", outflow.id, at=now,
                       extras={"days": days, "certificate_returned": certificate_returned})
    tk.notify(tk.responsible_accounts(home, "mobility.manage")[1], _l("%(name)s is back home", name=member.name),
              url=tk.path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.returned")
    return outflow


def stored_summary(outflow: Outflow) -> tuple[list[dict], dict]:
    """The sections kept at return and the mobility facts (days, certificate handed back)."""
    sections, facts = [], {}
    for section in outflow.return_summary or []:
        if section.get("plugin") == "mobility" and "days" in section:
            facts = section
        else:
            sections.append(section)
    return sections, facts
