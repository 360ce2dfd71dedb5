"""Operations on the organization tree and on who is responsible for whom."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from portal.database import utcnow
from portal.extensions import db
from portal.accounts.models import Account
from portal.org.models import UNIT_KINDS, UNIT_OFFICER_ROLES, Member, OrgUnit, RoleAssignment, in_subtree
from portal.org.permissions import permission_registry, unit_scope
from portal.places import place_from_text
from portal.plugins.types import Alert


class TreeError(ValueError):
    """An impossible change to the tree (a cycle, a closed parent, an unknown kind)."""


def create_unit(name: str, kind: str, parent: OrgUnit | None = None, **fields) -> OrgUnit:
    """Add a unit below ``parent`` (or a new root) and give it its path (caller commits)."""
    if kind not in UNIT_KINDS:
        raise TreeError(kind)
    if parent is not None and parent.is_closed:
        raise TreeError("closed parent")
    if "place_code" not in fields and (fields.get("province") or fields.get("city")):
        # Units made from text (imports, scripts) still get a code when the text names one place.
        fields["place_code"] = place_from_text((fields.get("province") or "") + (fields.get("city") or ""))
    unit = OrgUnit(name=name.strip(), kind=kind, parent=parent, **fields)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    unit.depth = (parent.depth + 1) if parent else 0
    return unit


def move_unit(unit: OrgUnit, new_parent: OrgUnit) -> None:
    """Move ``unit`` and its subtree below ``new_parent`` (one UPDATE for the subtree)."""
    if new_parent.id == unit.id or unit.contains(new_parent):
        raise TreeError("cycle")
    if new_parent.is_closed:
        raise TreeError("closed parent")
    old_path, new_path = unit.path, f"{new_parent.path}{unit.id}/"
    depth_shift = new_parent.depth + 1 - unit.depth
    db.session.execute(
        update(OrgUnit).where(in_subtree(OrgUnit.path, old_path)).values(
            path=func.replace(OrgUnit.path, old_path, new_path), depth=OrgUnit.depth + depth_shift),
        execution_options={"synchronize_session": False},
    )
    unit.parent_id = new_parent.id
    db.session.flush()
    db.session.expire_all()


def close_unit(unit: OrgUnit) -> None:
    """Close a unit that has no open sub-units and no members (caller commits)."""
    open_children = db.session.scalar(select(func.count(OrgUnit.id)).where(
        OrgUnit.parent_id == unit.id, OrgUnit.closed_at.is_(None)))
    members = db.session.scalar(select(func.count(Member.id)).where(Member.home_unit_id == unit.id))
    if open_children or members:
        raise TreeError("not empty")
    unit.closed_at = utcnow()


def subtree_ids(unit: OrgUnit) -> list[int]:
    """Ids of ``unit`` and every unit below it."""
    return list(db.session.scalars(select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit.path))))


def own_units_select(unit: OrgUnit):
    """A ``select`` of the ids of the units whose members are ``unit``'s own: ``unit`` and the party groups
    below it, reached group by group (a branch's members include those kept in its groups), never a branch or
    committee below it nor anything under that one (those have members of their own). One recursive CTE over
    ``parent_id``, to embed in an ``IN`` (no statement of its own). For every unit below, :func:`subtree_ids`."""
    own = select(OrgUnit.id).where(OrgUnit.id == unit.id).cte(f"own_units_{unit.id}", recursive=True)
    group = aliased(OrgUnit)
    own = own.union_all(select(group.id).where(group.parent_id == own.c.id, group.kind == "group"))
    return select(own.c.id)


def own_unit_ids(unit: OrgUnit) -> list[int]:
    """The ids of :func:`own_units_select` (``unit`` and its party groups)."""
    return list(db.session.scalars(own_units_select(unit)))


def branch_of(unit: OrgUnit) -> OrgUnit:
    """The branch ``unit`` belongs to: for a party group, the nearest unit above it that is not a group; any
    other unit is its own."""
    while unit.kind == "group" and unit.parent is not None:
        unit = unit.parent
    return unit


def branch_unit_ids(unit: OrgUnit) -> list[int]:
    """:func:`own_unit_ids` of :func:`branch_of` ``unit``: for a party group's member, the branch and every
    group of it."""
    return own_unit_ids(branch_of(unit))


#: The most units one picker lists (a province-wide tree has a few thousand; search narrows it further).
UNIT_PICKER_LIMIT = 3000


def unit_choices(permission: str | None = None, *, kinds: Iterable[str] | None = None, exclude: Iterable[int] = (),
                 search: str | None = None, limit: int = UNIT_PICKER_LIMIT, account=None) -> list[tuple[int, str]]:
    """``(id, name)`` pairs of open units for a picker, in tree order, names indented by depth.

    With ``permission``, only units under those ``account`` (default: the current one) holds it on;
    ``kinds`` keeps those unit kinds, ``exclude`` drops ids, ``search`` matches the name.
    """
    query = select(OrgUnit).where(OrgUnit.closed_at.is_(None))
    if permission is not None:
        query = query.where(unit_scope(permission, account))
    if kinds is not None:
        query = query.where(OrgUnit.kind.in_(tuple(kinds)))
    if exclude:
        query = query.where(OrgUnit.id.not_in(tuple(exclude)))
    if search and search.strip():
        query = query.where(OrgUnit.name.contains(search.strip(), autoescape=True))
    units = db.session.scalars(query.order_by(OrgUnit.path).limit(limit))
    return [(unit.id, "· " * unit.depth + unit.name) for unit in units]


def responsible_accounts(unit: OrgUnit | None, permission: str) -> tuple[OrgUnit | None, list[int]]:
    """Who acts on ``unit``'s business for ``permission``: ``(the unit they answer for, their account ids)``.

    The one rule for every alert and escalation: walk up from ``unit`` to the
    root and take the first unit on which active accounts hold a unit officer
    role (secretary, organizer) that the permission registry grants
    ``permission`` to; a role on a unit covers its subtree, so they may act.
    When nobody on the way up does, the site admins, with the root as the unit.
    ``(unit, [])`` only when there are no admins either.
    """
    if unit is None:
        return None, []
    perm = permission_registry().get(permission)
    roles = tuple(role for role in UNIT_OFFICER_ROLES if perm is not None and role in perm.roles)
    ancestors = list(reversed(unit.ancestor_ids()))
    rows = db.session.execute(select(RoleAssignment.unit_id, RoleAssignment.account_id)
                              .join(Account, Account.id == RoleAssignment.account_id)
                              .where(RoleAssignment.unit_id.in_(ancestors), RoleAssignment.role.in_(roles),
                                     Account.is_active_account.is_(True))
                              .order_by(RoleAssignment.account_id)).all()
    by_unit: dict[int, list[int]] = {}
    for unit_id, account_id in rows:
        by_unit.setdefault(unit_id, []).append(account_id)
    for unit_id in ancestors:
        if by_unit.get(unit_id):
            return db.session.get(OrgUnit, unit_id), list(dict.fromkeys(by_unit[unit_id]))
    admins = list(dict.fromkeys(db.session.scalars(
        select(RoleAssignment.account_id).join(Account, Account.id == RoleAssignment.account_id)
        .where(RoleAssignment.role == "admin", Account.is_active_account.is_(True))
        .order_by(RoleAssignment.account_id))))
    return (db.session.get(OrgUnit, ancestors[-1]) if admins else unit), admins


def member_accounts_for_unit(unit: OrgUnit, *, include_hosted: bool = False) -> list[int]:
    """Account ids of members whose home (optionally host) unit lies in ``unit``'s subtree."""
    condition = Member.home_unit.has(in_subtree(OrgUnit.path, unit.path))
    if include_hosted:
        condition = condition | Member.host_unit.has(in_subtree(OrgUnit.path, unit.path))
    return [aid for aid in db.session.scalars(select(Member.account_id).where(condition)) if aid]


@dataclass(frozen=True)
class MemberContacts:
    """Who hears of a member's business: their name, branches, account and their contact person's account (1+1)."""

    name: str
    home_unit_id: int
    host_unit_id: int | None
    account_id: int | None
    contact_account_id: int | None


#: Members looked up per statement (kept under every database's limit on bound parameters).
_CONTACTS_CHUNK = 500


def member_contacts(ids: list[int]) -> dict[int, MemberContacts]:
    """``{member id: MemberContacts}`` for the members ``ids``: one statement per 500 members."""
    contact = aliased(Member)
    found: dict[int, MemberContacts] = {}
    for start in range(0, len(ids), _CONTACTS_CHUNK):
        rows = db.session.execute(
            select(Member.id, Member.name, Member.home_unit_id, Member.host_unit_id, Member.account_id,
                   contact.account_id)
            .outerjoin(contact, contact.id == Member.contact_member_id)
            .where(Member.id.in_(ids[start:start + _CONTACTS_CHUNK])))
        found.update((row[0], MemberContacts(*row[1:])) for row in rows)
    return found


def written_notice_alerts(kind: str, member_id: int, who: MemberContacts, *, to_member, to_branch,
                          member_url: str, branch_url: str, home_permission: str,
                          host_permission: str) -> list[Alert]:
    """A written notice (BRANCH-LIFE (b), step 5) sent through everyone who should hear of it: the member, the home
    branch (``home_permission``), the host branch (``host_permission``) and the contact person (1+1)."""
    alerts = [Alert(kind, who.home_unit_id, member_id, to_branch, branch_url, permission=home_permission)]
    if who.account_id:
        alerts.append(Alert(kind, who.home_unit_id, member_id, to_member, member_url, (who.account_id,)))
    if who.host_unit_id and who.host_unit_id != who.home_unit_id:
        alerts.append(Alert(kind, who.host_unit_id, member_id, to_branch, permission=host_permission))
    if who.contact_account_id and who.contact_account_id != who.account_id:
        alerts.append(Alert(kind, who.home_unit_id, member_id, to_branch, "", (who.contact_account_id,)))
    return alerts
