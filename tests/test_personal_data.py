"""Issue 13: "My data" (/me) reads as a page in the member's language; the JSON export is typed and self-describing."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.org import personal
from portal.plugins.types import PERSONAL_KINDS, PersonalSection
from portal_care import filing, workflow
from portal_courses import services as course_services
from portal_courses.models import Course
from portal_courses.sync import sync_directory
from portal_mobility import checkins, contacts, outflows
from portal_points import services as points_services
from portal_quizzes import services as quiz_services
from portal_quizzes.models import Attempt
from tests.conftest import login
from tests.test_quizzes_helpers import answer_all, make_quiz

ZH = {"Accept-Language": "zh-CN"}
#: A time late in the UTC evening: in Asia/Shanghai it is already the next day (a leap day, to be unmistakable).
LATE_UTC = datetime(2024, 2, 28, 20, 0)
#: Machine keys of the sections' columns; none may be shown as a header or label on the page.
MACHINE_KEYS = ("started_at", "submitted_at", "max_score", "quiz_passed_at", "completed_at", "last_opened_at",
                "issued_at", "revoked_at", "created_at", "updated_at", "contact_pref", "consent_host", "support_kind",
                "request_id", "destination_code", "expected_months", "old_values", "new_values", "contacted_on",
                "object_type", "object_id", "home_unit", "host_unit", "birth_date", "joined_on", "is_away",
                "lost_contact", "hide_from_public_boards", "requested_at", "identity_status", "return_summary")


@pytest.fixture
def member_with_everything(app, db, org):
    """member1 with records in courses, quizzes, points, care and mobility."""
    member = org.member1
    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "getting-started"))
    for lesson in course.active_lessons:
        course_services.open_lesson(member, lesson, now=tk.utcnow() - timedelta(minutes=30))
        course_services.complete_lesson(member, lesson, now=tk.utcnow() - timedelta(minutes=20))
    quiz = make_quiz(db)
    attempt, _new = quiz_services.start_attempt(quiz, member, tk.utcnow())
    answer_all(attempt, tk.utcnow())
    quiz_services.submit_attempt(attempt.id, tk.utcnow())
    db.session.get(Attempt, attempt.id).started_at = LATE_UTC
    points_services.award_manual(member, 5, "Helped a neighbour", account=org.home_sec)
    req = filing.file_request(member, {"category": "wages", "title": "Wages owed", "description": "6800 yuan",
                                       "where": "hometown", "consent_host": True}, filed_by=member.account,
                              now=tk.utcnow())
    workflow.add_comment(req, org.home_sec, "We will call you", now=tk.utcnow())
    outflow = outflows.register_outflow(member, {"destination_province": "广东省", "destination_city": "深圳市",
                                                 "start_date": "2025-01-01", "reason": "务工"})
    outflows.approve_outflow(outflow)
    member.host_unit_id = None
    checkins.confirm_checkin(checkins.request_checkin(member, org.host))
    contacts.log_contact(member, "call", tk.local_today(), "问候")
    db.session.commit()
    return member


def test_every_plugin_returns_typed_sections(member_with_everything):
    sections = personal.personal_sections(member_with_everything)
    assert all(isinstance(s, PersonalSection) for s in sections)
    keys = {s.key for s in sections if s.rows}
    assert {"profile", "activities", "courses.lessons", "quizzes.attempts", "points.entries", "care.requests",
            "care.comments", "mobility.outflows", "mobility.contacts"} <= keys
    assert all(c.kind in PERSONAL_KINDS for s in sections for c in s.columns)


def test_zh_page_has_labels_local_dates_and_no_raw_values(client, member_with_everything):
    login(client, "member1")
    page = client.get("/me", headers=ZH).get_data(as_text=True)
    body = page[page.index("<h1>"):]
    for key in MACHINE_KEYS:
        assert key not in body, key
    assert "{'" not in body and "':" not in body and "&#39;:" not in body  # no Python reprs
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body)  # no ISO timestamps
    assert "2024年2月29日" in body and "2024年2月28日" not in body  # the local day of a late-evening UTC time
    # a quiz answer shows the option's text, not its stored id
    assert "capital: Beijing" in body and re.search(r"pick: (activist; candidate|candidate; activist)<", body)
    assert "讨薪维权" in body  # the care category's label, not its code
    assert "True" not in body and "False" not in body and "None" not in body


def test_quiz_answers_show_option_text_not_ids(member_with_everything):
    attempts = next(s for s in personal.personal_sections(member_with_everything) if s.key == "quizzes.attempts")
    answers = attempts.rows[0]["answers"]
    assert answers["capital"] == "Beijing" and sorted(answers["pick"].split("; ")) == ["activist", "candidate"]
    assert not any(re.fullmatch(r"[0-9a-f]{8}(-\d+)?", text) for text in answers.values())


def test_export_is_machine_readable_and_matches_its_schema(client, member_with_everything):
    login(client, "member1")
    data = client.get("/me/export.json", headers=ZH).get_json()
    assert data["format"] == personal.EXPORT_FORMAT and data["account"]["username"] == "member1"
    assert set(data["sections"]) == set(data["schema"])
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")
    for key, rows in data["sections"].items():
        fields = data["schema"][key]["fields"]
        assert data["schema"][key]["title"]
        for name, spec in fields.items():
            assert spec["type"] in PERSONAL_KINDS and spec["label"], (key, name)
        for row in rows:
            assert set(row) == set(fields), key
            for name, value in row.items():
                if value is None:
                    continue
                kind = fields[name]["type"]
                if kind == "datetime":
                    assert iso.fullmatch(value), (key, name, value)
                elif kind == "date":
                    assert re.fullmatch(r"\d{4}-\d\d-\d\d", value), (key, name, value)
                elif kind == "number":
                    assert isinstance(value, (int, float)), (key, name, value)
                elif kind == "bool":
                    assert isinstance(value, bool), (key, name, value)
                elif kind == "choice":
                    assert str(value) in fields[name]["choices"], (key, name, value)
                elif kind == "lines":
                    assert isinstance(value, (dict, list)), (key, name, value)
                else:
                    assert isinstance(value, str), (key, name, value)
    attempt = data["sections"]["quizzes.attempts"][0]
    assert attempt["started_at"] == "2024-02-29T04:00:00+08:00" and attempt["state"] == "finished"
    assert data["schema"]["quizzes.attempts"]["fields"]["state"]["choices"]["finished"]
    assert data["sections"]["mobility.contacts"][0]["channel"] == "call"  # codes, not labels


def test_old_dict_shape_still_renders(app, client, org, db, monkeypatch):
    """A third-party plugin still returning ``{title: [dicts]}`` is shown with readable headers and formatted values."""
    real = personal.call_each

    def with_legacy(hook_name, **kwargs):
        results = real(hook_name, **kwargs)
        if hook_name == "portal_personal_data":
            results.append(("legacy", {"Old section": [{"created_at": LATE_UTC, "amount": Decimal("3.50"),
                                                        "done": True, "extras": {"a": 1}}]}))
        return results

    monkeypatch.setattr(personal, "call_each", with_legacy)
    section = next(s for s in personal.personal_sections(org.member1) if s.key == "legacy.Old section")
    assert [(c.key, str(c.label), c.kind) for c in section.columns] == [
        ("created_at", "Created at", "datetime"), ("amount", "Amount", "number"), ("done", "Done", "bool"),
        ("extras", "Extras", "lines")]
    login(client, "member1")
    page = client.get("/me").get_data(as_text=True)
    assert "Old section" in page and "created_at" not in page and "{&#39;" not in page and "a: 1" in page
    export = client.get("/me/export.json").get_json()
    assert export["sections"]["legacy.Old section"][0] == {
        "created_at": "2024-02-29T04:00:00+08:00", "amount": 3.5, "done": True, "extras": {"a": 1}}


def test_page_fits_a_narrow_screen(client, member_with_everything):
    """Tables sit in a scrolling container, long values wrap, the one-record profile is a label/value list."""
    login(client, "member1")
    page = client.get("/me", headers=ZH).get_data(as_text=True)
    assert page.count("<table") == page.count('<div class="table-wrap"><table')
    assert '<dl class="facts">' in page
    css = client.get("/static/portal.css").get_data(as_text=True)
    assert ".table-wrap{overflow-x:auto}" in css and "overflow-wrap:anywhere" in css
