"""Sending later on a 360 px phone (issue 21): a daily quiz, a care request and a report written without a
connection wait on the phone ("waiting to send"), reach the portal once when it returns, and are not sent
again after a reload; a form the portal refuses is shown with the text kept to copy. Waits for readiness
(attributes the scripts set, the state boxes), never for time."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_care.models import CareRequest
from portal_quizzes import formats, services
from portal_quizzes.models import DailyResult, Question, Response
from portal_reports import schedule
from portal_reports.models import Report
from tests.browser.conftest import browser_login
from tests.test_quizzes_helpers import choice_id, make_quiz

QUEUE = "html[data-offline-queue=ready]"
WAITING = "[data-offline-state=waiting]"
SENT = "[data-offline-state=sent]"
REFUSED = "[data-offline-state=refused]"
DESCRIPTION = "包工头拖欠三月份工资 6800 元，电话不接。"


def _count(db, column, *where) -> int:
    db.session.commit()  # end this session's snapshot: the live server wrote in another connection
    return db.session.scalar(select(func.count(column)).where(*where))


def _answers(db) -> list[Response]:
    """The attempt answers the portal holds."""
    db.session.commit()
    return [r for r in db.session.scalars(select(Response)) if r.value is not None]


def _outbox(page) -> list[str]:
    """The keys of what waits on this phone."""
    return page.evaluate("Object.keys(localStorage).filter(function (k) { return k.indexOf('portal-outbox:') === 0; })")


def _open(page, url: str, form: str) -> None:
    page.goto(url)
    _wait_ready(page, form)


def _wait_ready(page, form: str) -> None:
    """Wait until both scripts listen: the queue and the form's autosave."""
    page.wait_for_selector(QUEUE, state="attached")
    page.wait_for_selector(f"{form}[data-autosave-ready]", state="attached")


# The service worker keeps the daily quiz page for reading offline: a reload without signal shows it again.
@pytest.mark.browser_context_args(service_workers="allow")
def test_daily_quiz_answered_offline_is_scored_once_when_online(page, live_server, db, org, tmp_path):
    services.import_parsed(formats.parse_gift("::a::Dues monthly? {T}\n\n::b::Report within how many days? {#15}",
                                              "d.gift", ("每日答题",)))
    db.session.commit()
    ids = {q.name: q.id for q in db.session.scalars(select(Question))}
    browser_login(page, live_server, "member2")
    _open(page, f"{live_server}/quizzes/daily", "#daily-form")
    expect(page.locator("html")).to_have_attribute("data-offline-saved", "1")  # pwa.js: the worker kept a copy
    page.context.set_offline(True)
    page.check(f"input[name=q{ids['a']}][value=true]")
    page.fill(f"input[name=q{ids['b']}]", "15")
    page.click("text=Submit my answers")
    page.wait_for_selector(WAITING)
    assert "Waiting to send" in page.inner_text(WAITING)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "daily-waiting.png"), full_page=True)
    assert _count(db, DailyResult.id) == 0 and len(_outbox(page)) == 1

    page.reload()  # still offline: the saved copy of the page, the answers back in it, still waiting
    _wait_ready(page, "#daily-form")
    page.wait_for_selector(WAITING)
    assert page.is_checked(f"input[name=q{ids['a']}][value=true]")
    assert page.input_value(f"input[name=q{ids['b']}]") == "15"
    assert _count(db, DailyResult.id) == 0

    page.context.set_offline(False)  # the connection returns: the browser's "online" sends it
    page.wait_for_selector(SENT)
    assert "2 of 2 right" in page.inner_text(SENT)  # the portal's own message, scored at receipt
    assert _outbox(page) == []
    assert _count(db, DailyResult.id) == 1
    assert _count(db, tk.Activity.id, tk.Activity.verb == "daily_quiz.completed") == 1

    page.reload()
    page.wait_for_selector(QUEUE, state="attached")
    assert "2 / 2" in page.inner_text("main") and page.locator(WAITING).count() == 0
    assert _count(db, DailyResult.id) == 1
    assert _count(db, tk.Activity.id, tk.Activity.verb == "daily_quiz.completed") == 1


def test_care_request_written_offline_is_filed_once(page, live_server, db, org, tmp_path):
    browser_login(page, live_server, "member1")
    _open(page, f"{live_server}/care/new", "form.care-form")
    page.context.set_offline(True)
    page.select_option("select[name=category]", "wages")
    page.fill("input[name=title]", "三月份工资被拖欠")
    page.fill("textarea[name=description]", DESCRIPTION)
    page.select_option("select[name=where]", "host")
    page.check("input[name=consent_host]")
    page.click("button[value=submit]")
    page.wait_for_selector(WAITING)
    page.screenshot(path=str(tmp_path / "care-waiting.png"), full_page=True)
    assert _count(db, CareRequest.id) == 0

    page.context.set_offline(False)
    page.wait_for_selector(SENT)
    assert page.get_attribute(f"{SENT} a", "href").startswith(f"{live_server}/care/requests/")
    assert _count(db, CareRequest.id) == 1
    req = db.session.scalar(select(CareRequest))
    assert (req.title, req.description, req.unit_id) == ("三月份工资被拖欠", DESCRIPTION, org.host.id)

    # sent: nothing waits, and the copy kept while typing is gone (a new form starts empty)
    _open(page, f"{live_server}/care/new", "form.care-form")
    assert page.input_value("input[name=title]") == "" and _outbox(page) == []
    assert _count(db, CareRequest.id) == 1


