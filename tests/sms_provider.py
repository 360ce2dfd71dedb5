"""A test SMS gateway for ``portal_sms_example`` (its ``provider`` setting: ``tests.sms_provider:factory``)."""
from __future__ import annotations

#: ``(phone, text)`` of every message handed to a provider made by :func:`factory`.
SENT: list[tuple[str, str]] = []


class RecordingProvider:
    """Keeps what it is asked to send."""

    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


def factory() -> RecordingProvider:
    """What the setting names: called once per message."""
    return RecordingProvider()
