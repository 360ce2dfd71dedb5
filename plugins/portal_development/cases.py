"""Development cases: opening, recording steps, advancing, closing and transferring; who sees and who acts.

Every service takes the acting account (``actor``) and checks it first: a case outside the account's
scope is ``NotFound``, a step the account may not take is ``Forbidden``, and nobody takes a step on their
own case. Outside a request and without an actor (the CLI, the demo) nothing is checked, as with
``tk.require_acting_on``. Services do not commit except :func:`record_step`, :func:`advance`,
:func:`open_case`, :func:`close` and :func:`transfer`, which are whole actions.

The stage lives on the case and is mirrored on the member record (``member.stage``), with one
``development.stage`` activity per stage reached.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterable

from flask import has_request_context
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_development import rules
from portal_development.models import STAGES, DevCase, Mentor, StepFile, StepRecord
from portal_development.settings import setting
from portal_development.vocabulary import ADVANCE_STEP, STAGE_LABELS, STEP_BY_CODE, STEP_LABELS

db = tk.db
PLUGIN = "development"
#: Documents a step may carry.
ALLOWED_FILES = ("pdf", "jpg", "png", "doc", "docx")
MAX_FILES = 10
#: Units that keep cases: branches (a general branch keeps its own members too).
BRANCH_KINDS = ("branch", "general_branch")
#: How a case ends before full membership (``close``); ``cancelled`` and ``full`` come from the approval.
CLOSE_OUTCOMES = ("withdrawn", "not_admitted")
CONVERSION_OUTCOMES = ("convert", "extend", "cancel")
EXTEND_MONTHS = (6, 12)


# --- who sees, who acts ---------------------------------------------------------------------------------------

def _unchecked(account) -> bool:
    """No one is acting (the CLI, the demo, a scan): nothing to check."""
    return account is None and not has_request_context()


def _own(case: DevCase, account) -> bool:
    return account is not None and case.member is not None and case.member.account_id == account.id


def _active_mentor(case: DevCase, account) -> bool:
    if account is None:
        return False
    return db.session.scalar(select(Mentor.id).join(tk.Member, tk.Member.id == Mentor.member_id)
                             .where(Mentor.case_id == case.id, Mentor.ended_on.is_(None),
                                    tk.Member.account_id == account.id).limit(1)) is not None


def _manages(case: DevCase, account) -> bool:
    return tk.can("development.manage", case.unit, account) or (
        case.host_unit is not None and tk.can("development.manage", case.host_unit, account))


def committee_unit(case: DevCase) -> tk.OrgUnit:
    """The unit whose ``development.approve`` takes the committee's steps: the branch's parent."""
    return case.unit.parent or case.unit


def can_see(case: DevCase, account) -> bool:
    """Whether ``account`` may read the case (the person sees their own progress)."""
    if account is None:
        return False
    return (_own(case, account) or _manages(case, account)
            or tk.can("development.approve", case.unit, account) or _active_mentor(case, account))


def visible_case(case_id: Any, account) -> DevCase:
    """The case ``case_id`` if ``account`` may read it (else NotFound); every read but the person's is audited."""
    case = db.session.get(DevCase, case_id) if isinstance(case_id, int) and 0 < case_id <= tk.MAX_ID else None
    if case is None or not can_see(case, account):
        raise tk.NotFound(_l("Not found."))
    if not _own(case, account):
        tk.audit("development.read", "development_case", case.id, unit_id=case.unit_id,
                 actor_account_id=account.id)
    return case


def own_case(account) -> DevCase | None:
    """The case of ``account``'s own member record (an open one first, else the latest), if any."""
    member = getattr(account, "member", None)
    if member is None:
        return None
    return db.session.scalar(select(DevCase).where(DevCase.member_id == member.id)
                             .order_by(DevCase.closed_on.is_not(None), DevCase.id.desc()).limit(1))


def person_deadlines(case: DevCase, today: date) -> list:
    """The deadlines of an open case the person owes (what their own page warns of); none once closed."""
    if case.closed_on is not None:
        return []
    return [d for d in rules.deadlines(rules.facts_for([case])[case.id], today) if d.side == "person"]


def printable_case(case_id: Any, account) -> DevCase:
    """The case for its record PDF (纪实表): readers as :func:`visible_case`, except the person (Forbidden): the
    record holds vetting findings, objections and tallies their own page does not show."""
    case = visible_case(case_id, account)
    if _own(case, account):
        raise tk.Forbidden(_l("The record is kept by the branch; your progress is on your own page."))
    return case


