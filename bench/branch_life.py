"""Branch life at scale for ``bench/generate.py``: meetings, dues, reports, development cases, annual review.

Rows are written the way the plugins' services would leave them (``portal_meetings``, ``portal_dues``,
``portal_reports``, ``portal_development``, ``portal_review``; values from their models and demo data),
in bulk through the generator's :class:`Loader`. What is left out, to keep the activity volume the
``--activities`` knob sets: the ``meeting.attended`` / ``dues.paid`` / ``report.submitted`` activities (and
points) the services would record (``activity_id`` stays NULL) — pages list meetings, payments and reports
from their own tables, and the review's evidence counts from them too.

* **meetings**: over the two years each branch holds its monthly committee meeting (the secretary), each party
  group its monthly group meeting, each branch a quarterly assembly and a quarterly party lecture (both hybrid),
  for its own members (its subtree's full and probationary members) and, for a mobile members' branch, the
  members it hosts; attendance per person (scanned in, ticked, online, leave approved, absent), statuses held →
  minuted → archived as time passed; next week's assembly called with everybody expected. A notice a quarter
  per branch (read, most signed for) and this week's one waiting to be signed for.
* **dues**: a profile per full and probationary member (salaried, retired, farmer, student … with base, rate and
  the monthly amount by the plugin's default tiers, re-based in January), every month of the two years paid
  (monthly, or by the quarter) with its receipt code; ~6 % of the members one to seven months behind.
* **reports**: every member who reports at their stage (the plugin's default frequencies: quarterly away and
  below full, yearly at home) for each period ended in the two years, about one in six missing; older ones read,
  every third commented; three suggestions per branch (half anonymous).
* **development**: per village branch the applicants, activists, candidates and probationary members of the
  member table get a case at their stage with every step up to it (dates counted back from today), a mentor
  from the activist stage; plus one case per branch closed at full membership.
* **review**: last year's round of every village branch, reported: an entry per member whose home is the
  branch (the service's rule), self-assessment, grade (full members; a third excellent at most), feedback,
  host opinions for members away, about eight anonymous ratings given per member.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import partial
from decimal import ROUND_HALF_UP, Decimal

TZ = timedelta(hours=8)

MEETING_PLACES = ("村党群服务中心", "村委会会议室", "党员活动室", "流动党员服务站")
ONLINE_URL = "https://meeting.example.cn/qingshan"
AGENDA = "一、学习；二、讨论；三、布置工作。"
MINUTES = "会议由支部书记主持，传达了上级有关精神，与会党员结合实际进行了讨论。"
DECISIONS = "一、按计划推进支部重点工作；二、做好流动党员联系服务。"
LEAVE_REASON = "在外务工，无法按时参加。"
NOTICE_TITLES = ("关于开展主题党日活动的通知", "关于按时交纳党费的通知", "关于报送思想汇报的通知",
                 "关于开展冬季走访慰问活动的通知", "关于参加网上党校学习的通知")
NOTICE_BODY = "各位党员：\n\n请按通知要求参加活动，在外党员可通过线上方式参加。\n\n请于截止时间前签收本通知。"
REPORT_BODIES = (
    "本期我认真学习了党的理论和路线方针政策，按时参加组织生活，按时交纳党费。在工作中严格要求自己，"
    "努力做好本职工作。不足之处是理论学习还不够系统，下一步要制定学习计划。",
    "这段时间在外务工，我通过线上方式参加了支部的学习，和驻地支部的同志们一起参加了志愿服务。"
    "今后要加强和家乡支部的联系，及时汇报思想和工作情况。",
    "通过学习新修订的党章，我对党员的权利和义务有了更深的认识。在村里的环境整治中带头清理垃圾。"
    "自己在批评与自我批评方面做得还不够，今后要敢于指出问题。",
)
COMMENT = "汇报内容实在，希望继续加强理论学习，多联系工作实际。"
SUGGESTIONS = ("建议把主题党日的时间提前公布，方便在外务工的党员参加线上学习。", "建议周末多组织几次集中学习。",
               "建议支部多走访慰问困难老党员。")
REPLY = "感谢您的建议，支部已研究落实。"
SELF_TEXT = ("一年来，我认真学习党的理论，按时参加组织生活和主题党日，按时足额交纳党费。不足是理论学习不够系统，"
             "批评与自我批评不够大胆。今后要制定学习计划，多联系群众。")
FEEDBACK = {"excellent": "评为优秀，希望继续发挥先锋模范作用。", "qualified": "评为合格，希望再接再厉。",
            "basic": "评为基本合格，支部已与本人谈话，请按整改计划落实。", None: "参加了评议，希望早日成为合格的正式党员。"}
HOST_OPINION = "该同志在驻地支部按时参加组织生活，积极参加志愿服务，群众评价较好。"
RATINGS = ("excellent", "qualified", "qualified", "qualified", "excellent", "qualified", "basic")
#: (category, share) of dues payers; salaried bases are drawn per member.
DUES_CATEGORIES = (["salaried", "retired", "farmer", "student", "unemployed", "self_employed"], [45, 15, 25, 3, 4, 8])
SALARIED_TIERS = ((Decimal(3000), Decimal("0.005")), (Decimal(5000), Decimal("0.01")),
                  (Decimal(10000), Decimal("0.015")), (None, Decimal("0.02")))
RETIRED_TIERS = ((Decimal(5000), Decimal("0.005")), (None, Decimal("0.01")))
CENT = Decimal("0.01")
#: The development steps of each stage, in order (portal_development.vocabulary.STEPS), with days after applying.
DEV_STEPS = {
    "applicant": [("application", 0), ("talk", 12)],
    "activist": [("activist_decision", 40), ("activist_filing", 45), ("mentors_assigned", 47), ("assessment", 190),
                 ("assessment", 340)],
    "candidate": [("candidate_decision", 410), ("candidate_filing", 413), ("introducers", 415),
                  ("political_review", 425), ("training", 430), ("branch_review", 435), ("committee_prereview", 440),
                  ("application_form", 443), ("admission_vote", 460), ("committee_talk", 470)],
    "probationary": [("admission_approval", 490), ("admission_filing", 495), ("group_assignment", 496),
                     ("oath", 500), ("probation_education", 580)],
    "full": [("conversion_application", 835), ("conversion_vote", 860), ("conversion_approval", 885),
             ("archive", 895)],
}
DEV_STAGES = ("applicant", "activist", "candidate", "probationary", "full")
#: Days a case at each stage applied before today (spread ± a fifth).
DEV_AGE = {"applicant": 60, "activist": 300, "candidate": 470, "probationary": 700, "full": 1000}


class Life:
    """What every part needs: the clock, the members by unit, the branches and their secretaries."""

    def __init__(self, loader, rng: random.Random, clock, people, units: list[dict], bool_) -> None:
        self.loader, self.rng, self.clock, self.people, self.bool_ = loader, rng, clock, people, bool_
        self.units = units
        self.today = clock.first + timedelta(days=len(clock.day_keys) - 1)
        self.by_id = {u["id"]: u for u in units}
        self.branch_of = {}  # unit id → the branch keeping it (a group's village branch)
        for unit in units:
            if unit["kind"] == "branch":
                self.branch_of[unit["id"]] = unit["id"]
            elif unit["kind"] == "group":
                self.branch_of[unit["id"]] = unit["parent"]
        self.branches = [u for u in units if u["kind"] == "branch"]
        self.groups = [u for u in units if u["kind"] == "group"]
        self.home_of: dict[int, list[int]] = defaultdict(list)  # unit id → member ids at home there
        self.hosted_at: dict[int, list[int]] = defaultdict(list)  # mobile branch → members away hosted there
        for index, home in enumerate(people.home):
            mid = index + 1
            if people.stage[index] not in ("full", "probationary"):
                continue
            self.home_of[home].append(mid)
            host = people.host[index]
            if host is not None and people.away[index]:
                self.hosted_at[host].append(mid)
        self.subtree: dict[int, list[int]] = {}
        for branch in self.branches:
            ids = list(self.home_of.get(branch["id"], []))
            for group in self.groups_of(branch["id"]):
                ids += self.home_of.get(group, [])
            self.subtree[branch["id"]] = sorted(ids)
        #: unit id → the secretary's member id (a member's account id is its member id), and the account that
        #: keeps the unit's books (also the demo's host-secretary, who is no member)
        self.secretary: dict[int, int] = dict(people.secretaries)
        self.officer: dict[int, int] = {**people.secretaries, people.demo["host_unit"]: people.demo["host-secretary"]}
        self.now = self.ts(self.today, 12 * 3600)

    _groups: dict[int, list[int]] | None = None

    def groups_of(self, branch_id: int) -> list[int]:
        if self._groups is None:
            self._groups = defaultdict(list)
            for group in self.groups:
                self._groups[group["parent"]].append(group["id"])
        return self._groups.get(branch_id, [])

    @staticmethod
    def ts(day: date, second: int) -> str:
        """Naive UTC ``YYYY-MM-DD HH:MM:SS.000000`` of local ``day`` at ``second`` past local midnight."""
        moment = datetime(day.year, day.month, day.day) + timedelta(seconds=second) - TZ
        return moment.strftime("%Y-%m-%d %H:%M:%S.000000")

    def months(self) -> list[date]:
        """First days of the months of the two years, oldest first (the current month included)."""
        first = self.clock.first.replace(day=1)
        result, month = [], first
        while month <= self.today:
            result.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return result


def build_branch_life(loader, rng: random.Random, clock, people, units: list[dict], bool_) -> dict[str, float]:
    """Write every part; returns seconds per part."""
    from portal.extensions import db

    life = Life(loader, rng, clock, people, units, bool_)
    parts = (("meetings", "meetings_meeting", build_meetings), ("dues", "dues_profile", build_dues),
             ("reports", "reports_report", build_reports), ("development", "development_case", build_development),
             ("review", "review_round", build_review))
    seconds = {}
    for name, table, build in parts:
        if table not in db.metadata.tables:
            continue
        started = time.perf_counter()
        build(life)
        loader.commit()
        seconds[f"{name} (rows and Python)"] = time.perf_counter() - started
    return seconds


#: The tables written here whose indexes the generator drops during the load and rebuilds after it.
BIG_TABLES = ["meetings_meeting", "meetings_attendee", "meetings_notice", "meetings_notice_receipt", "dues_profile",
              "dues_payment", "dues_payment_month", "reports_report", "reports_comment", "reports_suggestion",
              "development_case", "development_step", "development_mentor", "review_round", "review_entry",
              "review_host_opinion", "review_rating"]
#: Tables whose id sequence moves past the ids written here (PostgreSQL).
ID_TABLES = BIG_TABLES


# -- meetings ---------------------------------------------------------------------------------------------------------

MEETING_COLUMNS = ("id", "unit_id", "kind", "topic", "starts_at", "ends_at", "place", "mode", "online_url",
                   "host_name", "recorder_name", "lecturer_name", "agenda", "minutes", "decisions", "status",
                   "cancel_reason", "checkin_secret", "created_by_account_id", "created_at", "updated_at",
                   "notified_at", "held_at", "minuted_at", "archived_at", "cancelled_at", "reminded_at",
                   "excluded_member_ids")
ATTENDEE_COLUMNS = ("id", "meeting_id", "member_id", "role", "automatic", "status", "method", "checked_in_at",
                    "confirmed_by_account_id", "leave_reason", "leave_state", "leave_requested_at",
                    "leave_decided_by_account_id", "leave_decided_at", "activity_id")


def build_meetings(life: Life) -> None:
    rng, b = life.rng, life.bool_
    meetings, attendees = [], []
    counter = {"meeting": 0, "attendee": 0}
    people = life.people

    def meeting(unit_id: int, kind: str, topic: str, day: date, start: tuple[int, int], minutes: int, mode: str,
                expected: list[tuple[int, str]], upcoming: bool = False) -> None:
        counter["meeting"] += 1
        mid = counter["meeting"]
        begins = start[0] * 3600 + start[1] * 60
        starts, ends = life.ts(day, begins), life.ts(day, begins + minutes * 60)
        secretary = life.officer.get(life.branch_of.get(unit_id, unit_id))
        age = (life.today - day).days
        if upcoming:
            status, held, minuted, archived = "notified", None, None, None
        else:
            held = starts
            minuted = life.ts(day + timedelta(days=1), 10 * 3600) if age >= 2 else None
            archived = life.ts(day + timedelta(days=30), 10 * 3600) if age > 31 else None
            status = "archived" if archived else "minuted" if minuted else "held"
        notified = life.ts(day - timedelta(days=7), 9 * 3600)
        online = ONLINE_URL if mode != "onsite" else None
        meetings.append((mid, unit_id, kind, topic, starts, ends, MEETING_PLACES[unit_id % len(MEETING_PLACES)], mode,
                         online, None, None, None, AGENDA, MINUTES if minuted else "", DECISIONS if minuted else "",
                         status, None, hashlib.sha256(f"{mid}".encode()).hexdigest(), secretary, notified,
                         archived or minuted or held or notified, notified, held, minuted, archived, None, None, "[]"))
        checkins = [life.ts(day, begins - 600 + 60 * k) for k in range(15)]
        for member_id, role in expected:
            counter["attendee"] += 1
            away_from_here = people.away[member_id - 1] and role != "hosted"
            if upcoming:
                leave = away_from_here and rng.random() < 0.2
                attendees.append((counter["attendee"], mid, member_id, role, b(True),
                                  "leave_requested" if leave else "expected", None, None, None,
                                  LEAVE_REASON if leave else None, "requested" if leave else None,
                                  notified if leave else None, None, None, None))
                continue
            chance = rng.random()
            status, method, at, leave = "absent", None, None, False
            if away_from_here:
                if mode != "onsite" and chance < 0.6:
                    status, method, at = "online", "online", checkins[member_id % 15]
                elif chance < 0.9:
                    status, leave = "leave", True
            elif chance < 0.72:
                status, method, at = "present", "qr", checkins[member_id % 15]
            elif chance < 0.82:
                status, method, at = "present", "register", checkins[member_id % 15]
            elif chance < 0.87 and mode != "onsite":
                status, method, at = "online", "online", checkins[member_id % 15]
            elif chance < 0.93:
                status, leave = "leave", True
            attendees.append((counter["attendee"], mid, member_id, role, b(True), status, method, at,
                              secretary if method == "register" else None, LEAVE_REASON if leave else None,
                              "approved" if leave else None, notified if leave else None,
                              secretary if leave else None, notified if leave else None, None))

    def flush() -> None:
        life.loader.insert("meetings_meeting", MEETING_COLUMNS, meetings)
        life.loader.insert("meetings_attendee", ATTENDEE_COLUMNS, attendees)
        meetings.clear()
        attendees.clear()

    months = life.months()
    yesterday = life.today - timedelta(days=1)
    for branch in life.branches:
        bid = branch["id"]
        own = [(m, "voting" if people.stage[m - 1] == "full" else "probationary") for m in life.subtree[bid]]
        own += [(m, "hosted") for m in life.hosted_at.get(bid, [])]
        committee_member = life.secretary.get(bid)
        committee = [(committee_member, "committee")] if committee_member else []
        groups = [(g, [(m, "voting" if people.stage[m - 1] == "full" else "probationary")
                       for m in life.home_of.get(g, [])]) for g in life.groups_of(bid)]
        for month in months:
            quarter = (month.month - 1) // 3 + 1
            plan = [("committee", 5, (19, 30), 90, "onsite", f"{month.month}月支委会：研究支部本月工作", committee)]
            if month.month % 3 == 1:
                plan.append(("assembly", 18, (14, 30), 120, "hybrid",
                             f"第{quarter}季度支部党员大会：通报支部工作", own))
            if month.month % 3 == 2:
                plan.append(("lecture", 24, (19, 30), 90, "hybrid", "党课：新时代党员的初心和使命", own))
            for kind, day, start, minutes, mode, topic, expected in plan:
                when = month.replace(day=day)
                if life.clock.first <= when <= yesterday:
                    meeting(bid, kind, topic, when, start, minutes, mode, expected)
            for group_id, members in groups:
                when = month.replace(day=10)
                if life.clock.first <= when <= yesterday:
                    meeting(group_id, "group", f"{month.month}月党小组会：学习讨论", when, (19, 30), 60, "onsite",
                            members)
        meeting(bid, "assembly", "支部党员大会：研究发展党员和年度评议工作", life.today + timedelta(days=7), (14, 30),
                120, "hybrid", own, upcoming=True)
        if len(attendees) > 200_000:
            flush()
    flush()
    build_notices(life)


def build_notices(life: Life) -> None:
    rng, b = life.rng, life.bool_
    notices, receipts = [], []
    receipt_id = notice_id = 0
    quarter_days = [m for m in life.months() if m.month % 3 == 1]
    for branch in life.branches:
        bid = branch["id"]
        audience = "unit" if branch["is_mobile"] else "subtree"
        reach = life.hosted_at.get(bid, []) if branch["is_mobile"] else life.subtree[bid]
        secretary = life.officer.get(bid)
        sent_days = [m.replace(day=3) for m in quarter_days if m.replace(day=3) < life.today]
        sent_days.append(life.today - timedelta(days=1))
        for index, day in enumerate(sent_days):
            notice_id += 1
            latest = index == len(sent_days) - 1
            sent = life.ts(day, 9 * 3600)
            deadline = life.ts(day + timedelta(days=7), 18 * 3600)
            notices.append((notice_id, bid, audience, "general", NOTICE_TITLES[index % len(NOTICE_TITLES)], NOTICE_BODY,
                            b(True), deadline, secretary, sent, None))
            read = life.ts(day + timedelta(days=1), 20 * 3600)
            for member_id in reach:
                receipt_id += 1
                chance = rng.random()
                if latest:
                    seen = read if chance < 0.3 else None
                    signed = seen if chance < 0.2 else None
                else:
                    seen = read if chance < 0.95 else None
                    signed = seen if chance < 0.9 else None
                receipts.append((receipt_id, notice_id, member_id, sent, seen, signed, None, None, None, None, None))
        if len(receipts) > 200_000:
            life.loader.insert("meetings_notice", NOTICE_COLUMNS, notices)
            life.loader.insert("meetings_notice_receipt", RECEIPT_COLUMNS, receipts)
            notices.clear()
            receipts.clear()
    life.loader.insert("meetings_notice", NOTICE_COLUMNS, notices)
    life.loader.insert("meetings_notice_receipt", RECEIPT_COLUMNS, receipts)


NOTICE_COLUMNS = ("id", "unit_id", "audience", "kind", "title", "body", "requires_ack", "deadline",
                  "sender_account_id", "created_at", "escalated_at")
RECEIPT_COLUMNS = ("id", "notice_id", "member_id", "delivered_at", "read_at", "acknowledged_at", "reply",
                   "escalated_at", "called_at", "called_by_account_id", "call_note")


# -- dues -------------------------------------------------------------------------------------------------------------

PROFILE_COLUMNS = ("id", "member_id", "category", "monthly_base", "insurance_deduction", "rate", "monthly_due",
                   "valid_from", "note", "set_by_account_id", "created_at")
PAYMENT_COLUMNS = ("id", "member_id", "home_unit_id", "collecting_unit_id", "amount", "extra_amount",
                   "flagged_large", "channel", "status", "paid_on", "payer_name", "note", "receipt_code",
                   "proof_stored_name", "proof_filename", "provider", "provider_ref", "recorded_by_account_id",
                   "confirmed_by_account_id", "confirmed_at", "rejected_reason", "created_at")
MONTH_COLUMNS = ("id", "payment_id", "member_id", "month", "amount_due")
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def receipt_code(number: int) -> str:
    """A receipt code like ``K7QM-3XPD-WN2A``, distinct per number (a bijection of the 60-bit space)."""
    value = (number * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << 60)
    raw = "".join(CODE_ALPHABET[(value >> (5 * k)) & 31] for k in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def _rate(tiers, base: Decimal) -> Decimal:
    return next(rate for bound, rate in tiers if bound is None or base <= bound)


def dues_plan(rng: random.Random) -> tuple[str, Decimal | None, Decimal, Decimal | None, Decimal]:
    """``(category, base, insurance, rate, monthly due)`` by the plugin's default rules."""
    category = rng.choices(*DUES_CATEGORIES)[0]
    if category in ("salaried", "self_employed"):
        base = Decimal(rng.randrange(2200, 16000, 50))
        insurance = (base * Decimal("0.15")).quantize(CENT) if category == "salaried" else Decimal(0)
        rate = _rate(SALARIED_TIERS, base - insurance)
        return category, base, insurance, rate, ((base - insurance) * rate).quantize(CENT, ROUND_HALF_UP)
    if category == "retired":
        base = Decimal(rng.randrange(1800, 7000, 50))
        rate = _rate(RETIRED_TIERS, base)
        return category, base, Decimal(0), rate, (base * rate).quantize(CENT, ROUND_HALF_UP)
    if category == "farmer":
        return category, None, Decimal(0), None, rng.choice((Decimal("0.50"), Decimal("0.50"), Decimal("1.00")))
    return category, None, Decimal(0), None, Decimal("0.20")


