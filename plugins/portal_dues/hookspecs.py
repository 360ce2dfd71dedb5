"""Hooks the dues plugin publishes for other plugins (added through ``portal_addhooks``).

A payment provider plugin (WeChat Pay, Alipay …) implements ``portal_dues_payment_providers``
with ``@tk.hookimpl(optionalhook=True)`` and never imports this plugin.
"""
from __future__ import annotations

from portal import toolkit as tk


@tk.hookspec
def portal_dues_payment_providers() -> list:
    """Payment providers members may pay their dues through.

    Called when the member's payment page is shown and when a provider's callback arrives;
    only enabled plugins are called; no database work.

    :returns: a list of provider objects, each with
        ``name: str`` (stable, used in callback URLs), ``label`` (lazy string shown to members),
        ``start(order: Mapping) -> str`` — given ``{"reference", "amount" (str, yuan), "description",
        "notify_url", "return_url"}`` returns the URL to send the member to;
        ``verify(payload: Mapping, headers: Mapping) -> Mapping | None`` — checks the callback's signature and
        returns ``{"reference", "amount", "paid": bool, "provider_ref"}`` or None when the signature is wrong.
    """