def require_actor(case: DevCase, code: str, account) -> tk.OrgUnit:
    """Check that ``account`` may record step ``code`` on ``case``; return the unit it acts for.

    NotFound when the account may not see the case; Forbidden on one's own case or for a step of
    another actor (a committee step by a branch, a branch step by a mentor).
    """
    step = STEP_BY_CODE[code]
    if _unchecked(account):
        return committee_unit(case) if step.actor == "committee" else case.unit
    if not can_see(case, account):
        raise tk.NotFound(_l("Not found."))
    if _own(case, account):
        raise tk.Forbidden(_l("Nobody records a step of their own development."))
    if step.actor == "committee":
        unit = committee_unit(case)
        if tk.can("development.approve", unit, account):
            return unit
    else:
        if tk.can("development.manage", case.unit, account):
            return case.unit
        if case.host_unit is not None and tk.can("development.manage", case.host_unit, account):
            return case.host_unit
        if step.actor == "mentor" and _active_mentor(case, account):
            return case.unit
    raise tk.Forbidden(_("This step is taken by %(who)s.", who=_ACTOR_LABELS[step.actor]))


_ACTOR_LABELS = {"branch": _l("the branch"), "committee": _l("the committee above the branch"),
                 "mentor": _l("a mentor or the branch")}


def require_side(case: DevCase, side: str, account) -> tk.OrgUnit:
    """The unit of one side of two-place vetting (home: the case's branch, host: the host branch), if ``account``
    holds ``development.manage`` there; NotFound/Forbidden like :func:`require_actor`."""
    unit = case.unit if side == "home" else case.host_unit
    if unit is None:
        raise tk.Conflict(_l("The person does not work away: there is no host branch."))
    if _unchecked(account):
        return unit
    if not can_see(case, account):
        raise tk.NotFound(_l("Not found."))
    if _own(case, account):
        raise tk.Forbidden(_l("Nobody records a step of their own development."))
    if not tk.can("development.manage", unit, account):
        raise tk.Forbidden(_l("Only that branch records its side of the vetting."))
    return unit


def cases_for_unit(unit: tk.OrgUnit, account, include_closed: bool = False) -> list[DevCase]:
    """Cases kept in ``unit``'s subtree or of people working there, if ``account`` may see the unit's cases."""
    if not _unchecked(account) and not (tk.can("development.manage", unit, account)
                                        or tk.can("development.approve", unit, account)):
        raise tk.NotFound(_l("Not found."))
    ids = tk.subtree_ids(unit)
    query = select(DevCase).where(or_(DevCase.unit_id.in_(ids), DevCase.host_unit_id.in_(ids)))
    if not include_closed:
        query = query.where(DevCase.closed_on.is_(None))
    return list(db.session.scalars(query.order_by(DevCase.applied_on, DevCase.id)).unique())


# --- opening --------------------------------------------------------------------------------------------------

def _person(unit: tk.OrgUnit, name: str, id_number: str, phone: str, applied_on: date) -> tk.Member:
    """The member record of the applicant: the one with this ID number, else a new one at stage applicant."""
    errors: dict[str, str] = {}
    try:
        number = tk.normalize_id_number(id_number)
    except ValueError as error:
        number, errors["id_number"] = None, str(error)
    if not number and "id_number" not in errors:
        errors["id_number"] = _("Enter the national ID number.")
    try:
        phone = tk.normalize_phone(phone)
    except ValueError as error:
        errors["phone"] = str(error)
    name = (name or "").strip()
    existing = db.session.scalar(select(tk.Member).where(tk.Member.id_number == number).limit(1)) if number else None
    if not name and existing is None:
        errors["name"] = _("Enter the name.")
    if errors:
        raise tk.Invalid(next(iter(errors.values())), errors)
    if existing is not None:
        return existing
    member = tk.Member(name=name[:100], id_number=number, phone=phone, stage="applicant", home_unit_id=unit.id,
                       birth_date=tk.id_number_birth_date(number))
    db.session.add(member)
    db.session.flush()
    return member


def _check_age(member: tk.Member, applied_on: date) -> None:
    born = member.birth_date
    if born is None:
        return
    age = applied_on.year - born.year - ((applied_on.month, applied_on.day) < (born.month, born.day))
    min_age = setting("min_age")
    if age < min_age:
        raise tk.Invalid(_("An applicant is at least %(min)d years old on the day of application (this one is %(age)d).",
                           min=min_age, age=age), field="applied_on")


