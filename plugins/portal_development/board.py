"""For the branch and the committee: the pipeline board, the annual plan, the public-notice log, ``.xlsx`` rows
and the per-person record (纪实表) as PDF.

The board covers a unit's subtree: every open case kept there or hosted there (a worker away is on both
boards). Deadlines come from :func:`rules.deadlines` over :func:`rules.facts_for`, loaded for all the cases
at once, so a board costs a fixed number of statements however many cases it lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_development import rules
from portal_development.models import (
    STAGES, DevCase, Mentor, Objection, Plan, PublicNotice, StepRecord, Vetting, Vote,
)
from portal_development.settings import setting
from portal_development.vocabulary import (
    MENTOR_PLACE_LABELS, OUTCOME_LABELS, PLACE_LABELS, STAGE_LABELS, STEP_BY_CODE, VETTING_PART_LABELS,
    VOTE_KIND_LABELS,
)

db = tk.db
#: Cases whose facts are loaded together when a board is computed: a fixed number of queries per chunk,
#: bounded memory however large the subtree.
FACTS_CHUNK = 500


@dataclass
class Pipeline:
    """A unit's board: open cases per stage, what is overdue, what waits for the other place, probation endings."""

    stages: dict[str, int]
    overdue: list[tuple[DevCase, rules.Deadline]] = field(default_factory=list)
    waiting: list[tuple[DevCase, rules.Deadline]] = field(default_factory=list)
    probation_endings: list[DevCase] = field(default_factory=list)
    plan: Plan | None = None
    admitted_this_year: int = 0


def open_cases(ids: list[int]) -> list[DevCase]:
    """The open cases kept or hosted in the units ``ids``, by applied day (one statement)."""
    return list(db.session.scalars(
        select(DevCase).where(DevCase.closed_on.is_(None),
                              or_(DevCase.unit_id.in_(ids), DevCase.host_unit_id.in_(ids)))
        .order_by(DevCase.applied_on, DevCase.id)).unique())


def pipeline(unit: tk.OrgUnit, today: date) -> Pipeline:
    """The board of ``unit``'s subtree on ``today`` (local day)."""
    ids = tk.subtree_ids(unit)
    cases = open_cases(ids)
    board = Pipeline(stages={stage: 0 for stage in STAGES})
    window_end = today + timedelta(days=int(setting("probation_window_days")))
    # A county's board holds thousands of cases: their steps, votes and notices are loaded a chunk at a time
    # and let go after it (all at once, the organizer's dashboard once held 150 MiB of them in one worker).
    for start in range(0, len(cases), FACTS_CHUNK):
        chunk = cases[start:start + FACTS_CHUNK]
        facts = rules.facts_for(chunk, files=False)
        for case in chunk:
            _place(board, case, facts[case.id], today, window_end)
        del facts
    board.overdue.sort(key=lambda pair: (pair[1].due_on, pair[0].id))
    board.waiting.sort(key=lambda pair: (pair[1].due_on, pair[0].id))
    board.probation_endings.sort(key=lambda case: (case.probation_ends_on, case.id))
    board.plan = db.session.scalar(select(Plan).where(Plan.unit_id == unit.id, Plan.year == today.year))
    board.admitted_this_year = _admitted_in(ids, today.year)
    return board


def _place(board: Pipeline, case: DevCase, facts: rules.Facts, today: date, window_end: date) -> None:
    """Count ``case`` on ``board``: its stage, its overdue deadlines and waiting vetting, a probation ending soon."""
    board.stages[case.stage] = board.stages.get(case.stage, 0) + 1
    for deadline in _distinct(rules.deadlines(facts, today)):
        if deadline.overdue:
            board.overdue.append((case, deadline))
        if deadline.kind == "vetting":
            board.waiting.append((case, deadline))
    if case.stage == "probationary" and case.probation_ends_on and today <= case.probation_ends_on <= window_end:
        board.probation_endings.append(case)


