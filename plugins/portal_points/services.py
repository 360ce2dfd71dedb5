"""The rules of points: scoring activities, the ledger, totals, levels and badges.

Scoring happens in :func:`apply_activity`, which the ``portal_activity_recorded``
hook calls inside the transaction that records the activity. Each rule in force
at the activity's time is applied in a SAVEPOINT of its own:

1. the (member, rule) counter row is upserted, which locks it — concurrent
   awards for the same member and rule queue here;
2. once-per-object, cooldown and daily cap are checked against the ledger;
3. the entry is inserted — ``UNIQUE(activity_id, rule_id)`` makes a second
   entry for the same activity and rule impossible, whatever the timing;
4. the day/month/quarter/year/all-time totals of the member, of the branch and
   of the campaign are incremented with dialect upserts (SQLite and PostgreSQL
   both speak ``INSERT … ON CONFLICT DO UPDATE``).

Rules are versioned: editing one closes its open version and opens a new one
valid from that moment, and each activity is scored with the versions valid at
its own timestamp, so a change never reaches back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from flask import g, has_app_context
from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal_points import periods
from portal_points.models import (
    KIND_MANUAL, KIND_REVERSAL, KIND_RULE, PERIOD_CODES, PointsBadge, PointsCampaign, PointsCampaignTotal,
    PointsEntry, PointsRule, PointsRuleCounter, PointsRuleVersion, PointsTotal, PointsUnitTotal,
)

db = tk.db
PLUGIN = "points"

#: The default rule set (inspired by the daily caps of 学习强国). Verbs of plugins
#: that are not installed simply never occur, so their rules have no effect.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    dict(code="daily_login", verb="member.daily_login", points=1, daily_cap=1),
    dict(code="lesson_completed", verb="lesson.completed", points=1, daily_cap=6, once_per_object=True,
         cooldown_seconds=60),
    dict(code="daily_quiz", verb="daily_quiz.completed", points=1, per_extra="correct", daily_cap=5),
    dict(code="quiz_passed", verb="quiz.passed", points=2, once_per_object=True, min_score=60),
    dict(code="course_completed", verb="course.completed", points=5, once_per_object=True),
    dict(code="meeting_attended", verb="meeting.attended", points=3, once_per_object=True),
    dict(code="meeting_attended_online", verb="meeting.attended_online", points=3, once_per_object=True),
    dict(code="care_resolved", verb="care.resolved", points=3, once_per_object=True),
    dict(code="report_submitted", verb="report.submitted", points=2, once_per_object=True),
    dict(code="dues_on_time", verb="dues.paid_on_time", points=1, once_per_object=True),
)
DEFAULTS_SINCE = datetime(2000, 1, 1)

#: Labels of the usual verb categories (plugins may use others; those show as they are).
CATEGORY_LABELS = {
    "login": _l("Logging in"), "study": _l("Study"), "learning": _l("Study"), "quiz": _l("Quizzes"),
    "meeting": _l("Branch life"), "care": _l("Care"), "mobility": _l("Mobility"), "dues": _l("Dues"),
    "report": _l("Reports"), "engagement": _l("Engagement"), "manual": _l("Awarded by the branch"),
    "other": _l("Other"),
}
PERIOD_LABELS = {"day": _l("Today"), "month": _l("This month"), "quarter": _l("This quarter"),
                 "year": _l("This year"), "all": _l("All time")}
RULE_FIELDS = ("enabled", "points", "per_extra", "daily_cap", "once_per_object", "cooldown_seconds", "min_score",
               "active_from", "active_until")


def category_label(category: str | None) -> str:
    return str(CATEGORY_LABELS.get(category or "other", category or ""))


# -- helpers ------------------------------------------------------------------

def dialect_insert(model):
    """``INSERT`` of the session's dialect (both offer ``on_conflict_do_update``)."""
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


def verb_registry() -> dict[str, dict[str, Any]]:
    """``{verb: {"label", "category", "plugin"}}`` from every enabled plugin (cached per app context)."""
    cached = g.get("_points_verbs") if has_app_context() else None
    if cached is None:
        cached = {}
        for plugin, verbs in tk.call_each("portal_activity_verbs"):
            for verb in verbs or []:
                cached.setdefault(verb.verb, {"label": verb.label, "category": verb.category, "plugin": plugin})
        if has_app_context():
            g._points_verbs = cached
    return cached


