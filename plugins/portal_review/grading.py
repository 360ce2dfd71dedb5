"""Grades and what follows them: the committee's proposal, the assembly's decision (with the one-third check and,
for members away, the host branch's opinion), the reason for more excellent than the normal share, the
improvement plan of a basically qualified member, the handling steps of an unqualified one and the feedback.

Nothing here is automatic: no stage changes, no removal — every step is a record the branch makes. Nobody acts on
their own entry (``tk.require_acting_on``). Every service is a whole action and commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_review import results, rounds
from portal_review.models import GRADES, HANDLING_KINDS, Handling, HostOpinion, ImprovementPlan, ReviewEntry, ReviewRound

db = tk.db
#: Steps in which the committee may still propose a grade.
PROPOSE_STEPS = ("study", "self", "mutual", "grading")
#: Steps in which a plan, a handling step or feedback is recorded (follow-up continues after the report).
AFTER_GRADING = ("grading", "reported", "closed")
MAX_TEXT = 5000


@dataclass
class Decision:
    """A decided grade and where the round stands on the one-third check."""

    entry: ReviewEntry
    excellent_count: int
    full_count: int
    exceeds_one_third: bool


def _act_on(entry: ReviewEntry, actor) -> None:
    """The actor runs the entry's round and the entry is not their own (NotFound / Forbidden)."""
    rounds.require_manager(entry.round, actor)
    tk.require_acting_on(entry.member, "review.manage", entry.round.unit, account=actor)


def _check_grade(entry: ReviewEntry, grade: Any) -> str:
    if grade not in GRADES:
        raise tk.Invalid(_l("Choose a grade."), field="grade")
    if not results.is_gradable(entry):
        raise tk.Conflict(_l("Probationary members take part in the review but receive no grade."), field="grade")
    return grade


