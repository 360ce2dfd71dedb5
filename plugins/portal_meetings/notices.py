"""Notices (通知): sending to an audience, read receipts, sign-off (签收), the call list and escalation.

A secretary holding ``meetings.notices`` on a unit sends a notice to the unit's members, its
whole subtree, only its members away, or a chosen list; one receipt row per addressee is
written at sending (the audience as it was) and each addressee gets an inbox message. Opening
the notice marks it read, "签收" acknowledges it (one ``notice.acknowledged`` activity). After
the deadline the daily scan tells each unacknowledged member's contact person (1+1) and lists
them for a phone call (BRANCH-LIFE.md (f)).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from portal.toolkit import pgettext
from sqlalchemy import and_, case, false, func, insert, or_, select, update
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql import Select

from portal import toolkit as tk
from portal_meetings.meetings import parse_local_datetime
from portal_meetings.models import NOTICE_AUDIENCES, NOTICE_KINDS, Notice, NoticeReceipt

db = tk.db
PERMISSION = "meetings.notices"
TITLE_MAX = 200
BODY_MAX = 20000
REPLY_MAX = 2000
#: The most members a "chosen list" may name (a unit or subtree notice has no limit).
LIST_MAX = 2000


# -- who is addressed ----------------------------------------------------------


def _in_units(column, unit: tk.OrgUnit, subtree: bool):
    """SQL: a member's unit column is ``unit`` or one of its party groups (or, with ``subtree``, any unit below)."""
    if not subtree:
        return column.in_(tk.own_unit_ids(unit))
    return column.in_(select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)))


def audience_condition(unit: tk.OrgUnit, audience: str):
    """SQL on Member: the members (full, probationary) a notice of ``unit`` to ``audience`` reaches.

    ``unit``: members whose home is the unit or one of its party groups, and members away hosted there;
    ``subtree``: the same over the unit and every unit below it; ``away``: the subtree's own
    members who are away; ``list`` chooses among the ``subtree`` audience.
    """
    subtree = audience != "unit"
    home = _in_units(tk.Member.home_unit_id, unit, subtree)
    if audience == "away":
        where = and_(home, tk.Member.is_away.is_(True))
    else:
        hosted = and_(tk.Member.is_away.is_(True), _in_units(tk.Member.host_unit_id, unit, subtree))
        where = or_(home, hosted)
    return and_(tk.member_stage_filter(), where)


def audience_members(unit: tk.OrgUnit, audience: str, member_ids: list[int] | None = None) -> list[tuple[int, int | None]]:
    """``[(member id, account id)]`` a notice reaches; a chosen list must lie within the unit's subtree audience."""
    query = select(tk.Member.id, tk.Member.account_id).where(audience_condition(unit, audience))
    if audience == "list":
        query = query.where(tk.Member.id.in_(member_ids or []))
    return [(row.id, row.account_id) for row in db.session.execute(query.order_by(tk.Member.id))]


def list_candidates(unit: tk.OrgUnit, limit: int = 500) -> list[tk.Member]:
    """Members a chosen list may name for ``unit`` (its subtree's members and those hosted there), by name."""
    return list(db.session.scalars(select(tk.Member).where(audience_condition(unit, "list"))
                                   .order_by(tk.Member.name, tk.Member.id).limit(limit)))


# -- input ---------------------------------------------------------------------