def verb_label(verb: str | None) -> str:
    info = verb_registry().get(verb or "")
    return str(info["label"]) if info else (verb or "")


# -- rules --------------------------------------------------------------------

def ensure_default_rules() -> None:
    """Create the default rules that do not exist yet (idempotent, safe under concurrency)."""
    existing = set(db.session.scalars(select(PointsRule.code).where(PointsRule.code.is_not(None))))
    missing = [spec for spec in DEFAULT_RULES if spec["code"] not in existing]
    for spec in missing:
        spec = dict(spec)
        try:
            with db.session.begin_nested():
                rule = PointsRule(code=spec.pop("code"), verb=spec.pop("verb"), created_at=DEFAULTS_SINCE)
                db.session.add(rule)
                db.session.flush()
                db.session.add(PointsRuleVersion(rule_id=rule.id, version=1, valid_from=DEFAULTS_SINCE, **spec))
                db.session.flush()
        except IntegrityError:
            continue  # another transaction created it first


def rule_values(version: PointsRuleVersion | None) -> dict[str, Any]:
    """The editable values of a version (defaults for a new rule)."""
    if version is None:
        return dict(enabled=True, points=1, per_extra=None, daily_cap=None, once_per_object=False,
                    cooldown_seconds=0, min_score=None, active_from=None, active_until=None)
    return {name: getattr(version, name) for name in RULE_FIELDS}


def validate_rule_values(values: dict[str, Any]) -> dict[str, str]:
    """Field errors of a rule's values (empty when they are fine)."""
    errors: dict[str, str] = {}
    if not isinstance(values.get("points"), int) or not 1 <= values["points"] <= 1000:
        errors["points"] = _("Points must be a whole number from 1 to 1000.")
    cap = values.get("daily_cap")
    if cap is not None and (not isinstance(cap, int) or not 1 <= cap <= 10000):
        errors["daily_cap"] = _("The daily cap must be empty or a whole number from 1 to 10000.")
    cooldown = values.get("cooldown_seconds")
    if not isinstance(cooldown, int) or not 0 <= cooldown <= 7 * 86400:
        errors["cooldown_seconds"] = _("The cooldown must be between 0 seconds and 7 days.")
    score = values.get("min_score")
    if score is not None and (not isinstance(score, int) or not 0 <= score <= 100000):
        errors["min_score"] = _("The minimum score must be empty or a whole number from 0 upwards.")
    extra = values.get("per_extra")
    if extra is not None and (not isinstance(extra, str) or not extra.isidentifier() or len(extra) > 32):
        errors["per_extra"] = _("Use the name of a number the activity carries, such as \"correct\".")
    start, end = values.get("active_from"), values.get("active_until")
    if start and end and end < start:
        errors["active_until"] = _("The end date lies before the start date.")
    return errors


def create_rule(verb: str, values: dict[str, Any], *, account_id: int | None = None,
                campaign: PointsCampaign | None = None, now: datetime | None = None) -> PointsRule:
    """A new rule valid from ``now`` (caller commits). Raises :class:`tk.Invalid` on bad values."""
    now = now or tk.utcnow()
    errors = validate_rule_values(values)
    if errors:
        raise tk.Invalid(" ".join(errors.values()), errors)
    rule = PointsRule(verb=verb, campaign_id=campaign.id if campaign else None, created_at=now)
    db.session.add(rule)
    db.session.flush()
    db.session.add(PointsRuleVersion(rule_id=rule.id, version=1, valid_from=now, created_by_account_id=account_id,
                                     **{name: values.get(name) for name in RULE_FIELDS}))
    db.session.flush()
    db.session.refresh(rule)
    tk.audit("points.rule_created", "points_rule", rule.id, actor_account_id=account_id, verb=verb,
             **{k: v for k, v in values.items() if k in RULE_FIELDS})
    return rule


