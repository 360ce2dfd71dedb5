"""Forms of the online school."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal_courses.models import RULE_LESSONS, RULE_LESSONS_AND_QUIZ


class CourseForm(FlaskForm):
    slug = StringField(_l("Short name (in the address)"), validators=[
        DataRequired(), Length(min=2, max=80),
        Regexp(r"^[a-z0-9][a-z0-9-]+$", message=_l("Use lowercase letters, digits and dashes."))])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    summary_zh = TextAreaField(_l("Summary (Chinese)"), validators=[Optional(), Length(max=2000)])
    summary_en = TextAreaField(_l("Summary (English)"), validators=[Optional(), Length(max=2000)])
    category = SelectField(_l("Category"), choices=[])
    tags = StringField(_l("Tags (separated by commas)"), validators=[Optional(), Length(max=300)])
    estimated_minutes = IntegerField(_l("Estimated minutes"), default=30, validators=[Optional(), NumberRange(min=0, max=10000)])
    completion_rule = SelectField(_l("Completed when"), choices=[
        (RULE_LESSONS, _l("all lessons are completed")),
        (RULE_LESSONS_AND_QUIZ, _l("all lessons are completed and the final quiz is passed"))])
    grants_certificate = BooleanField(_l("Grants a completion certificate"))
    published = BooleanField(_l("Published (members can see it)"))
    unit = SelectField(_l("Unit whose members see it"), coerce=int, choices=[])

    def validate_title_en(self, field):
        if not (self.title_zh.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Give a title in at least one language."))


class LessonForm(FlaskForm):
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    body_zh = TextAreaField(_l("Text (Chinese, Markdown)"), validators=[Optional(), Length(max=100000)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    body_en = TextAreaField(_l("Text (English, Markdown)"), validators=[Optional(), Length(max=100000)])
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0, max=10000)])
    min_seconds = IntegerField(_l("Minimum reading time in seconds (empty: from the length)"),
                               validators=[Optional(), NumberRange(min=0, max=3600)])

    def validate_title_en(self, field):
        if not (self.title_zh.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Give a title in at least one language."))

    def validate_body_en(self, field):
        if not (self.body_zh.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Write the lesson's text in at least one language."))


class AssignmentForm(FlaskForm):
    course = SelectField(_l("Course"), coerce=int, choices=[])
    unit = SelectField(_l("Members of"), coerce=int, choices=[])
    stage = SelectField(_l("Membership stage"), choices=[])
    due_on = DateField(_l("Due date"), validators=[DataRequired(message=_l("Give a due date."))])
    note = TextAreaField(_l("Note to the members"), validators=[Optional(), Length(max=2000)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[
        DataRequired(message=_l("Write something before posting.")), Length(max=2000)])


class HideForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class ReportForm(FlaskForm):
    reason = SelectField(_l("Why do you report it?"), choices=[],
                         validators=[DataRequired(message=_l("Choose a reason."))])
    note = StringField(_l("Note for the moderators (optional)"), validators=[Optional(), Length(max=300)])


class RevokeForm(FlaskForm):
    reason = StringField(_l("Reason for the revocation"), validators=[
        DataRequired(message=_l("Give a reason for the revocation.")), Length(max=300)])
