"""Review rounds: opening (an entry per member, the host branch's opinion asked for members away), the dates
of the steps, moving from step to step, and who sees a round.

Every service takes the acting account (``actor``) and checks it first: a round outside the account's scope
is ``NotFound``, an action it may not take is ``Forbidden``. Outside a request and without an actor (the
CLI, the demo, a scan) nothing is checked, as with ``tk.require_acting_on``. :func:`open_round`,
:func:`set_dates` and :func:`move` are whole actions and commit.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from flask import has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal.toolkit import gettext as _, lazy_gettext as _l
from portal_review import results
from portal_review.models import ROUND_STEPS, HostOpinion, ReviewEntry, ReviewRound
from portal_review.settings import setting
from portal_review.vocabulary import STATUS_LABELS

db = tk.db
#: Units that hold a review: branches (a general branch reviews its own members too).
BRANCH_KINDS = ("branch", "general_branch")
#: The day fields :func:`set_dates` accepts.
DATE_FIELDS = ("study_on", "self_from", "self_until", "mutual_from", "mutual_until", "grading_on")
#: Windows whose end may not come before their start.
WINDOWS = (("self_from", "self_until"), ("mutual_from", "mutual_until"))


# --- who sees, who acts ---------------------------------------------------------------------------------------

def unchecked(account) -> bool:
    """No one is acting (the CLI, the demo, a scan): nothing to check."""
    return account is None and not has_request_context()


def can_manage(round_: ReviewRound, account) -> bool:
    """Whether ``account`` runs ``round_`` (``review.manage`` on its unit or an ancestor)."""
    return account is not None and tk.can("review.manage", round_.unit, account)


def own_entry(round_: ReviewRound, account) -> ReviewEntry | None:
    """The entry of ``account``'s own member record in ``round_``, if any."""
    if account is None:
        return None
    return db.session.scalar(select(ReviewEntry).join(tk.Member, tk.Member.id == ReviewEntry.member_id)
                             .where(ReviewEntry.round_id == round_.id, tk.Member.account_id == account.id))


def hosts_in(round_: ReviewRound, account) -> bool:
    """Whether ``account`` holds ``review.manage`` on the host branch of some entry of ``round_``."""
    if account is None:
        return False
    host_ids = set(db.session.scalars(select(ReviewEntry.host_unit_id).where(
        ReviewEntry.round_id == round_.id, ReviewEntry.host_unit_id.is_not(None))))
    return any(tk.can("review.manage", db.session.get(tk.OrgUnit, uid), account) for uid in host_ids)


def can_see(round_: ReviewRound, account) -> bool:
    """Whether ``account`` may open ``round_``: its managers, the committee above (``review.approve``), its
    members (their own entry) and the host secretaries who owe an opinion on one of its entries."""
    if account is None:
        return False
    return (can_manage(round_, account) or tk.can("review.approve", round_.unit, account)
            or own_entry(round_, account) is not None or hosts_in(round_, account))


def visible_round(round_id: Any, account) -> ReviewRound:
    """The round ``round_id`` if ``account`` may see it, else NotFound (also for ids that are no id)."""
    round_ = (db.session.get(ReviewRound, round_id)
              if isinstance(round_id, int) and 0 < round_id <= tk.MAX_ID else None)
    if round_ is None or not can_see(round_, account):
        raise tk.NotFound(_l("Not found."))
    return round_


def can_see_entry(entry: ReviewEntry, account) -> bool:
    """Whether ``account`` may read ``entry`` (evidence, self-assessment): the member, the round's managers and
    the committee, and for a member away the host branch's secretaries."""
    if account is None:
        return False
    round_ = entry.round
    if entry.member.account_id == account.id:
        return True
    if can_manage(round_, account) or tk.can("review.approve", round_.unit, account):
        return True
    return entry.host_unit_id is not None and tk.can(
        "review.manage", db.session.get(tk.OrgUnit, entry.host_unit_id), account)


def visible_entry(round_: ReviewRound, member_id: Any, account) -> ReviewEntry:
    """The entry of ``member_id`` in ``round_`` if ``account`` may read it (else NotFound); every read by
    someone other than the member is audited (``review.read``)."""
    entry = (db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                         ReviewEntry.member_id == member_id))
             if isinstance(member_id, int) and 0 < member_id <= tk.MAX_ID else None)
    if entry is None or not can_see_entry(entry, account):
        raise tk.NotFound(_l("Not found."))
    if entry.member.account_id != account.id:
        tk.audit("review.read", "review_entry", entry.id, unit_id=round_.unit_id, actor_account_id=account.id)
    return entry


def require_manager(round_: ReviewRound, account) -> None:
    """NotFound unless ``account`` may see ``round_``, Forbidden unless it runs it (nothing checked unchecked)."""
    if unchecked(account):
        return
    if not can_manage(round_, account):
        if can_see(round_, account):
            raise tk.Forbidden(_l("The branch secretary runs the review."))
        raise tk.NotFound(_l("Not found."))


