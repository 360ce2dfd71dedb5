"""Two-place vetting (两地考察) and the political review.

For a person who works away, the host branch reports on the employer, the community (police, tax) and
the person's political review; the home branch on the home village and the relatives' political review
(``VETTING_PARTS``). One side asks the other for parts with a deadline (``vetting_days``); the asked side
records its findings. The political review step (``political_review``) carries a conclusion and how the
review was done (:func:`clean_review`).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterable

from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import selectinload

from portal import toolkit as tk
from portal_development import rules
from portal_development.models import PLACES, VETTING_PARTS, DevCase, Vetting
from portal_development.settings import setting

db = tk.db
#: The longest conclusion or findings, in characters.
TEXT_MAX = 5000


def side_unit(case: DevCase, side: str) -> tk.OrgUnit | None:
    """The branch that answers for ``side`` of ``case`` (home: the case's branch; host: where the person works)."""
    return case.unit if side == "home" else case.host_unit


def request(case: DevCase, side: str, parts: Iterable[str], *, actor, on: date) -> list[Vetting]:
    """Ask ``side`` for ``parts`` due ``vetting_days`` after ``on``; a part already asked is kept as it is.

    Either branch of the case may ask (the step ``political_review`` is theirs); the asked side's
    secretaries are told. The caller commits.
    """
    from portal_development import cases

    cases.require_actor(case, "political_review", actor)
    if case.closed_on is not None:
        raise tk.Conflict(_("The case is closed."))
    if side not in PLACES:
        raise tk.Invalid(_("Choose the home or the host branch."), field="side")
    if side == "host" and case.host_unit_id is None:
        raise tk.Invalid(_("The person does not work away: there is no host branch to ask."), field="side")
    parts = list(dict.fromkeys(parts))
    if not parts or any(part not in VETTING_PARTS[side] for part in parts):
        raise tk.Invalid(_("Choose parts of that side: %(parts)s.", parts=", ".join(VETTING_PARTS[side])),
                         field="parts")
    rules.check_day(on, case.applied_on)
    existing = {row.part: row for row in db.session.scalars(
        db.select(Vetting).where(Vetting.case_id == case.id, Vetting.side == side))}
    rows = [existing.get(part) or _new(case, side, part, on) for part in parts]
    db.session.flush()
    if any(part not in existing for part in parts):
        _tell_side(case, side, rows[0].due_on)
        tk.audit("development.vetting_request", "development_case", case.id, unit_id=case.unit_id,
                 actor_account_id=getattr(actor, "id", None), side=side, parts=",".join(parts))
    return rows


def _new(case: DevCase, side: str, part: str, on: date) -> Vetting:
    row = Vetting(case_id=case.id, side=side, part=part, requested_on=on,
                  due_on=on + timedelta(days=setting("vetting_days")))
    db.session.add(row)
    return row


def _tell_side(case: DevCase, side: str, due_on: date) -> None:
    """The asked side's secretaries are told what is asked and by when."""
    _unit, accounts = tk.responsible_accounts(side_unit(case, side), "development.manage")
    tk.notify(accounts, _l("Vetting asked of your branch"),
              _l("Findings on %(name)s are asked by %(day)s.", name=case.member.name, day=due_on.isoformat()),
              kind="development")


def record(vetting: Vetting, findings: str, *, actor, on: date) -> Vetting:
    """The asked side's findings on one part (that side's branch only, once); the caller commits."""
    from portal_development import cases

    case = db.session.get(DevCase, vetting.case_id)
    cases.require_side(case, vetting.side, actor)
    if vetting.recorded_on is not None:
        raise tk.Conflict(_("The findings were already recorded on %(day)s.", day=tk.fmt_date(vetting.recorded_on)))
    findings = (findings or "").strip()
    if not findings or len(findings) > TEXT_MAX:
        raise tk.Invalid(_("Write the findings (at most %(n)d characters).", n=TEXT_MAX), field="findings")
    rules.check_day(on, vetting.requested_on)
    vetting.findings, vetting.recorded_on = findings, on
    vetting.recorded_by_account_id = getattr(actor, "id", None)
    tk.audit("development.vetting_record", "development_case", case.id, unit_id=case.unit_id,
             actor_account_id=getattr(actor, "id", None), side=vetting.side, part=vetting.part)
    return vetting


def waiting(unit_ids: Iterable[int]) -> list[Vetting]:
    """Unanswered parts of open cases kept or hosted in these units, by due day, each with ``.case`` loaded."""
    ids = list(unit_ids)
    if not ids:
        return []
    return list(db.session.scalars(
        db.select(Vetting).join(DevCase, DevCase.id == Vetting.case_id)
        .where(Vetting.recorded_on.is_(None), DevCase.closed_on.is_(None),
               db.or_(DevCase.unit_id.in_(ids), DevCase.host_unit_id.in_(ids)))
        .options(selectinload(Vetting.case))
        .order_by(Vetting.due_on, Vetting.id)))


def clean_review(data: Any, case: DevCase | None = None) -> dict[str, Any]:
    """A political review's data: ``{"conclusion": text, "methods": [text…]}`` (methods: a list or comma text).

    ``case`` is accepted for the cleaners' common signature.
    """
    data = data if isinstance(data, dict) else {}
    conclusion = data.get("conclusion")
    conclusion = conclusion.strip() if isinstance(conclusion, str) else ""
    if not conclusion or len(conclusion) > TEXT_MAX:
        raise tk.Invalid(_("Write the conclusion of the political review (at most %(n)d characters).", n=TEXT_MAX),
                         field="conclusion")
    methods = data.get("methods") or []
    if isinstance(methods, str):
        methods = methods.replace("，", ",").split(",")
    if not isinstance(methods, (list, tuple)) or not all(isinstance(m, str) for m in methods):
        raise tk.Invalid(_("List how the review was done."), field="methods")
    methods = [m.strip() for m in methods if m.strip()]
    if not methods or len(methods) > 10 or any(len(m) > 200 for m in methods):
        raise tk.Invalid(_("List how the review was done (talks, letters, visits …)."), field="methods")
    return {"conclusion": conclusion, "methods": methods}
