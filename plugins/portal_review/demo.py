"""STUB (owner E replaces)."""
from __future__ import annotations


def build(context) -> None:
    return None
