"""Admin screens: plugins, settings, accounts, permissions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from portal.accounts import services as account_services
from portal.accounts.models import Account
from portal.admin.forms import AccountForm, PluginWheelForm, settings_form
from portal.audit.services import audit
from portal.errors import Forbidden
from portal.extensions import db
from portal.org.forms import ResetPasswordForm
from portal.org.models import ROLES
from portal.org.permissions import permission_registry, require
from portal.plugins import installer
from portal.plugins.manager import get_manager
from portal.plugins.models import PluginPackage
from portal.settings import coerce_setting, get_setting, set_setting, setting_specs
from portal.web.pagination import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    """Links to every admin screen, and the state of the xAPI outbox when a learning record store is connected."""
    from portal.xapi.outbox import is_configured, status

    require("plugins.manage")
    return render_template("admin/index.html", xapi=status() if is_configured() else None)


@bp.get("/plugins")
@login_required
def plugins():
    """Every installed plugin: name, version, description, status, error."""
    require("plugins.manage")
    return _plugins_page(PluginWheelForm())


def _plugins_page(form: PluginWheelForm, status: int = 200):
    manager = get_manager()
    packages = {row.name: row for row in db.session.scalars(select(PluginPackage).where(PluginPackage.removed_at.is_(None)))}
    rows = [{"info": info, "status": manager.status(name), "error": manager.error(name), "package": packages.get(name)}
            for name, info in sorted(manager.plugins.items())]
    waiting = [row for name, row in sorted(packages.items()) if name not in manager.plugins]
    return render_template("admin/plugins.html", rows=rows, waiting=waiting, form=form,
                           stale=manager.stale(), reloading=manager.reload_requested), status


@bp.post("/plugin-packages")
@login_required
def install_plugin():
    """Install an uploaded plugin wheel: validated, unpacked, migrated, then listed disabled."""
    require("plugins.manage")
    form = PluginWheelForm()
    if not form.validate_on_submit():
        return _plugins_page(form, 422)
    upload = form.wheel.data
    try:
        package = installer.install_wheel(upload.filename or "", upload.read())
    except installer.InstallError as error:
        form.wheel.errors = [*form.wheel.errors, str(error)]
        return _plugins_page(form, 422)
    flash(_("Plugin %(name)s %(version)s is installed, disabled. Enable it once the workers have reloaded.",
            name=package.name, version=package.version), "success")
    return redirect(url_for("admin.plugins"))


@bp.post("/plugin-packages/<name>/remove")
@login_required
def remove_plugin(name: str):
    """Remove a plugin installed from a wheel; its tables and data are kept."""
    require("plugins.manage")
    if db.session.get(PluginPackage, name) is None:
        abort(404)
    try:
        installer.remove_package(name)
    except installer.InstallError as error:
        flash(str(error), "error")
    else:
        flash(_("Plugin %(name)s is removed. Its data is kept: installing it again finds it.", name=name), "success")
    return redirect(url_for("admin.plugins"))


@bp.post("/plugins/<name>")
@login_required
def toggle_plugin(name: str):
    """Enable or disable a plugin; applies at once in every worker."""
    require("plugins.manage")
    manager = get_manager()
    if name not in manager.plugins:
        abort(404)
    action = request.form.get("action")
    if action not in ("enable", "disable"):
        flash(_("Unknown action."), "error")
        return redirect(url_for("admin.plugins"))
    package = db.session.get(PluginPackage, name)
    if action == "enable" and package is not None and package.removed_at is not None:
        flash(_("This plugin was removed; install it again to enable it."), "error")
        return redirect(url_for("admin.plugins"))
    if action == "enable" and manager.plugins[name].module is None:
        flash(_("This plugin cannot be enabled: it failed to load."), "error")
        return redirect(url_for("admin.plugins"))
    manager.set_enabled(name, action == "enable")
    audit(f"plugin.{action}d", "plugin", name)
    db.session.commit()
    flash(_("Plugin %(name)s is now %(state)s.", name=name,
            state=_("enabled") if action == "enable" else _("disabled")), "success")
    return redirect(url_for("admin.plugins"))


@bp.route("/settings", methods=["GET", "POST"])
@bp.route("/settings/<namespace>", methods=["GET", "POST"])
@login_required
def settings(namespace: str | None = None):
    """A generated form for the settings of the core or one plugin."""
    require("settings.manage")
    specs = setting_specs()
    namespace = namespace or "core"
    if namespace not in specs:
        abort(404)
    values = {spec.key: get_setting(namespace, spec.key) for spec in specs[namespace]}
    form = settings_form(specs[namespace], values)
    if form.validate_on_submit():
        changed = {}
        for spec in specs[namespace]:
            raw = form[f"s_{spec.key}"].data
            value = coerce_setting(spec, "on" if raw is True else "" if raw is False else str(raw))
            if value != values.get(spec.key):
                set_setting(namespace, spec.key, value)
                changed[spec.key] = value
        audit("settings.changed", "settings", namespace, **changed)
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.settings", namespace=namespace))
    return (render_template("admin/settings.html", form=form, namespace=namespace, namespaces=sorted(specs)),
            422 if form.errors else 200)


@bp.get("/permissions")
@login_required
def permissions():
    """Every permission the core and the enabled plugins declare, and which roles hold it."""
    require("plugins.manage")
    perms = sorted(permission_registry().values(), key=lambda p: p.name)
    return render_template("admin/permissions.html", perms=perms, roles=ROLES)


@bp.get("/accounts")
@login_required
def accounts():
    """Search accounts by username, name or phone."""
    require("accounts.manage")
    query = select(Account).order_by(Account.username)
    term = (request.args.get("q") or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(or_(Account.username.ilike(like), Account.display_name.ilike(like), Account.phone.ilike(like)))
    page = paginate(query)
    return render_template("admin/accounts.html", page=page, q=term, form=AccountForm(),
                           locked_ids=account_services.locked_among(list(page.items)))


@bp.post("/accounts")
@login_required
def create_account():
    """Create an account that must change its password at first login."""
    require("accounts.manage")
    form = AccountForm()
    if form.validate_on_submit():
        if account_services.find_account(form.username.data) or (form.phone.data and account_services.find_account(form.phone.data)):
            form.username.errors.append(_("This username or phone number is already taken."))
        elif problem := account_services.password_problem(form.password.data, form.username.data):
            form.password.errors.append(problem)
        else:
            account = Account(username=form.username.data.strip(), display_name=form.display_name.data.strip(),
                              phone=form.phone.data or None, password_hash="!")
            account_services.set_password(account, form.password.data, must_change=True)
            db.session.add(account)
            db.session.flush()
            audit("account.created", "account", account.id, username=account.username)
            db.session.commit()
            flash(_("Account %(name)s created.", name=account.username), "success")
            return redirect(url_for("admin.accounts"))
    page = paginate(select(Account).order_by(Account.username))
    return render_template("admin/accounts.html", page=page, q="", form=form), 422


@bp.route("/accounts/<int:account_id>/password", methods=["GET", "POST"])
@login_required
def reset_account_password(account_id: int):
    """Give any account (with or without a member profile) a temporary password."""
    require("accounts.manage")
    account = db.session.get(Account, account_id) or abort(404)
    if account.id == current_user.id:
        return redirect(url_for("auth.change_password"))
    form = ResetPasswordForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                account_services.reset_password(account, form.password.data)
            except ValueError as error:
                form.password.errors.append(str(error))
            else:
                db.session.commit()
                flash(_("The password of %(name)s was reset. They must choose a new one at next login.",
                        name=account.display_name), "success")
                return redirect(url_for("admin.accounts"))
    return render_template("admin/account_password.html", form=form, account=account), status


@bp.post("/accounts/<int:account_id>/active")
@login_required
def set_account_active(account_id: int):
    """Deactivate or reactivate an account (a deactivated account cannot log in); never one's own,
    which would lock the admin out."""
    require("accounts.manage")
    account = db.session.get(Account, account_id) or abort(404)
    if account.id == current_user.id:
        raise Forbidden(_("You cannot deactivate or reactivate your own account."))
    account.is_active_account = request.form.get("active") == "1"
    account.session_version += 1
    audit("account.activated" if account.is_active_account else "account.deactivated", "account", account.id)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("admin.accounts"))
