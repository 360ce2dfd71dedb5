"""Micro-wishes: posted by a member, approved by their branch, claimed, fulfilled and confirmed by others."""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import Select, false, select

from portal import toolkit as tk

from .models import CareWish
from .vocabulary import TITLE_MAX, URL_PREFIX

WISH_VISIBLE = ("open", "claimed", "fulfilled", "confirmed")


def clean_wish(data: dict) -> dict:
    errors = {}
    title = (data.get("title") or "").strip() if isinstance(data.get("title", ""), str) else ""
    description = (data.get("description") or "").strip() if isinstance(data.get("description", ""), str) else ""
    if not title:
        errors["title"] = _("This field is required.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(n)d characters.", n=TITLE_MAX)
    if len(description) > 2000:
        errors["description"] = _("At most %(n)d characters.", n=2000)
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return {"title": title, "description": description}


def create_wish(member, data: dict, *, now: datetime) -> CareWish:
    """A member posts a wish; their home branch's secretaries are asked to approve it."""
    wish = CareWish(member_id=member.id, member=member, status="pending", created_at=now, **clean_wish(data))
    tk.db.session.add(wish)
    tk.db.session.flush()
    _unit, recipients = tk.responsible_accounts(member.home_unit, "care.manage")
    if recipients:
        tk.notify(recipients, _l("A micro-wish waits for approval: %(title)s", title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")
    return wish


def wish_reviewer(wish: CareWish, account) -> bool:
    """Secretaries (and organizers above) of the wisher's home branch review the wish."""
    return wish.member is not None and tk.can("care.manage", wish.member.home_unit, account)


def wish_scope_choices(wish: CareWish, account) -> list:
    """Units whose subtree may see the wish: the wisher's home and host branches and their
    ancestors that the reviewer handles, narrowest first."""
    ids: list[int] = []
    for unit in (wish.member.home_unit, wish.member.host_unit):
        if unit is not None:
            ids.extend(unit.ancestor_ids())
    units = tk.db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(set(ids)))).all()
    return sorted([u for u in units if tk.can("care.manage", u, account)], key=lambda u: (-u.depth, u.name))


def _member_unit_ids(member) -> set[int]:
    ids = set()
    for unit in (member.home_unit, member.host_unit):
        if unit is not None:
            ids.update(unit.ancestor_ids())
    return ids


def can_view_wish(wish: CareWish, account) -> bool:
    if account is None:
        return False
    member = account.member
    if member is not None and member.id in (wish.member_id, wish.claimer_member_id):
        return True
    if wish_reviewer(wish, account):
        return True
    if wish.status in WISH_VISIBLE and wish.visible_unit is not None:
        if tk.can("care.manage", wish.visible_unit, account):
            return True
        return member is not None and wish.visible_unit_id in _member_unit_ids(member)
    return False


def get_visible_wish(wish_id, account) -> CareWish | None:
    try:
        wish = tk.db.session.get(CareWish, int(wish_id))
    except (TypeError, ValueError):
        return None
    return wish if wish is not None and can_view_wish(wish, account) else None


def open_wishes_query(member) -> Select:
    """The board: open wishes visible to ``member`` (posted within a subtree containing their home or host branch)."""
    return select(CareWish).where(
        CareWish.status == "open", CareWish.visible_unit_id.in_(_member_unit_ids(member)),
        CareWish.member_id != member.id).order_by(CareWish.created_at.desc(), CareWish.id.desc())


def own_wishes_query(member) -> Select:
    """The wishes ``member`` posted, newest first."""
    return select(CareWish).where(CareWish.member_id == member.id).order_by(CareWish.created_at.desc(),
                                                                           CareWish.id.desc())


def claimed_wishes_query(member) -> Select:
    """The wishes ``member`` claimed to fulfil, latest claim first."""
    return select(CareWish).where(CareWish.claimer_member_id == member.id).order_by(CareWish.claimed_at.desc(),
                                                                                   CareWish.id.desc())


def pending_wishes_query(account) -> Select:
    """Wishes waiting for ``account``'s approval (members of branches they handle; nothing for others)."""
    if not tk.can("care.manage", None, account):
        return select(CareWish).where(false())
    return select(CareWish).where(
        CareWish.status == "pending", CareWish.member.has(tk.member_scope("care.manage", account, include_hosted=False))
    ).order_by(CareWish.created_at, CareWish.id)


def open_wishes_for(member, limit: int = 50) -> list[CareWish]:
    """The first ``limit`` wishes of the board (:func:`open_wishes_query`); none without a member."""
    if member is None:
        return []
    return list(tk.db.session.scalars(open_wishes_query(member).limit(limit)))


def pending_wishes_for(account, limit: int = 100) -> list[CareWish]:
    """The first ``limit`` wishes waiting for ``account``'s approval (:func:`pending_wishes_query`)."""
    return list(tk.db.session.scalars(pending_wishes_query(account).limit(limit)))


