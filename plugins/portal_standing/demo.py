"""Demo data: a year of assigned work, one member on approved leave, and members at each step of the 6-month rule.

It runs after the other plugins' demo data (``trylast``): branch life and dues are the meetings' and
dues' demo activities as they were recorded, never invented here. What a branch records is added:
assigned work done by every full and probationary member in contact with their branch, once a quarter
over the last year, the latest within the month.

The parts follow from the real history (the clock read on branch life and dues only) and the demo's
order, never from the shared random generator: the home branch's last member is on approved leave
since four months, until further notice (their months stop). Among the home branch's other members
and those hosted in Shenzhen or Hangzhou (member1 and member2 keep their own history), the first with
no gap at all stays at no step. Each step that no member reaches by their real gaps is given to the
member whose real gaps fit it best: their latest work is dated the step's months back, so the work gap
decides (a case one month past the case step). The member at the talk step has the secretary's record
of the talk held with them. Then the steps scan tells each step once and opens the cases, as the daily
scan would.

Members of branches where the meetings demo holds no meeting keep their real gap in branch life (from
the day they joined): they are at the case step, as the rule says.

Idempotent: work, leave and talks are added only for a member who has none; the scan tells once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from portal import toolkit as tk

from . import clock, records, steps
from .models import Leave, Talk, WorkDone

db = tk.db

#: The steps given to a member when nobody reaches them, highest first, with the months past the step's own.
CAST_STEPS = (("case", 1), ("notice", 0), ("talk", 0), ("reminder", 0))
#: The dimensions the demo reads (work is what it records).
REAL = ("branch_life", "dues")
#: Months of approved leave so far.
LEAVE_MONTHS = 4
#: Work is recorded this many days apart, back over a year.
WORK_EVERY = 91
WORK = ("协助村里开展人居环境整治", "参与疫苗接种现场秩序维护", "走访慰问困难老党员", "参加防汛值班",
        "为群众代办社保认证", "参与禁毒宣传")
LEAVE_REASON = "因病住院治疗，出院后在家休养，经支部委员会同意请假。"
TALK_NOTES = "支部书记与其谈心谈话，了解到近期家中农活较忙，本人表示今后按时参加支部安排的工作。"


@dataclass
class Cast:
    """Who plays which part: member id → months of work gap; the member on leave; the one the talk is held with."""

    work_gap: dict[int, int] = field(default_factory=dict)
    on_leave: tk.Member | None = None
    talked: tk.Member | None = None


def _months_back(day: date, months: int) -> date:
    """The same day number ``months`` earlier (the 28th at most)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, 28))


def _recorder(context: tk.DemoContext, member: tk.Member) -> tk.Account:
    """Who keeps the member's record: the home branch's secretary, else the county's organizer."""
    if member.home_unit_id == context.units["home"].id and "home-secretary" in context.accounts:
        return context.accounts["home-secretary"]
    return context.accounts["organizer"]


def _counted(context: tk.DemoContext) -> list[tk.Member]:
    """Full and probationary members in contact with their branch, in the demo's order."""
    return [m for m in context.members if tk.is_member_stage(m.stage) and not m.lost_contact]


def _cast(context: tk.DemoContext, counted: list[tk.Member]) -> Cast:
    """The parts, from the members' real gaps in branch life and dues (see the module's docstring)."""
    home_id = context.units["home"].id
    home = [m for m in counted[2:] if m.home_unit_id == home_id]
    cast = Cast(on_leave=home[-1] if home else None)
    candidates = [m for m in home + [m for m in counted[2:] if m.home_unit_id != home_id and m.host_unit_id]
                  if m is not cast.on_leave]
    gaps = clock.standings(select(tk.Member.id).where(tk.Member.id.in_([m.id for m in counted])), context.now)
    limits = clock.thresholds()
    real = {m.id: max(gaps[m.id].months_without.get(dim) or 0 for dim in REAL) for m in counted if m.id in gaps}
    used = {cast.on_leave.id} if cast.on_leave is not None else set()
    used |= {next((m.id for m in candidates if real.get(m.id) == 0), 0)}  # stays at no step
    for step, extra in CAST_STEPS:
        months = limits[step] + extra
        player = next((m for m in counted if m.id not in used and m.id in real
                       and clock.step_for(real[m.id], limits) == step), None)
        if player is None:  # nobody there by their real gaps: the best fit gets a work gap of the step's months
            fitting = [m for m in candidates if m.id not in used and real.get(m.id, months + 1) <= months]
            player = max(fitting, key=lambda m: real[m.id], default=None)
            if player is not None:
                cast.work_gap[player.id] = months
        if player is not None:
            used.add(player.id)
            cast.talked = player if step == "talk" else cast.talked
    return cast


def _has(model, member: tk.Member) -> bool:
    return db.session.scalar(select(model.id).where(model.member_id == member.id).limit(1)) is not None


def _work(context: tk.DemoContext, member: tk.Member, last: date) -> None:
    """Work done once a quarter, back over a year from ``last``."""
    today = tk.local_today(context.now)
    day, index = last, 0
    while day > today - timedelta(days=365):
        records.record_work(member, {"done_on": day.isoformat(), "description": WORK[(member.id + index) % len(WORK)]},
                            by=_recorder(context, member), now=context.now)
        day, index = day - timedelta(days=WORK_EVERY), index + 1


def build(context: tk.DemoContext) -> None:
    """Work, the leave, the recorded talk and the steps told, once."""
    if "home" not in context.units or "organizer" not in context.accounts:
        return
    today = tk.local_today(context.now)
    counted = _counted(context)
    cast = _cast(context, counted)
    leave_start = _months_back(today, LEAVE_MONTHS)
    for member in counted:
        if _has(WorkDone, member):
            continue
        if member is cast.on_leave:
            last = leave_start - timedelta(days=3)
        elif member.id in cast.work_gap:
            last = _months_back(today, cast.work_gap[member.id]) - timedelta(days=5)
        else:
            last = today - timedelta(days=10 + member.id % 15)
        _work(context, member, last)
    if cast.on_leave is not None and not _has(Leave, cast.on_leave):
        records.record_leave(cast.on_leave, {"starts_on": leave_start.isoformat(), "reason": LEAVE_REASON},
                             by=_recorder(context, cast.on_leave), now=context.now)
    if cast.talked is not None and not _has(Talk, cast.talked):
        records.record_talk(cast.talked, {"held_on": (today - timedelta(days=5)).isoformat(), "notes": TALK_NOTES},
                            by=_recorder(context, cast.talked), now=context.now)
    db.session.flush()
    tk.deliver_alerts(steps.scan(context.now))
    db.session.flush()
