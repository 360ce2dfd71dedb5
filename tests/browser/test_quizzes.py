"""A member takes a quiz on a phone: answers are saved as they are given, a reload resumes with them kept."""
import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal_quizzes import formats, services
from portal_quizzes.models import Attempt, Question, Response
from tests.browser.conftest import browser_login
from tests.test_quizzes_helpers import choice_id, make_quiz

READY = "html[data-autosave=ready]"


def test_take_a_quiz_on_a_phone_reload_and_resume(page, live_server, db, org, tmp_path):
    quiz = make_quiz(db, pass_percent=80, time_limit_minutes=20)
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/quizzes/{quiz.id}")
    page.click("text=Start the quiz")
    page.wait_for_selector("text=Question 1 of 5")
    page.wait_for_selector(READY, state="attached")  # the autosave script listens before we answer
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone

    # question 1 (single choice): a tap saves at once through the API, without pressing anything
    page.check("label:has-text('Beijing') input")
    page.wait_for_selector(".save-status:has-text('Saved')")
    page.click("button:has-text('Save and next')")
    page.wait_for_selector("text=Question 2 of 5")
    page.wait_for_selector(READY, state="attached")
    page.check("label:has-text('True') input")
    page.wait_for_selector(".save-status:has-text('Saved')")

    # the phone drops the page: reload in the middle of the quiz
    attempt_url = page.url.split("?")[0]
    page.goto(f"{live_server}/quizzes/{quiz.id}")
    page.click("text=Continue my attempt")
    page.wait_for_selector("text=Question 1 of 5")
    assert page.url.split("?")[0] == attempt_url
    assert page.is_checked("label:has-text('Beijing') input")
    page.reload()
    assert page.is_checked("label:has-text('Beijing') input")
    page.click("nav.qnav a >> nth=1")
    page.wait_for_selector("text=Question 2 of 5")
    assert page.is_checked("label:has-text('True') input")
    page.screenshot(path=str(tmp_path / "quiz-resumed.png"), full_page=True)

    # typed answers are saved while typing, full-width digits and spaces are fine
    page.click("button:has-text('Save and next')")
    page.wait_for_selector("input[inputmode=decimal]")
    page.wait_for_selector(READY, state="attached")
    page.fill("input[inputmode=decimal]", "１５")
    page.wait_for_selector(".save-status:has-text('Saved')")
    page.click("button:has-text('Save and next')")
    page.fill("input[name=answer]", " 深圳 ")
    page.click("button:has-text('Save and next')")
    page.wait_for_selector("text=Question 5 of 5")
    page.check("label:has-text('activist') input")
    page.check("label:has-text('candidate') input")
    page.click("button:has-text('Save and finish')")
    page.wait_for_selector("text=Submit all and finish")
    assert page.locator("text=not answered").count() == 0
    page.click("button:has-text('Submit all and finish')")
    page.wait_for_selector("text=You passed this quiz.")
    assert "5.0 / 5.0" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "quiz-result.png"), full_page=True)

    db.session.rollback()
    attempt = db.session.scalar(select(Attempt))
    assert attempt.state == "finished" and attempt.score == 5.0
    assert len(db.session.scalars(select(Response)).all()) == 5
    assert db.session.scalar(select(tk.Activity).where(tk.Activity.verb == "quiz.passed")) is not None


# The script must come over the network late (held): a service worker would serve it from its cache at once.
@pytest.mark.browser_context_args(service_workers="block")
def test_answer_given_before_the_script_loaded_is_saved(page, live_server, db, org):
    """Issue 14: on a loaded phone the person answers before quizzes.js arrives; the script saves it on load."""
    quiz = make_quiz(db, pass_percent=80)
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/quizzes/{quiz.id}")
    page.click("text=Start the quiz")
    page.wait_for_selector(READY, state="attached")
    attempt_url = page.url

    held = []  # the script's request, kept waiting until the answer is given
    page.route("**/quizzes.js*", lambda route: held.append(route))
    page.goto(attempt_url, wait_until="commit")
    page.check("label:has-text('Beijing') input")
    assert held and page.locator(READY).count() == 0  # answered while the script was still on its way
    held[0].continue_()
    page.unroute("**/quizzes.js*")  # later loads fetch it at once
    page.wait_for_selector(READY, state="attached")
    page.wait_for_selector(".save-status:has-text('Saved')")

    db.session.commit()  # a fresh snapshot: the live server wrote in its own transaction
    response = db.session.scalar(select(Response))
    assert response is not None
    assert response.value == choice_id(db.session.get(Question, response.question_id), "Beijing")


def test_daily_quiz_reads_right_on_a_phone(page, live_server, db, org, tmp_path):
    """Issue 13: HTML question text is rendered (no literal <p>), choices are stacked and readable at 360 px."""
    gift = ("::capital::[html]<p>The capital of <b>China</b> is</p> {=Beijing ~Shanghai ~Shenzhen}\n\n"
            "::dues::[html]<p>Dues are paid <em>every month</em></p> {T}\n")
    services.import_parsed(formats.parse_gift(gift, "daily.gift", ("每日答题",)))
    db.session.commit()
    browser_login(page, live_server, "member2")
    page.goto(f"{live_server}/quizzes/daily")
    page.wait_for_selector("text=Submit my answers")
    main = page.inner_text("main")
    assert "<p>" not in main and "</p>" not in main and "<b>" not in main
    assert page.locator("main b:has-text('China')").count() == 1  # rendered, not escaped
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    boxes = [page.locator("label.choice:has-text('%s')" % city).bounding_box()
             for city in ("Beijing", "Shanghai", "Shenzhen")]
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"] and boxes[1]["y"] < boxes[2]["y"]  # stacked
    assert all(box["height"] >= 40 for box in boxes)  # a finger-sized target
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('label.choice .choice-text')).fontSize)")
    assert size >= 16
    page.screenshot(path=str(tmp_path / "daily-quiz.png"), full_page=True)
