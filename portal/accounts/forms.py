"""Forms for logging in and changing passwords."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    login = StringField(_l("Username or phone number"), validators=[DataRequired(), Length(max=64)],
                        render_kw={"autocomplete": "username", "autocapitalize": "off"})
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this phone"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)], render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("New password again"), validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
                           render_kw={"autocomplete": "new-password"})


class EmailForm(FlaskForm):
    """One's e-mail address; empty removes it (the service checks the address)."""

    email = EmailField(_l("E-mail address"), validators=[Optional()],
                       description=_l("Messages from the portal can also come by e-mail. Leave empty to remove it."),
                       render_kw={"autocomplete": "email", "autocapitalize": "off"})
