"""Demo data: a year of personal reports for the home branch's members and those hosted in Shenzhen, and the suggestion box.

Every member of 东岭村党支部 (and every member hosted by the Shenzhen branch) who writes reports at
their stage gets, for each of their periods that ended in the last twelve months, a report submitted
some days before the period ended — quarterly for those away and the probationary, yearly for full
members at home — through ``writing.submit`` at that moment, so each is one ``report.submitted``
activity. About one in five is missing (decided by a hash of the member and the period, never by the
shared random generator), so the overdue list has names. The readers (the home branch's secretary, or
the county's organizer for branches without a secretary account) open them (audited) and comment on
every third; the latest period's reports are left unread for the inbox. member1 shares his reports with
the Shenzhen branch, whose secretary read one; one of his earlier reports was returned for more and
resubmitted. member2's report for the last period was returned with a comment and waits for him, and he
keeps a draft for the current one.

member2 sent a named suggestion to the home branch, answered and put in the digest; an anonymous one
(to the Shenzhen branch, from member1) waits for an answer — its reply token is thrown away, as a real
author's would be kept only by them.

Idempotent: a report is looked up by its member and period, a suggestion by its unit and text.
"""
from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import toolkit as tk

from . import reading, schedule, suggestions, writing
from .models import Report, Suggestion

db = tk.db

#: One report in this many is missing (by a hash of the member and the period).
MISSING_ONE_IN = 5
BODIES = (
    "本季度我认真学习了党的理论和路线方针政策，按时参加组织生活，按时交纳党费。在工作中严格要求自己，"
    "努力做好本职工作，积极帮助身边的群众。不足之处是理论学习还不够系统，下一步要制定学习计划，"
    "坚持每天学习，进一步提高自己的思想觉悟。",
    "这段时间在外务工，我通过线上方式参加了支部的学习，和驻地支部的同志们一起参加了志愿服务。"
    "虽然离家较远，但始终牢记自己是一名党员，在工地上主动承担急难险重任务。今后要加强和家乡支部的联系，"
    "及时汇报思想和工作情况。",
    "通过学习新修订的党章，我对党员的权利和义务有了更深的认识。在村里的环境整治中，我带头清理"
    "房前屋后的垃圾，动员邻居一起参加。自己在批评与自我批评方面做得还不够，今后要敢于指出问题。",
)
RESUBMITTED = ("补充汇报：按照支部的意见，我补充了参加驻地支部组织生活和志愿服务的具体情况，"
               "以及对自身不足的进一步剖析和整改措施。")
DRAFT = "本季度思想汇报（草稿）：这个季度主要学习了"
COMMENT = "汇报内容实在，希望继续加强理论学习，多联系工作实际。"
RETURN_NOTE = "请补充本季度参加组织生活的具体情况，以及下一步的整改措施。"
HOST_COMMENT = "在驻地支部表现积极，志愿服务认真负责。"
NAMED_SUGGESTION = "建议支部把每月主题党日的时间提前公布，方便在外务工的党员安排时间参加线上学习。"
NAMED_REPLY = "感谢您的建议。支部决定从下月起，每月主题党日的时间在月初的支部群和门户上提前公布。"
ANONYMOUS_SUGGESTION = "建议驻深圳支部在周末多组织几次集中学习，工作日晚上加班多，很难按时参加。"


def _at(day: date, hour: int = 20) -> datetime:
    """Naive UTC of ``hour`` o'clock local time on ``day``."""
    return tk.local_day_bounds(day)[0] + timedelta(hours=hour)


def _hash(*parts: object) -> int:
    return zlib.crc32(":".join(str(part) for part in parts).encode())


def _reporters(context: tk.DemoContext) -> list[tk.Member]:
    """The demo members who report: the home branch's and those hosted in Shenzhen, in the demo's order."""
    home, host = context.units["home"].id, context.units.get("host")
    host_id = host.id if host is not None else None
    return [m for m in context.members if schedule.frequency_for(m) and m.account_id is not None
            and (m.home_unit_id == home or (host_id is not None and m.host_unit_id == host_id))]


def _reader(context: tk.DemoContext, member: tk.Member) -> tk.Account:
    """Who reads the member's reports: the home branch's secretary, else the county's organizer."""
    if member.home_unit_id == context.units["home"].id and "home-secretary" in context.accounts:
        return context.accounts["home-secretary"]
    return context.accounts["organizer"]


