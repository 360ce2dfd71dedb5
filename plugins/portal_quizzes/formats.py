"""Moodle's GIFT and Aiken question formats: our own parser and a round-tripping GIFT writer.

GIFT (https://docs.moodle.org/en/GIFT_format), as Moodle publishes it:

* questions are separated by blank lines; lines starting with ``//`` are
  comments (``// [id:X] [tag:Y]`` in a question's comments give its id number
  and tags, as Moodle's exporter writes them);
* ``$CATEGORY: path/to/category`` sets the category of the questions below it;
* ``::name::`` names a question; ``[markdown]``, ``[html]``, ``[plain]`` and
  ``[moodle]`` set the text format of the text they start;
* ``{...}`` holds the answers: ``=right ~wrong`` (multiple choice, ``~%50%``
  weights, negative ones too, and no ``=`` at all means several answers may be
  chosen), ``{=a =b}`` or ``{a}`` short answer, ``{T}``/``{TRUE}``/``{F}``/
  ``{FALSE}`` true/false with ``#wrong feedback#right feedback``,
  ``{=left -> right ...}`` matching, ``{#...}`` numerical (``3:0.5``
  tolerance, ``1..5`` range, ``=%50%…`` several answers, ``~#…`` feedback for
  any other number), ``{}`` essay; no braces at all is a description item;
* ``#feedback`` after an answer, ``####general feedback`` at the end;
* text before and after the braces makes a "missing word" question (``_____``);
* ``\\~ \\= \\# \\{ \\} \\: \\\\`` escape the special characters, ``\\n`` is a new line.

Aiken: the question text, options ``A.`` or ``A)``, then ``ANSWER: X``.

Where Moodle's importer (``question/format/gift/format.php``,
``question/format/aiken/format.php``) and ours differ, the difference is
deliberate and listed in the README's "Moodle compatibility" table.

Both parsers are all-or-nothing: they collect every problem as
:class:`FormatProblem` (``file:line: message``) and the caller imports nothing
when there is any.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from portal.toolkit import gettext as _

BLANK = "_____"

# Escaped characters become private-use characters while the structure is parsed.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004", "}": "\ue005", ":": "\ue006"}
_UNESCAPE = {v: k for k, v in _ESCAPES.items()}
_NEWLINE = "\ue007"
_UNESCAPE[_NEWLINE] = "\n"
_FORMAT_RE = re.compile(r"^\s*\[(moodle|html|plain|markdown)\]")
_WEIGHT_RE = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_META_RE = re.compile(r"\[(id|tag):((?:\\.|[^\]\\])*)\]")


class FormatError(Exception):
    """Raised with every problem of a file; nothing of it may be imported."""

    def __init__(self, problems: list["FormatProblem"]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class FormatProblem:
    filename: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}: {self.message}"


@dataclass
class ParsedQuestion:
    """A question as a format describes it (independent of the database)."""

    qtype: str
    name: str
    text: str
    text_format: str = "moodle"
    general_feedback: str = ""
    data: dict = field(default_factory=dict)
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    idnumber: str = ""
    line: int = 0

    def comparable(self) -> dict[str, Any]:
        """Everything but the line number (for round-trip comparisons)."""
        return {"qtype": self.qtype, "name": self.name, "text": self.text, "text_format": self.text_format,
                "general_feedback": self.general_feedback, "data": self.data, "category": self.category,
                "tags": self.tags, "idnumber": self.idnumber}

    def fingerprint(self) -> str:
        """A hash of the content, so an unchanged re-import can be recognised."""
        import json

        body = json.dumps(self.comparable(), sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(body.encode()).hexdigest()[:32]


class _Problem(Exception):
    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


def stable_id(text: str, taken: set[str]) -> str:
    """A short id derived from ``text`` (so corrected questions keep their choice ids), unique in ``taken``."""
    base = hashlib.sha1(text.strip().encode()).hexdigest()[:8]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


_NAME_LENGTH = 80


def default_name(text: str) -> str:
    """Moodle's default question name: the text without tags, at most 80 characters.

    Like Moodle's ``shorten_text(text, 80)``, a longer text is cut at the last
    space before 77 characters (exactly there when it has no space, as Chinese
    text has none) and ``...`` is appended.
    """
    flat = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    if len(flat) <= _NAME_LENGTH:
        return flat
    cut = flat[:_NAME_LENGTH - 3]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + "..."


# ---------------------------------------------------------------------------
# GIFT parsing
# ---------------------------------------------------------------------------

def _escape_structure(text: str) -> str:
    """Replace ``\\x`` escapes by private characters (``\\n`` by a newline marker)."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "n":
                out.append(_NEWLINE)
                i += 2
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _unescape(text: str) -> str:
    return "".join(_UNESCAPE.get(c, c) for c in text)


