"""Arrears: the run of consecutive unpaid months, and the countdown that tells people about it.

A month is *in arrears* when it is owed — a profile covers it, it is not before the member's first
profile nor before their admission month, and its amount (after an approved reduction) is above
zero — and no payment that was not rejected covers it. The run is the consecutive months in arrears
ending at the last complete local month (the current month is not late yet); ``since`` is its first
month. A month with nothing owed (an exemption) ends the run like a paid one. Any payment of a month
in the run shortens or ends it, so a later run has another ``since`` and the countdown starts again.

The countdown's steps (``ARREARS_STEPS``: reminder, talk, written notice, case) start after the
months of the ``arrears_*_months`` settings. The daily scan tells each step of each run once
(an ``ArrearsNotice`` per member, ``since`` and step) and, in January, tells secretaries whose
members' profiles were not re-based for the year (a ``RebaseReminder`` per unit and year).

Everything works on a set of members with a fixed number of grouped queries (their profiles, their
approved reductions, the last month each has paid), never one query per member.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import and_, func, insert, select

from portal import toolkit as tk
from portal_dues import money
from portal_dues.models import ArrearsNotice, DuesProfile, Payment, PaymentMonth, RebaseReminder, Reduction
from portal_dues.vocabulary import PLUGIN

db = tk.db
#: Each step of the countdown and the setting saying after how many unpaid months it starts.
STEP_SETTINGS = {1: "arrears_reminder_months", 3: "arrears_talk_months", 5: "arrears_notice_months",
                 6: "arrears_case_months"}
#: Members looked up per statement when only some of a large set are needed (kept under every database's limit).
CHUNK = 500


@dataclass
class Schedule:
    """What one member owes month by month (the rule of ``profiles.dues_for_months``, for many members at once).

    ``profiles`` are ``(valid_from, monthly_due, category)`` in month order; ``reductions`` the approved ones
    ``(from_month, to_month, monthly_due)`` in the order they were asked (the latest covering a month wins).
    """

    joined_on: date | None = None
    profiles: list[tuple[date, Decimal, str]] = field(default_factory=list)
    reductions: list[tuple[date, date | None, Decimal]] = field(default_factory=list)

    @property
    def first_owed(self) -> date | None:
        """The first month owed: the first profile's, or the admission month when later; None without a profile."""
        if not self.profiles:
            return None
        first = self.profiles[0][0]
        return max(first, money.month_start(self.joined_on)) if self.joined_on else first

    def profile_at(self, month: date) -> tuple[date, Decimal, str] | None:
        """The profile in force in ``month`` (the latest ``valid_from`` not after it), or None."""
        index = bisect_right([row[0] for row in self.profiles], month) - 1
        return self.profiles[index] if index >= 0 else None

    def due(self, month: date) -> Decimal | None:
        """The amount owed for ``month``; None when nothing covers it (no profile yet, before admission)."""
        first = self.first_owed
        if first is None or month < first:
            return None
        amount = self.profile_at(month)[1]
        for start, end, reduced in self.reductions:
            if start <= month and (end is None or month <= end):
                amount = reduced
        return Decimal(amount).quantize(money.CENT)

    def run(self, last: date, paid: date | None) -> tuple[int, date] | None:
        """``(months, since)`` of the months in arrears ending at ``last``, given the last month ``paid``; or None."""
        first = self.first_owed
        if first is None:
            return None
        since = first if paid is None else max(first, money.add_months(paid, 1))
        if since > last:
            return None
        if any(row[1] <= 0 for row in self.profiles) or any(row[2] <= 0 for row in self.reductions):
            # an exemption may lie inside: walk back from ``last`` to the first month with nothing owed
            month = last
            while month >= since and self.due(month):
                month = money.add_months(month, -1)
            since = money.add_months(month, 1)
        count = money.months_between(since, last) + 1
        return (count, since) if count > 0 else None


def schedules(members) -> dict[int, Schedule]:
    """``{member id: Schedule}`` of the members ``members`` (a ``select`` of member ids): two queries."""
    found: dict[int, Schedule] = {}
    rows = db.session.execute(
        select(DuesProfile.member_id, DuesProfile.valid_from, DuesProfile.monthly_due, DuesProfile.category,
               tk.Member.joined_on)
        .join(tk.Member, tk.Member.id == DuesProfile.member_id)
        .where(DuesProfile.member_id.in_(members)).order_by(DuesProfile.member_id, DuesProfile.valid_from))
    for member_id, valid_from, due, category, joined_on in rows:
        schedule = found.setdefault(member_id, Schedule(joined_on))
        schedule.profiles.append((valid_from, due, category))
    reductions = db.session.execute(
        select(Reduction.member_id, Reduction.from_month, Reduction.to_month, Reduction.monthly_due)
        .where(Reduction.member_id.in_(members), Reduction.state == "approved").order_by(Reduction.id))
    for member_id, start, end, due in reductions:
        if member_id in found:
            found[member_id].reductions.append((start, end, due))
    return found


