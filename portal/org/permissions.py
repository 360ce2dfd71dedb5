"""The one permission check every view uses.

A role assignment (account, role, unit) grants the role's permissions over the
unit's whole subtree. Permissions are declared by the core and by plugins
(``portal_permissions``), each with the roles that hold it by default. A
permission marked ``host_visible`` is also held by a host branch's
secretaries over the incoming members hosted in their subtree.
"""
from __future__ import annotations

from flask import abort, g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.local import LocalProxy
from sqlalchemy import false, or_, true

from portal.errors import Forbidden, NotFound
from portal.org.models import UNIT_OFFICER_ROLES, Member, OrgUnit, in_subtree
from portal.plugins.manager import call_list
from portal.plugins.types import Permission


#: Why acting on one's own record is refused (the one wording for every plugin).
SELF_REFUSAL = _l("Nobody may decide on their own record: another secretary must do it.")


def permission_registry() -> dict[str, Permission]:
    """``{name: Permission}`` declared by the core and the enabled plugins (cached per request)."""
    cached = g.get("_permissions") if has_request_context() else None
    if cached is None:
        cached = {perm.name: perm for perm in call_list("portal_permissions")}
        if has_request_context():
            g._permissions = cached
    return cached


def _account(account):
    """``account``, else the logged-in account, else None; never the ``current_user`` proxy itself.

    Unwrapped once: every attribute read through the proxy looks the user up again (a page asks
    ``can()`` a few dozen times, each reading the roles).
    """
    if isinstance(account, LocalProxy):
        account = account._get_current_object()
    if account is not None:
        return account
    user = current_user._get_current_object()
    return user if user is not None and user.is_authenticated else None


def is_admin(account=None) -> bool:
    """True for site admins (an ``admin`` role anywhere covers the whole site)."""
    account = _account(account)
    return account is not None and _admin(account)


def _admin(account) -> bool:
    return any(role.role == "admin" for role in account.roles)


def granting_units(permission: str, account=None) -> list[OrgUnit]:
    """The units over whose subtree ``account`` holds ``permission`` (admins: every root)."""
    account = _account(account)
    return [] if account is None else _granting(permission_registry().get(permission), account)


def _granting(perm: Permission | None, account) -> list[OrgUnit]:
    if perm is None:
        return []
    return [role.unit for role in account.roles if role.role in perm.roles or role.role == "admin"]


def can(permission: str, unit: OrgUnit | None = None, account=None) -> bool:
    """May ``account`` (default: current user) use ``permission`` on ``unit`` (or anywhere when None)?"""
    account = _account(account)
    if account is None:
        return False
    registry = permission_registry()
    if _admin(account):
        return permission in registry
    units = _granting(registry.get(permission), account)
    if unit is None:
        return bool(units)
    return any(granted.contains(unit) for granted in units)


def require(permission: str, unit: OrgUnit | None = None) -> None:
    """Abort unless the current user may use ``permission`` on ``unit``.

    Without a unit a refusal is 403; on a unit it is 404, so that nobody learns
    whether a unit (or a member in it) exists outside their scope.
    """
    if not can(permission, unit):
        abort(403 if unit is None else 404)


def can_see_member(member: Member, permission: str = "members.view", account=None) -> bool:
    """May ``account`` use ``permission`` on ``member``'s data?

    Members always see themselves; the home branch side by subtree; the host
    side only for host-visible permissions and only while the member is hosted.

    Because of the first rule this answers "may they SEE it". For an action a
    member must not take on their own record (awarding points, grading,
    approving), use :func:`require_acting_on`.
    """
    account = _account(account)
    if account is None:
        return False
    return member.account_id == account.id or _may_act_on(member, permission, account)


def require_member(member: Member | None, permission: str = "members.view") -> Member:
    """Return ``member`` or abort 404 when it is missing or outside the current user's scope."""
    if member is None or not can_see_member(member, permission):
        abort(404)
    return member


