"""Demo data: a dues profile for every demo member and a year of payments, a few members in arrears.

Every full or probationary member of the demo (not one out of contact: they pay nothing, and a paid
month — an activity — would close their lost-contact case) gets a profile from twelve months ago,
or from the month they were admitted: salaried members with bases at the tier boundaries (after
the 五险一金 deduction), retired members, a farmer, a student, the self-employed; two were re-based
this January. Each owed month up to today is paid in its month (monthly, or a quarter at once)
through the services, so each paid month is one ``dues.paid`` activity — and one points entry.

member1, away in Shenzhen, pays by the quarter: one quarter was paid at home by his father
(代交) and the latest at the Shenzhen host branch by its secretary (counted for 东岭村). member2
reported last month's transfer with a photo of the receipt; it waits for the secretary. One member
of the home branch stopped paying four months ago (a talk is due), two others are one and two
months behind; a retired member added a voluntary 1000 yuan (flagged); one member's reduction was
agreed by the branch and waits for the township committee. Who plays which part follows from the
member list and the clock, never from the shared random generator, so the other plugins' demo
data does not change with this one.

Idempotent: a member with a profile, a payment or a reduction is left as it is.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import toolkit as tk

from . import money, payments, profiles
from .models import DuesProfile, Payment, Reduction

db = tk.db

#: The branch collects on this day of each month (the demo's payments are made then).
PAY_DAY = 15
#: How many months back the demo's profiles and payments reach.
YEAR = 12
#: Profiles given in turn to the members after member1 and member2:
#: (category, monthly base, 五险一金 deduction, a farmer's fixed amount, the base before January's re-basing, note).
PLANS = (
    ("retired", "4200.00", "0.00", None, None, "养老金"),
    ("farmer", None, None, "0.50", None, "务农，收入不固定"),
    ("student", None, None, None, None, "脱产攻读研究生"),
    ("salaried", "3000.01", "0.00", None, None, None),
    ("self_employed", "4800.00", "0.00", None, None, "上季度月均纯收入"),
    ("salaried", "11800.00", "1800.00", None, "11000.00", "年初调整工资"),
    ("salaried", "10000.01", "0.00", None, None, None),
    ("retired", "5600.00", "0.00", None, None, "养老金"),
    ("salaried", "2800.00", "0.00", None, None, None),
    ("unemployed", None, None, None, None, "领取失业保险金"),
    ("salaried", "6500.00", "1000.00", None, None, None),
    ("farmer", None, None, "1.00", None, "种植大户"),
)
#: member1: 6200 − 1200 = 5000.00 (1 %) since January, 4500.00 before; member2: 3400 − 400 = 3000.00 (0.5 %).
MEMBER1_PLAN = ("salaried", "6200.00", "1200.00", None, "5700.00", "快递员工资，年初调整")
MEMBER2_PLAN = ("salaried", "3400.00", "400.00", None, None, "电子厂工资")
EXTRA = Decimal("1000.00")
REDUCTION_REASON = "家人重病住院，医疗支出大，生活困难，申请减交半年党费。"
BRANCH_NOTE = "经支部委员会研究，情况属实，同意减交，报镇党委审批。"
REPORT_NOTE = "已通过手机银行转账到支部党费账户。"


@dataclass
class Cast:
    """Who plays which part in the demo's dues (members; None when the demo is too small)."""

    host_payer: tk.Member | None = None
    reporter: tk.Member | None = None
    talk_due: tk.Member | None = None
    reduction: tk.Member | None = None
    extra_payer: tk.Member | None = None
    #: member id → months behind (the last complete months left unpaid).
    behind: dict[int, int] = field(default_factory=dict)
    #: ids of the members who pay a quarter at once.
    quarterly: set[int] = field(default_factory=set)


def _payers(context: tk.DemoContext) -> list[tk.Member]:
    """Full and probationary members in contact with their branch, in the demo's order."""
    return [m for m in context.members if tk.is_member_stage(m.stage) and not m.lost_contact]


def _plan(position: int) -> tuple:
    if position == 0:
        return MEMBER1_PLAN
    if position == 1:
        return MEMBER2_PLAN
    return PLANS[(position - 2) % len(PLANS)]