def open_case(unit: tk.OrgUnit, applied_on: date, *, actor, member: tk.Member | None = None, name: str = "",
              id_number: str = "", phone: str = "", household_place: str | None = None,
              workplace: str | None = None, host_unit: tk.OrgUnit | None = None,
              today: date | None = None) -> DevCase:
    """Open a case in branch ``unit`` for ``member``, or for the person named (found by ID number or created).

    Records step 1 (the written application) on ``applied_on`` and commits. Refuses a unit that is no
    branch, an applicant under ``min_age``, a day in the future, and a person with an open case (Conflict).
    """
    if not _unchecked(actor) and not tk.can("development.manage", unit, actor):
        raise tk.NotFound(_l("Not found."))
    if unit.kind not in BRANCH_KINDS:
        raise tk.Invalid(_l("Cases are kept by a branch."), field="unit_id")
    today = today or tk.local_today()
    if applied_on > today:
        raise tk.Invalid(_l("This day is in the future."), field="applied_on")
    # Openings in one branch queue here, so two requests for the same newcomer find one member record.
    tk.lock(unit)
    if member is None:
        member = _person(unit, name, id_number, phone, applied_on)
    if not _unchecked(actor) and member.id is not None and not tk.can_see_member(member, "development.manage", actor):
        # Someone of another branch (given by id, or found by ID number): that branch opens or transfers the case.
        raise tk.Conflict(_l("This person belongs to another branch: that branch opens the case or transfers it."))
    if not _unchecked(actor) and member.account_id == actor.id:
        raise tk.Forbidden(_l("Nobody records a step of their own development."))
    if member.stage in ("probationary", "full"):
        raise tk.Conflict(_l("This person is already a member."))
    _check_age(member, applied_on)
    if db.session.scalar(select(DevCase.id).where(DevCase.member_id == member.id, DevCase.closed_on.is_(None))):
        raise tk.Conflict(_l("This person already has an open development case."))
    if host_unit is None and member.is_away and member.host_unit_id:
        host_unit = member.host_unit
    if host_unit is not None and (host_unit.id == unit.id or host_unit.kind not in BRANCH_KINDS):
        raise tk.Invalid(_l("The host branch is another branch."), field="host_unit_id")
    case = DevCase(member=member, member_id=member.id, unit=unit, unit_id=unit.id, host_unit=host_unit,
                   host_unit_id=host_unit.id if host_unit else None, household_place=household_place or None,
                   workplace=workplace or None, stage="applicant", applied_on=applied_on,
                   created_by_account_id=getattr(actor, "id", None))
    db.session.add(case)
    try:
        db.session.flush()
    except IntegrityError:  # a second request opened one at the same moment: the index allows one open case
        db.session.rollback()
        raise tk.Conflict(_l("This person already has an open development case.")) from None
    write_step(case, "application", applied_on, actor=actor, unit=unit)
    _mirror_stage(case)
    tk.audit("development.open", "development_case", case.id, unit_id=unit.id)
    db.session.commit()
    return case


# --- steps ----------------------------------------------------------------------------------------------------

def write_step(case: DevCase, code: str, on: date, *, actor, notes: str = "", data: dict | None = None,
               unit: tk.OrgUnit | None = None) -> StepRecord:
    """Write one step record as it is (no checks); the caller checks and commits."""
    record = StepRecord(case=case, code=code, taken_on=on, notes=(notes or "").strip(), data=data or {},
                        unit_id=unit.id if unit is not None else case.unit_id,
                        actor_account_id=getattr(actor, "id", None))
    db.session.add(record)
    db.session.flush()
    return record


def _clean_conversion(data: Any, case: DevCase) -> dict:
    outcome = data.get("outcome") if isinstance(data, dict) else None
    if outcome not in CONVERSION_OUTCOMES:
        raise tk.Invalid(_l("Choose: full membership, extend probation, or cancel."), field="outcome")
    if outcome != "extend":
        return {"outcome": outcome}
    months = data.get("months")
    months = int(months) if isinstance(months, (int, str)) and str(months).strip().isdigit() else None
    if months is None or not EXTEND_MONTHS[0] <= months <= EXTEND_MONTHS[1]:
        raise tk.Invalid(_("Probation is extended by %(min)d to %(max)d months.", min=EXTEND_MONTHS[0],
                           max=EXTEND_MONTHS[1]), field="months")
    return {"outcome": "extend", "months": months}


def _clean_vote(data: Any, case: DevCase) -> dict:
    from portal_development import votes

    tally = data.get("tally") if isinstance(data, dict) else None
    return {"tally": votes.clean_tally(tally)}


def _clean_training(data: Any, case: DevCase) -> dict:
    from portal_development import training

    return training.clean_training(data, case)


def _clean_introducers(data: Any, case: DevCase) -> dict:
    from portal_development import mentors

    return mentors.clean_introducers(data, case)


