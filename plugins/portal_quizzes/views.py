"""Quiz pages: taking quizzes and the daily quiz (members), the bank, results and grading (secretaries).

Thin views: parse input, check permission, call ``services``, render. Every
page works without JavaScript; ``static/quizzes.js`` only saves answers as
they are given.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response as FlaskResponse, abort, flash, redirect, render_template, request, url_for
from portal.toolkit import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, func, not_, or_, select

from portal import toolkit as tk
from portal_quizzes import formats, grading, services
from portal_quizzes.forms import CategoryForm, EssayGradeForm, ImportForm, QuestionForm, QuestionGiftForm, QuizForm
from portal_quizzes.models import Attempt, Category, DailyResult, Question, Quiz, QuizSlot, Response

bp = Blueprint("quizzes", __name__, url_prefix="/quizzes", template_folder="templates", static_folder="static",
               static_url_path="/static")
db = tk.db


QTYPE_LABELS = {
    "single": _l("single choice"), "multi": _l("multiple choice"), "truefalse": _l("true/false"),
    "shortanswer": _l("fill in the blank"), "numerical": _l("numerical"), "matching": _l("matching"),
    "essay": _l("essay"), "description": _l("description"),
}


tk.template_labels(bp, "quizzes", qtype=QTYPE_LABELS)


@bp.app_template_filter("question_text")
def question_text_filter(text: str | None, fmt: str) -> str:
    """``{{ text|question_text(fmt) }}``: question text and feedback rendered in their format, sanitized."""
    return services.render_question_text(text, fmt)


@bp.app_template_filter("answer_text")
def answer_text_filter(text: str | None, fmt: str) -> str:
    """``{{ text|answer_text(fmt) }}``: an answer shown inline, without the tags of an HTML format."""
    return services.answer_text(text, fmt)


def _member():
    return tk.current_member()


# ---------------------------------------------------------------------------
# Members
# ---------------------------------------------------------------------------

@bp.get("/")
@tk.login_required_member
def index():
    """The member's quizzes, today's daily quiz and their results."""
    member = _member()
    now = tk.utcnow()
    rows = []
    for quiz in services.available_quizzes(member):
        rows.append({"quiz": quiz, "title": services.display_title(quiz), "open": services.is_open(quiz, now),
                     "grade": services.quiz_grade(quiz, member), "passed": services.has_passed(quiz, member),
                     "current": services.open_attempt(quiz, member)})
    day = tk.local_today(now)
    return render_template("quizzes/index.html", rows=rows, daily_done=services.daily_result(member, day),
                           streak=services.streak(member, day), daily_on=services.setting("daily_enabled"))


def _quiz_or_404(quiz_id: int, member) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or not services.is_assigned(quiz, member):
        abort(404)
    return quiz


@bp.get("/<int:quiz_id>")
@tk.login_required_member
def quiz(quiz_id: int):
    """A quiz's rules, the member's attempts and a start/continue button."""
    member = _member()
    quiz = _quiz_or_404(quiz_id, member)
    now = tk.utcnow()
    current = services.open_attempt(quiz, member)
    if current is not None and services.close_if_overdue(current, now):
        db.session.commit()
        current = None
    attempts = services.member_attempts(quiz, member)
    left = None if not quiz.attempts_allowed else max(0, quiz.attempts_allowed - len(attempts))
    return render_template("quizzes/quiz.html", quiz=quiz, title=services.display_title(quiz), attempts=attempts,
                           current=current, open=services.is_open(quiz, now), left=left,
                           grade=services.quiz_grade(quiz, member), passed=services.has_passed(quiz, member),
                           question_count=len(quiz.slots) + (quiz.random_count or 0))


@bp.post("/<int:quiz_id>/start")
@tk.login_required_member
def start(quiz_id: int):
    """Start (or resume) an attempt and go to its first question."""
    member = _member()
    quiz = _quiz_or_404(quiz_id, member)
    return tk.form_post(lambda: services.start_attempt(quiz, member, tk.utcnow()), success=None,
                        redirect_to=lambda started: url_for("quizzes.attempt", attempt_id=started[0].id),
                        on_error=url_for("quizzes.quiz", quiz_id=quiz.id))


def _own_attempt(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    member = _member()
    if attempt is None or member is None or attempt.member_id != member.id:
        abort(404)
    return attempt


def _index_arg(count: int) -> int:
    try:
        return min(max(0, int(request.values.get("q", 0))), max(0, count - 1))
    except ValueError:
        return 0


@bp.get("/attempts/<int:attempt_id>")
@tk.login_required_member
def attempt(attempt_id: int):
    """One question of an attempt per page, with the answer saved so far (resumes after a reload)."""
    attempt = _own_attempt(attempt_id)
    now = tk.utcnow()
    if services.close_if_overdue(attempt, now):
        db.session.commit()
        flash(_("The time is up. Your saved answers were submitted."), "warning")
    if attempt.state != "in_progress":
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    return _render_attempt(attempt, _index_arg(len(attempt.layout)), now)


def _render_attempt(attempt: Attempt, index: int, now, status: int = 200, typed=None, error: str | None = None):
    items = services.attempt_questions(attempt)
    responses = services.responses_by_question(attempt)
    entry, question = items[index]
    public = services.public_question(question, entry.get("order"))
    response = responses.get(question.id)
    value = typed if typed is not None else (response.value if response else None)
    answered = [bool(responses.get(q.id) and responses[q.id].value not in (None, "", [], {})) for _e, q in items]
    remaining = int((attempt.deadline - now).total_seconds()) if attempt.deadline else None
    return render_template("quizzes/attempt.html", attempt=attempt, quiz=attempt.quiz, index=index, count=len(items),
                           question=question, public=public, value=value, answered=answered, remaining=remaining,
                           error=error, title=services.display_title(attempt.quiz)), status


def form_answer(question: Question, form, prefix: str = "answer"):
    """The answer a no-JavaScript form carries for ``question`` (None: nothing given)."""
    if question.qtype == "multi":
        return form.getlist(prefix)
    if question.qtype == "matching":
        return {p["id"]: form.get(f"{prefix}-{p['id']}", "") for p in question.data["pairs"] if p["left"]}
    if question.qtype in ("essay", "shortanswer", "numerical"):
        return form.get(prefix) if prefix in form else None
    value = form.get(prefix)
    return value if value not in (None, "") else None


@bp.post("/attempts/<int:attempt_id>/save")
@tk.login_required_member
def save(attempt_id: int):
    """The no-JavaScript path: save this page's answer, then go to the next/previous question or the summary."""
    attempt = _own_attempt(attempt_id)
    now = tk.utcnow()
    items = services.attempt_questions(attempt)
    index = _index_arg(len(items))
    _entry, question = items[index]
    raw = form_answer(question, request.form)
    if raw is not None and question.qtype != "description":
        try:
            services.save_response(attempt, question.id, raw, now)
        except tk.ServiceError as error:
            if isinstance(error, tk.BadRequest):
                db.session.rollback()
                return _render_attempt(attempt, index, now, 400, typed=raw, error=error.message)
            db.session.commit()
            flash(error.message, "error")
            return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    db.session.commit()
    go = request.form.get("go", "next")
    if go == "finish" or (go == "next" and index + 1 >= len(items)):
        return redirect(url_for("quizzes.summary", attempt_id=attempt.id))
    if go == "prev":
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id, q=max(0, index - 1)))
    if go.isdigit():
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id, q=int(go)))
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id, q=index + 1))


