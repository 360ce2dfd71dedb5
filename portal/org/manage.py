"""The rules behind the unit, member, account and role screens.

Views parse the form, check the permission and call these; every function
leaves the commit to the caller and raises a :class:`portal.errors.ServiceError`
(``Invalid`` naming the form field at fault, ``Conflict`` for a unit or
account in the wrong state, ``Forbidden``) with a translated message.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts import services as account_services
from portal.accounts.models import Account
from portal.audit.services import audit
from portal.errors import Conflict, Forbidden, Invalid
from portal.extensions import db
from portal.org import services as tree
from portal.org.models import ROLES, UNIT_KINDS, Member, OrgUnit, RoleAssignment
from portal.org.permissions import SELF_REFUSAL, can, is_admin, require_acting_on
from portal.places import clean_place, place_parts

#: The profile fields an editor may set (``home_unit_id``/``host_unit_id`` handled with the units).
PROFILE_FIELDS = ("name", "gender", "birth_date", "ethnicity", "education", "phone", "id_number", "stage",
                  "joined_on", "occupation", "industry", "employer", "current_province", "current_city",
                  "is_away", "lost_contact", "notes")


# --- units -----------------------------------------------------------------------------------

def create_unit(name: str, kind: str, parent: OrgUnit | None, **fields: Any) -> OrgUnit:
    """A new open unit below ``parent`` (audited)."""
    if kind not in UNIT_KINDS:
        raise Invalid(_("Unknown kind of unit."), field="kind")
    if parent is not None and parent.is_closed:
        raise Conflict(_("Units cannot be added below a closed unit."))
    unit = tree.create_unit(name, kind, parent, **fields)
    audit("unit.created", "unit", unit.id, unit_id=unit.id, name=unit.name, kind=kind,
          parent_id=parent.id if parent else None)
    return unit


def unit_place_fields(text: str | None) -> dict[str, str | None]:
    """``place_code`` and the province/city display text of a unit's place as typed or picked.

    Unknown or ambiguous text is refused on the ``place`` field; empty text clears the place.
    """
    code = clean_place(text, "place", required=False)
    province, city, _county = place_parts(code)
    return {"place_code": code, "province": province or None, "city": city or None}


def update_unit(unit: OrgUnit, **fields: Any) -> dict[str, Any]:
    """Rename a unit or change its kind, province, city or mobile-branch flag; returns what changed (audited)."""
    if fields.get("kind", unit.kind) not in UNIT_KINDS:
        raise Invalid(_("Unknown kind of unit."), field="kind")
    changed = {}
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or (None if key in ("province", "city") else value)
        if getattr(unit, key) != value:
            changed[key] = value
            setattr(unit, key, value)
    if changed:
        audit("unit.updated", "unit", unit.id, unit_id=unit.id, **changed)
    return changed


def move_unit(unit: OrgUnit, new_parent: OrgUnit) -> None:
    """Move ``unit`` and its subtree below ``new_parent``; refuses cycles and closed parents (audited)."""
    if new_parent.id == unit.id or unit.contains(new_parent):
        raise Invalid(_("A unit cannot be moved below itself or below one of its own sub-units."), field="parent")
    if new_parent.is_closed:
        raise Invalid(_("Units cannot be moved below a closed unit."), field="parent")
    if unit.parent_id == new_parent.id:
        raise Invalid(_("The unit is already there."), field="parent")
    old_parent_id = unit.parent_id
    unit_id = unit.id
    tree.move_unit(unit, new_parent)
    audit("unit.moved", "unit", unit_id, unit_id=unit_id, old_parent_id=old_parent_id, new_parent_id=new_parent.id)


def unit_contents(unit: OrgUnit) -> dict[str, int]:
    """What keeps a unit from being closed: open sub-units, members at home there, members hosted there."""
    return {
        "units": db.session.scalar(select(func.count(OrgUnit.id)).where(
            OrgUnit.parent_id == unit.id, OrgUnit.closed_at.is_(None))) or 0,
        "members": db.session.scalar(select(func.count(Member.id)).where(Member.home_unit_id == unit.id)) or 0,
        "hosted": db.session.scalar(select(func.count(Member.id)).where(Member.host_unit_id == unit.id)) or 0,
    }


def close_unit(unit: OrgUnit) -> None:
    """Close an empty unit (audited); a unit with open sub-units or members stays open."""
    if unit.is_closed:
        raise Conflict(_("This unit is already closed."))
    contents = unit_contents(unit)
    if any(contents.values()):
        raise Conflict(_("This unit cannot be closed: it still has %(units)d open sub-units, "
                             "%(members)d members and %(hosted)d incoming members hosted. "
                             "Move or close them first.", **contents))
    tree.close_unit(unit)
    audit("unit.closed", "unit", unit.id, unit_id=unit.id)


# --- members ---------------------------------------------------------------------------------

def duplicate_problems(phone: str | None, id_number: str | None, exclude_id: int | None = None) -> dict[str, str]:
    """``{field: message}`` when another member already has this phone number or ID number."""
    problems = {}
    for field, value, column in (("phone", phone, Member.phone), ("id_number", id_number, Member.id_number)):
        if not value:
            continue
        query = select(Member.id).where(column == value)
        if exclude_id is not None:
            query = query.where(Member.id != exclude_id)
        if db.session.scalar(query.limit(1)) is not None:
            problems[field] = (_("Another member already has this phone number.") if field == "phone"
                               else _("Another member already has this national ID number."))
    return problems


def save_member(member: Member | None, data: dict[str, Any], home_unit: OrgUnit,
                host_unit: OrgUnit | None = None) -> Member:
    """Create (``member`` None) or update a member from cleaned form ``data`` (audited).

    ``data`` holds :data:`PROFILE_FIELDS`; an ``id_number`` of None keeps the
    stored number unless ``clear_id_number`` is true. Nobody edits their own
    record here (stage, units): :func:`require_acting_on`.
    """
    if member is not None:
        require_acting_on(member, "members.edit", member.home_unit)
    if home_unit.is_closed:
        raise Invalid(_("Members cannot be placed in a closed unit."), field="home_unit_id")
    if host_unit is not None and host_unit.is_closed:
        raise Invalid(_("Members cannot be hosted by a closed unit."), field="host_unit_id")
    if host_unit is not None and host_unit.id == home_unit.id:
        raise Invalid(_("The host branch must differ from the home branch."), field="host_unit_id")
    new_id = data.get("id_number")
    problems = duplicate_problems(data.get("phone"), new_id, member.id if member else None)
    if problems:
        field, message = next(iter(problems.items()))
        raise Invalid(message, field=field)
    creating = member is None
    if creating:
        member = Member(home_unit_id=home_unit.id)
        db.session.add(member)
    changed = []
    for field in PROFILE_FIELDS:
        if field == "id_number" and new_id is None and not data.get("clear_id_number"):
            continue
        if field not in data:
            continue
        if getattr(member, field) != data[field]:
            changed.append(field)
            setattr(member, field, data[field])
    for field, unit in (("home_unit_id", home_unit), ("host_unit_id", host_unit)):
        value = unit.id if unit is not None else None
        if getattr(member, field) != value:
            changed.append(field)
            setattr(member, field, value)
    if member.host_unit_id is not None:
        member.is_away = True
    if member.account is not None and "name" in changed:
        member.account.display_name = member.name
    db.session.flush()
    if creating:
        audit("member.created", "member", member.id, unit_id=home_unit.id, name=member.name)
    elif changed:
        # Field names only: the audit log must not become a second copy of personal data.
        audit("member.updated", "member", member.id, unit_id=home_unit.id, fields=",".join(sorted(changed)))
    return member


def contact_candidates(member: Member, limit: int = 500) -> list[Member]:
    """Members who can be ``member``'s contact person: others of the same home branch (its party groups included)."""
    return list(db.session.scalars(select(Member).where(
        Member.home_unit_id.in_(tree.branch_unit_ids(member.home_unit)), Member.id != member.id)
        .order_by(Member.name).limit(limit)))


