"""STUB (owner E replaces)."""
from __future__ import annotations


def personal_data(member):
    return None
