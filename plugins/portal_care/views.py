"""Care pages: thin views — parse input, check permission, call a service, render."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from portal import toolkit as tk
from portal_care import services
from portal_care.forms import CategoryForm, RequestForm, RuleForm, WishForm, as_choices
from portal_care.models import CareAttachment, CareRequest, CareRoutingRule, CareWish

bp = Blueprint("care", __name__, url_prefix=services.URL_PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/static")
db = tk.db


def _now():
    return tk.utcnow()


def _require_staff(permission: str = "care.manage") -> None:
    if not tk.can(permission):
        abort(403)


# -- members' pages ----------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """My requests, requests I handle, and (for secretaries) links to the queues."""
    member = current_user.member
    mine = tk.paginate(select(CareRequest).where(CareRequest.member_id == member.id)
                       .order_by(CareRequest.created_at.desc())) if member else None
    handling = db.session.scalars(select(CareRequest).where(
        CareRequest.handler_account_id == current_user.id, CareRequest.status.in_(services.OPEN_STATUSES))
        .order_by(CareRequest.resolve_due_at).limit(50)).all()
    units = tk.manageable_units("care.manage") if tk.can("care.manage") else []
    return render_template("care/index.html", mine=mine, handling=handling, units=units, s=services,
                           draft=services.get_draft(member), now=_now())


def _target_member():
    """The member a request is filed for: ``?member=`` (a secretary on their behalf) or oneself."""
    member_id = request.args.get("member", type=int)
    if member_id is not None:
        return tk.require_member(db.session.get(tk.Member, member_id), "care.file_for")
    if current_user.member is None:
        abort(403)
    return current_user.member


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """File a request. "Save as draft" keeps the text on the server (no JavaScript needed);
    with JavaScript, care-draft.js also keeps it in the browser while typing."""
    member = _target_member()
    own = member.account_id == current_user.id
    draft = services.get_draft(member) if own else None
    if request.method == "GET":
        form = RequestForm(formdata=None, data=draft.data if draft else None).set_choices()
        return render_template("care/new.html", form=form, member=member, own=own, draft=draft,
                               limits=services.upload_limits())
    form = RequestForm().set_choices()
    if request.form.get("action") == "draft" and own:
        services.save_draft(member, request.form.to_dict(), now=_now())
        db.session.commit()
        flash(_("Draft saved. You can finish it later."), "success")
        return redirect(url_for("care.new"))
    try:
        data = request.form.to_dict()
        req = services.file_request(member, data, filed_by=current_user, now=_now(),
                                    files=request.files.getlist("attachments"))
    except services.CareError as error:
        db.session.rollback()
        for name, message in error.fields.items():
            if name in form:
                form[name].errors = [message]
        if request.files.getlist("attachments") and any(f.filename for f in request.files.getlist("attachments")):
            flash(_("Your text is kept below. Please choose the files again."), "warning")
        return render_template("care/new.html", form=form, member=member, own=own, draft=draft,
                               limits=services.upload_limits(), error=error.message), error.status
    db.session.commit()
    flash(_("Your request was sent to %(unit)s.", unit=req.unit.name), "success")
    return redirect(url_for("care.detail", request_id=req.id))


@bp.post("/draft/discard")
@login_required
def discard_draft():
    """Throw away the server-side draft."""
    if current_user.member is None:
        abort(403)
    services.discard_draft(current_user.member)
    db.session.commit()
    flash(_("Draft discarded."), "success")
    return redirect(url_for("care.new"))


def _visible_or_404(request_id: int) -> CareRequest:
    req = services.get_visible(request_id, current_user)
    if req is None:
        abort(404)
    return req


def _render_detail(req: CareRequest, *, errors: dict | None = None, error: str | None = None,
                   values: dict | None = None, status: int = 200):
    roles = services.roles_on(req, current_user)
    return render_template(
        "care/detail.html", req=req, roles=roles, s=services, events=services.timeline(req, current_user),
        attachments=services.visible_attachments(req, current_user), moves=services.allowed_moves(req, current_user),
        handlers=services.handler_choices(req) if services.STAFF in roles and services.is_open(req) else [],
        overdue=services.overdue_kind(req, _now()), errors=errors or {}, error=error, values=values or {},
    ), status


@bp.get("/requests/<int:request_id>")
@login_required
def detail(request_id: int):
    """One request: facts, timeline, and the actions the viewer may take. Views by others are audited."""
    req = _visible_or_404(request_id)
    services.record_view(req, current_user)
    db.session.commit()
    return _render_detail(req)


def _refused(request_id: int, error: services.CareError):
    db.session.rollback()
    req = _visible_or_404(request_id)
    return _render_detail(req, errors=error.fields, error=error.message, values=request.form.to_dict(),
                          status=error.status)


@bp.post("/requests/<int:request_id>/transition")
@login_required
def transition(request_id: int):
    """Move the request along the workflow (the transition table in services decides)."""
    req = _visible_or_404(request_id)
    form = request.form
    try:
        services.transition(req, current_user, form.get("to", ""), now=_now(), comment=form.get("comment"),
                            reason=form.get("reason"), summary=form.get("summary"),
                            support_kind=form.get("support_kind"), support_amount=form.get("support_amount"),
                            rating=form.get("rating"), rating_comment=form.get("rating_comment"))
    except services.CareError as error:
        return _refused(request_id, error)
    db.session.commit()
    flash(_("Saved: the request is now %(status)s.", status=services.STATUSES[req.status]), "success")
    return redirect(url_for("care.detail", request_id=req.id))


@bp.post("/requests/<int:request_id>/comment")
@login_required
def comment(request_id: int):
    """A comment (the member sees it) or an internal note (only secretaries and handlers)."""
    req = _visible_or_404(request_id)
    try:
        services.add_comment(req, current_user, request.form.get("body", ""), now=_now(),
                             internal=request.form.get("internal") in ("1", "y", "on"),
                             files=request.files.getlist("attachments"))
    except services.CareError as error:
        return _refused(request_id, error)
    db.session.commit()
    flash(_("Message added."), "success")
    return redirect(url_for("care.detail", request_id=req.id) + "#timeline")


@bp.post("/requests/<int:request_id>/assign")
@login_required
def assign(request_id: int):
    """Give the request to a handler."""
    req = _visible_or_404(request_id)
    try:
        services.assign(req, current_user, request.form.get("handler"), now=_now())
    except services.CareError as error:
        return _refused(request_id, error)
    db.session.commit()
    flash(_("Handler assigned."), "success")
    return redirect(url_for("care.detail", request_id=req.id))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """An attachment, after the same permission check as its request (never from static)."""
    item = db.session.get(CareAttachment, attachment_id)
    req = services.get_visible(item.request_id, current_user) if item else None
    if req is None or item not in services.visible_attachments(req, current_user):
        abort(404)
    path = services.attachment_path(item)
    if not path.is_file():
        abort(404)
    services.record_view(req, current_user, via=f"attachment:{item.id}")
    db.session.commit()
    inline = item.content_type.startswith("image/")
    response = send_file(path, mimetype=item.content_type, as_attachment=not inline, download_name=item.original_name,
                         max_age=0, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- secretaries' pages ------------------------------------------------------


def _queue(title: str, condition, order, template_args: dict):
    query = select(CareRequest).where(services.staff_condition(current_user))
    if condition is not None:
        query = query.where(condition)
    unit_id = request.args.get("unit", type=int)
    unit = db.session.get(tk.OrgUnit, unit_id) if unit_id else None
    if unit_id and (unit is None or not tk.can("care.manage", unit)):
        abort(404)
    if unit is not None:
        query = query.join(tk.OrgUnit, CareRequest.unit_id == tk.OrgUnit.id).where(
            tk.in_subtree(tk.OrgUnit.path, unit.path))
    page = tk.paginate(query.order_by(*order))
    return render_template("care/queue.html", page=page, title=title, s=services, now=_now(), unit=unit,
                           units=tk.manageable_units("care.manage"), **template_args)


@bp.get("/queue")
@login_required
def queue():
    """Requests routed to the units the secretary handles, filtered by status."""
    _require_staff()
    status = request.args.get("status", "open")
    try:
        condition = services.status_condition(status)
    except services.Invalid:
        status, condition = "open", services.status_condition("open")
    return _queue(_("Care requests"), condition, (CareRequest.respond_due_at, CareRequest.id),
                  {"status": status, "endpoint": "care.queue"})


@bp.get("/overdue")
@login_required
def overdue():
    """The overdue queue: open requests past their first-response or resolution target."""
    _require_staff()
    return _queue(_("Overdue care requests"), services.overdue_condition(_now()),
                  (CareRequest.respond_due_at, CareRequest.id), {"status": None, "endpoint": "care.overdue"})


@bp.get("/file-for")
@login_required
def file_for():
    """Find a member to file a request for (a secretary on their behalf)."""
    _require_staff("care.file_for")
    term = (request.args.get("q") or "").strip()
    members = []
    if term:
        members = db.session.scalars(select(tk.Member).where(
            tk.member_scope("care.file_for"), or_(tk.Member.name.contains(term), tk.Member.phone.contains(term)))
            .order_by(tk.Member.name).limit(50)).all()
    return render_template("care/file_for.html", members=members, q=term)


def _dashboard_data(unit_id: int):
    unit = db.session.get(tk.OrgUnit, unit_id) or abort(404)
    tk.require("care.manage", unit)
    days = request.args.get("days", 365, type=int)
    days = days if days in (30, 90, 365, 3650) else 365
    now = _now()
    total, rows = services.dashboard(unit, now=now, since=now - timedelta(days=days))
    return unit, days, total, rows


@bp.get("/units/<int:unit_id>/dashboard")
@login_required
def dashboard(unit_id: int):
    """Open and overdue counts per receiving unit, medians, satisfaction."""
    unit, days, total, rows = _dashboard_data(unit_id)
    biggest = max([r.open for r in rows] + [1])
    return render_template("care/dashboard.html", unit=unit, days=days, total=total, rows=rows, biggest=biggest)


DASHBOARD_HEADERS = (
    "unit", "requests", "open", "overdue", "median hours to first response", "median hours to resolution",
    "satisfaction (1-5)", "ratings")


@bp.get("/units/<int:unit_id>/dashboard.xlsx")
@login_required
def dashboard_xlsx(unit_id: int):
    """The dashboard as a spreadsheet (what secretaries hand upward)."""
    unit, days, total, rows = _dashboard_data(unit_id)
    headers = [_("Unit"), _("Requests"), _("Open"), _("Overdue"), _("Median hours to first response"),
               _("Median hours to resolution"), _("Satisfaction (1–5)"), _("Ratings")]
    lines = [(r.name, r.total, r.open, r.overdue, r.median_response_hours, r.median_resolution_hours, r.satisfaction,
              r.ratings) for r in [*rows, total]]
    tk.audit("care.dashboard.exported", "unit", unit.id, unit_id=unit.id, days=days)
    db.session.commit()
    return tk.xlsx_response(_("care-%(unit)s.xlsx", unit=unit.name), headers, lines, title=_("Care"))


# -- admin: categories and routing rules --------------------------------------


@bp.route("/admin/categories", methods=["GET", "POST"])
@login_required
def admin_categories():
    """Rename, hide, order or add categories."""
    tk.require("care.admin")
    form = CategoryForm()
    if request.method == "POST":
        if form.validate():
            services.save_category(form.key.data, form.label.data, bool(form.active.data), form.position.data or 0)
            tk.audit("care.category.saved", "care_category", form.key.data, label=form.label.data,
                     active=bool(form.active.data))
            db.session.commit()
            flash(_("Category saved."), "success")
            return redirect(url_for("care.admin_categories"))
        status = 422
    else:
        status = 200
    return render_template("care/admin_categories.html", form=form, rows=services.categories(include_inactive=True),
                           builtin=services.BUILTIN_CATEGORIES), status


def _unit_choices() -> list[tuple[int, str]]:
    units = db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.closed_at.is_(None), tk.OrgUnit.kind != "group")
                               .order_by(tk.OrgUnit.path).limit(3000))
    return [(u.id, "· " * u.depth + u.name) for u in units]


@bp.route("/admin/rules", methods=["GET", "POST"])
@login_required
def admin_rules():
    """Routing rules by category, e.g. unpaid wages → a legal-aid unit."""
    tk.require("care.admin")
    form = RuleForm()
    units = _unit_choices()
    form.category.choices = as_choices((k, label) for k, label, _a in services.categories(include_inactive=True))
    form.scope_unit.choices = as_choices([(0, _("Everywhere"))] + units)
    form.target_unit.choices = as_choices(units)
    status = 200
    if request.method == "POST":
        if form.validate():
            rule = CareRoutingRule(category=form.category.data, where=form.where.data,
                                   scope_unit_id=form.scope_unit.data or None, target_unit_id=form.target_unit.data)
            db.session.add(rule)
            db.session.flush()
            tk.audit("care.rule.created", "care_routing_rule", rule.id, category=rule.category,
                     target=rule.target_unit_id)
            db.session.commit()
            flash(_("Routing rule added."), "success")
            return redirect(url_for("care.admin_rules"))
        status = 422
    rules = db.session.scalars(select(CareRoutingRule).order_by(CareRoutingRule.category, CareRoutingRule.id)).all()
    return render_template("care/admin_rules.html", form=form, rules=rules, s=services), status


@bp.post("/admin/rules/<int:rule_id>/delete")
@login_required
def admin_rule_delete(rule_id: int):
    tk.require("care.admin")
    rule = db.session.get(CareRoutingRule, rule_id) or abort(404)
    tk.audit("care.rule.deleted", "care_routing_rule", rule.id, category=rule.category)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Routing rule deleted."), "success")
    return redirect(url_for("care.admin_rules"))


# -- micro-wishes ------------------------------------------------------------


@bp.get("/wishes")
@login_required
def wishes():
    """Open wishes near me, my own wishes, the ones I claimed, and (secretaries) those to approve."""
    member = current_user.member
    mine = claimed = []
    if member is not None:
        mine = db.session.scalars(select(CareWish).where(CareWish.member_id == member.id)
                                  .order_by(CareWish.created_at.desc()).limit(50)).all()
        claimed = db.session.scalars(select(CareWish).where(CareWish.claimer_member_id == member.id)
                                     .order_by(CareWish.claimed_at.desc()).limit(50)).all()
    return render_template("care/wishes.html", open_wishes=services.open_wishes_for(member), mine=mine,
                           claimed=claimed, pending=services.pending_wishes_for(current_user), s=services)


@bp.route("/wishes/new", methods=["GET", "POST"])
@tk.login_required_member
def wish_new():
    """Post a micro-wish; the home branch's secretary approves it and chooses who sees it."""
    form = WishForm()
    if request.method == "POST":
        try:
            wish = services.create_wish(current_user.member, request.form.to_dict(), now=_now())
        except services.CareError as error:
            db.session.rollback()
            for name, message in error.fields.items():
                if name in form:
                    form[name].errors = [message]
            return render_template("care/wish_new.html", form=form), error.status
        db.session.commit()
        flash(_("Your wish was sent to your branch secretary for approval."), "success")
        return redirect(url_for("care.wish_detail", wish_id=wish.id))
    return render_template("care/wish_new.html", form=form)


