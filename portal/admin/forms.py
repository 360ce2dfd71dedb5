"""Admin forms, including the settings form generated from ``SettingSpec``s."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.plugins.types import SettingSpec


def settings_form(specs: list[SettingSpec], values: dict) -> FlaskForm:
    """A form with one typed field per setting, pre-filled with ``values``."""

    class SettingsForm(FlaskForm):
        pass

    for spec in specs:
        value = values.get(spec.key, spec.default)
        limits = [NumberRange(min=spec.min, max=spec.max)] if spec.min is not None or spec.max is not None else []
        if spec.type == "bool":
            field = BooleanField(spec.label, default=bool(value), description=spec.help)
        elif spec.type == "int":
            field = IntegerField(spec.label, default=value, validators=[InputRequired(), *limits], description=spec.help)
        elif spec.type == "float":
            field = DecimalField(spec.label, default=value, validators=[InputRequired(), *limits], description=spec.help)
        elif spec.type == "choice":
            field = SelectField(spec.label, default=value, choices=[(k, str(v)) for k, v in spec.choices], description=spec.help)
        elif spec.type == "list":
            field = TextAreaField(spec.label, default=", ".join(map(str, value or [])), description=spec.help)
        elif spec.type == "text":
            field = TextAreaField(spec.label, default=value or "", validators=[Optional(), Length(max=5000)], description=spec.help)
        else:
            field = StringField(spec.label, default=value or "", validators=[Optional(), Length(max=500)], description=spec.help)
        setattr(SettingsForm, f"s_{spec.key}", field)
    return SettingsForm()


class AccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64),
                           Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l("Use letters, digits and . _ - @ only."))])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Regexp(r"^\+?[0-9]{6,20}$", message=_l("Digits only, 6 to 20."))])
    password = StringField(_l("Initial password"), validators=[DataRequired(), Length(max=128)],
                           description=_l("The person must change it at first login."))


class PluginWheelForm(FlaskForm):
    """The plugins page's upload of a plugin wheel (checked by portal.plugins.installer)."""

    wheel = FileField(_l("Plugin wheel (.whl)"), validators=[FileRequired(_l("Choose a .whl file."))])