def update_rule(rule: PointsRule, values: dict[str, Any], *, account_id: int | None = None,
                now: datetime | None = None) -> PointsRuleVersion | None:
    """Close the open version at ``now`` and open a new one with ``values``; None when nothing changed.

    Activities before ``now`` keep being scored (and stay scored) by the old
    version: the change is never retroactive.
    """
    now = now or tk.utcnow()
    errors = validate_rule_values(values)
    if errors:
        raise tk.Invalid(" ".join(errors.values()), errors)
    current = rule.current
    if current is not None and all(getattr(current, k) == values.get(k) for k in RULE_FIELDS):
        return None
    if current is not None:
        if now <= current.valid_from:
            raise tk.Conflict(_("This rule was changed a moment ago. Reload the page and try again."))
        current.valid_to = now
    number = max((v.version for v in rule.versions), default=0) + 1
    version = PointsRuleVersion(rule_id=rule.id, version=number, valid_from=now, created_by_account_id=account_id,
                                **{name: values.get(name) for name in RULE_FIELDS})
    db.session.add(version)
    db.session.flush()
    db.session.refresh(rule)
    tk.audit("points.rule_changed", "points_rule", rule.id, actor_account_id=account_id, version=number,
             **{k: v for k, v in values.items() if k in RULE_FIELDS})
    return version


def rules_in_effect(verb: str, at: datetime) -> list[tuple[PointsRule, PointsRuleVersion]]:
    """The enabled rule versions for ``verb`` valid at ``at`` (active dates checked too), by rule id."""
    rows = db.session.execute(
        select(PointsRule, PointsRuleVersion).join(PointsRuleVersion, PointsRuleVersion.rule_id == PointsRule.id)
        .where(PointsRule.verb == verb, PointsRuleVersion.enabled.is_(True), PointsRuleVersion.valid_from <= at,
               or_(PointsRuleVersion.valid_to.is_(None), PointsRuleVersion.valid_to > at))
        .order_by(PointsRule.id)
    ).all()
    day = tk.local_date(at)
    return [(rule, version) for rule, version in rows
            if (version.active_from is None or version.active_from <= day)
            and (version.active_until is None or day <= version.active_until)]


def rules_in_force() -> list[tuple[PointsRule, PointsRuleVersion]]:
    """The general rules in force for verbs an enabled plugin records, with their current version (by verb)."""
    ensure_default_rules()
    registry = verb_registry()
    return [(rule, rule.current) for rule in all_rules() if rule.current and rule.current.enabled
            and rule.verb in registry]


def all_rules(campaign: PointsCampaign | None = None) -> list[PointsRule]:
    """Every general rule (or every rule of ``campaign``), by verb."""
    condition = PointsRule.campaign_id == campaign.id if campaign else PointsRule.campaign_id.is_(None)
    return list(db.session.scalars(select(PointsRule).where(condition).order_by(PointsRule.verb, PointsRule.id)))


# -- scoring activities ---------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def score_passes(version: PointsRuleVersion, extras: dict) -> bool:
    """The minimum score condition: percent of ``max_score`` when given, else the raw score."""
    if version.min_score is None:
        return True
    score = _number((extras or {}).get("score"))
    if score is None:
        return False
    maximum = _number((extras or {}).get("max_score"))
    if maximum and maximum > 0:
        return score * 100 >= version.min_score * maximum
    return score >= version.min_score


def base_points(version: PointsRuleVersion, extras: dict) -> int:
    """What the activity is worth by this version before caps (0: nothing)."""
    if not score_passes(version, extras):
        return 0
    if version.per_extra:
        count = _number((extras or {}).get(version.per_extra))
        if count is None or count <= 0:
            return 0
        return int(count) * version.points
    return version.points


def campaign_applies(campaign: PointsCampaign, member, day: date) -> bool:
    """Is ``day`` within the campaign and does the member's home or host unit take part?"""
    if not campaign.starts_on <= day <= campaign.ends_on:
        return False
    return member_in_campaign(campaign, member)


def member_in_campaign(campaign: PointsCampaign, member) -> bool:
    units = [link.unit for link in campaign.units]
    return any(unit.contains(member.home_unit) or unit.contains(member.host_unit) for unit in units)


def apply_activity(activity) -> list[PointsEntry]:
    """Score ``activity`` with every rule in force at its time; returns the entries written."""
    ensure_default_rules()
    candidates = rules_in_effect(activity.verb, activity.created_at)
    if not candidates:
        return []
    member = db.session.get(tk.Member, activity.actor_id)
    if member is None:
        return []
    day = tk.local_date(activity.created_at)
    category = verb_registry().get(activity.verb, {}).get("category", "other")
    before = member_total(member.id)
    entries = []
    for rule, version in candidates:
        if rule.campaign is not None and not campaign_applies(rule.campaign, member, day):
            continue
        points = base_points(version, activity.extras or {})
        if points <= 0:
            continue
        entry = _award_by_rule(member, rule, version, activity, points, category, day)
        if entry is not None:
            entries.append(entry)
    if entries:
        check_level_badges(member, before, now=activity.created_at)
    return entries


