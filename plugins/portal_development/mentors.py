"""STUB (owner B replaces): mentors."""
from __future__ import annotations


def mentor_accounts(member) -> list[int]:
    return []