@bp.get("/attempts/<int:attempt_id>/summary")
@tk.login_required_member
def summary(attempt_id: int):
    """Which questions are answered, and the submit button."""
    attempt = _own_attempt(attempt_id)
    now = tk.utcnow()
    if services.close_if_overdue(attempt, now):
        db.session.commit()
    if attempt.state != "in_progress":
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    responses = services.responses_by_question(attempt)
    rows = [{"index": i, "question": q,
             "answered": bool(responses.get(q.id) and responses[q.id].value not in (None, "", [], {}))}
            for i, (_e, q) in enumerate(services.attempt_questions(attempt))]
    return render_template("quizzes/summary.html", attempt=attempt, rows=rows, title=services.display_title(attempt.quiz),
                           remaining=int((attempt.deadline - now).total_seconds()) if attempt.deadline else None)


@bp.post("/attempts/<int:attempt_id>/submit")
@tk.login_required_member
def submit(attempt_id: int):
    """Submit once; a second tap lands on the same result."""
    attempt = _own_attempt(attempt_id)
    services.submit_attempt(attempt.id, tk.utcnow())
    db.session.commit()
    return redirect(url_for("quizzes.review", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/review")
@tk.login_required_member
def review(attempt_id: int):
    """The result, and answers with feedback when the quiz's review options allow."""
    attempt = _own_attempt(attempt_id)
    now = tk.utcnow()
    if services.close_if_overdue(attempt, now):
        db.session.commit()
    if attempt.state == "in_progress":
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    responses = services.responses_by_question(attempt)
    services.preload_seen_versions(attempt, responses)
    show = services.can_review(attempt, now)
    rows = []
    for entry, question in services.attempt_questions(attempt):
        response = responses.get(question.id)
        value = response.value if response else None
        seen = services.seen_version(entry, question, response)  # what the member answered, even after a correction
        rows.append({"question": question, "mark": entry["mark"], "response": response, "seen": seen,
                     "html": services.render_question_text(seen.text, seen.text_format),
                     "shown": _shown_answer(seen, value),
                     "right": grading.right_answer_text(question.qtype, question.data),
                     "feedback": grading.feedback_for(question.qtype, question.data, value)})
    return render_template("quizzes/review.html", attempt=attempt, quiz=attempt.quiz, rows=rows, show=show,
                           title=services.display_title(attempt.quiz),
                           passed=services.has_passed(attempt.quiz, attempt.member))


def _shown_answer(question, value) -> str:
    """The member's answer in words."""
    if value in (None, "", [], {}):
        return ""
    data = question.data
    if question.qtype in ("single", "multi"):
        ids = value if isinstance(value, list) else [value]
        texts = {c["id"]: c["text"] for c in data["choices"]}
        return "; ".join(texts.get(i, "?") for i in ids)
    if question.qtype == "truefalse":
        return _("True") if value else _("False")
    if question.qtype == "matching":
        rights = {p["right_id"]: p["right"] for p in data["pairs"]}
        return "; ".join(f"{p['left']} → {rights.get(value.get(p['id']), '—')}" for p in data["pairs"] if p["left"])
    return str(value)


def _shown_day(value: str | None) -> date | None:
    """The day the daily quiz form was shown (its hidden ``day``; none from older pages)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise tk.BadRequest(_("The day of this quiz is not a date.")) from None


@bp.route("/daily", methods=["GET", "POST"])
@tk.login_required_member
def daily():
    """Today's daily quiz on one page; one scored submission a day."""
    member = _member()
    if not services.setting("daily_enabled"):
        abort(404)
    now = tk.utcnow()
    day = tk.local_today(now)
    done = services.daily_result(member, day)
    questions = services.daily_questions(member, day)
    typed, error, status = {}, None, 200
    if request.method == "POST":
        # Already done today, or answers of a day that is over (sent later from a phone): a warning, no score.
        typed = {str(q.id): form_answer(q, request.form, f"q{q.id}") for q in questions}
        try:
            done = services.submit_daily(member, typed, now, for_day=_shown_day(request.form.get("day")))
        except tk.ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status
            if isinstance(exc, tk.Conflict):
                flash(error, "warning")
                return redirect(url_for("quizzes.daily")), 303
        else:
            db.session.commit()
            flash(_("Well done! %(correct)d of %(total)d right.", correct=done.correct, total=len(done.results)),
                  "success")
            return redirect(url_for("quizzes.daily"))
    results = {r["id"]: r for r in (done.results if done else [])}
    answers = done.answers if done else typed
    rows = [{"question": q, "public": services.public_question(q), "value": answers.get(str(q.id)),
             "result": results.get(q.id), "shown": _shown_answer(q, answers.get(str(q.id)))} for q in questions]
    return render_template("quizzes/daily.html", rows=rows, done=done, day=day, error=error,
                           streak=services.streak(member, day)), status


# ---------------------------------------------------------------------------
# Secretaries and organizers
# ---------------------------------------------------------------------------

def _require_any() -> None:
    if not (tk.can("quizzes.manage") or tk.can("quizzes.results") or tk.can("quizzes.grade")):
        abort(403)


def _require_manage(quiz: Quiz | None = None) -> None:
    tk.require("quizzes.manage", quiz.unit if quiz is not None and quiz.unit is not None else None)


@bp.get("/manage/")
@login_required
def manage_index():
    """Every quiz with how many members tried and passed (in the viewer's scope)."""
    _require_any()
    quizzes = db.session.scalars(select(Quiz).order_by(Quiz.id.desc())).all()
    counts = dict(db.session.execute(
        select(Attempt.quiz_id, func.count(func.distinct(Attempt.member_id)))
        .join(tk.Member, tk.Member.id == Attempt.member_id)
        .where(Attempt.state != "in_progress", tk.member_scope("quizzes.results")).group_by(Attempt.quiz_id)).all())
    waiting = tk.count(services.essay_queue_query()) if tk.can("quizzes.grade") else 0
    return render_template("quizzes/manage_index.html", quizzes=quizzes, counts=counts, waiting=waiting,
                           can_manage=tk.can("quizzes.manage"), can_results=tk.can("quizzes.results"))


def _quiz_form(quiz: Quiz | None) -> QuizForm:
    form = QuizForm(obj=quiz)
    form.fill_choices(tk.unit_choices("quizzes.manage"), services.all_categories())
    if request.method == "GET" and quiz is not None:
        form.unit_id.data = quiz.unit_id or 0
        form.random_category_id.data = quiz.random_category_id or 0
    return form


def _save_quiz(form: QuizForm, quiz: Quiz) -> str | None:
    unit = db.session.get(tk.OrgUnit, form.unit_id.data) if form.unit_id.data else None
    if unit is not None and not tk.can("quizzes.manage", unit):
        return _("You cannot assign quizzes to this unit.")
    if form.unit_id.data and unit is None:
        return _("Choose a unit from the list.")
    if form.opens_at.data and form.closes_at.data and form.closes_at.data <= form.opens_at.data:
        return _("The quiz must close after it opens.")
    for name in ("title", "description", "opens_at", "closes_at", "grading_method", "shuffle_questions",
                 "shuffle_answers", "review_when", "review_show_answers", "review_show_feedback", "published"):
        setattr(quiz, name, getattr(form, name).data)
    quiz.time_limit_minutes = form.time_limit_minutes.data or 0
    quiz.attempts_allowed = form.attempts_allowed.data or 0
    quiz.pass_percent = float(form.pass_percent.data)
    quiz.unit_id = unit.id if unit else None
    quiz.stages = list(form.stages.data or [])
    quiz.random_category_id = form.random_category_id.data or None
    quiz.random_count = form.random_count.data or 0
    return None


@bp.route("/manage/new", methods=["GET", "POST"])
@login_required
def new_quiz():
    """Create a quiz."""
    _require_manage()
    form = _quiz_form(None)
    if form.validate_on_submit():
        quiz = Quiz(titles={})
        problem = _save_quiz(form, quiz)
        if problem is None:
            db.session.add(quiz)
            db.session.flush()
            tk.audit("quiz.created", "quiz", quiz.id, title=quiz.title)
            db.session.commit()
            flash(_("Quiz created. Now add questions."), "success")
            return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id))
        form.unit_id.errors.append(problem)
    return render_template("quizzes/quiz_form.html", form=form, quiz=None), 422 if request.method == "POST" else 200


