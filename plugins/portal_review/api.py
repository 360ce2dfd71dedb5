"""Annual review JSON API under ``/api/v1/reviews`` (blueprint ``review_api``).

Secretaries open a round for a unit and year (a second → 409), list a unit's rounds, move a round's step,
read a member's evidence (audited when it is someone else's), record grades (the answer carries the
one-third check) and read the results. Members read their round and entry, write their self-assessment and
rate the others: rating is :func:`portal.toolkit.unrecorded_post` — no idempotency row, audit entry or
activity may name the rater. A round the caller may not see answers 404.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, request
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_review import evidence, grading, ratings, results, rounds, selfassess
from portal_review.models import GRADES, ROUND_STEPS, ReviewEntry, ReviewRound

bp = Blueprint("review_api", __name__, url_prefix="/api/v1/reviews")
db = tk.db

_DATE_FIELDS = rounds.DATE_FIELDS


def _caller_member() -> tk.Member:
    member = tk.current_account().member
    if member is None:
        raise tk.Forbidden(_("Only members can do this."))
    return member


def _entry_of(round_: ReviewRound, member_id: int) -> ReviewEntry | None:
    return db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                       ReviewEntry.member_id == member_id))


def _may_read_results(round_: ReviewRound, account) -> bool:
    return rounds.can_manage(round_, account) or tk.can("review.approve", round_.unit, account)


def _day(value) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def _round_json(round_: ReviewRound) -> dict:
    return {"id": round_.id, "unit_id": round_.unit_id, "year": round_.year, "status": round_.status}


def _round_detail(round_: ReviewRound) -> dict:
    return {**_round_json(round_), "unit": round_.unit.name, "held_with": round_.held_with,
            "dates": {name: _day(getattr(round_, name)) for name in _DATE_FIELDS}}


def _my_entry_json(round_: ReviewRound, entry: ReviewEntry) -> dict:
    """The caller's own entry: never a tally or any rating; grade and feedback only once reported."""
    member = entry.member
    reported = round_.status in ("reported", "closed")
    mine = {"member_id": entry.member_id, "self_text": entry.self_text,
            "self_saved_at": tk.isoformat(entry.self_saved_at),
            "self_submitted_at": tk.isoformat(entry.self_submitted_at),
            "grade": entry.grade if reported else None, "feedback": entry.feedback if reported else None}
    if round_.status == "mutual" and round_.ballot_secret:
        rated, of = ratings.progress(round_, member)
        mine["rated"], mine["to_rate"] = rated, of
    return mine