def assign_contact(member: Member, contact: Member | None) -> None:
    """Make ``contact`` (a member of the same home branch) ``member``'s contact person, or clear it (audited).

    Part of the member's record: nobody chooses their own (:func:`require_acting_on`).
    """
    require_acting_on(member, "members.edit", member.home_unit)
    if contact is not None:
        if contact.id == member.id:
            raise Invalid(_("A member cannot be their own contact person."), field="contact")
        if contact.home_unit_id not in tree.branch_unit_ids(member.home_unit):
            raise Invalid(_("The contact person must belong to the same home branch."), field="contact")
    member.contact_member_id = contact.id if contact else None
    audit("member.contact_assigned", "member", member.id, unit_id=member.home_unit_id,
          contact_member_id=contact.id if contact else None)
    if contact is not None and contact.account_id:
        from portal.notify.services import notify

        notify([contact.account_id], _("You are now the contact person of %(name)s", name=member.name),
               _("Please keep in touch with %(name)s.", name=member.name), kind="contact")


def login_taken(login: str) -> bool:
    """True when ``login`` is already some account's username or phone number."""
    return account_services.find_account(login) is not None


def create_account_for_member(member: Member, username: str, phone: str | None, password: str) -> Account:
    """Give ``member`` an account that must change its initial password at first login (audited)."""
    if member.account_id is not None:
        raise Conflict(_("This member already has an account."))
    if login_taken(username):
        raise Invalid(_("This username or phone number is already taken."), field="username")
    if phone and login_taken(phone):
        raise Invalid(_("This username or phone number is already taken."), field="phone")
    if problem := account_services.password_problem(password, username):
        raise Invalid(problem, field="password")
    account = Account(username=username, display_name=member.name, phone=phone or None, password_hash="!")
    account_services.set_password(account, password, must_change=True)
    db.session.add(account)
    db.session.flush()
    member.account_id = account.id
    audit("account.created", "account", account.id, unit_id=member.home_unit_id, username=username,
          member_id=member.id)
    return account


