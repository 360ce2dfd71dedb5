"""Deterministic grading of one response to one question (pure functions, no database).

``grade(qtype, data, response)`` returns a fraction in [0, 1], or None when a
person must grade it (essays) or there is nothing to grade (descriptions).
The same inputs always give the same result, so attempts can be re-graded
after a question is corrected.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

FULL_MARK = 0.9999


def normalize_text(value: Any, case_sensitive: bool = False) -> str:
    """What a member typed, made comparable: NFKC (full-width → half-width), trimmed, inner spaces collapsed.

    ``ＡＢＣ　１２３`` and `` abc 123 `` compare equal unless case matters.
    """
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = " ".join(text.split())
    return text if case_sensitive else text.casefold()


def _pattern(accepted: str, case_sensitive: bool) -> re.Pattern:
    """Moodle's short-answer wildcard: ``*`` matches any characters."""
    text = normalize_text(accepted, case_sensitive)
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$", re.S)


def parse_number(value: Any) -> float | None:
    """A number a member typed (full-width digits, a comma as decimal point, spaces allowed)."""
    text = normalize_text(value).replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def matching_shortanswer(data: dict, response: Any) -> dict | None:
    """The best accepted answer the response matches (highest fraction, then first)."""
    if response in (None, ""):
        return None
    typed = normalize_text(response, data.get("case_sensitive", False))
    best = None
    for answer in data.get("answers", []):
        if _pattern(answer["text"], data.get("case_sensitive", False)).match(typed):
            if best is None or answer["fraction"] > best["fraction"]:
                best = answer
    return best


def matching_numerical(data: dict, response: Any) -> dict | None:
    """The first numerical answer whose interval holds the response; else the "other" feedback, if any."""
    number = parse_number(response)
    if number is None:
        return None
    other = None
    for answer in data.get("answers", []):
        if answer.get("other"):
            other = other or answer
            continue
        if "min" in answer:
            low, high = answer["min"], answer["max"]
        else:
            low, high = answer["value"] - answer["tolerance"], answer["value"] + answer["tolerance"]
        if low - 1e-9 <= number <= high + 1e-9:
            return answer
    return other


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 7)


def grade(qtype: str, data: dict, response: Any) -> float | None:
    """The fraction of the mark the response earns (None: needs a person, or nothing to grade)."""
    if qtype in ("essay", "description"):
        return None
    if response is None or response == "" or response == [] or response == {}:
        return 0.0
    if qtype == "single":
        choice = next((c for c in data["choices"] if c["id"] == response), None)
        return _clamp(choice["fraction"]) if choice else 0.0
    if qtype == "multi":
        chosen = set(response) if isinstance(response, list) else {response}
        return _clamp(sum(c["fraction"] for c in data["choices"] if c["id"] in chosen))
    if qtype == "truefalse":
        if isinstance(response, str):
            response = {"true": True, "false": False}.get(response.lower())
        return 1.0 if response is data["correct"] else 0.0
    if qtype == "shortanswer":
        answer = matching_shortanswer(data, response)
        return _clamp(answer["fraction"]) if answer else 0.0
    if qtype == "numerical":
        answer = matching_numerical(data, response)
        return _clamp(answer["fraction"]) if answer else 0.0
    if qtype == "matching":
        pairs = [p for p in data["pairs"] if p["left"]]
        if not isinstance(response, dict) or not pairs:
            return 0.0
        right = sum(1 for p in pairs if response.get(p["id"]) == p["right_id"])
        return _clamp(right / len(pairs))
    raise ValueError(f"unknown question type {qtype}")


def feedback_for(qtype: str, data: dict, response: Any) -> list[str]:
    """The per-answer feedback the response earns."""
    if response in (None, "", [], {}):
        return []
    if qtype == "single":
        return [c["feedback"] for c in data["choices"] if c["id"] == response and c["feedback"]]
    if qtype == "multi":
        chosen = set(response) if isinstance(response, list) else {response}
        return [c["feedback"] for c in data["choices"] if c["id"] in chosen and c["feedback"]]
    if qtype == "truefalse":
        right = grade(qtype, data, response) == 1.0
        text = data.get("feedback_right") if right else data.get("feedback_wrong")
        return [text] if text else []
    if qtype == "shortanswer":
        answer = matching_shortanswer(data, response)
        return [answer["feedback"]] if answer and answer["feedback"] else []
    if qtype == "numerical":
        answer = matching_numerical(data, response)
        return [answer["feedback"]] if answer and answer["feedback"] else []
    return []


def right_answer_text(qtype: str, data: dict) -> str:
    """A human-readable right answer for review pages."""
    if qtype in ("single", "multi"):
        return "; ".join(c["text"] for c in data["choices"] if c["fraction"] > 0)
    if qtype == "truefalse":
        return "TRUE" if data["correct"] else "FALSE"
    if qtype == "shortanswer":
        return " / ".join(a["text"] for a in data["answers"] if a["fraction"] >= FULL_MARK)
    if qtype == "numerical":
        parts = []
        for a in data["answers"]:
            if a.get("other") or a["fraction"] < FULL_MARK:
                continue
            parts.append(f"{a['min']:g}–{a['max']:g}" if "min" in a else
                         (f"{a['value']:g} ± {a['tolerance']:g}" if a["tolerance"] else f"{a['value']:g}"))
        return " / ".join(parts)
    if qtype == "matching":
        return "; ".join(f"{p['left']} → {p['right']}" for p in data["pairs"] if p["left"])
    return ""


def clean_response(qtype: str, data: dict, raw: Any) -> Any:
    """Validate and normalise a submitted response; raises ValueError for a malformed one."""
    if raw is None:
        return None
    if qtype == "single":
        if raw == "":
            return None
        if raw not in {c["id"] for c in data["choices"]}:
            raise ValueError("unknown choice")
        return raw
    if qtype == "multi":
        values = raw if isinstance(raw, list) else [raw]
        ids = {c["id"] for c in data["choices"]}
        if any(v not in ids for v in values):
            raise ValueError("unknown choice")
        return sorted(set(values))
    if qtype == "truefalse":
        if isinstance(raw, bool):
            return raw
        value = {"true": True, "false": False, "": None}.get(str(raw).lower(), "bad")
        if value == "bad":
            raise ValueError("true or false")
        return value
    if qtype in ("shortanswer", "numerical", "essay"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise ValueError("text expected")
        text = str(raw)
        if len(text) > (20000 if qtype == "essay" else 500):
            raise ValueError("too long")
        return text
    if qtype == "matching":
        if not isinstance(raw, dict):
            raise ValueError("object expected")
        lefts = {p["id"] for p in data["pairs"] if p["left"]}
        rights = {p["right_id"] for p in data["pairs"]}
        clean = {}
        for key, value in raw.items():
            if key not in lefts or (value not in rights and value not in ("", None)):
                raise ValueError("unknown item")
            if value:
                clean[key] = value
        return clean
    if qtype == "description":
        return None
    raise ValueError("unknown type")
