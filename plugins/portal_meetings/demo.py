"""Demo data: this quarter's meetings in the demo branches, one called for next week, one cancelled, and a
notice waiting to be signed for.

The home village branch, the Shenzhen and the Hangzhou mobile members' branches each hold, up to
yesterday, a committee meeting and a theme day every month of the current quarter, one branch assembly
and one party lecture (both on site and online). The past meetings are recorded afterwards (draft,
then held, so nobody's inbox fills with old calls), except the home branch's assembly, which was called
in advance so member1 (away in Shenzhen) could ask for leave and have it approved. Attendance goes
through ``attendance.check_in`` (the scanned code, or joining online) and the register (``mark``), so
every attendance is one activity — and one points entry — and members hosted in Shenzhen are counted for
their home branch (``at_host``). Who comes is decided by a hash of the meeting and the member, not by the
shared random generator, so the other plugins' demo data does not change with this one.

Idempotent: a meeting is looked up by its unit and topic, the notice by its unit and title.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import toolkit as tk

from . import attendance, meetings, notices
from .models import Meeting, Notice

db = tk.db

#: The demo's units that hold meetings, with the account that keeps their register (the county's
#: organizer keeps Hangzhou's: that branch has no secretary account in the demo).
BRANCHES = (("home", "home-secretary", "东岭村党员活动室"),
            ("host", "host-secretary", "深圳市宝安区流动党员服务站"),
            ("host2", "organizer", "杭州市余杭区党群服务中心"))
ONLINE_URL = "https://meeting.example.cn/qingshan"
#: kind → (day of the month, local start, minutes, mode); clamped to yesterday in the current month.
#: (The home-coming talk is not held every month: it has no day.)
SCHEDULE = {"committee": (5, (19, 30), 90, "onsite"), "theme_day": (12, (9, 0), 150, "onsite"),
            "assembly": (18, (14, 30), 120, "hybrid"), "lecture": (24, (19, 30), 90, "hybrid"),
            "homecoming": (0, (14, 30), 120, "hybrid")}
THEME_DAYS = {1: "学习新修订的党章", 2: "清明祭扫革命烈士墓", 3: "参观红色教育基地", 4: "学习贯彻全会精神",
              5: "“我为群众办实事”志愿服务", 6: "重温入党誓词", 7: "庆祝建党节", 8: "环境整治义务劳动",
              9: "走访慰问老党员", 10: "重阳敬老志愿服务", 11: "冬季消防安全宣传", 12: "年终走访困难党员群众"}
ASSEMBLY = "第%(q)s季度支部党员大会：通报支部工作、民主评议准备"
LECTURE = "党课：新时代流动党员的初心和使命"
COMMITTEE = "%(m)s月支委会：研究支部本月工作"
UPCOMING = "党课：学习贯彻党的二十届四中全会精神"
CANCELLED = "返乡流动党员座谈会"
CANCEL_REASON = "返乡人员尚少，改到春节前另行通知。"
LEAVE_REASON = "在深圳务工，已在驻深圳支部参加组织生活。"
NOTICE = "关于开展冬季走访慰问活动的通知"
NOTICE_BODY = ("各位党员：\n\n支部定于近期开展冬季走访慰问困难党员群众活动。请在家党员报名参加走访，"
               "在外党员可通过电话了解老家亲友困难情况并反馈支部。\n\n请于截止时间前签收本通知。")
MINUTES = "会议由支部书记主持，传达了上级有关精神，与会党员结合实际进行了讨论。"
DECISIONS = "一、按计划推进支部重点工作；二、做好流动党员联系服务。"


def _local(day: date, hour_minute: tuple[int, int]) -> str:
    """A local time as the forms and the API take it."""
    return f"{day.isoformat()}T{hour_minute[0]:02d}:{hour_minute[1]:02d}"


def _quarter_months(today: date) -> list[date]:
    """The first days of this quarter's months that have at least one day before today."""
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    months = [first.replace(month=first.month + i) for i in range(3)]
    return [month for month in months if month < today]


