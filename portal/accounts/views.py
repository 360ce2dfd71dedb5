"""Log in, log out, change password."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from portal.accounts import services
from portal.accounts.forms import ChangePasswordForm, EmailForm, LoginForm
from portal.accounts.models import Account
from portal.audit.services import audit
from portal.extensions import db
from portal.web.forms import form_post
from portal.web.ui import safe_next_url

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by username or phone number; locked accounts get a clear message."""
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            account = services.authenticate(form.login.data, form.password.data, request.remote_addr)
        except services.LoginError as error:
            db.session.commit()  # keep the failure count
            flash(error.message, "error")
            status = error.status if error.status == 429 else 200
            if error.retry_after:
                headers["Retry-After"] = str(error.retry_after)
        else:
            services.log_in(account, remember=form.remember.data)
            db.session.commit()
            if account.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next_url(request.args.get("next"), url_for("web.dashboard")))
    return render_template("auth/login.html", form=form), status, headers


@bp.post("/logout")
def logout():
    """End the session, server-side too: the old cookie no longer logs anyone in."""
    services.log_out()
    db.session.commit()
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


@bp.get("/account")
@login_required
def account():
    """One's login: e-mail address, change the password, see and revoke the API tokens (the phone app's logins)."""
    return render_account(EmailForm(email=current_user.email))


def render_account(email_form: EmailForm, status: int = 200):
    """The account page with ``email_form`` (a refused one shows its messages)."""
    return render_template("auth/account.html", tokens=services.live_tokens(current_user),
                           email_form=email_form), status


@bp.post("/account/email")
@login_required
def change_email():
    """Add, change or remove one's e-mail address (empty removes it); a bad address changes nothing."""
    form = EmailForm()
    if not form.validate_on_submit():
        return render_account(form, 400)
    return form_post(lambda: services.set_email(current_user, form.email.data),
                     success=lambda email: _("Your e-mail address was saved.") if email
                     else _("Your e-mail address was removed."),
                     redirect_to=url_for("auth.account"), form=form,
                     on_error=lambda error: render_account(form, error.status))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens; someone else's is not found."""
    if not services.revoke_token(current_user, token_id):
        abort(404)
    audit("account.token_revoked", "account", current_user.id, token_id=token_id)
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/accounts/<int:account_id>/unlock")
@login_required
def unlock(account_id: int):
    """Lift every login lock of an account: a site admin, or whoever may reset its password."""
    target = db.session.get(Account, account_id) or abort(404)
    if not may_unlock(target, current_user):
        abort(404)
    services.unlock(target)
    db.session.commit()
    flash(_("%(name)s can log in again.", name=target.display_name), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("web.dashboard")))


@bp.app_template_global("login_locked")
def login_locked(target: Account) -> bool:
    """Templates: is ``target`` locked for some client (an unlock button shows)?"""
    return services.is_locked(target)


def may_unlock(target: Account, actor) -> bool:
    """A site admin unlocks anyone; a secretary those whose password they may reset (never their own)."""
    from portal.org.manage import may_reset_password
    from portal.org.permissions import is_admin

    if is_admin(actor):
        return True
    return target.member is not None and may_reset_password(target.member, actor)
