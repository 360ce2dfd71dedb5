"""Places as administrative-division codes (GB/T 2260: province → city → county).

The table ships as data (``portal/places_data/adcodes.csv.gz``, built from cpca's MIT-licensed
adcode table, see the README there) with a pinyin key per name computed at build time, so
resolving "江西", "江西省", "南昌", "nanchang" or "江西省南昌市" needs no extra dependency.
Records store the six-digit code and keep the typed text only as a display fallback.
"""
from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from portal.errors import Invalid

DATA = Path(__file__).with_name("places_data") / "adcodes.csv.gz"
PROVINCE, CITY, COUNTY = 1, 2, 3

#: Short names people use for provinces whose official name is long.
_PROVINCE_SHORT = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏", "宁夏回族自治区": "宁夏",
                   "新疆维吾尔自治区": "新疆", "香港特别行政区": "香港", "澳门特别行政区": "澳门"}
_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:[^族]{1,4}族)*自治[州县旗]$")
_SUFFIXES = ("林区", "地区", "新区", "矿区", "省", "市", "县", "区", "旗", "盟")


@dataclass(frozen=True)
class Place:
    """One row of the table: ``full_name`` chains the province and city (江西省南昌市东湖区)."""

    code: str
    name: str
    short: str
    pinyin: str
    full_name: str

    @property
    def level(self) -> int:
        return level_of(self.code)


def short_name(name: str) -> str:
    """The name without its administrative suffix (江西省 → 江西, 延边朝鲜族自治州 → 延边); never under 2 characters."""
    if name in _PROVINCE_SHORT:
        return _PROVINCE_SHORT[name]
    match = _AUTONOMOUS.match(name)
    if match:
        return match.group(1)
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def level_of(code: str) -> int:
    """1 for a province code (360000), 2 for a city (360100), 3 for a county (360102)."""
    if code.endswith("0000"):
        return PROVINCE
    return CITY if code.endswith("00") else COUNTY


@cache
def _table() -> dict[str, Place]:
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as handle:
        rows = [(r["code"], r["name"], r["pinyin"]) for r in csv.DictReader(handle)]
    names = {code: name for code, name, _ in rows}
    places = {}
    for code, name, pinyin in rows:
        chain = [names.get(code[:2] + "0000"), names.get(code[:4] + "00")][: level_of(code) - 1]
        full = "".join(part for part in chain if part) + name
        places[code] = Place(code, name, short_name(name), pinyin, full)
    return places


def normalize(text: str | None) -> str:
    """Full-width letters folded (NFKC), spaces and separators removed, pinyin lower-cased."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s·,，、/\-]+", "", text).lower()


def get(code: str | None) -> Place | None:
    """The place of a six-digit code (longer adcodes are cut to six), or None."""
    return _table().get(str(code or "")[:6]) if code else None


def place_name(code: str | None) -> str:
    """The full name of ``code`` (江西省南昌市), or "" for an unknown code."""
    place = get(code)
    return place.full_name if place else ""


def province_code(code: str | None) -> str | None:
    """The code of the province ``code`` lies in (360102 → 360000), or None for an unknown code."""
    place = get(code)
    return place.code[:2] + "0000" if place else None


def _score(place: Place, term: str) -> int | None:
    """0 exact name (full, short, pinyin), 1 prefix, 2 contained; None when it does not match."""
    pinyin_short = place.pinyin[: len(place.pinyin) - len(_pinyin_suffix(place))] if term.isascii() else ""
    exact = {place.name, place.short, place.full_name, place.pinyin, pinyin_short}
    if term in exact:
        return 0
    if place.name.startswith(term) or (term.isascii() and place.pinyin.startswith(term)):
        return 1
    if not term.isascii() and term in place.full_name:
        return 2
    return None


def _pinyin_suffix(place: Place) -> str:
    """The pinyin of the suffix dropped from the short name (sheng, shi, zizhiqu…), from the tail of the key."""
    dropped = len(place.name) - len(place.short)
    return _SUFFIX_PINYIN.get(place.name[len(place.name) - dropped:], "") if dropped else ""


_SUFFIX_PINYIN = {"省": "sheng", "市": "shi", "县": "xian", "区": "qu", "旗": "qi", "盟": "meng", "地区": "diqu",
                  "林区": "linqu", "新区": "xinqu", "矿区": "kuangqu", "自治区": "zizhiqu",
                  "壮族自治区": "zhuangzuzizhiqu", "回族自治区": "huizuzizhiqu", "维吾尔自治区": "weiwuerzizhiqu",
                  "特别行政区": "tebiexingzhengqu"}


def _ranked(term: str, within: str | None = None) -> list[tuple[int, int, str]]:
    """(score, level, code) of every place matching ``term``, best first; ``within`` keeps a province's places."""
    places = _table().values()
    if within:
        places = [p for p in places if p.code.startswith(within[:2]) and p.code != within]
    ranked = []
    for place in places:
        score = _score(place, term)
        if score is not None:
            ranked.append((score, place.level, place.code))
    return sorted(ranked)


