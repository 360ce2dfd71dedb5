"""The year's evidence of a member for the annual review, gathered from whatever plugins are enabled.

Each plugin answers ``portal_review_evidence(member, since, until)`` (see ``hookspecs``) with its key,
label, figures and lines; none is imported here, so a disabled plugin's key is simply absent. The
year's document (年度纪实) puts the member, every section and the round's grade (once reported) in a PDF.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from portal import toolkit as tk
from portal.toolkit import gettext as _
from portal_review.models import ReviewEntry, ReviewRound
from portal_review.vocabulary import GRADE_LABELS

#: The order sections are shown in (BRANCH-LIFE.md (e): branch life first); keys not listed follow by name.
ORDER = ("meetings", "reports", "dues", "points", "courses", "care", "mobility", "standing")
#: Round steps at which the grade is known to the member (and so printed in the year's document).
GRADE_SHOWN = ("reported", "closed")
X, WIDTH = 20, 170


@dataclass(frozen=True)
class Section:
    """One plugin's evidence: ``key`` (the API's), ``label`` (lazy), ``figures`` (the API's value), ``lines``."""

    key: str
    label: Any
    figures: Any
    lines: list[tuple[Any, Any]]


def period(year: int, today: date) -> tuple[date, date]:
    """``(since, until)``: 1 January of ``year`` and 31 December, or ``today`` while the year runs."""
    return date(year, 1, 1), min(date(year, 12, 31), today)


def sections(member: tk.Member, year: int, today: date) -> list[Section]:
    """Every enabled plugin's evidence of ``member``'s ``year`` (up to ``today``), in :data:`ORDER`."""
    since, until = period(year, today)
    # each plugin's answer is kept by the composition cache (its lazy labels made strings) until a table it
    # read changes; for any viewer, the hook being read only and about the member
    answers = tk.cached_hook("portal_review_evidence", (member.id, since.isoformat(), until.isoformat()),
                             member=member, since=since, until=until)
    found = [Section(answer["key"], answer["label"], answer["figures"], list(answer.get("lines") or ()))
             for _plugin, answer in answers if answer]
    rank = {key: index for index, key in enumerate(ORDER)}
    return sorted(found, key=lambda section: (rank.get(section.key, len(ORDER)), section.key))


def collect(member: tk.Member, year: int, today: date) -> dict[str, Any]:
    """``{key: figures}`` of every enabled plugin's evidence (what the API answers); disabled plugins absent."""
    return {section.key: section.figures for section in sections(member, year, today)}


def _grade_line(member: tk.Member, year: int) -> str | None:
    """The member's grade of ``year``'s round of their branch, once reported; None before (or without one)."""
    row = tk.db.session.execute(
        select(ReviewEntry.grade, ReviewRound.status).join(ReviewRound, ReviewRound.id == ReviewEntry.round_id)
        .where(ReviewEntry.member_id == member.id, ReviewRound.year == year)
        .order_by(ReviewRound.id.desc()).limit(1)).first()
    if row is None or row.status not in GRADE_SHOWN:
        return None
    if row.grade is None:
        return _("Grade: not graded (probationary member)") if member.stage == "probationary" else None
    return _("Grade: %(grade)s", grade=GRADE_LABELS[row.grade])


def year_pdf(member: tk.Member, year: int, today: date) -> bytes:
    """The year's document (年度纪实) of ``member``: who, each plugin's lines, the grade once reported.

    Whoever may see the member's evidence may have it (the caller checks and audits).
    """
    since, until = period(year, today)
    pdf = tk.new_pdf()
    pdf.set_font_size(16)
    tk.write_lines(pdf, X, WIDTH, 10, _("Annual record %(year)s", year=year), align="C")
    pdf.set_font_size(11)
    home = member.home_unit.name if member.home_unit is not None else "—"
    for line in (_("Name: %(name)s", name=member.name), _("Branch: %(unit)s", unit=home),
                 _("Period: %(since)s to %(until)s", since=since.isoformat(), until=until.isoformat())):
        tk.write_lines(pdf, X, WIDTH, 6.5, line)
    grade = _grade_line(member, year)
    if grade:
        tk.write_lines(pdf, X, WIDTH, 6.5, grade)
    for section in sections(member, year, today):
        pdf.ln(2)
        pdf.set_font_size(13)
        tk.write_lines(pdf, X, WIDTH, 8, str(section.label))
        pdf.set_font_size(10.5)
        for label, value in section.lines or [("—", "")]:
            tk.write_lines(pdf, X, WIDTH, 6, _("%(label)s: %(value)s", label=label, value=value) if value != "" else str(label))
    return bytes(pdf.output())
