"""Log in, log out, change password."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import ChangePasswordForm, LoginForm
from portal.audit.services import audit
from portal.extensions import db
from portal.web.ui import safe_next_url

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by username or phone number; locked accounts get a clear message."""
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            account = services.authenticate(form.login.data, form.password.data, request.remote_addr)
        except services.LoginError as error:
            db.session.commit()  # keep the failure count
            flash(error.message, "error")
            status = error.status if error.status == 429 else 200
        else:
            db.session.commit()
            login_user(account, remember=form.remember.data)
            if account.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next_url(request.args.get("next"), url_for("web.dashboard")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (required after an admin reset)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not services.check_password(current_user, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        elif problem := services.password_problem(form.new.data, current_user.username):
            form.new.errors.append(problem)
        elif form.new.data == form.current.data:
            form.new.errors.append(_("Choose a password different from the current one."))
        else:
            services.set_password(current_user, form.new.data)
            audit("account.password_changed", "account", current_user.id)
            db.session.commit()
            # The session version changed; log this session in again (with the real object:
            # handing flask-login the proxy itself makes current_user point at itself).
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("web.dashboard"))
    # A refused form answers 422, like every other refused form.
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200