def _at(day: date, hour: int = 10) -> datetime:
    """Naive UTC of ``hour`` o'clock local time on ``day``."""
    return tk.local_day_bounds(day)[0] + timedelta(hours=hour)


def _collector(context: tk.DemoContext, member: tk.Member) -> tk.Account:
    """Who keeps the member's dues book: the home branch's secretary, else the county's organizer."""
    if member.home_unit_id == context.units["home"].id and "home-secretary" in context.accounts:
        return context.accounts["home-secretary"]
    return context.accounts["organizer"]


def _cast(context: tk.DemoContext, members: list[tk.Member], current: date) -> Cast:
    """Pick the members for each part: member1 and member2 when present, the home branch's next."""
    cast = Cast()
    start = money.add_months(current, -YEAR)
    home_id = context.units["home"].id
    used: set[int] = set()

    def pick(candidates) -> tk.Member | None:
        chosen = next((m for m in candidates if m.id not in used), None)
        if chosen is not None:
            used.add(chosen.id)
        return chosen

    first, second, rest = (members[:1] or [None])[0], (members[1:2] or [None])[0], members[2:]
    host = context.units.get("host")
    if first is not None and host is not None and first.host_unit_id == host.id:
        cast.host_payer = pick([first])
    cast.reporter = pick([second] if second is not None else [])
    # four months behind needs at least four months owed: admitted before then
    long_enough = [m for m in rest if profiles.first_owed_month(m, start) <= money.add_months(current, -4)]
    cast.talk_due = pick([m for m in long_enough if m.home_unit_id == home_id] + long_enough)
    if cast.talk_due is not None:
        cast.behind[cast.talk_due.id] = 4
    cast.reduction = pick([m for m in rest if m.home_unit_id == home_id] + rest)
    for months, member in ((2, pick(reversed(rest))), (1, pick(reversed(rest)))):
        if member is not None:
            cast.behind[member.id] = months
    retired = [m for position, m in enumerate(members) if position >= 2 and _plan(position)[0] == "retired"]
    cast.extra_payer = pick(retired)
    cast.quarterly = {m.id for position, m in enumerate(members) if position % 3 == 2 and m.id not in used}
    if cast.host_payer is not None:
        cast.quarterly.add(cast.host_payer.id)
    return cast


def _profile(member: tk.Member, plan: tuple, start: date, by) -> None:
    """The member's profile from ``start`` (and January's re-basing when the plan has an earlier base)."""
    category, base, insurance, fixed, before, note = plan
    data = {"category": category, "monthly_base": base, "insurance_deduction": insurance, "fixed_amount": fixed,
            "note": note}
    january = date(start.year + 1, 1, 1)  # start is twelve months back: this January lies after it
    if before is not None:
        profiles.set_profile(member, {**data, "monthly_base": before, "valid_from": money.month_key(start)},
                             by=by, now=_at(start))
        profiles.set_profile(member, {**data, "valid_from": money.month_key(january)}, by=by, now=_at(january))
    else:
        profiles.set_profile(member, {**data, "valid_from": money.month_key(start)}, by=by, now=_at(start))