def parse_deadline(value: Any) -> datetime | None:
    """A local date (sign by the end of that day) or local date-time (an offset is honoured) → naive UTC.

    Empty is None; anything else raises :class:`tk.Invalid` on ``deadline``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return tk.local_day_bounds(value)[1]
    if isinstance(value, str) and len(value.strip()) == len("2026-12-01"):
        try:
            return tk.local_day_bounds(date.fromisoformat(value.strip()))[1]
        except ValueError:
            pass  # not a date: the time parser names the field
    return parse_local_datetime(value if isinstance(value, (str, datetime)) else str(value), "deadline")


def local_text(at: datetime | None) -> str:
    """``at`` (naive UTC) as local ``YYYY-MM-DD HH:MM``: the same words in every reader's language."""
    return tk.to_local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _flag(value: Any) -> bool:
    """A checkbox or JSON boolean."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "y", "yes", "on", "true")
    return bool(value)


def _ids(value: Any) -> list[int] | None:
    """Member ids from a JSON list or form values; None when any is not a positive id."""
    if value is None or value == "":
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    ids = []
    for item in values:
        if isinstance(item, bool):
            return None
        try:
            number = int(item)
        except (TypeError, ValueError):
            return None
        if not 0 < number <= tk.MAX_ID:
            return None
        ids.append(number)
    return list(dict.fromkeys(ids))


def clean_notice(data: dict, now: datetime) -> dict:
    """Check a notice's fields (the one validator for the page and the API); ``tk.Invalid`` names each bad field."""
    errors: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    body = str(data.get("body") or "").strip()
    audience = data.get("audience") or "unit"
    kind = data.get("kind") or "general"
    requires_ack = _flag(data.get("requires_ack"))
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("At most %(count)d characters.", count=TITLE_MAX)
    if len(body) > BODY_MAX:
        errors["body"] = _("At most %(count)d characters.", count=BODY_MAX)
    if audience not in NOTICE_AUDIENCES:
        errors["audience"] = _("Choose who receives the notice.")
    if kind not in NOTICE_KINDS:
        errors["kind"] = _("Choose a kind of notice.")
    member_ids = _ids(data.get("member_ids"))
    if audience == "list" and not member_ids:
        errors["member_ids"] = _("Choose at least one member.")
    elif member_ids is not None and len(member_ids) > LIST_MAX:
        errors["member_ids"] = _("At most %(count)d members.", count=LIST_MAX)
    deadline = None
    try:
        deadline = parse_deadline(data.get("deadline"))
    except tk.Invalid as error:
        errors.update(error.field_errors)
    if "deadline" not in errors:
        if requires_ack and deadline is None:
            errors["deadline"] = _("A notice to be signed for needs a deadline.")
        elif deadline is not None and deadline <= now:
            errors["deadline"] = _("The deadline must be in the future.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return {"title": title, "body": body, "audience": audience, "kind": kind, "requires_ack": requires_ack,
            "deadline": deadline, "member_ids": member_ids if audience == "list" else None}


# -- sending -------------------------------------------------------------------


def require_sender(unit: tk.OrgUnit | None, account) -> tk.OrgUnit:
    """``unit`` if ``account`` may send notices for it: 403 when they may send none, 404 outside their scope."""
    if not tk.can(PERMISSION, account=account):
        raise tk.Forbidden(_("You may not send notices."))
    if unit is None or not tk.can(PERMISSION, unit, account):
        raise tk.NotFound(_("No such unit."))
    return unit


def send_notice(unit: tk.OrgUnit | None, data: dict, *, by, now: datetime | None = None) -> Notice:
    """Send a notice of ``unit``: one receipt per addressee (the audience now) and an inbox message each.

    Refused (nothing written): a unit outside the sender's scope (404), bad fields (422), a chosen
    member outside the unit's audience or nobody to send to (422).
    """
    now = now or tk.utcnow()
    unit = require_sender(unit, by)
    clean = clean_notice(data, now)
    addressees = audience_members(unit, clean["audience"], clean["member_ids"])
    if clean["audience"] == "list":
        unknown = set(clean["member_ids"]) - {member_id for member_id, _a in addressees}
        if unknown:
            raise tk.Invalid(_("Please correct the marked fields."),
                             {"member_ids": _("Some chosen members are not members of this unit.")})
    if not addressees:
        raise tk.Invalid(_("Nobody would receive this notice."), {"audience": _("Nobody would receive this notice.")})
    notice = Notice(unit_id=unit.id, audience=clean["audience"], kind=clean["kind"], title=clean["title"],
                    body=clean["body"], requires_ack=clean["requires_ack"], deadline=clean["deadline"],
                    sender_account_id=by.id, created_at=now)
    db.session.add(notice)
    db.session.flush()
    # one INSERT for the whole audience: a subtree may hold thousands of members
    db.session.execute(insert(NoticeReceipt), [{"notice_id": notice.id, "member_id": member_id, "delivered_at": now}
                                               for member_id, _a in addressees])
    tk.notify([account_id for _m, account_id in addressees if account_id],
              _l("New notice from %(unit)s: %(title)s", unit=unit.name, title=notice.title),
              _l("Please sign for it by %(deadline)s.", deadline=local_text(notice.deadline))
              if notice.requires_ack else "",
              url=tk.path_for("meetings_notices.show", notice_id=notice.id), kind="notice")
    tk.audit("meetings.notice.sent", "meetings_notice", notice.id, unit_id=unit.id, audience=notice.audience,
             addressees=len(addressees))
    return notice