def build_dues(life: Life) -> None:
    rng, b, people = life.rng, life.bool_, life.people
    months = life.months()[:-1]  # the current month is not yet due
    january_index = [i for i, m in enumerate(months) if m.month == 1]
    profiles, payments, paid = [], [], []
    profile_id = payment_id = month_id = 0

    def flush() -> None:
        life.loader.insert("dues_profile", PROFILE_COLUMNS, profiles)
        life.loader.insert("dues_payment", PAYMENT_COLUMNS, payments)
        life.loader.insert("dues_payment_month", MONTH_COLUMNS, paid)
        profiles.clear()
        payments.clear()
        paid.clear()

    for index, stage in enumerate(people.stage):
        if stage not in ("full", "probationary"):
            continue
        mid, home = index + 1, people.home[index]
        branch = life.branch_of.get(home, home)
        collector = life.officer.get(branch)
        category, base, insurance, rate, due = dues_plan(rng)
        # a profile from the start, re-based each January (salaries rise a little)
        starts = [0] + [i for i in january_index if i > 0]
        dues_by_month = []
        for number, start in enumerate(starts):
            profile_id += 1
            if base is not None and number:
                base = (base * Decimal("1.03")).quantize(Decimal(1))
                if category == "salaried":
                    insurance = (base * Decimal("0.15")).quantize(CENT)
                net = base - insurance
                rate = _rate(RETIRED_TIERS if category == "retired" else SALARIED_TIERS, net)
                due = (net * rate).quantize(CENT, ROUND_HALF_UP)
            valid_from = months[start]
            profiles.append((profile_id, mid, category, str(base) if base is not None else None, str(insurance),
                             str(rate) if rate is not None else None, str(due), valid_from.isoformat(), None, collector,
                             life.ts(valid_from, 10 * 3600)))
            end = starts[number + 1] if number + 1 < len(starts) else len(months)
            dues_by_month += [due] * (end - start)
        behind = rng.choice((1, 1, 2, 2, 3, 4, 5, 7)) if rng.random() < 0.06 else 0
        payable = months[:len(months) - behind]
        quarterly = people.away[index] or rng.random() < 0.25
        groups: list[list[int]] = []
        for i, month in enumerate(payable):
            if quarterly and groups and (month.month - 1) // 3 == (payable[groups[-1][0]].month - 1) // 3 \
                    and month.year == payable[groups[-1][0]].year:
                groups[-1].append(i)
            else:
                groups.append([i])
        host = people.host[index]
        for group in groups:
            payment_id += 1
            last = payable[group[-1]]
            day = last.replace(day=15)
            amount = sum(dues_by_month[i] for i in group)
            at_host = host is not None and people.away[index] and rng.random() < 0.3
            channel = "host_branch" if at_host else "transfer" if people.away[index] else "cash"
            stamp = life.ts(day, 10 * 3600)
            payments.append((payment_id, mid, home, host if at_host else home, str(amount), "0.00", b(False), channel,
                             "confirmed", day.isoformat(), None, None, receipt_code(payment_id), None, None, None, None,
                             collector, collector, stamp, None, stamp))
            for i in group:
                month_id += 1
                paid.append((month_id, payment_id, mid, payable[i].isoformat(), str(dues_by_month[i])))
        if len(paid) > 300_000:
            flush()
    flush()


