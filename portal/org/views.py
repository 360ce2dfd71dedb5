"""Org tree and member screens for secretaries, organizers and admins.

Thin views: parse the form, check the permission with ``require``/``require_member``,
call :mod:`portal.org.manage` or :mod:`portal.org.importer`, render.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, or_, select

from portal.audit.services import audit
from portal.extensions import db
from portal.plugins.manager import call_each
from portal.database import utcnow
from portal.org import importer, manage
from portal.org.forms import (
    ContactForm, ImportForm, MemberAccountForm, MemberForm, MoveForm, ResetPasswordForm, RoleForm, UnitForm,
    unit_choices,
)
from portal.org.labels import ROLE_LABELS, label
from portal.org.models import STAGES, UNIT_OFFICER_ROLES, Member, OrgUnit, RoleAssignment, in_subtree, member_stage_filter
from portal.org.permissions import (
    can, can_see_member, is_admin, manageable_units, member_scope, require, require_member, unit_scope,
)
from portal.web.exports import xlsx_response
from portal.web.forms import form_post
from portal.web.pagination import paginate

bp = Blueprint("org", __name__)

#: Most units offered in a picker (bigger trees: pick from a unit further down).
PICKER_LIMIT = 2000


def _unit_or_404(unit_id: int) -> OrgUnit:
    return db.session.get(OrgUnit, unit_id) or abort(404)


@bp.get("/units")
@login_required
def units():
    """The part of the tree the current user may see, as an indented list."""
    if not can("units.dashboard") and not can("units.manage"):
        abort(403)
    tops = manageable_units("units.dashboard")
    rows = []
    for top in tops:
        rows.extend(db.session.scalars(select(OrgUnit).where(in_subtree(OrgUnit.path, top.path))
                                       .order_by(OrgUnit.path).limit(2000)))
    return render_template("org/units.html", rows=rows)


def member_filters(query, unit: OrgUnit, args):
    """Apply the member list's filters: text, stage, away/hosted/lost contact."""
    hosted = args.get("where", "home") == "hosted"
    column = Member.host_unit_id if hosted else Member.home_unit_id
    subtree = select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit.path))
    if unit.parent_id is None and not hosted:
        # A root is home to (nearly) everyone: walk the members (by the name index when sorted by name)
        # and test each against the subtree's ids; "+ 0" keeps both databases off the unit index,
        # which would fetch every member and sort them all (30 000 members: page 20 in ~1 ms, not ~10).
        query = query.where((column + 0).in_(subtree))
    else:
        # Below the root (and the few hosted anywhere), fetch the subtree's members through the
        # index on their unit (100 000 members: a township's list in ~10 ms instead of ~90 ms on SQLite).
        query = query.where(column.in_(subtree))
    if args.get("stage") in STAGES:
        query = query.where(Member.stage == args["stage"])
    if args.get("status") == "away":
        query = query.where(Member.is_away.is_(True))
    elif args.get("status") == "lost":
        query = query.where(Member.lost_contact.is_(True))
    term = (args.get("q") or "").strip()
    if term:
        query = query.where(or_(Member.name.contains(term), Member.phone.contains(term)))
    return query


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """A unit's members (home or hosted), filterable and paginated."""
    unit = _unit_or_404(unit_id)
    hosted = request.args.get("where") == "hosted"
    if not hosted:
        require("members.view", unit)
    elif not (can("members.view", unit) or _hosts(unit)):
        abort(404)
    query = member_filters(select(Member), unit, request.args)
    if hosted:
        query = query.where(member_scope("members.view"))
    # else members.view on the unit covers every member whose home lies in its subtree: no scope test per row.
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
    listed, members = db.session.execute(query.with_only_columns(
        func.count(), func.count(case((member_stage_filter(), 1))), maintain_column_froms=True)).one()
    page = paginate(query.order_by(Member.name, Member.id), total=listed)
    return render_template("org/unit.html", unit=unit, page=page, children=children, args=request.args,
                           stages=STAGES, members=members)


def _hosts(unit: OrgUnit) -> bool:
    return any(r.role in UNIT_OFFICER_ROLES and r.unit.contains(unit) for r in current_user.roles)


