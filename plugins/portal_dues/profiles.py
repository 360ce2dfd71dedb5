"""What a member owes each month: the tier tables, the amount, profile history and reductions.

A profile row holds from its ``valid_from`` month until the next row's; re-basing adds a row (the
history stays), a second change in the same month updates that month's row. An approved reduction
(member → branch → upper committee) replaces the amount for the months it covers. Nothing is owed
before the first profile, nor before the month a member was admitted (probationary members owe from
their admission month).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import Select, select

from portal import toolkit as tk
from portal_dues import money
from portal_dues.models import CATEGORIES, DuesProfile, Reduction

db = tk.db
#: Categories whose amount is a rate of the base (self-employed: the previous quarter's average monthly net income).
RATED = ("salaried", "self_employed", "retired")
#: Categories paying the fixed small amount of the ``student_amount`` setting.
FIXED_SMALL = ("student", "unemployed")
NOTE_MAX = 2000


def parse_tiers(text: str) -> list[tuple[Decimal | None, Decimal]]:
    """``"3000:0.005; *:0.02"`` → ``[(Decimal("3000"), Decimal("0.005")), (None, Decimal("0.02"))]`` (inclusive bounds)."""
    tiers: list[tuple[Decimal | None, Decimal]] = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        bound, _sep, rate = part.partition(":")
        try:
            tiers.append((None if bound.strip() == "*" else Decimal(bound.strip()), Decimal(rate.strip())))
        except InvalidOperation:
            raise ValueError(f"not a tier: {part!r}") from None
    return tiers


def rate_for(category: str, base: Decimal) -> Decimal | None:
    """The rate for ``base`` in the category's tier table; None for the fixed-amount categories."""
    if category not in RATED:
        return None
    key = "retired_tiers" if category == "retired" else "salaried_tiers"
    try:
        tiers = parse_tiers(tk.get_setting("dues", key))
    except ValueError:
        tiers = []
    if not tiers:  # an admin's typo in the tier setting: say so rather than fail
        raise tk.Conflict(_("The dues rate table in the settings cannot be read; an admin must correct it."),
                          code="tier_setting")
    for bound, rate in tiers:
        if bound is None or base <= bound:
            return rate
    return tiers[-1][1]


def _setting_amount(key: str) -> Decimal:
    return Decimal(str(tk.get_setting("dues", key)))


def amount_for(category: str, monthly_base: Decimal | None, insurance: Decimal | None,
               fixed: Decimal | None = None) -> tuple[Decimal | None, Decimal]:
    """``(rate, monthly_due)`` by the rules; raises ``tk.Invalid`` for a farmer's amount outside the bounds."""
    if category == "farmer":
        amount = _setting_amount("farmer_default") if fixed is None else fixed
        low, high = _setting_amount("farmer_min"), _setting_amount("farmer_max")
        if not low <= amount <= high:
            raise tk.Invalid(_("Please correct the marked fields."), {"fixed_amount": _(
                "A farmer pays between %(low)s and %(high)s yuan a month.", low=money.money_text(low),
                high=money.money_text(high))})
        return None, amount.quantize(money.CENT)
    if category in FIXED_SMALL:
        return None, _setting_amount("student_amount").quantize(money.CENT)
    base = monthly_base or Decimal("0")
    if tk.get_setting("dues", "deduct_insurance"):
        base = max(base - (insurance or Decimal("0")), Decimal("0"))
    rate = rate_for(category, base)
    return rate, money.round_yuan(base * rate)


def _text(data: dict, name: str, limit: int, errors: dict) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > limit:
        errors[name] = _("At most %(n)d characters.", n=limit)
        return None
    return value.strip() or None


def _optional_amount(data: dict, name: str) -> Decimal | None:
    value = data.get(name)
    return None if value is None or value == "" else money.parse_amount(value, name)