def _distinct(deadlines: list[rules.Deadline]) -> list[rules.Deadline]:
    """One line per kind, side and day: the vetting parts asked of one side on one day are one wait."""
    seen: dict[tuple, rules.Deadline] = {}
    for deadline in deadlines:
        seen.setdefault((deadline.kind, deadline.side, deadline.due_on), deadline)
    return list(seen.values())


def _admitted_in(ids: list[int], year: int) -> int:
    """How many people the units ``ids`` admitted in ``year``: admission approved, the vote held that year.

    Counted where the case is kept (its plan), not where a worker away is hosted.
    """
    return db.session.scalar(select(func.count(DevCase.id)).where(
        DevCase.unit_id.in_(ids), DevCase.admitted_on.between(date(year, 1, 1), date(year, 12, 31)),
        DevCase.stage.in_(("probationary", "full")))) or 0


def save_plan(unit: tk.OrgUnit, year: int, target: int, notes: str, *, actor: tk.Account) -> Plan:
    """Set ``unit``'s development plan for ``year`` (created or replaced); commits.

    Kept by the unit's secretaries or the committee above (``development.manage`` or ``development.approve``).
    """
    if not (tk.can("development.manage", unit, account=actor) or tk.can("development.approve", unit, account=actor)):
        raise tk.Forbidden(_("You may not keep this unit's development plan."))
    errors = {}
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = _("Give a year between 2000 and 2100.")
    if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target <= 10000:
        errors["target"] = _("Give a whole number from 0 to 10000.")
    if errors:
        raise tk.Invalid(_("The plan could not be saved."), errors)
    plan = db.session.scalar(select(Plan).where(Plan.unit_id == unit.id, Plan.year == year))
    if plan is None:
        plan = Plan(unit_id=unit.id, year=year, target=target)
        db.session.add(plan)
    plan.target, plan.notes = target, (notes or "").strip()
    tk.audit("development.plan", "org_unit", unit.id, year=year, target=target)
    db.session.commit()
    return plan


# -- the public-notice log ------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeEntry:
    """A public notice of the log with its case (objections are on ``notice.objections``)."""

    notice: PublicNotice
    case: DevCase


def notice_log(unit: tk.OrgUnit, year: int) -> list[NoticeEntry]:
    """The public notices of cases kept or hosted in ``unit``'s subtree that started in ``year`` (open or closed
    cases alike), by start day; two statements."""
    ids = tk.subtree_ids(unit)
    rows = db.session.execute(
        select(PublicNotice, DevCase).join(DevCase, DevCase.id == PublicNotice.case_id)
        .where(or_(DevCase.unit_id.in_(ids), DevCase.host_unit_id.in_(ids)),
               PublicNotice.starts_on >= date(year, 1, 1), PublicNotice.starts_on <= date(year, 12, 31))
        .order_by(PublicNotice.starts_on, PublicNotice.id)).unique().all()
    notices = [notice for notice, _case in rows]
    _load_objections(notices)
    return [NoticeEntry(notice, case) for notice, case in rows]


def _load_objections(notices: list[PublicNotice]) -> None:
    """Fill every notice's objections with one statement (no lazy load per notice)."""
    if not notices:
        return
    by_notice: dict[int, list[Objection]] = {notice.id: [] for notice in notices}
    for objection in db.session.scalars(select(Objection).where(Objection.notice_id.in_(list(by_notice)))
                                        .order_by(Objection.id)):
        by_notice[objection.notice_id].append(objection)
    for notice in notices:  # loaded as committed: nothing is written back
        set_committed_value(notice, "objections", by_notice[notice.id])


def notice_rows(unit: tk.OrgUnit, year: int) -> list[tuple]:
    """The notice log as ``.xlsx`` rows: name, branch, place, from, until, posted at, objections, unresolved."""
    rows = []
    for entry in notice_log(unit, year):
        notice, case = entry.notice, entry.case
        objections = notice.objections
        rows.append((case.member.name, case.unit.name, tk.label(PLACE_LABELS, notice.place), notice.starts_on,
                     notice.ends_on, notice.posted_at or "", len(objections),
                     sum(1 for objection in objections if objection.resolved_on is None)))
    return rows