@bp.get("/units/<int:unit_id>/members.xlsx")
@login_required
def export_members(unit_id: int):
    """The unit subtree's members as a spreadsheet (what secretaries hand upward)."""
    unit = _unit_or_404(unit_id)
    require("members.export", unit)
    from portal.org.exchange import member_export_headers, member_export_rows

    query = member_filters(select(Member), unit, request.args).order_by(Member.home_unit_id, Member.name)
    members = db.session.scalars(query)
    audit("members.exported", "unit", unit.id, unit_id=unit.id)
    db.session.commit()
    return xlsx_response(f"{unit.name}-members.xlsx", member_export_headers(), member_export_rows(members))


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    """A member's profile; the ID number unmasked only to those entitled (and audited)."""
    member = require_member(db.session.get(Member, member_id))
    show_id = request.args.get("show_id") == "1" and can_see_member(member, "members.view_sensitive") \
        and member.account_id != current_user.id
    if show_id:
        audit("member.id_number_viewed", "member", member.id, unit_id=member.home_unit_id)
        db.session.commit()
    may_see_id = can_see_member(member, "members.view_sensitive")
    return render_template("org/member.html", member=member, show_id=show_id, may_see_id=may_see_id,
                           summary=_participation(member),
                           may_edit=can("members.edit", member.home_unit),
                           may_reset=manage.may_reset_password(member, current_user))


def _participation(member: Member) -> list[tuple[str, object]]:
    """The plugins' summary of the last 12 months — for the home side and the member only.

    The host side sees profile basics, not dues, reports or care (docs/architecture.md, "Permissions").
    """
    if member.account_id != current_user.id and not can("members.view", member.home_unit):
        return []
    until = utcnow()
    pairs = call_each("portal_member_summary", member=member, since=until - timedelta(days=365), until=until)
    return [pair for _plugin, result in pairs for pair in result]


# --- unit administration -----------------------------------------------------------------------

def _scope_units(permission: str, *, exclude: OrgUnit | None = None) -> list[OrgUnit]:
    """Open units the current user holds ``permission`` over, in tree order (for pickers)."""
    query = select(OrgUnit).where(unit_scope(permission), OrgUnit.closed_at.is_(None))
    if exclude is not None:
        query = query.where(~in_subtree(OrgUnit.path, exclude.path))
    return list(db.session.scalars(query.order_by(OrgUnit.path).limit(PICKER_LIMIT)))


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
def new_unit():
    """Create a unit below ``?parent=`` (admins may also create a new root)."""
    parent_id = request.args.get("parent", type=int)
    parent = _unit_or_404(parent_id) if parent_id else None
    if parent is None and not is_admin():
        abort(403)
    require("units.manage", parent) if parent is not None else None
    form = UnitForm()

    def page(status: int = 200):
        return render_template("org/unit_form.html", form=form, parent=parent, unit=None), status

    if form.validate_on_submit():
        return form_post(
            lambda: manage.create_unit(form.name.data, form.kind.data, parent, is_mobile_branch=form.is_mobile_branch.data,
                                       **_posted_place_fields()),
            success=lambda unit: _("Unit %(name)s created.", name=unit.name),
            redirect_to=lambda unit: url_for("org.unit", unit_id=unit.id),
            form=form, on_error=lambda error: page(422))
    return page(422 if request.method == "POST" else 200)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def edit_unit(unit_id: int):
    """Rename a unit, change its kind, province, city or mobile-branch flag; links to move and close."""
    unit = _unit_or_404(unit_id)
    require("units.manage", unit)
    form = UnitForm(obj=unit, place=unit.place_code or " ".join(filter(None, (unit.province, unit.city))))
    if form.validate_on_submit():
        return form_post(
            lambda: manage.update_unit(unit, name=form.name.data.strip(), kind=form.kind.data,
                                       is_mobile_branch=bool(form.is_mobile_branch.data),
                                       **_posted_place_fields()),
            success=lambda changed: _("Saved.") if changed else _("Nothing changed."),
            redirect_to=url_for("org.edit_unit", unit_id=unit.id),
            form=form, on_error=lambda error: _unit_edit_page(unit, form, 422))
    return _unit_edit_page(unit, form, 422 if request.method == "POST" else 200)


