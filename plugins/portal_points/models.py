"""Points: versioned rules, the append-only ledger, incrementally kept totals, campaigns, badges.

Every table is named ``points_…``. The ledger (:class:`PointsEntry`) is the
truth; the ``*_total`` tables are caches kept in the same transaction as the
entry and rebuilt from the ledger by ``portal points recompute``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import toolkit as tk

db = tk.db

#: Period codes of the totals tables, and the order totals are written in (lock order).
PERIODS = ("day", "month", "quarter", "year", "all")
PERIOD_CODES = {"day": "d", "month": "m", "quarter": "q", "year": "y", "all": "a"}

#: Entry kinds.
KIND_RULE, KIND_MANUAL, KIND_REVERSAL = "rule", "manual", "reversal"


class PointsCampaign(db.Model):
    """A time-boxed competition (e.g. the "four comparisons") with its own rules and board."""

    __tablename__ = "points_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)
    finalized_at: Mapped[datetime | None]

    owner_unit = relationship("OrgUnit", lazy="joined")
    units = relationship("PointsCampaignUnit", cascade="all, delete-orphan", lazy="selectin")

    @property
    def unit_ids(self) -> list[int]:
        return [link.unit_id for link in self.units]


class PointsCampaignUnit(db.Model):
    """A participating unit (its whole subtree takes part)."""

    __tablename__ = "points_campaign_unit"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("points_campaign.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)

    unit = relationship("OrgUnit", lazy="joined")


class PointsRule(db.Model):
    """The identity of a rule: which verb it scores, and (optionally) the campaign it belongs to.

    What it awards lives in :class:`PointsRuleVersion`; saving a change closes
    the current version and opens a new one, so past entries keep the version
    that was in force.
    """

    __tablename__ = "points_rule"
    __table_args__ = (Index("ix_points_rule_verb", "verb"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)  # default rules only
    verb: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("points_campaign.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    campaign = relationship("PointsCampaign")
    versions = relationship("PointsRuleVersion", back_populates="rule", order_by="PointsRuleVersion.version",
                            lazy="selectin")

    @property
    def current(self) -> "PointsRuleVersion | None":
        """The open version (the one new activities are scored with)."""
        open_versions = [v for v in self.versions if v.valid_to is None]
        return open_versions[-1] if open_versions else None


class PointsRuleVersion(db.Model):
    """What a rule awards, valid from ``valid_from`` until ``valid_to`` (open when None)."""

    __tablename__ = "points_rule_version"
    __table_args__ = (UniqueConstraint("rule_id", "version", name="uq_points_rule_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("points_rule.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    enabled: Mapped[bool] = mapped_column(default=True)
    points: Mapped[int] = mapped_column(default=1)
    #: When set, ``points`` is per unit of ``activity.extras[per_extra]`` (e.g. per correct answer).
    per_extra: Mapped[str | None] = mapped_column(String(32))
    daily_cap: Mapped[int | None]
    once_per_object: Mapped[bool] = mapped_column(default=False)
    cooldown_seconds: Mapped[int] = mapped_column(default=0)
    #: Minimum score in percent of ``extras["max_score"]`` (or absolute when there is no max).
    min_score: Mapped[int | None]
    active_from: Mapped[date | None] = mapped_column(Date)
    active_until: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))

    rule = relationship("PointsRule", back_populates="versions")


class PointsEntry(db.Model):
    """One line of the append-only ledger.

    ``unit_id`` is the member's home branch when the points were earned;
    ``day_key`` is the local day (YYYYMMDD) the points count for. A mistake is
    undone by a ``reversal`` entry pointing at it (``reverses_id``, unique), never
    by deleting or editing a row.
    """

    __tablename__ = "points_entry"
    __table_args__ = (
        UniqueConstraint("activity_id", "rule_id", name="uq_points_entry_activity_rule"),
        UniqueConstraint("reverses_id", name="uq_points_entry_reverses"),
        Index("ix_points_entry_member_id", "member_id", "id"),
        Index("ix_points_entry_member_day", "member_id", "day_key"),
        Index("ix_points_entry_member_rule_at", "member_id", "rule_id", "occurred_at"),
        Index("ix_points_entry_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    points: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default=KIND_RULE)
    category: Mapped[str] = mapped_column(String(32), default="other")
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("points_rule.id"))
    rule_version_id: Mapped[int | None] = mapped_column(ForeignKey("points_rule_version.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="SET NULL"))
    verb: Mapped[str | None] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("points_campaign.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("points_entry.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime]
    day_key: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=tk.utcnow)

    member = relationship("Member")
    rule_version = relationship("PointsRuleVersion")
    campaign = relationship("PointsCampaign")
    created_by = relationship("Account")


class PointsRuleCounter(db.Model):
    """One row per (member, rule): the row every award by that rule locks first.

    Caps, cooldowns and once-per-object read the ledger while holding this row,
    so two concurrent awards for the same member and rule queue instead of both
    passing the checks.
    """

    __tablename__ = "points_rule_counter"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("points_rule.id", ondelete="CASCADE"), primary_key=True)
    awards: Mapped[int] = mapped_column(default=0)
    last_awarded_at: Mapped[datetime | None]


class PointsTotal(db.Model):
    """A member's points in one period (``d`` day YYYYMMDD, ``m`` YYYYMM, ``q`` YYYYQ, ``y`` YYYY, ``a`` 0).

    ``unit_id`` is the member's current home branch, so "top N under a unit for
    a period" is one index scan (see :mod:`portal_points.leaderboard`).
    """

    __tablename__ = "points_total"
    __table_args__ = (
        Index("ix_points_total_unit", "period", "period_key", "unit_id", "points", "member_id"),
        Index("ix_points_total_member_unit", "member_id", "unit_id"),
        # A member's own history (the points page's 12-month chart) without touching other members' rows.
        Index("ix_points_total_member_period", "member_id", "period", "period_key", "points"),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(String(1), primary_key=True)
    period_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    points: Mapped[int] = mapped_column(default=0)


class PointsUnitTotal(db.Model):
    """A branch's points in one period, credited to the branch where they were earned."""

    __tablename__ = "points_unit_total"
    __table_args__ = (Index("ix_points_unit_total_period", "period", "period_key", "unit_id", "points"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(1), primary_key=True)
    period_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(default=0)


class PointsCampaignTotal(db.Model):
    """A member's points in a campaign."""

    __tablename__ = "points_campaign_total"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("points_campaign.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    points: Mapped[int] = mapped_column(default=0)


class PointsBadge(db.Model):
    """A badge a member earned: ``kind`` ``level`` (key = level number) or ``campaign`` (key = id:place)."""

    __tablename__ = "points_badge"
    __table_args__ = (UniqueConstraint("member_id", "kind", "key", name="uq_points_badge"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    awarded_at: Mapped[datetime] = mapped_column(default=tk.utcnow)


# Indexes ordered by points descending ("top N"), declared once the columns exist.
Index("ix_points_total_rank", PointsTotal.period, PointsTotal.period_key, PointsTotal.points.desc(),
      PointsTotal.member_id, PointsTotal.unit_id)
Index("ix_points_campaign_total_rank", PointsCampaignTotal.campaign_id, PointsCampaignTotal.points.desc(),
      PointsCampaignTotal.member_id)