def _schedule(today: date) -> list[tuple[str, date, str]]:
    """``(kind, day, topic)`` of the meetings each branch held this quarter up to yesterday."""
    months = _quarter_months(today)
    if not months:
        return []
    yesterday = today - timedelta(days=1)
    quarter = (months[0].month - 1) // 3 + 1

    def day_in(month: date, kind: str) -> date:
        return min(month.replace(day=SCHEDULE[kind][0]), yesterday)

    held = []
    for month in months:
        held.append(("committee", day_in(month, "committee"), COMMITTEE % {"m": month.month}))
        held.append(("theme_day", day_in(month, "theme_day"),
                     f"{month.month}月主题党日：{THEME_DAYS[month.month]}"))
    held.append(("assembly", day_in(months[0], "assembly"), ASSEMBLY % {"q": quarter}))
    held.append(("lecture", day_in(months[min(1, len(months) - 1)], "lecture"), LECTURE))
    return held


def _existing(unit, topic: str) -> Meeting | None:
    return db.session.scalar(select(Meeting).where(Meeting.unit_id == unit.id, Meeting.topic == topic))


def _data(kind: str, topic: str, day: date, place: str, **extra) -> dict:
    _day, start, minutes, mode = SCHEDULE[kind]
    begins = datetime.combine(day, datetime.min.time()).replace(hour=start[0], minute=start[1])
    ends = begins + timedelta(minutes=minutes)
    data = {"kind": kind, "topic": topic, "starts_at": _local(day, start), "ends_at": _local(ends.date(), (
        ends.hour, ends.minute)), "mode": mode, "place": place,
        "online_url": ONLINE_URL if mode != "onsite" else None, "agenda": "一、学习；二、讨论；三、布置工作。"}
    data.update(extra)
    return data


def _chance(meeting: Meeting, member) -> float:
    """A stable number in [0, 1) for this member at this meeting (the same on every run)."""
    return random.Random(f"{meeting.unit_id}:{meeting.topic}:{member.id}").random()


def _committee(unit, members) -> list:
    """Three members sit on the branch committee (at home for a village branch, hosted for a mobile one)."""
    own = [m for m in members if m.home_unit_id == unit.id and not m.is_away]
    own = own or [m for m in members if m.host_unit_id == unit.id]
    return [m for m in own if tk.is_member_stage(m.stage)][:3]


def _take_attendance(meeting: Meeting, secretary) -> None:
    """Most scan the code, a few join online (hybrid meetings) or are ticked, some stay away."""
    start = meeting.starts_at
    for index, row in enumerate(sorted(meeting.attendees, key=lambda r: r.member_id)):
        member = row.member
        if row.status == "leave":
            continue
        chance = _chance(meeting, member)
        away_from_here = member.is_away and member.home_unit_id == meeting.unit_id
        at = start + timedelta(minutes=index % 15)
        if member.lost_contact:  # nobody has reached them: they attend nothing (and the lost-contact case stays open)
            attendance.mark(meeting, member, "absent", by=secretary, now=meeting.ends_at)
        elif away_from_here or chance >= 0.92:
            # a member working away joins every meeting that can be joined online (the demo's online attendance
            # must not hang on which ids the database handed out); others who stay away sometimes do too
            if meeting.mode != "onsite" and (away_from_here or chance < 0.6):
                attendance.check_in(meeting, member, None, now=at)  # joined through the portal
            else:
                attendance.mark(meeting, member, "absent", by=secretary, now=meeting.ends_at)
        elif chance < 0.75:
            attendance.check_in(meeting, member, attendance.current_code(meeting, at), now=at)
        elif chance < 0.85 or meeting.mode == "onsite":
            attendance.mark(meeting, member, "present", by=secretary, now=at)
        else:
            attendance.mark(meeting, member, "online", by=secretary, now=at)