def _text(value: Any, field: str, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None or len(text) > MAX_TEXT:
        raise tk.Invalid(_("At most %(n)s characters.", n=MAX_TEXT), field=field)
    if required and not text:
        raise tk.Invalid(_l("This field is required."), field=field)
    return text


def propose(entry: ReviewEntry, grade: Any, *, actor, reason: str = "", now: datetime | None = None) -> ReviewEntry:
    """Record the branch committee's proposed grade for ``entry`` (before the assembly decides)."""
    _act_on(entry, actor)
    if entry.round.status not in PROPOSE_STEPS:
        raise tk.Conflict(_l("The grades have been reported: nothing more is proposed."))
    entry.proposed_grade = _check_grade(entry, grade)
    entry.proposed_by_account_id = getattr(actor, "id", None)
    entry.proposed_at = now or tk.utcnow()
    tk.audit("review.propose", "review_entry", entry.id, unit_id=entry.round.unit_id,
             actor_account_id=getattr(actor, "id", None), grade=grade, reason=_text(reason, "reason"))
    db.session.commit()
    return entry


def decide(entry: ReviewEntry, grade: Any, *, actor, reason: str = "", on: date | None = None,
           now: datetime | None = None) -> Decision:
    """Record the branch assembly's grade for ``entry`` (only while the round is grading). For a member away the
    host branch's opinion with a proposed grade is needed first, unless ``reason`` says why not (Conflict with
    ``details={"missing": ["host_opinion"]}``). More excellent than the normal share is allowed: the Decision
    says so and the report upward needs a reason (:func:`set_excellent_reason`)."""
    _act_on(entry, actor)
    if entry.round.status != "grading":
        raise tk.Conflict(_l("Grades are decided while the review is at the grading step."))
    _check_grade(entry, grade)
    reason = _text(reason, "reason")
    if entry.host_unit_id is not None and not reason and not _host_proposed(entry):
        raise tk.Conflict(_l("The host branch has not given its opinion yet: wait for it or give the reason."),
                          field="reason", details={"missing": ["host_opinion"]})
    entry.grade, entry.grade_reason = grade, reason
    entry.decided_on = on or tk.local_today(now)
    entry.decided_by_account_id = getattr(actor, "id", None)
    tk.audit("review.grade", "review_entry", entry.id, unit_id=entry.round.unit_id,
             actor_account_id=getattr(actor, "id", None), grade=grade)
    db.session.commit()
    found = results.counts(entry.round)
    return Decision(entry=entry, excellent_count=found.counts["excellent"], full_count=found.full_count,
                    exceeds_one_third=found.exceeds_one_third)


def _host_proposed(entry: ReviewEntry) -> bool:
    return db.session.scalar(select(HostOpinion.id).where(
        HostOpinion.entry_id == entry.id, HostOpinion.submitted_at.is_not(None),
        HostOpinion.proposed_grade.is_not(None))) is not None


def warning(decision: Decision) -> str | None:
    """The one-third warning for ``decision`` in the reader's language, or None within the share."""
    if not decision.exceeds_one_third:
        return None
    return _("%(excellent)s of %(full)s members are graded excellent, more than the normal share: "
             "give the reason before reporting upward.", excellent=decision.excellent_count,
             full=decision.full_count)


def set_excellent_reason(round_: ReviewRound, reason: Any, *, actor) -> ReviewRound:
    """Record why more than the normal share are graded excellent (empty clears it)."""
    rounds.require_manager(round_, actor)
    if round_.status != "grading":
        raise tk.Conflict(_l("Grades are decided while the review is at the grading step."))
    round_.excellent_reason = _text(reason, "excellent_reason") or None
    tk.audit("review.excellent_reason", "review_round", round_.id, unit_id=round_.unit_id,
             actor_account_id=getattr(actor, "id", None))
    db.session.commit()
    return round_


def save_plan(entry: ReviewEntry, plan: Any, follow_ups: Any, *, actor) -> ImprovementPlan:
    """Create or replace the improvement plan of a basically qualified member: the plan and at least one
    follow-up ``{"due_on", "done_on", "notes"}`` (days as dates or ``YYYY-MM-DD``)."""
    _act_on(entry, actor)
    if entry.grade != "basic":
        raise tk.Conflict(_l("An improvement plan is for a member graded basically qualified."))
    text = _text(plan, "plan", required=True)
    steps = _follow_ups(follow_ups)
    record = db.session.scalar(select(ImprovementPlan).where(ImprovementPlan.entry_id == entry.id))
    if record is None:
        record = ImprovementPlan(entry_id=entry.id, created_by_account_id=getattr(actor, "id", None))
        db.session.add(record)
    record.plan, record.follow_ups = text, steps
    tk.audit("review.plan", "review_entry", entry.id, unit_id=entry.round.unit_id,
             actor_account_id=getattr(actor, "id", None))
    db.session.commit()
    return record


def _follow_ups(value: Any) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise tk.Invalid(_l("Give at least one follow-up date."), field="follow_ups")
    steps = []
    for item in value:
        if not isinstance(item, dict):
            raise tk.Invalid(_l("Give at least one follow-up date."), field="follow_ups")
        due, done = _day(item.get("due_on")), _day(item.get("done_on"))
        if due is None:
            raise tk.Invalid(_l("Every follow-up needs a date."), field="follow_ups")
        steps.append({"due_on": due.isoformat(), "done_on": done.isoformat() if done else None,
                      "notes": _text(item.get("notes"), "follow_ups")})
    return sorted(steps, key=lambda step: step["due_on"])


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise tk.Invalid(_l("Enter a date as YYYY-MM-DD."), field="follow_ups") from None


def plan_of(entry: ReviewEntry) -> ImprovementPlan | None:
    """The improvement plan of ``entry``, if any."""
    return db.session.scalar(select(ImprovementPlan).where(ImprovementPlan.entry_id == entry.id))


def record_handling(entry: ReviewEntry, kind: Any, *, actor, decided_on: date, until: date | None = None,
                    notes: str = "") -> Handling:
    """Record a handling step decided for an unqualified member (a limited-time correction needs ``until``).
    Recorded only: the member's record is not changed."""
    _act_on(entry, actor)
    if entry.grade != "unqualified":
        raise tk.Conflict(_l("Handling steps are for a member graded unqualified."))
    if kind not in HANDLING_KINDS:
        raise tk.Invalid(_l("Choose a handling step."), field="kind")
    if not isinstance(decided_on, date):
        raise tk.Invalid(_l("Enter a date."), field="decided_on")
    if kind == "correction" and (not isinstance(until, date) or until < decided_on):
        raise tk.Invalid(_l("A correction needs the day it must be done by."), field="until")
    step = Handling(entry_id=entry.id, kind=kind, decided_on=decided_on,
                    until=until if kind == "correction" else None, notes=_text(notes, "notes"),
                    recorded_by_account_id=getattr(actor, "id", None))
    db.session.add(step)
    tk.audit("review.handling", "review_entry", entry.id, unit_id=entry.round.unit_id,
             actor_account_id=getattr(actor, "id", None), kind=kind)
    db.session.commit()
    return step


def handling_of(entry: ReviewEntry) -> list[Handling]:
    """The handling steps recorded for ``entry``, oldest first."""
    return list(db.session.scalars(select(Handling).where(Handling.entry_id == entry.id)
                                   .order_by(Handling.decided_on, Handling.id)))


def set_feedback(entry: ReviewEntry, text: Any, *, actor) -> ReviewEntry:
    """Record the branch's feedback to the member (shown to them once the results are reported)."""
    _act_on(entry, actor)
    if entry.round.status not in AFTER_GRADING:
        raise tk.Conflict(_l("Feedback is given once the review is at the grading step."))
    entry.feedback = _text(text, "feedback")
    tk.audit("review.feedback", "review_entry", entry.id, unit_id=entry.round.unit_id,
             actor_account_id=getattr(actor, "id", None))
    db.session.commit()
    return entry
