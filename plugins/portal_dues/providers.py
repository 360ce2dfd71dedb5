"""Online payment through provider plugins (WeChat Pay, Alipay …) that implement ``portal_dues_payment_providers``.

The flow: the member picks months → :func:`start_payment` holds them with a ``pending`` payment
(channel ``online``, our own reference in ``provider_ref``) and asks the provider for its checkout URL →
the provider's server posts its outcome to ``/dues/providers/<name>/callback`` → :func:`handle_callback`
checks the signature (the provider's ``verify``), the reference and the amount, then confirms the
payment through ``payments.confirm_payment`` (activities, receipt) and keeps the provider's own
transaction id in ``provider_ref``. A repeated callback changes nothing; a failed payment frees its
months. Online payments cover exactly the months' dues: a voluntary extra payment goes through the branch.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from portal.toolkit import gettext as _
from sqlalchemy import or_, select

from portal import toolkit as tk
from portal_dues import money, payments
from portal_dues.models import Payment

db = tk.db
log = logging.getLogger(__name__)
#: A pending online payment not paid within this time frees its months when the member starts another one.
PENDING_MINUTES = 30


def available() -> list[Any]:
    """The providers of the enabled plugins, in their ``order`` (each has ``name``, ``label``, ``start``, ``verify``)."""
    return tk.call_list("portal_dues_payment_providers")


def get_provider(name: str) -> Any:
    """The provider called ``name``, or ``tk.NotFound``."""
    for provider in available():
        if getattr(provider, "name", None) == name:
            return provider
    raise tk.NotFound(_("Not found."))


def _release_stale(member: tk.Member, now: datetime) -> None:
    """Free the months of the member's online payments left unpaid (the member closed the provider's page)."""
    stale = db.session.scalars(select(Payment).where(
        Payment.member_id == member.id, Payment.status == "pending",
        Payment.created_at < now - timedelta(minutes=PENDING_MINUTES)))
    for payment in stale:
        payments.reject_payment(payment, _("The online payment was not completed in time."), by=None, now=now)


def _add_pending(member: tk.Member, dues: dict, provider: str, now: datetime) -> Payment:
    """The pending payment holding its months (a month taken meanwhile is a 409, nothing written).

    No receipt code yet: a receipt exists only once the provider says the money arrived.
    """
    return payments.add_payment(member, dues, dict(
        collecting_unit_id=member.home_unit_id, amount=sum(dues.values(), Decimal("0.00")), extra_amount=Decimal("0.00"),
        channel="online", status="pending", paid_on=tk.local_today(now), provider=provider,
        provider_ref=f"dues-{tk.new_code(groups=4)}", recorded_by_account_id=member.account_id, created_at=now))


def start_payment(member: tk.Member, provider: Any, data: Mapping, *, notify_url: str, return_url: str,
                  now: datetime | None = None) -> tuple[Payment, str]:
    """Hold the named months with a pending online payment and return it with the provider's checkout URL.

    ``data``: ``months`` (``["2026-11", …]``). The months are checked as for any payment
    (``payments.clean_months``: owed, within the back-payment limit, not yet taken).
    """
    now = now or tk.utcnow()
    _release_stale(member, now)
    dues = payments.clean_months(member, list(data.get("months") or []), now=now)
    payment = _add_pending(member, dues, provider.name, now)
    order = {"reference": payment.provider_ref, "amount": money.money_text(payment.amount),
             "description": _("Dues %(months)s", months=", ".join(money.month_key(m) for m in dues)),
             "notify_url": notify_url, "return_url": return_url}
    try:
        url = provider.start(order)
    except Exception:  # a provider plugin's failure must not leave months held
        log.exception("dues: provider %s could not start a payment", provider.name)
        raise tk.Conflict(_("The payment service is not available now; try again later.")) from None
    return payment, url


def _verified(provider: Any, payload: Mapping, headers: Mapping) -> Mapping:
    """The provider's facts, or ``tk.BadRequest`` when its signature check fails (or the provider breaks)."""
    try:
        facts = provider.verify(payload, headers)
    except Exception:
        log.exception("dues: provider %s could not verify a callback", provider.name)
        facts = None
    if not facts:
        raise tk.BadRequest(_("The callback's signature is not valid."), code="bad_signature")
    return facts


def _payment_for(provider: Any, facts: Mapping) -> Payment:
    """The payment the callback names: by our reference, or by the provider's id once a first callback set it."""
    refs = sorted({str(facts.get(key) or "") for key in ("reference", "provider_ref")} - {""})
    payment = db.session.scalar(select(Payment).where(Payment.provider == provider.name,
                                                      or_(*(Payment.provider_ref == ref for ref in refs)))
                                ) if refs else None
    if payment is None:
        raise tk.NotFound(_("Not found."))
    tk.lock(payment)  # two callbacks at once: the second waits, then sees the first one's outcome
    return payment


def handle_callback(provider: Any, payload: Mapping, headers: Mapping, *, now: datetime | None = None) -> str:
    """Apply a provider's callback; returns the payment's status (``confirmed``, ``rejected`` or ``pending``).

    A wrong signature or an amount other than the payment's → ``tk.BadRequest`` (400) and nothing
    changes; a callback for a payment already decided answers its status and does nothing more.
    """
    facts = _verified(provider, payload, headers)
    payment = _payment_for(provider, facts)
    try:
        amount = money.parse_amount(str(facts.get("amount", "")))
    except tk.Invalid:
        amount = None
    if amount != payment.amount:
        log.warning("dues: %s callback for payment %s says %s yuan, the payment is %s", provider.name, payment.id,
                    facts.get("amount"), money.money_text(payment.amount))
        raise tk.BadRequest(_("The amount does not match the payment."), code="amount_mismatch")
    if payment.status != "pending":
        if facts.get("paid") and payment.status == "rejected":
            log.warning("dues: %s paid payment %s after it was released: refund it or record it by hand",
                        provider.name, payment.id)
        return payment.status
    if not facts.get("paid"):
        payments.reject_payment(payment, _("The online payment did not go through."), by=None, now=now)
        return payment.status
    payments.confirm_payment(payment, by=None, now=now)
    provider_ref = str(facts.get("provider_ref") or "")
    if provider_ref:  # after confirming: its row lock re-reads the payment
        payment.provider_ref = provider_ref[:100]
        db.session.flush()
    return payment.status