def _dates(data: dict) -> dict | None:
    """The optional ``dates`` object of a new round: ``{name: "YYYY-MM-DD"}`` (422 per bad field)."""
    raw = data.get("dates")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise tk.Invalid(_("Please correct the marked fields."), {"dates": _("Give the dates as an object.")})
    days, errors = {}, {}
    for name, value in raw.items():
        try:
            days[name] = date.fromisoformat(value) if value is not None else None
        except (TypeError, ValueError):
            errors[name] = _("Give a date as YYYY-MM-DD.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return days


@bp.post("/rounds")
@tk.api_login_required
def post_round():
    """Open a round for a unit and year (review.manage on the unit) → 201; a second one → 409."""
    data = tk.api_json()
    unit = db.session.get(tk.OrgUnit, tk.api_id(data.get("unit_id"), "unit_id"))
    if unit is None:
        raise tk.NotFound(_("Not found."))
    round_ = rounds.open_round(unit, data.get("year"), actor=tk.current_account(), dates=_dates(data))
    db.session.commit()
    return jsonify({**_round_detail(round_), "members": len(round_.entries)}), 201


@bp.get("/rounds")
@tk.api_login_required
def list_rounds():
    """A unit's rounds (of one year when ``year`` is given)."""
    raw, raw_year = request.args.get("unit", ""), request.args.get("year", "")
    errors = {}
    if not raw.isdigit() or int(raw) == 0:
        errors["unit"] = _("Enter a number.")
    if raw_year and not raw_year.isdigit():
        errors["year"] = _("Enter a number.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    unit = db.session.get(tk.OrgUnit, int(raw)) if int(raw) <= tk.MAX_ID else None
    account = tk.current_account()
    if unit is None or not (tk.can("review.manage", unit, account) or tk.can("review.approve", unit, account)):
        raise tk.NotFound(_("Not found."))
    found = rounds.rounds_for(unit, int(raw_year) if raw_year else None)
    return jsonify({"rounds": [_round_json(round_) for round_ in found]})


@bp.get("/me")
@tk.api_login_required
def me():
    """The caller's rounds (newest first), each with their own entry."""
    member = _caller_member()
    entries = db.session.scalars(select(ReviewEntry).join(ReviewRound).where(ReviewEntry.member_id == member.id)
                                 .order_by(ReviewRound.year.desc())).all()
    return jsonify({"rounds": [{**_round_detail(entry.round), "mine": _my_entry_json(entry.round, entry)}
                               for entry in entries]})


@bp.get("/rounds/<int:round_id>")
@tk.api_login_required
def get_round(round_id: int):
    """A round with its dates, and the caller's own entry when they are in it."""
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    entry = rounds.own_entry(round_, account)
    return jsonify({**_round_detail(round_), "mine": _my_entry_json(round_, entry) if entry else None})


@bp.post("/rounds/<int:round_id>/status")
@tk.api_login_required
def post_status(round_id: int):
    """Move a round one step forward (or a reported one to closed); 409 with ``missing`` when it may not."""
    data = tk.api_json()
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    status = data.get("status")
    if status not in ROUND_STEPS:
        raise tk.Invalid(_("Please correct the marked fields."), {"status": _("Choose one of the steps.")})
    rounds.move(round_, status, actor=account)
    db.session.commit()
    return jsonify(_round_json(round_))


@bp.put("/rounds/<int:round_id>/self")
@tk.api_login_required
def put_self(round_id: int):
    """The caller's self-assessment: a draft (``"submit": false``) or submitted; 409 once the step is past."""
    data = tk.api_json()
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    member = _caller_member()
    entry = _entry_of(round_, member.id)
    if entry is None:
        raise tk.NotFound(_("Not found."))
    text = data.get("text")
    if not isinstance(text, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"text": _("This field is required.")})
    if data.get("submit", False) is True:
        selfassess.submit(entry, text)
    else:
        selfassess.save_draft(entry, text, now=tk.utcnow())
    db.session.commit()
    return jsonify({"member_id": entry.member_id, "saved_at": tk.isoformat(entry.self_saved_at),
                    "submitted_at": tk.isoformat(entry.self_submitted_at)})


@bp.post("/rounds/<int:round_id>/ratings")
@tk.unrecorded_post
@tk.api_login_required
def post_rating(round_id: int):
    """Rate another member of one's round, anonymously → 201; a second rating of the same member replaces it."""
    data = tk.api_json()
    round_ = rounds.visible_round(round_id, tk.current_account())
    member = _caller_member()
    ratee_id = tk.api_id(data.get("member_id"), "member_id")
    ratings.rate(round_, member, ratee_id, data.get("rating"), data.get("comment", ""), today=tk.local_today())
    db.session.commit()
    rated, of = ratings.progress(round_, member)
    return jsonify({"member_id": ratee_id, "rating": data.get("rating"), "rated": rated, "of": of}), 201


@bp.get("/rounds/<int:round_id>/ratees")
@tk.api_login_required
def get_ratees(round_id: int):
    """The others of the caller's round to rate (the web's rate page): each with the caller's own rating so far
    (seen only by the caller, gone once the round closes), and "rated n of m"."""
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    member = _caller_member()
    entry = _entry_of(round_, member.id)
    if entry is None:
        raise tk.NotFound(_("Not found."))
    rated, of = ratings.progress(round_, member)
    mine = ratings.rated_ids(round_, member)
    return jsonify({"round_id": round_.id, "open": round_.status == "mutual", "rated": rated, "of": of,
                    "members": [{"member_id": other.member_id, "name": other.member.name,
                                 "rating": mine[other.member_id].rating if other.member_id in mine else None,
                                 "comment": mine[other.member_id].comment if other.member_id in mine else None}
                                for other in ratings.others(entry)]})


@bp.get("/year/<int:year>.pdf")
@tk.api_login_required
def year_pdf(year: int):
    """The caller's year in one document (年度纪实), as on the web's ``/review/year/<year>.pdf``."""
    member = _caller_member()
    today = tk.local_today()
    if not 2000 <= year <= today.year:
        raise tk.NotFound(_("Not found."))
    return tk.pdf_response(evidence.year_pdf(member, year, today),
                           _("Year record %(year)s %(name)s.pdf", year=year, name=member.name))


@bp.get("/rounds/<int:round_id>/members/<int:member_id>/evidence")
@tk.api_login_required
def get_evidence(round_id: int, member_id: int):
    """A member's evidence of the round's year (only the enabled plugins' keys); another's read is audited."""
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    entry = rounds.visible_entry(round_, member_id, account)
    return jsonify(evidence.collect(entry.member, round_.year, tk.local_today()))


@bp.put("/rounds/<int:round_id>/grades/<int:member_id>")
@tk.api_login_required
def put_grade(round_id: int, member_id: int):
    """Record the assembly's grade for a member → 200 with the one-third check (a warning when exceeded)."""
    data = tk.api_json()
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    entry = _entry_of(round_, tk.api_id(member_id, "member_id"))
    if entry is None:
        raise tk.NotFound(_("Not found."))
    reason = data.get("reason") or ""
    if not isinstance(reason, str):
        raise tk.Invalid(_("Please correct the marked fields."), {"reason": _("Enter text.")})
    decision = grading.decide(entry, data.get("grade"), actor=account, reason=reason)
    db.session.commit()
    return jsonify({"member_id": entry.member_id, "grade": entry.grade, "excellent": decision.excellent_count,
                    "full_members": decision.full_count, "exceeds_one_third": decision.exceeds_one_third,
                    "warning": grading.warning(decision)})


def _people(entries) -> list[dict]:
    return [{"member_id": entry.member_id, "name": entry.member.name} for entry in entries]


@bp.get("/rounds/<int:round_id>/results")
@tk.api_login_required
def get_results(round_id: int):
    """Counts per grade, the one-third check and who was graded excellent, unqualified or basic (managers)."""
    account = tk.current_account()
    round_ = rounds.visible_round(round_id, account)
    if not _may_read_results(round_, account):
        raise tk.NotFound(_("Not found."))
    found = results.results(round_)
    return jsonify({"counts": {grade: found.counts.get(grade, 0) for grade in GRADES},
                    "full_members": found.full_count, "exceeds_one_third": found.exceeds_one_third,
                    "excellent_reason": found.excellent_reason, "excellent": _people(found.excellent),
                    "unqualified": _people(found.unqualified), "basic": _people(found.basic)})


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_DAY = {"type": ["string", "null"], "format": "date"}
_ROUND = {"type": "object", "properties": {
    "id": {"type": "integer"}, "unit_id": {"type": "integer"}, "year": {"type": "integer"},
    "status": {"type": "string", "enum": list(ROUND_STEPS)}}}
_DETAIL = {"type": "object", "properties": {
    **_ROUND["properties"], "unit": {"type": "string"}, "held_with": {"type": "string"},
    "dates": {"type": "object", "properties": {name: _DAY for name in _DATE_FIELDS}}}}
_MINE = {"type": ["object", "null"], "properties": {
    "member_id": {"type": "integer"}, "self_text": {"type": "string"},
    "self_saved_at": {"type": ["string", "null"]}, "self_submitted_at": {"type": ["string", "null"]},
    "grade": {"type": ["string", "null"], "enum": [*GRADES, None]}, "feedback": {"type": ["string", "null"]},
    "rated": {"type": "integer"}, "to_rate": {"type": "integer"}}}
_PEOPLE = {"type": "array", "items": {"type": "object", "properties": {
    "member_id": {"type": "integer"}, "name": {"type": "string"}}}}
_ROUND_ID = [_path_id("round_id")]
_MEMBER = [_path_id("round_id"), _path_id("member_id")]

API_PATHS = {
    "/api/v1/reviews/rounds": {
        "post": {"summary": "Open a unit's review round for a year (review.manage); a second one is refused",
                 "tags": ["review"],
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["unit_id", "year"], "properties": {
                     "unit_id": {"type": "integer"}, "year": {"type": "integer"},
                     "dates": {"type": "object", "properties": {name: _DAY for name in _DATE_FIELDS}}}}),
                 "responses": tk.openapi_responses("403", "404", "409", "422", ok="201", schema=_DETAIL)},
        "get": {"summary": "A unit's review rounds (of one year when given)", "tags": ["review"],
                "parameters": [{"name": "unit", "in": "query", "required": True, "schema": {"type": "integer"}},
                               {"name": "year", "in": "query", "schema": {"type": "integer"}}],
                "responses": tk.openapi_responses("404", "422", schema={"type": "object", "properties": {
                    "rounds": {"type": "array", "items": _ROUND}}})},
    },
    "/api/v1/reviews/rounds/{round_id}/ratees": {
        "get": {"summary": "The others of one's round to rate, with one's own rating so far, and rated n of m",
                "tags": ["review"], "parameters": _ROUND_ID,
                "responses": tk.openapi_responses("403", "404", schema={"type": "object", "properties": {
                    "round_id": {"type": "integer"}, "open": {"type": "boolean"}, "rated": {"type": "integer"},
                    "of": {"type": "integer"}, "members": {"type": "array", "items": {"type": "object", "properties": {
                        "member_id": {"type": "integer"}, "name": {"type": "string"},
                        "rating": {"oneOf": [{"type": "string", "enum": list(GRADES)}, {"type": "null"}]},
                        "comment": {"oneOf": [{"type": "string"}, {"type": "null"}]}}}}}})},
    },
    "/api/v1/reviews/year/{year}.pdf": {
        "get": {"summary": "One's year in one document (年度纪实): the evidence and the grade once reported",
                "tags": ["review"], "parameters": [_path_id("year")],
                "responses": tk.openapi_responses("403", "404", description="PDF", content="application/pdf",
                                                  schema={"type": "string", "format": "binary"})},
    },
    "/api/v1/reviews/me": {
        "get": {"summary": "The caller's review rounds with their own entry (grade and feedback once reported)",
                "tags": ["review"], "responses": tk.openapi_responses("403", schema={"type": "object", "properties": {
                    "rounds": {"type": "array", "items": {"type": "object", "properties": {
                        **_DETAIL["properties"], "mine": _MINE}}}}})},
    },
    "/api/v1/reviews/rounds/{round_id}": {
        "get": {"summary": "A round with its steps' dates and the caller's own entry", "tags": ["review"],
                "parameters": _ROUND_ID, "responses": tk.openapi_responses("404", schema={"type": "object", "properties": {
                    **_DETAIL["properties"], "mine": _MINE}})},
    },
    "/api/v1/reviews/rounds/{round_id}/status": {
        "post": {"summary": "Move the round to its next step (a reported round may be closed)", "tags": ["review"],
                 "parameters": _ROUND_ID,
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["status"], "properties": {
                     "status": {"type": "string", "enum": list(ROUND_STEPS)}}}),
                 "responses": tk.openapi_responses("403", "404", "409", "422", schema=_ROUND)},
    },
    "/api/v1/reviews/rounds/{round_id}/self": {
        "put": {"summary": "Save or submit one's self-assessment", "tags": ["review"], "parameters": _ROUND_ID,
                "requestBody": tk.openapi_json_body({"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string"},
                    "submit": {"type": "boolean", "default": False}}}),
                "responses": tk.openapi_responses("403", "404", "409", "422", schema={"type": "object", "properties": {
                    "member_id": {"type": "integer"}, "saved_at": {"type": ["string", "null"]},
                    "submitted_at": {"type": ["string", "null"]}}})},
    },
    "/api/v1/reviews/rounds/{round_id}/ratings": {
        "post": {"summary": "Rate another member of one's round, anonymously (a second rating replaces the first)",
                 "tags": ["review"], "parameters": _ROUND_ID,
                 "requestBody": tk.openapi_json_body({"type": "object", "required": ["member_id", "rating"], "properties": {
                     "member_id": {"type": "integer"}, "rating": {"type": "string", "enum": list(GRADES)},
                     "comment": {"type": "string", "description": "at most comment_max_chars (500)"}}}),
                 "responses": tk.openapi_responses("403", "404", "409", "422", ok="201", schema={"type": "object", "properties": {
                     "member_id": {"type": "integer"}, "rating": {"type": "string"},
                     "rated": {"type": "integer"}, "of": {"type": "integer"}}})},
    },
    "/api/v1/reviews/rounds/{round_id}/members/{member_id}/evidence": {
        "get": {"summary": "A member's evidence of the round's year, one key per enabled plugin (audited)",
                "tags": ["review"], "parameters": _MEMBER,
                "responses": tk.openapi_responses("404", schema={"type": "object", "additionalProperties": True})},
    },
    "/api/v1/reviews/rounds/{round_id}/grades/{member_id}": {
        "put": {"summary": "Record the assembly's grade for a member, with the one-third check", "tags": ["review"],
                "parameters": _MEMBER,
                "requestBody": tk.openapi_json_body({"type": "object", "required": ["grade"], "properties": {
                    "grade": {"type": "string", "enum": list(GRADES)}, "reason": {"type": "string"}}}),
                "responses": tk.openapi_responses("403", "404", "409", "422", schema={"type": "object", "properties": {
                    "member_id": {"type": "integer"}, "grade": {"type": "string"},
                    "excellent": {"type": "integer"}, "full_members": {"type": "integer"},
                    "exceeds_one_third": {"type": "boolean"}, "warning": {"type": ["string", "null"]}}})},
    },
    "/api/v1/reviews/rounds/{round_id}/results": {
        "get": {"summary": "Counts per grade, the one-third check and the lists (never any rater)",
                "tags": ["review"], "parameters": _ROUND_ID,
                "responses": tk.openapi_responses("404", schema={"type": "object", "properties": {
                    "counts": {"type": "object", "properties": {grade: {"type": "integer"} for grade in GRADES}},
                    "full_members": {"type": "integer"}, "exceeds_one_third": {"type": "boolean"},
                    "excellent_reason": {"type": ["string", "null"]},
                    "excellent": _PEOPLE, "unqualified": _PEOPLE, "basic": _PEOPLE}})},
    },
}