def _lock_counter(member_id: int, rule_id: int) -> None:
    stmt = dialect_insert(PointsRuleCounter).values(member_id=member_id, rule_id=rule_id, awards=0)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["member_id", "rule_id"], set_={"awards": PointsRuleCounter.awards}))


def _award_by_rule(member, rule, version, activity, points: int, category: str, day: date) -> PointsEntry | None:
    at = activity.created_at
    dkey = periods.day_key(day)
    mine = and_(PointsEntry.member_id == member.id, PointsEntry.rule_id == rule.id, PointsEntry.kind == KIND_RULE)
    try:
        with db.session.begin_nested():
            _lock_counter(member.id, rule.id)
            if version.once_per_object and db.session.scalar(select(PointsEntry.id).where(
                    mine, PointsEntry.object_type == activity.object_type,
                    PointsEntry.object_id == activity.object_id).limit(1)) is not None:
                return None
            if version.cooldown_seconds and db.session.scalar(select(PointsEntry.id).where(
                    mine, PointsEntry.occurred_at > at - timedelta(seconds=version.cooldown_seconds),
                    PointsEntry.occurred_at <= at).limit(1)) is not None:
                return None
            if version.daily_cap:
                used = db.session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                    mine, PointsEntry.day_key == dkey)) or 0
                points = min(points, version.daily_cap - used)
                if points <= 0:
                    return None
            entry = PointsEntry(
                member_id=member.id, points=points, kind=KIND_RULE, category=category, rule_id=rule.id,
                rule_version_id=version.id, activity_id=activity.id, verb=activity.verb,
                object_type=activity.object_type, object_id=activity.object_id, campaign_id=rule.campaign_id,
                unit_id=activity.home_unit_id or member.home_unit_id, occurred_at=at, day_key=dkey,
                created_at=tk.utcnow())
            db.session.add(entry)
            db.session.flush()
            add_to_totals(member, entry)
            db.session.execute(update(PointsRuleCounter).where(
                PointsRuleCounter.member_id == member.id, PointsRuleCounter.rule_id == rule.id
            ).values(awards=PointsRuleCounter.awards + 1, last_awarded_at=at))
        return entry
    except IntegrityError:
        return None  # this activity already earned points by this rule


# -- totals ---------------------------------------------------------------------

def add_to_totals(member, entry: PointsEntry) -> None:
    """Add ``entry`` to the member's, the branch's and the campaign's totals (same transaction)."""
    keys = periods.period_keys(entry.day_key)
    unit_id = member.home_unit_id
    # A member who moved branch: their totals follow them (one indexed no-op update otherwise).
    db.session.execute(update(PointsTotal).where(PointsTotal.member_id == member.id, PointsTotal.unit_id != unit_id)
                       .values(unit_id=unit_id).execution_options(synchronize_session=False))
    rows = [dict(member_id=member.id, period=code, period_key=keys[code], unit_id=unit_id, points=entry.points)
            for code in PERIOD_CODES.values()]
    stmt = dialect_insert(PointsTotal).values(rows)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["member_id", "period", "period_key"],
        set_={"points": PointsTotal.points + stmt.excluded.points, "unit_id": stmt.excluded.unit_id}))
    if entry.unit_id:
        unit_rows = [dict(unit_id=entry.unit_id, period=code, period_key=keys[code], points=entry.points)
                     for code in PERIOD_CODES.values()]
        ustmt = dialect_insert(PointsUnitTotal).values(unit_rows)
        db.session.execute(ustmt.on_conflict_do_update(
            index_elements=["unit_id", "period", "period_key"],
            set_={"points": PointsUnitTotal.points + ustmt.excluded.points}))
    if entry.campaign_id:
        cstmt = dialect_insert(PointsCampaignTotal).values(
            campaign_id=entry.campaign_id, member_id=member.id, unit_id=unit_id, points=entry.points)
        db.session.execute(cstmt.on_conflict_do_update(
            index_elements=["campaign_id", "member_id"],
            set_={"points": PointsCampaignTotal.points + cstmt.excluded.points, "unit_id": cstmt.excluded.unit_id}))


