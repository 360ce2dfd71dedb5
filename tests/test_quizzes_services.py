"""The rules: attempts, time limits, grading methods, re-grading, course quizzes, the daily quiz, essays, demo."""
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal.plugins.types import DemoContext
from portal_quizzes import formats, personal, services
from portal_quizzes.demo import load_demo
from portal_quizzes.models import Attempt, DailyResult, Question, Quiz, Response
from tests.test_quizzes_helpers import NOW, answer_all, by_name, choice_id, make_quiz, right_value

DATA = Path(__file__).parent / "data" / "quizzes"


def activities(db, verb=None):
    query = select(tk.Activity).order_by(tk.Activity.id)
    if verb:
        query = query.where(tk.Activity.verb == verb)
    return db.session.scalars(query).all()


def test_attempt_resume_submit_once_and_activities(db, org):
    quiz = make_quiz(db, pass_percent=80)
    attempt, created = services.start_attempt(quiz, org.member1, NOW)
    assert created
    answer_all(attempt, NOW + timedelta(minutes=1))
    db.session.commit()
    again, created = services.start_attempt(quiz, org.member1, NOW + timedelta(minutes=2))
    assert not created and again.id == attempt.id
    assert len(services.responses_by_question(again)) == 5  # answers kept for the resumed attempt
    attempt, counted = services.submit_attempt(attempt.id, NOW + timedelta(minutes=3))
    assert counted and attempt.state == "finished"
    assert (attempt.score, attempt.max_score, attempt.correct, attempt.percent) == (5.0, 5.0, 5, 100.0)
    _a, counted_again = services.submit_attempt(attempt.id, NOW + timedelta(minutes=4))
    db.session.commit()
    assert not counted_again
    assert [a.verb for a in activities(db)] == ["quiz.started", "quiz.attempted", "quiz.passed"]
    passed = activities(db, "quiz.passed")[0]
    assert passed.extras["score"] == 5.0 and passed.extras["max_score"] == 5.0 and passed.extras["correct"] == 5
    assert passed.object_type == "quiz" and passed.object_id == str(quiz.id)


def test_wrong_answers_fail_and_partial_credit(db, org):
    quiz = make_quiz(db, pass_percent=60)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    answer_all(attempt, NOW, right=False)
    services.save_response(attempt, by_name(attempt, "capital").id, choice_id(by_name(attempt, "capital"), "Beijing"), NOW)
    pick = by_name(attempt, "pick")
    services.save_response(attempt, pick.id, [choice_id(pick, "activist")], NOW)  # 50 %
    attempt, _ = services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    assert attempt.score == 1.5 and attempt.correct == 1 and attempt.percent == 30.0
    failed = activities(db, "quiz.failed")
    assert len(failed) == 1 and failed[0].extras["correct"] == 1 and not activities(db, "quiz.passed")


def test_time_limit_is_enforced_on_the_server_with_grace(db, org):
    tk.set_setting("quizzes", "grace_seconds", 20)
    quiz = make_quiz(db, time_limit_minutes=10)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    assert attempt.deadline == NOW + timedelta(minutes=10)
    capital = by_name(attempt, "capital")
    services.save_response(attempt, capital.id, choice_id(capital, "Beijing"), NOW + timedelta(minutes=10, seconds=15))
    dues = by_name(attempt, "dues")
    with pytest.raises(tk.ServiceError) as info:
        services.save_response(attempt, dues.id, True, NOW + timedelta(minutes=10, seconds=25))
    assert info.value.status == 409
    db.session.commit()
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.state == "finished"  # closed with what was saved in time
    assert attempt.score == 1.0
    assert dues.id not in services.responses_by_question(attempt)


@pytest.mark.parametrize("method,expected", [("highest", 100.0), ("last", 40.0), ("first", 20.0),
                                             ("average", pytest.approx((20 + 100 + 40) / 3, abs=0.1))])