# --- reading ------------------------------------------------------------------------------------------------

def rounds_for(unit: tk.OrgUnit, year: int | None = None) -> list[ReviewRound]:
    """The rounds of ``unit`` (of ``year`` when given), newest year first."""
    query = select(ReviewRound).where(ReviewRound.unit_id == unit.id)
    if year is not None:
        query = query.where(ReviewRound.year == year)
    return list(db.session.scalars(query.order_by(ReviewRound.year.desc())).unique())


def entries_query(round_: ReviewRound):
    """A ``select`` of the entries of ``round_`` with their members, by name (for a page of them)."""
    return (select(ReviewEntry).join(tk.Member, tk.Member.id == ReviewEntry.member_id)
            .where(ReviewEntry.round_id == round_.id).order_by(tk.Member.name, tk.Member.id))


def entries_page(round_: ReviewRound, *, limit: int, offset: int = 0) -> list[ReviewEntry]:
    """One page of the entries of ``round_`` with their members, by name, in one statement.

    The page's ids are picked from the round's entries with their members' names alone (a materialized CTE:
    otherwise PostgreSQL walks every member by name looking for the round's few hundred, ~60 ms; sorting the
    whole rows of every entry made it scan all the rounds' entries in parallel, ~30 ms; issue 20), then only
    those entries are loaded.
    """
    named = (select(ReviewEntry.id, tk.Member.name, tk.Member.id.label("member_id"))
             .join(tk.Member, tk.Member.id == ReviewEntry.member_id).where(ReviewEntry.round_id == round_.id)
             .cte("round_names").prefix_with("MATERIALIZED"))
    ids = select(named.c.id).order_by(named.c.name, named.c.member_id).limit(limit).offset(offset)
    return list(db.session.scalars(entries_query(round_).where(ReviewEntry.id.in_(ids))).unique())


def entries(round_: ReviewRound) -> list[ReviewEntry]:
    """The entries of ``round_`` with their members, by name."""
    return list(db.session.scalars(entries_query(round_)).unique())


def next_status(status: str) -> str | None:
    """The step after ``status`` (None after ``closed``)."""
    index = ROUND_STEPS.index(status)
    return ROUND_STEPS[index + 1] if index + 1 < len(ROUND_STEPS) else None


# --- opening ------------------------------------------------------------------------------------------------

def open_round(unit: tk.OrgUnit, year: Any, *, actor, dates: dict[str, date | None] | None = None,
               now: datetime | None = None) -> ReviewRound:
    """Open the review of ``unit`` for ``year``: an entry per full and probationary member kept there or in one
    of its party groups (``tk.own_unit_ids``: a branch below a general branch holds its own review), those away
    too, with their host branch, whose opinion is asked and whose secretaries are told. A second round for the
    same unit and year is a Conflict."""
    if not unchecked(actor) and not tk.can("review.manage", unit, actor):
        raise tk.NotFound(_l("Not found."))
    if unit.kind not in BRANCH_KINDS:
        raise tk.Invalid(_l("A review is held by a branch or a general branch."), field="unit_id")
    today = tk.local_today(now)
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= today.year:
        raise tk.Invalid(_("The year must be between 2000 and %(year)s.", year=today.year), field="year")
    round_ = ReviewRound(unit_id=unit.id, year=year, status="study", ballot_secret=secrets.token_hex(32),
                         created_by_account_id=getattr(actor, "id", None))
    _apply_dates(round_, dates or {})
    try:
        with db.session.begin_nested():
            db.session.add(round_)
            db.session.flush()
    except IntegrityError:
        raise tk.Conflict(_l("This branch already has a review for that year."), field="year") from None
    refresh_entries(round_, now=now)
    tk.audit("review.open", "review_round", round_.id, unit_id=unit.id,
             actor_account_id=getattr(actor, "id", None), year=year)
    db.session.commit()
    return round_


def refresh_entries(round_: ReviewRound, *, now: datetime | None = None) -> list[ReviewEntry]:
    """Add entries for members of the round's unit and its groups who have none yet (joined since the opening); never removes
    one. Members away get their host branch and a requested opinion. Returns the entries added (caller commits)."""
    have = set(db.session.scalars(select(ReviewEntry.member_id).where(ReviewEntry.round_id == round_.id)))
    members = db.session.scalars(select(tk.Member).where(tk.Member.home_unit_id.in_(tk.own_unit_ids(round_.unit)),
                                                         tk.member_stage_filter()).order_by(tk.Member.id))
    added = []
    for member in members:
        if member.id in have:
            continue
        host_id = member.host_unit_id if member.is_away else None
        entry = ReviewEntry(round=round_, member_id=member.id, host_unit_id=host_id)
        db.session.add(entry)
        added.append(entry)
    db.session.flush()
    _ask_hosts([entry for entry in added if entry.host_unit_id is not None], round_, now)
    return added