def last_complete_month(now: datetime | None = None) -> date:
    """The last month that is over in local time: the latest a month can be in arrears."""
    return money.add_months(money.current_month(now), -1)


def thresholds() -> dict[int, int]:
    """``{step: months unpaid after which it starts}`` from the ``arrears_*_months`` settings."""
    return {step: int(tk.get_setting(PLUGIN, key)) for step, key in STEP_SETTINGS.items()}


def reached_steps(months_unpaid: int, limits: dict[int, int] | None = None) -> list[int]:
    """Every step ``months_unpaid`` has reached (``limits``: :func:`thresholds`, read once for many members)."""
    limits = thresholds() if limits is None else limits
    return [step for step, months in limits.items() if months_unpaid >= months]


def step_for(months_unpaid: int, limits: dict[int, int] | None = None) -> int | None:
    """The countdown step (a key of ``ARREARS_STEP_LABELS``) ``months_unpaid`` has reached, or None."""
    reached = reached_steps(months_unpaid, limits)
    return max(reached) if reached else None


def _runs(members, now: datetime | None) -> dict[int, tuple[int, date]]:
    """``{member id: (months unpaid, since)}`` of the members in arrears among ``members`` (a ``select`` of ids).

    Three queries: the schedules, and the last month each member has paid up to the last complete month.
    """
    last = last_complete_month(now)
    found = schedules(members)
    if not found:
        return {}
    last_paid = dict(db.session.execute(
        select(PaymentMonth.member_id, func.max(PaymentMonth.month))
        .join(Payment, Payment.id == PaymentMonth.payment_id)
        .where(PaymentMonth.member_id.in_(members), PaymentMonth.month <= last, Payment.status != "rejected")
        .group_by(PaymentMonth.member_id)).all())
    runs = {}
    for member_id, schedule in found.items():
        run = schedule.run(last, last_paid.get(member_id))
        if run:
            runs[member_id] = run
    return runs


def _counted_members():
    """Members who owe dues at all: full and probationary (applicants and activists do not)."""
    return select(tk.Member.id).where(tk.member_stage_filter())


def arrears_for(member: tk.Member, now: datetime | None = None) -> tuple[int, date | None]:
    """``(months unpaid in a row up to the last complete month, since)``; ``(0, None)`` when not in arrears."""
    if not tk.is_member_stage(member.stage):
        return 0, None
    return _runs(select(tk.Member.id).where(tk.Member.id == member.id), now).get(member.id, (0, None))


def subtree(unit: tk.OrgUnit):
    """A ``select`` of the ids of ``unit`` and every unit below it (a subquery, however large the tree)."""
    return select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path))


def members_in(unit: tk.OrgUnit):
    """A ``select`` of the ids of the members (full, probationary) whose home branch is in ``unit``'s subtree."""
    return _counted_members().where(tk.Member.home_unit_id.in_(subtree(unit)))


def arrears_in_unit(unit: tk.OrgUnit, now: datetime | None = None) -> list[dict]:
    """Members of the unit's subtree (by home branch) with at least one month unpaid, longest run first.

    Each row: ``member_id``, ``member``, ``months_unpaid``, ``since`` (a month's first day) and ``step``
    (the countdown step reached, or None). Four queries plus one per 500 members in arrears.
    """
    runs = _runs(members_in(unit), now)
    ids = sorted(runs)
    members: dict[int, tk.Member] = {}
    for start in range(0, len(ids), CHUNK):
        members.update((m.id, m) for m in db.session.scalars(
            select(tk.Member).where(tk.Member.id.in_(ids[start:start + CHUNK]))))
    limits = thresholds()
    rows = [{"member_id": member_id, "member": members[member_id], "months_unpaid": count, "since": since,
             "step": step_for(count, limits)} for member_id, (count, since) in runs.items()]
    rows.sort(key=lambda row: (-row["months_unpaid"], row["member"].name, row["member_id"]))
    return rows


# -- the daily scan -------------------------------------------------------------------------------------------


def scan(now: datetime) -> list[tk.Alert]:
    """The countdown's alerts for every run that reached a step not yet told, and January's re-basing reminder.

    When a run has passed several untold steps at once (the first scan, a profile set back in time),
    only the highest is told and the lower ones are marked as told. Grouped queries only.
    """
    return _countdown(now) + _rebase_reminders(now)