def clean_profile(data: dict, *, now: datetime | None = None) -> dict:
    """The profile fields from a form or JSON body, checked, with the rate and the monthly amount worked out."""
    category = data.get("category")
    if category not in CATEGORIES:
        raise tk.Invalid(_("Please correct the marked fields."), {"category": _("Choose a category.")})
    base = _optional_amount(data, "monthly_base")
    if category in RATED and base is None:
        raise tk.Invalid(_("Please correct the marked fields."), {"monthly_base": _("Enter the monthly base.")})
    insurance = _optional_amount(data, "insurance_deduction") or Decimal("0.00")
    if base is not None and insurance > base:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"insurance_deduction": _("The deduction cannot be larger than the base.")})
    fixed = _optional_amount(data, "fixed_amount") if category == "farmer" else None
    rate, due = amount_for(category, base, insurance, fixed)
    raw_from = data.get("valid_from")
    valid_from = money.current_month(now) if raw_from in (None, "") else money.parse_month(raw_from, "valid_from")
    errors: dict = {}
    note = _text(data, "note", NOTE_MAX, errors)
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return {"category": category, "monthly_base": base if category in RATED else None,
            "insurance_deduction": insurance if category in RATED else Decimal("0.00"),
            "rate": rate, "monthly_due": due, "valid_from": valid_from, "note": note}


def set_profile(member: tk.Member, data: dict, *, by, now: datetime | None = None) -> DuesProfile:
    """Set the member's dues from ``valid_from`` (default: this month); the same month again updates that row.

    Only someone holding ``dues.manage`` on the member, never on their own record.
    """
    tk.require_acting_on(member, "dues.manage", account=by)
    fields = clean_profile(data, now=now)
    profile = db.session.scalar(select(DuesProfile).where(DuesProfile.member_id == member.id,
                                                          DuesProfile.valid_from == fields["valid_from"]))
    if profile is None:
        profile = DuesProfile(member_id=member.id, member=member)
        db.session.add(profile)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.set_by_account_id = getattr(by, "id", None)
    profile.created_at = now or tk.utcnow()
    db.session.flush()
    tk.audit("dues.profile_set", "member", member.id, unit_id=member.home_unit_id,
             actor_account_id=getattr(by, "id", None), category=fields["category"],
             monthly_due=money.money_text(fields["monthly_due"]), valid_from=money.month_key(fields["valid_from"]))
    return profile


def current_profile(member: tk.Member, month: date | None = None) -> DuesProfile | None:
    """The profile in force in ``month`` (default: this local month): the latest ``valid_from`` not after it."""
    month = month or money.current_month()
    return db.session.scalar(select(DuesProfile).where(DuesProfile.member_id == member.id,
                                                       DuesProfile.valid_from <= month)
                             .order_by(DuesProfile.valid_from.desc()).limit(1))


def first_owed_month(member: tk.Member, first_profile_from: date) -> date:
    """The first month owed: the first profile's month, or the admission month when that is later."""
    if member.joined_on is not None:
        return max(first_profile_from, money.month_start(member.joined_on))
    return first_profile_from


def dues_for_months(member: tk.Member, months: list[date]) -> dict[date, Decimal]:
    """``{month: amount owed}`` for each month (0 when not owed), with two queries whatever the number of months."""
    profiles = list(db.session.scalars(select(DuesProfile).where(DuesProfile.member_id == member.id)
                                       .order_by(DuesProfile.valid_from)))
    reductions = list(db.session.scalars(select(Reduction).where(Reduction.member_id == member.id,
                                                                 Reduction.state == "approved")
                                         .order_by(Reduction.id)))
    dues: dict[date, Decimal] = {}
    first = first_owed_month(member, profiles[0].valid_from) if profiles else None
    for month in months:
        if first is None or month < first:
            dues[month] = Decimal("0.00")
            continue
        amount = [p for p in profiles if p.valid_from <= month][-1].monthly_due
        for reduction in reductions:  # the latest approved reduction covering the month wins
            if reduction.from_month <= month and (reduction.to_month is None or month <= reduction.to_month):
                amount = reduction.monthly_due
        dues[month] = Decimal(amount).quantize(money.CENT)
    return dues