@bp.route("/manage/<int:quiz_id>/edit", methods=["GET", "POST"])
@login_required
def edit_quiz(quiz_id: int):
    """Edit a quiz's rules and its fixed questions."""
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    _require_manage(quiz)
    form = _quiz_form(quiz)
    if request.method == "POST" and form.validate_on_submit():
        problem = _save_quiz(form, quiz)
        if problem is None:
            tk.audit("quiz.edited", "quiz", quiz.id)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id))
        form.unit_id.errors.append(problem)
    category = db.session.get(Category, request.args.get("category", type=int) or 0)
    bank = db.session.scalars(services.bank_query(category).limit(200)).all()
    in_quiz = {slot.question_id for slot in quiz.slots}
    return render_template("quizzes/quiz_form.html", form=form, quiz=quiz, bank=bank, in_quiz=in_quiz,
                           categories=services.all_categories(), category=category), \
        422 if request.method == "POST" else 200


@bp.post("/manage/<int:quiz_id>/questions")
@login_required
def quiz_questions(quiz_id: int):
    """Add checked bank questions to a quiz, or remove one."""
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    _require_manage(quiz)
    remove = request.form.get("remove", type=int)
    if remove:
        quiz.slots = [s for s in quiz.slots if s.question_id != remove]
    else:
        try:
            ids = [int(v) for v in request.form.getlist("question")]
        except ValueError:
            abort(400)
        present = {s.question_id for s in quiz.slots}
        position = max((s.position for s in quiz.slots), default=-1)
        for question in db.session.scalars(select(Question).where(Question.id.in_(ids or [0]),
                                                                  Question.retired.is_(False))):
            if question.id not in present:
                position += 1
                quiz.slots.append(QuizSlot(question_id=question.id, position=position, mark=question.max_mark))
    tk.audit("quiz.questions_changed", "quiz", quiz.id)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("quizzes.edit_quiz", quiz_id=quiz.id))