# -- the board as rows ----------------------------------------------------------------------

def board_rows(unit: tk.OrgUnit, today: date) -> list[tuple]:
    """Every open case of the board as an ``.xlsx`` row: name, branch, host branch, stage, applied, activist
    since, candidate since, admission vote, probation ends, the nearest deadline, its day, how many overdue."""
    cases = open_cases(tk.subtree_ids(unit))
    facts = rules.facts_for(cases, files=False)
    rows = []
    for case in cases:
        deadlines = sorted(rules.deadlines(facts[case.id], today), key=lambda deadline: deadline.due_on)
        nearest = deadlines[0] if deadlines else None
        rows.append((case.member.name, case.unit.name, case.host_unit.name if case.host_unit else "",
                     tk.label(STAGE_LABELS, case.stage), case.applied_on, case.activist_on, case.candidate_on,
                     case.admitted_on, case.probation_ends_on, str(nearest.label) if nearest else "",
                     nearest.due_on if nearest else None, sum(1 for deadline in deadlines if deadline.overdue)))
    return rows


# -- the record (纪实表) ----------------------------------------------------------------------

X, WIDTH = 20, 170


def record_pdf(case: DevCase) -> bytes:
    """The per-person record (纪实表) of ``case`` as PDF: the person (ID number masked), stage, every step with
    its number, date, actor and notes, mentors, assessments, vetting findings, notices with objections and
    vote tallies. Whoever may see the case may have it (the caller checks)."""
    pdf = tk.new_pdf()
    pdf.set_font_size(16)
    tk.write_lines(pdf, X, WIDTH, 10, _("Development record"), align="C")
    pdf.set_font_size(11)
    for line in _person_lines(case):
        tk.write_lines(pdf, X, WIDTH, 6.5, line)
    facts = rules.facts_for([case])[case.id]
    _section(pdf, _("Steps"), _step_lines(facts.steps))
    _section(pdf, _("Mentors"), _mentor_lines(facts.mentors))
    _section(pdf, _("Assessments"), [_dated(step) for step in facts.steps if step.code == "assessment"])
    _section(pdf, _("Vetting"), _vetting_lines(facts.vettings))
    _section(pdf, _("Public notices"), _notice_lines(facts.notices))
    _section(pdf, _("Votes"), _vote_lines(facts.votes))
    return bytes(pdf.output())


def _section(pdf, title: str, lines: list[str]) -> None:
    pdf.ln(2)
    pdf.set_font_size(13)
    tk.write_lines(pdf, X, WIDTH, 8, title)
    pdf.set_font_size(10.5)
    for line in lines or ["—"]:
        tk.write_lines(pdf, X, WIDTH, 6, line)


def _person_lines(case: DevCase) -> list[str]:
    member = case.member
    lines = [_("Name: %(name)s", name=member.name),
             _("ID number: %(number)s", number=member.masked_id_number or "—"),
             _("Branch: %(unit)s", unit=case.unit.name)]
    if case.host_unit:
        lines.append(_("Host branch: %(unit)s", unit=case.host_unit.name))
    if case.household_place:
        lines.append(_("Household registration: %(place)s", place=case.household_place))
    if case.workplace:
        lines.append(_("Workplace: %(place)s", place=case.workplace))
    lines.append(_("Stage: %(stage)s", stage=tk.label(STAGE_LABELS, case.stage)))
    if case.outcome:
        lines.append(_("Outcome: %(outcome)s (%(day)s)", outcome=tk.label(OUTCOME_LABELS, case.outcome),
                       day=_day(case.closed_on)))
    lines.append(_("Applied: %(day)s", day=_day(case.applied_on)))
    if case.probation_ends_on:
        lines.append(_("Probation ends: %(day)s", day=_day(case.probation_ends_on)))
    return lines


