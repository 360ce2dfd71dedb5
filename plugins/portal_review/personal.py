"""What the annual review holds about a member (personal data export): their own entries.

Per round: the year, the branch, the self-assessment, the grade and the branch's feedback (once the results
are reported, as the member sees them), the improvement plan and handling steps recorded for them. Never the
ratings they gave: a rating is linked to no rater (see ``models``), so it is nobody's personal data; nor the
ratings they received, whose tallies are the branch's working material.
"""
from __future__ import annotations

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import lazy_gettext as _l

from .models import Handling, ImprovementPlan, ReviewEntry, ReviewRound
from .vocabulary import GRADE_LABELS, HANDLING_LABELS

db = tk.db

REPORTED = ("reported", "closed")


def _extras(entry_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """entry id → its plan and follow-ups as lines; entry id → its handling steps as lines (two queries)."""
    plans: dict[int, list[str]] = {}
    for plan in db.session.scalars(select(ImprovementPlan).where(ImprovementPlan.entry_id.in_(entry_ids))):
        plans[plan.entry_id] = [plan.plan] + [
            f"{step['due_on']}{' ✓ ' + step['done_on'] if step.get('done_on') else ''} {step.get('notes') or ''}".strip()
            for step in plan.follow_ups or []]
    handling: dict[int, list[str]] = {}
    for step in db.session.scalars(select(Handling).where(Handling.entry_id.in_(entry_ids))
                                   .order_by(Handling.decided_on, Handling.id)):
        until = f" – {step.until.isoformat()}" if step.until else ""
        handling.setdefault(step.entry_id, []).append(
            f"{step.decided_on.isoformat()}{until}: {tk.label(HANDLING_LABELS, step.kind)} {step.notes}".strip())
    return plans, handling


def _rows(member: tk.Member) -> list[dict]:
    """The member's entries, newest year first; grade and feedback only once the round is reported."""
    rows = db.session.execute(
        select(ReviewEntry, ReviewRound.year, ReviewRound.status, tk.OrgUnit.name)
        .join(ReviewRound, ReviewRound.id == ReviewEntry.round_id)
        .join(tk.OrgUnit, tk.OrgUnit.id == ReviewRound.unit_id)
        .where(ReviewEntry.member_id == member.id).order_by(ReviewRound.year.desc())).all()
    plans, handling = _extras([entry.id for entry, *_rest in rows]) if rows else ({}, {})
    out = []
    for entry, year, status, unit in rows:
        reported = status in REPORTED
        out.append({"year": year, "unit": unit, "self_text": entry.self_text,
                    "self_submitted_at": entry.self_submitted_at,
                    "grade": entry.grade if reported else None,
                    "feedback": entry.feedback if reported else "",
                    "plan": plans.get(entry.id, []) if reported else [],
                    "handling": handling.get(entry.id, []) if reported else []})
    return out


def personal_data(member: tk.Member) -> list[tk.PersonalSection]:
    """The member's review entries: self-assessment, grade, feedback, plan and handling (never ratings)."""
    return [tk.PersonalSection("review", _l("Annual review"), (
        ("year", _l("Year"), "number"), ("unit", _l("Branch")), ("self_text", _l("Self-assessment")),
        ("self_submitted_at", _l("Self-assessment submitted"), "datetime"),
        ("grade", _l("Grade"), "choice", GRADE_LABELS), ("feedback", _l("The branch's feedback")),
        ("plan", _l("Improvement plan"), "lines"), ("handling", _l("Handling steps"), "lines"),
    ), _rows(member))]
