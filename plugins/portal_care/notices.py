"""Who hears about a request, and the in-app notices sent to them."""
from __future__ import annotations

from typing import Iterable

from portal import toolkit as tk

from .models import CareRequest
from .vocabulary import URL_PREFIX


def notify_accounts(account_ids: Iterable[int], actor, title: str, req: CareRequest, body: str = "", kind: str = "care") -> None:
    recipients = [aid for aid in dict.fromkeys(account_ids) if aid and (actor is None or aid != actor.id)]
    if recipients:
        tk.notify(recipients, title, body, url=f"{URL_PREFIX}/requests/{req.id}", kind=kind)


def involved_accounts(req: CareRequest, *, include_member: bool = True) -> list[int]:
    """Requester, handler and whoever answers for the routing (and escalation) unit (:func:`tk.responsible_accounts`)."""
    ids = []
    if include_member and req.member and req.member.account_id:
        ids.append(req.member.account_id)
    if req.handler_account_id:
        ids.append(req.handler_account_id)
    ids.extend(tk.responsible_accounts(req.unit, "care.manage")[1])
    if req.escalated_unit_id:
        ids.extend(tk.responsible_accounts(tk.db.session.get(tk.OrgUnit, req.escalated_unit_id), "care.manage")[1])
    return ids
