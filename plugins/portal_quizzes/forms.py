"""Forms of the quiz screens."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField, DateTimeLocalField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal import toolkit as tk


STAGE_LABELS = {
    "applicant": _l("applicant"), "activist": _l("activist"), "candidate": _l("candidate"),
    "probationary": _l("probationary member"), "full": _l("full member"),
}


class ImportForm(FlaskForm):
    file = FileField(_l("Question file"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("A GIFT or Aiken text file (UTF-8). Nothing is imported if any question is wrong."))
    format = SelectField(_l("Format"), choices=[("gift", "GIFT (Moodle)"), ("aiken", "Aiken")], default="gift")
    category = StringField(_l("Category"), validators=[Optional(), Length(max=500)],
                           description=_l("Put the questions under this category path, e.g. 每日答题/党费."))


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)],
                                description=_l("Markdown."))
    unit_id = SelectField(_l("For members of"), coerce=int, validators=[Optional()])
    stages = SelectMultipleField(_l("Membership stages"), validators=[Optional()],
                                 description=_l("None selected: every stage."))
    opens_at = DateTimeLocalField(_l("Opens (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    time_limit_minutes = IntegerField(_l("Time limit (minutes, 0 = none)"), default=0,
                                      validators=[Optional(), NumberRange(min=0, max=24 * 60)])
    attempts_allowed = IntegerField(_l("Attempts allowed (0 = unlimited)"), default=0,
                                    validators=[Optional(), NumberRange(min=0, max=100)])
    grading_method = SelectField(_l("Grading method"), choices=[
        ("highest", _l("Highest grade")), ("last", _l("Last attempt")), ("first", _l("First attempt")),
        ("average", _l("Average of attempts"))], default="highest")
    pass_percent = DecimalField(_l("Pass mark (percent)"), default=60, places=1,
                                validators=[DataRequired(), NumberRange(min=0, max=100)])
    random_category_id = SelectField(_l("Random questions from category"), coerce=int, validators=[Optional()])
    random_count = IntegerField(_l("How many random questions"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=200)])
    shuffle_questions = BooleanField(_l("Shuffle the questions"))
    shuffle_answers = BooleanField(_l("Shuffle the answers"), default=True)
    review_when = SelectField(_l("Members see answers and feedback"), choices=[
        ("immediately", _l("Right after their attempt")), ("after_close", _l("After the quiz closes")),
        ("never", _l("Never (score only)"))], default="immediately")
    review_show_answers = BooleanField(_l("Show the right answers"), default=True)
    review_show_feedback = BooleanField(_l("Show the feedback"), default=True)
    published = BooleanField(_l("Published"), default=True)

    def fill_choices(self, units: list[tuple[int, str]], categories) -> None:
        self.unit_id.choices = [(0, _l("Everyone"))] + units
        self.random_category_id.choices = [(0, _l("None"))] + [(c.id, c.path) for c in categories]
        self.stages.choices = [(s, STAGE_LABELS.get(s, s)) for s in tk.STAGES]


class QuestionGiftForm(FlaskForm):
    gift = TextAreaField(_l("The question in GIFT"), validators=[DataRequired(), Length(max=20000)],
                         description=_l("Saving a corrected question re-grades every attempt that used it."))


class QuestionForm(FlaskForm):
    """What every question type has; the answers of each type come as rows (see ``services.question_data``)."""

    category_id = SelectField(_l("Category"), coerce=int, validators=[DataRequired(_l("Choose a category."))])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=255)],
                       description=_l("Shown in the bank only. Empty: the start of the text."))
    text = TextAreaField(_l("Question text"), validators=[DataRequired(), Length(max=20000)],
                         description=_l("For a missing-word question write _____ where the gap is."))
    text_format = SelectField(_l("Text format"), choices=[
        ("markdown", "Markdown"), ("html", "HTML"), ("plain", _l("Plain text")), ("moodle", "Moodle")],
        default="markdown")
    general_feedback = TextAreaField(_l("General feedback"), validators=[Optional(), Length(max=5000)],
                                     description=_l("Shown to every member after answering."))
    default_mark = DecimalField(_l("Mark"), default=1, places=2, validators=[Optional(), NumberRange(min=0, max=100)])


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Inside"), coerce=int, validators=[Optional()])
    unit_id = SelectField(_l("Kept by"), coerce=int, validators=[Optional()],
                          description=_l("The unit whose secretaries write and edit its questions."))


class EssayGradeForm(FlaskForm):
    mark = DecimalField(_l("Mark"), places=2, validators=[DataRequired(message=_l("Give a mark.")), NumberRange(min=0)])
    comment = TextAreaField(_l("Comment for the member"), validators=[Optional(), Length(max=5000)])