def _require_bank() -> list[Category]:
    """The categories the viewer keeps (403 for anyone who keeps none: members never see the bank)."""
    if not services.can_keep_bank():
        abort(403)
    return services.kept_categories()


def _kept_bank_query(kept: list[Category], category: Category | None, tag: str | None = None,
                     text: str | None = None):
    """The bank query limited to the viewer's categories (organizers: the whole bank)."""
    if category is not None:
        services.require_category(category)
    query = services.bank_query(category, tag, text)
    if not tk.can("quizzes.manage"):
        query = query.where(Question.category_id.in_([c.id for c in kept] or [0]))
    return query


@bp.get("/manage/bank")
@login_required
def bank():
    """The question bank by category and tag (a secretary sees their units' categories)."""
    kept = _require_bank()
    return bank_page(kept, _category_form(kept))


def bank_page(kept: list[Category], category_form: CategoryForm, status: int = 200):
    """The bank page (filtered by the query string), with the new-category form as given."""
    category = db.session.get(Category, request.args.get("category", type=int) or 0)
    tag = (request.args.get("tag") or "").strip() or None
    text = (request.args.get("q") or "").strip() or None
    try:
        page = tk.paginate(_kept_bank_query(kept, category, tag, text))
    except tk.ServiceError as error:
        abort(error.status)
    return render_template("quizzes/bank.html", page=page, categories=kept, category=category,
                           tag=tag or "", q=text or "", category_form=category_form,
                           qtypes=services.FORM_TYPES, can_manage=tk.can("quizzes.manage")), status


