"""Demo data: the starter bank, a quiz with an essay, and some weeks of daily quizzes (idempotent)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import toolkit as tk
from portal_quizzes import formats, services, starter_bank
from portal_quizzes.models import Attempt, Question, Quiz, QuizSlot

DEMO_QUIZ = "流动党员基础知识测试"
ESSAY = r"""
$CATEGORY: 专题测试

// [id:zh-essay-return] [tag:思想汇报]
::返乡心得::请结合你在外务工的经历，谈谈流动党员如何做到“流动不流失”。{}
"""

BRANCH_BANK_CATEGORY = ("东岭村党支部题库",)
BRANCH_BANK = r"""
// [id:branch-dues-day]
::本支部党费交纳日::[markdown]本支部每月**几号**前交纳党费？{=5号#对，每月5号前交到支部。 ~15号#不对，是5号。 ~月底#不对，是5号。}
"""


def load_starter_bank() -> services.ImportResult:
    """Import (or refresh) the starter bank; running it twice duplicates nothing."""
    parsed = formats.parse_gift(starter_bank.ZH, "starter_zh.gift") + formats.parse_gift(starter_bank.EN, "starter_en.gift") \
        + formats.parse_gift(ESSAY, "starter_essay.gift")
    return services.import_parsed(parsed, source="starter", keys=[q.idnumber for q in parsed])


def load_branch_bank(unit) -> None:
    """A bank kept by the home branch: its secretary writes and edits these questions (idempotent)."""
    parsed = formats.parse_gift(BRANCH_BANK, "branch_bank.gift", BRANCH_BANK_CATEGORY)
    services.import_parsed(parsed, source="demo-branch", keys=[q.idnumber for q in parsed])
    services.ensure_category(BRANCH_BANK_CATEGORY).unit_id = unit.id


def _answer(question: Question, rng, right: bool):
    data = question.data
    if question.qtype == "single":
        pool = [c for c in data["choices"] if (c["fraction"] >= 1.0) == right] or data["choices"]
        return rng.choice(pool)["id"]
    if question.qtype == "multi":
        return [c["id"] for c in data["choices"] if (c["fraction"] > 0) == right]
    if question.qtype == "truefalse":
        return data["correct"] if right else not data["correct"]
    if question.qtype == "numerical":
        value = data["answers"][0].get("value", data["answers"][0].get("min"))
        return str(value if right else value + 7)
    if question.qtype == "shortanswer":
        return data["answers"][0]["text"] if right else "不知道"
    if question.qtype == "essay":
        return "在外务工也按时交纳党费，每季度向支部汇报，参加流入地支部的组织生活。"
    return None


def load_demo(context) -> None:
    load_starter_bank()
    load_branch_bank(context.units["home"])
    quiz = tk.db.session.scalar(select(Quiz).where(Quiz.title == DEMO_QUIZ))
    if quiz is None:
        quiz = Quiz(title=DEMO_QUIZ, titles={}, description="测一测你对流动党员管理规定的了解。",
                    time_limit_minutes=15, attempts_allowed=3, pass_percent=60, shuffle_answers=True)
        tk.db.session.add(quiz)
        tk.db.session.flush()
        ids = [q.id for q in tk.db.session.scalars(select(Question).where(
            Question.source == "starter", Question.idnumber.like("zh-%")).order_by(Question.id))]
        quiz.slots = [QuizSlot(question_id=qid, position=i, mark=1.0) for i, qid in enumerate(ids[:8] + ids[-1:])]
    tk.db.session.flush()
    now = context.now
    for index, member in enumerate(context.members[:24]):
        import random

        rng = random.Random(f"quizzes-demo:{member.id}")  # the same choices every run: nothing new appears
        skill = 0.5 + (index % 5) / 10
        for days_ago in range(1, 15):
            rng = random.Random(f"quizzes-demo:{member.id}:{days_ago}")
            if rng.random() > 0.35 + skill / 2:
                continue
            at = now - timedelta(days=days_ago)
            if services.daily_result(member, tk.local_today(at)) is not None:
                continue
            questions = services.daily_questions(member, tk.local_today(at))
            if not questions:
                break
            answers = {str(q.id): _answer(q, rng, rng.random() < skill) for q in questions}
            services.submit_daily(member, answers, at)
        if index < 10 and not tk.db.session.scalar(select(Attempt.id).where(Attempt.quiz_id == quiz.id,
                                                                             Attempt.member_id == member.id)):
            rng = random.Random(f"quizzes-demo:{member.id}:quiz")
            started = now - timedelta(days=3, hours=index)
            attempt, _created = services.start_attempt(quiz, member, started)
            # The first member fails and the third passes whatever ids the database handed out (the xAPI
            # mapping and the reports show both outcomes); the others answer by their skill.
            sure = {0: False, 2: True}.get(index)
            for _entry, question in services.attempt_questions(attempt):
                value = _answer(question, rng, sure if sure is not None else rng.random() < skill)
                if value is not None:
                    services.save_response(attempt, question.id, value, started + timedelta(minutes=1))
            attempt, _counted = services.submit_attempt(attempt.id, started + timedelta(minutes=9))
            if index % 2 == 0:  # half the essays are already marked; the rest wait in the secretaries' queue
                for response in attempt.responses:
                    if response.fraction is None:
                        services.grade_essay(response, 0.8, "写得很实在。", None, started + timedelta(days=1))
    tk.db.session.flush()
