"""Issue 13: question text in its format on every page and in the API, questions written and edited in the
browser (with a preview, branch banks for secretaries), re-imports that update the bank with versions."""
import io

from sqlalchemy import func, select

from portal_quizzes import formats, services
from portal_quizzes.models import Category, Question, QuestionVersion, Response
from tests.conftest import api_token, login
from tests.test_quizzes_helpers import NOW, by_name, make_quiz

HTML_GIFT = ("::capital::[html]<p>The capital of <b>China</b> is</p><script>alert(1)</script> "
             "{=<b>Beijing</b>#<p>Right, <i>Beijing</i>.</p> ~Shanghai}\n\n"
             "::dues::[html]<p>Dues are paid <em>monthly</em></p> {T}\n")


def _text_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _no_raw_markup(page: str) -> None:
    assert "&lt;p&gt;" not in page and "&lt;b&gt;" not in page and "<script>alert" not in page


def test_daily_and_attempt_pages_render_html_questions(client, db, org):
    services.import_parsed(formats.parse_gift(HTML_GIFT, "d.gift", ("每日答题",)))
    db.session.commit()
    quiz = make_quiz(db, HTML_GIFT, title="HTML quiz")
    login(client, "member2")
    daily = _text_of(client, "/quizzes/daily")
    _no_raw_markup(daily)
    assert "<b>China</b>" in daily and "<em>monthly</em>" in daily
    assert "quizzes.css" in daily  # the daily page has its stylesheet (choices stacked, readable)
    started = client.post(f"/quizzes/{quiz.id}/start")
    attempt_url = started.headers["Location"]
    page = _text_of(client, attempt_url)
    _no_raw_markup(page)
    assert "<b>China</b>" in page


def test_review_feedback_and_api_say_the_format(client, db, org):
    quiz = make_quiz(db, HTML_GIFT, title="HTML quiz")
    attempt, _created = services.start_attempt(quiz, org.member2, NOW)
    capital = by_name(attempt, "capital")
    services.save_response(attempt, capital.id, capital.data["choices"][0]["id"], NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    login(client, "member2")
    review = _text_of(client, f"/quizzes/attempts/{attempt.id}/review")
    _no_raw_markup(review)
    assert "<i>Beijing</i>" in review  # per-answer feedback rendered too
    body = client.get(f"/api/v1/attempts/{attempt.id}", headers=api_token(client, "member2")).json
    question = next(q for q in body["questions"] if q["id"] == capital.id)
    assert question["text_format"] == "html" and question["text"].startswith("<p>The capital")
    assert "<b>China</b>" in question["text_html"] and "<script>" not in question["text_html"]
    reviewed = next(item for item in body["review"] if item["id"] == capital.id)
    assert reviewed["text_format"] == "html" and "<i>Beijing</i>" in reviewed["feedback_html"][0]


def _category(db, org, unit) -> Category:
    category = Category(name="Home bank", path="Home bank", unit_id=unit.id if unit else None)
    db.session.add(category)
    db.session.commit()
    return category


def test_secretary_writes_a_question_with_preview_then_edits_it(client, db, org):
    category = _category(db, org, org.home)
    login(client, "home-secretary")
    assert "Home bank" in _text_of(client, "/quizzes/manage/bank")
    form = {"type": "single", "category_id": str(category.id), "name": "capital", "text": "The capital is **?**",
            "text_format": "markdown", "default_mark": "2",
            "choice_id": ["", "", ""], "choice_text": ["Beijing", "Shanghai", ""],
            "choice_fraction": ["100", "-50", ""], "choice_feedback": ["Yes", "No, Beijing", ""]}
    preview = client.post("/quizzes/manage/bank/new", data={**form, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>?</strong>" in text and "Preview" in text
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0  # a preview saves nothing
    bad = client.post("/quizzes/manage/bank/new", data={**form, "choice_fraction": ["0", "0", ""], "action": "save"})
    assert bad.status_code == 422 and db.session.scalar(select(func.count()).select_from(Question)) == 0
    saved = client.post("/quizzes/manage/bank/new", data={**form, "action": "save"})
    assert saved.status_code == 302
    db.session.rollback()
    question = db.session.scalar(select(Question))
    assert (question.qtype, question.default_mark, question.version) == ("single", 2.0, 1)
    assert [c["fraction"] for c in question.data["choices"]] == [1.0, -0.5]
    beijing = question.data["choices"][0]["id"]
    edit_page = _text_of(client, f"/quizzes/manage/bank/{question.id}/edit")
    assert 'value="Beijing"' in edit_page and f'value="{beijing}"' in edit_page
    edited = {**form, "text": "Which city is the capital?", "choice_id": [beijing, question.data["choices"][1]["id"], ""],
              "action": "save"}
    assert client.post(f"/quizzes/manage/bank/{question.id}/edit", data=edited).status_code == 302
    db.session.rollback()
    question = db.session.get(Question, question.id)
    assert question.version == 2 and question.data["choices"][0]["id"] == beijing  # old answers still match
    assert [v.text for v in services.question_versions(question)] == ["Which city is the capital?",
                                                                        "The capital is **?**"]
    client.post("/logout")
    login(client, "foreign-secretary")  # another branch's secretary: not their bank
    assert client.get(f"/quizzes/manage/bank/{question.id}/edit").status_code == 404
    assert "Home bank" not in _text_of(client, "/quizzes/manage/bank")
    client.post("/logout")
    login(client, "member2")
    assert client.get("/quizzes/manage/bank").status_code == 403


def test_every_type_has_a_form(client, db, org):
    category = _category(db, org, None)
    login(client, "organizer")
    cases = {
        "truefalse": {"correct": "false", "feedback_wrong": "It is monthly"},
        "shortanswer": {"answer_text": ["深圳", "Shenzhen"], "answer_fraction": ["100", "100"]},
        "numerical": {"number_value": ["15"], "number_tolerance": ["1"], "number_fraction": ["100"]},
        "matching": {"pair_left": ["党员", "积极分子", ""], "pair_right": ["party member", "activist", "tourist"]},
        "essay": {}, "description": {}, "multi": {"choice_text": ["a", "b", "c"], "choice_fraction": ["50", "50", "-100"]},
    }
    for qtype, rows in cases.items():
        page = _text_of(client, f"/quizzes/manage/bank/new?type={qtype}")
        assert 'name="type" value="%s"' % qtype in page
        data = {"type": qtype, "category_id": str(category.id), "text": f"The {qtype} _____ question",
                "text_format": "plain", "default_mark": "1", "action": "save", **rows}
        response = client.post("/quizzes/manage/bank/new", data=data)
        assert response.status_code == 302, (qtype, response.get_data(as_text=True))
    db.session.rollback()
    stored = {q.qtype: q for q in db.session.scalars(select(Question))}
    assert stored["numerical"].data["answers"][0] == {"value": 15.0, "tolerance": 1.0, "fraction": 1.0, "feedback": ""}
    assert stored["truefalse"].data["correct"] is False
    assert len(stored["matching"].data["pairs"]) == 3 and stored["description"].default_mark == 0.0
    assert services.to_parsed(stored["multi"]).qtype == "multi"
    # a missing-word question: the answers go into the gap when exported
    assert "_____ question" in stored["shortanswer"].text
    assert "} question" in formats.export_gift([services.to_parsed(stored["shortanswer"])])


def test_reimporting_the_export_updates_with_versions(client, db, org):
    quiz = make_quiz(db, title="Versioned")
    attempt, _created = services.start_attempt(quiz, org.member2, NOW)
    capital = by_name(attempt, "capital")
    services.save_response(attempt, capital.id, capital.data["choices"][0]["id"], NOW)
    services.submit_attempt(attempt.id, NOW)
    db.session.commit()
    login(client, "organizer")
    export = client.get("/quizzes/manage/bank/export.gift").get_data(as_text=True)
    before = db.session.scalar(select(func.count()).select_from(Question))

    def upload(text: str):
        return client.post("/quizzes/manage/import", data={"file": (io.BytesIO(text.encode()), "bank.gift"),
                                                          "format": "gift", "category": ""},
                           content_type="multipart/form-data")

    assert upload(export).status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Question)) == before  # 0 new questions
    assert db.session.get(Question, capital.id).version == 1
    changed = export.replace("The capital of China is", "China's capital city is")
    assert upload(changed).status_code == 200
    db.session.rollback()
    question = db.session.get(Question, capital.id)
    assert db.session.scalar(select(func.count()).select_from(Question)) == before
    assert question.version == 2 and question.text.startswith("China's capital city")
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)
                             .where(QuestionVersion.question_id == capital.id)) == 2
    response = db.session.scalar(select(Response).where(Response.question_id == capital.id))
    assert db.session.get(QuestionVersion, response.version_id).version == 1  # the answer keeps its version
    client.post("/logout")
    login(client, "member2")
    review = _text_of(client, f"/quizzes/attempts/{attempt.id}/review")
    assert "The capital of China is" in review and "China's capital city" not in review  # what they saw


