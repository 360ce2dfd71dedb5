"""Member import from ``.xlsx`` and ``.csv``: read, check every row, then import all or nothing.

The same code serves the web screen (upload → preview → confirm) and
``portal import members FILE``:

1. :func:`read_table` turns the bytes into a header row and data rows, or
   raises :class:`ImportFileError` (empty, too large, not a spreadsheet,
   unreadable encoding, too many rows).
   Every text cell is normalized on the way in (:func:`normalize_text`):
   full-width digits, letters and punctuation become half-width, runs of spaces
   (ideographic ones too, and line breaks in titles) become one space.
2. :func:`plan_import` maps the headers (English or Chinese, the synonyms other
   systems write, the export's own titles in every language of the portal, and
   the secretary's own choices for unfamiliar columns), converts and checks each
   cell, resolves home and host branches, and finds duplicates in the file and
   in the database. Every problem is reported with its row number, column and a
   translated message.
3. :func:`apply_import` writes a plan without problems in the caller's
   transaction; the caller commits. Only when asked explicitly
   (``good_rows=True``) does it write the rows without problems and leave the
   rejected ones, which :func:`rejected_rows_xlsx` hands back with their
   problems.
"""
from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import insert, or_, select

from portal.accounts import services as account_services
from portal.accounts.models import Account
from portal.audit.services import audit
from portal.extensions import db
from portal.org import labels, validation
from portal.org.exchange import EXPORT_COLUMNS, IMPORT_ONLY_COLUMNS
from portal.org.models import Member, OrgUnit, in_subtree
from portal.storage import get_store
from portal.timeutil import local_today

#: Header spellings accepted besides the translated column titles (compared after :func:`_norm`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "姓名", "名字"),
    "gender": ("gender", "sex", "性别"),
    "birth_date": ("birth date", "date of birth", "birthday", "出生日期", "出生年月", "出生年月日"),
    "ethnicity": ("ethnicity", "民族"),
    "education": ("education", "学历", "文化程度"),
    "phone": ("phone number", "phone", "mobile", "mobile phone", "手机号码", "手机号", "手机", "联系电话", "电话"),
    "id_number": ("national id number", "id number", "id card", "身份证号", "身份证号码", "公民身份号码", "身份证"),
    "stage": ("membership stage", "stage", "党员类别", "人员类别", "类别", "发展阶段"),
    "joined_on": ("date joined", "joined", "入党日期", "入党时间"),
    "occupation": ("occupation", "job", "职业"),
    "industry": ("industry", "行业", "所在行业"),
    "employer": ("employer", "work unit", "工作单位", "单位"),
    "current_province": ("current province", "province", "现居住省份", "现居省份", "所在省份", "省份"),
    "current_city": ("current city", "city", "现居住城市", "现居城市", "所在城市", "城市"),
    "home_unit": ("home branch", "branch", "所在党支部", "党支部", "所在支部", "正式组织关系所在党支部", "流出地党组织"),
    "host_unit": ("host branch", "流入地党组织", "流入地党支部"),
    "is_away": ("away", "away from home", "外出", "是否外出", "是否流动", "流动党员"),
    "lost_contact": ("lost contact", "失联", "是否失联"),
    "notes": ("notes", "remarks", "备注"),
    "username": ("username", "login", "用户名", "登录名", "账号"),
    "last_active": ("last active", "最近活跃", "最近活跃时间"),
    # A roster's running number; also the row and problem columns of a rejected-rows file, so that file
    # can be corrected and imported again as it is.
    "row_number": ("序号", "编号", "no.", "no", "#", "行号", "问题"),
}
#: Columns read but not imported (the export writes them for information; rosters number their rows).
IGNORED_FIELDS = {"last_active", "row_number"}
#: What a secretary picks for a column that should not be imported (``--map 'col=ignore'``).
IGNORE = "ignore"

