"""Demo data: the shipped courses, some progress, assignments and a discussion (idempotent)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Assignment, Comment, Course
from portal_courses.sync import default_directory, sync_directory

COMMENTS = {
    ("staying-connected", 0): [("member1", "到深圳后第一周就去流动党员党支部报到了，书记很热情，还把我拉进了支部的学习群。"),
                               ("member3", "活动证要记得每年审核一次，我去年差点忘了。")],
    ("workers-rights", 1): [("member1", "工地上很多人不签合同，学了这一课才知道没签合同也可以用工资条、考勤记录来证明劳动关系。")],
}


def _study(member, course: Course, count: int, start, *, gap_minutes: int = 12) -> None:
    """Open and complete the first ``count`` lessons, spaced out in time, like a member would."""
    for index, lesson in enumerate(course.active_lessons[:count]):
        if services.lesson_progress(member, lesson) is not None:
            continue
        opened = start + timedelta(minutes=gap_minutes * index * 3)
        services.open_lesson(member, lesson, now=opened)
        with tk.write_intent():
            services.complete_lesson(member, lesson, now=opened + timedelta(minutes=gap_minutes))
            tk.db.session.commit()


#: For the moderation queue: a comment two members reported, and one the moderators hid with a reason.
REPORTED = ("member3", "有没有人要二手手机？便宜出，加我微信详聊。", [("member1", "spam"), ("member2", "off_topic")])
HIDDEN = ("member4", "支部书记的电话是 138 0000 0000，有事直接打。", "包含他人的电话号码")


def _moderation_demo(courses: dict, members: dict, now) -> None:
    """A reported comment (queue: reported, with count and reasons) and a hidden one (reason seen by its author)."""
    course = courses.get("staying-connected")
    if course is None or not course.active_lessons:
        return
    lesson = course.active_lessons[0]
    author, text, reports = REPORTED
    if author in members and not tk.db.session.scalar(select(Comment.id).where(Comment.body == text)):
        comment = services.add_comment(members[author], lesson, text, now=now - timedelta(days=1))
        for username, reason in reports:
            if username in members:
                services.report_comment(members[username], comment, reason, now=now - timedelta(hours=20))
    author, text, reason = HIDDEN
    if author in members and not tk.db.session.scalar(select(Comment.id).where(Comment.body == text)):
        comment = services.add_comment(members[author], lesson, text, now=now - timedelta(days=1, hours=2))
        services.set_comment_hidden(comment, True, reason, now=now - timedelta(hours=22))


def build_demo(context) -> None:
    sync_directory(default_directory(), now=context.now)
    courses = {c.slug: c for c in tk.db.session.scalars(select(Course).where(Course.source == "files"))}
    members = {m.account.username: m for m in context.members}
    now = context.now
    start = now - timedelta(days=12)
    if "getting-started" in courses and "member1" in members:
        _study(members["member1"], courses["getting-started"], 99, start)
    if "staying-connected" in courses and "member1" in members:
        _study(members["member1"], courses["staying-connected"], 2, start + timedelta(days=3))
    if "getting-started" in courses and "member2" in members:
        _study(members["member2"], courses["getting-started"], 1, start + timedelta(days=5))
    others = [m for name, m in sorted(members.items()) if name not in ("member1", "member2")]
    for index, member in enumerate(others[:24]):
        slug = ("getting-started", "staying-connected", "workers-rights")[index % 3]
        if slug in courses:
            _study(member, courses[slug], 1 + index % 4, start + timedelta(days=index % 7, hours=index))
    with tk.write_intent():
        home, root = context.units.get("home"), context.units.get("root")
        plans = [("staying-connected", home, tk.local_date(now) + timedelta(days=20), None, context.accounts.get("home-secretary")),
                 ("workers-rights", root, tk.local_date(now) - timedelta(days=3), None, context.accounts.get("organizer")),
                 ("getting-started", root, tk.local_date(now) + timedelta(days=45), "activist", context.accounts.get("organizer"))]
        for slug, unit, due, stage, account in plans:
            course = courses.get(slug)
            if course is None or unit is None:
                continue
            exists = tk.db.session.scalar(select(Assignment).where(Assignment.course_id == course.id, Assignment.unit_id == unit.id))
            if exists is None:
                tk.db.session.add(Assignment(course_id=course.id, unit_id=unit.id, due_on=due, stage=stage,
                                             created_by_id=account.id if account else None, created_at=now - timedelta(days=14)))
        for (slug, index), posts in COMMENTS.items():
            course = courses.get(slug)
            if course is None or len(course.active_lessons) <= index:
                continue
            lesson = course.active_lessons[index]
            for offset, (username, text) in enumerate(posts):
                member = members.get(username)
                if member is None:
                    continue
                exists = tk.db.session.scalar(select(Comment.id).where(Comment.member_id == member.id, Comment.lesson_id == lesson.id))
                if exists is None:
                    services.add_comment(member, lesson, text, now=now - timedelta(days=2, hours=-offset))
        _moderation_demo(courses, members, now)
        tk.db.session.commit()
    while tk.search_drain() > 0:
        pass
