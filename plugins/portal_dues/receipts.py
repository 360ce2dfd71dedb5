"""Receipts: the printable receipt of a confirmed payment and its public check.

``payments.confirm_payment`` draws the payment's ``receipt_code`` (``tk.add_with_unique_code``); this
module prints the receipt with the toolkit's certificate layout (the QR code leads to the public check
``/dues/receipts/<code>``) and answers that check: valid while the payment stands, revoked once it
was rejected. The check shows only the masked name, the months, the amount, the collecting branch,
the day and the code — never the payer, a note or a reason for rejection.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Response, url_for
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_dues import money
from portal_dues.models import Payment
from portal_dues.vocabulary import CHANNEL_LABELS

db = tk.db


def verify_url(payment: Payment) -> str:
    """The public check of the payment's receipt (printed as a QR code)."""
    return url_for("dues.verify", code=payment.receipt_code, _external=True)


def receipt_status(payment: Payment) -> str:
    """``valid`` while the payment stands, ``revoked`` once it was rejected (or is not confirmed)."""
    return tk.document_status(revoked=payment.status != "confirmed")


def _yuan(amount: Decimal) -> str:
    return _("%(amount)s yuan", amount=money.money_text(amount))


def _months(payment: Payment) -> str:
    return ", ".join(money.month_key(row.month) for row in payment.months) or "—"


def _unit_name(unit_id: int) -> str:
    unit = db.session.get(tk.OrgUnit, unit_id)
    return unit.name if unit else ""


def receipt_document(payment: Payment) -> tk.Document:
    """The printable facts of the receipt: who paid which months, how much, how, where and when."""
    collected_by = _unit_name(payment.collecting_unit_id)
    lines = [(_("Months"), _months(payment)), (_("Amount"), _yuan(payment.amount))]
    if payment.extra_amount:
        lines.append((_("Of which voluntary extra payment"), _yuan(payment.extra_amount)))
    lines.append((_("Paid by"), tk.label(CHANNEL_LABELS, payment.channel)))
    if payment.payer_name:
        lines.append((_("Paid on the member's behalf by"), payment.payer_name))
    lines.append((_("Collected by"), collected_by))
    if payment.home_unit_id != payment.collecting_unit_id:
        lines.append((_("Counted for the home branch"), _unit_name(payment.home_unit_id)))
    lines += [(_("Paid on"), tk.fmt_date(payment.paid_on, "long")), (_("Receipt number"), payment.receipt_code)]
    return tk.Document(title=_("Dues receipt"), code=payment.receipt_code, verify_url=verify_url(payment),
                       preamble=_("Received the dues of"), holder=payment.member.name, lines=lines,
                       issuer=collected_by, issued_at=payment.confirmed_at or payment.created_at,
                       status=receipt_status(payment))


def may_see_receipt(payment: Payment, account: tk.Account) -> bool:
    """The member who paid, the home branch's secretaries, and the host branch's for what it collected."""
    member = payment.member
    if member.account_id == account.id or tk.can("dues.manage", member.home_unit, account):
        return True
    collecting = db.session.get(tk.OrgUnit, payment.collecting_unit_id)
    return collecting is not None and tk.can("dues.collect_hosted", collecting, account)


def receipt_pdf(payment: Payment) -> Response:
    """The receipt as a one-page PDF download (the certificate layout with the QR code to the public check).

    The caller checks who may see it; a payment without a receipt code (not confirmed) is ``tk.NotFound``.
    """
    if not payment.receipt_code:
        raise tk.NotFound(_("This payment has no receipt: it is not confirmed."))
    pdf = tk.document_pdf(receipt_document(payment), "certificate")
    return tk.pdf_response(pdf, _("Dues receipt %(code)s.pdf", code=payment.receipt_code))


def payment_by_code(code: str) -> Payment | None:
    """The payment whose receipt has ``code`` as typed or scanned (any case), or None."""
    code = tk.normalize_code(code)
    return db.session.scalar(select(Payment).where(Payment.receipt_code == code)) if code else None


def verify_page(code: str) -> tuple[str, int]:
    """The public check of a receipt, without login: ``(html, status)``, 404 for an unknown code.

    Valid while the payment stands, revoked once it was rejected. Shows only the masked name, the months,
    the amount, the collecting branch, the day and the code.
    """
    title = _("Dues receipt check")
    payment = payment_by_code(code)
    if payment is None:
        return tk.verification_page(title, "unknown", message=_("No dues receipt with this number exists."))
    status = receipt_status(payment)
    facts = [(_("Member"), tk.mask_name(payment.member.name)), (_("Months"), _months(payment)),
             (_("Amount"), _yuan(payment.amount)), (_("Collected by"), _unit_name(payment.collecting_unit_id)),
             (_("Paid on"), tk.fmt_date(payment.paid_on, "long")), (_("Receipt number"), payment.receipt_code)]
    message = (_("This dues receipt is genuine: the payment was received.") if status == "valid"
               else _("This receipt is no longer valid: the payment was rejected."))
    return tk.verification_page(title, status, facts, message=message)
