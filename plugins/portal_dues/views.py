"""The member's dues pages, the public receipt check and the payment providers' callback.

Thin views: parse the form, call ``payments``/``profiles``/``providers``, render. A member reads their
profile, the last twelve months, the countdown and their payments (``/dues/``); tells the branch they
paid, with a photo of the transfer (``/dues/report``); asks for a reduction (``/dues/reduction``);
pays online through a provider plugin (``/dues/pay/<provider>``). The provider's server posts to
``/dues/providers/<provider>/callback`` (no login, no CSRF token: its signature is the proof). Anyone
checks a receipt's code at ``/dues/receipts/<code>``.
"""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_dues import money, payments, profiles, providers, receipts, statement, vocabulary

bp = Blueprint("dues", __name__, url_prefix="/dues", template_folder="templates", static_folder="static",
               static_url_path="/static")
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
log = logging.getLogger(__name__)
db = tk.db


def _now() -> datetime:
    return tk.utcnow()


def _percent(rate: Decimal | None) -> str | None:
    """A rate as members read it: ``0.005`` → ``"0.5%"``."""
    return None if rate is None else format((Decimal(rate) * 100).normalize(), "f") + "%"


def _proof_limits() -> dict:
    """What the receipt photo may be, for the form's hint and ``accept``."""
    types = tk.accepted_file_types(tk.get_setting("dues", "proof_types"))
    return {"types": ", ".join(types), "kb": int(tk.get_setting("dues", "proof_max_kb")),
            "accept": ",".join("." + ext for ext in types)}


# -- my dues ------------------------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    """My profile, the last twelve months paid or not, my arrears and what comes next, my payments and receipts."""
    member = tk.current_member()
    if member is None:
        return render_template("dues/member/mine.html", member=None, manages=tk.can("dues.manage"))
    now = _now()
    book = statement.member_book(member)  # one statement: every figure below is worked out from it
    months_unpaid, since = book.arrears(now)
    return render_template(
        "dues/member/mine.html", member=member, profile=book.profile_at(money.current_month(now)),
        grid=book.recent(now), months_unpaid=months_unpaid, since=since,
        steps=statement.countdown(months_unpaid), payments=statement.my_payments(member),
        months_of=book.months_of, payable=book.payable(now), providers=providers.available(),
        manages=tk.can("dues.manage"), month_key=money.month_key, money_text=money.money_text, percent=_percent)


def _render_report(member: tk.Member, *, values: dict | None = None, errors: dict | None = None, status: int = 200):
    """The report form; first shown with the months owed up to this month ticked and their sum as the amount."""
    now = _now()
    payable = statement.payable_months(member, now)
    if values is None:
        chosen = {state.key for state in payable if state.month <= money.current_month(now)}
        total = sum((state.due for state in payable if state.key in chosen), Decimal("0"))
        values = {"months": sorted(chosen), "amount": money.money_text(total),
                  "paid_on": tk.local_today(now).isoformat()}
    return render_template("dues/member/report.html", member=member, payable=payable, chosen=set(values["months"]),
                           values=values, errors=errors or {}, limits=_proof_limits(),
                           first_payable=statement.first_payable_month(now), month_key=money.month_key,
                           money_text=money.money_text), status


@bp.route("/report", methods=["GET", "POST"])
@tk.login_required_member
def report():
    """Tell the branch I paid (by transfer, with a photo of the receipt); the secretary confirms it.

    A refused form (a wrong amount, a month already paid, a file that is not a photo) comes back with
    what was typed and the reason; nothing is written.
    """
    member = tk.current_member()
    if request.method == "GET":
        return _render_report(member)
    form = request.form
    values = {"months": form.getlist("months"), "amount": form.get("amount", ""), "paid_on": form.get("paid_on", ""),
              "note": form.get("note", "")}

    # the photo is checked (tk.check_upload: type by its first bytes, size) before anything is stored
    return tk.form_post(lambda: payments.report_payment(member, values, request.files.get("proof"), now=_now()),
                        success=_("Sent: the branch's secretary will confirm your payment."),
                        redirect_to=url_for("dues.mine"),
                        on_error=lambda error: _render_report(member, values=values, errors=error.field_errors,
                                                              status=error.status))


# -- reductions ---------------------------------------------------------------------------------------------------


def _render_reduction(member: tk.Member, *, values: dict | None = None, errors: dict | None = None,
                      status: int = 200):
    requests = list(db.session.scalars(profiles.reductions_of(member)))
    return render_template("dues/member/reduction.html", member=member, requests=requests,
                           values=values or {"from_month": money.month_key(money.current_month(_now()))},
                           errors=errors or {}, month_key=money.month_key, money_text=money.money_text,
                           open_request=any(r.state in ("requested", "branch_agreed") for r in requests)), status


@bp.route("/reduction", methods=["GET", "POST"])
@tk.login_required_member
def reduction():
    """Ask for a lower amount or an exemption (months, reason): the branch, then the upper committee decide."""
    member = tk.current_member()
    if request.method == "GET":
        return _render_reduction(member)
    form = request.form
    values = {"monthly_due": form.get("monthly_due", ""), "from_month": form.get("from_month", ""),
              "to_month": form.get("to_month", ""), "reason": form.get("reason", ""),
              "exempt": form.get("exempt") in ("1", "on", "y")}
    return tk.form_post(lambda: profiles.request_reduction(member, values, now=_now()),
                        success=_("Your request was sent to the branch."), redirect_to=url_for("dues.reduction"),
                        on_error=lambda error: _render_reduction(member, values=values, errors=error.field_errors,
                                                                 status=error.status))


# -- online payment -----------------------------------------------------------------------------------------------


@bp.post("/pay/<provider>")
@tk.login_required_member
def pay(provider: str):
    """Pay the chosen months online: a pending payment holds them, then the member goes to the provider."""
    chosen = providers.get_provider(provider)
    member = tk.current_member()
    data = {"months": request.form.getlist("months"), "amount": request.form.get("amount", "")}

    def act() -> str:
        return providers.start_payment(
            member, chosen, data, now=_now(),
            notify_url=url_for("dues.callback", provider=chosen.name, _external=True),
            return_url=url_for("dues.mine", _external=True))[1]

    return tk.form_post(act, success=None, redirect_to=lambda url: url, on_error=url_for("dues.mine"))


@bp.post("/providers/<provider>/callback")
@tk.csrf_exempt
def callback(provider: str):
    """The provider's server tells the outcome: a wrong signature or amount → 400 and nothing changes;
    paid → the payment is confirmed (once: a repeated callback answers 200 and does nothing more)."""
    chosen = providers.get_provider(provider)
    payload = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        outcome = providers.handle_callback(chosen, payload or {}, dict(request.headers), now=_now())
    except tk.ServiceError as error:
        db.session.rollback()
        log.warning("dues: %s callback refused: %s", chosen.name, error.message)
        return jsonify({"error": {"code": error.code, "message": str(error.message)}}), error.status
    db.session.commit()
    return jsonify({"status": outcome})


# -- receipts -----------------------------------------------------------------------------------------------------


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@login_required
def receipt(payment_id: int):
    """The receipt of a confirmed payment: for the member who paid and the secretaries who keep the books."""
    payment = payments.get_payment(payment_id)
    if payment.status != "confirmed" or not receipts.may_see_receipt(payment, current_user):
        abort(404)
    return receipts.receipt_pdf(payment)


@bp.get("/receipts/<code>")
def verify(code: str):
    """The public check of a receipt's code (no login): valid or not, the amount, months, the masked name."""
    return receipts.verify_page(code)
