"""Forms of the points plugin."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


class RuleForm(FlaskForm):
    verb = SelectField(_l("Activity"), choices=[], validators=[DataRequired()])
    enabled = BooleanField(_l("Enabled"), default=True)
    points = IntegerField(_l("Points"), default=1, validators=[InputRequired(), NumberRange(min=1, max=1000)])
    per_extra = StringField(_l("Points per unit of"), validators=[
        Optional(), Length(max=32), Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$", message=_l("Letters, digits and _ only."))],
        description=_l("Leave empty for points per occurrence; \"correct\" gives points per correct answer."))
    daily_cap = IntegerField(_l("Daily cap (points)"), validators=[Optional(), NumberRange(min=1, max=10000)],
                             description=_l("Leave empty for no cap."))
    once_per_object = BooleanField(_l("Once per object (e.g. a lesson counts once ever)"))
    cooldown_seconds = IntegerField(_l("Cooldown (seconds)"), default=0,
                                    validators=[InputRequired(), NumberRange(min=0, max=7 * 86400)],
                                    description=_l("The same action again within this time earns nothing."))
    min_score = IntegerField(_l("Minimum score (percent)"), validators=[Optional(), NumberRange(min=0, max=100000)],
                             description=_l("For quizzes: percent of the maximum score needed to earn points."))
    active_from = DateField(_l("Active from"), validators=[Optional()])
    active_until = DateField(_l("Active until"), validators=[Optional()])

    def values(self) -> dict:
        return {
            "enabled": bool(self.enabled.data), "points": self.points.data,
            "per_extra": (self.per_extra.data or "").strip() or None, "daily_cap": self.daily_cap.data,
            "once_per_object": bool(self.once_per_object.data), "cooldown_seconds": self.cooldown_seconds.data or 0,
            "min_score": self.min_score.data, "active_from": self.active_from.data,
            "active_until": self.active_until.data,
        }


class AwardForm(FlaskForm):
    points = IntegerField(_l("Points (negative to deduct)"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)],
                           description=_l("Required. The member sees it in their history."))
    campaign_id = SelectField(_l("Campaign"), coerce=int, choices=[], validate_choice=True)


class ReverseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the reversal"), validators=[DataRequired(), Length(min=4, max=500)])


class PrivacyForm(FlaskForm):
    hide = BooleanField(_l("Hide my name on leaderboards outside my own branch"))


class CampaignForm(FlaskForm):
    name = StringField(lazy_pgettext("campaign", "Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    starts_on = DateField(_l("First day"), validators=[DataRequired()])
    ends_on = DateField(_l("Last day"), validators=[DataRequired()])
    units = SelectMultipleField(_l("Participating units"), coerce=int, choices=[], validators=[DataRequired()])