def _step_lines(steps: list[StepRecord]) -> list[str]:
    accounts = _account_names({step.actor_account_id for step in steps})
    units = _unit_names({step.unit_id for step in steps})
    lines = []
    for step in steps:
        known = STEP_BY_CODE.get(step.code)
        number = known.number if known else 0
        label = str(known.label) if known else step.code
        who = accounts.get(step.actor_account_id, "—")
        if step.unit_id in units:
            who = f"{who}（{units[step.unit_id]}）"
        line = _("%(number)s. %(step)s — %(day)s — %(who)s", number=number, step=label, day=_day(step.taken_on),
                 who=who)
        lines.append(line + (f"\n    {step.notes}" if step.notes else ""))
    return lines


def _dated(step: StepRecord) -> str:
    return f"{_day(step.taken_on)}: {step.notes or '—'}"


def _mentor_lines(mentors: list[Mentor]) -> list[str]:
    lines = []
    for mentor in mentors:
        line = _("%(name)s, %(place)s, from %(day)s", name=mentor.member.name,
                 place=tk.label(MENTOR_PLACE_LABELS, mentor.place), day=_day(mentor.assigned_on))
        if mentor.ended_on:
            line += " " + _("until %(day)s", day=_day(mentor.ended_on))
        lines.append(line)
    return lines


def _vetting_lines(vettings: list[Vetting]) -> list[str]:
    lines = []
    for vetting in sorted(vettings, key=lambda vetting: (vetting.requested_on, vetting.id)):
        head = _("%(part)s (%(side)s), asked %(asked)s, due %(due)s", part=tk.label(VETTING_PART_LABELS, vetting.part),
                 side=tk.label(PLACE_LABELS, vetting.side), asked=_day(vetting.requested_on), due=_day(vetting.due_on))
        if vetting.recorded_on:
            lines.append(head + "\n    " + _("Findings of %(day)s: %(text)s", day=_day(vetting.recorded_on),
                                               text=vetting.findings or ""))
        else:
            lines.append(head + "\n    " + _("Waiting for the findings."))
    return lines


def _notice_lines(notices: list[PublicNotice]) -> list[str]:
    lines = []
    for notice in notices:
        lines.append(_("%(place)s: %(start)s – %(end)s, %(where)s", place=tk.label(PLACE_LABELS, notice.place),
                       start=_day(notice.starts_on), end=_day(notice.ends_on), where=notice.posted_at or "—"))
        for objection in notice.objections:
            text = _("Objection of %(day)s: %(body)s", day=_day(objection.received_on), body=objection.body)
            if objection.resolved_on:
                text += "\n    " + _("Resolved %(day)s: %(text)s", day=_day(objection.resolved_on),
                                     text=objection.resolution or "")
            else:
                text += "\n    " + _("Not resolved.")
            lines.append("    " + text)
    return lines


def _vote_lines(votes: list[Vote]) -> list[str]:
    lines = []
    for vote in votes:
        result = _("passed") if vote.passed else (_("not passed") if vote.quorate else _("not quorate"))
        lines.append(_("%(kind)s, %(day)s: entitled %(entitled)s, present %(present)s (by video %(video)s), "
                       "ballots %(issued)s issued / %(returned)s returned; for %(yes)s, against %(no)s, "
                       "abstaining %(abstain)s; written opinions: for %(wyes)s, against %(wno)s, abstaining "
                       "%(wabstain)s — %(result)s",
                       kind=tk.label(VOTE_KIND_LABELS, vote.kind), day=_day(vote.held_on), entitled=vote.entitled,
                       present=vote.present, video=vote.by_video, issued=vote.ballots_issued,
                       returned=vote.ballots_returned, yes=vote.yes, no=vote.no, abstain=vote.abstain,
                       wyes=vote.written_yes, wno=vote.written_no, wabstain=vote.written_abstain, result=result))
    return lines


def _account_names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(tk.Account.id, tk.Account.display_name).where(tk.Account.id.in_(ids))).all())


def _unit_names(ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.name).where(tk.OrgUnit.id.in_(ids))).all())


def _day(day: date | None) -> str:
    return day.isoformat() if day else "—"
