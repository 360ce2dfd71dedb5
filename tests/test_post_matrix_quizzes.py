"""Every write route of the quizzes plugin × every role (GET routes: tests/test_quizzes_web.py).

The quiz is for the home branch: its members (member1, member2, home_sec) take
it; organizers and admins (no member profile) manage quizzes and the bank but
take none (403); an attempt is only its member's (404 for anyone else).
Secretaries grade essays of members in their scope (never their own, see
tests/test_self_actions.py). Each role acts on a fresh target; a refused
request leaves the whole database as it was.
"""
from __future__ import annotations

import io
import itertools

from sqlalchemy import delete, select

from portal import toolkit as tk
from portal_quizzes import services
from portal_quizzes.models import Category, DailyResult, Question, Quiz, Response
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect
from tests.test_quizzes_helpers import by_name, make_quiz

BLUEPRINTS = {"quizzes", "quizzes_api"}
HOME_MEMBERS = expect(404, anonymous=302, member1=302, member2=302, home_sec=302, organizer=403, admin=403)
MEMBER2_ONLY = expect(404, anonymous=302, member2=302, organizer=403, admin=403)
MANAGERS = expect(403, anonymous=302, organizer=302, admin=302)
# a quiz of the home branch: managing it needs quizzes.manage over that branch (404 outside it)
BANK_KEEPERS = expect(403, anonymous=302, organizer=302, admin=302, home_sec=302, host_sec=404, foreign_sec=404)
HOME_QUIZ_MANAGERS = expect(404, anonymous=302, organizer=302, admin=302)
_serial = itertools.count(1)


def _quiz(org) -> Quiz:
    return tk.db.session.get(Quiz, org.quiz_id)


def _fresh_home_quiz(org) -> dict:
    return {"quiz_id": make_quiz(tk.db, "::rule::Members pay dues {T}", title=f"Rules {next(_serial)}",
                                 unit_id=org.home.id).id}


def _first_question(_org, values: dict) -> dict:
    return {"remove": str(tk.db.session.get(Quiz, values["quiz_id"]).slots[0].question_id)}


def _no_daily_done(_org) -> dict:
    """Nobody has done today's daily quiz yet (the web case and the API case each submit it)."""
    tk.db.session.execute(delete(DailyResult))
    return {}


def _attempt_of_member2(org) -> dict:
    attempt, _created = services.start_attempt(_quiz(org), org.member2, tk.utcnow())
    return {"attempt_id": attempt.id, "question_id": by_name(attempt, "dues").id}


def _essay_of_member2(org) -> dict:
    quiz = make_quiz(tk.db, "::essay::Tell us about your work {}", title=f"Essay {next(_serial)}", unit_id=org.home.id)
    attempt, _created = services.start_attempt(quiz, org.member2, tk.utcnow())
    services.save_response(attempt, by_name(attempt, "essay").id, "我在村里工作。", tk.utcnow())
    services.submit_attempt(attempt.id, tk.utcnow())
    return {"response_id": tk.db.session.scalar(select(Response.id).where(Response.attempt_id == attempt.id))}


def _quiz_form(org, _values: dict) -> dict:
    return {"title": f"Quiz {next(_serial)}", "unit_id": str(org.home.id), "grading_method": "highest",
            "pass_percent": "60", "review_when": "immediately", "time_limit_minutes": "0", "attempts_allowed": "0",
            "random_count": "0", "published": "y"}


def _bank_question(_org) -> dict:
    return {"question_id": tk.db.session.scalar(select(Question.id).where(Question.name == "dues"))}


def _home_category(org) -> dict:
    """A category of the home branch's own bank (its secretary keeps it; other branches' do not)."""
    category = Category(name=f"Home {next(_serial)}", path=f"Home bank {next(_serial)}", unit_id=org.home.id)
    tk.db.session.add(category)
    tk.db.session.flush()
    return {"category_id": category.id}