def require_acting_on(member: Member | None, permission: str, unit: OrgUnit | None = None, account=None) -> Member:
    """Return ``member`` if ``account`` (default: current user) may act on their record with ``permission``.

    The one self-exclusion rule, called by services before an approval or a
    decision on a member's record: raises :class:`~portal.errors.NotFound`
    when the member is missing or outside the account's scope (on ``unit``
    when given, else on the member as :func:`can_see_member` decides), and
    :class:`~portal.errors.Forbidden` when it is the account's own member
    record, unless the permission is declared ``self_allowed``.

    Outside a request and without ``account`` (the CLI, the demo, scheduled
    scans) there is no one acting on anything, and nothing is checked.
    """
    if account is None and not has_request_context():
        if member is None:
            raise NotFound(_l("Not found."))
        return member
    account = _account(account)
    if member is None or account is None:
        raise NotFound(_l("Not found."))
    allowed = can(permission, unit, account) if unit is not None else _may_act_on(member, permission, account)
    if not allowed:
        raise NotFound(_l("Not found."))
    perm = permission_registry().get(permission)
    if member.account_id == account.id and not (perm and perm.self_allowed):
        raise Forbidden(SELF_REFUSAL)
    return member


def _may_act_on(member: Member, permission: str, account) -> bool:
    """``can_see_member`` without its "members always see themselves" rule."""
    if can(permission, member.home_unit, account):
        return True
    perm = permission_registry().get(permission)
    if perm and perm.host_visible and member.host_unit is not None:
        host_roles = [r.unit for r in account.roles if r.role in UNIT_OFFICER_ROLES and r.role in perm.roles]
        return any(unit.contains(member.host_unit) for unit in host_roles)
    return False


def member_scope(permission: str = "members.view", account=None, *, include_hosted: bool = True):
    """A SQL condition on :class:`Member` selecting the members ``account`` may see with ``permission``."""
    account = _account(account)
    if account is None:
        return false()
    if is_admin(account):
        return true()
    home_units = granting_units(permission, account)
    conditions = [Member.home_unit.has(in_subtree(OrgUnit.path, unit.path)) for unit in home_units]
    perm = permission_registry().get(permission)
    if include_hosted and perm and perm.host_visible:
        for role in account.roles:
            if role.role in UNIT_OFFICER_ROLES and role.role in perm.roles:
                conditions.append(Member.host_unit.has(in_subtree(OrgUnit.path, role.unit.path)))
    return or_(*conditions) if conditions else false()


def unit_scope(permission: str, account=None):
    """A SQL condition on :class:`OrgUnit` selecting units under the account's granting units."""
    account = _account(account)
    if is_admin(account):
        return true()
    units = granting_units(permission, account)
    return or_(*[in_subtree(OrgUnit.path, unit.path) for unit in units]) if units else false()


def manageable_units(permission: str, account=None) -> list[OrgUnit]:
    """Top-most units the account holds ``permission`` over (overlaps removed), for pickers."""
    from portal.extensions import db
    from sqlalchemy import select

    account = _account(account)
    if is_admin(account):
        return list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)))
    units = sorted({u.id: u for u in granting_units(permission, account)}.values(), key=lambda u: u.path)
    tops: list[OrgUnit] = []
    for unit in units:
        if not any(top.contains(unit) for top in tops):
            tops.append(unit)
    return tops


def unit_from_arg(value: str | None, permission: str) -> OrgUnit:
    """The unit a page's ``?unit=`` names, which the account must hold ``permission`` on (404 outside scope),
    or without one the first unit the account holds it on (403 when there is none)."""
    from portal.database import MAX_ID
    from portal.extensions import db

    require(permission)
    if value:
        unit = db.session.get(OrgUnit, int(value)) if value.isdigit() and int(value) <= MAX_ID else None
        if unit is None:
            abort(404)
        require(permission, unit)
        return unit
    units = manageable_units(permission)
    if not units:
        abort(403)
    return units[0]
