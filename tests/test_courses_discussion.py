"""Discussion with moderation, browser authoring with preview, and sanitization of every Markdown path."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.search import service as search
from portal_courses.models import Comment, Course, Lesson
from portal_courses.sync import sync_directory
from tests.conftest import login

NASTY = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">link</a>',
    '<p onclick="alert(1)">hi</p>',
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)>",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


def assert_clean(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "onerror=", "onclick=", "onload=", "<iframe", "<svg", "style="):
        assert bad not in lowered, (bad, html)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", lowered), html


@pytest.mark.parametrize("text", NASTY)
def test_render_markdown_never_lets_scripts_through(app, text):
    with app.test_request_context():
        assert_clean(str(tk.render_markdown(text)))


def test_markdown_keeps_what_lessons_need(app):
    with app.test_request_context():
        html = str(tk.render_markdown("## 标题\n\n- 一\n- 二\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[12348](https://12348.gov.cn)"))
    assert "<h2>" in html and "<li>" in html and "<table>" in html and 'href="https://12348.gov.cn"' in html


@pytest.fixture
def lesson(app, db):
    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    return course.active_lessons[0]


def test_comments_are_sanitized_and_moderated(lesson, client, app, org):
    url = f"/courses/staying-connected/lessons/{lesson.id}"
    login(client, "member1")
    posted = client.post(url + "/comments", data={"body": "到了就报到 **很重要** " + " ".join(NASTY)})
    assert posted.status_code == 302
    page = client.get(url).get_data(as_text=True)
    start = page.index('id="discussion"')
    discussion = page[start:page.index("</section>", start)]  # the page's own scripts come after it
    assert "<strong>很重要</strong>" in discussion
    assert_clean(discussion)
    empty = client.post(url + "/comments", data={"body": "   "})
    assert empty.status_code == 422 and "Write something" in empty.get_data(as_text=True)
    too_long = client.post(url + "/comments", data={"body": "长" * 2001})
    assert too_long.status_code == 422
    assert "长" * 2001 in too_long.get_data(as_text=True)  # what the member typed is not lost
    tk.db.session.expire_all()
    comment = tk.db.session.scalar(select(Comment))
    assert tk.db.session.scalar(select(func.count(Comment.id))) == 1

    for username in ("member2", "outsider", "foreign-secretary"):
        other = app.test_client()
        login(other, username)
        assert other.post(f"/courses/comments/{comment.id}/hide").status_code == 404, username
    # host secretaries moderate incoming members hosted with them
    hosted = app.test_client()
    login(hosted, "host-secretary")
    assert hosted.post(f"/courses/comments/{comment.id}/hide").status_code == 302
    assert hosted.post(f"/courses/comments/{comment.id}/show").status_code == 302
    secretary = app.test_client()
    login(secretary, "home-secretary")
    hidden = secretary.post(f"/courses/comments/{comment.id}/hide", data={"reason": "个人信息"})
    assert hidden.status_code == 302
    # the author sees why (and their own text); other members see neither (tests/test_courses_moderation.py)
    page = client.get(url).get_data(as_text=True)
    assert "Hidden by the moderators: 个人信息" in page
    other = app.test_client()
    login(other, "member2")
    page = other.get(url).get_data(as_text=True)
    assert "A comment was hidden." in page and "很重要" not in page and "个人信息" not in page
    assert secretary.post(f"/courses/comments/{comment.id}/show").status_code == 302
    assert "很重要" in client.get(url).get_data(as_text=True)
    assert client.post(f"/courses/comments/{comment.id}/hide").status_code == 404  # authors do not moderate


def test_comments_can_be_closed(lesson, client, org):
    tk.set_setting("courses", "comments_enabled", False)
    tk.db.session.commit()
    login(client, "member1")
    response = client.post(f"/courses/staying-connected/lessons/{lesson.id}/comments", data={"body": "hi"})
    assert response.status_code == 403 and "closed" in response.get_data(as_text=True)


def test_authoring_with_preview_draft_publish_and_search(app, db, client, org):
    search.reindex()
    login(client, "home-secretary")
    bad = client.post("/courses/manage/new", data={"slug": "Bad Slug", "title_zh": "", "title_en": "",
                                                   "category": "general", "completion_rule": "all_lessons", "unit": org.home.id})
    assert bad.status_code == 422 and tk.db.session.scalar(select(func.count(Course.id))) == 0
    foreign = client.post("/courses/manage/new", data={"slug": "branch-study", "title_zh": "支部学习",
                                                       "category": "general", "completion_rule": "all_lessons",
                                                       "unit": org.foreign.id})
    assert foreign.status_code == 422  # not their unit
    created = client.post("/courses/manage/new", data={"slug": "branch-study", "title_zh": "东岭村支部学习",
                                                       "category": "general", "completion_rule": "all_lessons",
                                                       "unit": org.home.id, "estimated_minutes": 10})
    assert created.status_code == 302
    course = tk.db.session.scalar(select(Course).where(Course.slug == "branch-study"))
    assert course.source == "web" and not course.published and course.owner_unit_id == org.home.id
    preview = client.post("/courses/manage/branch-study/lessons/new", data={
        "action": "preview", "title_zh": "第一课", "body_zh": "**学习** 讨薪维权<script>alert(1)</script>"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>学习</strong>" in text and "<script>alert(1)</script>" not in text
    assert tk.db.session.scalar(select(func.count(Lesson.id))) == 0  # a preview saves nothing
    saved = client.post("/courses/manage/branch-study/lessons/new", data={
        "action": "save", "title_zh": "第一课", "body_zh": "本支部组织讨薪维权学习。"})
    assert saved.status_code == 302
    # a draft is visible to its authors, not to members
    member = app.test_client()
    login(member, "member2")
    assert member.get("/courses/branch-study").status_code == 404
    assert client.get("/courses/branch-study").status_code == 200
    client.post("/courses/manage/branch-study/edit", data={
        "slug": "branch-study", "title_zh": "东岭村支部学习", "category": "general", "completion_rule": "all_lessons",
        "unit": org.home.id, "published": "y"})
    tk.db.session.expire_all()
    assert tk.db.session.get(Course, course.id).published
    while tk.search_drain():
        pass
    hits = lambda account: [r.title for r in search.search("讨薪维权学习", account)]  # noqa: E731
    assert member.get("/courses/branch-study").status_code == 200
    assert "第一课" in hits(org.member2.account)
    outsider = app.test_client()
    login(outsider, "outsider")
    assert outsider.get("/courses/branch-study").status_code == 404  # a course of another branch
    assert hits(org.outsider.account) == []
    lesson = tk.db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    page = member.get(f"/courses/branch-study/lessons/{lesson.id}").get_data(as_text=True)
    assert "本支部组织讨薪维权学习" in page
    # file courses are edited as files, not in the browser
    sync_directory()
    assert client.get("/courses/manage/staying-connected/edit").status_code == 404
    assert client.get("/courses/manage").status_code == 200


def test_slug_clash_is_refused(app, db, client, org):
    sync_directory()
    login(client, "admin")
    clash = client.post("/courses/manage/new", data={"slug": "workers-rights", "title_en": "Copy", "category": "general",
                                                     "completion_rule": "all_lessons", "unit": org.root.id})
    assert clash.status_code == 422 and "already used" in clash.get_data(as_text=True)
