"""Courses, quizzes and points through the API where the web had more: comments (post, report), the reading
heartbeat, certificates (list and PDF), paged course and comment lists, the quiz list, points rules, campaigns
and the board privacy choice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Comment, CommentReport, LessonProgress
from portal_points import services as points
from tests.conftest import api_token
from tests.test_quizzes_helpers import make_quiz


def _course(org, slug="branch-study", certificate=False):
    course = services.save_course(None, {"slug": slug, "title_zh": "支部学习", "completion_rule": "all_lessons",
                                         "published": True, "grants_certificate": certificate}, org.home)
    lesson = services.save_lesson(course, None, {"title_zh": "第一课", "body_zh": "正文", "min_seconds": "0"})
    tk.db.session.commit()
    return course, lesson


def _count(model) -> int:
    return tk.db.session.scalar(select(func.count()).select_from(model))


def test_comment_and_report_through_the_api(client, db, org):
    _ignored, lesson = _course(org)
    author, reader = api_token(client, "member2"), api_token(client, "member1")
    url = f"/api/v1/lessons/{lesson.id}/comments"
    response = client.post(url, json={"body": "**Useful** lesson."}, headers=author)
    assert response.status_code == 201 and "<strong>Useful</strong>" in response.json["html"]
    assert response.json["created_at"].endswith("+08:00")
    comment_id = response.json["id"]
    for body in ({"body": "   "}, {"body": "x" * 2001}, {"body": 5}, {"text": "hi"}):
        bad = client.post(url, json=body, headers=author)
        assert bad.status_code == 422 and bad.json["error"]["fields"], body
    assert client.post(url, json={"body": "Hi"}, headers=api_token(client, "outsider")).status_code == 404
    assert client.post(url, json={"body": "Hi"}, headers=api_token(client, "organizer")).status_code == 403
    assert client.post(url, json={"body": "Hi"}).status_code == 401
    assert _count(Comment) == 1

    report = f"/api/v1/comments/{comment_id}/report"
    assert client.post(report, json={"reason": "off_topic"}, headers=author).status_code == 403  # one's own
    bad = client.post(report, json={"reason": "boring"}, headers=reader)
    assert bad.status_code == 422 and "reason" in bad.json["error"]["fields"]
    assert client.post(report, json={"reason": "spam", "note": "x" * 301}, headers=reader).status_code == 422
    assert client.post(report, json={"reason": "spam"}, headers=api_token(client, "outsider")).status_code == 404
    assert _count(CommentReport) == 0
    reported = client.post(report, json={"reason": "spam", "note": "an advert"}, headers=reader)
    assert reported.status_code == 201 and reported.json["comment"] == comment_id
    assert client.post(report, json={"reason": "spam"}, headers=reader).status_code == 409  # once per member


def test_comments_and_courses_page(client, db, org):
    course, lesson = _course(org)
    for number in range(3):
        services.add_comment(org.member2, lesson, f"Comment {number}")
    _course(org, slug="second-course")
    db.session.commit()
    headers = api_token(client, "member1")
    page = client.get(f"/api/v1/lessons/{lesson.id}/comments?per_page=2", headers=headers).json
    assert (len(page["comments"]), page["total"], page["page"]) == (2, 3, 1) and page["next"]
    assert len(client.get(page["next"], headers=headers).json["comments"]) == 1
    courses = client.get("/api/v1/courses?per_page=1", headers=headers).json
    assert courses["total"] == 2 and courses["courses"][0]["slug"] == course.slug and courses["next"]
    assert client.get("/api/v1/courses?page=-1", headers=headers).status_code == 400


def test_reading_heartbeat_credits_an_opened_lesson(client, db, org):
    _course_, lesson = _course(org)
    services.open_lesson(org.member2, lesson, now=tk.utcnow() - timedelta(seconds=20))
    services.record_reading(org.member2, lesson.id, "beat", now=tk.utcnow() - timedelta(seconds=10))
    db.session.commit()
    headers = api_token(client, "member2")
    url = f"/api/v1/lessons/{lesson.id}/reading"
    assert client.post(url, json={"state": "beat"}, headers=headers).status_code == 204  # 10 seconds more read
    progress = db.session.scalar(select(LessonProgress).where(LessonProgress.member_id == org.member2.id))
    db.session.refresh(progress)
    assert progress.seconds_spent >= 9
    bad = client.post(url, json={"state": "dance"}, headers=headers)
    assert bad.status_code == 422 and "state" in bad.json["error"]["fields"]
    assert client.post(url, json={"state": "beat"}, headers=api_token(client, "organizer")).status_code == 403


def test_my_certificates_and_their_pdf(client, db, org):
    course, _lesson = _course(org, certificate=True)
    cert = services.issue_certificate(org.member2, course)
    db.session.commit()
    member = api_token(client, "member2")
    data = client.get("/api/v1/certificates", headers=member).json
    assert [c["code"] for c in data["certificates"]] == [cert.code] and data["total"] == 1
    assert data["certificates"][0]["verify_url"].endswith(f"/certificates/verify/{cert.code}")
    pdf = client.get(data["certificates"][0]["pdf"], headers=member)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/api/v1/certificates", headers=api_token(client, "member1")).json["certificates"] == []
    assert client.get(data["certificates"][0]["pdf"], headers=api_token(client, "member1")).status_code == 404
    assert client.get(data["certificates"][0]["pdf"], headers=api_token(client, "admin")).status_code == 200
    assert client.get("/api/v1/certificates/NOPE-0000/certificate.pdf", headers=member).status_code == 404
    assert client.get("/api/v1/certificates", headers=api_token(client, "organizer")).status_code == 403


def test_quiz_list(client, db, org):
    quiz = make_quiz(tk.db, "::rule::Members pay dues {T}", title="Dues rules", unit_id=org.home.id, published=True)
    make_quiz(tk.db, "::rule::Drafts are hidden {T}", title="Draft", unit_id=org.home.id, published=False)
    data = client.get("/api/v1/quizzes", headers=api_token(client, "member2")).json
    assert [(q["id"], q["title"], q["grade"], q["current_attempt"]) for q in data["quizzes"]] == [
        (quiz.id, "Dues rules", None, None)]
    assert data["total"] == 1
    assert client.get("/api/v1/quizzes", headers=api_token(client, "outsider")).json["quizzes"] == []
    assert client.get("/api/v1/quizzes", headers=api_token(client, "admin")).status_code == 403
    assert client.get("/api/v1/quizzes?per_page=x", headers=api_token(client, "member2")).status_code == 400


def test_points_rules_campaigns_and_privacy(client, db, org):
    member = api_token(client, "member2")
    rules = client.get("/api/v1/points/rules", headers=member).json["rules"]
    assert rules and all(rule["label"] and rule["conditions"] is not None for rule in rules)
    today = tk.local_today()
    campaign = points.save_campaign(None, name="Spring drive", description="", starts_on=today,
                                    ends_on=today + timedelta(days=30), units=[org.home], owner_unit=org.township,
                                    account_id=org.organizer.id)
    db.session.commit()
    listed = client.get("/api/v1/points/campaigns", headers=member).json
    assert [c["name"] for c in listed["campaigns"]] == ["Spring drive"] and listed["total"] == 1
    assert client.get(f"/api/v1/points/campaigns/{campaign.id}", headers=member).json["owner_unit"]["id"] == org.township.id
    outsider = api_token(client, "outsider")
    assert client.get("/api/v1/points/campaigns", headers=outsider).json["campaigns"] == []
    assert client.get(f"/api/v1/points/campaigns/{campaign.id}", headers=outsider).status_code == 404

    assert client.post("/api/v1/points/privacy", json={"hide": True}, headers=member).json == {
        "hide_from_public_boards": True}
    assert client.get("/api/v1/points/me", headers=member).json["hide_from_public_boards"] is True
    for body in ({"hide": "yes"}, {}, {"hide": True, "why": "x"}):
        assert client.post("/api/v1/points/privacy", json=body, headers=member).status_code == 422, body
    db.session.expire_all()
    assert tk.db.session.get(tk.Member, org.member2.id).hide_from_public_boards is True
    assert client.post("/api/v1/points/privacy", json={"hide": True},
                       headers=api_token(client, "organizer")).status_code == 403