def _text_with_format(raw: str, default: str) -> tuple[str, str]:
    match = _FORMAT_RE.match(raw)
    if match:
        return _unescape(raw[match.end():].strip()), match.group(1)
    return _unescape(raw.strip()), default


def _blocks(source: str):
    """Yield ``(first line number, lines, comment lines)`` per blank-line separated block."""
    block: list[str] = []
    comments: list[str] = []
    start = 0
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            if block:
                yield start, block, comments
            block, comments = [], []
            continue
        if not block:
            start = number
        if stripped.startswith("//"):
            comments.append(stripped[2:])
            block.append("")  # keep the line count for error positions
            continue
        block.append(stripped)  # Moodle's file import trims every line, indentation included
    if block:
        yield start, block, comments


def parse_gift(source: str, filename: str = "<gift>", category: tuple[str, ...] = ()) -> list[ParsedQuestion]:
    """Parse a whole GIFT file; raises :class:`FormatError` listing every problem."""
    if source.startswith("\ufeff"):
        source = source[1:]
    questions: list[ParsedQuestion] = []
    problems: list[FormatProblem] = []
    current_category = tuple(category)
    for start, lines, comments in _blocks(source):
        text = "\n".join(lines)
        if not text.strip():
            continue  # only comments
        first = _first_content_line(lines)
        if lines[first].strip().startswith("$CATEGORY:"):
            path = parse_category_path(lines[first].strip()[len("$CATEGORY:"):].strip())
            current_category = tuple(category) + path
            lines = [*lines[:first], "", *lines[first + 1:]]
            text = "\n".join(lines)
            if not text.strip():
                continue
        try:
            question = _parse_block(text, comments)
        except _Problem as problem:
            offset_line = text[:problem.offset].count("\n") if problem.offset is not None else _first_content_line(lines)
            problems.append(FormatProblem(filename, start + offset_line, problem.message))
            continue
        question.line = start + _first_content_line(lines)
        question.category = current_category
        questions.append(question)
    if problems:
        raise FormatError(problems)
    if not questions:
        raise FormatError([FormatProblem(filename, 1, _("The file holds no questions."))])
    return questions


