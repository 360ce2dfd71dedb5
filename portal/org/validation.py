"""Checking the values of a member's profile (shared by the forms and the importer).

Every function returns a translated problem (a string) or None, or converts a
raw value and raises :class:`ValueError` whose message is translated.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _

from portal.timeutil import local_today

_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"^\+?[0-9]{6,20}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]+$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
EARLIEST_DATE = date(1900, 1, 1)


def normalize_phone(value: str | None) -> str | None:
    """A phone number without spaces, dashes and brackets; None when blank.

    Raises ValueError when what remains is not 6 to 20 digits (an optional
    leading ``+`` is kept).
    """
    if value is None:
        return None
    cleaned = _PHONE_SEPARATORS.sub("", str(value))
    if not cleaned:
        return None
    if not _PHONE.match(cleaned):
        raise ValueError(_("A phone number has 6 to 20 digits (spaces and dashes are allowed)."))
    return cleaned


def id_number_check_digit(first17: str) -> str:
    """The check character of a Chinese national ID number (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11]


def id_number_birth_date(value: str) -> date | None:
    """The birth date encoded in an 18-character ID number, or None when it is no real date."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def normalize_id_number(value: str | None, *, today: date | None = None) -> str | None:
    """An 18-character national ID number (upper-case X), checked; None when blank.

    Raises ValueError with a message saying what is wrong: length, characters,
    the birth date inside it, or the check character.
    """
    if value is None:
        return None
    cleaned = str(value).strip().replace(" ", "").upper()
    if not cleaned:
        return None
    if len(cleaned) != 18:
        raise ValueError(_("A national ID number has 18 characters (this one has %(n)d).", n=len(cleaned)))
    if not cleaned[:17].isdigit() or not (cleaned[17].isdigit() or cleaned[17] == "X"):
        raise ValueError(_("A national ID number has 17 digits followed by a digit or X."))
    born = id_number_birth_date(cleaned)
    if born is None or born < EARLIEST_DATE or born > (today or local_today()):
        raise ValueError(_("The birth date inside this national ID number is not a valid date."))
    if id_number_check_digit(cleaned[:17]) != cleaned[17]:
        raise ValueError(_("This national ID number is not valid (its check character does not match)."))
    return cleaned


def birth_date_problem(value: date | None, *, today: date | None = None) -> str | None:
    """Why ``value`` cannot be a birth date, or None."""
    if value is None:
        return None
    today = today or local_today()
    if value > today:
        return _("The birth date lies in the future.")
    if value < EARLIEST_DATE:
        return _("The birth date is before 1900.")
    return None


def joined_on_problem(joined: date | None, born: date | None, *, today: date | None = None) -> str | None:
    """Why ``joined`` cannot be the date a member joined, or None."""
    if joined is None:
        return None
    if joined > (today or local_today()):
        return _("The date joined lies in the future.")
    if born is not None and joined <= born:
        return _("The date joined must be after the birth date.")
    if joined < EARLIEST_DATE:
        return _("The date joined is before 1900.")
    return None


def id_matches_profile_problem(id_number: str | None, born: date | None, gender: str | None, *,
                               month_only: bool = False) -> str | None:
    """Why the ID number contradicts the birth date or gender, or None.

    ``month_only``: the birth date is known to the month (a roster's "1969年5月"),
    so only the year and month are compared.
    """
    if not id_number:
        return None
    encoded_birth = id_number_birth_date(id_number)
    if born is not None and encoded_birth is not None:
        same = (encoded_birth.year, encoded_birth.month) == (born.year, born.month) if month_only else encoded_birth == born
        if not same:
            written = f"{born.year}-{born.month:02d}" if month_only else born.isoformat()
            return _("The national ID number holds the birth date %(id_date)s, which does not match the birth "
                     "date %(date)s.", id_date=encoded_birth.isoformat(), date=written)
    if gender in ("male", "female"):
        encoded = "male" if int(id_number[16]) % 2 else "female"
        if encoded != gender:
            return _("The national ID number does not match the gender.")
    return None


def username_problem(value: str) -> str | None:
    """Why ``value`` cannot be a username, or None."""
    if not value:
        return _("A username is required.")
    if len(value) > 64:
        return _("A username has at most 64 characters.")
    if not _USERNAME.match(value):
        return _("Use letters, digits and . _ - @ only.")
    return None


_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_FULL_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MONTH_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")


def parse_date_precision(value) -> tuple[date | None, bool]:
    """``(date, month_only)`` from a spreadsheet cell or text.

    Days: ``2024-05-01``, ``2024/5/1``, ``2024.5.1``, ``2024年5月1日``, ``20240501``,
    date cells. Months: ``2024-05``, ``2024/5``, ``2024.05``, ``2024年5月``, ``202405``
    give the 1st of the month and ``month_only=True`` (rosters often hold no day).
    Raises ValueError (translated) for anything else.
    """
    if value is None:
        return None, False
    if isinstance(value, datetime):
        return value.date(), False
    if isinstance(value, date):
        return value, False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A cell typed as 19761103 or 1976.11 is stored as a number.
        value = str(int(value)) if float(value).is_integer() else repr(float(value))
    if not isinstance(value, str):
        raise ValueError(_("Not a date: write it as 2024-05-01."))
    text = _TIME_SUFFIX.sub("", value.strip())
    if not text:
        return None, False
    match = _FULL_DATE.match(text) or _MONTH_DATE.match(text) or _COMPACT_DATE.match(text)
    if match is not None:
        year, month, day = match.group(1), match.group(2), match.group(3) if match.lastindex >= 3 else None
        try:
            return date(int(year), int(month), int(day or 1)), day is None
        except ValueError:
            pass
    raise ValueError(_("Not a date: write it as 2024-05-01."))


def parse_date(value) -> date | None:
    """A date from a spreadsheet cell or text (see :func:`parse_date_precision`);
    a year and month alone mean the 1st of that month.
    """
    return parse_date_precision(value)[0]