def _posted_place_fields() -> dict:
    """The unit's place as posted (the picker, or the province and city fields of older clients) as
    ``place_code`` + display text; nothing when the request does not mention the place."""
    if "place" in request.form:
        return manage.unit_place_fields(request.form["place"])
    if "province" in request.form or "city" in request.form:
        return manage.unit_place_fields("".join(request.form.get(key, "") for key in ("province", "city")))
    return {}


def _unit_edit_page(unit: OrgUnit, form: UnitForm, status: int = 200):
    return render_template("org/unit_form.html", form=form, parent=unit.parent, unit=unit,
                           contents=manage.unit_contents(unit)), status


@bp.route("/units/<int:unit_id>/move", methods=["GET", "POST"])
@login_required
def move_unit(unit_id: int):
    """Move a unit (and everything under it) below another unit the user manages."""
    unit = _unit_or_404(unit_id)
    require("units.manage", unit)
    form = MoveForm()
    form.parent.choices = [(None, "—")] + unit_choices(_scope_units("units.manage"))
    status = 200

    def page(status: int):
        return render_template("org/unit_move.html", form=form, unit=unit), status

    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            new_parent = db.session.get(OrgUnit, form.parent.data)
            if new_parent is None or not can("units.manage", new_parent):
                form.parent.errors.append(_("Choose one of the units you manage."))
            else:
                return form_post(lambda: manage.move_unit(unit, new_parent), success=_("Unit moved."),
                                 redirect_to=url_for("org.unit", unit_id=unit_id), form=form,
                                 on_error=lambda error: page(422))
    return page(status)


@bp.post("/units/<int:unit_id>/close")
@login_required
def close_unit(unit_id: int):
    """Close an empty unit; a unit with sub-units or members stays open with a message saying why."""
    unit = _unit_or_404(unit_id)
    require("units.manage", unit)
    return form_post(lambda: manage.close_unit(unit), success=_("Unit %(name)s closed.", name=unit.name),
                     redirect_to=url_for("org.unit", unit_id=unit_id),
                     on_error=lambda error: _unit_edit_page(unit, UnitForm(obj=unit, formdata=None), error.status))


# --- roles -----------------------------------------------------------------------------------

@bp.route("/units/<int:unit_id>/roles", methods=["GET", "POST"])
@login_required
def roles(unit_id: int):
    """Who holds which role on this unit (covering its subtree); give and take roles."""
    unit = _unit_or_404(unit_id)
    require("roles.manage", unit)
    form = RoleForm(allow_admin=is_admin())

    def page(status: int):
        return render_template("org/roles.html", unit=unit, form=form, assignments=manage.unit_roles(unit)), status

    if form.validate_on_submit():
        return form_post(
            lambda: manage.assign_role(form.username.data, form.role.data, unit, current_user),
            success=lambda assignment: _("%(user)s is now %(role)s of %(unit)s.", user=assignment.account.username,
                                         role=label(ROLE_LABELS, assignment.role), unit=unit.name),
            redirect_to=url_for("org.roles", unit_id=unit.id), form=form, on_error=lambda error: page(422))
    return page(422 if request.method == "POST" else 200)


@bp.post("/units/<int:unit_id>/roles/<int:assignment_id>/remove")
@login_required
def remove_role(unit_id: int, assignment_id: int):
    """Take a role away."""
    unit = _unit_or_404(unit_id)
    require("roles.manage", unit)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.unit_id != unit.id:
        abort(404)
    return form_post(lambda: manage.remove_role(assignment, current_user), success=_("Role removed."),
                     redirect_to=url_for("org.roles", unit_id=unit.id),
                     on_error=lambda error: (render_template(
                         "org/roles.html", unit=unit, form=RoleForm(allow_admin=is_admin(), formdata=None),
                         assignments=manage.unit_roles(unit)), error.status))


# --- members ---------------------------------------------------------------------------------

def _member_form(member: Member | None = None, **kwargs) -> MemberForm:
    homes = _scope_units("members.edit")
    if member is not None and member.home_unit_id not in {u.id for u in homes}:
        homes.insert(0, member.home_unit)
    hosts = list(db.session.scalars(select(OrgUnit).where(
        OrgUnit.closed_at.is_(None), or_(OrgUnit.is_mobile_branch.is_(True), unit_scope("members.edit")))
        .order_by(OrgUnit.path).limit(PICKER_LIMIT)))
    if member is not None and member.host_unit is not None and member.host_unit_id not in {u.id for u in hosts}:
        hosts.insert(0, member.host_unit)
    form = MemberForm(obj=member, home_choices=unit_choices(homes), host_choices=unit_choices(hosts), **kwargs)
    if not form.id_number.raw_data:
        form.id_number.data = None  # never put the stored number into the page; empty keeps it
    return form