def _past_periods(member: tk.Member, today: date) -> list[schedule.Period]:
    """The member's periods that ended in the last twelve months, oldest first."""
    current = schedule.current_period(member, today)
    periods, period = [], current.previous()
    while period.end > today - timedelta(days=365):
        periods.append(period)
        period = period.previous()
    return periods[::-1]


def _submit(member: tk.Member, period: schedule.Period, body: str, *, now: datetime) -> Report:
    """Submit at ``now`` (some days before the period ended: then it is the member's current period)."""
    share = member.host_unit_id is not None and member.is_away
    return writing.submit(member, period.key, body, share_with_host=share, now=now)


def _read(report: Report, reader: tk.Account, at: datetime, *, comment: str | None = None,
          returned: bool = False) -> None:
    reading.open_report(report, reader, now=at)
    if comment:
        reading.comment(report, reader, comment, returned=returned, now=at)


def _member_reports(context: tk.DemoContext, member: tk.Member, position: int) -> None:
    """The member's year of reports: some missing, older ones read (every third commented), the latest unread."""
    today = tk.local_today(context.now)
    periods = _past_periods(member, today)
    reader = _reader(context, member)
    for index, period in enumerate(periods):
        if writing.get_report(member, period.key) is not None:
            continue
        latest = index == len(periods) - 1
        if position > 1 and _hash(member.id, period.key) % MISSING_ONE_IN == 0:
            continue
        sent = _at(period.end - timedelta(days=3 + _hash(period.key, member.id) % 10))
        read_at = min(sent + timedelta(days=2), context.now - timedelta(hours=2))
        report = _submit(member, period, BODIES[(position + index) % len(BODIES)], now=sent)
        if position == 0 and index == len(periods) - 2:  # member1: returned for more, then resubmitted
            _read(report, reader, read_at, comment=RETURN_NOTE, returned=True)
            writing.submit(member, period.key, report.body + "\n\n" + RESUBMITTED,
                           now=min(read_at + timedelta(days=2), context.now - timedelta(hours=1)))
        elif position == 1 and latest:  # member2: returned for more, waiting for him
            _read(report, reader, read_at, comment=RETURN_NOTE, returned=True)
        elif position == 0 and latest and "host-secretary" in context.accounts:  # shared: the host reads it
            _read(report, context.accounts["host-secretary"], read_at, comment=HOST_COMMENT)
        elif not latest:
            _read(report, reader, read_at, comment=COMMENT if index % 3 == 0 else None)


def _draft(context: tk.DemoContext, member: tk.Member) -> None:
    """member2's draft for the current period, saved yesterday."""
    current = schedule.current_period(member, tk.local_today(context.now))
    if current is not None and writing.get_report(member, current.key) is None:
        writing.save_draft(member, current.key, DRAFT, now=context.now - timedelta(days=1))


def _find(unit: tk.OrgUnit, body: str) -> Suggestion | None:
    return db.session.scalar(select(Suggestion).where(Suggestion.unit_id == unit.id, Suggestion.body == body))


def _suggestions(context: tk.DemoContext, members: list[tk.Member]) -> None:
    """member2's named suggestion (answered, in the digest) and an anonymous one from member1 (waiting)."""
    home = context.units["home"]
    second = next((m for m in members[1:2] if m.home_unit_id == home.id), None)
    if second is not None and _find(home, NAMED_SUGGESTION) is None:
        sent = context.now - timedelta(days=12)
        suggestion, _token = suggestions.submit(second, {"target": "home", "body": NAMED_SUGGESTION}, now=sent)
        suggestions.reply(suggestion, NAMED_REPLY, by=_reader(context, second), digest=True,
                          now=context.now - timedelta(days=5))
    first = next((m for m in members[:1] if m.host_unit_id is not None), None)
    if first is not None and _find(first.host_unit, ANONYMOUS_SUGGESTION) is None:
        suggestions.submit(first, {"target": "host", "anonymous": True, "body": ANONYMOUS_SUGGESTION},
                           now=context.now - timedelta(days=3))


def build(context: tk.DemoContext) -> None:
    """A year of reports, the returns, the draft and the two suggestions, once."""
    if "home" not in context.units or "organizer" not in context.accounts:
        return
    reporters = _reporters(context)
    for member in reporters:  # member1 is 0, member2 is 1: they play the parts above
        _member_reports(context, member, context.members.index(member))
    if len(context.members) > 1 and context.members[1] in reporters:
        _draft(context, context.members[1])
    _suggestions(context, context.members)
    db.session.flush()