def _countdown(now: datetime) -> list[tk.Alert]:
    runs = _runs(_counted_members(), now)
    limits = thresholds()
    reached = {member_id: reached_steps(count, limits) for member_id, (count, _since) in runs.items()}
    reached = {member_id: steps for member_id, steps in reached.items() if steps}
    if not reached:
        return []
    told = set(db.session.execute(
        select(ArrearsNotice.member_id, ArrearsNotice.since, ArrearsNotice.step)
        .where(ArrearsNotice.since.in_({runs[member_id][1] for member_id in reached}))).all())
    markers, to_tell = [], {}
    for member_id, steps in reached.items():
        since = runs[member_id][1]
        untold = [step for step in steps if (member_id, since, step) not in told]
        markers += [{"member_id": member_id, "since": since, "step": step, "created_at": now} for step in untold]
        if max(steps) in untold:
            to_tell[member_id] = max(steps)
    if markers:  # one statement for every marker (a whole county on the first scan)
        db.session.execute(insert(ArrearsNotice), markers)
    who = tk.member_contacts(sorted(to_tell))
    alerts = []
    for member_id, step in to_tell.items():
        alerts += _step_alerts(member_id, who[member_id], step, *runs[member_id])
    return alerts


def _step_alerts(member_id: int, who: tk.MemberContacts, step: int, months: int, since: date) -> list[tk.Alert]:
    """Who hears of ``step``: 1 the member; 3 the home branch; 5 the member, the home and host branches and the
    contact person; 6 the home branch."""
    values = {"name": who.name, "months": months, "since": money.month_key(since)}
    mine, book = tk.path_for("dues.mine"), tk.path_for("dues_manage.arrears_page", unit=who.home_unit_id)
    kind = f"dues.arrears_{step}"
    if step == 1:
        if who.account_id is None:  # nobody to remind online; the branch hears at the next step
            return []
        message = _l("Your dues have not been paid since %(since)s. Please pay them to your branch.", **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, mine, (who.account_id,))]
    if step == 3:
        message = _l("%(name)s has not paid dues since %(since)s (months unpaid: %(months)s): a talk is due.",
                     **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, book, permission="dues.manage")]
    if step == 6:
        message = _l("%(name)s has not paid dues for %(months)s months in a row (since %(since)s): a case for the "
                     "branch under the six-month rule.", **values)
        return [tk.Alert(kind, who.home_unit_id, member_id, message, book, permission="dues.manage")]
    return _notice_alerts(member_id, who, kind, values, mine, book)


def _notice_alerts(member_id: int, who: tk.MemberContacts, kind: str, values: dict, mine: str, book: str) -> list[tk.Alert]:
    """The written notice (step 5): to the member, the home branch, the host branch and the contact person."""
    to_member = _l("Written notice: your dues have not been paid since %(since)s (months unpaid: %(months)s). "
                   "Please pay them and talk to your branch.", **values)
    to_branch = _l("Written notice to %(name)s: dues unpaid since %(since)s (months unpaid: %(months)s).", **values)
    return tk.written_notice_alerts(kind, member_id, who, to_member=to_member, to_branch=to_branch,
                                    member_url=mine, branch_url=book, home_permission="dues.manage",
                                    host_permission="dues.collect_hosted")


def _rebase_reminders(now: datetime) -> list[tk.Alert]:
    """In January: each unit whose members' profiles in force were set before this year, once per unit and year."""
    month = money.current_month(now)
    if month.month != 1:
        return []
    latest = (select(DuesProfile.member_id, func.max(DuesProfile.valid_from).label("valid_from"))
              .where(DuesProfile.valid_from <= month).group_by(DuesProfile.member_id).subquery())
    told = select(RebaseReminder.unit_id).where(RebaseReminder.year == month.year)
    rows = db.session.execute(
        select(tk.Member.home_unit_id, tk.OrgUnit.name, func.count())
        .join(latest, and_(latest.c.member_id == tk.Member.id, latest.c.valid_from < month))
        .join(tk.OrgUnit, tk.OrgUnit.id == tk.Member.home_unit_id)
        .where(tk.member_stage_filter(), tk.Member.home_unit_id.not_in(told))
        .group_by(tk.Member.home_unit_id, tk.OrgUnit.name).order_by(tk.Member.home_unit_id)).all()
    if not rows:
        return []
    db.session.execute(insert(RebaseReminder),
                       [{"unit_id": unit_id, "year": month.year, "created_at": now} for unit_id, _name, _n in rows])
    return [tk.Alert("dues.rebase", unit_id, None,
                     _l("%(unit)s: %(count)s members' dues were not re-based for %(year)s.", unit=name, count=count,
                        year=month.year),
                     tk.path_for("dues_manage.index", unit=unit_id), permission="dues.manage")
            for unit_id, name, count in rows]