def member_total(member_id: int, period: str = "all", now: datetime | None = None) -> int:
    """A member's points in the period containing ``now``."""
    key = periods.current_key(period, now or tk.utcnow())
    return db.session.scalar(select(PointsTotal.points).where(
        PointsTotal.member_id == member_id, PointsTotal.period == PERIOD_CODES[period],
        PointsTotal.period_key == key)) or 0


def member_totals(member_id: int, now: datetime | None = None) -> dict[str, int]:
    """``{"day", "month", "quarter", "year", "all"}`` in one indexed query."""
    now = now or tk.utcnow()
    keys = periods.period_keys(periods.day_key(tk.local_date(now)))
    wanted = [(code, keys[code]) for code in PERIOD_CODES.values()]
    rows = db.session.execute(select(PointsTotal.period, PointsTotal.period_key, PointsTotal.points).where(
        PointsTotal.member_id == member_id,
        or_(*[and_(PointsTotal.period == code, PointsTotal.period_key == key) for code, key in wanted]))).all()
    found = {(row.period, row.period_key): row.points for row in rows}
    return {period: found.get((code, keys[code]), 0) for period, code in PERIOD_CODES.items()}


def monthly_points(member_id: int, now: datetime | None = None, months: int = 12) -> list[tuple[int, int]]:
    """``[(YYYYMM, points)]`` for the last ``months`` months, oldest first."""
    keys = periods.last_months(now or tk.utcnow(), months)
    rows = dict(db.session.execute(select(PointsTotal.period_key, PointsTotal.points).where(
        PointsTotal.member_id == member_id, PointsTotal.period == "m",
        PointsTotal.period_key.between(keys[0], keys[-1]))).all())
    return [(key, rows.get(key, 0)) for key in keys]


# -- manual awards and reversals -----------------------------------------------------

def _manual_entry(member, points: int, kind: str, reason: str, account_id: int | None, *, now: datetime,
                  campaign_id: int | None = None, category: str = "manual", unit_id: int | None = None,
                  occurred_at: datetime | None = None, day_key: int | None = None, reverses_id: int | None = None,
                  rule_id: int | None = None) -> PointsEntry:
    occurred_at = occurred_at or now
    entry = PointsEntry(
        member_id=member.id, points=points, kind=kind, category=category, campaign_id=campaign_id,
        unit_id=unit_id or member.home_unit_id, reason=reason, created_by_account_id=account_id,
        occurred_at=occurred_at, day_key=day_key or periods.day_key(tk.local_date(occurred_at)),
        reverses_id=reverses_id, rule_id=rule_id, created_at=now)
    db.session.add(entry)
    db.session.flush()
    add_to_totals(member, entry)
    return entry


def award_manual(member, points: int, reason: str, *, account, campaign: PointsCampaign | None = None,
                 now: datetime | None = None) -> PointsEntry:
    """A secretary's award (positive) or deduction (negative) with a mandatory reason (caller commits).

    ``account`` needs ``points.award`` over the member and may not award
    themselves (:func:`tk.require_acting_on`). Audit-logged.
    """
    tk.require_acting_on(member, "points.award", account=account)
    now = now or tk.utcnow()
    reason = (reason or "").strip()
    limit = int(tk.get_setting(PLUGIN, "manual_award_max") or 100)
    if not isinstance(points, int) or points == 0 or abs(points) > limit:
        raise tk.Invalid(_("Points must be a whole number other than 0, at most %(limit)d either way.", limit=limit),
                         field="points")
    _check_reason(reason)
    if campaign is not None and not member_in_campaign(campaign, member):
        raise tk.Invalid(_("This member's branch does not take part in that campaign."), field="campaign_id")
    before = member_total(member.id, now=now)
    entry = _manual_entry(member, points, KIND_MANUAL, reason, account.id, now=now,
                          campaign_id=campaign.id if campaign else None)
    tk.audit("points.awarded" if points > 0 else "points.deducted", "member", member.id,
             unit_id=member.home_unit_id, actor_account_id=account.id, points=points, reason=reason,
             entry=entry.id, campaign=campaign.id if campaign else None)
    tk.notify([member.account_id], _l("Your points changed by %(points)+d", points=points), reason,
              url="/points/", kind="points")
    check_level_badges(member, before, now=now)
    return entry