def _chosen_units(form: MemberForm) -> tuple[OrgUnit, OrgUnit | None]:
    home = db.session.get(OrgUnit, form.home_unit_id.data) if form.home_unit_id.data else None
    if home is None or not can("members.edit", home):
        abort(404)
    host = db.session.get(OrgUnit, form.host_unit_id.data) if form.host_unit_id.data else None
    return home, host


@bp.route("/units/<int:unit_id>/members/new", methods=["GET", "POST"])
@login_required
def new_member(unit_id: int):
    """Add a member to a unit."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    form = _member_form()
    if request.method == "GET":
        form.home_unit_id.data = unit.id
    status = 200

    def page(status: int):
        return render_template("org/member_form.html", form=form, unit=unit, member=None), status

    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            home, host = _chosen_units(form)
            return form_post(lambda: manage.save_member(None, form.profile_data(), home, host),
                             success=lambda member: _("%(name)s added.", name=member.name),
                             redirect_to=lambda member: url_for("org.member", member_id=member.id),
                             form=form, on_error=lambda error: page(422))
    return page(status)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit_member(member_id: int):
    """Edit a member's profile (``members.edit`` on the member's home unit)."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    require("members.edit", member.home_unit)
    form = _member_form(member)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            home, host = _chosen_units(form)
            return form_post(lambda: manage.save_member(member, form.profile_data(), home, host),
                             success=_("Saved."), redirect_to=url_for("org.member", member_id=member_id), form=form,
                             on_error=lambda error: (render_template("org/member_form.html", form=form,
                                                                     unit=member.home_unit, member=member), 422))
    return render_template("org/member_form.html", form=form, unit=member.home_unit, member=member), status


@bp.route("/members/<int:member_id>/contact", methods=["GET", "POST"])
@login_required
def member_contact(member_id: int):
    """Assign the member's contact person (one-to-one pairing)."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    require("members.edit", member.home_unit)
    form = ContactForm(contact=member.contact_member_id)
    form.contact.choices = [(None, "—")] + [(m.id, m.name) for m in manage.contact_candidates(member)]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            contact = db.session.get(Member, form.contact.data) if form.contact.data else None
            return form_post(lambda: manage.assign_contact(member, contact), success=_("Saved."),
                             redirect_to=url_for("org.member", member_id=member_id), form=form,
                             on_error=lambda error: (render_template("org/member_contact.html", form=form,
                                                                     member=member), 422))
    return render_template("org/member_contact.html", form=form, member=member), status


@bp.route("/members/<int:member_id>/account", methods=["GET", "POST"])
@login_required
def member_account(member_id: int):
    """Create a login for a member who has none (initial password, changed at first login)."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    require("members.edit", member.home_unit)
    if member.account_id is not None:
        flash(_("This member already has an account."), "error")
        if request.method == "POST":
            abort(409)
        return redirect(url_for("org.member", member_id=member_id))
    form = MemberAccountForm(username=member.phone, phone=member.phone)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            return form_post(
                lambda: manage.create_account_for_member(member, form.username.data, form.phone.data,
                                                         form.password.data),
                success=lambda account: _("Account %(name)s created. The member must change the password at "
                                          "first login.", name=account.username),
                redirect_to=url_for("org.member", member_id=member_id), form=form,
                on_error=lambda error: (render_template("org/member_account.html", form=form, member=member), 422))
    return render_template("org/member_account.html", form=form, member=member), status


