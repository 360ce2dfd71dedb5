"""The branch assembly's vote on one person (admission or full membership): the tally checked, the rule applied.

The rule (BRANCH-LIFE.md (d)): the assembly is quorate when more than half of the full members entitled to
vote are present; the person is admitted (or made a full member) when the yes votes — ballots cast plus the
written opinions of absent entitled members — are more than half of the entitled members (not of those
present). One vote is about one person (candidates are voted on one at a time).
"""
from __future__ import annotations

from typing import Any

from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_development.models import VOTE_KINDS, DevCase, StepRecord, Vote

db = tk.db

#: Every count of a tally; the first ones must be given, the others default to 0.
REQUIRED = ("entitled", "present", "ballots_issued", "ballots_returned", "yes", "no", "abstain")
OPTIONAL = ("by_video", "written_yes", "written_no", "written_abstain")
FIELDS = REQUIRED + OPTIONAL


def _count(value: Any) -> int | None:
    """A count given as an int or a digit string (a form field); None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def clean_tally(data: Any) -> dict[str, int]:
    """The tally as ``{field: int}``, or ``tk.Invalid`` with a message per wrong field.

    Every count is a whole number ≥ 0 and the counts must add up: present ≤ entitled, by video ≤ present,
    ballots issued ≤ present, returned ≤ issued, yes + no + abstain ≤ returned, and the written opinions
    at most the entitled members who were absent.
    """
    if not isinstance(data, dict):
        raise tk.Invalid(_("The tally is missing."), field="tally")
    errors: dict[str, str] = {}
    tally: dict[str, int] = {}
    for name in FIELDS:
        raw = data.get(name)
        if raw in (None, "") and name in OPTIONAL:
            tally[name] = 0
            continue
        count = _count(raw)
        if count is None:
            errors[name] = _("Enter a whole number, 0 or more.")
        else:
            tally[name] = count
    if not errors:
        errors = _sum_errors(tally)
    if errors:
        raise tk.Invalid(_("The tally does not add up: %(fields)s.", fields=", ".join(errors)), errors)
    return tally


def _sum_errors(t: dict[str, int]) -> dict[str, str]:
    """Per-field messages for counts that do not add up (every count already a whole number)."""
    errors: dict[str, str] = {}
    if t["entitled"] < 1:
        errors["entitled"] = _("At least one member must be entitled to vote.")
    if t["present"] > t["entitled"]:
        errors["present"] = _("More present (%(present)d) than entitled to vote (%(entitled)d).",
                              present=t["present"], entitled=t["entitled"])
    if t["by_video"] > t["present"]:
        errors["by_video"] = _("More by video (%(n)d) than present (%(present)d).", n=t["by_video"],
                               present=t["present"])
    if t["ballots_issued"] > t["present"]:
        errors["ballots_issued"] = _("More ballots issued (%(n)d) than members present (%(present)d).",
                                     n=t["ballots_issued"], present=t["present"])
    if t["ballots_returned"] > t["ballots_issued"]:
        errors["ballots_returned"] = _("More ballots returned (%(n)d) than issued (%(issued)d).",
                                       n=t["ballots_returned"], issued=t["ballots_issued"])
    cast = t["yes"] + t["no"] + t["abstain"]
    if cast > t["ballots_returned"]:
        errors["yes"] = _("Yes, no and abstain (%(n)d) are more than the ballots returned (%(returned)d).",
                          n=cast, returned=t["ballots_returned"])
    written = t["written_yes"] + t["written_no"] + t["written_abstain"]
    absent = t["entitled"] - t["present"]
    if written > max(absent, 0):
        errors["written_yes"] = _("Written opinions (%(n)d) are more than the entitled members absent "
                                  "(%(absent)d).", n=written, absent=max(absent, 0))
    return errors


def outcome(tally: dict[str, int]) -> tuple[bool, bool]:
    """``(quorate, passed)``: more than half of the entitled present; yes (incl. written) more than half of them."""
    quorate = tally["present"] * 2 > tally["entitled"]
    passed = quorate and (tally["yes"] + tally.get("written_yes", 0)) * 2 > tally["entitled"]
    return quorate, passed


def save_vote(case: DevCase, kind: str, step: StepRecord, tally: dict) -> Vote:
    """Write the vote of ``step`` (its day is the vote's day) with the rule's result; the caller commits."""
    if kind not in VOTE_KINDS:
        raise tk.Invalid(_("Unknown kind of vote."), field="kind")
    cleaned = clean_tally(tally)
    quorate, passed = outcome(cleaned)
    vote = Vote(case_id=case.id, step_id=step.id, kind=kind, held_on=step.taken_on, quorate=quorate, passed=passed,
                **cleaned)
    db.session.add(vote)
    db.session.flush()
    return vote