def _clean_review(data: Any, case: DevCase) -> dict:
    from portal_development import vetting

    return vetting.clean_review(data, case)


#: The cleaner of a step's data, ``cleaner(data, case) -> dict`` (Invalid on bad data); other steps carry none.
STEP_DATA: dict[str, Callable[[Any, DevCase], dict]] = {
    "admission_vote": _clean_vote, "conversion_vote": _clean_vote, "training": _clean_training,
    "introducers": _clean_introducers, "political_review": _clean_review, "conversion_approval": _clean_conversion,
}


def record_step(case: DevCase, code: str, on: date, *, actor, notes: str = "", data: dict | None = None,
                uploads: Iterable[Any] = (), special: bool = False, today: date | None = None) -> StepRecord:
    """Record step ``code`` of ``case`` on day ``on`` with its checks, files and consequences; commits.

    Refusals: NotFound/Forbidden (``require_actor``), Invalid (a bad day or bad data), Conflict (a closed case,
    a once-only step already recorded, or ``requirements_missing`` with every unmet prerequisite in
    ``details["missing"]``).
    """
    if code not in STEP_BY_CODE:
        raise tk.Invalid(_l("Unknown step."), field="step")
    unit = require_actor(case, code, actor)
    # Full membership closes the case; archiving its record (step 25) is what still follows.
    if case.closed_on is not None and not (code == "archive" and case.outcome == "full"):
        raise tk.Conflict(_l("This case is closed."))
    rules.check_day(on, case.applied_on, today=today)
    cleaner = STEP_DATA.get(code)
    cleaned = cleaner(data or {}, case) if cleaner is not None else {}
    facts = rules.facts_for([case])[case.id]
    earlier = rules.already_recorded(facts, code)
    if earlier is not None:
        raise tk.Conflict(_("%(step)s was already recorded on %(day)s.", step=STEP_LABELS[code],
                            day=tk.fmt_date(earlier.taken_on)), code="already_recorded")
    require_met(facts, code, on, cleaned, special)
    files = tk.check_uploads(uploads, allowed=ALLOWED_FILES, max_bytes=setting("max_upload_mb") * 1024 * 1024,
                             max_count=MAX_FILES)
    record = write_step(case, code, on, actor=actor, notes=notes, data=cleaned, unit=unit)
    for upload in files:
        db.session.add(StepFile(step_id=record.id, filename=upload.name, stored_name=tk.store_upload(PLUGIN, upload),
                                content_type=upload.mimetype, size=len(upload.data)))
    _after(case, record, cleaned, facts)
    tk.audit("development.step", "development_case", case.id, unit_id=unit.id, step=code)
    db.session.commit()
    return record


def require_met(facts: rules.Facts, code: str, on: date, data: dict | None = None, special: bool = False) -> None:
    """Raise Conflict ``requirements_missing`` naming every unmet prerequisite of ``code`` on ``on``."""
    missing = rules.missing_for(facts, code, on, data, special)
    if missing:
        raise tk.Conflict("; ".join(str(m.message) for m in missing), code="requirements_missing",
                          details={"missing": [m.as_dict() for m in missing]})


def _after(case: DevCase, record: StepRecord, data: dict, facts: rules.Facts) -> None:
    """What a step changes besides itself: votes, stages, probation."""
    from portal_development import votes

    code, on = record.code, record.taken_on
    if code in ("admission_vote", "conversion_vote"):
        vote = votes.save_vote(case, code.split("_")[0], record, data["tally"])
        if code == "admission_vote" and vote.passed:
            case.admitted_on = on
    elif code == "activist_decision":
        case.activist_on = on
        _set_stage(case, "activist")
    elif code == "candidate_decision":
        case.candidate_on = on
        _set_stage(case, "candidate")
    elif code == "admission_approval":
        # Probation runs from the passed admission vote, whoever wrote it (the rules required one).
        case.admitted_on = facts.passed_vote("admission").held_on
        case.probation_ends_on = tk.months_later(case.admitted_on, setting("probation_months"))
        _set_stage(case, "probationary")
    elif code == "conversion_approval":
        _conversion(case, data, on)


def _conversion(case: DevCase, data: dict, on: date) -> None:
    outcome = data["outcome"]
    if outcome == "extend":
        case.extended_months = data["months"]
        case.probation_ends_on = tk.months_later(case.probation_ends_on, data["months"])
    elif outcome == "cancel":
        # Probation cancelled: the person is no member; their record keeps the stage they had reached before.
        case.outcome, case.closed_on = "cancelled", on
        case.member.stage = "candidate"
        if case.member.joined_on == case.admitted_on:
            case.member.joined_on = None
    else:
        case.full_on, case.outcome, case.closed_on = case.probation_ends_on, "full", on
        _set_stage(case, "full")