def _ask_hosts(away: list[ReviewEntry], round_: ReviewRound, now: datetime | None) -> None:
    """A requested opinion per entry away, and one message per host branch's secretaries."""
    due = round_.mutual_until or tk.local_today(now) + timedelta(days=int(setting("host_opinion_days")))
    told: set[int] = set()
    for entry in away:
        db.session.add(HostOpinion(entry_id=entry.id, host_unit_id=entry.host_unit_id, due_on=due,
                                   requested_at=now or tk.utcnow()))
        if entry.host_unit_id in told:
            continue
        told.add(entry.host_unit_id)
        _unit, accounts = tk.responsible_accounts(db.session.get(tk.OrgUnit, entry.host_unit_id), "review.manage")
        tk.notify(accounts, _l("Your opinion is asked for the annual review of %(unit)s %(year)s",
                               unit=round_.unit.name, year=round_.year),
                  _l("Members of that branch living with you are reviewed; give your opinion by %(day)s.",
                     day=due.isoformat()), kind="review")
    db.session.flush()


# --- dates and steps ----------------------------------------------------------------------------------------

def set_dates(round_: ReviewRound, *, actor, **days: date | None) -> ReviewRound:
    """Set the days of the steps (each a date or None); a window ending before it starts is Invalid."""
    require_manager(round_, actor)
    if round_.status == "closed":
        raise tk.Conflict(_l("The review is closed."))
    unknown = set(days) - set(DATE_FIELDS)
    if unknown:
        raise tk.Invalid(_l("Unknown date."), field=sorted(unknown)[0])
    _apply_dates(round_, days)
    tk.audit("review.dates", "review_round", round_.id, unit_id=round_.unit_id,
             actor_account_id=getattr(actor, "id", None))
    db.session.commit()
    return round_


def _apply_dates(round_: ReviewRound, days: dict[str, date | None]) -> None:
    for key, value in days.items():
        if key not in DATE_FIELDS:
            raise tk.Invalid(_l("Unknown date."), field=key)
        if value is not None and not isinstance(value, date):
            raise tk.Invalid(_l("Enter a date."), field=key)
    merged = {key: days.get(key, getattr(round_, key)) for key in DATE_FIELDS}
    for start, end in WINDOWS:
        if merged[start] and merged[end] and merged[end] < merged[start]:
            raise tk.Invalid(_l("The window ends before it starts."), field=end)
    for key, value in days.items():
        setattr(round_, key, value)


def move(round_: ReviewRound, status: str, *, actor, now: datetime | None = None) -> ReviewRound:
    """Move ``round_`` one step forward to ``status``. Leaving mutual assessment destroys the ballot secret;
    reporting upward needs every gradable member graded, a plan for each basically qualified and a reason
    when excellent exceeds the share (else Conflict with ``details={"missing": [...]}``), and tells the
    committee above and the members."""
    require_manager(round_, actor)
    if status not in ROUND_STEPS:
        raise tk.Invalid(_l("Unknown step."), field="status")
    if status != next_status(round_.status):
        raise tk.Conflict(_("The review is at “%(step)s”: it moves one step at a time.",
                            step=tk.label(STATUS_LABELS, round_.status)), field="status")
    if status == "reported":
        missing = results.missing_for_report(round_)
        if missing:
            raise tk.Conflict(_l("The results are not ready to report upward."), field="status",
                              details={"missing": missing})
        _report(round_, actor, now)
    if status == "grading":
        # The links between ratings and raters are gone for good once the window closes.
        round_.ballot_secret = None
    previous, round_.status = round_.status, status
    tk.audit("review.move", "review_round", round_.id, unit_id=round_.unit_id,
             actor_account_id=getattr(actor, "id", None), before=previous, after=status)
    db.session.commit()
    return round_


def _report(round_: ReviewRound, actor, now: datetime | None) -> None:
    """Stamp the report and tell the committee above and the members that their grade is available."""
    round_.reported_on = tk.local_today(now)
    round_.reported_by_account_id = getattr(actor, "id", None)
    _unit, approvers = tk.responsible_accounts(round_.unit.parent or round_.unit, "review.approve")
    tk.notify(approvers, _l("Annual review results of %(unit)s %(year)s", unit=round_.unit.name, year=round_.year),
              _l("The branch has reported its review results upward."), kind="review")
    members = [entry.member.account_id for entry in entries(round_) if entry.member.account_id]
    tk.notify(members, _l("Your annual review %(year)s is complete", year=round_.year),
              _l("Your grade and the branch's feedback are on your review page."), kind="review")
