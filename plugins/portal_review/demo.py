"""Demo data: 东岭村党支部's review of last year, finished and reported, and this year's, open at mutual assessment.

Last year's round went through every step in December: everyone submitted a self-assessment, each member
rated the others (the ballots are anonymous and their links destroyed at grading), the Shenzhen branch gave
its opinion on the members it hosts (for members hosted elsewhere the assembly recorded why it went without
one), the assembly graded the full members — the first excellent when there are three or more, the last
basically qualified with an improvement plan whose first follow-up is done, the others qualified —
probationary members took part without a grade, every member got feedback, and the results were reported
upward. This year's round opened three weeks ago: the self-assessment window has closed (one member only
saved a draft), mutual assessment is open until five days from now with some ratings in (member1 rated one
member, member2 none, so both have rating to do), and the Shenzhen branch still owes its opinion on member1.

Everything goes through the services (``rounds``, ``selfassess``, ``ratings``, ``hostopinion``,
``grading``) at past moments. Idempotent: a round that exists for the branch and year is left as it is.
"""
from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_review import grading, hostopinion, ratings, rounds, selfassess
from portal_review.models import HostOpinion, ReviewEntry, ReviewRound
from portal_review.results import is_gradable

db = tk.db

SELF_TEXTS = (
    "一年来，我认真学习党的理论，按时参加组织生活和主题党日，按时足额交纳党费。在村里的人居环境整治中带头清理"
    "房前屋后，帮助独居老人办理医保。不足是理论学习不够系统，批评与自我批评不够大胆。今后要制定学习计划，"
    "多联系群众，主动承担支部安排的任务。",
    "这一年我在外务工，通过线上方式参加家乡支部的学习，在驻地支部参加组织生活和志愿服务，按时交纳党费，"
    "每季度向支部汇报思想。不足是和家乡支部联系还不够紧密。今后要及时汇报思想和工作情况，在工作岗位上发挥作用。",
    "作为预备党员，我按照入党誓词严格要求自己，认真学习党章，参加支部的各项活动。在乡村振兴项目中积极出力。"
    "不足是政策理论水平还不高，工作方法有待改进。今后要向老党员学习，争取早日成为合格的正式党员。",
)
DRAFT = "今年我主要做了以下几件事：一是认真参加支部组织的学习；二是"
#: The ratings given, in proportion (mostly qualified, some excellent, a few basically qualified).
RATING_MIX = ("excellent", "qualified", "qualified", "qualified", "excellent", "qualified", "basic")
COMMENTS = ("工作积极，乐于助人。", "学习认真，发挥了模范作用。", "希望多参加支部活动。", "", "")
HOST_OPINION = "该同志在驻地支部按时参加组织生活，积极参加志愿服务，工作中吃苦耐劳，群众评价较好。"
NO_OPINION = "流入地党组织未设门户账号，由支部委员电话了解其表现。"
FEEDBACK = {"excellent": "评为优秀，希望继续发挥先锋模范作用。", "qualified": "评为合格，希望再接再厉。",
            "basic": "评为基本合格，支部已与本人谈话，请按整改计划落实。", None: "参加了评议，希望早日成为合格的正式党员。"}
PLAN = "每月参加一次主题党日；每季度向支部书记当面汇报一次思想和工作；年中前完成一次志愿服务。"


def _at(day: date, hour: int = 20) -> datetime:
    """Naive UTC of ``hour`` o'clock local time on ``day``."""
    return tk.local_day_bounds(day)[0] + timedelta(hours=hour)


def _pick(*parts: object) -> int:
    """A stable choice from its parts (never the shared random generator, so the demo is the same each run)."""
    return zlib.crc32(":".join(str(part) for part in parts).encode())


def build(context: tk.DemoContext) -> None:
    """Last year's round reported, this year's open at mutual assessment (each only when missing)."""
    home = context.units["home"]
    today = tk.local_today(context.now)
    if not rounds.rounds_for(home, today.year - 1):
        _finished(context, home, today.year - 1)
    if not rounds.rounds_for(home, today.year):
        _open(context, home, today)
    db.session.commit()


def _entries(round_: ReviewRound) -> list[ReviewEntry]:
    return sorted(round_.entries, key=lambda entry: entry.member_id)


def _rate_all(round_: ReviewRound, raters: list[ReviewEntry], day: date, *, share: int = 1) -> None:
    """Each of ``raters`` rates the round's other members (``share`` of them, by a stable pick)."""
    everyone = _entries(round_)
    for rater in raters:
        for ratee in everyone:
            if ratee.member_id == rater.member_id or _pick(rater.member_id, ratee.member_id) % share:
                continue
            grade = RATING_MIX[_pick(round_.year, ratee.member_id, rater.member_id) % len(RATING_MIX)]
            comment = COMMENTS[_pick(rater.member_id, ratee.member_id, "c") % len(COMMENTS)]
            ratings.rate(round_, rater.member, ratee.member_id, grade, comment, today=day)


def _self_text(entry: ReviewEntry) -> str:
    if entry.member.stage == "probationary":
        return SELF_TEXTS[2]
    return SELF_TEXTS[1] if entry.host_unit_id else SELF_TEXTS[0]


