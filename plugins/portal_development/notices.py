"""Public notices (公示) of a candidate before the admission vote, and the objections they bring.

After the committee's pre-review the candidate is publicly noticed for at least ``notice_working_days``
working days (Monday to Friday) at home, and also where the person works when away. Each place's branch
posts its own notice. An objection must be resolved before the vote (``rules`` checks it).
"""
from __future__ import annotations

from datetime import date

from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_development import cases, rules
from portal_development.models import PLACES, DevCase, Objection, PublicNotice
from portal_development.settings import setting

db = tk.db
#: The longest objection, resolution or place of posting, in characters.
TEXT_MAX = 5000


def open_notice(case: DevCase, place: str, starts_on: date, *, actor, ends_on: date | None = None,
                posted_at: str = "") -> PublicNotice:
    """Post a notice of ``case`` in ``place`` from ``starts_on``; it ends after ``notice_working_days`` by default.

    Refused: no pre-review by the committee yet (Conflict naming it), an end giving fewer working days
    (Invalid on ``ends_on``). The caller commits.
    """
    if place not in PLACES:
        raise tk.Invalid(_("Choose the home or the host branch."), field="place")
    if place == "host" and case.host_unit_id is None:
        raise tk.Invalid(_("The person does not work away: there is no host branch."), field="place")
    cases.require_side(case, place, actor)
    if case.closed_on is not None:
        raise tk.Conflict(_("The case is closed."))
    prereview = next((step for step in reversed(case.steps) if step.code == "committee_prereview"), None)
    if prereview is None:
        missing = rules.Missing("committee_prereview", _("No pre-review by the committee recorded."))
        raise tk.Conflict(missing.message, code="requirements_missing", details={"missing": [missing.as_dict()]})
    rules.check_day(starts_on, prereview.taken_on, field="starts_on")
    needed = setting("notice_working_days")
    ends_on = ends_on or rules.notice_end(starts_on, needed)
    if rules.working_days(starts_on, ends_on) < needed:
        raise tk.Invalid(_("A public notice lasts at least %(n)d working days: from %(start)s it ends on %(end)s "
                           "at the earliest.", n=needed, start=tk.fmt_date(starts_on),
                           end=tk.fmt_date(rules.notice_end(starts_on, needed))), field="ends_on")
    posted_at = (posted_at or "").strip()
    if len(posted_at) > 500:
        raise tk.Invalid(_("At most %(n)d characters.", n=500), field="posted_at")
    notice = PublicNotice(case_id=case.id, place=place, starts_on=starts_on, ends_on=ends_on, posted_at=posted_at,
                          created_by_account_id=getattr(actor, "id", None))
    db.session.add(notice)
    db.session.flush()
    tk.audit("development.notice", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), place=place, ends_on=ends_on.isoformat())
    return notice


def add_objection(notice: PublicNotice, received_on: date, body: str, *, actor) -> Objection:
    """Record an objection received (not before the notice began) by the notice's place; the caller commits."""
    case = db.session.get(DevCase, notice.case_id)
    cases.require_side(case, notice.place, actor)
    body = (body or "").strip()
    if not body or len(body) > TEXT_MAX:
        raise tk.Invalid(_("Write what the objection says (at most %(n)d characters).", n=TEXT_MAX), field="body")
    rules.check_day(received_on, notice.starts_on, field="received_on")
    objection = Objection(notice=notice, received_on=received_on, body=body)
    db.session.add(objection)
    db.session.flush()
    tk.audit("development.objection", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), notice_id=notice.id)
    return objection


def resolve(objection: Objection, resolution: str, *, actor, on: date) -> Objection:
    """Record how an objection was looked into and resolved (once); the caller commits."""
    notice = objection.notice
    case = db.session.get(DevCase, notice.case_id)
    cases.require_side(case, notice.place, actor)
    if objection.resolved_on is not None:
        raise tk.Conflict(_("The objection was already resolved on %(day)s.", day=tk.fmt_date(objection.resolved_on)))
    resolution = (resolution or "").strip()
    if not resolution or len(resolution) > TEXT_MAX:
        raise tk.Invalid(_("Write how it was resolved (at most %(n)d characters).", n=TEXT_MAX), field="resolution")
    rules.check_day(on, objection.received_on)
    objection.resolution, objection.resolved_on = resolution, on
    objection.resolved_by_account_id = getattr(actor, "id", None)
    tk.audit("development.objection_resolved", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), objection_id=objection.id)
    return objection