def _hold(unit, secretary, place: str, kind: str, day: date, topic: str, members, now) -> None:
    """One past meeting, recorded from beginning to end (minuted; archived when over a month old)."""
    data = _data(kind, topic, day, place, host_name=secretary.display_name, recorder_name="支部组织委员",
                 lecturer_name=secretary.display_name if kind == "lecture" else None)
    leave = bool(members) and kind == "assembly" and unit.id == members[0].home_unit_id
    meeting = meetings.create_meeting(unit, data, by=secretary, call=False,
                                      now=tk.local_day_bounds(day)[0] - timedelta(days=7))
    if kind == "committee":
        for member in _committee(unit, members):
            meetings.add_attendee(meeting, member, "committee", by=secretary)
    if leave:  # called in advance: member1 asks for leave the day before and the secretary approves
        meetings.call_meeting(meeting, by=secretary, now=meeting.starts_at - timedelta(days=7))
        attendance.request_leave(meeting, members[0], LEAVE_REASON, now=meeting.starts_at - timedelta(days=1))
        attendance.decide_leave(meeting, members[0], True, by=secretary,
                                now=meeting.starts_at - timedelta(hours=20))
    meetings.mark_held(meeting, by=secretary, now=meeting.starts_at)
    _take_attendance(meeting, secretary)
    if meeting.ends_at + timedelta(days=1) > now:
        return  # yesterday's meeting: held, the minutes still to write
    meetings.record_minutes(meeting, {"minutes": MINUTES, "decisions": DECISIONS}, by=secretary,
                            now=meeting.ends_at + timedelta(days=1))
    if meeting.ends_at + timedelta(days=30) < now:
        meetings.archive_meeting(meeting, by=secretary, now=meeting.ends_at + timedelta(days=30))


def _upcoming_and_cancelled(context, secretary, place: str) -> None:
    """The home branch called a lecture for next week and cancelled a home-coming talk."""
    home, today = context.units["home"], tk.local_today(context.now)
    if _existing(home, UPCOMING) is None:
        meetings.create_meeting(home, _data("lecture", UPCOMING, today + timedelta(days=7), place,
                                            lecturer_name=secretary.display_name),
                                by=secretary, now=context.now - timedelta(hours=2))
    if _existing(home, CANCELLED) is None:
        data = _data("homecoming", CANCELLED, today + timedelta(days=4), place)
        meeting = meetings.create_meeting(home, data, by=secretary, now=context.now - timedelta(days=3))
        meetings.cancel_meeting(meeting, CANCEL_REASON, by=secretary, now=context.now - timedelta(days=1))


def _notice(context, secretary) -> None:
    """A notice to the home branch's members to sign for within three days: two read it, one signed."""
    home = context.units["home"]
    if db.session.scalar(select(Notice.id).where(Notice.unit_id == home.id, Notice.title == NOTICE)):
        return
    sent = context.now - timedelta(hours=26)
    deadline = tk.to_local(context.now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    notice = notices.send_notice(home, {"audience": "unit", "kind": "general", "title": NOTICE, "body": NOTICE_BODY,
                                        "requires_ack": True, "deadline": deadline}, by=secretary, now=sent)
    readers = [m for m in context.members if m.home_unit_id == home.id and m is not context.members[0]][:2]
    for hours, member in enumerate(readers, start=1):
        receipt = notices.receipt_of(notice, member)
        if receipt is not None:  # opening a notice commits (a page GET); here the demo's transaction holds it
            receipt.read_at = sent + timedelta(hours=hours)
    if readers:
        notices.acknowledge(notice, readers[0], now=sent + timedelta(hours=2), reply="收到，我报名参加走访。")


def build(context: tk.DemoContext) -> None:
    """Create this quarter's meetings, the upcoming and cancelled ones and the notice, once."""
    members = list(context.members)
    today = tk.local_today(context.now)
    for unit_key, username, place in BRANCHES:
        unit, secretary = context.units.get(unit_key), context.accounts.get(username)
        if unit is None or secretary is None:
            continue
        for kind, day, topic in _schedule(today):
            if _existing(unit, topic) is None:
                _hold(unit, secretary, place, kind, day, topic, members, context.now)
    secretary, place = context.accounts.get("home-secretary"), BRANCHES[0][2]
    if secretary is not None and "home" in context.units:
        _upcoming_and_cancelled(context, secretary, place)
        _notice(context, secretary)
    db.session.flush()