def test_grading_methods(db, org, method, expected):
    quiz = make_quiz(db, grading_method=method, pass_percent=101)
    for right_count in (1, 5, 2):
        attempt, _ = services.start_attempt(quiz, org.member1, NOW)
        answer_all(attempt, NOW, right=False)
        for _e, question in services.attempt_questions(attempt)[:right_count]:
            services.save_response(attempt, question.id, right_value(question), NOW)
        services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    assert services.quiz_grade(quiz, org.member1) == expected


def test_attempts_allowed_dates_and_assignment(db, org):
    quiz = make_quiz(db, attempts_allowed=1, unit_id=org.home.id, stages=["full"])
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    services.submit_attempt(attempt.id, NOW)
    with pytest.raises(tk.ServiceError, match="all your attempts"):
        services.start_attempt(quiz, org.member1, NOW)
    with pytest.raises(tk.ServiceError) as info:
        services.start_attempt(quiz, org.outsider, NOW)  # another branch
    assert info.value.status == 404
    org.member2.stage = "activist"
    with pytest.raises(tk.ServiceError):
        services.start_attempt(quiz, org.member2, NOW)
    later = make_quiz(db, title="Later", opens_at=NOW + timedelta(days=1))
    with pytest.raises(tk.ServiceError, match="not open"):
        services.start_attempt(later, org.member1, NOW)


def test_shuffle_and_random_questions_are_deterministic(db, org):
    pool = "\n\n".join(f"::r{i}::Random {i} {{=a{i} ~b{i} ~c{i}}}" for i in range(10))
    parsed = formats.parse_gift(pool, "pool.gift", ("Pool",))
    services.import_parsed(parsed)
    category = services.ensure_category(("Pool",))
    quiz = make_quiz(db, random_category_id=category.id, random_count=3, shuffle_questions=True, shuffle_answers=True)
    a1, _ = services.start_attempt(quiz, org.member1, NOW)
    layout = [dict(e) for e in a1.layout]
    assert len(layout) == 8
    assert sum(1 for _e, q in services.attempt_questions(a1) if q.name.startswith("r")) == 3
    db.session.delete(a1)
    db.session.flush()
    a2, _ = services.start_attempt(quiz, org.member1, NOW)
    assert a2.layout == layout  # same member, same attempt number: same draw and order