def _check_reason(reason: str) -> None:
    """A manual entry's reason: what the member and the auditors read."""
    if len(reason) < 4:
        raise tk.Invalid(_("Give a reason (at least 4 characters): the member and the auditors will read it."),
                         field="reason")
    if len(reason) > 500:
        raise tk.Invalid(_("The reason is too long (at most 500 characters)."), field="reason")


def reverse_entry(entry: PointsEntry, reason: str, *, account, now: datetime | None = None) -> PointsEntry:
    """Cancel ``entry`` with an opposite entry counted on the same day (caller commits).

    An entry is reversed at most once (``UNIQUE(reverses_id)``); a reversal is
    never reversed (award again instead).
    """
    member = tk.require_acting_on(entry.member, "points.award", account=account)
    now = now or tk.utcnow()
    reason = (reason or "").strip()
    if entry.kind == KIND_REVERSAL:
        raise tk.Conflict(_("A reversal cannot be reversed. Award the points again instead."))
    _check_reason(reason)
    if db.session.scalar(select(PointsEntry.id).where(PointsEntry.reverses_id == entry.id)) is not None:
        raise tk.Conflict(_("This entry has already been reversed."))
    try:
        with db.session.begin_nested():
            reversal = _manual_entry(
                member, -entry.points, KIND_REVERSAL, reason, account.id, now=now, campaign_id=entry.campaign_id,
                category=entry.category, unit_id=entry.unit_id, occurred_at=entry.occurred_at,
                day_key=entry.day_key, reverses_id=entry.id, rule_id=entry.rule_id)
    except IntegrityError:
        raise tk.Conflict(_("This entry has already been reversed.")) from None
    tk.audit("points.reversed", "member", member.id, unit_id=member.home_unit_id, actor_account_id=account.id,
             entry=entry.id, points=-entry.points, reason=reason)
    return reversal


def reversed_ids(entry_ids: Iterable[int]) -> set[int]:
    """Which of ``entry_ids`` have been reversed."""
    ids = list(entry_ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(PointsEntry.reverses_id).where(PointsEntry.reverses_id.in_(ids))))


def history_query(member_id: int):
    """The member's ledger, newest first (for :func:`tk.paginate`)."""
    return select(PointsEntry).where(PointsEntry.member_id == member_id).order_by(PointsEntry.id.desc())


def entry_reason(entry: PointsEntry) -> str:
    """Why an entry exists, in words: the rule's verb label, or the secretary's reason."""
    if entry.kind == KIND_RULE:
        text = verb_label(entry.verb)
        if entry.campaign is not None:
            text = _("%(what)s (campaign: %(campaign)s)", what=text, campaign=entry.campaign.name)
        return text
    if entry.kind == KIND_REVERSAL:
        return _("Reversal: %(reason)s", reason=entry.reason)
    return entry.reason


# -- levels and badges -----------------------------------------------------------------

def level_thresholds() -> list[int]:
    """Points needed for level 2, 3, … (ascending) from the setting."""
    raw = tk.get_setting(PLUGIN, "level_thresholds") or []
    if isinstance(raw, str):
        raw = raw.replace("\n", ",").split(",")
    values = set()
    for item in raw:
        try:
            value = int(str(item).strip())
        except ValueError:
            continue
        if value > 0:
            values.add(value)
    return sorted(values)


@dataclass
class Level:
    number: int
    floor: int
    next_at: int | None
    total: int

    @property
    def to_next(self) -> int | None:
        return None if self.next_at is None else self.next_at - self.total

    @property
    def progress(self) -> int:
        """Percent of the way from this level's floor to the next (100 at the top)."""
        if self.next_at is None:
            return 100
        span = self.next_at - self.floor
        return max(0, min(100, int((self.total - self.floor) * 100 / span))) if span > 0 else 100


def level_for(total: int) -> Level:
    thresholds = level_thresholds()
    reached = [t for t in thresholds if t <= total]
    upcoming = [t for t in thresholds if t > total]
    return Level(number=len(reached) + 1, floor=reached[-1] if reached else 0,
                 next_at=upcoming[0] if upcoming else None, total=total)


def _grant_badge(member, kind: str, key: str, details: dict, now: datetime) -> bool:
    stmt = dialect_insert(PointsBadge).values(member_id=member.id, kind=kind, key=key, details=details, awarded_at=now)
    result = db.session.execute(stmt.on_conflict_do_nothing(index_elements=["member_id", "kind", "key"]))
    if not result.rowcount:
        return False
    issue_open_badge(db.session.scalar(select(PointsBadge).where(
        PointsBadge.member_id == member.id, PointsBadge.kind == kind, PointsBadge.key == key)))
    return True