def may_reset_password(member: Member, actor) -> bool:
    """May ``actor`` reset ``member``'s password?

    The member's home unit must lie in the actor's ``accounts.reset_password``
    scope, nobody resets their own password here, and an account holding roles
    can only be reset by someone who could grant those roles (admins for admins),
    so a secretary cannot take over an organizer's or admin's account.
    """
    account = member.account
    if account is None or actor is None or account.id == actor.id:
        return False
    if not can("accounts.reset_password", member.home_unit, actor):
        return False
    for role in account.roles:
        if role.role == "admin" and not is_admin(actor):
            return False
        if not can("roles.manage", role.unit, actor):
            return False
    return True


def reset_password(member: Member, password: str) -> None:
    """Set a temporary password the member must change at next login; ends their sessions (audited)."""
    try:
        account_services.reset_password(member.account, password, unit_id=member.home_unit_id, member_id=member.id)
    except ValueError as error:
        raise Invalid(str(error), field="password") from None


# --- roles -----------------------------------------------------------------------------------

def unit_roles(unit: OrgUnit) -> list[RoleAssignment]:
    """Role assignments on ``unit`` itself, by role then username."""
    return list(db.session.scalars(select(RoleAssignment).join(Account).where(RoleAssignment.unit_id == unit.id)
                                   .order_by(RoleAssignment.role, Account.username)))


def _require_other(account: Account, unit: OrgUnit, actor) -> None:
    """Roles are part of a member's record: the one self-exclusion rule applies (admins hold every role anyway)."""
    if is_admin(actor):
        return
    if account.member is not None:
        require_acting_on(account.member, "roles.manage", unit, account=actor)
    elif actor is not None and account.id == actor.id:
        raise Forbidden(SELF_REFUSAL)


def assign_role(username: str, role: str, unit: OrgUnit, actor) -> RoleAssignment:
    """Grant ``role`` on ``unit`` to the account named ``username`` (audited).

    Only admins grant ``admin``; nobody but an admin grants themselves a role (:func:`_require_other`).
    """
    if role not in ROLES:
        raise Invalid(_("Unknown role."), field="role")
    if role == "admin" and not is_admin(actor):
        raise Forbidden(_("Only site admins may make someone a site admin."), field="role")
    if unit.is_closed:
        raise Conflict(_("Roles cannot be given on a closed unit."))
    account = db.session.scalar(select(Account).where(Account.username == (username or "").strip()))
    if account is None:
        raise Invalid(_("There is no account with this username."), field="username")
    exists = db.session.scalar(select(RoleAssignment).where(
        RoleAssignment.account_id == account.id, RoleAssignment.role == role, RoleAssignment.unit_id == unit.id))
    _require_other(account, unit, actor)
    if exists is not None:
        raise Conflict(_("%(user)s already holds this role here.", user=account.username), field="username")
    assignment = RoleAssignment(account_id=account.id, role=role, unit_id=unit.id)
    db.session.add(assignment)
    db.session.flush()
    audit("role.assigned", "account", account.id, unit_id=unit.id, role=role, username=account.username)
    return assignment


def remove_role(assignment: RoleAssignment, actor) -> None:
    """Take a role assignment away (audited). Only admins remove ``admin``; the last admin stays.

    Nobody but an admin changes their own roles (:func:`_require_other`).
    """
    _require_other(assignment.account, assignment.unit, actor)
    if assignment.role == "admin":
        if not is_admin(actor):
            raise Forbidden(_("Only site admins may remove a site admin."))
        admins = db.session.scalar(select(func.count(func.distinct(RoleAssignment.account_id)))
                                   .where(RoleAssignment.role == "admin")) or 0
        others = db.session.scalar(select(func.count(RoleAssignment.id)).where(
            RoleAssignment.role == "admin", RoleAssignment.account_id == assignment.account_id,
            RoleAssignment.id != assignment.id)) or 0
        if admins <= 1 and not others:
            raise Conflict(_("The last site admin cannot be removed."))
    audit("role.removed", "account", assignment.account_id, unit_id=assignment.unit_id, role=assignment.role,
          username=assignment.account.username)
    db.session.delete(assignment)