def _category_form(kept: list[Category]) -> CategoryForm:
    form = CategoryForm()
    form.parent_id.choices = [(0, _l("None (top level)"))] + [(c.id, c.path) for c in kept]
    central = [(0, _l("The central bank"))] if tk.can("quizzes.manage") else []
    form.unit_id.choices = central + tk.unit_choices("quizzes.bank")
    return form


@bp.post("/manage/bank/categories")
@login_required
def new_category():
    """A category kept by a unit the viewer holds ``quizzes.bank`` on (or the central bank for organizers)."""
    kept = _require_bank()
    form = _category_form(kept)
    unit = db.session.get(tk.OrgUnit, request.form.get("unit_id", type=int) or 0)
    if unit is not None:
        tk.require("quizzes.bank", unit)  # 404 outside the viewer's subtree, before any form message
    if not form.validate_on_submit():
        flash(_("Give the category a name."), "error")
        return bank_page(kept, form, 422)
    parent = db.session.get(Category, form.parent_id.data) if form.parent_id.data else None
    return tk.form_post(lambda: services.create_category(form.name.data, unit, parent), success=_("Saved."),
                        redirect_to=lambda category: url_for("quizzes.bank", category=category.id),
                        on_error=lambda error: bank_page(kept, form, error.status))


def _question_form_page(question: Question | None, kept: list[Category]):
    """Write (``question`` None) or edit a question: Preview renders it as members will see it; Save stores it."""
    form = QuestionForm(obj=question)
    form.category_id.choices = [(c.id, c.path) for c in kept]
    qtype = question.qtype if question is not None else request.values.get("type", "single")
    if qtype not in services.FORM_TYPES:
        abort(404)
    if request.method == "GET":
        form.category_id.data = question.category_id if question else request.args.get("category", type=int)
        return _render_question_form(form, question, qtype, _data_rows(question.data if question else {}), None, 200)
    target = db.session.get(Category, request.form.get("category_id", type=int) or 0)
    if target is not None:
        try:
            services.require_category(target)  # another unit's category: 404, whatever else the form says
        except tk.ServiceError as error:
            abort(error.status)
    raw = request.form.to_dict(flat=False)
    try:
        data = services.question_data(qtype, raw)
        if not form.validate_on_submit():
            raise tk.Invalid(_("Correct the marked fields."))
        draft = services.draft_question(qtype, form.name.data, form.text.data, form.text_format.data,
                                        form.general_feedback.data, data, float(1 if form.default_mark.data is None else form.default_mark.data))
    except tk.Invalid as error:
        db.session.rollback()
        for name, message in error.field_errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return _render_question_form(form, question, qtype, _raw_data(raw), None, 422, error=error.message)
    if request.form.get("action") == "preview":
        return _render_question_form(form, question, qtype, _data_rows(data), draft, 200)
    category = db.session.get(Category, form.category_id.data)
    return tk.form_post(lambda: services.save_question(question, draft, category, current_user)[0],
                        success=_("Saved."),
                        redirect_to=lambda saved: url_for("quizzes.question", question_id=saved.id),
                        on_error=lambda error: _render_question_form(form, question, qtype, _data_rows(data), None,
                                                                     error.status, error=error.message))