def _finished(context: tk.DemoContext, home: tk.OrgUnit, year: int) -> None:
    """``year``'s round through every step in December, reported upward on the 28th."""
    dec = date(year, 12, 1)
    round_ = rounds.open_round(home, year, actor=None, now=_at(dec, 9), dates={
        "study_on": dec, "self_from": dec + timedelta(days=4), "self_until": dec + timedelta(days=13),
        "mutual_from": dec + timedelta(days=14), "mutual_until": dec + timedelta(days=20),
        "grading_on": dec + timedelta(days=24)})
    rounds.move(round_, "self", actor=None, now=_at(round_.self_from, 9))
    for entry in _entries(round_):
        selfassess.submit(entry, _self_text(entry), now=_at(round_.self_from + timedelta(days=entry.member_id % 7)))
    rounds.move(round_, "mutual", actor=None, now=_at(round_.mutual_from, 9))
    _rate_all(round_, _entries(round_), round_.mutual_from + timedelta(days=2))
    rounds.move(round_, "grading", actor=None, now=_at(round_.mutual_until + timedelta(days=1), 9))
    _host_opinions(context, round_, _at(round_.mutual_until, 10))
    _grade(round_)
    rounds.move(round_, "reported", actor=None, now=_at(dec + timedelta(days=27), 10))


def _host_opinions(context: tk.DemoContext, round_: ReviewRound, now: datetime) -> None:
    """The Shenzhen branch's secretary gives an opinion on each member it hosts."""
    secretary = context.accounts.get("host-secretary")
    host = context.units.get("host")
    if secretary is None or host is None:
        return
    for opinion in db.session.scalars(select(HostOpinion).join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
                                      .where(ReviewEntry.round_id == round_.id, HostOpinion.host_unit_id == host.id)):
        grade = "qualified" if db.session.get(ReviewEntry, opinion.entry_id).member.stage == "full" else None
        hostopinion.submit(opinion, HOST_OPINION, grade, actor=secretary, now=now)


def _grades(gradable: list[ReviewEntry]) -> dict[int, str]:
    """The first excellent (when three or more: within one third), the last basic (when two or more)."""
    grades = {entry.id: "qualified" for entry in gradable}
    if len(gradable) >= 3:
        grades[gradable[0].id] = "excellent"
    if len(gradable) >= 2:
        grades[gradable[-1].id] = "basic"
    return grades


def _grade(round_: ReviewRound) -> None:
    """Decide, plan, give feedback (as nobody: the demo, so no self-exclusion applies)."""
    gradable = [entry for entry in _entries(round_) if is_gradable(entry)]
    grades = _grades(gradable)
    day = round_.grading_on
    for entry in gradable:
        opinion = db.session.scalar(select(HostOpinion).where(HostOpinion.entry_id == entry.id))
        reason = NO_OPINION if opinion is not None and opinion.proposed_grade is None else ""
        grading.propose(entry, grades[entry.id], actor=None, now=_at(day - timedelta(days=2), 10))
        grading.decide(entry, grades[entry.id], actor=None, reason=reason, on=day)
        if grades[entry.id] == "basic":
            grading.save_plan(entry, PLAN, [
                {"due_on": date(round_.year + 1, 3, 31), "done_on": date(round_.year + 1, 3, 28),
                 "notes": "已参加三次主题党日，当面汇报一次。"},
                {"due_on": date(round_.year + 1, 6, 30), "done_on": None, "notes": ""}], actor=None)
    for entry in _entries(round_):
        grading.set_feedback(entry, FEEDBACK[grades.get(entry.id)], actor=None)


def _open(context: tk.DemoContext, home: tk.OrgUnit, today: date) -> None:
    """This year's round: self-assessment done (one draft), mutual assessment open with some ratings."""
    start = today - timedelta(days=21)
    round_ = rounds.open_round(home, today.year, actor=None, now=context.now, dates={
        "study_on": start, "self_from": start + timedelta(days=5), "self_until": today - timedelta(days=6),
        "mutual_from": today - timedelta(days=5), "mutual_until": today + timedelta(days=5),
        "grading_on": today + timedelta(days=9)})
    rounds.move(round_, "self", actor=None, now=_at(round_.self_from, 9))
    entries = _entries(round_)
    for index, entry in enumerate(entries):
        written = _at(round_.self_from + timedelta(days=index % 5))
        if index == len(entries) - 1 and len(entries) > 2:
            selfassess.save_draft(entry, DRAFT, now=written)
        else:
            selfassess.submit(entry, _self_text(entry), now=written)
    rounds.move(round_, "mutual", actor=None, now=_at(round_.mutual_from, 9))
    demo_logins = {context.accounts[name].id for name in ("member1", "member2") if name in context.accounts}
    others = [entry for entry in entries if entry.member.account_id not in demo_logins]
    _rate_all(round_, others, today - timedelta(days=2), share=2)
    member1 = next((entry for entry in entries if entry.member.account_id == getattr(
        context.accounts.get("member1"), "id", None)), None)
    if member1 is not None:
        ratee = next((entry for entry in entries if entry.member_id != member1.member_id), None)
        if ratee is not None:
            ratings.rate(round_, member1.member, ratee.member_id, "qualified", "", today=today - timedelta(days=1))
