"""The rules of development (BRANCH-LIFE.md (d)): what a step needs first, and which time limits run.

Everything here reads; nothing writes. :func:`facts_for` loads what the rules look at for many cases in a
fixed number of queries; :func:`missing_for` names every unmet prerequisite of a step on a day (with the
figures and dates that make it unmet); :func:`deadlines` lists the running time limits of a case. Every
"within / after N months" rule uses ``tk.months_later`` (same day N months on, clamped to a month's end).

Working days are Monday to Friday: the portal does not know public holidays, so a notice over a holiday
must be set longer by hand (its end day can be chosen).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_development.models import DevCase, Mentor, PublicNotice, StepRecord, Vetting, Vote
from portal_development.settings import setting
from portal_development.vocabulary import PLACE_LABELS, STEP_BY_CODE, STEP_LABELS, VETTING_PART_LABELS

#: Steps whose prerequisites are only other steps having been recorded (the common case).
REQUIRES: dict[str, tuple[str, ...]] = {
    "application": (),
    "talk": ("application",),
    "activist_decision": ("application", "talk"),
    "activist_filing": ("activist_decision",),
    "mentors_assigned": ("activist_decision",),
    "assessment": ("mentors_assigned",),
    "candidate_decision": ("activist_filing", "mentors_assigned"),
    "candidate_filing": ("candidate_decision",),
    "introducers": ("candidate_decision",),
    "political_review": ("candidate_decision",),
    "training": ("candidate_decision",),
    "branch_review": ("candidate_filing", "introducers", "political_review"),
    "committee_prereview": ("branch_review",),
    "application_form": ("committee_prereview",),
    "admission_vote": ("application_form",),
    "committee_talk": (),
    "admission_approval": ("committee_talk",),
    "admission_filing": ("admission_approval",),
    "group_assignment": ("admission_approval",),
    "oath": ("admission_approval",),
    "probation_education": ("admission_approval",),
    "conversion_application": ("admission_approval",),
    "conversion_vote": ("conversion_application", "group_assignment", "oath"),
    "conversion_approval": (),
    "archive": (),
}
#: Steps of the conversion cycle: after an extension of probation they are taken again.
CONVERSION_STEPS = ("conversion_application", "conversion_vote", "conversion_approval")
#: Steps that may be recorded again although not repeatable: a failed vote may be held again.
REVOTE_STEPS = ("admission_vote", "conversion_vote")

DEADLINE_LABELS = {
    "talk": _l("Talk with the applicant"),
    "assessment": _l("Half-yearly assessment by the mentors"),
    "committee_prereview": _l("Pre-review by the committee"),
    "vetting": _l("Vetting findings from the other branch"),
    "notice_objection": _l("Resolve the objection to the public notice"),
    "admission_approval": _l("Committee approval of the admission"),
    "conversion_application": _l("Application for full membership"),
    "conversion_vote": _l("Branch assembly vote on full membership"),
    "conversion_approval": _l("Committee approval of full membership"),
}


@dataclass(frozen=True)
class Missing:
    """One unmet prerequisite: a stable ``code`` (a step code, or a rule's code) and a translated message."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The API's shape: ``{"code", "message"}``."""
        return {"code": self.code, "message": str(self.message)}


@dataclass(frozen=True)
class Deadline:
    """A running time limit of a case: what, until when, which side must act, and whether it has passed."""

    kind: str
    due_on: date
    side: str
    label: Any
    overdue: bool


@dataclass
class Facts:
    """What the rules read about one case, loaded by :func:`facts_for`."""

    case: DevCase
    steps: list[StepRecord] = field(default_factory=list)
    mentors: list[Mentor] = field(default_factory=list)
    vettings: list[Vetting] = field(default_factory=list)
    notices: list[PublicNotice] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    training_hours: int = 0

    def steps_of(self, code: str) -> list[StepRecord]:
        """The records of one step, oldest first; conversion steps only of the current cycle."""
        records = [step for step in self.steps if step.code == code]
        extension = self.extension()
        if extension is not None and code in CONVERSION_STEPS:
            records = [step for step in records
                       if step.id != extension.id and step.taken_on > extension.taken_on]
        return records

    def last(self, code: str) -> StepRecord | None:
        """The latest record of a step (of the current cycle), or None."""
        records = self.steps_of(code)
        return records[-1] if records else None

    def has(self, code: str) -> bool:
        """Whether the step is recorded (in the current cycle for conversion steps)."""
        return bool(self.steps_of(code))

    def extension(self) -> StepRecord | None:
        """The conversion approval that extended probation (once only), or None."""
        return next((step for step in self.steps if step.code == "conversion_approval"
                     and (step.data or {}).get("outcome") == "extend"), None)

    def last_vote(self, kind: str) -> Vote | None:
        """The latest vote of a kind; a conversion vote only of the current cycle."""
        votes = [vote for vote in self.votes if vote.kind == kind]
        extension = self.extension()
        if kind == "conversion" and extension is not None:
            votes = [vote for vote in votes if vote.held_on > extension.taken_on]
        return votes[-1] if votes else None

    def passed_vote(self, kind: str) -> Vote | None:
        """The latest passed vote of a kind (current cycle for conversion), or None."""
        vote = self.last_vote(kind)
        return vote if vote is not None and vote.passed else None

    def active_mentors(self) -> list[Mentor]:
        """Mentors not ended."""
        return [mentor for mentor in self.mentors if mentor.ended_on is None]


def facts_for(cases: list[DevCase], *, files: bool = True) -> dict[int, Facts]:
    """Facts of many cases in a fixed number of queries (steps, mentors, vetting, notices, votes, training).

    ``files=False``: the steps' documents are not loaded with them (deadlines do not read them; a board of many
    cases would build an empty list per step).
    """
    from portal_development import training  # training reads the activity stream; it imports these rules

    facts = {case.id: Facts(case=case) for case in cases}
    if not facts:
        return facts
    ids = list(facts)
    steps = select(StepRecord).where(StepRecord.case_id.in_(ids)).order_by(StepRecord.taken_on, StepRecord.id)
    for step in tk.db.session.scalars(steps.options(joinedload(StepRecord.files)) if files else steps).unique():
        facts[step.case_id].steps.append(step)
    for mentor in tk.db.session.scalars(select(Mentor).where(Mentor.case_id.in_(ids)).order_by(Mentor.id)):
        facts[mentor.case_id].mentors.append(mentor)
    for vetting in tk.db.session.scalars(select(Vetting).where(Vetting.case_id.in_(ids)).order_by(Vetting.id)):
        facts[vetting.case_id].vettings.append(vetting)
    for notice in tk.db.session.scalars(select(PublicNotice).where(PublicNotice.case_id.in_(ids))
                                        .options(joinedload(PublicNotice.objections))
                                        .order_by(PublicNotice.starts_on, PublicNotice.id)).unique():
        facts[notice.case_id].notices.append(notice)
    for vote in tk.db.session.scalars(select(Vote).where(Vote.case_id.in_(ids)).order_by(Vote.held_on, Vote.id)):
        facts[vote.case_id].votes.append(vote)
    steps = [step for fact in facts.values() for step in fact.steps]
    for case_id, hours in training.hours_for(cases, steps).items():
        if case_id in facts:
            facts[case_id].training_hours = hours
    return facts


def check_day(on: date, earliest: date, *, field: str = "on", today: date | None = None) -> None:
    """Refuse (Invalid on ``field``) a day after today or before ``earliest`` — the one check of every day
    a step, a mentor, a vetting answer, a notice or an objection is recorded on."""
    if on > (today or tk.local_today()):
        raise tk.Invalid(_("The date cannot be in the future."), field=field)
    if on < earliest:
        raise tk.Invalid(_("The date cannot be before %(day)s.", day=tk.fmt_date(earliest)), field=field)


def working_days(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both included (0 when ``end`` is before ``start``)."""
    if end < start:
        return 0
    weeks, extra = divmod((end - start).days + 1, 7)
    return weeks * 5 + sum(1 for offset in range(extra) if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5)