def _set_stage(case: DevCase, stage: str) -> None:
    case.stage = stage
    _mirror_stage(case)


def _mirror_stage(case: DevCase) -> None:
    """Mirror the case's stage on the member record, once per stage reached, in the activity stream."""
    member = case.member
    member.stage = case.stage
    if case.stage == "probationary" and member.joined_on is None:
        member.joined_on = case.admitted_on
    tk.record_activity(member, "development.stage", "development_case", case.id,
                       key=f"development.stage:{case.id}:{case.stage}", extras={"stage": case.stage})


def advance(case: DevCase, to: str, on: date, *, actor, data: dict | None = None, special: bool = False,
            notes: str = "", uploads: Iterable[Any] = (), today: date | None = None) -> DevCase:
    """Move the case to the next stage ``to`` by recording the step that does it; return the case."""
    if to not in ADVANCE_STEP:
        raise tk.Invalid(_l("Unknown stage."), field="to")
    require_actor(case, ADVANCE_STEP[to], actor)
    expected = STAGES[STAGES.index(case.stage) + 1] if case.stage in STAGES[:-1] else None
    if to != expected or case.closed_on is not None:
        message = _("The case is at stage %(stage)s: it cannot move to %(to)s.", stage=STAGE_LABELS[case.stage],
                    to=STAGE_LABELS[to])
        raise tk.Conflict(message, code="requirements_missing",
                          details={"missing": [{"code": "stage_order", "message": message}]})
    if to == "full":
        data = {**(data or {}), "outcome": "convert"}
    record_step(case, ADVANCE_STEP[to], on, actor=actor, notes=notes, data=data, uploads=uploads, special=special,
                today=today)
    return case


# --- closing and transfers ------------------------------------------------------------------------------------

def close(case: DevCase, outcome: str, *, actor, on: date, reason: str, today: date | None = None) -> DevCase:
    """End an open case before full membership (withdrawn, not admitted), with a reason; commits."""
    require_actor(case, "application", actor)
    if case.closed_on is not None:
        raise tk.Conflict(_l("This case is closed."))
    errors = {}
    if outcome not in CLOSE_OUTCOMES:
        errors["outcome"] = _("Choose how the case ends.")
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason.")
    if errors:
        raise tk.Invalid(next(iter(errors.values())), errors)
    rules.check_day(on, case.applied_on, today=today)
    case.outcome, case.closed_on, case.closed_reason = outcome, on, reason.strip()
    tk.audit("development.close", "development_case", case.id, unit_id=case.unit_id, outcome=outcome)
    db.session.commit()
    return case


def transfer(case: DevCase, unit: tk.OrgUnit, *, actor, on: date, reason: str) -> DevCase:
    """Move the case to another branch; every date (and so every running time limit) is kept; commits.

    Needs ``development.manage`` on the case's branch. Before probation the member's home branch follows
    (a member's own transfer is mobility's business). The new branch's secretaries are told.
    """
    if not _unchecked(actor):
        if not can_see(case, actor):
            raise tk.NotFound(_l("Not found."))
        if _own(case, actor):
            raise tk.Forbidden(_l("Nobody records a step of their own development."))
        if not tk.can("development.manage", case.unit, actor):
            raise tk.Forbidden(_l("Only the branch that keeps the case transfers it."))
    if case.closed_on is not None:
        raise tk.Conflict(_l("This case is closed."))
    if unit.kind not in BRANCH_KINDS or unit.is_closed or unit.id == case.unit_id:
        raise tk.Invalid(_l("Choose another open branch."), field="unit_id")
    if not (reason or "").strip():
        raise tk.Invalid(_l("Give the reason."), field="reason")
    old = case.unit
    case.unit_id, case.unit = unit.id, unit
    if case.host_unit_id == unit.id:
        case.host_unit_id, case.host_unit = None, None
    if case.stage not in ("probationary", "full"):
        case.member.home_unit_id = unit.id
    tk.audit("development.transfer", "development_case", case.id, unit_id=unit.id, from_unit=old.id,
             on=tk.isoformat(on), reason=reason.strip())
    _, accounts = tk.responsible_accounts(unit, "development.manage")
    tk.notify(accounts, _l("A development case was transferred to your branch"),
              _l("%(name)s: from %(unit)s.", name=case.member.name, unit=old.name), kind="development")
    db.session.commit()
    return case

