"""Assigned learning: targets, member dashboard, per-member and per-unit report, xlsx, overdue flags."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Assignment, Course
from portal_courses.sync import sync_directory
from tests.conftest import login


@pytest.fixture
def course(app, db):
    sync_directory()
    return db.session.scalar(select(Course).where(Course.slug == "staying-connected"))


def finish(member, course):
    start = tk.utcnow() - timedelta(hours=3)
    for index, lesson in enumerate(course.active_lessons):
        services.open_lesson(member, lesson, now=start + timedelta(minutes=10 * index))
        services.complete_lesson(member, lesson, now=start + timedelta(minutes=10 * index + 5))
    tk.record_activity(member, "quiz.passed", "quiz", 1, extras={"course": course.slug})
    tk.db.session.commit()


def test_assign_through_the_form_notifies_members(course, client, org):
    login(client, "home-secretary")
    bad = client.post("/courses/assignments/new", data={"course": course.id, "unit": org.home.id, "stage": "",
                                                        "due_on": "2001-01-01"})
    assert bad.status_code == 422 and "past" in bad.get_data(as_text=True)
    assert tk.db.session.scalar(select(Assignment)) is None
    foreign = client.post("/courses/assignments/new", data={"course": course.id, "unit": org.foreign.id, "stage": "",
                                                            "due_on": (tk.local_today() + timedelta(days=9)).isoformat()})
    assert foreign.status_code == 422  # not a unit of theirs: not among the choices
    ok = client.post("/courses/assignments/new", data={"course": course.id, "unit": org.home.id, "stage": "",
                                                       "due_on": (tk.local_today() + timedelta(days=9)).isoformat()})
    assert ok.status_code == 302
    from portal.notify.models import Notification

    notified = set(tk.db.session.scalars(select(Notification.account_id).where(Notification.kind == "courses.assigned")))
    assert notified == {org.member1.account_id, org.member2.account_id, org.home_sec.id}


def test_report_per_member_and_unit_with_overdue(course, org):
    assignment = services.create_assignment(course, org.root, tk.local_today() + timedelta(days=5), account=org.organizer)
    tk.db.session.commit()
    finish(org.member1, course)
    services.open_lesson(org.member2, course.active_lessons[0])
    rows, per_unit = services.assignment_report(assignment)
    by_name = {r.member.name: r for r in rows}
    assert set(by_name) == {"张伟", "李芳", "王强", "home-secretary", "host-secretary", "foreign-secretary"}
    assert by_name["张伟"].status == "completed" and by_name["李芳"].status == "not_started"
    assert not any(r.overdue for r in rows)
    later = tk.utcnow() + timedelta(days=6)
    rows, per_unit = services.assignment_report(assignment, now=later)
    assert {r.member.name for r in rows if r.overdue} == set(by_name) - {"张伟"}
    home = next(u for u in per_unit if u["unit"].id == org.home.id)
    assert (home["total"], home["completed"], home["overdue"], home["percent"]) == (3, 1, 2, 33)


def test_stage_targets_and_member_dashboard(course, org, client):
    org.member2.stage = "activist"
    tk.db.session.commit()
    assignment = services.create_assignment(course, org.home, tk.local_today() + timedelta(days=3), stage="activist")
    tk.db.session.commit()
    rows, _ = services.assignment_report(assignment)
    assert [r.member.name for r in rows] == ["李芳"]
    assert services.assignments_for_member(org.member1) == []
    [mine] = services.assignments_for_member(org.member2, now=tk.utcnow() + timedelta(days=4))
    assert mine["overdue"] is True
    login(client, "member2")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Assigned to you" in dashboard and "Staying connected while away" in dashboard


def test_host_secretary_assigns_to_hosted_members(course, org):
    assignment = services.create_assignment(course, org.host, tk.local_today() + timedelta(days=3))
    tk.db.session.commit()
    rows, _ = services.assignment_report(assignment)
    assert {r.member.name for r in rows} == {"张伟", "host-secretary"}


def test_report_page_and_xlsx_export(course, org, client, app):
    assignment = services.create_assignment(course, org.home, tk.local_today(), account=org.home_sec)
    tk.db.session.commit()
    finish(org.member1, course)
    assignment.due_on = tk.local_today() - timedelta(days=1)
    tk.db.session.commit()
    login(client, "home-secretary")
    page = client.get(f"/courses/assignments/{assignment.id}").get_data(as_text=True)
    assert "张伟" in page and "李芳" in page and "overdue" in page
    response = client.get(f"/courses/assignments/{assignment.id}/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Name", "Home branch") and rows[0][-1] == "Overdue"
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["张伟"][6] == "Completed" and by_name["张伟"][-1] == "no"
    assert by_name["李芳"][6] == "Not started" and by_name["李芳"][-1] == "yes"
    listing = client.get("/courses/assignments").get_data(as_text=True)
    assert "Staying connected while away" in listing
    other = app.test_client()
    login(other, "foreign-secretary")
    assert other.get(f"/courses/assignments/{assignment.id}").status_code == 404
    assert other.get(f"/courses/assignments/{assignment.id}/export.xlsx").status_code == 404
    assert "Staying connected while away" not in other.get("/courses/assignments").get_data(as_text=True)


def test_unit_dashboard_widget_and_alert(course, org, client):
    services.create_assignment(course, org.home, tk.local_today(), account=org.home_sec)
    tk.db.session.commit()
    login(client, "home-secretary")
    page = client.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Assigned learning" in page and "0 of 3 completed" in page
    from portal_courses import portal_alerts_scan

    alerts = portal_alerts_scan(tk.utcnow() + timedelta(days=1))
    assert len(alerts) == 1 and alerts[0].unit_id == org.home.id
    assert portal_alerts_scan(tk.utcnow() + timedelta(days=2)) == []  # only once, the day after