def issue_open_badge(badge: PointsBadge) -> None:
    """The points badge as an Open Badge too (``tk.issue_badge``: the same badge twice issues it once).

    Each level and each campaign place is its own badge class (``points:level:3``,
    ``points:campaign:12:1``): one class per kind could not name what was reached.
    """
    member = db.session.get(tk.Member, badge.member_id)
    details = badge.details or {}
    if badge.kind == "level":
        number = int(badge.key)
        thresholds = level_thresholds()
        points = thresholds[number - 2] if 2 <= number <= len(thresholds) + 1 else None
        criteria = (_l("Earn %(points)d points by taking part in the portal.", points=points) if points
                    else _l("Reach this points level by taking part in the portal."))
        tk.issue_badge(member, key=f"points:level:{number}", plugin=PLUGIN,
                       name=_l("Level %(level)s reached", level=number),
                       description=_l("Reached points level %(level)s by taking part in the portal.", level=number),
                       criteria_narrative=criteria, criteria_path=tk.path_for("points.rules"),
                       source=f"points-badge:{badge.id}", now=badge.awarded_at)
        return
    campaign_id, place = details.get("campaign_id"), details.get("place", "?")
    tk.issue_badge(member, key=f"points:campaign:{badge.key}", plugin=PLUGIN,
                   name=_l("Place %(place)s in %(campaign)s", place=place, campaign=details.get("campaign", "")),
                   description=_l("Finished the points campaign %(campaign)s in place %(place)s.",
                                  campaign=details.get("campaign", ""), place=place),
                   criteria_narrative=_l("Finish the campaign in place %(place)s by points earned.", place=place),
                   criteria_path=tk.path_for("points.campaign", campaign_id=campaign_id) if campaign_id else None,
                   source=f"points-badge:{badge.id}", now=badge.awarded_at)


def check_level_badges(member, before: int, *, now: datetime | None = None) -> list[int]:
    """Give a badge for each level newly reached since ``before`` points; returns the levels."""
    now = now or tk.utcnow()
    after = member_total(member.id, now=now)
    old, new = level_for(before).number, level_for(after).number
    granted = []
    for number in range(max(old, 1) + 1, new + 1):
        if _grant_badge(member, "level", str(number), {"level": number}, now):
            granted.append(number)
    if granted and member.account_id:
        tk.notify([member.account_id], _l("You reached level %(level)d", level=granted[-1]),
                  _l("Thank you for taking part."), url="/points/", kind="points")
    return granted


def sync_open_badges() -> int:
    """Issue every points badge as an Open Badge; returns how many. Caller commits.

    The backfill for badges given before Open Badges existed: running it again changes nothing.
    """
    badges = db.session.scalars(select(PointsBadge).order_by(PointsBadge.id)).all()
    for badge in badges:
        issue_open_badge(badge)
    return len(badges)


def badges_of(member_id: int) -> list[PointsBadge]:
    return list(db.session.scalars(select(PointsBadge).where(PointsBadge.member_id == member_id)
                                   .order_by(PointsBadge.awarded_at.desc(), PointsBadge.id.desc())))


def badge_label(badge: PointsBadge) -> str:
    if badge.kind == "level":
        return _("Level %(level)s reached", level=badge.key)
    details = badge.details or {}
    return _("Place %(place)s in %(campaign)s", place=details.get("place", "?"), campaign=details.get("campaign", ""))


# -- campaigns ------------------------------------------------------------------------

def validate_campaign(name: str, starts_on: date | None, ends_on: date | None, unit_ids: list[int]) -> dict[str, str]:
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("Give the campaign a name.")
    if starts_on is None:
        errors["starts_on"] = _("Give a start date.")
    if ends_on is None:
        errors["ends_on"] = _("Give an end date.")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The end date lies before the start date.")
    if not unit_ids:
        errors["units"] = _("Choose at least one participating unit.")
    return errors