# -- reading -------------------------------------------------------------------


def get_notice(notice_id: int) -> Notice:
    """The notice or :class:`tk.NotFound`."""
    notice = db.session.get(Notice, notice_id) if 0 < notice_id <= tk.MAX_ID else None
    if notice is None:
        raise tk.NotFound(_("No such notice."))
    return notice


def receipt_of(notice: Notice, member) -> NoticeReceipt | None:
    """``member``'s receipt of ``notice`` (None: not an addressee)."""
    if member is None:
        return None
    return db.session.scalar(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id,
                                                         NoticeReceipt.member_id == member.id))


def can_follow(notice: Notice, account) -> bool:
    """May ``account`` see who read and signed (its sender, or a holder of ``meetings.notices`` on its unit)?"""
    return account is not None and (notice.sender_account_id == account.id or tk.can(PERMISSION, notice.unit, account))


def visible_notice(notice_id: int, account) -> tuple[Notice, NoticeReceipt | None]:
    """The notice and the account's receipt, if its addressee or a follower may see it; else :class:`tk.NotFound`."""
    notice = get_notice(notice_id)
    receipt = receipt_of(notice, getattr(account, "member", None))
    if receipt is None and not can_follow(notice, account):
        raise tk.NotFound(_("No such notice."))
    return notice, receipt


def notices_for_member(member) -> Select:
    """``(Notice, NoticeReceipt)`` rows of ``member``'s notices: unread first, then the newest (for ``tk.paginate``
    and ``tk.api_page``); no rows for None (an account without a member record)."""
    return (select(Notice, NoticeReceipt).join(NoticeReceipt, NoticeReceipt.notice_id == Notice.id)
            .where(NoticeReceipt.member_id == member.id if member is not None else false())
            .order_by(case((NoticeReceipt.read_at.is_(None), 0), else_=1), Notice.created_at.desc(), Notice.id.desc()))


def unread_count(member) -> int:
    """How many of ``member``'s notices are unread."""
    return tk.count(select(NoticeReceipt.id).where(NoticeReceipt.member_id == member.id,
                                                   NoticeReceipt.read_at.is_(None)))


def open_notice(notice: Notice, member, now: datetime | None = None) -> NoticeReceipt | None:
    """Record that ``member`` opened ``notice`` (its read receipt, once). Commits when it writes.

    A page GET writes here, so the request's read transaction is ended first and the one
    UPDATE runs as a writer (SQLite); repeating it writes nothing.
    """
    receipt = receipt_of(notice, member)
    if receipt is None or receipt.read_at is not None:
        return receipt
    now = now or tk.utcnow()
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
        with tk.write_intent():
            session.execute(update(NoticeReceipt).where(NoticeReceipt.id == receipt.id,
                                                        NoticeReceipt.read_at.is_(None)).values(read_at=now))
            session.commit()
    finally:
        session.expire_on_commit = expire_on_commit
    session.refresh(receipt)
    return receipt


def _addressee_receipt(notice: Notice, member) -> NoticeReceipt:
    receipt = receipt_of(notice, member)
    if receipt is None:
        raise tk.NotFound(_("No such notice."))
    return receipt


def _clean_reply(reply: Any) -> str | None:
    if reply is not None and not isinstance(reply, str):  # an API body's number or list is not a reply
        raise tk.Invalid(_("Please correct the marked fields."), {"reply": _("Enter the reply as text.")})
    text = (reply or "").strip()
    if len(text) > REPLY_MAX:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"reply": _("At most %(count)d characters.", count=REPLY_MAX)})
    return text or None