# -- reports ----------------------------------------------------------------------------------------------------------

REPORT_COLUMNS = ("id", "member_id", "home_unit_id", "stage", "period", "body", "status", "share_with_host",
                  "host_unit_id", "submitted_at", "first_read_at", "created_at", "updated_at")
REPORT_FREQUENCY = {"away": 3, "full": 12, "probationary": 3, "candidate": 3, "activist": 3}


def _periods(life: Life, months: int) -> list[tuple[str, date, date]]:
    """``(key, first day, last day)`` of the periods of ``months`` that ended within the two years."""
    result = []
    start = date(life.clock.first.year, 1, 1)
    while True:
        end_month = start.month + months
        end = date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
        if end > life.today:
            return result
        if end - timedelta(days=1) >= life.clock.first:
            key = {3: f"{start.year}-Q{(start.month - 1) // 3 + 1}", 6: f"{start.year}-H{(start.month - 1) // 6 + 1}"}
            result.append((key.get(months, str(start.year)), start, end - timedelta(days=1)))
        start = end


def build_reports(life: Life) -> None:
    rng, b, people = life.rng, life.bool_, life.people
    periods = {months: _periods(life, months) for months in set(REPORT_FREQUENCY.values())}
    reports, comments = [], []
    report_id = comment_id = 0
    for index, stage in enumerate(people.stage):
        key = "away" if stage == "full" and people.away[index] else stage
        if key not in REPORT_FREQUENCY:
            continue
        mid, home = index + 1, people.home[index]
        branch = life.branch_of.get(home, home)
        reader = life.officer.get(branch)
        own = periods[REPORT_FREQUENCY[key]]
        share = people.away[index] and people.host[index] is not None
        for number, (period, _first, last) in enumerate(own):
            if rng.random() < 1 / 6:
                continue
            report_id += 1
            latest = number == len(own) - 1
            sent_day = last - timedelta(days=3 + rng.randrange(10))
            sent = life.ts(sent_day, 20 * 3600)
            read_day = min(sent_day + timedelta(days=2), life.today)
            read = None if latest else life.ts(read_day, 9 * 3600)
            commented = read is not None and number % 3 == 0
            status = "submitted" if read is None else "commented" if commented else "read"
            reports.append((report_id, mid, home, stage, period, REPORT_BODIES[(mid + number) % 3], status, b(share),
                            people.host[index] if share else None, sent, read, sent, read or sent))
            if commented:
                comment_id += 1
                comments.append((comment_id, report_id, reader, COMMENT, b(False), read))
        if len(reports) > 200_000:
            life.loader.insert("reports_report", REPORT_COLUMNS, reports)
            life.loader.insert("reports_comment", COMMENT_COLUMNS, comments)
            reports.clear()
            comments.clear()
    life.loader.insert("reports_report", REPORT_COLUMNS, reports)
    life.loader.insert("reports_comment", COMMENT_COLUMNS, comments)
    suggestions, sid = [], 0
    for branch in life.branches:
        members = life.subtree[branch["id"]] or life.hosted_at.get(branch["id"], [])
        for k, body in enumerate(SUGGESTIONS):
            if not members:
                break
            sid += 1
            day = life.today - timedelta(days=5 + 40 * k)
            replied = k > 0
            suggestions.append((sid, None if k % 2 else rng.choice(members), hashlib.sha256(f"s{sid}".encode()).hexdigest(),
                                "home", branch["id"], "general", body, "replied" if replied else "submitted", None,
                                REPLY if replied else None, life.ts(day + timedelta(days=3), 10 * 3600) if replied else None,
                                life.officer.get(branch["id"]) if replied else None,
                                (day + timedelta(days=15)).isoformat(), b(replied), day.isoformat(), None, None))
    life.loader.insert("reports_suggestion", SUGGESTION_COLUMNS, suggestions)


