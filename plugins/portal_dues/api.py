"""Dues JSON API under ``/api/v1/dues`` (blueprint ``dues_api``).

Setting a member's dues profile, recording payments (and confirming or rejecting what members
reported), asking for and deciding reductions, a unit's arrears, and the member's own statement.
Money is a string with two decimals (``"40.00"``), a rate a string (``"0.01"``), a month ``"2026-11"``.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_dues import arrears, money, payments, profiles, providers, receipts, statement
from portal_dues.models import CATEGORIES, CHANNELS, DuesProfile

bp = Blueprint("dues_api", __name__, url_prefix="/api/v1/dues")
db = tk.db


def _member(member_id: int, *permissions: str) -> tk.Member:
    """The member, or 404 unless the caller is them or holds one of ``permissions`` on them."""
    member = db.session.get(tk.Member, member_id)
    account = tk.current_account()
    if member is None or not any(tk.can_see_member(member, name, account) for name in permissions):
        raise tk.NotFound(_("Not found."))
    return member


def _fields(data: dict, *names: str) -> dict:
    return {key: value for key, value in data.items() if key not in names}


def _profile_of(member: tk.Member) -> DuesProfile | None:
    """The profile in force this month, else the first one starting later (set ahead by the branch)."""
    return profiles.current_profile(member) or db.session.scalar(
        select(DuesProfile).where(DuesProfile.member_id == member.id).order_by(DuesProfile.valid_from).limit(1))


@bp.put("/profiles/<int:member_id>")
@tk.api_login_required
def put_profile(member_id: int):
    """Set the member's dues from ``valid_from`` (default this month): the home branch, never one's own record."""
    member = _member(member_id, "dues.manage")
    profile = profiles.set_profile(member, tk.api_json(), by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(profiles.profile_json(profile))


@bp.get("/profiles/<int:member_id>")
@tk.api_login_required
def get_profile(member_id: int):
    """The member's profile in force (the member themself or the home branch); 404 when none is set."""
    profile = _profile_of(_member(member_id, "dues.manage"))
    if profile is None:
        raise tk.NotFound(_("No dues profile is set for this member."))
    return jsonify(profiles.profile_json(profile))