def _first_content_line(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if line.strip():
            return index
    return 0


def parse_category_path(raw: str) -> tuple[str, ...]:
    """``$course$/top/A/B`` → ``("A", "B")``; ``//`` is a literal slash inside a name."""
    raw = raw.replace("//", "\ue010")
    parts = [p.replace("\ue010", "/").strip() for p in raw.split("/")]
    parts = [p for p in parts if p]
    while parts and parts[0].startswith("$") and parts[0].endswith("$"):
        parts.pop(0)
    if parts and parts[0].lower() == "top":
        parts.pop(0)
    return tuple(parts)


def _meta(comments: list[str]) -> tuple[str, tuple[str, ...]]:
    idnumber, tags = "", []
    for comment in comments:
        for kind, value in _META_RE.findall(comment):
            value = re.sub(r"\\(.)", r"\1", value).strip()
            if kind == "id" and not idnumber:
                idnumber = value
            elif kind == "tag" and value and value not in tags:
                tags.append(value)
    return idnumber, tuple(tags)


def _parse_block(raw: str, comments: list[str]) -> ParsedQuestion:
    text = _escape_structure(raw)
    offset = 0
    name = ""
    lead = len(text) - len(text.lstrip())
    if text[lead:].startswith("::"):
        end = text.find("::", lead + 2)
        if end < 0:
            raise _Problem(_("The question name is not closed with \"::\"."), lead)
        name = _unescape(text[lead + 2:end]).strip()
        offset = end + 2
    body = text[offset:]
    open_at = body.find("{")
    close_at = body.find("}")
    idnumber, tags = _meta(comments)
    if open_at < 0:
        if close_at >= 0:
            raise _Problem(_("A \"}\" without an opening \"{\" (escape it as \\} if it is text)."), offset + close_at)
        question_text, text_format = _text_with_format(body, "moodle")
        if not question_text:
            raise _Problem(_("The question has no text."), offset)
        return ParsedQuestion("description", name or default_name(question_text), question_text, text_format,
                              idnumber=idnumber, tags=tags)
    close_at = body.find("}", open_at)
    if close_at < 0:
        raise _Problem(_("The answers are not closed with \"}\"."), offset + open_at)
    before, answers, after = body[:open_at], body[open_at + 1:close_at], body[close_at + 1:]
    if "{" in after or "}" in after:
        where = offset + close_at + 1 + min(i for i in (after.find("{"), after.find("}")) if i >= 0)
        raise _Problem(_("A question has one answer block; leave a blank line between questions or escape the brace."),
                       where)
    if "}" in before:
        raise _Problem(_("A \"}\" before the answers (escape it as \\} if it is text)."), offset + before.find("}"))
    answer_offset = offset + open_at + 1
    if after.strip():
        question_raw = before + BLANK + after  # the "missing word" gap, spacing as written
    else:
        question_raw = before
    question_text, text_format = _text_with_format(question_raw, "moodle")
    if not question_text:
        raise _Problem(_("The question has no text."), offset)
    general_feedback = ""
    marker = answers.rfind("####")  # the last one, as Moodle
    if marker >= 0:
        general_feedback = _text_with_format(answers[marker + 4:], text_format)[0]
        answers = answers[:marker]
    qtype, data = _parse_answers(answers, text_format, answer_offset)
    return ParsedQuestion(qtype, name or default_name(question_text), question_text, text_format, general_feedback,
                          data, idnumber=idnumber, tags=tags)


def _split_items(answers: str, markers: str, base: int) -> list[tuple[str, str, int]]:
    """Split ``=a ~b`` into ``[(marker, text, offset)]``; text before the first marker is an error."""
    items: list[tuple[str, str, int]] = []
    positions = [i for i, c in enumerate(answers) if c in markers]
    if not positions:
        return items
    if answers[:positions[0]].strip():
        raise _Problem(_("Text before the first answer: start every answer with = or ~."), base)
    for index, pos in enumerate(positions):
        end = positions[index + 1] if index + 1 < len(positions) else len(answers)
        items.append((answers[pos], answers[pos + 1:end], base + pos))
    return items


def _weight(text: str, offset: int) -> tuple[float | None, str]:
    match = _WEIGHT_RE.match(text)
    if match is None:
        if text.lstrip().startswith("%"):
            raise _Problem(_("A weight must look like %50% or %-25%."), offset)
        return None, text
    value = float(match.group(1))
    if not -100 <= value <= 100:
        raise _Problem(_("The weight %(weight)s%% is outside -100%% to 100%%.", weight=match.group(1)), offset)
    return round(value / 100.0, 7), text[match.end():]


def _feedback(text: str, fmt: str) -> tuple[str, str]:
    """Split ``answer #feedback`` (the first unescaped # starts the feedback).

    Both parts may start with a format marker such as ``[html]``; Moodle keeps
    it as that part's format, we drop it (see the README's compatibility table).
    """
    pos = text.find("#")
    if pos < 0:
        return _text_with_format(text, fmt)[0], ""
    return _text_with_format(text[:pos], fmt)[0], _text_with_format(text[pos + 1:], fmt)[0]


def _parse_answers(answers: str, fmt: str, base: int) -> tuple[str, dict]:
    stripped = answers.strip()
    lead = len(answers) - len(answers.lstrip())
    if not stripped:
        return "essay", {}
    if stripped.startswith("#"):
        return "numerical", _parse_numerical(stripped[1:], fmt, base + lead + 1)
    if "~" in stripped:
        return _parse_choice(answers, fmt, base)
    if "=" in stripped and "->" in stripped:
        return "matching", _parse_matching(answers, base)
    head = stripped.split("#", 1)[0].strip()
    if head in ("T", "TRUE", "F", "FALSE"):
        parts = stripped.split("#")
        if len(parts) > 3:
            raise _Problem(_("True/false takes at most two feedbacks: {T#wrong answer feedback#right answer feedback}."),
                           base + lead)
        wrong = _text_with_format(parts[1], fmt)[0] if len(parts) > 1 else ""
        right = _text_with_format(parts[2], fmt)[0] if len(parts) > 2 else ""
        return "truefalse", {"correct": head in ("T", "TRUE"), "feedback_wrong": wrong, "feedback_right": right}
    return "shortanswer", _parse_short(answers, fmt, base)


def _parse_choice(answers: str, fmt: str, base: int) -> tuple[str, dict]:
    items = _split_items(answers, "=~", base)
    single = any(marker == "=" for marker, _t, _o in items)
    choices, taken = [], set()
    for marker, body, offset in items:
        weight, body = _weight(body, offset)
        text, feedback = _feedback(body, fmt)
        if not text:
            raise _Problem(_("An answer is empty."), offset)
        if weight is None:
            weight = 1.0 if marker == "=" else 0.0
        choices.append({"id": stable_id(text, taken), "text": text, "fraction": weight, "feedback": feedback})
    if len(choices) < 2:
        raise _Problem(_("A multiple choice question needs at least two answers."), base)
    if not any(c["fraction"] > 0 for c in choices):
        raise _Problem(_("No answer is marked right: use = or a positive weight such as ~%50%."), base)
    return ("single" if single else "multi"), {"choices": choices}


def _equals_items(answers: str, base: int) -> list[tuple[str, str, int]]:
    """Split ``=a =b`` like :func:`_split_items`, but text before the first ``=`` is an answer too (Moodle)."""
    if answers.strip().startswith("=") or not answers.strip():
        return _split_items(answers, "=", base)
    lead = len(answers) - len(answers.lstrip())
    first_eq = answers.find("=")
    end = first_eq if first_eq >= 0 else len(answers)
    items = [("=", answers[:end], base + lead)]
    if first_eq >= 0:
        items += _split_items(answers[first_eq:], "=", base + first_eq)
    return items


def _parse_short(answers: str, fmt: str, base: int) -> dict:
    items = _equals_items(answers, base)
    accepted, taken = [], set()
    for _marker, body, offset in items:
        weight, body = _weight(body, offset)
        text, feedback = _feedback(body, fmt)
        if not text:
            raise _Problem(_("An answer is empty."), offset)
        accepted.append({"id": stable_id(text, taken), "text": text,
                         "fraction": 1.0 if weight is None else weight, "feedback": feedback})
    if not any(a["fraction"] > 0 for a in accepted):
        raise _Problem(_("No answer is marked right: use = or a positive weight such as ~%50%."), base)
    return {"answers": accepted, "case_sensitive": False}


def _parse_matching(answers: str, base: int) -> dict:
    items = _split_items(answers, "=", base)
    pairs, left_taken, right_taken = [], set(), set()
    right_ids: dict[str, str] = {}
    for _marker, body, offset in items:
        if "->" not in body:
            raise _Problem(_("Each matching item needs \"->\" between the item and its match."), offset)
        if _WEIGHT_RE.match(body) or "#" in body:
            raise _Problem(_("Matching questions take neither weights nor feedback."), offset)
        left, right = body.split("->", 1)
        left, right = _text_with_format(left, "moodle")[0], _unescape(right.strip())
        if not right:
            raise _Problem(_("A matching item has nothing to match."), offset)
        if right not in right_ids:
            right_ids[right] = stable_id(right, right_taken)
        pairs.append({"id": stable_id(left, left_taken) if left else "", "left": left, "right": right,
                      "right_id": right_ids[right]})
    if sum(1 for p in pairs if p["left"]) < 2:
        raise _Problem(_("A matching question needs at least two pairs."), base)
    return {"pairs": pairs}


def _number(text: str, offset: int) -> float:
    text = text.strip()
    if not _NUMBER_RE.match(text):
        raise _Problem(_("\"%(value)s\" is not a number.", value=_unescape(text)), offset)
    value = float(text)
    if not math.isfinite(value):
        raise _Problem(_("\"%(value)s\" is not a number.", value=text), offset)
    return value


def _numeric_answer(body: str, offset: int) -> dict:
    """``3``, ``3:0.5`` or ``1..5`` (``:`` may be escaped or not; both mean tolerance here)."""
    body = body.replace(_ESCAPES[":"], ":").strip()
    if ".." in body:
        low, high = body.split("..", 1)
        low_v, high_v = _number(low, offset), _number(high, offset)
        if low_v > high_v:
            raise _Problem(_("The range %(low)s..%(high)s is empty.", low=low.strip(), high=high.strip()), offset)
        return {"min": low_v, "max": high_v}
    if ":" in body:
        value, tolerance = body.split(":", 1)
        tol = _number(tolerance, offset)
        if tol < 0:
            raise _Problem(_("A tolerance cannot be negative."), offset)
        return {"value": _number(value, offset), "tolerance": tol}
    return {"value": _number(body, offset), "tolerance": 0.0}


def _parse_numerical(answers: str, fmt: str, base: int) -> dict:
    """``=`` answers (the first ``=`` may be left out), then ``~#feedback`` for any other number."""
    result = []
    tilde = answers.find("~")
    numbers, others = (answers, "") if tilde < 0 else (answers[:tilde], answers[tilde:])
    for _marker, body, offset in _equals_items(numbers, base):
        weight, body = _weight(body, offset)
        value, feedback = _split_feedback_raw(body)
        item = _numeric_answer(value, offset)
        item.update(fraction=1.0 if weight is None else weight,
                    feedback=_text_with_format(feedback, fmt)[0] if feedback is not None else "")
        result.append(item)
    for _marker, body, offset in _split_items(others, "~", base + max(tilde, 0)):
        value, feedback = _split_feedback_raw(body)
        if value.strip():
            raise _Problem(_("In a numerical question ~ only carries feedback for other numbers: ~#feedback."), offset)
        result.append({"other": True, "fraction": 0.0,
                       "feedback": _text_with_format(feedback, fmt)[0] if feedback is not None else ""})
    if not any(a["fraction"] > 0 and not a.get("other") for a in result):
        raise _Problem(_("A numerical question needs at least one right answer."), base)
    return {"answers": result}


def _split_feedback_raw(body: str) -> tuple[str, str | None]:
    pos = body.find("#")
    return (body, None) if pos < 0 else (body[:pos], body[pos + 1:])


# ---------------------------------------------------------------------------
# GIFT writing
# ---------------------------------------------------------------------------

def escape_gift(text: str) -> str:
    """Escape every special character so the text reads back unchanged."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


def _fmt_number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def _weight_text(fraction: float) -> str:
    return f"%{_fmt_number(round(fraction * 100, 5))}%"


def _guarded(text: str) -> str:
    """Escaped text; a text that itself starts like ``[html]`` gets an explicit marker so it reads back unchanged."""
    return ("[moodle]" if _FORMAT_RE.match(text) else "") + escape_gift(text)


def _with_feedback(text: str, feedback: str) -> str:
    return text + (f" #{_guarded(feedback)}" if feedback else "")


def export_gift(questions: list[ParsedQuestion]) -> str:
    """GIFT text for ``questions``; :func:`parse_gift` of it gives the same questions back."""
    chunks: list[str] = []
    category: tuple[str, ...] | None = None
    for q in questions:
        if q.category != category and (q.category or category is not None):
            category = q.category
            path = "/".join(part.replace("/", "//") for part in ("top", *q.category))
            chunks.append(f"$CATEGORY: $course$/{path}\n")
        comments = []
        if q.idnumber or q.tags:
            meta = ([f"[id:{_meta_escape(q.idnumber)}]"] if q.idnumber else []) + [f"[tag:{_meta_escape(t)}]" for t in q.tags]
            comments.append("// " + " ".join(meta))
        head = f"::{escape_gift(q.name)}::" if q.name else ""
        fmt = f"[{q.text_format}]" if q.text_format != "moodle" or _FORMAT_RE.match(q.text) else ""
        answers = _answer_block(q)
        general = f"####{_guarded(q.general_feedback)}" if q.general_feedback else ""
        if q.qtype == "description":
            body = head + fmt + escape_gift(q.text)
        elif BLANK in q.text and q.text.count(BLANK) == 1 and q.qtype != "essay":
            before, after = q.text.split(BLANK)
            body = head + fmt + escape_gift(before) + "{" + answers + general + "}" + escape_gift(after)
            if not after.strip():
                body = head + fmt + escape_gift(q.text) + " {" + answers + general + "}"
        else:
            body = head + fmt + escape_gift(q.text) + " {" + answers + general + "}"
        chunks.append("\n".join([*comments, body]) + "\n")
    return "\n".join(chunks)


def _meta_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("]", "\\]")


def _answer_block(q: ParsedQuestion) -> str:
    d = q.data
    if q.qtype in ("essay", "description"):
        return ""
    if q.qtype in ("single", "multi"):
        parts = []
        has_right = any(c["fraction"] == 1.0 for c in d["choices"])
        for index, c in enumerate(d["choices"]):
            if q.qtype == "single" and c["fraction"] == 1.0:
                prefix = "="
            elif q.qtype == "single" and not has_right and index == 0:
                prefix = "=" + _weight_text(c["fraction"])  # a single-answer question needs one "="
            elif q.qtype == "single" and c["fraction"] == 0.0:
                prefix = "~"
            else:
                prefix = "~" + _weight_text(c["fraction"])
            parts.append(_with_feedback(prefix + _guarded(c["text"]), c["feedback"]))
        return "\n" + "\n".join(parts) + "\n"
    if q.qtype == "truefalse":
        out = "TRUE" if d["correct"] else "FALSE"
        if d.get("feedback_wrong") or d.get("feedback_right"):
            out += "#" + _guarded(d.get("feedback_wrong", ""))
            if d.get("feedback_right"):
                out += "#" + _guarded(d["feedback_right"])
        return out
    if q.qtype == "shortanswer":
        parts = []
        for a in d["answers"]:
            prefix = "=" if a["fraction"] == 1.0 else "=" + _weight_text(a["fraction"])
            parts.append(_with_feedback(prefix + _guarded(a["text"]), a["feedback"]))
        return " ".join(parts)
    if q.qtype == "matching":
        return "\n" + "\n".join(f"={_guarded(p['left'])} -> {escape_gift(p['right'])}" for p in d["pairs"]) + "\n"
    if q.qtype == "numerical":
        parts = []
        for a in d["answers"]:
            if a.get("other"):
                parts.append("~#" + _guarded(a["feedback"]) if a["feedback"] else "~")
                continue
            if "min" in a:
                value = f"{_fmt_number(a['min'])}..{_fmt_number(a['max'])}"
            else:
                value = _fmt_number(a["value"]) + (f":{_fmt_number(a['tolerance'])}" if a["tolerance"] else "")
            prefix = "=" if a["fraction"] == 1.0 else "=" + _weight_text(a["fraction"])
            parts.append(_with_feedback(prefix + value, a["feedback"]))
        return "#\n" + "\n".join(parts) + "\n"
    raise ValueError(f"unknown question type {q.qtype}")


# ---------------------------------------------------------------------------
# Aiken
# ---------------------------------------------------------------------------

_AIKEN_OPTION = re.compile(r"^([A-Z])[.)][ \t]*(.*)$")  # Moodle accepts "A)text" without the space
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*(.*)$")


@dataclass
class _AikenQuestion:
    start: int
    text_lines: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)
    gap: bool = False  # a blank line since the last line of the question


def parse_aiken(source: str, filename: str = "<aiken>", category: tuple[str, ...] = ()) -> list[ParsedQuestion]:
    """Parse an Aiken file (single-answer multiple choice); raises :class:`FormatError`.

    As in Moodle, blank lines may stand anywhere inside a question and an
    option may follow its letter without a space; an option or ``ANSWER:``
    outside a question, a question with fewer than two options and a question
    left open when the next one starts are errors.  Unlike Moodle, consecutive
    text lines (no blank line between them) make one multi-line question text.
    """
    if source.startswith("\ufeff"):
        source = source[1:]
    questions: list[ParsedQuestion] = []
    problems: list[FormatProblem] = []
    current: _AikenQuestion | None = None

    def problem(number: int, message: str) -> None:
        problems.append(FormatProblem(filename, number, message))

    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        if not line:
            if current is not None:
                current.gap = True
            continue
        answer, option = _AIKEN_ANSWER.match(line), _AIKEN_OPTION.match(line)
        if answer or option:
            if current is None:
                problem(number, _("An option or ANSWER: line before any question text."))
            elif answer:
                question = _aiken_question(current, answer.group(1)[:1], number, problem, category)
                if question is not None:
                    questions.append(question)
                current = None
            else:
                _aiken_option(current, option.group(1), option.group(2).strip(), number, problem)
            continue
        if current is not None and (current.options or current.gap):
            problem(number, _("The question above has no ANSWER: line before the next question starts."))
            current = None
        if current is None:
            current = _AikenQuestion(number, [])
        current.text_lines.append(line)
    if current is not None:
        problem(current.start, _("The last question has no ANSWER: line."))
    if problems:
        raise FormatError(problems)
    if not questions:
        raise FormatError([FormatProblem(filename, 1, _("The file holds no questions."))])
    return questions


_Report = Callable[[int, str], None]


def _aiken_option(current: _AikenQuestion, letter: str, text: str, number: int, problem: _Report) -> None:
    expected = chr(ord("A") + len(current.options))
    if letter != expected:
        problem(number, _("Expected option %(letter)s here.", letter=expected))
    current.options.append((letter, text))


def _aiken_question(current: _AikenQuestion, letter: str, number: int, problem: _Report,
                    category: tuple[str, ...]) -> ParsedQuestion | None:
    if len(current.options) < 2:
        problem(number, _("A question needs at least two options (A. … B. …)."))
        return None
    if letter not in [key for key, _text in current.options]:
        problem(number, _("The answer %(letter)s is not one of the options.", letter=letter or "?"))
        return None
    taken: set[str] = set()
    text = "\n".join(current.text_lines)
    choices = [{"id": stable_id(t, taken), "text": t, "fraction": 1.0 if key == letter else 0.0, "feedback": ""}
               for key, t in current.options]
    return ParsedQuestion("single", default_name(text), text, "plain", data={"choices": choices},
                          category=tuple(category), line=current.start)


# A GB18030 reading is believed only when most non-ASCII characters are common
# Chinese (GB2312: hanzi, Chinese punctuation, full-width forms); bytes of other
# single-byte encodings, such as Windows-1252's é ü “ ”, decode to rare
# characters outside GB2312 or do not decode at all.
_CHINESE_SHARE = 0.9


def _plausibly_chinese(text: str) -> bool:
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return False
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 1
    return common / len(wide) >= _CHINESE_SHARE


def decode_text(raw: bytes, filename: str) -> str:
    """The text of an uploaded file: UTF-8 (with or without BOM), or GB18030 when that reads as Chinese.

    Anything else is refused (Moodle also imports UTF-8 only) rather than
    decoded into mojibake.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text and _plausibly_chinese(text):
        return text
    raise FormatError([FormatProblem(filename, 1, _(
        "The file is neither UTF-8 nor Chinese (GB18030) text; it may have been saved as Windows-1252 or another "
        "encoding. Save it as UTF-8 and upload it again."))])


def parse(source: str, fmt: str, filename: str, category: tuple[str, ...] = ()) -> list[ParsedQuestion]:
    """Parse ``source`` as ``gift`` or ``aiken``."""
    if fmt == "gift":
        return parse_gift(source, filename, category)
    if fmt == "aiken":
        return parse_aiken(source, filename, category)
    raise ValueError(fmt)
