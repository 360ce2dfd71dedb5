"""Every write route of the online school × every role (GET routes: tests/test_courses_matrix.py).

The course belongs to the home branch: its members study it, its secretary
(with organizers and admins) writes and assigns it; other branches' staff get
404 on it. Each role acts on a fresh target; a refused request leaves the
whole database as it was.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Course
from tests.helpers.permission_matrix import ROLES, PostCase, check_post_coverage, check_post_matrix, expect

BLUEPRINTS = {"courses", "courses_api"}
SLUG = "branch-study"
HOME_AUTHORS = expect(404, anonymous=302, home_sec=302, organizer=302, admin=302)
# members of the home branch study its course; accounts without a member profile cannot study
HOME_STUDENTS = expect(404, anonymous=302, member1=302, member2=302, home_sec=302, organizer=403, admin=403)
# secretaries elsewhere may author, but not for the home branch: its unit is not among their choices
API_STUDENTS = expect(404, anonymous=401, organizer=403, admin=403)
STAFF_ON_HOME = expect(403, anonymous=302, home_sec=302, host_sec=422, foreign_sec=422, organizer=302, admin=302)
_serial = itertools.count(1)


def _course() -> Course:
    return tk.db.session.scalar(tk.db.select(Course).where(Course.slug == SLUG))


def _fresh_lesson(org) -> dict:
    """A lesson every member account opened a minute ago, so that completing it is allowed where it is visible."""
    lesson = services.save_lesson(_course(), None, {"title_zh": f"第{next(_serial)}课", "body_zh": "正文", "min_seconds": "0"})
    for role in ROLES:
        member = getattr(org.accounts.get(role), "member", None)
        if member is not None:
            services.open_lesson(member, lesson, now=tk.utcnow() - timedelta(minutes=1))
    return {"slug": SLUG, "lesson_id": lesson.id}


def _lesson(_org) -> dict:
    return {"slug": SLUG, "lesson_id": _course().active_lessons[0].id}


def _comment_of_member2(org, hidden: bool = False) -> dict:
    comment = services.add_comment(org.member2, _course().active_lessons[0], "Useful lesson.")
    comment.hidden_at = tk.utcnow() if hidden else None
    return {"comment_id": comment.id}


def _course_form(org, _values: dict) -> dict:
    return {"slug": f"course-{next(_serial)}", "title_zh": "新课程", "category": "getting-started",
            "completion_rule": "all_lessons", "estimated_minutes": "30", "published": "y", "unit": str(org.home.id)}


def _assignment(org) -> dict:
    return {"assignment_id": services.create_assignment(_course(), org.home, tk.local_today() + timedelta(days=7)).id}


def _assignment_form(org, _values: dict) -> dict:
    return {"course": str(_course().id), "unit": str(org.home.id), "stage": "",
            "due_on": (tk.local_today() + timedelta(days=14)).isoformat(), "note": ""}


def _certificate(org) -> dict:
    course = services.save_course(None, {"slug": f"cert-{next(_serial)}", "title_zh": "证书课", "completion_rule": "all_lessons",
                                         "published": True, "grants_certificate": True}, org.home)
    return {"code": services.issue_certificate(org.member1, course).code}


CASES = [
    PostCase("courses.complete", HOME_STUDENTS, _fresh_lesson),
    PostCase("courses_api.complete", {**HOME_STUDENTS, **expect(200, anonymous=401, organizer=403, admin=403,
                                                                 outsider=404, host_sec=404, foreign_sec=404)},
             _fresh_lesson, json=True),
    # the heartbeat checks no lesson (cheap): any member's clock moves; credit lands only on lessons they opened
    PostCase("courses.reading", expect(204, anonymous=302, organizer=403, admin=403),
             lambda _org: {"lesson_id": _course().active_lessons[0].id}, {"state": "beat"}),
    PostCase("courses.post_comment", HOME_STUDENTS, _lesson, {"body": "I learned a lot."}),
    PostCase("courses.hide_comment", HOME_AUTHORS, _comment_of_member2, {"reason": "Off topic"}),
    PostCase("courses.show_comment", HOME_AUTHORS, lambda org: _comment_of_member2(org, hidden=True)),
    PostCase("courses.dismiss_reports", HOME_AUTHORS, _comment_of_member2),
    # members who see the course report others' comments; member2 wrote it: 403 on their own
    PostCase("courses.report_comment", {**HOME_STUDENTS, "member2": (403,)}, _comment_of_member2,
             {"reason": "off_topic", "note": "Not about the lesson"}),
    PostCase("courses.new_course", STAFF_ON_HOME, data=_course_form),
    PostCase("courses.edit_course", HOME_AUTHORS, lambda _org: {"slug": SLUG},
             lambda org, values: {**_course_form(org, values), "slug": SLUG}),
    PostCase("courses.new_lesson", HOME_AUTHORS, lambda _org: {"slug": SLUG}, {"title_zh": "新课", "body_zh": "正文"}),
    PostCase("courses.edit_lesson", HOME_AUTHORS, _lesson, {"title_zh": "改过的课", "body_zh": "正文"}),
    PostCase("courses.new_assignment", STAFF_ON_HOME, data=_assignment_form),
    PostCase("courses.cancel_assignment", HOME_AUTHORS, _assignment),
    PostCase("courses.revoke_certificate", expect(403, anonymous=302, admin=302), _certificate,
             {"reason": "Issued by mistake"}),
    # the API: the same rules, 401 without a login
    PostCase("courses_api.reading", expect(204, anonymous=401, organizer=403, admin=403),
             lambda _org: {"lesson_id": _course().active_lessons[0].id}, {"state": "beat"}, json=True),
    PostCase("courses_api.post_comment", API_STUDENTS | {role: (201,) for role in ("member1", "member2", "home_sec")},
             _lesson, {"body": "I learned a lot."}, json=True),
    PostCase("courses_api.report_comment", API_STUDENTS | {"member1": (201,), "member2": (403,), "home_sec": (201,)},
             _comment_of_member2, {"reason": "off_topic", "note": "Not about the lesson"}, json=True),
]


def test_every_courses_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_courses_post_matrix(app, db, org):
    course = services.save_course(None, {"slug": SLUG, "title_zh": "支部学习", "completion_rule": "all_lessons",
                                         "published": True}, org.home)
    services.save_lesson(course, None, {"title_zh": "第一课", "body_zh": "正文"})
    db.session.commit()
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9