def test_regrade_after_a_question_is_corrected(db, org):
    quiz = make_quiz(db, "::capital::The capital of China is {~Beijing =Shanghai}\n\n::dues::Dues are paid {T}",
                     pass_percent=100)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    capital = by_name(attempt, "capital")
    services.save_response(attempt, capital.id, choice_id(capital, "Beijing"), NOW)
    services.save_response(attempt, by_name(attempt, "dues").id, True, NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    assert attempt.score == 1.0 and not activities(db, "quiz.passed")
    changed = services.update_question_from_gift(capital, "::capital::The capital of China is {=Beijing ~Shanghai}")
    db.session.commit()
    assert changed == 1
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.score == 2.0 and capital.version == 2
    assert len(activities(db, "quiz.passed")) == 1
    assert services.update_question_from_gift(capital, "::capital::The capital of China is {=Beijing ~Shanghai}") == 0


def test_essay_waits_for_a_secretary(db, org):
    quiz = make_quiz(db, "::dues::Dues are paid {T}\n\n::essay::Tell us about your work {}", pass_percent=50)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    services.save_response(attempt, by_name(attempt, "dues").id, True, NOW)
    services.save_response(attempt, by_name(attempt, "essay").id, "I build houses in Shenzhen.", NOW)
    attempt, _ = services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    assert attempt.state == "needs_grading" and not activities(db, "quiz.attempted")
    response = db.session.scalar(select(Response).where(Response.question_id == by_name(attempt, "essay").id))
    services.grade_essay(response, 0.5, "Good", org.home_sec, NOW)
    db.session.commit()
    assert attempt.state == "finished" and attempt.score == 1.5
    assert [a.verb for a in activities(db)][-2:] == ["quiz.attempted", "quiz.passed"]


COURSE_GIFT = """// [id:c1]
::c1::A member moving on must tell the branch within {#15}

::c2::Dues are paid monthly {T}
"""


def _course(tmp_path, text, slug="basics"):
    path = tmp_path / f"{slug}.gift"
    path.write_text(text, encoding="utf-8")
    return {"slug": slug, "title": {"zh_CN": "基础课", "en": "Basics"}, "directory": tmp_path, "quiz_file": path}


def test_course_sync_is_idempotent_and_updates(db, org, tmp_path):
    course = _course(tmp_path, COURSE_GIFT)
    get_manager().call_each("portal_course_synced", course=course)
    db.session.commit()
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == "basics"))
    assert quiz.title == "基础课" and [s.question.name for s in quiz.slots] == ["c1", "c2"]
    versions = {q.id: q.version for q in db.session.scalars(select(Question))}
    get_manager().call_each("portal_course_synced", course=course)  # unchanged file: nothing changes
    db.session.commit()
    assert {q.id: q.version for q in db.session.scalars(select(Question))} == versions
    assert db.session.scalar(select(func.count()).select_from(Quiz)) == 1

    # a member answers, fails (the key says F), then the file is corrected: re-graded, passed, course learns it
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    services.save_response(attempt, by_name(attempt, "c1").id, "15", NOW)
    services.save_response(attempt, by_name(attempt, "c2").id, False, NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    assert get_manager().pm.hook.portal_course_final_quiz(course_slug="basics", member=org.member1)["passed"] is False
    course = _course(tmp_path, COURSE_GIFT.replace("{T}", "{F}") + "\n::c3::New question {T}\n")
    get_manager().call_each("portal_course_synced", course=course)
    db.session.commit()
    db.session.expire_all()
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == "basics"))
    assert [s.question.name for s in quiz.slots] == ["c1", "c2", "c3"]
    assert db.session.scalar(select(func.count()).select_from(Question)) == 3  # updated in place, not duplicated
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.score == 2.0
    passed = activities(db, "quiz.passed")
    assert len(passed) == 1 and passed[0].extras["course"] == "basics"
    assert passed[0].extras["score"] == 2.0 and passed[0].extras["max_score"] == 2.0
    info = get_manager().pm.hook.portal_course_final_quiz(course_slug="basics", member=org.member1)
    assert info == {"title": "Basics", "url": f"/quizzes/{quiz.id}", "passed": True}
    assert get_manager().pm.hook.portal_course_final_quiz(course_slug="nope", member=org.member1) is None


def test_course_sync_with_a_bad_file_keeps_the_old_quiz(db, org, tmp_path):
    get_manager().call_each("portal_course_synced", course=_course(tmp_path, COURSE_GIFT))
    db.session.commit()
    get_manager().call_each("portal_course_synced", course=_course(tmp_path, "::c1:: broken {=a"))
    db.session.commit()
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_slug == "basics"))
    assert len(quiz.slots) == 2 and quiz.published


DAILY = "\n\n".join(f"::d{i}::Daily question {i} {{=yes{i} ~no{i}}}" for i in range(12))


def _daily_bank(db, count=5):
    services.import_parsed(formats.parse_gift(DAILY, "daily.gift", ("每日答题", "测试")))
    tk.set_setting("quizzes", "daily_count", count)
    db.session.commit()


def test_daily_quiz_is_stable_per_member_and_day(db, org):
    _daily_bank(db)
    day = tk.local_today(NOW)
    first = services.daily_question_ids(org.member1, day)
    assert len(first) == 5 and first == services.daily_question_ids(org.member1, day)
    assert first != services.daily_question_ids(org.member2, day)
    assert first != services.daily_question_ids(org.member1, day + timedelta(days=1))