COMMENT_COLUMNS = ("id", "report_id", "author_account_id", "body", "returned", "created_at")
SUGGESTION_COLUMNS = ("id", "author_member_id", "reply_token_hash", "target", "unit_id", "category", "body", "status",
                      "assigned_account_id", "reply", "replied_at", "replied_by_account_id", "reply_due", "in_digest",
                      "submitted_on", "closed_at", "escalated_at")


# -- development ------------------------------------------------------------------------------------------------------

CASE_COLUMNS = ("id", "member_id", "unit_id", "host_unit_id", "household_place", "workplace", "stage", "applied_on",
                "activist_on", "candidate_on", "admitted_on", "probation_ends_on", "extended_months", "full_on",
                "outcome", "closed_on", "closed_reason", "created_by_account_id", "created_at", "updated_at")
STEP_COLUMNS = ("id", "case_id", "code", "taken_on", "notes", "data", "unit_id", "actor_account_id", "created_at")
MENTOR_COLUMNS = ("id", "case_id", "member_id", "place", "not_relative", "assigned_on", "ended_on", "created_at")


def build_development(life: Life) -> None:
    rng, b, people = life.rng, life.bool_, life.people
    by_branch: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for index, stage in enumerate(people.stage):
        home = people.home[index]
        branch = life.branch_of.get(home)
        if branch is not None and not life.by_id[branch]["is_mobile"]:
            by_branch[branch][stage].append(index + 1)
    cases, steps, mentors = [], [], []
    wanted = {"applicant": 3, "activist": 3, "candidate": 2, "probationary": 2, "full": 1}
    for branch in life.branches:
        if branch["is_mobile"]:
            continue
        bid = branch["id"]
        secretary = life.officer.get(bid)
        full_members = life.subtree[bid]
        for stage in DEV_STAGES:
            for mid in by_branch[bid][stage][:wanted[stage]]:
                case_id = len(cases) + 1
                age = int(DEV_AGE[stage] * rng.uniform(0.8, 1.2))
                applied = life.today - timedelta(days=age)
                on = partial(_after, applied, life.today)
                reached = DEV_STAGES.index(stage)
                dates = {s: on(DEV_STEPS[s][0][1]) if DEV_STAGES.index(s) <= reached else None
                         for s in ("activist", "candidate", "probationary", "full")}
                admitted = dates["probationary"]
                host = people.host[mid - 1] if people.away[mid - 1] else None
                full = stage == "full"
                cases.append((case_id, mid, bid, host, "青山县" + branch["name"][:-3], "深圳市某电子厂" if host else None,
                              stage, applied.isoformat(), _iso(dates["activist"]), _iso(dates["candidate"]),
                              _iso(admitted), _iso(admitted + timedelta(days=365)) if admitted else None, None,
                              _iso(dates["full"]), "full" if full else None, _iso(dates["full"]) if full else None,
                              None, secretary, life.ts(applied, 10 * 3600), life.ts(life.today, 9 * 3600)))
                for s in DEV_STAGES[:reached + 1]:
                    for code, days in DEV_STEPS[s]:
                        if applied + timedelta(days=days) > life.today:
                            continue
                        taken = on(days)
                        steps.append((len(steps) + 1, case_id, code, taken.isoformat(), "", "{}", bid, secretary,
                                      life.ts(taken, 11 * 3600)))
                if reached >= 1 and full_members:
                    assigned = on(47)
                    mentors.append((len(mentors) + 1, case_id, rng.choice(full_members), "home", b(True),
                                    assigned.isoformat(), None, life.ts(assigned, 11 * 3600)))
    life.loader.insert("development_case", CASE_COLUMNS, cases)
    life.loader.insert("development_step", STEP_COLUMNS, steps)
    life.loader.insert("development_mentor", MENTOR_COLUMNS, mentors)


