"""What development holds about a member (personal data export): their cases and the steps recorded on them.

Like the person's own page, the export leaves out what others found or said about them (vetting findings,
objections to a public notice, the tallies of votes): those stay with the branch and the committee.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal import toolkit as tk
from portal.toolkit import lazy_gettext as _l
from portal_development.models import DevCase, StepRecord
from portal_development.vocabulary import OUTCOME_LABELS, STAGE_LABELS, STEP_LABELS


def _rows(query) -> list[dict]:
    """The rows of ``query`` as dicts keyed by its labels."""
    return [dict(row._mapping) for row in tk.db.session.execute(query)]


def _cases(member_id: int) -> list[dict]:
    host = aliased(tk.OrgUnit)
    return _rows(select(DevCase.applied_on, tk.OrgUnit.name.label("unit"), host.name.label("host_unit"),
                        DevCase.household_place, DevCase.workplace, DevCase.stage, DevCase.activist_on,
                        DevCase.candidate_on, DevCase.admitted_on, DevCase.probation_ends_on,
                        DevCase.extended_months, DevCase.full_on, DevCase.outcome, DevCase.closed_on,
                        DevCase.closed_reason)
                 .join(tk.OrgUnit, tk.OrgUnit.id == DevCase.unit_id)
                 .outerjoin(host, host.id == DevCase.host_unit_id)
                 .where(DevCase.member_id == member_id).order_by(DevCase.applied_on.desc(), DevCase.id.desc()))


def _steps(member_id: int) -> list[dict]:
    return _rows(select(DevCase.applied_on, StepRecord.code, StepRecord.taken_on, StepRecord.notes,
                        StepRecord.created_at)
                 .join(DevCase, DevCase.id == StepRecord.case_id)
                 .where(DevCase.member_id == member_id)
                 .order_by(DevCase.applied_on.desc(), StepRecord.taken_on, StepRecord.id))


def personal_data(member) -> list[tk.PersonalSection]:
    """The member's development cases (stage, dates, outcome) and every step recorded on them."""
    return [
        tk.PersonalSection("cases", _l("My development cases"), (
            ("applied_on", _l("Applied on"), "date"), ("unit", _l("Branch")), ("host_unit", _l("Host branch")),
            ("household_place", _l("Household registration")), ("workplace", _l("Workplace")),
            ("stage", _l("Stage"), "choice", STAGE_LABELS), ("activist_on", _l("Activist since"), "date"),
            ("candidate_on", _l("Candidate since"), "date"), ("admitted_on", _l("Admission vote"), "date"),
            ("probation_ends_on", _l("Probation ends on"), "date"),
            ("extended_months", _l("Probation extended by (months)"), "number"),
            ("full_on", _l("Full member since"), "date"), ("outcome", _l("Outcome"), "choice", OUTCOME_LABELS),
            ("closed_on", _l("Closed on"), "date"), ("closed_reason", _l("Reason closed")),
        ), _cases(member.id)),
        tk.PersonalSection("steps", _l("Steps of my development"), (
            ("applied_on", _l("Case applied on"), "date"), ("code", _l("Step"), "choice", STEP_LABELS),
            ("taken_on", _l("Taken on"), "date"), ("notes", _l("Notes")), ("created_at", _l("Recorded"), "datetime"),
        ), _steps(member.id)),
    ]