def test_daily_quiz_once_a_day_score_and_streak(db, org):
    _daily_bank(db, count=3)
    for offset in (2, 1):
        at = NOW - timedelta(days=offset)
        services.submit_daily(org.member1, {}, at)
    questions = services.daily_questions(org.member1, tk.local_today(NOW))
    answers = {str(q.id): q.data["choices"][0]["id"] for q in questions}  # the "yes" answers are right
    answers[str(questions[0].id)] = questions[0].data["choices"][1]["id"]
    row = services.submit_daily(org.member1, answers, NOW)
    db.session.commit()
    assert (row.score, row.max_score, row.correct) == (2.0, 3.0, 2)
    with pytest.raises(tk.ServiceError) as info:
        services.submit_daily(org.member1, answers, NOW + timedelta(hours=3))
    assert info.value.status == 409
    assert services.streak(org.member1, tk.local_today(NOW)) == 3
    assert services.streak(org.member1, tk.local_today(NOW) + timedelta(days=1)) == 3  # today not done yet
    assert services.streak(org.member1, tk.local_today(NOW) + timedelta(days=2)) == 0
    done = activities(db, "daily_quiz.completed")
    assert len(done) == 3 and done[-1].extras["correct"] == 2 and done[-1].extras["score"] == 2.0
    assert done[-1].extras["max_score"] == 3.0


def test_daily_day_is_the_local_day_of_the_time_zone(app, db, org, monkeypatch):
    _daily_bank(db, count=3)
    late_utc = datetime(2026, 11, 29, 17, 30)  # 01:30 on 30 November in Asia/Shanghai
    row = services.submit_daily(org.member1, {}, late_utc)
    assert row.day == date(2026, 11, 30)
    with pytest.raises(tk.Conflict):  # the same local day
        services.submit_daily(org.member1, {}, datetime(2026, 11, 30, 15, 0))
    assert services.submit_daily(org.member1, {}, datetime(2026, 11, 30, 16, 0)).day == date(2026, 12, 1)
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    assert tk.local_today(late_utc) == date(2026, 11, 29)


def test_import_text_is_all_or_nothing(db, org):
    with pytest.raises(formats.FormatError):
        services.import_text((DATA / "broken.gift").read_text(encoding="utf-8"), "gift", "broken.gift")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    result = services.import_text((DATA / "moodle_examples.gift").read_text(encoding="utf-8"), "gift", "ex.gift",
                                  ("Moodle",))
    db.session.commit()
    assert result.total == 35 and result.counts["numerical"] == 7
    seven = db.session.scalar(select(Question).where(Question.idnumber == "num-7"))
    assert seven.category.path == "Moodle / Daily quiz / Numbers" and seven.tag_names == ["easy", "maths"]
    exported = services.export_questions(db.session.scalars(services.bank_query()).all())
    assert [q.comparable() for q in formats.parse_gift(exported)][0]["text"] == "Who's buried in Grant's tomb?"


def test_demo_data_is_idempotent(db, org):
    import random

    members = [org.member1, org.member2, org.outsider]
    context = DemoContext(password="pass-1234", units={"home": org.home}, accounts={}, members=members, now=NOW, rng=random.Random(1))
    load_demo(context)
    db.session.commit()
    counts = [db.session.scalar(select(func.count()).select_from(t)) for t in (Question, Quiz, Attempt, DailyResult)]
    assert counts[0] >= 20 and counts[1] == 1 and counts[2] == 3 and counts[3] > 0
    zh = db.session.scalars(select(Question).where(Question.idnumber == "zh-move-15")).all()
    assert len(zh) == 1 and zh[0].data["choices"][0]["text"] == "15天"
    context.rng = random.Random(2)
    load_demo(context)
    db.session.commit()
    assert [db.session.scalar(select(func.count()).select_from(t)) for t in (Question, Quiz, Attempt, DailyResult)] == counts


def test_personal_data_and_summary(db, org):
    quiz = make_quiz(db)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    answer_all(attempt, NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    data = personal.personal_data(org.member1)
    rows = next(s.rows for s in data if s.key == "attempts")
    assert rows[0]["score"] == 5.0 and len(rows[0]["answers"]) == 5
    summary = dict((str(k), v) for k, v in personal.member_summary(org.member1, NOW - timedelta(days=1), NOW + timedelta(days=1)))
    assert summary["Quiz attempts"] == 1 and summary["Quizzes passed"] == 1