def acknowledge(notice: Notice, member, now: datetime | None = None, reply: Any = None) -> tuple[NoticeReceipt, bool]:
    """Sign for ``notice`` (签收): ``(receipt, newly signed)``; a repeat changes nothing and records nothing.

    The first sign-off records one ``notice.acknowledged`` activity; a reply given with it is kept.
    """
    receipt = _addressee_receipt(notice, member)
    if not notice.requires_ack:
        raise tk.Conflict(_("This notice does not need to be signed for."))
    text = _clean_reply(reply)
    now = now or tk.utcnow()
    # the condition makes a double tap (or two devices) sign once
    signed = db.session.execute(update(NoticeReceipt).where(
        NoticeReceipt.id == receipt.id, NoticeReceipt.acknowledged_at.is_(None)).values(
        acknowledged_at=now, read_at=func.coalesce(NoticeReceipt.read_at, now))).rowcount == 1
    if text:
        db.session.execute(update(NoticeReceipt).where(NoticeReceipt.id == receipt.id).values(reply=text))
    db.session.refresh(receipt)
    if signed:
        tk.record_activity(member, "notice.acknowledged", "notice", notice.id, at=now,
                           extras={"unit_id": notice.unit_id, "kind": notice.kind})
    return receipt, signed


def save_reply(notice: Notice, member, reply: Any) -> NoticeReceipt:
    """Keep ``member``'s reply to ``notice`` (an empty reply removes it)."""
    receipt = _addressee_receipt(notice, member)
    receipt.reply = _clean_reply(reply)
    return receipt


# -- following up --------------------------------------------------------------


def require_follower(notice: Notice, account) -> None:
    """:class:`tk.NotFound` unless ``account`` may follow ``notice``'s receipts."""
    if not can_follow(notice, account):
        raise tk.NotFound(_("No such notice."))


def _counts(notice_ids: list[int]) -> dict[int, dict]:
    """Receipt counts per notice in one grouped query."""
    if not notice_ids:
        return {}
    rows = db.session.execute(select(
        NoticeReceipt.notice_id, func.count(NoticeReceipt.id),
        func.count(NoticeReceipt.read_at), func.count(NoticeReceipt.acknowledged_at),
        func.count(NoticeReceipt.escalated_at), func.count(NoticeReceipt.called_at),
    ).where(NoticeReceipt.notice_id.in_(notice_ids)).group_by(NoticeReceipt.notice_id))
    counts = {notice_id: {"audience": 0, "read": 0, "acknowledged": 0, "escalated": 0, "called": 0}
              for notice_id in notice_ids}
    for notice_id, audience, read, acknowledged, escalated, called in rows:
        counts[notice_id] = {"audience": audience, "read": read, "acknowledged": acknowledged,
                             "escalated": escalated, "called": called}
    return counts


def receipts_summary(notice: Notice) -> dict:
    """``{"audience", "read", "acknowledged", "escalated", "called"}`` counts of ``notice``'s receipts."""
    return _counts([notice.id])[notice.id]


def summaries(notices: list[Notice]) -> dict[int, dict]:
    """:func:`receipts_summary` for many notices at once (a list page)."""
    return _counts([notice.id for notice in notices])


def receipts(notice: Notice) -> list[NoticeReceipt]:
    """Every receipt of ``notice`` with its member: not yet signed (or read) first, then by name."""
    pending = NoticeReceipt.acknowledged_at if notice.requires_ack else NoticeReceipt.read_at
    return list(db.session.scalars(select(NoticeReceipt).join(tk.Member, tk.Member.id == NoticeReceipt.member_id)
                                   .options(joinedload(NoticeReceipt.member).selectinload(tk.Member.contact))
                                   .where(NoticeReceipt.notice_id == notice.id)
                                   .order_by(case((pending.is_(None), 0), else_=1), tk.Member.name, tk.Member.id)))


def is_overdue(notice: Notice, now: datetime | None = None) -> bool:
    """Has the sign-off deadline passed?"""
    return bool(notice.requires_ack and notice.deadline and notice.deadline <= (now or tk.utcnow()))


def call_list(notice: Notice, now: datetime | None = None) -> list[NoticeReceipt]:
    """Members still to be phoned: unsigned after the deadline (empty before it)."""
    if not is_overdue(notice, now):
        return []
    return [receipt for receipt in receipts(notice) if receipt.acknowledged_at is None]


def mark_called(notice: Notice, member_id: int, note: Any, *, by, now: datetime | None = None) -> NoticeReceipt:
    """The secretary reached the member by phone: keep when, who and a note."""
    require_follower(notice, by)
    receipt = db.session.scalar(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id,
                                                            NoticeReceipt.member_id == member_id))
    if receipt is None:
        raise tk.NotFound(_("No such member."))
    if not is_overdue(notice, now) or receipt.acknowledged_at is not None:
        raise tk.Conflict(_("Only members who have not signed by the deadline are called."))
    text = str(note or "").strip()
    if len(text) > REPLY_MAX:
        raise tk.Invalid(_("Please correct the marked fields."),
                         {"note": _("At most %(count)d characters.", count=REPLY_MAX)})
    receipt.called_at = now or tk.utcnow()
    receipt.called_by_account_id = by.id
    receipt.call_note = text or None
    return receipt


