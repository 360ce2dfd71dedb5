"""What standing holds about a member (personal data export): leave, work done, talks, steps told and cases.

The months themselves are never stored (they are computed from the activity stream), so the export
holds only what people recorded and what the member was told.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l

from . import clock, vocabulary
from .models import Case, Leave, StepNotice, Talk, WorkDone

STEP_LABELS = {"none": _l("None"), "reminder": _l("Reminder"), "talk": _l("Talk"), "notice": _l("Written notice"),
               "case": _l("Case for the branch assembly")}
CASE_STATE_LABELS = {"open": _l("Open"), "decided": _l("Decided by the branch assembly"),
                     "approved": _l("Approved by the upper committee"), "closed": _l("Closed")}


def _rows(query) -> list[dict]:
    """The rows of ``query`` as dicts keyed by its labels."""
    return [dict(row._mapping) for row in tk.db.session.execute(query)]


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's approved leave, work done, talks held with them, steps told and cases (with decisions)."""
    mid = member.id
    return [
        tk.PersonalSection("leave", _l("Approved leave"), (
            ("starts_on", _l("From"), "date"), ("ends_on", _l("Until"), "date"), ("reason", _l("Reason")),
            ("created_at", _l("Recorded"), "datetime"),
        ), _rows(select(Leave.starts_on, Leave.ends_on, Leave.reason, Leave.created_at)
                 .where(Leave.member_id == mid).order_by(Leave.starts_on.desc(), Leave.id.desc()))),
        tk.PersonalSection("work", _l("Assigned work done"), (
            ("done_on", _l("Done on"), "date"), ("description", _l("Work")),
            ("created_at", _l("Recorded"), "datetime"),
        ), _rows(select(WorkDone.done_on, WorkDone.description, WorkDone.created_at)
                 .where(WorkDone.member_id == mid).order_by(WorkDone.done_on.desc(), WorkDone.id.desc()))),
        tk.PersonalSection("talks", _l("Talks held with me"), (
            ("held_on", _l("Held on"), "date"), ("notes", _l("Notes")), ("created_at", _l("Recorded"), "datetime"),
        ), _rows(select(Talk.held_on, Talk.notes, Talk.created_at)
                 .where(Talk.member_id == mid).order_by(Talk.held_on.desc(), Talk.id.desc()))),
        tk.PersonalSection("steps", _l("Steps I was told of"), (
            ("since", _l("Without since"), "date"), ("step", _l("Step"), "choice", STEP_LABELS),
            ("created_at", _l("Told"), "datetime"),
        ), _rows(select(StepNotice.since, StepNotice.step, StepNotice.created_at)
                 .where(StepNotice.member_id == mid).order_by(StepNotice.created_at.desc(), StepNotice.id.desc()))),
        tk.PersonalSection("cases", _l("Cases for the branch assembly"), (
            ("since", _l("Without since"), "date"), ("reasons", _l("Months without when opened"), "lines"),
            ("state", _l("Status"), "choice", CASE_STATE_LABELS), ("opened_at", _l("Opened"), "datetime"),
            ("decision", _l("Branch assembly's decision")), ("decided_on", _l("Decided on"), "date"),
            ("approval", _l("Upper committee's approval")), ("approved_on", _l("Approved on"), "date"),
            ("closed_reason", _l("Reason closed")), ("closed_at", _l("Closed"), "datetime"),
        ), _rows(select(Case.since, Case.reasons, Case.state, Case.opened_at, Case.decision, Case.decided_on,
                        Case.approval, Case.approved_on, Case.closed_reason, Case.closed_at)
                 .where(Case.member_id == mid).order_by(Case.opened_at.desc(), Case.id.desc()))),
    ]


def review_evidence(member, since: date, until: date) -> dict | None:
    """The annual review's standing evidence as of the end of local day ``until``: the step and months without.

    None for a member the rule does not count (applicants, activists).
    """
    end = tk.local_day_bounds(until)[1]  # the end of local day ``until``: acts after it do not count
    standing = clock.standing_of(member, end - timedelta(seconds=1), until=end)
    if standing is None:
        return None
    months = {dim: value for dim, value in standing.months_without.items() if value is not None}
    lines = [(_("Standing step"), str(vocabulary.STEP_LABELS[standing.step]))]
    lines += [(_("Months without: %(dimension)s", dimension=vocabulary.DIMENSION_LABELS[dim]), value)
              for dim, value in months.items()]
    return {"key": "standing", "label": _l("Standing"),
            "figures": {"step": standing.step, "months_without": months}, "lines": lines}
