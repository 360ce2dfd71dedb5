"""A test payment provider for the dues plugin: proves the online flow without a real gateway.

Registered in a test on the app's plugin manager; it implements the dues plugin's published hook
with ``optionalhook=True`` and never imports the plugin. ``start`` answers a fake checkout URL;
the callback is signed with HMAC-SHA256 over the sorted ``key=value`` pairs, as real gateways do.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk

NAME = "testpay"
SECRET = b"test-provider-secret"
CHECKOUT = "https://pay.example.test/checkout"
SIGNED = ("reference", "amount", "status", "trade_no")


def sign(payload: Mapping[str, str]) -> str:
    """The signature a callback carries: HMAC-SHA256 of ``k=v&…`` over the signed fields in order."""
    message = "&".join(f"{key}={payload.get(key, '')}" for key in SIGNED)
    return hmac.new(SECRET, message.encode(), hashlib.sha256).hexdigest()


def callback(reference: str, amount: str, *, status: str = "SUCCESS", trade_no: str = "T-1") -> dict[str, str]:
    """A signed callback body as the provider's server would post it."""
    payload = {"reference": reference, "amount": amount, "status": status, "trade_no": trade_no}
    return {**payload, "sign": sign(payload)}


class FakePay:
    """The provider object the hook returns (the interface in ``portal_dues/hookspecs.py``)."""

    name = NAME
    label = _l("Test payment")
    order = 50

    def __init__(self) -> None:
        self.started: list[Mapping] = []

    def start(self, order: Mapping) -> str:
        """Remember the order and send the member to the fake checkout page."""
        self.started.append(dict(order))
        return f"{CHECKOUT}?{urlencode({'ref': order['reference'], 'amount': order['amount']})}"

    def verify(self, payload: Mapping, headers: Mapping) -> Mapping | None:
        """The callback's facts when its signature is right; None otherwise."""
        given = str(payload.get("sign", ""))
        if not hmac.compare_digest(given, sign({key: str(payload.get(key, "")) for key in SIGNED})):
            return None
        return {"reference": payload["reference"], "amount": payload["amount"],
                "paid": payload.get("status") == "SUCCESS", "provider_ref": payload["trade_no"]}


PROVIDER = FakePay()


@tk.hookimpl(optionalhook=True)
def portal_dues_payment_providers() -> list:
    """The one test provider."""
    return [PROVIDER]