def save_campaign(campaign: PointsCampaign | None, *, name: str, description: str, starts_on: date, ends_on: date,
                  units: list, owner_unit, account_id: int | None, now: datetime | None = None) -> PointsCampaign:
    """Create or update a campaign (caller commits and has checked the units are in scope)."""
    now = now or tk.utcnow()
    from portal_points.models import PointsCampaignUnit

    creating = campaign is None
    if creating:
        campaign = PointsCampaign(owner_unit_id=owner_unit.id, created_by_account_id=account_id, created_at=now)
        db.session.add(campaign)
    campaign.name, campaign.description = name.strip()[:200], (description or "").strip()
    campaign.starts_on, campaign.ends_on = starts_on, ends_on
    wanted = {unit.id for unit in units}
    campaign.units = [link for link in campaign.units if link.unit_id in wanted] + [
        PointsCampaignUnit(unit_id=uid) for uid in sorted(wanted - set(campaign.unit_ids))]
    db.session.flush()
    tk.audit("points.campaign_created" if creating else "points.campaign_changed", "points_campaign", campaign.id,
             unit_id=owner_unit.id, actor_account_id=account_id, name=campaign.name)
    return campaign


def finalize_campaigns(now: datetime | None = None) -> list[PointsCampaign]:
    """Give place badges for every campaign that has ended and was not finalized yet (idempotent)."""
    now = now or tk.utcnow()
    today = tk.local_date(now)
    done = []
    ended = db.session.scalars(select(PointsCampaign).where(PointsCampaign.ends_on < today,
                                                            PointsCampaign.finalized_at.is_(None)))
    places = int(tk.get_setting(PLUGIN, "campaign_badge_places") or 3)
    for campaign in ended:
        rows = db.session.execute(select(PointsCampaignTotal.member_id, PointsCampaignTotal.points)
                                  .where(PointsCampaignTotal.campaign_id == campaign.id, PointsCampaignTotal.points > 0)
                                  .order_by(PointsCampaignTotal.points.desc(), PointsCampaignTotal.member_id)
                                  .limit(places * 4)).all()
        rank, previous = 0, None
        for index, row in enumerate(rows, start=1):
            if row.points != previous:
                rank, previous = index, row.points
            if rank > places:
                break
            member = db.session.get(tk.Member, row.member_id)
            if _grant_badge(member, "campaign", f"{campaign.id}:{rank}",
                            {"campaign": campaign.name, "place": rank, "campaign_id": campaign.id}, now) \
                    and member.account_id:
                tk.notify([member.account_id], _l("Place %(place)d in %(campaign)s", place=rank, campaign=campaign.name),
                          "", url=f"/points/campaigns/{campaign.id}", kind="points")
        campaign.finalized_at = now
        done.append(campaign)
    return done


def visible_campaigns(member, account) -> list[PointsCampaign]:
    """Campaigns the viewer takes part in or manages, newest first."""
    campaigns = db.session.scalars(select(PointsCampaign).order_by(PointsCampaign.starts_on.desc(),
                                                                  PointsCampaign.id.desc())).all()
    return [c for c in campaigns if can_view_campaign(c, member, account)]


def can_view_campaign(campaign: PointsCampaign, member, account) -> bool:
    if member is not None and member_in_campaign(campaign, member):
        return True
    return tk.can("points.campaigns", campaign.owner_unit, account) or tk.can("points.view", campaign.owner_unit, account)


def can_manage_campaign(campaign: PointsCampaign, account=None) -> bool:
    return tk.can("points.campaigns", campaign.owner_unit, account)


def describe_version(version: PointsRuleVersion | None) -> list[str]:
    """A rule version in words, one phrase per condition."""
    if version is None:
        return []
    parts = []
    if version.per_extra:
        parts.append(_("%(points)d per %(unit)s", points=version.points,
                       unit=_("correct answer") if version.per_extra == "correct" else version.per_extra))
    else:
        parts.append(_("%(points)d each time", points=version.points))
    if version.daily_cap:
        parts.append(_("at most %(cap)d a day", cap=version.daily_cap))
    if version.once_per_object:
        parts.append(_("once per item"))
    if version.cooldown_seconds:
        parts.append(_("nothing again within %(seconds)d s", seconds=version.cooldown_seconds))
    if version.min_score is not None:
        parts.append(_("score at least %(score)d %%", score=version.min_score))
    if version.active_from:
        parts.append(_("from %(date)s", date=tk.fmt_date(version.active_from)))
    if version.active_until:
        parts.append(_("until %(date)s", date=tk.fmt_date(version.active_until)))
    if not version.enabled:
        parts.append(_("switched off"))
    return parts
