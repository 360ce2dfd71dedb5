"""Forms of the unit, member, account, role and import screens."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.org import labels, validation
from portal.org.models import ROLES
from portal.places_web import PlaceField


def _blank_to_none(value):
    return value.strip() or None if isinstance(value, str) else value


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class UnitForm(FlaskForm):
    """Create or edit a unit."""

    name = StringField(lazy_pgettext("org unit", "Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[])
    place = PlaceField(_l("Place (province, city or county)"),
                       description=_l("Where the unit is, e.g. 江西 吉安 or jian; members' “in the province” is counted from it."))
    is_mobile_branch = BooleanField(_l("Mobile members' branch (set up in a destination city)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = labels.choices(labels.UNIT_KIND_LABELS)


class MoveForm(FlaskForm):
    """Pick the new parent of a unit."""

    parent = SelectField(_l("New parent unit"), coerce=_int_or_none, validate_choice=False,
                         validators=[DataRequired(message=_l("Choose the new parent unit."))])


class MemberForm(FlaskForm):
    """A member's profile (docs/domain.md, "The people"): every field a branch keeps."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    gender = SelectField(_l("Gender"), choices=[])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    ethnicity = StringField(_l("Ethnicity"), validators=[Optional(), Length(max=30)], filters=[_blank_to_none])
    education = SelectField(_l("Education"), choices=[])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=40)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    id_number = StringField(_l("National ID number"), validators=[Optional(), Length(max=40)],
                            render_kw={"autocomplete": "off"})
    clear_id_number = BooleanField(_l("Remove the stored national ID number"))
    stage = SelectField(_l("Membership stage"), choices=[])
    joined_on = DateField(_l("Date joined"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=100)], filters=[_blank_to_none])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=100)], filters=[_blank_to_none])
    employer = StringField(_l("Employer"), validators=[Optional(), Length(max=200)], filters=[_blank_to_none])
    current_province = StringField(_l("Current province"), validators=[Optional(), Length(max=50)],
                                   filters=[_blank_to_none])
    current_city = StringField(_l("Current city"), validators=[Optional(), Length(max=50)], filters=[_blank_to_none])
    home_unit_id = SelectField(_l("Home branch"), coerce=_int_or_none, choices=[])
    is_away = BooleanField(_l("Away from home"))
    host_unit_id = SelectField(_l("Host branch"), coerce=_int_or_none, choices=[],
                               description=_l("Where the member takes part while away."))
    lost_contact = BooleanField(_l("Lost contact"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)], filters=[_blank_to_none])

    def __init__(self, *args, home_choices=(), host_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.gender.choices = labels.choices(labels.GENDER_LABELS, blank=True)
        self.education.choices = labels.choices(labels.EDUCATION_LABELS, blank=True)
        self.stage.choices = labels.choices(labels.STAGE_LABELS)
        self.home_unit_id.choices = list(home_choices)
        self.host_unit_id.choices = [(None, "—")] + list(host_choices)

    def validate_phone(self, field):
        try:
            field.data = validation.normalize_phone(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_id_number(self, field):
        try:
            field.data = validation.normalize_id_number(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_birth_date(self, field):
        if problem := validation.birth_date_problem(field.data):
            raise ValidationError(problem)

    def validate_joined_on(self, field):
        if problem := validation.joined_on_problem(field.data, self.birth_date.data):
            raise ValidationError(problem)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.id_number.data:
            if problem := validation.id_matches_profile_problem(self.id_number.data, self.birth_date.data,
                                                                self.gender.data or None):
                self.id_number.errors.append(problem)
                valid = False
        if valid and self.host_unit_id.data is not None and not self.is_away.data:
            self.is_away.errors.append(_l("A member with a host branch is away from home."))
            valid = False
        return valid

    def profile_data(self) -> dict:
        """The cleaned values for :func:`portal.org.manage.save_member`."""
        return {
            "name": self.name.data.strip(), "gender": self.gender.data or None, "birth_date": self.birth_date.data,
            "ethnicity": self.ethnicity.data, "education": self.education.data or None, "phone": self.phone.data,
            "id_number": self.id_number.data, "clear_id_number": self.clear_id_number.data,
            "stage": self.stage.data, "joined_on": self.joined_on.data, "occupation": self.occupation.data,
            "industry": self.industry.data, "employer": self.employer.data,
            "current_province": self.current_province.data, "current_city": self.current_city.data,
            "is_away": bool(self.is_away.data), "lost_contact": bool(self.lost_contact.data), "notes": self.notes.data,
        }


class ContactForm(FlaskForm):
    """Pick a member's contact person."""

    contact = SelectField(_l("Contact person"), coerce=_int_or_none, choices=[],
                          description=_l("A member of the same home branch who keeps in touch (one-to-one)."))


class MemberAccountForm(FlaskForm):
    """Create a login for a member."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocapitalize": "off", "autocomplete": "off"})
    phone = StringField(_l("Phone number for logging in"), validators=[Optional(), Length(max=40)],
                        render_kw={"inputmode": "tel"})
    password = StringField(_l("Initial password"), validators=[DataRequired(), Length(max=128)],
                           render_kw={"autocomplete": "off"},
                           description=_l("The member must change it at first login."))

    def validate_username(self, field):
        field.data = field.data.strip()
        if problem := validation.username_problem(field.data):
            raise ValidationError(problem)

    def validate_phone(self, field):
        try:
            field.data = validation.normalize_phone(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class ResetPasswordForm(FlaskForm):
    """A temporary password the member must change at next login."""

    password = StringField(_l("Temporary password"), validators=[DataRequired(), Length(max=128)],
                           render_kw={"autocomplete": "off"},
                           description=_l("Tell it to the member in person or by phone; they must change it at next login."))


class RoleForm(FlaskForm):
    """Give an account a role on a unit (and its subtree)."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocapitalize": "off"})
    role = SelectField(_l("Role"), choices=[])

    def __init__(self, *args, allow_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r, str(labels.ROLE_LABELS[r])) for r in ROLES if allow_admin or r != "admin"]


class ImportForm(FlaskForm):
    """Upload a spreadsheet of members."""

    file = FileField(_l("Spreadsheet (.xlsx or .csv)"), render_kw={"accept": ".xlsx,.csv"})
    password = PasswordField(_l("Initial password for new accounts"), validators=[Optional(), Length(max=128)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("Needed when the file has a Username column or accounts by phone are "
                                            "created. Everyone must change it at first login."))
    phone_accounts = BooleanField(_l("Create an account for every member with a phone number "
                                     "(they log in with the phone number)"))


def unit_choices(units, *, indent_from: int = 0) -> list[tuple[int, str]]:
    """``(id, label)`` pairs, indented by depth, for a unit picker."""
    return [(u.id, "\u00a0\u00a0" * max(0, u.depth - indent_from) + u.name) for u in units]