def due_for(member: tk.Member, month: date) -> Decimal:
    """What the member owes for ``month`` (0 when no profile covers it or before their admission)."""
    return dues_for_months(member, [money.month_start(month)])[money.month_start(month)]


def profile_json(profile: DuesProfile) -> dict:
    """The API's view of a profile: money as ``"40.00"``, the rate as ``"0.01"``, the month as ``"2026-11"``."""
    return {"id": profile.id, "member_id": profile.member_id, "category": profile.category,
            "monthly_base": money.money_text(profile.monthly_base),
            "insurance_deduction": money.money_text(profile.insurance_deduction or Decimal("0")),
            "rate": money.rate_text(profile.rate), "monthly_due": money.money_text(profile.monthly_due),
            "valid_from": money.month_key(profile.valid_from), "note": profile.note,
            "set_by_account_id": profile.set_by_account_id, "updated_at": tk.isoformat(profile.created_at)}


# --- reductions -------------------------------------------------------------------------------------------------

def reductions_of(member: tk.Member) -> Select:
    """A query of the member's reduction requests, newest first (their page and ``tk.api_page``)."""
    return (select(Reduction).where(Reduction.member_id == member.id)
            .order_by(Reduction.requested_at.desc(), Reduction.id.desc()))


def get_reduction(reduction_id: int) -> Reduction:
    """The reduction or ``tk.NotFound``."""
    reduction = db.session.get(Reduction, reduction_id) if 0 < reduction_id <= tk.MAX_ID else None
    if reduction is None:
        raise tk.NotFound(_("Not found."))
    return reduction