def _render_wish(wish: CareWish, *, errors: dict | None = None, status: int = 200):
    reviewer = services.wish_reviewer(wish, current_user)
    scopes = services.wish_scope_choices(wish, current_user) if reviewer and wish.status == "pending" else []
    return render_template("care/wish_detail.html", wish=wish, s=services, reviewer=reviewer, scopes=scopes,
                           member=current_user.member, errors=errors or {}), status


@bp.get("/wishes/<int:wish_id>")
@login_required
def wish_detail(wish_id: int):
    wish = services.get_visible_wish(wish_id, current_user) or abort(404)
    return _render_wish(wish)


@bp.post("/wishes/<int:wish_id>/<action>")
@login_required
def wish_action(wish_id: int, action: str):
    """approve / reject (secretary), claim / unclaim / fulfil (helper), confirm (wisher)."""
    wish = services.get_visible_wish(wish_id, current_user) or abort(404)
    try:
        if action in ("approve", "reject"):
            services.review_wish(wish, current_user, approve=action == "approve", now=_now(),
                                 unit_id=request.form.get("unit"), reason=request.form.get("reason", ""))
        elif action in services.WISH_ACTIONS:
            func = services.WISH_ACTIONS[action]
            if action == "unclaim":
                func(wish, current_user.member)
            else:
                func(wish, current_user.member, now=_now())
        else:
            abort(404)
    except services.CareError as error:
        db.session.rollback()
        wish = services.get_visible_wish(wish_id, current_user) or abort(404)
        flash(error.message, "error")
        return _render_wish(wish, errors=error.fields, status=error.status)
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("care.wish_detail", wish_id=wish.id))