def member_actions(wish: CareWish, member) -> list[str]:
    """What ``member`` may do to ``wish`` now (keys of :data:`WISH_ACTIONS`), as the wish page offers them."""
    if member is None:
        return []
    if wish.status == "open" and member.id != wish.member_id:
        return ["claim"]
    if wish.status == "claimed" and member.id == wish.claimer_member_id:
        return ["fulfil", "unclaim"]
    if wish.status == "fulfilled" and member.id == wish.member_id:
        return ["confirm"]
    return []


def review_wish(wish: CareWish, account, *, approve: bool, now: datetime, unit_id=None, reason: str = "") -> None:
    """Approve (choosing the subtree that sees it) or decline a pending wish (never one's own)."""
    if not wish_reviewer(wish, account):
        raise tk.Forbidden(_("Only the wisher's secretary can review this wish."))
    tk.require_acting_on(wish.member, "care.manage", wish.member.home_unit, account=account)
    if wish.status != "pending":
        raise tk.Conflict(_("This wish has already been reviewed."))
    if approve:
        choices = {u.id: u for u in wish_scope_choices(wish, account)}
        try:
            unit = choices.get(int(unit_id))
        except (TypeError, ValueError):
            unit = None
        if unit is None:
            raise tk.Invalid(_("Choose who may see the wish."), {"unit": _("Choose who may see the wish.")})
        wish.status, wish.visible_unit_id, wish.visible_unit = "open", unit.id, unit
        message = _("Your micro-wish “%(title)s” is published.", title=wish.title)
    else:
        reason = (reason or "").strip()
        if not reason:
            raise tk.Invalid(_("Say why the wish is not approved."), {"reason": _("Say why the wish is not approved.")})
        wish.status, wish.reject_reason = "rejected", reason[:2000]
        message = _("Your micro-wish “%(title)s” was not approved.", title=wish.title)
    wish.reviewed_by_account_id, wish.reviewed_at = account.id, now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], message, reason if not approve else "", url=f"{URL_PREFIX}/wishes/{wish.id}",
                  kind="care.wish")


def claim_wish(wish: CareWish, member, *, now: datetime) -> None:
    if member is None or member.id == wish.member_id:
        raise tk.Forbidden(_("You cannot claim your own wish."))
    if wish.status != "open":
        raise tk.Conflict(_("This wish is not open to claim."))
    wish.status, wish.claimer_member_id, wish.claimed_at = "claimed", member.id, now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], _l("%(name)s will fulfil your micro-wish “%(title)s”.", name=member.name,
                                               title=wish.title), url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


def unclaim_wish(wish: CareWish, member) -> None:
    if member is None or wish.claimer_member_id != member.id:
        raise tk.Forbidden(_("Only the member who claimed the wish can give it back."))
    if wish.status != "claimed":
        raise tk.Conflict(_("This wish cannot be given back now."))
    wish.status, wish.claimer_member_id, wish.claimed_at = "open", None, None


def fulfil_wish(wish: CareWish, member, *, now: datetime) -> None:
    if member is None or wish.claimer_member_id != member.id:
        raise tk.Forbidden(_("Only the member who claimed the wish can mark it fulfilled."))
    if wish.status != "claimed":
        raise tk.Conflict(_("This wish is not claimed."))
    wish.status, wish.fulfilled_at = "fulfilled", now
    if wish.member.account_id:
        tk.notify([wish.member.account_id], _l("Your micro-wish “%(title)s” was fulfilled. Please confirm.", title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


def confirm_wish(wish: CareWish, member, *, now: datetime) -> None:
    """The wisher confirms; ``wish.fulfilled`` is recorded for the fulfiller (who earns the points)."""
    if member is None or member.id != wish.member_id:
        raise tk.Forbidden(_("Only the wisher can confirm."))
    if wish.status != "fulfilled":
        raise tk.Conflict(_("This wish is not marked fulfilled."))
    wish.status, wish.confirmed_at = "confirmed", now
    claimer = wish.claimer or tk.db.session.get(tk.Member, wish.claimer_member_id)
    tk.record_activity(claimer, "wish.fulfilled", "care_wish", wish.id, at=now, extras={"wisher": wish.member_id})
    if claimer.account_id:
        tk.notify([claimer.account_id], _l("Thank you! %(name)s confirmed the micro-wish “%(title)s”.",
                                          name=wish.member.name, title=wish.title),
                  url=f"{URL_PREFIX}/wishes/{wish.id}", kind="care.wish")


WISH_ACTIONS = {"claim": claim_wish, "unclaim": unclaim_wish, "fulfil": fulfil_wish, "confirm": confirm_wish}


def act_on_wish(wish: CareWish, member, action: str, *, now: datetime) -> None:
    """A member's own step on a wish: ``claim``, ``unclaim``, ``fulfil`` or ``confirm`` (web and API alike)."""
    if action == "unclaim":
        unclaim_wish(wish, member)
    else:
        WISH_ACTIONS[action](wish, member, now=now)