def request_reduction(member: tk.Member, data: dict, *, now: datetime | None = None) -> Reduction:
    """The member asks for a lower amount (``monthly_due``; ``"0.00"`` or ``exempt`` for an exemption) for months.

    ``from_month`` (default: this month), optional ``to_month``, a ``reason``. The branch is told.
    """
    errors: dict = {}
    reason = _text(data, "reason", NOTE_MAX, errors)
    if reason is None and "reason" not in errors:
        errors["reason"] = _("Give a reason.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    exempt = data.get("exempt") is True
    amount = Decimal("0.00") if exempt else money.parse_amount(data.get("monthly_due"), "monthly_due")
    raw_from = data.get("from_month")
    first = money.current_month(now) if raw_from in (None, "") else money.parse_month(raw_from, "from_month")
    raw_to = data.get("to_month")
    last = None if raw_to in (None, "") else money.parse_month(raw_to, "to_month")
    if last is not None and last < first:
        raise tk.Invalid(_("Please correct the marked fields."), {"to_month": _("The last month comes before the first.")})
    open_request = db.session.scalar(select(Reduction.id).where(
        Reduction.member_id == member.id, Reduction.state.in_(("requested", "branch_agreed"))).limit(1))
    if open_request is not None:
        raise tk.Conflict(_("A request of yours is still being decided."))
    reduction = Reduction(member_id=member.id, member=member, monthly_due=amount, from_month=first, to_month=last,
                          reason=reason, state="requested", requested_at=now or tk.utcnow())
    db.session.add(reduction)
    db.session.flush()
    _unit, accounts = tk.responsible_accounts(member.home_unit, "dues.manage")
    tk.notify([a for a in accounts if a != member.account_id], _l("A member asks for a dues reduction"),
              member.name, url=tk.path_for("dues_manage.index"), kind="dues")
    return reduction


def _may_see(reduction: Reduction, by) -> None:
    if by is not None and not tk.can_see_member(reduction.member, "dues.manage", by):
        raise tk.NotFound(_("Not found."))


def decide_reduction_branch(reduction: Reduction, agree: bool, note: str | None, *, by,
                            now: datetime | None = None) -> None:
    """The home branch agrees (on to the upper committee) or refuses; never on the decider's own record."""
    member = reduction.member
    _may_see(reduction, by)
    tk.require_acting_on(member, "dues.manage", member.home_unit, account=by)
    note = _decision_note(note)
    tk.lock(reduction)
    if reduction.state != "requested":
        raise tk.Conflict(_("This request is no longer waiting for the branch."))
    reduction.state = "branch_agreed" if agree else "refused"
    reduction.branch_account_id, reduction.branch_decided_at = getattr(by, "id", None), now or tk.utcnow()
    reduction.branch_note = note
    db.session.flush()
    if agree:
        parent = member.home_unit.parent
        _unit, accounts = tk.responsible_accounts(parent, "dues.approve_reduction") if parent else (None, [])
        tk.notify([a for a in accounts if a != member.account_id], _l("A dues reduction waits for your approval"),
                  member.name, url=tk.path_for("dues_manage.index"), kind="dues")
    else:
        _tell_member(reduction, _l("Your dues reduction was refused by the branch"))
    tk.audit("dues.reduction_branch", "dues_reduction", reduction.id, unit_id=member.home_unit_id,
             actor_account_id=getattr(by, "id", None), agree=agree)


def decide_reduction_upper(reduction: Reduction, approve: bool, note: str | None, *, by,
                           now: datetime | None = None) -> None:
    """The upper committee (``dues.approve_reduction`` on the parent of the home unit) approves or refuses."""
    member = reduction.member
    parent = member.home_unit.parent
    _may_see(reduction, by)
    if by is not None and (parent is None or not tk.can("dues.approve_reduction", parent, by)):
        raise tk.Forbidden(_("Only the upper committee approves a reduction."))
    tk.require_acting_on(member, "dues.approve_reduction", parent, account=by)
    note = _decision_note(note)
    tk.lock(reduction)
    if reduction.state != "branch_agreed":
        raise tk.Conflict(_("This request is not waiting for the upper committee."))
    reduction.state = "approved" if approve else "refused"
    reduction.upper_account_id, reduction.upper_decided_at = getattr(by, "id", None), now or tk.utcnow()
    reduction.upper_note = note
    db.session.flush()
    _tell_member(reduction, _l("Your dues reduction was approved") if approve
                 else _l("Your dues reduction was refused by the upper committee"))
    tk.audit("dues.reduction_upper", "dues_reduction", reduction.id, unit_id=member.home_unit_id,
             actor_account_id=getattr(by, "id", None), approve=approve)


def _decision_note(note) -> str | None:
    if note is not None and not isinstance(note, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"note": _("Enter text.")})
    if note and len(note) > NOTE_MAX:
        raise tk.Invalid(_("Please correct the marked fields."), {"note": _("At most %(n)d characters.", n=NOTE_MAX)})
    return (note or "").strip() or None


def _tell_member(reduction: Reduction, title) -> None:
    if reduction.member.account_id:
        tk.notify([reduction.member.account_id], title, url=tk.path_for("dues.mine"), kind="dues")


def reduction_json(reduction: Reduction) -> dict:
    """The API's view of a reduction request and its decisions."""
    return {"id": reduction.id, "member_id": reduction.member_id, "monthly_due": money.money_text(reduction.monthly_due),
            "from_month": money.month_key(reduction.from_month),
            "to_month": money.month_key(reduction.to_month) if reduction.to_month else None,
            "reason": reduction.reason, "state": reduction.state, "requested_at": tk.isoformat(reduction.requested_at),
            "branch": {"account_id": reduction.branch_account_id, "at": tk.isoformat(reduction.branch_decided_at),
                       "note": reduction.branch_note},
            "upper": {"account_id": reduction.upper_account_id, "at": tk.isoformat(reduction.upper_decided_at),
                      "note": reduction.upper_note}}