@bp.route("/members/<int:member_id>/password", methods=["GET", "POST"])
@login_required
def reset_password(member_id: int):
    """Give a member a temporary password they must change at next login."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    require("accounts.reset_password", member.home_unit)
    if not manage.may_reset_password(member, current_user):
        abort(403 if member.account_id else 404)
    form = ResetPasswordForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            return form_post(
                lambda: manage.reset_password(member, form.password.data),
                success=_("The password of %(name)s was reset. They must choose a new one at next login.",
                          name=member.name),
                redirect_to=url_for("org.member", member_id=member_id), form=form,
                on_error=lambda error: (render_template("org/member_password.html", form=form, member=member), 422))
    return render_template("org/member_password.html", form=form, member=member), status


# --- import --------------------------------------------------------------------------------

SESSION_KEY = "member_import"
#: The rows left out by the last good-rows import, downloadable once it is done.
REJECTED_KEY = "member_import_rejected"


def _import_page(unit: OrgUnit, form: ImportForm, status: int = 200, **context):
    rejected = session.get(REJECTED_KEY) if "plan" not in context and "notice" not in context else None
    return render_template("org/import.html", unit=unit, form=form, titles=importer.column_titles(),
                           max_rows=current_app.config["IMPORT_MAX_ROWS"], ignore=importer.IGNORE,
                           rejected_token=rejected if importer.load_upload(rejected) else None,
                           max_mb=current_app.config["UPLOAD_MAX_BYTES"] / 1024 / 1024, **context), status


def _check_stored(unit: OrgUnit, data: bytes, meta: dict) -> importer.ImportPlan:
    """Check a stored upload again with its options and column mapping (raises ImportFileError)."""
    return importer.check_file(data, meta["filename"], scope=unit, default_unit=unit,
                               phone_accounts=meta["phone_accounts"], password_checked=bool(meta["password_hash"]),
                               column_map=meta.get("column_map") or {})


def _plan_page(unit: OrgUnit, form: ImportForm, plan: importer.ImportPlan, token: str, filename: str):
    """The page after a check: map unfamiliar columns, the error report, or the preview.

    The upload stays stored under ``token`` while something can still be done
    with it (map columns, import it, import its good rows); otherwise it is dropped.
    """
    if plan.unknown_columns:
        return _import_page(unit, form, 200, plan=plan, filename=filename, token=token, mapping=True,
                            choices=importer.column_titles())
    if plan.problems:
        if not plan.can_import_good_rows:
            importer.discard_upload(token)
            session.pop(SESSION_KEY, None)
            token = None
        return _import_page(unit, form, 422, plan=plan, filename=filename, token=token)
    return _import_page(unit, form, 200, plan=plan, filename=filename, token=token, preview=plan.rows[:200])


@bp.route("/units/<int:unit_id>/import", methods=["GET", "POST"])
@login_required
def import_members(unit_id: int):
    """Upload a spreadsheet: a preview when every row is right, else the row-by-row error report
    (or first a step to map columns with unfamiliar titles)."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    form = ImportForm()
    if request.method == "GET":
        return _import_page(unit, form)
    upload = request.files.get("file")
    if not form.validate():
        return _import_page(unit, form, 422)
    if upload is None or not upload.filename:
        form.file.errors.append(_("Choose a file to upload."))
        return _import_page(unit, form, 400)
    max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    data = upload.read(max_bytes + 1)
    options = dict(scope=unit, default_unit=unit, phone_accounts=bool(form.phone_accounts.data))
    try:
        plan = importer.check_file(data, upload.filename, password=form.password.data or None, **options)
    except importer.ImportFileError as error:
        form.file.errors.append(error.message)
        return _import_page(unit, form, 413 if len(data) > max_bytes else 400)
    from portal.accounts.services import hash_password, password_problem

    password = form.password.data
    importer.discard_upload(session.pop(SESSION_KEY, None))
    token = importer.store_upload(data, {
        "unit_id": unit.id, "account_id": current_user.id, "filename": upload.filename,
        "phone_accounts": options["phone_accounts"], "column_map": {},
        # Kept only as a hash, and only once it was found acceptable: the mapping step cannot ask again.
        "password_hash": hash_password(password) if password and not password_problem(password) else None,
    })
    session[SESSION_KEY] = token
    return _plan_page(unit, form, plan, token, upload.filename)


def _stored_import(unit: OrgUnit, key: str = SESSION_KEY, token: str | None = None):
    token = token or request.form.get("token")
    stored = importer.load_upload(token) if token and token == session.get(key) else None
    if stored is None or stored[1].get("unit_id") != unit.id or stored[1].get("account_id") != current_user.id:
        return token, None
    return token, stored


