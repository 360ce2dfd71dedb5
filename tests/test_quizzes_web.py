"""Quiz pages: the permission matrix, a quiz taken without JavaScript, uploads, results, essays, CLI, zh_CN."""
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_quizzes import formats, services
from portal_quizzes.models import Attempt, DailyResult, Question, Quiz, Response
from portal.cli import cli
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect
from tests.test_quizzes_helpers import NOW, by_name, choice_id, make_quiz, right_value

from pathlib import Path

DATA = Path(__file__).parent / "data" / "quizzes"
ESSAY_QUIZ = "::dues::Dues are paid {T}\n\n::essay::Tell us about your work {}"


def _submitted_essay(db, org):
    quiz = make_quiz(db, ESSAY_QUIZ, title="Essay quiz")
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    services.save_response(attempt, by_name(attempt, "dues").id, True, NOW)
    services.save_response(attempt, by_name(attempt, "essay").id, "我在深圳工地上班。", NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    response = db.session.scalar(select(Response).where(Response.question_id == by_name(attempt, "essay").id))
    return quiz, attempt, response


def test_permission_matrix(app, db, org):
    quiz, attempt, response = _submitted_essay(db, org)
    services.import_parsed(formats.parse_gift("::d::Daily {T}", "d.gift", ("每日答题",)))
    db.session.commit()
    member_page = expect(200, anonymous=302, organizer=403, admin=403)
    own = expect(404, anonymous=302, organizer=403, admin=403)
    staff = expect(200, anonymous=302, member1=403, member2=403, outsider=403)
    manager = expect(403, anonymous=302, organizer=200, admin=200)
    # secretaries keep their units' banks (issue 13); members never see the bank
    keepers = expect(403, anonymous=302, organizer=200, admin=200, home_sec=200, host_sec=200, foreign_sec=200)
    api_member = expect(200, anonymous=401, organizer=403, admin=403)
    ids = {"quiz_id": quiz.id}
    checked = check_matrix(app, org, {
        "quizzes.index": member_page,
        "quizzes.quiz": member_page,
        "quizzes.attempt": dict(own, member1=(302,)),
        "quizzes.summary": dict(own, member1=(302,)),
        "quizzes.review": dict(own, member1=(200,)),
        "quizzes.daily": member_page,
        "quizzes.manage_index": staff,
        "quizzes.new_quiz": manager,
        "quizzes.edit_quiz": manager,
        "quizzes.bank": keepers,
        "quizzes.export_bank": keepers,
        # a secretary without a category of their own is sent to the bank to make one
        "quizzes.new_question": expect(403, anonymous=302, organizer=200, admin=200, home_sec=302, host_sec=302,
                                       foreign_sec=302),
        "quizzes.edit_question": manager,  # a question of the central bank
        "quizzes.question": manager,
        "quizzes.import_questions": manager,
        "quizzes.results": staff,
        "quizzes.results_xlsx": staff,
        "quizzes.analysis": staff,
        "quizzes.grading_queue": staff,
        "quizzes.grade_response": expect(404, anonymous=302, member1=403, member2=403, outsider=403,
                                         home_sec=200, organizer=200, admin=200),
        "quizzes_api.quiz": api_member,
        "quizzes_api.attempt": expect(404, anonymous=401, member1=200, organizer=403, admin=403),
        "quizzes_api.daily": api_member,
        "quizzes_api.quizzes": expect(200, anonymous=401, organizer=403, admin=403),
    }, blueprints={"quizzes", "quizzes_api"}, url_values={
        "quizzes.quiz": ids, "quizzes.edit_quiz": ids, "quizzes.results": ids, "quizzes.results_xlsx": ids,
        "quizzes.analysis": ids, "quizzes_api.quiz": ids,
        "quizzes.attempt": {"attempt_id": attempt.id}, "quizzes.summary": {"attempt_id": attempt.id},
        "quizzes.review": {"attempt_id": attempt.id}, "quizzes_api.attempt": {"attempt_id": attempt.id},
        "quizzes.question": {"question_id": response.question_id},
        "quizzes.edit_question": {"question_id": response.question_id},
        "quizzes.grade_response": {"response_id": response.id},
    })
    assert checked == 24 * 9


def test_take_a_quiz_without_javascript_and_resume(client, db, org):
    quiz = make_quiz(db, pass_percent=80, time_limit_minutes=30)
    login(client, "member1")
    page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Start the quiz" in page
    started = client.post(f"/quizzes/{quiz.id}/start")
    attempt_url = started.headers["Location"]
    attempt_id = int(attempt_url.rsplit("/", 1)[1])
    first = client.get(attempt_url).get_data(as_text=True)
    assert "Question 1 of 5" in first and "The capital of China" in first and 'data-save-url=' in first
    db.session.rollback()
    attempt = db.session.get(Attempt, attempt_id)
    capital = by_name(attempt, "capital")
    beijing = choice_id(capital, "Beijing")
    nxt = client.post(f"/quizzes/attempts/{attempt_id}/save", data={"q": "0", "answer": beijing, "go": "next"})
    assert nxt.status_code == 302 and nxt.headers["Location"].endswith("q=1")
    # a reload of the first question shows the saved choice; starting again resumes the same attempt
    again = client.get(f"/quizzes/attempts/{attempt_id}?q=0").get_data(as_text=True)
    assert re.search(rf'value="{beijing}"\s+checked', again)
    assert client.post(f"/quizzes/{quiz.id}/start").headers["Location"] == attempt_url
    # a tampered answer is refused with a message and saves nothing
    bad = client.post(f"/quizzes/attempts/{attempt_id}/save", data={"q": "0", "answer": "forged", "go": "next"})
    assert bad.status_code == 400 and "does not fit" in bad.get_data(as_text=True)
    # a typed answer that does not fit is shown again, not lost
    days = [i for i, e in enumerate(attempt.layout) if e["q"] == by_name(attempt, "days").id][0]
    for index, (_e, question) in enumerate(services.attempt_questions(attempt)[1:], start=1):
        value = right_value(question)
        if question.qtype == "truefalse":
            data = {"answer": "true"}
        elif question.qtype == "multi":
            data = {"answer": value}
        else:
            data = {"answer": value}
        response = client.post(f"/quizzes/attempts/{attempt_id}/save", data={"q": str(index), "go": "next", **data})
        assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quizzes/attempts/{attempt_id}/summary")
    summary = client.get(f"/quizzes/attempts/{attempt_id}/summary").get_data(as_text=True)
    assert summary.count("not answered") == 0
    assert client.post(f"/quizzes/attempts/{attempt_id}/submit").status_code == 302
    assert client.post(f"/quizzes/attempts/{attempt_id}/submit").status_code == 302  # double tap
    review = client.get(f"/quizzes/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "5.0 / 5.0" in review and "You passed this quiz." in review
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(tk.Activity).where(tk.Activity.verb == "quiz.attempted")) == 1
    assert days >= 0


def test_daily_quiz_page(client, db, org):
    services.import_parsed(formats.parse_gift("::a::Dues monthly? {T}\n\n::b::Report within? {#15}", "d.gift", ("每日答题",)))
    db.session.commit()
    login(client, "member2")
    page = client.get("/quizzes/daily").get_data(as_text=True)
    assert "Dues monthly?" in page and "Report within?" in page
    ids = {q.name: q.id for q in db.session.scalars(select(Question))}
    bad = client.post("/quizzes/daily", data={f"q{ids['a']}": "maybe", f"q{ids['b']}": "15"})
    assert bad.status_code == 400 and 'value="15"' in bad.get_data(as_text=True)  # what was typed is kept
    done = client.post("/quizzes/daily", data={f"q{ids['a']}": "true", f"q{ids['b']}": "１５"})
    assert done.status_code == 302
    result = client.get("/quizzes/daily").get_data(as_text=True)
    assert "2 / 2" in result and "Streak: 1 day" in result
    again = client.post("/quizzes/daily", data={f"q{ids['a']}": "false"})
    assert again.status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DailyResult)) == 1
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Done today: 2 of 2 right." in dashboard