#: Coded values in Chinese as branches write them (besides codes and translated labels).
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "gender": {"男": "male", "女": "female", "m": "male", "f": "female"},
    "education": {"小学": "primary", "初中": "junior_high", "高中": "high_school", "中专": "vocational",
                  "中职": "vocational", "技校": "vocational", "职高": "vocational", "大专": "associate",
                  "专科": "associate", "大学专科": "associate", "本科": "bachelor", "大学本科": "bachelor",
                  "大学": "bachelor", "硕士": "master", "研究生": "master", "硕士研究生": "master", "博士": "doctorate",
                  "博士研究生": "doctorate"},
    "stage": {"入党申请人": "applicant", "申请人": "applicant", "入党积极分子": "activist", "积极分子": "activist",
              "发展对象": "candidate", "预备党员": "probationary", "预备": "probationary", "正式党员": "full",
              "正式": "full", "党员": "full"},
    "yesno": {"yes": "1", "y": "1", "true": "1", "1": "1", "x": "1", "是": "1", "√": "1",
              "no": "0", "n": "0", "false": "0", "0": "0", "否": "0"},
}
_CODED = {"gender": labels.GENDER_LABELS, "education": labels.EDUCATION_LABELS, "stage": labels.STAGE_LABELS}
_TEXT_LIMITS = {"name": 100, "ethnicity": 30, "occupation": 100, "industry": 100, "employer": 200,
                "current_province": 50, "current_city": 50, "notes": 5000}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: Full-width ASCII (ｌ３８, Ｘ, （）: typed with a Chinese input method); CJK text itself is left alone.
_FULL_WIDTH = re.compile("[\uff01-\uff5e]+")
#: Any run of spaces: ideographic (U+3000), no-break, zero-width, line breaks inside a cell.
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
_HAN_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
#: Uploads kept for the preview, the column mapping and the rejected rows expire after this.
UPLOAD_MAX_AGE = 24 * 3600


def normalize_text(text: str) -> str:
    """``text`` with full-width ASCII made half-width (NFKC) and every run of spaces made one space, trimmed.

    Only the full-width forms are NFKC-normalized: Chinese text keeps its own
    characters (NFKC would also rewrite e.g. ㈠ or compatibility ideographs).
    """
    text = _FULL_WIDTH.sub(lambda match: unicodedata.normalize("NFKC", match.group()), text)
    return _SPACES.sub(" ", text).strip()


class ImportFileError(ValueError):
    """The file as a whole cannot be read; ``message`` is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ImportProblem:
    """One line of the error report: spreadsheet row (None: the whole file), column title, problem."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = _("row %(n)d", n=self.row) if self.row else _("file")
        return f"{where}\t{self.column}\t{self.message}"


@dataclass
class ImportRow:
    """A checked row ready to be imported."""

    number: int
    data: dict[str, Any]
    home_unit: OrgUnit
    host_unit: OrgUnit | None = None
    username: str | None = None


@dataclass
class ImportPlan:
    """What an import would do, or why it cannot.

    ``rows`` are the rows without problems; ``rejected`` the others as they
    were read, ``(row number, cells)``. ``unknown_columns`` are header titles
    the importer could not map (the web asks the secretary to map them).
    """

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    header_number: int = 0
    header: list[Any] = field(default_factory=list)
    rejected: list[tuple[int, list[Any]]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def blocking(self) -> bool:
        """A problem of the whole file or its headers: not even the good rows can be imported."""
        return any(p.row is None or p.row == self.header_number for p in self.problems)

    @property
    def can_import_good_rows(self) -> bool:
        """Some rows are good, others rejected, and nothing about the file as a whole is wrong."""
        return bool(self.problems) and bool(self.rows) and not self.blocking

    def importable(self, good_rows: bool = False) -> bool:
        """Whether the plan may be applied: without problems, or (``good_rows``) its good rows."""
        return self.ok or (good_rows and self.can_import_good_rows)

    @property
    def account_count(self) -> int:
        return sum(1 for row in self.rows if row.username)


# --- reading the file ------------------------------------------------------------------------

def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return normalize_text(value) or None
    return value


def _trim(values: Iterable[Any]) -> list[Any]:
    row = [_cell(v) for v in values]
    while row and row[-1] is None:
        row.pop()
    return row


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file's text encoding cannot be read. Save it as CSV in UTF-8 or GBK, "
                                "or as an Excel workbook (.xlsx).")) from None