def test_refused_form_is_shown_with_the_text_to_copy_and_not_sent_again(page, live_server, db, org):
    browser_login(page, live_server, "member1")
    _open(page, f"{live_server}/care/new", "form.care-form")
    page.context.set_offline(True)
    page.fill("textarea[name=description]", DESCRIPTION)  # no title: the portal refuses it
    page.click("button[value=submit]")
    page.wait_for_selector(WAITING)
    page.context.set_offline(False)
    page.wait_for_selector(REFUSED)
    assert "Please correct the marked fields." in page.inner_text(REFUSED)
    assert page.input_value(f"{REFUSED} textarea") == DESCRIPTION
    # a reload neither sends it again nor loses it: still refused, the text back in the form
    _open(page, f"{live_server}/care/new", "form.care-form")
    page.wait_for_selector(REFUSED)
    assert page.input_value("textarea[name=description]") == DESCRIPTION
    assert _count(db, CareRequest.id) == 0
    page.click(f"{REFUSED} button")  # dismissed: nothing waits any more
    assert page.locator(REFUSED).count() == 0 and _outbox(page) == []


def test_report_written_offline_is_sent_once(page, live_server, db, org):
    period = schedule.writable_periods(org.member1)[0]
    browser_login(page, live_server, "member1")
    _open(page, f"{live_server}/reports/write/{period}", "#report-form")
    page.context.set_offline(True)
    page.fill("textarea[name=body]", "这个季度我参加了三次线上组织生活。")
    page.click("text=Send to the branch")
    page.wait_for_selector(WAITING)
    assert _count(db, Report.id, Report.status == "submitted") == 0
    page.context.set_offline(False)
    page.wait_for_selector(SENT)
    assert "Your report was sent to the branch." in page.inner_text(SENT)
    assert _count(db, Report.id, Report.status == "submitted") == 1
    report = db.session.scalar(select(Report))
    assert (report.status, report.body) == ("submitted", "这个季度我参加了三次线上组织生活。")
    page.reload()
    page.wait_for_selector("text=This report was sent.")
    assert _outbox(page) == []
    assert _count(db, Report.id) == 1


def test_quiz_answer_given_offline_is_kept_across_a_reload_and_saved_when_online(page, live_server, db, org):
    """Attempt answers (PUT per question) go through the same queue: the latest answer per question waits."""
    quiz = make_quiz(db)
    browser_login(page, live_server, "member1")
    page.goto(f"{live_server}/quizzes/{quiz.id}")
    page.click("text=Start the quiz")
    page.wait_for_selector("html[data-autosave=ready]", state="attached")
    attempt_url = page.url
    page.context.set_offline(True)
    page.check("label:has-text('Shanghai') input")
    page.check("label:has-text('Beijing') input")  # changed its mind: only the latest answer is kept
    page.wait_for_selector(".save-status:has-text('Kept on this phone')")
    assert len(_outbox(page)) == 1
    assert _answers(db) == []
    page.context.set_offline(False)
    page.wait_for_selector(".save-status:has-text('Saved')")
    assert _outbox(page) == []
    [response] = _answers(db)
    assert response.value == choice_id(db.session.get(Question, response.question_id), "Beijing")
    page.goto(attempt_url)
    page.wait_for_selector("html[data-autosave=ready]", state="attached")
    assert page.is_checked("label:has-text('Beijing') input")


def test_daily_quiz_done_elsewhere_meanwhile_is_refused_with_the_portals_words(page, live_server, db, org):
    """The portal decides at receipt: done on another phone while this one waited → told, not counted twice."""
    services.import_parsed(formats.parse_gift("::a::Dues monthly? {T}", "d.gift", ("每日答题",)))
    db.session.commit()
    question = db.session.scalar(select(Question))
    browser_login(page, live_server, "member2")
    _open(page, f"{live_server}/quizzes/daily", "#daily-form")
    page.context.set_offline(True)
    page.check(f"input[name=q{question.id}][value=false]")
    page.click("text=Submit my answers")
    page.wait_for_selector(WAITING)
    db.session.commit()  # a fresh transaction: the live server wrote since this session last read
    services.submit_daily(org.member2, {str(question.id): True}, tk.utcnow())  # the other phone
    db.session.commit()
    page.context.set_offline(False)
    page.wait_for_selector(REFUSED)
    assert "already done today" in page.inner_text(REFUSED)
    db.session.commit()
    [result] = db.session.scalars(select(DailyResult)).all()
    assert result.correct == 1  # the other phone's answer stands
    assert _count(db, tk.Activity.id, tk.Activity.verb == "daily_quiz.completed") == 1
