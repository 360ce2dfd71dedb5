"""Every GET route of the online school and of search, for every role (including a foreign secretary)."""
from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Certificate, Course
from portal_courses.sync import sync_directory
from tests.helpers.permission_matrix import admin_only, check_matrix, expect, logged_in, public

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
STAFF_ONLY = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200, admin=200)
HOME_AUTHORS = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)


def test_permission_matrix(app, db, org, tmp_path):
    sync_directory()
    folder = tmp_path / "illustrated"
    (folder / "images").mkdir(parents=True)
    (folder / "course.toml").write_text('slug = "illustrated"\n[title]\nen = "Illustrated"\n', encoding="utf-8")
    (folder / "01-map.md").write_text("# Map\n\n![map](images/map.png)\n", encoding="utf-8")
    (folder / "images" / "map.png").write_bytes(PNG)
    sync_directory(tmp_path)
    web = services.save_course(None, {"slug": "branch-study", "title_zh": "支部学习", "completion_rule": "all_lessons",
                                      "published": True}, org.home)
    lesson = services.save_lesson(web, None, {"title_zh": "第一课", "body_zh": "正文"})
    files_course = db.session.scalar(select(Course).where(Course.slug == "getting-started"))
    start = tk.utcnow() - timedelta(hours=2)
    for index, item in enumerate(files_course.active_lessons):
        services.open_lesson(org.member1, item, now=start + timedelta(minutes=10 * index))
        services.complete_lesson(org.member1, item, now=start + timedelta(minutes=10 * index + 5))
    assignment = services.create_assignment(files_course, org.home, tk.local_today() + timedelta(days=7))
    db.session.commit()
    cert = db.session.scalar(select(Certificate))
    first_lesson = files_course.active_lessons[0]

    expectations = {
        "courses.catalogue": logged_in(),
        "courses.course": logged_in(),
        "courses.lesson": logged_in(),
        "courses.course_file": logged_in(),
        "courses.manage": STAFF_ONLY,
        "courses.new_course": STAFF_ONLY,
        "courses.edit_course": HOME_AUTHORS,
        "courses.new_lesson": HOME_AUTHORS,
        "courses.edit_lesson": HOME_AUTHORS,
        "courses.assignments": STAFF_ONLY,
        "courses.moderation": STAFF_ONLY,  # per unit: tests/test_courses_moderation.py
        "courses.new_assignment": STAFF_ONLY,
        "courses.assignment": HOME_AUTHORS,
        "courses.assignment_export": HOME_AUTHORS,
        "courses.certificates": expect(200, anonymous=302, organizer=403, admin=403),
        "courses.certificate_pdf": expect(404, anonymous=302, member1=200, admin=200),
        "courses.verify_certificate": public(),
        "courses.manage_certificates": admin_only(),
        "courses_api.courses": expect(200, anonymous=401),
        "courses_api.course": expect(200, anonymous=401),
        "courses_api.lesson": expect(200, anonymous=401),
        "courses_api.lesson_comments": expect(200, anonymous=401),
        "courses_api.certificates": expect(200, anonymous=401, organizer=403, admin=403),
        "courses_api.certificate_pdf": expect(404, anonymous=401, member1=200, admin=200),
        "search.api_search": public(),
    }
    values = {
        "courses.course": {"slug": "getting-started"},
        "courses.lesson": {"slug": "getting-started", "lesson_id": first_lesson.id},
        "courses.course_file": {"slug": "illustrated", "filename": "images/map.png"},
        "courses.edit_course": {"slug": "branch-study"},
        "courses.new_lesson": {"slug": "branch-study"},
        "courses.edit_lesson": {"slug": "branch-study", "lesson_id": lesson.id},
        "courses.assignment": {"assignment_id": assignment.id},
        "courses.assignment_export": {"assignment_id": assignment.id},
        "courses.certificate_pdf": {"code": cert.code},
        "courses.verify_certificate": {"code": cert.code},
        "courses_api.course": {"slug": "getting-started"},
        "courses_api.lesson": {"lesson_id": first_lesson.id},
        "courses_api.lesson_comments": {"lesson_id": first_lesson.id},
        "courses_api.certificate_pdf": {"code": cert.code},
        "search.api_search": {"q": "党费"},
    }
    checked = check_matrix(app, org, expectations, blueprints={"courses", "courses_api", "search"}, url_values=values)
    assert checked == len(expectations) * 9


def test_branch_course_is_hidden_outside_its_branch(app, db, org):
    web = services.save_course(None, {"slug": "branch-only", "title_zh": "支部课程", "completion_rule": "all_lessons",
                                      "published": True}, org.home)
    services.save_lesson(web, None, {"title_zh": "第一课", "body_zh": "正文"})
    db.session.commit()
    expectations = {"courses.course": expect(404, anonymous=302, member1=200, member2=200, home_sec=200,
                                             organizer=200, admin=200)}
    from tests.helpers.permission_matrix import ROLES, _clients

    clients = _clients(app, org)
    for role in ROLES:
        status = clients[role].get("/courses/branch-only").status_code
        assert status in expectations["courses.course"][role], (role, status)
    assert "支部课程" not in clients["outsider"].get("/courses").get_data(as_text=True)
    assert "支部课程" in clients["member1"].get("/courses").get_data(as_text=True)