def _csv_rows(data: bytes) -> Iterable[list[Any]]:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise ImportFileError(_("The file's text encoding cannot be read. Save it as CSV in UTF-8 or GBK, "
                                "or as an Excel workbook (.xlsx).")) from None
    if "\x00" in text:
        raise ImportFileError(_("This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";", "，"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise ImportFileError(_("This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file.")) from None


def _xlsx_rows(data: bytes) -> Iterable[tuple]:
    from openpyxl import load_workbook

    invalid = _("This file is not a valid Excel workbook (.xlsx). Open it in Excel or WPS and save it again.")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for broken files
        raise ImportFileError(invalid) from None
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception:
        raise ImportFileError(invalid) from None
    finally:
        workbook.close()


def read_table(data: bytes, filename: str = "", *, max_rows: int | None = None,
               max_bytes: int | None = None) -> tuple[int, list[Any], list[tuple[int, list[Any]]]]:
    """``(header row number, header cells, [(row number, cells)])`` of the file's first sheet.

    Empty rows are skipped; a lone title line above the headers (a merged
    "…党员名册" cell) is skipped too. Raises :class:`ImportFileError`.
    """
    config = current_app.config
    max_rows = max_rows or config["IMPORT_MAX_ROWS"]
    max_bytes = max_bytes or config["UPLOAD_MAX_BYTES"]
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImportFileError(_("The file is larger than %(mb).1f MB. Split it into smaller files.",
                                mb=max_bytes / 1024 / 1024))
    name = (filename or "").lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("Old Excel files (.xls) cannot be read. Save the file as an Excel workbook "
                                "(.xlsx) or as CSV and upload it again."))
    if data.startswith(b"PK\x03\x04") or zipfile.is_zipfile(io.BytesIO(data)):
        source: Iterable = _xlsx_rows(data)
    elif name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(_("This file is not a valid Excel workbook (.xlsx). Open it in Excel or WPS and "
                                "save it again."))
    else:
        source = _csv_rows(data)
    header_number, header, pending_title = 0, None, None
    rows: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(source, start=1):
        cells = _trim(values)
        if not cells:
            continue
        if header is None:
            filled = sum(1 for c in cells if c is not None)
            if filled == 1 and pending_title is None:
                pending_title = (number, cells)  # maybe a title line; the header may follow
                continue
            if filled == 1:  # two lone cells in a row: a one-column file whose header came first
                header_number, header = pending_title
            else:
                header_number, header = number, cells
                continue
        if len(rows) >= max_rows:
            raise ImportFileError(_("The file has more than %(n)d members. Split it into smaller files.", n=max_rows))
        rows.append((number, cells))
    if header is None and pending_title is not None:
        header_number, header = pending_title
    if header is None:
        raise ImportFileError(_("The file is empty."))
    if not rows:
        raise ImportFileError(_("The file has column titles but no members."))
    return header_number, header, rows


# --- understanding headers and values ----------------------------------------------------------

def _norm(text: Any) -> str:
    value = normalize_text(str(text or "")).lower()
    value = re.sub(r"[(（].*?[)）]", "", value)
    return re.sub(r"[\s*:：_]", "", value)


def normalize_column(title: Any) -> str:
    """A column title as titles are compared: normalized, lower case, without spaces, colons or bracketed notes."""
    return _norm(title)


def _locales() -> list[str]:
    from portal.i18n import CATALOG_NAMES

    return [CATALOG_NAMES.get(code, code) for code in current_app.config["LOCALES"]]


def column_titles() -> dict[str, str]:
    """``{field: title}`` of every importable column in the current language."""
    return {f: str(title) for f, title in (*EXPORT_COLUMNS, *IMPORT_ONLY_COLUMNS) if f not in IGNORED_FIELDS}


def header_map() -> dict[str, str]:
    """Normalized header text → field, from the aliases and the titles in every language of the portal."""
    mapping = {_norm(alias): f for f, aliases in HEADER_ALIASES.items() for alias in aliases}
    for locale in _locales():
        with force_locale(locale):
            for f, title in (*EXPORT_COLUMNS, *IMPORT_ONLY_COLUMNS):
                mapping.setdefault(_norm(str(title)), f)
            for title in _rejected_titles():
                mapping.setdefault(_norm(title), "row_number")
    return mapping


def _rejected_titles() -> tuple[str, str]:
    """The columns a rejected-rows file adds before and after the roster's own."""
    return _("Row in the uploaded file"), _("Problems")


def parse_column_map(pairs: Iterable[str]) -> dict[str, str]:
    """``{normalized title: field or IGNORE}`` from ``title=field`` pairs (the CLI's ``--map``).

    Raises ValueError (translated) for a pair without ``=`` or an unknown field.
    """
    fields = set(column_titles())
    result: dict[str, str] = {}
    for pair in pairs:
        title, sep, target = pair.rpartition("=")
        target = target.strip()
        if not sep or not title.strip():
            raise ValueError(_("Write a column mapping as “column title=field”, e.g. “籍贯=ignore”."))
        if target != IGNORE and target not in fields:
            raise ValueError(_("Unknown field “%(field)s”; use one of: %(fields)s.", field=target,
                               fields=", ".join([*sorted(fields), IGNORE])))
        result[normalize_column(title)] = target
    return result


def value_maps() -> dict[str, dict[str, str]]:
    """Normalized value → code for each coded column, in codes, aliases and every language's labels."""
    maps = {kind: {_norm(k): v for k, v in aliases.items()} for kind, aliases in VALUE_ALIASES.items()}
    for kind, mapping in _CODED.items():
        for code in mapping:
            maps[kind][_norm(code)] = code
    for locale in _locales():
        with force_locale(locale):
            for kind, mapping in _CODED.items():
                for code, text in mapping.items():
                    maps[kind].setdefault(_norm(str(text)), code)
            maps["yesno"].setdefault(_norm(_("yes")), "1")
            maps["yesno"].setdefault(_norm(_("no")), "0")
    return maps


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


class _UnitResolver:
    """Finds units by id or name, within a scope (home branches) or anywhere open (host branches)."""

    def __init__(self, scope: OrgUnit | None) -> None:
        self.scope = scope
        self._cache: dict[str, OrgUnit | str] = {}

    def resolve(self, value: Any) -> OrgUnit:
        key = _as_text(value) or ""
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        found = self._cache[key]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def _within(self, query):
        if self.scope is not None:
            query = query.where(in_subtree(OrgUnit.path, self.scope.path))
        return query

    def _lookup(self, key: str) -> OrgUnit | str:
        if key.isdigit():
            unit = db.session.scalar(self._within(select(OrgUnit).where(OrgUnit.id == int(key))))
            if unit is not None:
                return self._open(unit)
        units = list(db.session.scalars(self._within(select(OrgUnit).where(OrgUnit.name == key)).limit(5)))
        open_units = [u for u in units if not u.is_closed]
        if len(open_units) > 1:
            return _("Several units are named “%(name)s”; write the unit's number (%(ids)s) instead.",
                     name=key, ids=", ".join(str(u.id) for u in open_units))
        if open_units:
            return open_units[0]
        if units:
            return self._open(units[0])
        if self.scope is not None:
            return _("No unit “%(name)s” among the units you manage (%(scope)s).", name=key, scope=self.scope.name)
        return _("No unit is named “%(name)s”.", name=key)

    @staticmethod
    def _open(unit: OrgUnit) -> OrgUnit | str:
        return _("The unit “%(name)s” is closed.", name=unit.name) if unit.is_closed else unit


def plan_import(header_number: int, header: list[Any], rows: list[tuple[int, list[Any]]], *,
                scope: OrgUnit | None, default_unit: OrgUnit | None = None, phone_accounts: bool = False,
                password: str | None = None, password_checked: bool = False,
                today: date | None = None, column_map: dict[str, str] | None = None) -> ImportPlan:
    """Check every row; the plan lists the rows to import and the problems of the others.

    ``scope``: home branches must lie in this subtree (None: anywhere, for the CLI).
    ``column_map``: the secretary's choices for unfamiliar titles, ``{normalized title: field or IGNORE}``
    (:func:`parse_column_map`); they override the built-in synonyms.
    ``default_unit``: home branch of rows that name none (only a branch or group).
    ``phone_accounts``: rows with a phone number and no username get an account logging in by phone.
    ``password``: the initial password of new accounts (``password_checked``: it was checked earlier).
    """
    plan = ImportPlan(titles=column_titles(), header_number=header_number, header=list(header))
    problems = plan.problems
    mapping = {**header_map(), **(column_map or {})}
    columns: dict[int, str] = {}
    seen_fields: dict[str, int] = {}
    for index, title in enumerate(header):
        if title is None:
            continue
        f = mapping.get(_norm(title))
        if f == IGNORE or f in IGNORED_FIELDS:
            continue
        if f is None:
            plan.unknown_columns.append(str(title))
            problems.append(ImportProblem(header_number, str(title), _(
                "Unknown column. Rename it to one of the titles listed on the import page, or remove it.")))
        elif f in seen_fields:
            problems.append(ImportProblem(header_number, str(title), _("This column appears twice.")))
        else:
            seen_fields[f] = index
            columns[index] = f
    if "name" not in seen_fields:
        problems.append(ImportProblem(header_number, plan.titles["name"], _("The file has no column of names.")))
    if "home_unit" not in seen_fields and (default_unit is None or default_unit.kind not in ("branch", "group")):
        problems.append(ImportProblem(header_number, plan.titles["home_unit"], _(
            "Add a Home branch column: members can only be imported into a branch or a group.")))
    if problems:
        return plan

    title_of = {f: str(header[i]) for i, f in columns.items()}
    untitled = {i for i, t in enumerate(header) if t is None}
    read = untitled | set(columns)
    maps = value_maps()
    homes, hosts = _UnitResolver(scope), _UnitResolver(None)
    today = today or local_today()
    first_seen: dict[tuple[str, str], int] = {}
    wants_accounts = False

    cells_of: dict[int, list[Any]] = {}
    for number, cells in rows:
        if all(cells[i] is None for i in read if i < len(cells)):
            continue  # only a running number (序号) or ignored columns: an unused line of the roster
        cells_of[number] = cells
        data: dict[str, Any] = {}
        row_problems: list[ImportProblem] = []
        failed: set[str] = set()
        month_only = False

        def problem(f: str, message: str, number: int = number, row_problems: list = row_problems) -> None:
            row_problems.append(ImportProblem(number, title_of.get(f, plan.titles.get(f, f)), message))

        for index in untitled:
            if index < len(cells) and cells[index] is not None:
                row_problems.append(ImportProblem(number, _("column %(n)d", n=index + 1), _(
                    "This column has no title; give it one of the titles listed on the import page.")))
                break
        raw = {f: (cells[i] if i < len(cells) else None) for i, f in columns.items()}
        for f, value in raw.items():
            try:
                if f in _TEXT_LIMITS:
                    text = _as_text(value)
                    if text and f == "name":
                        text = _HAN_GAP.sub("", text)  # "王  静": two-character names padded to line up
                    if text and len(text) > _TEXT_LIMITS[f]:
                        raise ValueError(_("Too long: at most %(n)d characters.", n=_TEXT_LIMITS[f]))
                    data[f] = text
                elif f in _CODED:
                    text = _as_text(value)
                    if text is None:
                        data[f] = "full" if f == "stage" else None
                    elif (code := maps[f].get(_norm(text))) is None:
                        allowed = "、".join(str(label) for label in _CODED[f].values())
                        raise ValueError(_("Unknown value “%(value)s”; use one of: %(allowed)s.",
                                           value=text, allowed=allowed))
                    else:
                        data[f] = code
                elif f in ("is_away", "lost_contact"):
                    text = _as_text(value)
                    if text is None:
                        data[f] = None
                    elif (flag := maps["yesno"].get(_norm(text))) is None:
                        raise ValueError(_("Write yes or no (是 or 否)."))
                    else:
                        data[f] = flag == "1"
                elif f == "birth_date":
                    data[f], month_only = validation.parse_date_precision(value)
                elif f == "joined_on":
                    data[f] = validation.parse_date(value)
                elif f == "phone":
                    data[f] = validation.normalize_phone(_as_text(value))
                elif f == "id_number":
                    if isinstance(value, float):
                        raise ValueError(_("The ID number was stored as a number and lost digits. Format the "
                                           "column as text in the spreadsheet and type it again."))
                    data[f] = validation.normalize_id_number(_as_text(value), today=today)
                elif f == "username":
                    text = _as_text(value)
                    if text and (message := validation.username_problem(text)):
                        raise ValueError(message)
                    data[f] = text
                elif f == "home_unit":
                    data[f] = homes.resolve(value) if _as_text(value) else None
                elif f == "host_unit":
                    data[f] = hosts.resolve(value) if _as_text(value) else None
            except ValueError as error:
                failed.add(f)
                problem(f, str(error))
        if not data.get("name") and "name" not in failed:
            problem("name", _("The name is missing."))
        if message := validation.birth_date_problem(data.get("birth_date"), today=today):
            problem("birth_date", message)
        if message := validation.joined_on_problem(data.get("joined_on"), data.get("birth_date"), today=today):
            problem("joined_on", message)
        if message := validation.id_matches_profile_problem(data.get("id_number"), data.get("birth_date"),
                                                            data.get("gender"), month_only=month_only):
            problem("id_number", message)
        elif month_only and data.get("id_number"):
            # The ID number agrees to the month and knows the day: keep the whole date.
            data["birth_date"] = validation.id_number_birth_date(data["id_number"])
        home = data.pop("home_unit", None) or (None if "home_unit" in failed else default_unit)
        if "home_unit" not in failed and (home is None or home.kind not in ("branch", "group")):
            problem("home_unit", _("Name the member's home branch (a branch or a group)."))
        host = data.pop("host_unit", None)
        if host is not None:
            if data.get("is_away") is False:
                problem("is_away", _("A member with a host branch is away from home."))
            if home is not None and host.id == home.id:
                problem("host_unit", _("The host branch must differ from the home branch."))
        data["is_away"] = bool(data.get("is_away")) or host is not None
        data["lost_contact"] = bool(data.get("lost_contact"))
        username = data.pop("username", None)
        if username is None and phone_accounts and data.get("phone"):
            username = data["phone"]
        wants_accounts = wants_accounts or username is not None
        for key, value, f in (("phone", data.get("phone"), "phone"), ("id_number", data.get("id_number"), "id_number"),
                              ("login", username, "username" if "username" in raw else "phone"),
                              ("login", data.get("phone") if username else None, "phone")):
            if not value:
                continue
            if (key, value) in first_seen and first_seen[(key, value)] != number:
                problem(f, _("Also in row %(n)d: each member may appear only once.", n=first_seen[(key, value)]))
            first_seen.setdefault((key, value), number)
        problems.extend(row_problems)
        if not row_problems:
            plan.rows.append(ImportRow(number, data, home, host, username))

    _check_database_duplicates(plan, title_of)
    if wants_accounts and not password_checked:
        title = _("Initial password for new accounts")
        if not password:
            problems.append(ImportProblem(None, title, _("Choose an initial password for the new accounts.")))
        elif message := account_services.password_problem(password):
            problems.append(ImportProblem(None, title, message))
    problems.sort(key=lambda p: (p.row or 0))
    rejected = {p.row for p in problems if p.row}
    plan.rows = [row for row in plan.rows if row.number not in rejected]
    plan.rejected = [(number, cells) for number, cells in cells_of.items() if number in rejected]
    return plan


def _chunks(values: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _check_database_duplicates(plan: ImportPlan, title_of: dict[str, str]) -> None:
    """Phone numbers, ID numbers and logins that already exist in the portal."""
    def title(f: str) -> str:
        return title_of.get(f, plan.titles.get(f, f))

    phones = [r.data["phone"] for r in plan.rows if r.data.get("phone")]
    ids = [r.data["id_number"] for r in plan.rows if r.data.get("id_number")]
    logins = [v for r in plan.rows if r.username for v in (r.username, r.data.get("phone")) if v]
    taken_phones, taken_ids, taken_logins = set(), set(), set()
    for chunk in _chunks(phones):
        taken_phones.update(db.session.scalars(select(Member.phone).where(Member.phone.in_(chunk))))
    for chunk in _chunks(ids):
        taken_ids.update(db.session.scalars(select(Member.id_number).where(Member.id_number.in_(chunk))))
    for chunk in _chunks(logins):
        for username, phone in db.session.execute(select(Account.username, Account.phone).where(
                or_(Account.username.in_(chunk), Account.phone.in_(chunk)))):
            taken_logins.update(v for v in (username, phone) if v)
    for row in plan.rows:
        phone = row.data.get("phone")
        if phone in taken_phones:
            plan.problems.append(ImportProblem(row.number, title("phone"),
                                               _("A member with this phone number is already in the portal.")))
        if row.data.get("id_number") in taken_ids:
            plan.problems.append(ImportProblem(row.number, title("id_number"),
                                               _("A member with this national ID number is already in the portal.")))
        if row.username and row.username in taken_logins:
            plan.problems.append(ImportProblem(row.number, title("username") if "username" in title_of else title("phone"),
                                               _("This username is already taken.")))
        elif row.username and phone and phone in taken_logins and phone not in taken_phones:
            plan.problems.append(ImportProblem(row.number, title("phone"),
                                               _("Another account already logs in with this phone number.")))


# --- writing -----------------------------------------------------------------------------------

def apply_import(plan: ImportPlan, *, password_hash: str | None, unit: OrgUnit | None = None,
                 filename: str = "", via: str = "web", good_rows: bool = False) -> int:
    """Create the plan's members (and accounts) in the caller's transaction; returns how many (audited once).

    ``good_rows``: the secretary chose to import the rows without problems and
    leave the rejected ones (never the default: a plan with problems is
    otherwise refused). Bulk INSERTs (a few statements per thousand rows): a
    20 000-member roster must fit in one web request.
    """
    if not plan.importable(good_rows):
        raise ValueError("a plan with problems cannot be applied")
    account_ids: dict[str, int] = {}
    accounts = [{"username": row.username, "display_name": row.data["name"], "phone": row.data.get("phone"),
                 "password_hash": password_hash, "must_change_password": True, "session_version": 1}
                for row in plan.rows if row.username]
    if accounts:
        if not password_hash:
            raise ValueError("accounts need a password hash")
        for chunk in _chunks(accounts, 1000):
            result = db.session.execute(insert(Account).returning(Account.id, Account.username,
                                                                  sort_by_parameter_order=True), chunk)
            account_ids.update((username, account_id) for account_id, username in result)
    members = [{**row.data, "home_unit_id": row.home_unit.id, "host_unit_id": row.host_unit.id if row.host_unit else None,
                "account_id": account_ids.get(row.username) if row.username else None}
               for row in plan.rows]
    for chunk in _chunks(members, 1000):
        db.session.execute(insert(Member), chunk)
    audit("members.imported", "unit", unit.id if unit else None, unit_id=unit.id if unit else None,
          count=len(members), accounts=len(accounts), filename=filename[:200], via=via,
          **({"good_rows_only": True, "rejected": len(plan.rejected)} if plan.rejected else {}))
    return len(members)


def check_file(data: bytes, filename: str, **options: Any) -> ImportPlan:
    """Read and check a file in one step (raises :class:`ImportFileError` for unreadable files)."""
    header_number, header, rows = read_table(data, filename)
    return plan_import(header_number, header, rows, **options)


def rejected_rows_table(plan: ImportPlan) -> tuple[list[str], list[list[Any]]]:
    """``(headers, rows)`` of the rejected rows: row number, their cells as read, and a column of problems.

    The two added columns are ignored when the corrected file is imported again.
    """
    row_title, problems_title = _rejected_titles()
    messages: dict[int, list[str]] = {}
    for p in plan.problems:
        if p.row:
            messages.setdefault(p.row, []).append(f"{p.column}: {p.message}")
    width = len(plan.header)
    headers = [row_title, *("" if title is None else str(title) for title in plan.header), problems_title]
    rows = [[number, *(list(cells) + [None] * width)[:width], "\n".join(messages.get(number, []))]
            for number, cells in plan.rejected]
    return headers, rows


def rejected_rows_xlsx(plan: ImportPlan) -> bytes:
    """The rejected rows as an ``.xlsx`` workbook (:func:`rejected_rows_table`)."""
    from portal.web.exports import xlsx_bytes

    headers, rows = rejected_rows_table(plan)
    return xlsx_bytes(headers, rows, title=_("Rejected rows"))


def store_rejected_rows(plan: ImportPlan, meta: dict[str, Any]) -> str:
    """Keep the rejected rows after a good-rows import, for download; returns the token."""
    headers, rows = rejected_rows_table(plan)
    table = json.dumps({"headers": headers, "rows": rows}, default=lambda value: value.isoformat())
    return store_upload(table.encode("utf-8"), {**meta, "kind": "rejected"})


def load_rejected_rows(data: bytes) -> tuple[list[str], list[list[Any]]]:
    """``(headers, rows)`` kept by :func:`store_rejected_rows`."""
    table = json.loads(data.decode("utf-8"))
    return table["headers"], table["rows"]


# --- keeping the upload between preview and confirm --------------------------------------------
# In the app's file store (portal/storage.py) under ``imports/``: a preview made on one app server
# is confirmed on whichever server the next request reaches.

def _keys(token: str) -> tuple[str, str]:
    """The store keys of an upload's meta data and of its bytes."""
    return f"imports/{token}.json", f"imports/{token}.bin"


def _read_meta(key: str) -> dict[str, Any] | None:
    raw = get_store().get(key)
    try:
        meta = json.loads(raw.decode("utf-8")) if raw is not None else None
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def _write_meta(key: str, meta: dict[str, Any]) -> None:
    get_store().put(key, json.dumps(meta).encode("utf-8"), "application/json")


def store_upload(data: bytes, meta: dict[str, Any]) -> str:
    """Keep ``data`` and ``meta`` in the file store under a random token; returns the token.

    Used for an upload between its preview, column mapping and confirmation,
    and for a rejected-rows workbook until it is downloaded; both expire
    (:data:`UPLOAD_MAX_AGE`). The meta data (with ``stored_at``) is written
    first, so even an upload cut short leaves something :func:`purge_stale_uploads` can date.
    """
    purge_stale_uploads()
    token = secrets.token_urlsafe(24)
    meta_key, data_key = _keys(token)
    _write_meta(meta_key, {**meta, "stored_at": time.time()})
    get_store().put(data_key, data)
    return token


def load_upload(token: str | None) -> tuple[bytes, dict[str, Any]] | None:
    """The stored file and its meta data, or None when the token is unknown, malformed or expired."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    meta_key, data_key = _keys(token)
    meta = _read_meta(meta_key)
    data = get_store().get(data_key) if meta is not None else None
    if meta is None or data is None:
        return None
    if meta.get("stored_at", 0) < time.time() - UPLOAD_MAX_AGE:
        discard_upload(token)
        return None
    return data, meta


def update_upload(token: str, **changes: Any) -> None:
    """Change a stored upload's meta data (e.g. the column mapping chosen for it)."""
    meta_key = _keys(token)[0]
    meta = _read_meta(meta_key)
    if meta is None:
        raise LookupError(f"no stored upload {token!r}")
    _write_meta(meta_key, {**meta, **changes})


def discard_upload(token: str | None) -> None:
    """Delete a stored upload (no error when it is already gone)."""
    if not token or not _TOKEN.fullmatch(token):
        return
    for key in _keys(token):
        get_store().delete(key)


def purge_stale_uploads(max_age_seconds: int = UPLOAD_MAX_AGE) -> int:
    """Delete uploads nobody confirmed or cancelled within ``max_age_seconds``; returns how many uploads.

    Their age is the meta data's ``stored_at``; a file with unreadable meta data
    (or none: its meta was deleted first) is removed too.
    """
    limit, stale = time.time() - max_age_seconds, set()
    keys = list(get_store().keys("imports/"))
    tokens = {key[len("imports/"):].rpartition(".")[0] for key in keys}
    for token in tokens:
        meta = _read_meta(_keys(token)[0]) if _TOKEN.fullmatch(token) else None
        if meta is None or meta.get("stored_at", 0) < limit:
            stale.add(token)
    for key in keys:
        if key[len("imports/"):].rpartition(".")[0] in stale:
            get_store().delete(key)
    return len(stale)