def _raw_data(raw: dict[str, list[str]]) -> dict:
    """The rows as typed, to show the form again after a refusal."""
    def rows(*names):
        length = max((len(raw.get(n, [])) for n in names), default=0)
        return [{n.split("_", 1)[1]: (raw.get(n, [""] * length) + [""] * length)[i] for n in names}
                for i in range(length)]

    first = {name: (raw.get(name) or [""])[0] for name in ("correct", "feedback_right", "feedback_wrong")}
    return {"choices": rows("choice_id", "choice_text", "choice_fraction", "choice_feedback"),
            "answers": rows("answer_id", "answer_text", "answer_fraction", "answer_feedback"),
            "numbers": rows("number_value", "number_tolerance", "number_fraction", "number_feedback"),
            "pairs": rows("pair_id", "pair_left", "pair_right"), **first,
            "case_sensitive": bool(raw.get("case_sensitive"))}


def _percent_text(fraction: float) -> str:
    return f"{fraction * 100:g}"


def _data_rows(data: dict) -> dict:
    """A question's ``data`` as the form's rows (weights in percent; a range as value ± tolerance)."""
    numbers = []
    for answer in data.get("answers", []):
        if "min" in answer:
            value, tolerance = (answer["min"] + answer["max"]) / 2, (answer["max"] - answer["min"]) / 2
        elif "value" in answer:
            value, tolerance = answer["value"], answer["tolerance"]
        else:
            continue
        numbers.append({"value": f"{value:g}", "tolerance": f"{tolerance:g}",
                        "fraction": _percent_text(answer["fraction"]), "feedback": answer.get("feedback", "")})
    texts = [a for a in data.get("answers", []) if "text" in a]
    return {"choices": [{**c, "fraction": _percent_text(c["fraction"])} for c in data.get("choices", [])],
            "answers": [{**a, "fraction": _percent_text(a["fraction"])} for a in texts],
            "numbers": numbers, "pairs": data.get("pairs", []),
            "correct": "true" if data.get("correct", True) else "false",
            "feedback_right": data.get("feedback_right", ""), "feedback_wrong": data.get("feedback_wrong", ""),
            "case_sensitive": data.get("case_sensitive", False)}


def _render_question_form(form: QuestionForm, question: Question | None, qtype: str, rows: dict,
                          draft: Question | None, status: int, error: str | None = None):
    preview = None
    if draft is not None:
        preview = {"public": services.public_question(draft), "question": draft,
                   "right": grading.right_answer_text(draft.qtype, draft.data)}
    return render_template("quizzes/question_form.html", form=form, question=question, qtype=qtype, rows=rows,
                           preview=preview, error=error), status


@bp.route("/manage/bank/new", methods=["GET", "POST"])
@login_required
def new_question():
    """Write a new question of a type (``?type=single`` …) in a category the viewer keeps."""
    kept = _require_bank()
    if not kept and request.method == "GET":
        flash(_("Make a category first."), "warning")
        return redirect(url_for("quizzes.bank"))
    return _question_form_page(None, kept)