def _expired(unit: OrgUnit, form: ImportForm):
    return _import_page(unit, form, 409, notice=_("This import has expired or was already done. "
                                                  "Upload the file again."))


@bp.post("/units/<int:unit_id>/import/map")
@login_required
def import_map(unit_id: int):
    """Take the secretary's choice (a field, or ignore) for each unfamiliar column, then check the file again."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    token, stored = _stored_import(unit)
    form = ImportForm(formdata=None)
    if stored is None:
        return _expired(unit, form)
    data, meta = stored
    allowed = {*importer.column_titles(), importer.IGNORE}
    chosen = {importer.normalize_column(title): target for title, target in
              zip(request.form.getlist("column"), request.form.getlist("field"), strict=False) if target in allowed}
    meta["column_map"] = {**(meta.get("column_map") or {}), **chosen}
    importer.update_upload(token, column_map=meta["column_map"])
    try:
        plan = _check_stored(unit, data, meta)
    except importer.ImportFileError as error:  # limits changed since the upload
        importer.discard_upload(token)
        session.pop(SESSION_KEY, None)
        return _import_page(unit, form, 409, notice=error.message)
    return _plan_page(unit, form, plan, token, meta["filename"])


@bp.post("/units/<int:unit_id>/import/confirm")
@login_required
def import_confirm(unit_id: int):
    """Import the previewed file after checking it again: everything or nothing, unless the secretary
    chose to import only the good rows (then the rejected rows stay downloadable)."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    token, stored = _stored_import(unit)
    form = ImportForm(formdata=None)
    if stored is None:
        return _expired(unit, form)
    data, meta = stored
    good_rows = request.form.get("good_rows") == "1"
    try:
        plan = _check_stored(unit, data, meta)
    except importer.ImportFileError as error:  # limits changed since the preview
        plan, notice = None, error.message
    else:
        notice = None
    if plan is None or not plan.importable(good_rows):
        importer.discard_upload(token)
        session.pop(SESSION_KEY, None)
        return _import_page(unit, form, 409, plan=plan, filename=meta["filename"], notice=notice)
    count = importer.apply_import(plan, password_hash=meta["password_hash"], unit=unit, filename=meta["filename"],
                                  good_rows=good_rows)
    db.session.commit()
    importer.discard_upload(token)
    session.pop(SESSION_KEY, None)
    importer.discard_upload(session.pop(REJECTED_KEY, None))
    if plan.rejected:
        session[REJECTED_KEY] = importer.store_rejected_rows(plan, {"unit_id": unit.id, "account_id": current_user.id,
                                                                    "filename": meta["filename"]})
        flash(_("%(n)d members imported; %(m)d rows were not imported. Download them, correct them and import "
                "them again.", n=count, m=len(plan.rejected)), "success")
        return redirect(url_for("org.import_members", unit_id=unit.id))
    flash(_("%(n)d members imported.", n=count), "success")
    return redirect(url_for("org.unit", unit_id=unit.id))


@bp.get("/units/<int:unit_id>/import/rejected.xlsx")
@login_required
def import_rejected(unit_id: int):
    """The rejected rows with a column of problems: of the file being checked, or left by a good-rows import."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    token = request.args.get("token")
    _token, stored = _stored_import(unit, REJECTED_KEY, token)
    if stored is not None:
        headers, rows = importer.load_rejected_rows(stored[0])
    else:
        _token, stored = _stored_import(unit, SESSION_KEY, token)
        if stored is None:
            abort(404)
        try:
            headers, rows = importer.rejected_rows_table(_check_stored(unit, *stored))
        except importer.ImportFileError:
            abort(404)
    stem = stored[1]["filename"].rsplit(".", 1)[0]
    return xlsx_response(_("%(name)s - rejected rows.xlsx", name=stem), headers, rows, title=_("Rejected rows"))


@bp.post("/units/<int:unit_id>/import/cancel")
@login_required
def import_cancel(unit_id: int):
    """Drop the previewed file."""
    unit = _unit_or_404(unit_id)
    require("members.edit", unit)
    token, _stored = _stored_import(unit)
    if _stored is not None:
        importer.discard_upload(token)
    session.pop(SESSION_KEY, None)
    flash(_("Import cancelled; nothing was changed."), "success")
    return redirect(url_for("org.import_members", unit_id=unit.id))
