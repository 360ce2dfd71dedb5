"""Builders shared by the quizzes tests (this module holds no tests itself)."""
from __future__ import annotations

from datetime import datetime

from portal_quizzes import formats, services
from portal_quizzes.models import Quiz, QuizSlot

NOW = datetime(2026, 3, 2, 1, 0)  # 09:00 in China

QUIZ_GIFT = """
::capital::The capital of China is {=Beijing ~Shanghai ~Shenzhen}

::dues::Dues are paid {T}

::days::Report a move within how many days? {#15}

::city::Where is the Shenzhen branch? {=深圳 =Shenzhen}

::pick::Pick the stages {~%50%activist ~%50%candidate ~%-100%tourist}
"""


def make_quiz(db, gift: str = QUIZ_GIFT, **fields) -> Quiz:
    """A quiz of the questions in ``gift`` (committed)."""
    parsed = formats.parse_gift(gift, "test.gift", ("Tests",))
    result = services.import_parsed(parsed)
    fields.setdefault("shuffle_answers", False)
    quiz = Quiz(title=fields.pop("title", "Test quiz"), titles={}, **fields)
    db.session.add(quiz)
    db.session.flush()
    quiz.slots = [QuizSlot(question_id=q.id, position=i, mark=q.max_mark) for i, q in enumerate(result.questions)]
    db.session.commit()
    return quiz


def by_name(attempt, name):
    return next(q for _e, q in services.attempt_questions(attempt) if q.name == name)


def choice_id(question, text):
    return next(c["id"] for c in question.data["choices"] if c["text"] == text)


def right_value(q):
    """The right answer to a question of the standard quiz."""
    if q.name == "capital":
        return choice_id(q, "Beijing")
    if q.name == "pick":
        return [choice_id(q, "activist"), choice_id(q, "candidate")]
    return {"dues": True, "days": "15", "city": " 深圳 "}[q.name]


def answer_all(attempt, now, right=True):
    """Answer every question of the standard quiz, all right (or all wrong)."""
    for _entry, q in services.attempt_questions(attempt):
        if q.name == "capital":
            value = choice_id(q, "Beijing" if right else "Shanghai")
        elif q.name == "dues":
            value = right
        elif q.name == "days":
            value = "15" if right else "30"
        elif q.name == "city":
            value = " 深圳 " if right else "Beijing"
        elif q.name == "pick":
            value = [choice_id(q, "activist"), choice_id(q, "candidate")] if right else [choice_id(q, "tourist")]
        else:
            continue
        services.save_response(attempt, q.id, value, now)