@bp.post("/payments")
@tk.api_login_required
def post_payment():
    """Record money received for named months → 201 (cash, transfer, on behalf: home; host_branch: host)."""
    data = tk.api_json()
    member = _member(tk.api_id(data.get("member_id"), "member_id"), "dues.manage", "dues.collect_hosted")
    payment = payments.record_payment(member, _fields(data, "member_id"), by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(payments.payment_json(payment)), 201


@bp.post("/payments/<int:payment_id>/confirm")
@tk.api_login_required
def confirm_payment(payment_id: int):
    """Confirm a payment a member reported: its months count (one activity each) and it gets a receipt."""
    payment = payments.get_payment(payment_id)
    payments.confirm_payment(payment, by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(payments.payment_json(payment))


@bp.post("/payments/<int:payment_id>/reject")
@tk.api_login_required
def reject_payment(payment_id: int):
    """Reject a reported payment with a reason: its months are free again."""
    data = tk.api_json()
    payment = payments.get_payment(payment_id)
    payments.reject_payment(payment, data.get("reason"), by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(payments.payment_json(payment))


@bp.post("/reductions")
@tk.api_login_required
def post_reduction():
    """The calling member asks for a reduction or an exemption → 201; the branch decides first."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    reduction = profiles.request_reduction(member, tk.api_json(), now=tk.utcnow())
    db.session.commit()
    return jsonify(profiles.reduction_json(reduction)), 201


@bp.post("/reductions/<int:reduction_id>/decision")
@tk.api_login_required
def decide_reduction(reduction_id: int):
    """The branch agrees or refuses (``level: branch``), then the upper committee approves or refuses (``upper``)."""
    data = tk.api_json()
    reduction = profiles.get_reduction(reduction_id)
    _member(reduction.member_id, "dues.manage", "dues.approve_reduction")
    level, approve = data.get("level"), data.get("approve")
    errors = {}
    if level not in ("branch", "upper"):
        errors["level"] = _("Choose branch or upper.")
    if not isinstance(approve, bool):
        errors["approve"] = _("Enter true or false.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    decide = profiles.decide_reduction_branch if level == "branch" else profiles.decide_reduction_upper
    decide(reduction, approve, data.get("note"), by=tk.current_account(), now=tk.utcnow())
    db.session.commit()
    return jsonify(profiles.reduction_json(reduction))


@bp.get("/arrears")
@tk.api_login_required
def list_arrears():
    """Members of the unit's subtree (by home branch) with unpaid months in a row, longest first."""
    raw = request.args.get("unit", "")
    if not raw.isdigit() or int(raw) == 0:
        raise tk.Invalid(_("Please correct the marked fields."), {"unit": _("Enter a number.")})
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    if unit is None or not tk.can("dues.manage", unit, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    rows = arrears.arrears_in_unit(unit)
    return jsonify({"members": [{"member_id": row["member_id"], "name": row["member"].name,
                                 "months_unpaid": row["months_unpaid"], "since": money.month_key(row["since"]),
                                 "step": row["step"]} for row in rows]})


@bp.get("/me")
@tk.api_login_required
def me():
    """The caller's own dues: profile, months paid and due in the last twelve months (and paid ahead), arrears."""
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    profile = _profile_of(member)
    current = money.current_month()
    book = statement.member_book(member)
    recent = book.recent()
    ahead = book.states(money.month_range(money.add_months(current, 1), payments.latest_payable_month()))
    paid = {state.month for state in recent + ahead if state.status == "paid"}
    months_unpaid, since = book.arrears()
    return jsonify({
        "profile": profiles.profile_json(profile) if profile is not None else None,
        "months_paid": sorted(money.month_key(month) for month in paid),
        "months_reported": sorted(state.key for state in recent if state.status == "reported"),
        "months_due": sorted(state.key for state in recent if state.status == "unpaid"),
        "arrears": {"months_unpaid": months_unpaid, "since": money.month_key(since) if since else None},
        "payable_months": [{"month": state.key, "due": money.money_text(state.due)}
                           for state in book.payable()],
        "providers": [{"name": provider.name, "label": str(provider.label)} for provider in providers.available()]})


def _caller_member() -> tk.Member:
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    return member


@bp.get("/me/payments")
@tk.api_login_required
def my_payments():
    """The caller's payments, newest first (paged), with their receipts once confirmed (the web's ``/dues/``)."""
    return jsonify(tk.api_page(statement.payments_of(_caller_member()), _my_payment_json, key="payments"))


def _my_payment_json(payment) -> dict:
    receipt = tk.path_for("dues_api.receipt", payment_id=payment.id) if payment.status == "confirmed" else None
    return {**payments.payment_json(payment), "receipt_pdf_url": receipt}


@bp.get("/me/reductions")
@tk.api_login_required
def my_reductions():
    """The caller's reduction requests and their decisions, newest first (paged)."""
    return jsonify(tk.api_page(profiles.reductions_of(_caller_member()), profiles.reduction_json, key="reductions"))


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@tk.api_login_required
def receipt(payment_id: int):
    """A confirmed payment's receipt as PDF: the member who paid and the secretaries keeping the books (else 404)."""
    payment = payments.get_payment(payment_id)
    if payment.status != "confirmed" or not receipts.may_see_receipt(payment, tk.current_account()):
        raise tk.NotFound(_("Not found."))
    return receipts.receipt_pdf(payment)


@bp.post("/reports")
@tk.api_login_required
def post_report():
    """The caller tells the branch they paid by transfer (multipart: ``months``, ``amount``, ``paid_on``, ``note`` and
    the receipt photo ``proof``) → 201 ``reported``; the secretary confirms it (the web's ``/dues/report``)."""
    member = _caller_member()
    form = request.form
    data = {"months": form.getlist("months"), "amount": form.get("amount", ""), "paid_on": form.get("paid_on", ""),
            "note": form.get("note", "")}
    payment = payments.report_payment(member, data, request.files.get("proof"), now=tk.utcnow())
    db.session.commit()
    return jsonify(payments.payment_json(payment)), 201


@bp.post("/pay/<provider>")
@tk.api_login_required
def pay(provider: str):
    """``{"months"}``: hold the months with a pending online payment → 201 with the provider's ``checkout_url``
    (open it; the provider's callback confirms the payment, as on the web's ``/dues/pay/<provider>``)."""
    member = _caller_member()
    chosen = providers.get_provider(provider)
    data = tk.api_json()
    months = data.get("months")
    if not isinstance(months, list) or not all(isinstance(month, str) for month in months):
        raise tk.Invalid(_("Please correct the marked fields."), {"months": _("Choose at least one month.")})
    payment, url = providers.start_payment(
        member, chosen, {"months": months}, now=tk.utcnow(),
        notify_url=url_for("dues.callback", provider=chosen.name, _external=True),
        return_url=url_for("dues.mine", _external=True))
    db.session.commit()
    return jsonify({"payment": payments.payment_json(payment), "checkout_url": url}), 201


_MONEY = {"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$", "description": "yuan, e.g. 40.00"}
_MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "description": "e.g. 2026-11"}
_MEMBER_ID = [{"name": "member_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_TEXT = {"type": "string", "maxLength": profiles.NOTE_MAX}
_NULLABLE_STRING = {"type": ["string", "null"]}
_PROFILE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "member_id": {"type": "integer"}, "category": {"type": "string"},
    "monthly_base": _NULLABLE_STRING, "insurance_deduction": {"type": "string"}, "rate": _NULLABLE_STRING,
    "monthly_due": {"type": "string"}, "valid_from": {"type": "string"}, "note": _NULLABLE_STRING}}
_PAYMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "member_id": {"type": "integer"}, "months": {"type": "array", "items": {"type": "string"}},
    "amount": {"type": "string"}, "extra_amount": {"type": "string"}, "flagged_large": {"type": "boolean"},
    "channel": {"type": "string"}, "status": {"type": "string"}, "receipt_code": _NULLABLE_STRING,
    "receipt_url": _NULLABLE_STRING, "collecting_unit_id": {"type": "integer"}, "home_unit_id": {"type": "integer"}}}
_REDUCTION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "member_id": {"type": "integer"}, "monthly_due": {"type": "string"},
    "from_month": {"type": "string"}, "to_month": _NULLABLE_STRING, "state": {"type": "string"}}}

