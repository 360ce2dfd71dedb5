"""Notices JSON API (blueprint ``meetings_notices_api``): send, list, read, sign, follow up."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import notices
from portal_meetings.models import NOTICE_AUDIENCES, NOTICE_KINDS, Notice, NoticeReceipt

bp = Blueprint("meetings_notices_api", __name__, url_prefix="/api/v1/notices")
db = tk.db


def _unit(value) -> tk.OrgUnit | None:
    valid = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= tk.MAX_ID
    return db.session.get(tk.OrgUnit, value) if valid else None


def notice_json(notice: Notice, receipt: NoticeReceipt | None) -> dict:
    """A notice as members and senders read it (``read``/``acknowledged``: the caller's own receipt)."""
    return {
        "id": notice.id, "title": notice.title, "kind": notice.kind, "audience": notice.audience,
        "unit": {"id": notice.unit.id, "name": notice.unit.name}, "sent_at": tk.isoformat(notice.created_at),
        "requires_ack": notice.requires_ack, "deadline": tk.isoformat(notice.deadline),
        "read": bool(receipt and receipt.read_at), "acknowledged": bool(receipt and receipt.acknowledged_at),
    }


@bp.post("")
@tk.api_login_required
def create():
    """Send a notice: 201 with the notice and ``audience_count``; 404 for a unit outside the caller's scope."""
    data = tk.api_json()
    notice = notices.send_notice(_unit(data.get("unit_id")), data, by=tk.current_account(), now=tk.utcnow())
    count = notices.receipts_summary(notice)["audience"]
    db.session.commit()
    return jsonify({**notice_json(notice, None), "body": notice.body, "audience_count": count}), 201


@bp.get("")
@tk.api_login_required
def list_notices():
    """The caller's notices: unread first, then the newest (paged by ``tk.api_page``; none without a member)."""
    member = tk.current_account().member
    return jsonify(tk.api_page(notices.notices_for_member(member), lambda row: notice_json(*row), key="notices",
                               scalars=False))


@bp.get("/<int:notice_id>")
@tk.api_login_required
def get(notice_id: int):
    """One notice (its body as Markdown); an addressee's first read records the read receipt."""
    account = tk.current_account()
    notice, receipt = notices.visible_notice(notice_id, account)
    if receipt is not None:
        receipt = notices.open_notice(notice, account.member, now=tk.utcnow())
    return jsonify({**notice_json(notice, receipt), "body": notice.body,
                    "reply": receipt.reply if receipt else None})


@bp.post("/<int:notice_id>/ack")
@tk.api_login_required
def ack(notice_id: int):
    """Sign for the notice (optionally ``{"reply"}``): 200, and 200 again on a repeat (one activity)."""
    account = tk.current_account()
    data = tk.api_json() if request.get_data() else {}
    notice, _receipt = notices.visible_notice(notice_id, account)
    receipt, _signed = notices.acknowledge(notice, account.member, now=tk.utcnow(), reply=data.get("reply"))
    db.session.commit()
    return jsonify({**notice_json(notice, receipt), "acknowledged_at": tk.isoformat(receipt.acknowledged_at),
                    "reply": receipt.reply})


@bp.post("/<int:notice_id>/reply")
@tk.api_login_required
def reply(notice_id: int):
    """``{"reply"}``: keep the caller's reply to a notice addressed to them (empty removes it) → 200."""
    account = tk.current_account()
    data = tk.api_json()
    notice, receipt = notices.visible_notice(notice_id, account)
    if receipt is None:  # a follower who is not an addressee has nothing to reply to
        raise tk.NotFound(_("No such notice."))
    if "reply" not in data:
        raise tk.Invalid(_("Please correct the marked fields."), {"reply": _("This field is required.")})
    receipt = notices.save_reply(notice, account.member, data.get("reply"))
    db.session.commit()
    return jsonify({**notice_json(notice, receipt), "reply": receipt.reply})


@bp.get("/<int:notice_id>/receipts")
@tk.api_login_required
def receipts(notice_id: int):
    """Counts of who read and signed, and each addressee (senders and holders of ``meetings.notices``)."""
    notice = notices.get_notice(notice_id)
    notices.require_follower(notice, tk.current_account())
    summary = notices.receipts_summary(notice)
    return jsonify({"audience": summary["audience"], "read": summary["read"],
                    "acknowledged": summary["acknowledged"], "escalated": summary["escalated"],
                    "members": [{"member_id": r.member_id, "read": r.read_at is not None,
                                 "acknowledged": r.acknowledged_at is not None,
                                 "escalated": r.escalated_at is not None, "called": r.called_at is not None}
                                for r in db.session.scalars(select(NoticeReceipt).where(
                                    NoticeReceipt.notice_id == notice.id).order_by(NoticeReceipt.member_id))]})


_ID = [{"name": "notice_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_NULLABLE_TIME = {"oneOf": [{"type": "string"}, {"type": "null"}]}
_NOTICE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "kind": {"type": "string", "enum": list(NOTICE_KINDS)},
    "audience": {"type": "string", "enum": list(NOTICE_AUDIENCES)},
    "unit": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "sent_at": {"type": "string"}, "requires_ack": {"type": "boolean"}, "deadline": _NULLABLE_TIME,
    "read": {"type": "boolean"}, "acknowledged": {"type": "boolean"}}}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


API_PATHS = {
    "/api/v1/notices": {
        "post": {
            "summary": "Send a notice to a unit, its subtree, its members away or chosen members", "tags": ["notices"],
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["unit_id", "title"], "additionalProperties": False, "properties": {
                    "unit_id": {"type": "integer"}, "audience": {"type": "string", "enum": list(NOTICE_AUDIENCES)},
                    "member_ids": {"type": "array", "items": {"type": "integer"},
                                   "description": "the chosen members (audience list)"},
                    "kind": {"type": "string", "enum": list(NOTICE_KINDS)},
                    "title": {"type": "string"}, "body": {"type": "string", "description": "Markdown"},
                    "requires_ack": {"type": "boolean"},
                    "deadline": {"oneOf": [{"type": "string"}, {"type": "null"}],
                                 "description": "local date (sign by the end of that day) or local date-time; "
                                                "needed when requires_ack"}}})},
            "responses": {"201": {"description": "Sent", "content": _json({**_NOTICE, "properties": {
                **_NOTICE["properties"], "audience_count": {"type": "integer"}}})},
                "404": {"description": "The unit is missing or outside the caller's scope"}}},
        "get": {"summary": "The caller's notices, unread first (paged)", "tags": ["notices"],
                "parameters": tk.OPENAPI_PAGE_PARAMETERS,
                "responses": {"200": {"description": "Notices", "content": _json(tk.openapi_page("notices", _NOTICE))},
                              "400": tk.openapi_error_ref()}},
    },
    "/api/v1/notices/{notice_id}": {"get": {
        "summary": "One notice (an addressee's read marks it read)", "tags": ["notices"], "parameters": _ID,
        "responses": {"200": {"description": "The notice", "content": _json(_NOTICE)}}}},
    "/api/v1/notices/{notice_id}/ack": {"post": {
        "summary": "Sign for a notice (签收); a repeat answers 200 and records nothing", "tags": ["notices"],
        "parameters": _ID,
        "requestBody": {"required": False, "content": _json({
            "type": "object", "additionalProperties": False, "properties": {"reply": {"type": "string"}}})},
        "responses": {"200": {"description": "Signed", "content": _json(_NOTICE)}, "409": {
            "description": "The notice needs no sign-off"}}}},
    "/api/v1/notices/{notice_id}/reply": {"post": {
        "summary": "Keep one's reply to a notice addressed to one (the sender reads it); an empty reply removes it",
        "tags": ["notices"], "parameters": _ID,
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["reply"], "properties": {
            "reply": {"type": "string", "maxLength": notices.REPLY_MAX}}}),
        "responses": tk.openapi_responses("404", "422", description="Reply kept", schema={
            **_NOTICE, "properties": {**_NOTICE["properties"], "reply": {"oneOf": [{"type": "string"},
                                                                                   {"type": "null"}]}}})}},
    "/api/v1/notices/{notice_id}/receipts": {"get": {
        "summary": "Who read and signed (the sender and secretaries of the unit)", "tags": ["notices"],
        "parameters": _ID,
        "responses": {"200": {"description": "Counts and members", "content": _json({
            "type": "object", "properties": {
                "audience": {"type": "integer"}, "read": {"type": "integer"}, "acknowledged": {"type": "integer"},
                "escalated": {"type": "integer"},
                "members": {"type": "array", "items": {"type": "object", "properties": {
                    "member_id": {"type": "integer"}, "read": {"type": "boolean"},
                    "acknowledged": {"type": "boolean"}, "escalated": {"type": "boolean"},
                    "called": {"type": "boolean"}}}}}})}}}},
}
