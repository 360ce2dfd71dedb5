"""Discussion moderation: members report comments, the per-subtree queue (new, reported, hidden),
hide with a reason seen only by the author and the moderators, restore, dismiss, auto-hide, widget count."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_courses import services
from portal_courses.models import Comment, CommentReport, Course
from portal_courses.sync import sync_directory
from tests.conftest import login


@pytest.fixture
def lesson(app, db):
    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "staying-connected"))
    return course.active_lessons[0]


@pytest.fixture
def clients(app, org):
    """A logged-in test client per username, made on first use."""
    made: dict = {}

    def client_for(username: str):
        if username not in made:
            made[username] = app.test_client()
            login(made[username], username)
        return made[username]

    return client_for


def _comment(member, lesson, text: str) -> Comment:
    comment = services.add_comment(member, lesson, text)
    tk.db.session.commit()
    return comment


def _page(client, lesson) -> str:
    return client.get(f"/courses/staying-connected/lessons/{lesson.id}").get_data(as_text=True)


def _open_reports(comment: Comment) -> int:
    return tk.db.session.scalar(select(func.count(CommentReport.id)).where(
        CommentReport.comment_id == comment.id, CommentReport.resolved_at.is_(None)))


def test_report_appears_in_the_queue_with_count_and_reasons(lesson, clients, org):
    comment = _comment(org.member1, lesson, "加我微信 123")
    posted = clients("member2").post(f"/courses/comments/{comment.id}/report",
                                     data={"reason": "personal_info", "note": "电话号码"})
    assert posted.status_code == 302
    clients("home-secretary").post(f"/courses/comments/{comment.id}/report", data={"reason": "spam"})
    report = tk.db.session.scalar(select(CommentReport).where(CommentReport.member_id == org.member2.id))
    assert report.comment_id == comment.id and report.created_at is not None  # who and when
    queue = clients("home-secretary").get("/courses/moderation?tab=reported").get_data(as_text=True)
    assert "加我微信 123" in queue and "2 report(s)" in queue
    assert "Exposes personal information: 电话号码" in queue and "Advertising or spam" in queue
    assert "Reported (1)" in queue
    # the reporter sees that they reported it instead of the form
    assert "You reported this comment." in _page(clients("member2"), lesson)


def test_unknown_reason_is_refused(lesson, clients, org):
    comment = _comment(org.member1, lesson, "一条评论")
    answer = clients("member2").post(f"/courses/comments/{comment.id}/report", data={"reason": "because"})
    assert answer.status_code == 422 and _open_reports(comment) == 0


def test_self_report_is_refused(lesson, clients, org):
    comment = _comment(org.member1, lesson, "我自己的评论")
    assert clients("member1").post(f"/courses/comments/{comment.id}/report", data={"reason": "spam"}).status_code == 403
    assert _open_reports(comment) == 0


def test_double_report_counts_once(lesson, clients, org):
    comment = _comment(org.member1, lesson, "评论")
    member2 = clients("member2")
    assert member2.post(f"/courses/comments/{comment.id}/report", data={"reason": "spam"}).status_code == 302
    again = member2.post(f"/courses/comments/{comment.id}/report", data={"reason": "offensive"}, follow_redirects=True)
    assert "already reported" in again.get_data(as_text=True)
    assert _open_reports(comment) == 1


def test_the_constraint_refuses_a_second_report_even_without_the_service(lesson, org):
    """Two requests at once both pass any check made before inserting: the table itself must refuse the second."""
    comment = _comment(org.member1, lesson, "评论")
    tk.db.session.add_all([CommentReport(comment_id=comment.id, member_id=org.member2.id, reason="spam"),
                           CommentReport(comment_id=comment.id, member_id=org.member2.id, reason="spam")])
    with pytest.raises(IntegrityError):
        tk.db.session.commit()
    tk.db.session.rollback()


def test_hide_reason_is_shown_to_the_author_and_moderators_only(lesson, clients, org):
    comment = _comment(org.member1, lesson, "很长的广告")
    clients("member2").post(f"/courses/comments/{comment.id}/report", data={"reason": "spam"})
    hidden = clients("home-secretary").post(f"/courses/comments/{comment.id}/hide",
                                            data={"reason": "广告", "queue": "reported"})
    assert hidden.status_code == 302 and "/courses/moderation?tab=reported" in hidden.location
    author = _page(clients("member1"), lesson)
    assert "Hidden by the moderators: 广告" in author and "Only you and the moderators see this." in author
    other = _page(clients("member2"), lesson)
    assert "A comment was hidden." in other and "广告" not in other and "很长的广告" not in other
    moderator = _page(clients("home-secretary"), lesson)
    assert "Hidden by the moderators: 广告" in moderator and "Show again" in moderator
    assert _open_reports(comment) == 0  # dealt with
    note = tk.db.session.scalar(select(Notification).where(Notification.account_id == org.member1.account_id))
    assert note is not None and note.kind == "courses.comment_hidden" and "广告" in note.body
    assert note.message and note.message["title"]  # lazy: read in the author's language
    assert clients("home-secretary").get("/courses/moderation?tab=hidden").get_data(as_text=True).count("很长的广告") == 1
    # reported no more; restore puts it back for everyone
    assert "很长的广告" not in clients("home-secretary").get("/courses/moderation?tab=reported").get_data(as_text=True)
    restored = clients("home-secretary").post(f"/courses/comments/{comment.id}/show", data={"queue": "hidden"})
    assert restored.status_code == 302
    assert "很长的广告" in _page(clients("member2"), lesson)
    assert "很长的广告" not in clients("home-secretary").get("/courses/moderation?tab=hidden").get_data(as_text=True)


def test_new_tab_lists_unreviewed_comments_until_dismissed(lesson, clients, org):
    comment = _comment(org.member2, lesson, "新评论")
    secretary = clients("home-secretary")
    assert "新评论" in secretary.get("/courses/moderation?tab=new").get_data(as_text=True)
    clients("member1").post(f"/courses/comments/{comment.id}/report", data={"reason": "off_topic"})
    assert secretary.post(f"/courses/comments/{comment.id}/dismiss", data={"queue": "new"}).status_code == 302
    tk.db.session.expire_all()
    assert _open_reports(comment) == 0 and tk.db.session.get(Comment, comment.id).hidden_at is None
    assert "新评论" not in secretary.get("/courses/moderation?tab=new").get_data(as_text=True)
    assert "新评论" not in secretary.get("/courses/moderation?tab=reported").get_data(as_text=True)


def test_queue_is_scoped_per_subtree(lesson, clients, org):
    _comment(org.member1, lesson, "出门在外的评论")  # member1: home branch, hosted at host
    _comment(org.member2, lesson, "在家的评论")
    home = clients("home-secretary").get(f"/courses/moderation?tab=new&unit={org.home.id}").get_data(as_text=True)
    assert "出门在外的评论" in home and "在家的评论" in home
    host = clients("host-secretary").get("/courses/moderation?tab=new").get_data(as_text=True)
    assert "出门在外的评论" in host and "在家的评论" not in host
    foreign = clients("foreign-secretary")
    listed = foreign.get("/courses/moderation?tab=new")
    assert listed.status_code == 200 and "的评论" not in listed.get_data(as_text=True)
    assert foreign.get(f"/courses/moderation?unit={org.home.id}").status_code == 404
    assert clients("member2").get("/courses/moderation").status_code == 403
    comment = tk.db.session.scalar(select(Comment).where(Comment.member_id == org.member2.id))
    for action in ("hide", "show", "dismiss"):
        assert foreign.post(f"/courses/comments/{comment.id}/{action}").status_code == 404


def test_reports_hide_a_comment_pending_review(lesson, clients, org):
    tk.set_setting("courses", "report_hide_threshold", 2)
    tk.db.session.commit()
    comment = _comment(org.member1, lesson, "骂人的话")
    clients("member2").post(f"/courses/comments/{comment.id}/report", data={"reason": "offensive"})
    assert "骂人的话" in _page(clients("outsider"), lesson)  # one report is not enough
    clients("home-secretary").post(f"/courses/comments/{comment.id}/report", data={"reason": "offensive"})
    tk.db.session.expire_all()
    hidden = tk.db.session.get(Comment, comment.id)
    assert hidden.hidden_at is not None and hidden.hidden_auto and hidden.hidden_by_id is None
    assert "骂人的话" not in _page(clients("outsider"), lesson)
    assert "until the moderators review it" in _page(clients("member1"), lesson)
    assert tk.db.session.scalar(select(func.count(Notification.id)).where(
        Notification.account_id == org.member1.account_id, Notification.kind == "courses.comment_hidden")) == 1
    queue = clients("host-secretary").get("/courses/moderation?tab=reported").get_data(as_text=True)
    assert "骂人的话" in queue and "2 report(s)" in queue


def test_unit_widget_counts_reported_comments(lesson, clients, org):
    comment = _comment(org.member2, lesson, "要举报的评论")
    clients("member1").post(f"/courses/comments/{comment.id}/report", data={"reason": "spam"})
    assert services.reported_count(org.accounts["home_sec"], org.home) == 1
    assert services.reported_count(org.accounts["foreign_sec"], org.foreign) == 0
    dashboard = clients("home-secretary").get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Reported comments to review: 1" in dashboard


def test_api_shows_the_hide_reason_to_the_author_and_moderators_only(lesson, clients, org):
    comment = _comment(org.member1, lesson, "广告内容")
    clients("home-secretary").post(f"/courses/comments/{comment.id}/hide", data={"reason": "广告"})
    url = f"/api/v1/lessons/{lesson.id}/comments"
    author = clients("member1").get(url).json["comments"]
    assert author == [{**author[0], "id": comment.id, "hidden": True, "hidden_reason": "广告"}]
    assert "广告内容" in author[0]["html"]
    assert clients("member2").get(url).json["comments"] == [{"id": comment.id, "hidden": True}]
    assert clients("home-secretary").get(url).json["comments"][0]["hidden_reason"] == "广告"