API_PATHS = {
    "/api/v1/dues/profiles/{member_id}": {
        "put": {"summary": "Set a member's dues profile (category, base, deduction) from a month", "tags": ["dues"],
                "parameters": _MEMBER_ID,
                "requestBody": tk.openapi_json_body({"type": "object", "required": ["category"], "properties": {
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "monthly_base": {**_MONEY, "description": "after-tax monthly income or pension (rated categories)"},
                    "insurance_deduction": {**_MONEY, "description": "五险一金, deducted when the setting says so"},
                    "fixed_amount": {**_MONEY, "description": "farmers: between farmer_min and farmer_max"},
                    "valid_from": {**_MONTH, "description": "default: this month"}, "note": _TEXT}}),
                "responses": tk.openapi_responses("403", "404", "422", description="The profile", schema=_PROFILE)},
        "get": {"summary": "A member's dues profile in force (the member themself or the home branch)",
                "tags": ["dues"], "parameters": _MEMBER_ID,
                "responses": tk.openapi_responses("401", "404", description="The profile", schema=_PROFILE)},
    },
    "/api/v1/dues/payments": {"post": {
        "summary": "Record dues received for named months (home branch; host_branch: the host branch)",
        "tags": ["dues"], "requestBody": tk.openapi_json_body({"type": "object", "required": ["member_id", "months", "amount",
                                                                                   "channel"], "properties": {
            "member_id": {"type": "integer"}, "months": {"type": "array", "items": _MONTH},
            "amount": {**_MONEY, "description": "at least the months' dues; the rest is a voluntary extra payment"},
            "channel": {"type": "string", "enum": [c for c in CHANNELS if c != "online"]},
            "paid_on": {"type": "string", "format": "date"},
            "payer_name": {"type": "string", "maxLength": payments.NAME_MAX, "description": "required on_behalf"},
            "note": {"type": "string", "maxLength": payments.TEXT_MAX}}}),
        "responses": tk.openapi_responses("403", "404", "409", "422", ok="201", description="Recorded", schema=_PAYMENT)}},
    "/api/v1/dues/payments/{id}/confirm": {"post": {
        "summary": "Confirm a payment a member reported", "tags": ["dues"], "parameters": _ID,
        "responses": tk.openapi_responses("403", "404", "409", description="Confirmed", schema=_PAYMENT)}},
    "/api/v1/dues/payments/{id}/reject": {"post": {
        "summary": "Reject a reported payment with a reason (its months are freed)", "tags": ["dues"],
        "parameters": _ID, "requestBody": tk.openapi_json_body({"type": "object", "required": ["reason"], "properties": {
            "reason": {"type": "string", "maxLength": payments.TEXT_MAX}}}),
        "responses": tk.openapi_responses("403", "404", "409", "422", description="Rejected", schema=_PAYMENT)}},
    "/api/v1/dues/reductions": {"post": {
        "summary": "Ask for a dues reduction or exemption for months", "tags": ["dues"],
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["reason"], "properties": {
            "monthly_due": {**_MONEY, "description": "the amount asked for (0.00: exemption)"},
            "exempt": {"type": "boolean"}, "from_month": {**_MONTH, "description": "default: this month"},
            "to_month": _MONTH, "reason": _TEXT}}),
        "responses": tk.openapi_responses("403", "409", "422", ok="201", description="Requested", schema=_REDUCTION)}},
    "/api/v1/dues/reductions/{id}/decision": {"post": {
        "summary": "Decide a reduction: the branch first, then the upper committee", "tags": ["dues"],
        "parameters": _ID, "requestBody": tk.openapi_json_body({"type": "object", "required": ["level", "approve"], "properties": {
            "level": {"type": "string", "enum": ["branch", "upper"]}, "approve": {"type": "boolean"}, "note": _TEXT}}),
        "responses": tk.openapi_responses("403", "404", "409", "422", description="Decided", schema=_REDUCTION)}},
    "/api/v1/dues/arrears": {"get": {
        "summary": "Members of a unit's subtree with consecutive unpaid months", "tags": ["dues"],
        "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}}],
        "responses": tk.openapi_responses("401", "404", "422", description="members: member_id, months_unpaid, since",
                                schema={"type": "object", "properties": {"members": {"type": "array", "items": {
                                    "type": "object", "properties": {
                                        "member_id": {"type": "integer"}, "months_unpaid": {"type": "integer"},
                                        "since": {"type": "string"}}}}}})}},
    "/api/v1/dues/me": {"get": {
        "summary": "The caller's dues: profile, months paid and due, arrears, months payable now and the online "
                   "payment providers", "tags": ["dues"],
        "responses": tk.openapi_responses("401", "403", description="The statement", schema={
            "type": "object", "properties": {
                "profile": {"oneOf": [_PROFILE, {"type": "null"}]},
                **{name: {"type": "array", "items": {"type": "string"}}
                   for name in ("months_paid", "months_reported", "months_due")},
                "arrears": {"type": "object", "properties": {"months_unpaid": {"type": "integer"},
                                                             "since": _NULLABLE_STRING}},
                "payable_months": {"type": "array", "items": {"type": "object", "properties": {
                    "month": {"type": "string"}, "due": {"type": "string"}}}},
                "providers": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "label": {"type": "string"}}}}}})}},
    "/api/v1/dues/me/payments": {"get": {
        "summary": "The caller's payments, newest first (paged), with the receipt PDF once confirmed",
        "tags": ["dues"], "parameters": tk.OPENAPI_PAGE_PARAMETERS,
        "responses": tk.openapi_responses("400", "401", "403", description="Payments", schema=tk.openapi_page(
            "payments", {**_PAYMENT, "properties": {**_PAYMENT["properties"], "receipt_pdf_url": _NULLABLE_STRING}}))}},
    "/api/v1/dues/me/reductions": {"get": {
        "summary": "The caller's reduction requests and their decisions, newest first (paged)", "tags": ["dues"],
        "parameters": tk.OPENAPI_PAGE_PARAMETERS,
        "responses": tk.openapi_responses("400", "401", "403", description="Reduction requests",
                                          schema=tk.openapi_page("reductions", _REDUCTION))}},
    "/api/v1/dues/payments/{id}/receipt.pdf": {"get": {
        "summary": "A confirmed payment's receipt (the member who paid, the secretaries keeping the books)",
        "tags": ["dues"], "parameters": _ID,
        "responses": tk.openapi_responses("401", "404", description="PDF", content="application/pdf",
                                          schema={"type": "string", "format": "binary"})}},
    "/api/v1/dues/reports": {"post": {
        "summary": "Tell the branch one paid by transfer, with a photo of the receipt; the secretary confirms it",
        "tags": ["dues"],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["months", "amount", "proof"], "properties": {
                "months": {"type": "array", "items": _MONTH, "description": "repeat the field for each month"},
                "amount": {**_MONEY, "description": "at least the months' dues; the rest is a voluntary extra"},
                "paid_on": {"type": "string", "format": "date", "description": "default: today"},
                "note": {"type": "string", "maxLength": payments.TEXT_MAX},
                "proof": {"type": "string", "format": "binary", "description": "the photo (types and size from "
                                                                                "the dues settings)"}}}}}},
        "responses": tk.openapi_responses("400", "401", "403", "409", "422", ok="201", description="Reported",
                                          schema=_PAYMENT)}},
    "/api/v1/dues/pay/{provider}": {"post": {
        "summary": "Pay months online: a pending payment holds them and the answer names the provider's checkout URL",
        "tags": ["dues"],
        "parameters": [{"name": "provider", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "a name from /api/v1/dues/me's providers"}],
        "requestBody": tk.openapi_json_body({"type": "object", "required": ["months"], "properties": {
            "months": {"type": "array", "items": _MONTH}}}),
        "responses": tk.openapi_responses("403", "404", "409", "422", ok="201", description="Started", schema={
            "type": "object", "properties": {"payment": _PAYMENT, "checkout_url": {"type": "string"}}})}},
}
