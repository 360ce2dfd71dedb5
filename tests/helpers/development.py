"""Builders for development cases in tests: valid ID numbers, a case, steps written as they are.

``write`` records steps without their checks (to set up the facts a test needs); tests of the checks
themselves go through ``cases.record_step``.
"""
from __future__ import annotations

from datetime import date

from portal.org.validation import id_number_check_digit
from portal_development import cases
from portal_development.models import PublicNotice, Vote

#: A tally that passes (10 entitled, 8 present, 7 yes).
PASSING = {"entitled": 10, "present": 8, "by_video": 0, "ballots_issued": 8, "ballots_returned": 8, "yes": 7,
           "no": 1, "abstain": 0, "written_yes": 0, "written_no": 0, "written_abstain": 0}
#: A tally that does not pass (5 yes of 10 entitled).
FAILING = {**PASSING, "yes": 5, "no": 3}


def id_number(born: date, serial: str = "123") -> str:
    """A valid 18-character ID number of someone born on ``born``."""
    first17 = f"360821{born:%Y%m%d}{serial}"
    return first17 + id_number_check_digit(first17)


def new_case(org, applied_on: date, *, born: date = date(1995, 3, 8), serial: str = "123", host=None,
             name: str = "赵敏"):
    """A case opened in ``org.home`` for a new person (no actor: nothing is checked)."""
    return cases.open_case(org.home, applied_on, actor=None, name=name, id_number=id_number(born, serial),
                           host_unit=host, today=max(applied_on, date(2026, 11, 30)))


def write(case, *codes: str, on: date, data: dict | None = None) -> None:
    """Write steps as they are (no checks), all on day ``on``."""
    for code in codes:
        cases.write_step(case, code, on, actor=None, data=data)


def vote(db, case, kind: str, held_on: date, passed: bool = True) -> Vote:
    """A vote row as the votes module would save it."""
    tally = PASSING if passed else FAILING
    row = Vote(case_id=case.id, kind=kind, held_on=held_on, quorate=True, passed=passed, **tally)
    db.session.add(row)
    db.session.flush()
    return row


def notice(db, case, place: str, starts_on: date, ends_on: date) -> PublicNotice:
    """A public notice row."""
    row = PublicNotice(case_id=case.id, place=place, starts_on=starts_on, ends_on=ends_on)
    db.session.add(row)
    db.session.flush()
    return row