def test_two_questions_of_one_name_stay_two(db, org):
    gift = "::same::First {T}\n\n::same::Second {F}\n"
    first = services.import_text(gift, "gift", "a.gift", ("Dup",))
    again = services.import_text(gift, "gift", "a.gift", ("Dup",))
    assert (first.created, again.created, again.unchanged) == (2, 0, 2)


def test_demo_has_a_branch_bank_its_secretary_keeps(client, db, app):
    from portal.demo import build_demo

    build_demo(members=4, password="demo-2026")
    build_demo(members=4, password="demo-2026")  # twice: nothing duplicated
    category = db.session.scalar(select(Category).where(Category.path == "东岭村党支部题库"))
    assert category is not None and category.unit is not None
    assert db.session.scalar(select(func.count()).select_from(Question).where(Question.category_id == category.id)) == 1
    login(client, "home-secretary", "demo-2026")
    bank = _text_of(client, f"/quizzes/manage/bank?category={category.id}")
    assert "本支部党费交纳日" in bank


def test_a_secretary_cannot_move_a_question_out_of_their_bank(client, db, org):
    category = _category(db, org, org.home)
    services.import_parsed(formats.parse_gift("::home::Dues {T}", "h.gift", ("Home bank",)))
    db.session.commit()
    question = db.session.scalar(select(Question).where(Question.category_id == category.id))
    login(client, "home-secretary")
    moved = client.post(f"/quizzes/manage/bank/{question.id}",
                        data={"gift": "$CATEGORY: Central\n\n::home::Dues monthly {T}"})
    assert moved.status_code == 403
    db.session.rollback()
    assert db.session.get(Question, question.id).category_id == category.id
    kept = client.post(f"/quizzes/manage/bank/{question.id}", data={"gift": "::home::Dues monthly {T}"})
    assert kept.status_code == 302
    db.session.rollback()
    assert db.session.get(Question, question.id).version == 2