def _groups(months: list[date], quarterly: bool) -> list[list[date]]:
    """The months as paid together: one each, or by calendar quarter."""
    if not quarterly:
        return [[month] for month in months]
    groups: dict[tuple[int, int], list[date]] = {}
    for month in months:
        groups.setdefault((month.year, (month.month - 1) // 3), []).append(month)
    return list(groups.values())


def _pay(member: tk.Member, group: list[date], dues: dict[date, Decimal], by, channel: str, **extra) -> Payment:
    """Record one payment of ``group`` made on the collection day of its first month."""
    day = group[0].replace(day=PAY_DAY)
    amount = sum((dues[m] for m in group), Decimal("0.00")) + extra.pop("extra_amount", Decimal("0.00"))
    return payments.record_payment(member, {
        "months": [money.month_key(m) for m in group], "amount": money.money_text(amount), "channel": channel,
        "paid_on": day.isoformat(), **extra}, by=by, now=_at(day))


def _receipt_photo() -> FileStorage:
    """A small picture standing for the photo of a bank transfer receipt."""
    image = Image.new("RGB", (320, 200), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    for row in range(5):
        draw.rectangle((20, 25 + 32 * row, 300 - 60 * (row % 2), 40 + 32 * row), fill=(190, 190, 185))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return FileStorage(buffer, "transfer-receipt.png", content_type="image/png")


def _payments(context: tk.DemoContext, member: tk.Member, cast: Cast, start: date) -> None:
    """The member's year of payments, each made on the collection day of its month (up to yesterday)."""
    today = tk.local_today(context.now)
    current = money.current_month(context.now)
    behind = cast.behind.get(member.id, 0) or (1 if member is cast.reporter else 0)
    last = money.add_months(current, -1 - behind) if behind else payments.latest_payable_month(context.now)
    dues = profiles.dues_for_months(member, money.month_range(start, last))
    owed = [month for month, amount in dues.items() if amount > 0]
    groups = [g for g in _groups(owed, member.id in cast.quarterly) if g[0].replace(day=PAY_DAY) < today]
    by = _collector(context, member)
    for index, group in enumerate(groups):
        from_end = len(groups) - index
        if member is cast.host_payer and from_end == 1:
            _pay(member, group, dues, context.accounts["host-secretary"], "host_branch", note="在驻深圳支部交纳")
        elif member is cast.host_payer and from_end == 2:
            _pay(member, group, dues, by, "on_behalf", payer_name=f"{member.name[0]}建国（父亲）",
                 note="父亲在村里代交")
        elif member is cast.extra_payer and from_end == 1:
            _pay(member, group, dues, by, "cash", extra_amount=EXTRA, note="自愿多交党费")
        else:
            _pay(member, group, dues, by, "transfer" if member.is_away else "cash")
    if member is cast.reporter:  # last month: reported by the member, not recorded by the branch
        _report(context, member, money.add_months(current, -1))


def _report(context: tk.DemoContext, member: tk.Member, month: date) -> None:
    """member2 reports last month's transfer with a photo: it waits for the secretary's confirmation."""
    due = profiles.due_for(member, month)
    if due <= 0:
        return
    at = context.now - timedelta(days=2)
    payments.report_payment(member, {"months": [money.month_key(month)], "amount": money.money_text(due),
                                     "paid_on": tk.local_today(at).isoformat(), "note": REPORT_NOTE},
                            _receipt_photo(), now=at)


def _reduction(context: tk.DemoContext, member: tk.Member) -> None:
    """A reduction for the next six months, agreed by the branch, waiting for the upper committee."""
    current = money.current_month(context.now)
    due = profiles.due_for(member, current)
    asked = money.round_yuan(due / 2) if due > 0 else Decimal("0.00")
    asked_at = context.now - timedelta(days=6)
    reduction = profiles.request_reduction(member, {
        "monthly_due": money.money_text(asked), "from_month": money.month_key(current),
        "to_month": money.month_key(money.add_months(current, 5)), "reason": REDUCTION_REASON}, now=asked_at)
    profiles.decide_reduction_branch(reduction, True, BRANCH_NOTE, by=_collector(context, member),
                                     now=asked_at + timedelta(days=3))


def _has(model, member: tk.Member) -> bool:
    return db.session.scalar(select(model.id).where(model.member_id == member.id).limit(1)) is not None


def build(context: tk.DemoContext) -> None:
    """Profiles, a year of payments, the arrears, the reported payment and the reduction, once."""
    if "home" not in context.units or "organizer" not in context.accounts:
        return
    current = money.current_month(context.now)
    start = money.add_months(current, -YEAR)
    members = _payers(context)
    cast = _cast(context, members, current)
    for position, member in enumerate(members):
        if not _has(DuesProfile, member):
            _profile(member, _plan(position), start, _collector(context, member))
    for member in members:
        if not _has(Payment, member):
            _payments(context, member, cast, start)
    if cast.reduction is not None and not _has(Reduction, cast.reduction):
        _reduction(context, cast.reduction)
    db.session.flush()