def test_upload_form_imports_all_or_nothing(client, db, org):
    login(client, "organizer")
    bad = client.post("/quizzes/manage/import", data={
        "file": (io.BytesIO((DATA / "broken.gift").read_bytes()), "broken.gift"), "format": "gift", "category": ""},
        content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "broken.gift:4:" in text and "broken.gift:8:" in text
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    good = client.post("/quizzes/manage/import", data={
        "file": (io.BytesIO((DATA / "questions.aiken").read_text(encoding="utf-8").encode("gb18030")), "q.aiken"),
        "format": "aiken", "category": "每日答题/测试"}, content_type="multipart/form-data")
    assert good.status_code == 200 and "single: 2" in good.get_data(as_text=True)
    db.session.rollback()
    questions = db.session.scalars(select(Question).order_by(Question.id)).all()  # import order
    assert len(questions) == 2 and questions[0].category.path == "每日答题 / 测试"
    assert questions[0].data["choices"][0]["text"] == "15天"  # GB18030 upload decoded
    export = client.get("/quizzes/manage/bank/export.gift").get_data(as_text=True)
    assert "$CATEGORY: $course$/top/每日答题/测试" in export and "=15天" in export
    nofile = client.post("/quizzes/manage/import", data={"format": "gift"}, content_type="multipart/form-data")
    assert nofile.status_code == 422 and "Choose a file." in nofile.get_data(as_text=True)


def test_question_correction_form_regrades(client, db, org):
    quiz = make_quiz(db, "::tf::The earth is flat {T}\n\n::x::Two {=2}", pass_percent=100)
    attempt, _ = services.start_attempt(quiz, org.member1, NOW)
    services.save_response(attempt, by_name(attempt, "tf").id, False, NOW)
    services.save_response(attempt, by_name(attempt, "x").id, "2", NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    question_id = by_name(attempt, "tf").id
    login(client, "organizer")
    page = client.get(f"/quizzes/manage/bank/{question_id}").get_data(as_text=True)
    assert "::tf::The earth is flat {TRUE}" in page
    bad = client.post(f"/quizzes/manage/bank/{question_id}", data={"gift": "::tf::The earth is flat {F"})
    assert bad.status_code == 422 and "question-" in bad.get_data(as_text=True)
    ok = client.post(f"/quizzes/manage/bank/{question_id}", data={"gift": "::tf::The earth is flat {F}"})
    assert ok.status_code == 302
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id).score == 2.0


def test_results_analysis_export_and_essay_grading(client, db, org):
    quiz, attempt, response = _submitted_essay(db, org)
    other, _ = services.start_attempt(quiz, org.outsider, NOW)
    services.save_response(other, by_name(other, "dues").id, False, NOW)
    services.submit_attempt(other.id, NOW)
    db.session.commit()
    login(client, "home-secretary")
    queue = client.get("/quizzes/manage/grading").get_data(as_text=True)
    assert "张伟" in queue and "王强" not in queue  # outsider's essay belongs to another branch
    grade_url = f"/quizzes/manage/grading/{response.id}"
    assert "我在深圳工地上班。" in client.get(grade_url).get_data(as_text=True)
    assert client.post(grade_url, data={"mark": "5", "comment": "x"}).status_code == 422  # out of 1
    assert client.post(grade_url, data={"mark": "0.5", "comment": "不错"}).status_code == 302
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id).state == "finished"
    results = client.get(f"/quizzes/manage/{quiz.id}/results").get_data(as_text=True)
    assert "张伟" in results and "王强" not in results and "75.0%" in results
    analysis = client.get(f"/quizzes/manage/{quiz.id}/analysis").get_data(as_text=True)
    assert "Facility" in analysis and "100.0%" in analysis
    xlsx = client.get(f"/quizzes/manage/{quiz.id}/results.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Name" and len(rows) == 2 and rows[1][0] == "张伟" and rows[1][6] == 1.5
    # the organizer sees both branches; item analysis counts the wrong answer
    client.post("/logout")
    login(client, "organizer")
    analysis = client.get(f"/quizzes/manage/{quiz.id}/analysis").get_data(as_text=True)
    assert "50.0%" in analysis
    other_unit = client.get(f"/quizzes/manage/{quiz.id}/results?unit={org.foreign.id}").get_data(as_text=True)
    assert "王强" in other_unit and "张伟" not in other_unit
    client.post("/logout")
    login(client, "home-secretary")
    assert client.get(f"/quizzes/manage/{quiz.id}/results?unit={org.foreign.id}").status_code == 404


def test_create_and_edit_a_quiz(client, db, org):
    services.import_parsed(formats.parse_gift("::a::A {T}\n\n::b::B {F}", "x.gift", ("Bank",)))
    db.session.commit()
    login(client, "organizer")
    bad = client.post("/quizzes/manage/new", data={"title": "", "pass_percent": "60", "grading_method": "highest",
                                                    "review_when": "immediately", "unit_id": "0", "random_category_id": "0"})
    assert bad.status_code == 422
    created = client.post("/quizzes/manage/new", data={
        "title": "春节座谈测试", "pass_percent": "70", "grading_method": "last", "review_when": "after_close",
        "unit_id": str(org.home.id), "random_category_id": "0", "stages": ["full"], "time_limit_minutes": "10",
        "attempts_allowed": "2", "published": "y"})
    assert created.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "春节座谈测试"))
    ids = [q.id for q in db.session.scalars(select(Question))]
    assert client.post(f"/quizzes/manage/{quiz.id}/questions", data={"question": [str(i) for i in ids]}).status_code == 302
    db.session.rollback()
    quiz = db.session.get(Quiz, quiz.id)
    assert (quiz.unit_id, quiz.stages, quiz.grading_method, len(quiz.slots)) == (org.home.id, ["full"], "last", 2)
    client.post("/logout")
    login(client, "member2")
    assert "春节座谈测试" in client.get("/quizzes/").get_data(as_text=True)
    client.post("/logout")
    login(client, "outsider")
    assert "春节座谈测试" not in client.get("/quizzes/").get_data(as_text=True)