def _split_province(term: str) -> list[tuple[str, str]]:
    """(province code, rest) for each province whose name or short name starts ``term`` (江西南昌 → 360000, 南昌)."""
    found = []
    for place in _table().values():
        if place.level != PROVINCE:
            continue
        for prefix in (place.name, place.short):
            if term.startswith(prefix) and len(term) > len(prefix):
                found.append((place.code, term[len(prefix):]))
                break
    return found


def _candidates(term: str) -> list[tuple[int, int, str]]:
    ranked = _ranked(term)
    if ranked and ranked[0][0] == 0:
        return ranked
    # "江西南昌", "江西省 南昌市东湖区": a province first, then the place inside it.
    for province, rest in _split_province(term):
        inside = _ranked(rest, within=province)
        if inside:
            return inside + ranked
    return ranked


def place_search(term: str | None, limit: int = 10) -> list[tuple[str, str]]:
    """Places matching ``term`` (Chinese name, short name or pinyin), best first: [(code, full name)]."""
    term = normalize(term)
    if not term:
        return []
    seen, result = set(), []
    for _score, _level, code in _candidates(term):
        if code not in seen:
            seen.add(code)
            result.append((code, _table()[code].full_name))
        if len(result) >= limit:
            break
    return result


def resolve(text: str | None) -> tuple[str | None, list[tuple[str, str]]]:
    """The one best code for ``text`` (None when unknown or ambiguous) and the candidates to offer.

    The best is unique when no other place has the same score and level: "南昌" is the city
    (南昌市 outranks 南昌县), "朝阳区" is ambiguous (in Beijing and in Changchun).
    """
    term = normalize(text)
    if not term:
        return None, []
    if get(term) is not None:
        return term[:6], [(term[:6], _table()[term[:6]].full_name)]
    ranked = _candidates(term)
    if not ranked:
        return None, []
    best = [r for r in ranked if r[:2] == ranked[0][:2]]
    unique_codes = {r[2] for r in best}
    code = best[0][2] if len(unique_codes) == 1 else None
    return code, place_search(text, limit=10)


def place_from_text(text: str | None) -> str | None:
    """The code legacy text stands for when one place matches best ("江西省南昌市" → 360100), else None."""
    return resolve(text)[0]


#: Province-level codes that are cities themselves (直辖市) or special regions: they need no city below them.
_CITY_PROVINCES = ("11", "12", "31", "50", "71", "81", "82")


def place_parts(code: str | None) -> tuple[str, str, str]:
    """(province, city, county) names of ``code``; a municipality is its own city (北京市, 北京市, 朝阳区)."""
    place = get(code)
    if place is None:
        return "", "", ""
    table = _table()
    province = table[place.code[:2] + "0000"].name if place.code[:2] + "0000" in table else ""
    city_place = table.get(place.code[:4] + "00") if place.level >= CITY else None
    city = city_place.name if city_place else (province if place.code[:2] in _CITY_PROVINCES else "")
    county = place.name if place.level == COUNTY else ""
    return province, city, county


def clean_place(text: str | None, field: str, *, need_city: bool = False, required: bool = True) -> str | None:
    """The code typed or picked in ``field`` (a code, a name, a short name or pinyin); refusals name the field.

    Unknown or ambiguous text raises :class:`tk.Invalid` listing the candidates; with ``need_city`` a
    province alone is refused (except municipalities, which are cities). Empty text is None unless ``required``.
    """
    if not normalize(text):
        if required:
            raise Invalid(_("Please correct the marked fields."), {field: _("This field is required.")})
        return None
    code, candidates = resolve(text)
    if code is None and candidates:
        names = "、".join(name for _code, name in candidates[:5])
        raise Invalid(_("Please correct the marked fields."),
                      {field: _("“%(text)s” could mean several places: %(names)s. Pick one.", text=text, names=names)})
    if code is None:
        raise Invalid(_("Please correct the marked fields."),
                      {field: _("No place called “%(text)s” is known. Enter a province, city or county.", text=text)})
    if need_city and level_of(code) == PROVINCE and code[:2] not in _CITY_PROVINCES:
        raise Invalid(_("Please correct the marked fields."),
                      {field: _("Name the city, not only the province (e.g. %(example)s).",
                                example=(place_search(text, 2)[1:] or [("", "南昌")])[0][1])})
    return code