def status_of(receipt: NoticeReceipt) -> str:
    """``acknowledged``, ``read`` or ``unread`` (the receipt's furthest step)."""
    if receipt.acknowledged_at is not None:
        return "acknowledged"
    return "read" if receipt.read_at is not None else "unread"


RECEIPT_LABELS = {"unread": _l("Not read"), "read": _l("Read"), "acknowledged": _l("Signed")}


def receipts_xlsx(notice: Notice):
    """The receipts of ``notice`` as a spreadsheet (who read, signed, was escalated and called)."""
    headers = [_("Name"), _("Home unit"), _("Phone"), _("Status"), _("Read"), _("Signed"), _("Reply"),
               _("Escalated"), pgettext("phone call", "Called"), _("Call note")]
    rows = [(r.member.name, r.member.home_unit.name if r.member.home_unit else "", r.member.phone or "",
             str(RECEIPT_LABELS[status_of(r)]), r.read_at, r.acknowledged_at, r.reply or "", r.escalated_at,
             r.called_at, r.call_note or "") for r in receipts(notice)]
    return tk.xlsx_response(_("Notice receipts %(id)s.xlsx", id=notice.id), headers, rows, title=_("Receipts"),
                            heading=[notice.title])


# -- escalation ----------------------------------------------------------------


def scan(now: datetime) -> list[tk.Alert]:
    """After the deadline, tell each unsigned member's contact person (1+1) and the sender, once per notice.

    Every unsigned receipt is marked escalated (it is then on the call list); the notice is
    marked so the daily scan tells nobody twice. Two queries for any number of notices.
    """
    due = list(db.session.scalars(select(Notice).where(Notice.requires_ack.is_(True), Notice.deadline.is_not(None),
                                                       Notice.deadline <= now, Notice.escalated_at.is_(None))
                                  .order_by(Notice.id)))
    if not due:
        return []
    by_id = {notice.id: notice for notice in due}
    contact = aliased(tk.Member)
    rows = db.session.execute(
        select(NoticeReceipt.id, NoticeReceipt.notice_id, tk.Member.id, tk.Member.name, contact.account_id)
        .join(tk.Member, tk.Member.id == NoticeReceipt.member_id)
        .outerjoin(contact, contact.id == tk.Member.contact_member_id)
        .where(NoticeReceipt.notice_id.in_(list(by_id)), NoticeReceipt.acknowledged_at.is_(None)))
    alerts: list[tk.Alert] = []
    unsigned: dict[int, int] = {}
    receipt_ids = []
    for receipt_id, notice_id, member_id, name, contact_account_id in rows:
        notice = by_id[notice_id]
        receipt_ids.append(receipt_id)
        unsigned[notice_id] = unsigned.get(notice_id, 0) + 1
        if contact_account_id:
            alerts.append(tk.Alert(
                "notice.unsigned", notice.unit_id, member_id,
                _l("%(name)s has not signed for the notice “%(title)s” from %(unit)s. Please reach them and ask "
                   "them to read it.", name=name, title=notice.title, unit=notice.unit.name),
                account_ids=(contact_account_id,), permission=PERMISSION))
    for notice_id, count in unsigned.items():
        notice = by_id[notice_id]
        alerts.append(tk.Alert(
            "notice.escalated", notice.unit_id, None,
            _l("Members who have not signed for “%(title)s” by the deadline: %(count)s. Their contact persons were "
               "told; the call list is ready.", title=notice.title, count=count),
            url=tk.path_for("meetings_notices.receipts", notice_id=notice.id),
            account_ids=(notice.sender_account_id,) if notice.sender_account_id else (), permission=PERMISSION))
    if receipt_ids:
        db.session.execute(update(NoticeReceipt).where(NoticeReceipt.id.in_(receipt_ids)).values(escalated_at=now))
    db.session.execute(update(Notice).where(Notice.id.in_(list(by_id))).values(escalated_at=now))
    return alerts