@bp.route("/manage/bank/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    """Edit a question in its form; saving makes a new version (attempts keep the one they used)."""
    kept = _require_bank()
    question = db.session.get(Question, question_id) or abort(404)
    try:
        services.require_category(question.category)
    except tk.ServiceError as error:
        abort(error.status)
    return _question_form_page(question, kept)


@bp.get("/manage/bank/export.gift")
@login_required
def export_bank():
    """The bank (or one category) as a GIFT file (a secretary: their units' categories)."""
    kept = _require_bank()
    category = db.session.get(Category, request.args.get("category", type=int) or 0)
    try:
        query = _kept_bank_query(kept, category)
    except tk.ServiceError as error:
        abort(error.status)
    questions = db.session.scalars(query).all()
    tk.audit("quizzes.exported", "question_bank", category.id if category else None, count=len(questions))
    db.session.commit()
    return FlaskResponse(services.export_questions(questions), mimetype="text/plain; charset=utf-8",
                         headers={"Content-Disposition": "attachment; filename=questions.gift.txt"})


@bp.route("/manage/bank/<int:question_id>", methods=["GET", "POST"])
@login_required
def question(question_id: int):
    """Preview a question and correct it in GIFT (re-grading the attempts that used it)."""
    _require_bank()
    question = db.session.get(Question, question_id) or abort(404)
    try:
        services.require_category(question.category)
    except tk.ServiceError as error:
        abort(error.status)
    form = QuestionGiftForm()
    problems, status = [], 200
    if form.validate_on_submit():
        try:
            count = services.update_question_from_gift(question, form.gift.data, account=current_user)
        except formats.FormatError as error:
            db.session.rollback()
            problems, status = [str(p) for p in error.problems], 422
        except tk.ServiceError as error:  # moved into a category the viewer does not keep
            db.session.rollback()
            abort(error.status)
        else:
            tk.audit("question.corrected", "question", question.id, regraded=count)
            db.session.commit()
            flash(_("Saved. %(count)d attempts were re-graded.", count=count), "success")
            return redirect(url_for("quizzes.question", question_id=question.id))
    elif request.method == "POST":
        status = 422
    if request.method == "GET":
        form.gift.data = services.export_questions([question]).strip()
    return render_template("quizzes/question.html", question=question, form=form, problems=problems,
                           public=services.public_question(question), versions=services.question_versions(question),
                           right=grading.right_answer_text(question.qtype, question.data)), status


@bp.route("/manage/import", methods=["GET", "POST"])
@login_required
def import_questions():
    """Upload a GIFT or Aiken file; every problem is listed as file:line: message and nothing is imported."""
    _require_manage()
    form = ImportForm()
    problems, result, status = [], None, 200
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "upload.txt"
        try:
            text = services.decode_upload(upload.read(), filename)
            result = services.import_text(text, form.format.data, filename,
                                          services.parse_category_option(form.category.data))
        except formats.FormatError as error:
            db.session.rollback()
            problems, status = [str(p) for p in error.problems], 422
        else:
            db.session.commit()
            flash(_("Imported %(count)d questions.", count=result.total), "success")
    elif request.method == "POST":
        status = 422
    return render_template("quizzes/import.html", form=form, problems=problems, result=result), status


def _unit_arg():
    unit_id = request.args.get("unit", type=int)
    if not unit_id:
        return None
    unit = db.session.get(tk.OrgUnit, unit_id) or abort(404)
    tk.require("quizzes.results", unit)
    return unit


@bp.get("/manage/<int:quiz_id>/results")
@login_required
def results(quiz_id: int):
    """Results per unit and per member (members the viewer may see)."""
    tk.require("quizzes.results")
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    unit = _unit_arg()
    data = services.results_by_unit(quiz, unit)
    return render_template("quizzes/results.html", quiz=quiz, unit=unit, data=data,
                           units=tk.manageable_units("quizzes.results"), can_manage=tk.can("quizzes.manage"))


@bp.get("/manage/<int:quiz_id>/results.xlsx")
@login_required
def results_xlsx(quiz_id: int):
    """Every attempt in the viewer's scope as a spreadsheet."""
    tk.require("quizzes.results")
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    unit = _unit_arg()
    headers = [_("Name"), _("Home branch"), _("Host branch"), _("Attempt"), _("Started"), _("Submitted"), _("Score"),
               _("Out of"), _("Percent"), _("Right answers"), _("State")]
    rows = services.export_rows(quiz, unit)
    tk.audit("quiz.results_exported", "quiz", quiz.id, rows=len(rows))
    db.session.commit()
    return tk.xlsx_response(f"{quiz.title}-results.xlsx", headers, rows, title=_("Results"))


@bp.get("/manage/<int:quiz_id>/analysis")
@login_required
def analysis(quiz_id: int):
    """Item analysis: facility of each question and how often each answer was chosen."""
    tk.require("quizzes.results")
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    unit = _unit_arg()
    return render_template("quizzes/analysis.html", quiz=quiz, unit=unit, items=services.item_analysis(quiz, unit))


@bp.post("/manage/<int:quiz_id>/regrade")
@login_required
def regrade(quiz_id: int):
    """Re-grade every submitted attempt of the quiz with the questions as they are now."""
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    _require_manage(quiz)
    count = services.regrade_quiz(quiz)
    tk.audit("quiz.regraded", "quiz", quiz.id, changed=count)
    db.session.commit()
    flash(_("Re-graded; %(count)d attempts changed.", count=count), "success")
    return redirect(url_for("quizzes.results", quiz_id=quiz.id))


@bp.get("/manage/grading")
@login_required
def grading_queue():
    """Essay answers waiting for a mark."""
    tk.require("quizzes.grade")
    page = tk.paginate(services.essay_queue_query())
    attempts = {r.attempt_id: db.session.get(Attempt, r.attempt_id) for r in page.items}
    questions = {r.question_id: db.session.get(Question, r.question_id) for r in page.items}
    return render_template("quizzes/grading.html", page=page, attempts=attempts, questions=questions)


@bp.route("/manage/grading/<int:response_id>", methods=["GET", "POST"])
@login_required
def grade_response(response_id: int):
    """Mark one essay answer."""
    tk.require("quizzes.grade")
    response = db.session.get(Response, response_id) or abort(404)
    attempt = db.session.get(Attempt, response.attempt_id)
    question = db.session.get(Question, response.question_id)
    if question.qtype != "essay":
        abort(404)
    tk.require_acting_on(attempt.member, "quizzes.grade")
    mark = next((e["mark"] for e in attempt.layout if e["q"] == question.id), 1.0)
    form = EssayGradeForm()
    status = 200

    def page(status: int):
        return render_template("quizzes/grade.html", form=form, response=response, attempt=attempt,
                               question=question, mark=mark,
                               qhtml=services.render_question_text(question.text, question.text_format)), status

    if form.validate_on_submit():
        if float(form.mark.data) > mark:
            form.mark.errors.append(_("The mark must be between 0 and the question's mark."))
            status = 422
        else:
            def grade() -> None:
                services.grade_essay(response, float(form.mark.data) / mark if mark else 0.0,
                                     form.comment.data or "", current_user, tk.utcnow())
                tk.audit("quiz.essay_graded", "quiz_response", response.id)

            return tk.form_post(grade, success=_("Saved."), redirect_to=url_for("quizzes.grading_queue"), form=form,
                                on_error=lambda error: page(error.status))
    elif request.method == "POST":
        status = 422
    elif response.fraction is not None:
        form.mark.data = round(response.fraction * mark, 2)
        form.comment.data = response.comment
    return page(status)


# ---------------------------------------------------------------------------
# Dashboard widgets
# ---------------------------------------------------------------------------

def unit_widget_context(unit) -> dict:
    """How many of the unit's members did the daily quiz today and in the last 7 days (one statement).

    The unit's members are those whose home branch lies in its subtree and those
    hosted in it from elsewhere (incoming members), who are also counted apart.
    """
    day = tk.local_today()
    home = tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))
    incoming = and_(tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)), not_(home))
    counts = []
    for members in (or_(home, incoming), incoming):
        base = (select(func.count(func.distinct(DailyResult.member_id)))
                .join(tk.Member, tk.Member.id == DailyResult.member_id).where(members))
        counts += [base.where(DailyResult.day == day).scalar_subquery(),
                   base.where(DailyResult.day > day - timedelta(days=7)).scalar_subquery(),
                   select(func.count()).select_from(tk.Member).where(members).scalar_subquery()]
    today_count, week_count, members, hosted_today, hosted_week, hosted = (
        value or 0 for value in db.session.execute(select(*counts)).one())
    return {"today": today_count, "week": week_count, "members": members,
            "hosted": {"today": hosted_today, "week": hosted_week, "members": hosted}}