def _after(start: date, today: date, days: int) -> date:
    """``days`` after ``start``, not later than today."""
    return min(start + timedelta(days=days), today)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# -- review -----------------------------------------------------------------------------------------------------------

ROUND_COLUMNS = ("id", "unit_id", "year", "status", "study_on", "self_from", "self_until", "mutual_from",
                 "mutual_until", "grading_on", "held_with", "ballot_secret", "excellent_reason", "reported_on",
                 "reported_by_account_id", "created_by_account_id", "created_at")
ENTRY_COLUMNS = ("id", "round_id", "member_id", "host_unit_id", "self_text", "self_submitted_at", "self_saved_at",
                 "proposed_grade", "proposed_by_account_id", "proposed_at", "grade", "grade_reason", "decided_on",
                 "decided_by_account_id", "feedback", "created_at")
OPINION_COLUMNS = ("id", "entry_id", "host_unit_id", "requested_at", "due_on", "opinion", "proposed_grade",
                   "submitted_at", "submitted_by_account_id")
RATING_COLUMNS = ("id", "round_id", "ratee_member_id", "rater_key", "rating", "comment", "rated_on")


def build_review(life: Life) -> None:
    rng, people, loader = life.rng, life.people, life.loader
    year = life.today.year - 1
    dec = date(year, 12, 1)
    rounds, entries, opinions, ratings = [], [], [], []
    round_id = entry_id = opinion_id = rating_id = 0

    def flush() -> None:
        for table, columns, rows in (("review_round", ROUND_COLUMNS, rounds), ("review_entry", ENTRY_COLUMNS, entries),
                                     ("review_host_opinion", OPINION_COLUMNS, opinions),
                                     ("review_rating", RATING_COLUMNS, ratings)):
            loader.insert(table, columns, rows)
            rows.clear()

    for branch in life.branches:
        if branch["is_mobile"]:
            continue
        bid = branch["id"]
        members = life.home_of.get(bid, [])  # the service's rule: members whose home is the branch itself
        if not members:
            continue
        secretary = life.officer.get(bid)
        round_id += 1
        rounds.append((round_id, bid, year, "reported", dec.isoformat(), _iso(dec + timedelta(days=4)),
                       _iso(dec + timedelta(days=13)), _iso(dec + timedelta(days=14)), _iso(dec + timedelta(days=20)),
                       _iso(dec + timedelta(days=24)), f"{year}年度组织生活会", None, None,
                       _iso(dec + timedelta(days=27)), secretary, secretary, life.ts(dec, 9 * 3600)))
        gradable = [m for m in members if people.stage[m - 1] == "full"]
        excellent = set(rng.sample(gradable, len(gradable) // 5))
        basic = set(rng.sample(gradable, len(gradable) // 40))
        for mid in members:
            entry_id += 1
            grade = None
            if people.stage[mid - 1] == "full":
                grade = "excellent" if mid in excellent else "basic" if mid in basic else "qualified"
            host = people.host[mid - 1] if people.away[mid - 1] else None
            wrote = life.ts(dec + timedelta(days=4 + mid % 9), 20 * 3600)
            graded = life.ts(dec + timedelta(days=22), 10 * 3600)
            entries.append((entry_id, round_id, mid, host, SELF_TEXT, wrote, wrote, grade, secretary if grade else None,
                            graded if grade else None, grade, "", _iso(dec + timedelta(days=24)) if grade else None,
                            secretary if grade else None, FEEDBACK[grade], life.ts(dec, 9 * 3600)))
            if host is not None:
                opinion_id += 1
                opinions.append((opinion_id, entry_id, host, life.ts(dec, 9 * 3600), _iso(dec + timedelta(days=20)),
                                 HOST_OPINION, "qualified" if grade else None,
                                 life.ts(dec + timedelta(days=18), 10 * 3600), life.officer.get(host)))
            for ratee in [m for m in rng.sample(members, min(len(members), 9)) if m != mid][:8]:
                rating_id += 1
                key = hashlib.sha256(f"{round_id}:{mid}:{ratee}".encode()).hexdigest()
                ratings.append((rating_id, round_id, ratee, key, RATINGS[(mid + ratee) % len(RATINGS)], "",
                                _iso(dec + timedelta(days=16))))
        if len(ratings) > 200_000:
            flush()
    flush()