def notice_end(start: date, n: int) -> date:
    """The day on which the ``n``-th working day counted from ``start`` (included) falls."""
    day, counted = start, 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted >= n:
                return day
        day += timedelta(days=1)


def missing_for(facts: Facts, code: str, on: date, data: dict | None = None, special: bool = False) -> list[Missing]:
    """Every unmet prerequisite of recording step ``code`` on day ``on`` (empty: it may be recorded)."""
    data = data or {}
    missing = [_missing_step(required) for required in REQUIRES[code] if not facts.has(required)]
    check = _CHECKS.get(code)
    if check is not None:
        missing.extend(check(facts, on, data, special))
    return missing


def _missing_step(code: str) -> Missing:
    return Missing(code, _("Step %(number)d is not recorded yet: %(step)s.",
                           number=STEP_BY_CODE[code].number, step=STEP_LABELS[code]))


def _day(value: date) -> str:
    return tk.fmt_date(value)


def _candidate_decision(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    missing = []
    done, needed = len(facts.steps_of("assessment")), setting("min_assessments")
    if done < needed:
        missing.append(Missing("assessment", _("%(done)d of the %(needed)d assessments by the mentors are recorded.",
                                               done=done, needed=needed)))
    activist_on = facts.case.activist_on
    if activist_on is not None:
        months = setting("activist_months")
        possible = tk.months_later(activist_on, months)
        if on < possible:
            missing.append(Missing("activist_months", _(
                "An activist becomes a candidate after %(months)d months as an activist (since %(since)s): "
                "possible from %(day)s.", months=months, since=_day(activist_on), day=_day(possible))))
    return missing


def _political_review(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    if facts.case.host_unit_id is None:
        return []
    wanted = (("host", "person"), ("home", "relatives"))
    answered = {(v.side, v.part) for v in facts.vettings if v.recorded_on is not None}
    gaps = [f"{VETTING_PART_LABELS[part]} ({PLACE_LABELS[side]})" for side, part in wanted
            if (side, part) not in answered]
    if not gaps:
        return []
    return [Missing("vetting", _("Vetting findings are not recorded yet: %(parts)s.", parts="; ".join(gaps)))]


def _branch_review(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    hours_needed = setting("training_hours")
    days_needed, per_day = setting("training_days"), setting("hours_per_day")
    done = facts.training_hours
    if done >= hours_needed or done >= days_needed * per_day:
        return []
    return [Missing("training", _(
        "Training: %(done)d hours done, %(needed)d hours (or %(days)d days of %(per_day)d hours) needed.",
        done=done, needed=hours_needed, days=days_needed, per_day=per_day))]


def _admission_vote(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    missing = []
    places = ("home", "host") if facts.case.host_unit_id is not None else ("home",)
    needed_days = setting("notice_working_days")
    for place in places:
        notices = [notice for notice in facts.notices if notice.place == place]
        if not notices:
            missing.append(Missing("notice_open", _("No public notice in the %(place)s yet.",
                                                    place=str(PLACE_LABELS[place]).lower())))
            continue
        notice = notices[-1]
        if notice.ends_on >= on:
            missing.append(Missing("notice_open", _(
                "The public notice in the %(place)s runs until %(end)s: the vote is possible from %(day)s.",
                place=str(PLACE_LABELS[place]).lower(), end=_day(notice.ends_on),
                day=_day(notice.ends_on + timedelta(days=1)))))
        days = working_days(notice.starts_on, notice.ends_on)
        if days < needed_days:
            missing.append(Missing("notice_short", _(
                "The public notice in the %(place)s lasted %(days)d working days; at least %(needed)d are needed.",
                place=str(PLACE_LABELS[place]).lower(), days=days, needed=needed_days)))
        open_objections = [o for o in notice.objections if o.resolved_on is None]
        if open_objections:
            missing.append(Missing("notice_objection", _(
                "%(n)d objection(s) to the public notice in the %(place)s are not resolved (received %(day)s).",
                n=len(open_objections), place=str(PLACE_LABELS[place]).lower(),
                day=_day(open_objections[0].received_on))))
    review = facts.last("political_review")
    if review is not None:
        months = setting("review_valid_months")
        valid_until = tk.months_later(review.taken_on, months)
        if on > valid_until:
            missing.append(Missing("review_expired", _(
                "The political review of %(day)s was valid for %(months)d months, until %(until)s: review again.",
                day=_day(review.taken_on), months=months, until=_day(valid_until))))
    return missing


def _within(facts: Facts, kind: str, on: date, special: bool) -> list[Missing]:
    """A passed vote, and ``on`` within the approval months of it (special: the longer limit)."""
    vote = facts.passed_vote(kind)
    if vote is None:
        return [Missing(f"{kind}_vote", _("No passed vote of the branch assembly is recorded."))]
    months = setting("approval_months_special" if special else "approval_months")
    latest = tk.months_later(vote.held_on, months)
    if on > latest:
        return [Missing("approval_late", _(
            "The committee approves within %(months)d months of the vote of %(vote)s, that is by %(day)s.",
            months=months, vote=_day(vote.held_on), day=_day(latest)))]
    return []


def _committee_talk(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    if facts.passed_vote("admission") is None:
        return [Missing("admission_vote", _("No passed admission vote of the branch assembly is recorded."))]
    return []


def _admission_approval(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    return _within(facts, "admission", on, special)


def _conversion_vote(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    ends = facts.case.probation_ends_on
    if ends is not None and on < ends:
        return [Missing("probation_not_ended", _("Probation ends on %(day)s: the vote is possible from that day.",
                                                 day=_day(ends)))]
    return []


def _conversion_approval(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    outcome = data.get("outcome")
    vote = facts.last_vote("conversion")
    if vote is None:
        return [Missing("conversion_vote", _("No vote of the branch assembly on full membership is recorded."))]
    missing = []
    if outcome == "convert" and not vote.passed:
        missing.append(Missing("conversion_vote", _("The vote on full membership of %(day)s did not pass.",
                                                    day=_day(vote.held_on))))
    if outcome == "extend" and facts.extension() is not None:
        missing.append(Missing("extended_once", _("Probation was already extended once.")))
    months = setting("approval_months_special" if special else "approval_months")
    latest = tk.months_later(vote.held_on, months)
    if on > latest:
        missing.append(Missing("approval_late", _(
            "The committee approves within %(months)d months of the vote of %(vote)s, that is by %(day)s.",
            months=months, vote=_day(vote.held_on), day=_day(latest))))
    return missing


def _archive(facts: Facts, on: date, data: dict, special: bool) -> list[Missing]:
    if facts.case.stage != "full":
        return [Missing("conversion_approval", _("Only the record of a full member is archived."))]
    return []


_CHECKS = {
    "candidate_decision": _candidate_decision,
    "political_review": _political_review,
    "branch_review": _branch_review,
    "admission_vote": _admission_vote,
    "committee_talk": _committee_talk,
    "admission_approval": _admission_approval,
    "conversion_vote": _conversion_vote,
    "conversion_approval": _conversion_approval,
    "archive": _archive,
}


def already_recorded(facts: Facts, code: str) -> StepRecord | None:
    """The record that makes recording ``code`` again a conflict, or None when it may be recorded.

    Repeatable steps and the two votes (a failed vote may be held again) never conflict; conversion steps
    count only in the current cycle (after an extension they are taken again).
    """
    if STEP_BY_CODE[code].repeatable or code in REVOTE_STEPS:
        return None
    return facts.last(code)


def deadlines(facts: Facts, today: date) -> list[Deadline]:
    """The running time limits of an open case, soonest first (a closed case has none)."""
    case = facts.case
    if case.closed_on is not None:
        return []
    found: list[tuple[str, date, str]] = []
    if not facts.has("talk"):
        found.append(("talk", tk.months_later(case.applied_on, setting("talk_months")), "branch"))
    if case.stage in ("activist", "candidate") and case.activist_on is not None:
        last = facts.last("assessment")
        since = last.taken_on if last is not None else case.activist_on
        found.append(("assessment", tk.months_later(since, setting("assessment_months")), "mentor"))
    review = facts.last("branch_review")
    if review is not None and not facts.has("committee_prereview"):
        found.append(("committee_prereview", tk.months_later(review.taken_on, setting("prereview_months")),
                      "committee"))
    found.extend(("vetting", v.due_on, v.side) for v in facts.vettings if v.recorded_on is None)
    for notice in facts.notices:
        if notice.ends_on < today and any(o.resolved_on is None for o in notice.objections):
            found.append(("notice_objection", notice.ends_on, notice.place))
    vote = facts.passed_vote("admission")
    if vote is not None and not facts.has("admission_approval"):
        found.append(("admission_approval", tk.months_later(vote.held_on, setting("approval_months")), "committee"))
    found.extend(_conversion_deadlines(facts))
    return sorted((Deadline(kind, due, side, DEADLINE_LABELS[kind], today > due) for kind, due, side in found),
                  key=lambda d: (d.due_on, d.kind))


def _conversion_deadlines(facts: Facts) -> list[tuple[str, date, str]]:
    case = facts.case
    if case.stage != "probationary" or case.probation_ends_on is None:
        return []
    found = []
    if not facts.has("conversion_application"):
        found.append(("conversion_application",
                      case.probation_ends_on - timedelta(days=setting("conversion_reminder_days")), "person"))
    vote = facts.last_vote("conversion")
    if vote is None:
        found.append(("conversion_vote", case.probation_ends_on, "branch"))
    elif not facts.has("conversion_approval"):
        found.append(("conversion_approval", tk.months_later(vote.held_on, setting("approval_months")), "committee"))
    return found

