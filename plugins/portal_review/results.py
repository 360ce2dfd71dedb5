"""A round's results: counts per grade, the one-third check, the lists reported upward, the ``.xlsx`` rows and
the results PDF (报告上级党组织).

Ratings appear only as counts per grade for each member: no row, column or line names a rater.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import func, select

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_review.models import GRADES, HostOpinion, ImprovementPlan, ReviewEntry, ReviewRound
from portal_review.settings import setting
from portal_review.vocabulary import GRADE_LABELS, STATUS_LABELS

db = tk.db
X, WIDTH = 20, 170


@dataclass
class Counts:
    """A round's figures: counts per grade of the members who receive one, the one-third check."""

    counts: dict[str, int]
    full_count: int
    probationary_count: int
    excellent_share: float
    exceeds_one_third: bool
    excellent_reason: str | None
    #: Every entry of the round, graded or not (the length of its list of members).
    entry_count: int


@dataclass
class Results(Counts):
    """What a round reports upward: its figures and the lists of members."""

    excellent: list[ReviewEntry] = field(default_factory=list)
    unqualified: list[ReviewEntry] = field(default_factory=list)
    basic: list[ReviewEntry] = field(default_factory=list)
    basic_without_plan: list[ReviewEntry] = field(default_factory=list)
    ungraded: list[ReviewEntry] = field(default_factory=list)


def graded_stages() -> tuple[str, ...]:
    """The member stages that receive a grade: full members, and probationary ones when the setting says so."""
    return ("full", "probationary") if setting("grade_probationary") else ("full",)


def is_gradable(entry: ReviewEntry) -> bool:
    """Whether ``entry``'s member receives a grade (probationary members take part without one)."""
    return entry.member.stage in graded_stages()


def exceeds(excellent: int, graded_members: int) -> bool:
    """Whether ``excellent`` is more than the normal share (one in ``excellent_one_in``) of ``graded_members``."""
    return excellent * int(setting("excellent_one_in")) > graded_members


def _entries(round_: ReviewRound) -> list[ReviewEntry]:
    return list(db.session.scalars(select(ReviewEntry).join(tk.Member, tk.Member.id == ReviewEntry.member_id)
                                   .where(ReviewEntry.round_id == round_.id)
                                   .order_by(tk.Member.name, tk.Member.id)).unique())


def _figures(round_: ReviewRound, groups: Iterable[tuple[str | None, str | None, int]]) -> dict[str, Any]:
    """The fields of :class:`Counts` from ``(member stage, grade, how many entries)`` groups of the round."""
    stages = graded_stages()
    counts = {grade: 0 for grade in GRADES}
    gradable = probationary = total = 0
    for stage, grade, number in groups:
        total += number
        probationary += number if stage == "probationary" else 0
        if stage in stages:
            gradable += number
            if grade in counts:
                counts[grade] += number
    return {"counts": counts, "full_count": gradable, "probationary_count": probationary,
            "excellent_share": counts["excellent"] / gradable if gradable else 0.0,
            "exceeds_one_third": exceeds(counts["excellent"], gradable),
            "excellent_reason": round_.excellent_reason, "entry_count": total}


def counts(round_: ReviewRound) -> Counts:
    """The figures of ``round_`` without its lists: one grouped statement, no entry loaded (the round's page and
    the meter of an entry's page, whichever page of members they show)."""
    groups = db.session.execute(select(tk.Member.stage, ReviewEntry.grade, func.count())
                                .join(tk.Member, tk.Member.id == ReviewEntry.member_id)
                                .where(ReviewEntry.round_id == round_.id)
                                .group_by(tk.Member.stage, ReviewEntry.grade)).all()
    return Counts(**_figures(round_, groups))


def results(round_: ReviewRound) -> Results:
    """The results of ``round_`` (a fixed number of statements)."""
    entries = _entries(round_)
    planned = set(db.session.scalars(select(ImprovementPlan.entry_id).join(
        ReviewEntry, ReviewEntry.id == ImprovementPlan.entry_id).where(ReviewEntry.round_id == round_.id)))
    out = Results(**_figures(round_, ((entry.member.stage, entry.grade, 1) for entry in entries)))
    stages = graded_stages()  # read once: a setting per entry costs more than the entries (issue 20)
    for entry in entries:
        if entry.member.stage in stages:
            _place(out, entry, planned)
    return out


def _place(out: Results, entry: ReviewEntry, planned: set[int]) -> None:
    """Put a gradable entry on the lists it belongs to."""
    if entry.grade is None:
        out.ungraded.append(entry)
    elif entry.grade == "excellent":
        out.excellent.append(entry)
    elif entry.grade == "unqualified":
        out.unqualified.append(entry)
    elif entry.grade == "basic":
        out.basic.append(entry)
        if entry.id not in planned:
            out.basic_without_plan.append(entry)


