"""Org units (a materialized-path tree), members and scoped role assignments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import utcnow
from portal.extensions import db

UNIT_KINDS = ("committee", "general_branch", "branch", "group")
STAGES = ("applicant", "activist", "candidate", "probationary", "full")
#: Who counts as a member (党员) in every figure and may be registered away, certified or transferred:
#: full and probationary members. Applicants, activists and candidates are listed separately.
MEMBER_STAGES = ("full", "probationary")
GENDERS = ("male", "female")
EDUCATION_LEVELS = ("primary", "junior_high", "high_school", "vocational", "associate", "bachelor", "master", "doctorate")
#: Every role an account can be assigned on a unit.
ROLES = ("secretary", "organizer", "admin")
#: The roles doing a unit's secretarial work: who holds a declared permission by default (``tk.SECRETARY_ROLES``).
SECRETARY_ROLES = ROLES
#: The roles answering for a unit's business, who are told about it (site admins are not): ``tk.UNIT_OFFICER_ROLES``.
UNIT_OFFICER_ROLES = ("secretary", "organizer")


def in_subtree(path_column, path: str):
    """SQL condition: ``path_column`` lies at or below the unit whose path is ``path``.

    A plain ``LIKE 'prefix%'`` so the path index is used (PostgreSQL through
    ``text_pattern_ops``, SQLite through ``case_sensitive_like``).
    """
    return path_column.like(f"{path}%")


def is_member_stage(stage: str | None) -> bool:
    """True for a full or probationary member (:data:`MEMBER_STAGES`)."""
    return stage in MEMBER_STAGES


def member_stage_filter(stage_column=None):
    """SQL condition: the member is full or probationary (``Member.stage`` unless another column is given)."""
    return (Member.stage if stage_column is None else stage_column).in_(MEMBER_STAGES)


class OrgUnit(db.Model):
    """A node of the organization tree.

    ``path`` is the chain of ids from the root, e.g. ``/1/7/42/``; everything
    under a unit is ``path LIKE '/1/7/%'`` — one indexed query.
    """

    __tablename__ = "org_unit"
    __table_args__ = (Index("ix_org_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    depth: Mapped[int] = mapped_column(default=0)
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    #: The unit's place as an administrative-division code (portal/places.py); province/city stay as display text.
    place_code: Mapped[str | None] = mapped_column(String(6))
    is_mobile_branch: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent = relationship("OrgUnit", remote_side=[id], lazy="joined", join_depth=1)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def contains(self, other: "OrgUnit | None") -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other is not None and other.path.startswith(self.path)

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, inclusive."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.name}>"


class Member(db.Model):
    """A member's profile as branches keep it (docs/domain.md, "The people")."""

    __tablename__ = "member"
    __table_args__ = (
        Index("ix_member_home_unit_stage", "home_unit_id", "stage"),  # the whole-tree count reads only this index
        Index("ix_member_host_unit", "host_unit_id"),
        # Member lists are sorted by name: a page walks this index and stops after offset + page size.
        Index("ix_member_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None]
    ethnicity: Mapped[str | None] = mapped_column(String(30))
    education: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(20), default="full")
    joined_on: Mapped[date | None]
    occupation: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(100))
    employer: Mapped[str | None] = mapped_column(String(200))
    current_province: Mapped[str | None] = mapped_column(String(50))
    current_city: Mapped[str | None] = mapped_column(String(50))
    home_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    host_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    contact_member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    is_away: Mapped[bool] = mapped_column(default=False)
    lost_contact: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    hide_from_public_boards: Mapped[bool] = mapped_column(default=False)
    last_active_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account = relationship("Account", back_populates="member")
    home_unit = relationship("OrgUnit", foreign_keys=[home_unit_id], lazy="joined")
    host_unit = relationship("OrgUnit", foreign_keys=[host_unit_id], lazy="joined")
    contact = relationship("Member", remote_side=[id], foreign_keys=[contact_member_id])

    @property
    def masked_id_number(self) -> str:
        """The national ID number with all but the first 3 and last 4 characters hidden."""
        value = self.id_number or ""
        if len(value) <= 7:
            return "*" * len(value)
        return value[:3] + "*" * (len(value) - 7) + value[-4:]

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        from portal.timeutil import local_today  # models load before the app; the zone is read at call time

        today = local_today()
        return today.year - self.birth_date.year - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.name}>"


class RoleAssignment(db.Model):
    """(account, role, unit): the role applies to the unit and its whole subtree."""

    __tablename__ = "role_assignment"
    __table_args__ = (db.UniqueConstraint("account_id", "role", "unit_id", name="uq_role_assignment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account = relationship("Account", back_populates="roles")
    unit = relationship("OrgUnit", lazy="joined")