def _home_question(org) -> dict:
    values = _home_category(org)
    question = Question(category_id=values["category_id"], qtype="truefalse", name="home", text="Dues {T}",
                        data={"correct": True, "feedback_right": "", "feedback_wrong": ""})
    tk.db.session.add(question)
    tk.db.session.flush()
    services.record_version(question)
    return {"question_id": question.id, "category_id": values["category_id"]}


def _truefalse_form(_org, values: dict) -> dict:
    return {"type": "truefalse", "category_id": str(values["category_id"]), "text": f"Dues are paid {next(_serial)}",
            "text_format": "markdown", "correct": "false", "default_mark": "1", "action": "save"}


def _category_of_home(org, _values: dict) -> dict:
    return {"name": f"Branch bank {next(_serial)}", "unit_id": str(org.home.id), "parent_id": "0"}


def _gift_file(_org, _values: dict) -> dict:
    text = f"::imported{next(_serial)}::Members pay dues every month {{T}}\n".encode()
    return {"file": (io.BytesIO(text), "questions.gift.txt"), "format": "gift", "category": "Imported"}


CASES = [
    # taking the quiz: the home branch's members, each their own attempt
    PostCase("quizzes.start", HOME_MEMBERS, _fresh_home_quiz),
    PostCase("quizzes.save", MEMBER2_ONLY, _attempt_of_member2, {"answer": "true", "go": "finish"}),
    PostCase("quizzes.submit", MEMBER2_ONLY, _attempt_of_member2),
    PostCase("quizzes.daily", expect(302, organizer=403, admin=403), _no_daily_done),
    # managing quizzes and the bank: organizers and admins
    PostCase("quizzes.new_quiz", MANAGERS, data=_quiz_form),
    PostCase("quizzes.edit_quiz", HOME_QUIZ_MANAGERS, _fresh_home_quiz, _quiz_form),
    PostCase("quizzes.quiz_questions", HOME_QUIZ_MANAGERS, _fresh_home_quiz, _first_question),
    PostCase("quizzes.regrade", HOME_QUIZ_MANAGERS, _fresh_home_quiz),
    PostCase("quizzes.question", MANAGERS, _bank_question, {"gift": "::dues::Dues are paid every month {T}"}),
    # the home branch's own bank: its secretary and the organizers; other branches' secretaries 404
    PostCase("quizzes.new_category", BANK_KEEPERS, data=_category_of_home),
    PostCase("quizzes.new_question", BANK_KEEPERS, _home_category, _truefalse_form),
    PostCase("quizzes.edit_question", BANK_KEEPERS, _home_question, _truefalse_form),
    # a good file: the page lists what was imported (200)
    PostCase("quizzes.import_questions", expect(403, anonymous=302, organizer=200, admin=200), data=_gift_file),
    # grading: secretaries over the member (quizzes.grade); other branches' secretaries 404
    PostCase("quizzes.grade_response", expect(403, anonymous=302, home_sec=302, host_sec=404, foreign_sec=404,
                                              organizer=302, admin=302), _essay_of_member2, {"mark": "1"}),
    # the API: the same rules, 401 without a login
    PostCase("quizzes_api.start", expect(404, anonymous=401, member1=201, member2=201, home_sec=201, organizer=403,
                                         admin=403), _fresh_home_quiz, json=True),
    PostCase("quizzes_api.save_answer", expect(404, anonymous=401, member2=200, organizer=403, admin=403),
             _attempt_of_member2, {"answer": True}, json=True, method="PUT"),
    PostCase("quizzes_api.submit", expect(404, anonymous=401, member2=200, organizer=403, admin=403),
             _attempt_of_member2, json=True),
    PostCase("quizzes_api.daily_submit", expect(200, anonymous=401, organizer=403, admin=403), _no_daily_done,
             data={"answers": {}}, json=True),
]


def test_every_quizzes_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_quizzes_post_matrix(app, db, org):
    tk.set_setting("quizzes", "daily_categories", [])  # the daily quiz draws from the whole bank
    org.quiz_id = make_quiz(db, "::dues::Dues are paid {T}\n\n::capital::The capital of China is {=Beijing ~Shanghai}",
                            title="Branch quiz", unit_id=org.home.id).id
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9