def test_cli_import_prints_counts_and_errors(app, db, org):
    runner = app.test_cli_runner()
    bad = runner.invoke(cli, args=["quizzes", "import", str(DATA / "broken.gift"), "--format", "gift"])
    assert bad.exit_code == 1
    assert "broken.gift:4: " in bad.output and "broken.gift:6: " in bad.output and "broken.gift:8: " in bad.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    good = runner.invoke(cli, args=["quizzes", "import", str(DATA / "moodle_examples.gift"), "--category", "Moodle/Docs"])
    assert good.exit_code == 0, good.output
    assert "Imported 35 questions" in good.output and "numerical 7" in good.output and "matching 1" in good.output
    aiken = runner.invoke(cli, args=["quizzes", "import", str(DATA / "questions.aiken"), "--format", "aiken"])
    assert aiken.exit_code == 0 and "single 2" in aiken.output
    exported = runner.invoke(cli, args=["quizzes", "export", "--category", "Moodle/Docs"])
    assert exported.exit_code == 0 and len(formats.parse_gift(exported.output)) == 35


def test_pages_in_chinese(client, db, org):
    quiz = make_quiz(db, title="测试")
    login(client, "member1")
    client.post("/locale", data={"locale": "zh_CN", "next": "/"})
    page = client.get("/quizzes/").get_data(as_text=True)
    assert "每日答题" in page and "我的测试" in page
    client.post(f"/quizzes/{quiz.id}/start")
    db.session.rollback()
    attempt = db.session.scalar(select(Attempt))
    assert "第 1 题，共 5 题" in client.get(f"/quizzes/attempts/{attempt.id}").get_data(as_text=True)


def test_widgets_and_personal_data(client, db, org):
    services.import_parsed(formats.parse_gift("::a::Dues monthly? {T}", "d.gift", ("每日答题",)))
    db.session.commit()
    services.submit_daily(org.member1, {}, tk.utcnow())
    db.session.commit()
    login(client, "home-secretary")
    unit_page = client.get(f"/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "Did the daily quiz today" in unit_page and '<progress max="3" value="1"' in unit_page
    client.post("/logout")
    login(client, "member1")
    data = client.get("/me/export.json").get_json()
    assert data["sections"]["quizzes.daily"][0]["max_score"] == 1.0