def missing_for_report(round_: ReviewRound) -> list[str]:
    """What keeps ``round_`` from being reported upward: ``grades`` (a gradable member without a grade),
    ``plans`` (basically qualified without an improvement plan), ``excellent_reason`` (more excellent than the
    normal share, without a reason). Empty when it may be reported."""
    found = results(round_)
    missing = []
    if found.ungraded:
        missing.append("grades")
    if found.basic_without_plan:
        missing.append("plans")
    if found.exceeds_one_third and not (found.excellent_reason or "").strip():
        missing.append("excellent_reason")
    return missing


# --- the table ----------------------------------------------------------------------------------------------

def headers() -> list[str]:
    """The column titles of :func:`rows`."""
    return ([_("Name"), _("Stage"), _("Host branch"), _("Grade"), _("Proposed grade"), _("Host opinion")]
            + [_("Rated %(grade)s", grade=tk.label(GRADE_LABELS, grade)) for grade in GRADES])


def rows(round_: ReviewRound) -> list[list]:
    """One row per entry for the ``.xlsx``: name, stage, host branch (members away), grade, the committee's
    proposal, whether the host gave its opinion, and how many ratings of each grade — never who rated."""
    from portal_review import ratings  # imported here: ratings builds on rounds, which builds on this module

    tallies = ratings.tallies(round_)
    opinions = _opinions(round_)
    hosts = _unit_names({entry.host_unit_id for entry in _entries(round_) if entry.host_unit_id})
    out = []
    for entry in _entries(round_):
        tally = tallies.get(entry.member_id, {})
        opinion = opinions.get(entry.id)
        out.append([entry.member.name, tk.label(tk.STAGE_LABELS, entry.member.stage),
                    hosts.get(entry.host_unit_id, ""), tk.label(GRADE_LABELS, entry.grade),
                    tk.label(GRADE_LABELS, entry.proposed_grade),
                    "" if opinion is None else (_("Yes") if opinion.submitted_at else _("No"))]
                   + [tally.get(grade, 0) for grade in GRADES])
    return out


def _opinions(round_: ReviewRound) -> dict[int, HostOpinion]:
    return {opinion.entry_id: opinion for opinion in db.session.scalars(
        select(HostOpinion).join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
        .where(ReviewEntry.round_id == round_.id))}


def _unit_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.name).where(tk.OrgUnit.id.in_(ids))).all())


def filename(round_: ReviewRound, suffix: str) -> str:
    """The download name of the results (``.xlsx`` or ``.pdf``)."""
    return _("review-%(unit)s-%(year)s", unit=round_.unit.name, year=round_.year) + suffix


# --- the PDF ------------------------------------------------------------------------------------------------

def pdf(round_: ReviewRound) -> bytes:
    """The results report as PDF: the branch, year and step, counts per grade with the one-third check (and
    the reason for more), and the lists of excellent, basically qualified and unqualified members."""
    found = results(round_)
    doc = tk.new_pdf()
    doc.set_font_size(16)
    tk.write_lines(doc, X, WIDTH, 10, _("Annual review results"), align="C")
    doc.set_font_size(11)
    for line in _head_lines(round_, found):
        tk.write_lines(doc, X, WIDTH, 6.5, line)
    _section(doc, _("Counts per grade"), [f"{tk.label(GRADE_LABELS, grade)}: {found.counts[grade]}"
                                          for grade in GRADES])
    _section(doc, _("Excellent"), _names(found.excellent))
    _section(doc, _("Basically qualified"), _names(found.basic))
    _section(doc, _("Unqualified"), _names(found.unqualified))
    return bytes(doc.output())


def _head_lines(round_: ReviewRound, found: Results) -> list[str]:
    lines = [_("Branch: %(unit)s", unit=round_.unit.name), _("Year: %(year)s", year=round_.year),
             _("Step: %(step)s", step=tk.label(STATUS_LABELS, round_.status)),
             _("Members graded: %(full)s; probationary members (not graded): %(prob)s",
               full=found.full_count, prob=found.probationary_count)]
    if round_.reported_on:
        lines.append(_("Reported upward: %(day)s", day=round_.reported_on.isoformat()))
    share = round(found.excellent_share * 100)
    if found.exceeds_one_third:
        lines.append(_("Excellent: %(share)s%%, more than one in %(n)s. Reason: %(reason)s", share=share,
                       n=setting("excellent_one_in"), reason=found.excellent_reason or "—"))
    else:
        lines.append(_("Excellent: %(share)s%%, within one in %(n)s.", share=share, n=setting("excellent_one_in")))
    return lines


def _names(entries: list[ReviewEntry]) -> list[str]:
    return [entry.member.name + (f" — {entry.grade_reason}" if entry.grade_reason else "") for entry in entries]


def _section(doc, title: str, lines: list[str]) -> None:
    doc.ln(2)
    doc.set_font_size(13)
    tk.write_lines(doc, X, WIDTH, 8, title)
    doc.set_font_size(10.5)
    for line in lines or ["—"]:
        tk.write_lines(doc, X, WIDTH, 6, line)
