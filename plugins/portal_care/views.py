"""Care pages: thin views — parse input, check permission, call a service, render."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from portal.toolkit import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from portal import toolkit as tk
from portal_care import access, attachments, figures, filing, microwishes, sla, vocabulary, workflow
from portal_care.forms import CategoryForm, RequestForm, RuleForm, WishForm, as_choices
from portal_care.models import CareRequest, CareRoutingRule, CareWish

bp = Blueprint("care", __name__, url_prefix=vocabulary.URL_PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/static")
db = tk.db

#: What the templates call ``s``: a request's SLA facts.
TEMPLATE_NAMES = SimpleNamespace(due_at=sla.due_at, is_open=sla.is_open, overdue_kind=sla.overdue_kind)
tk.template_labels(
    bp, "care", action=workflow.ACTION_LABELS, contact_pref=vocabulary.CONTACT_PREFS, routed_by=vocabulary.ROUTED_BY,
    status=vocabulary.STATUSES, support_kind=vocabulary.SUPPORT_KINDS, urgency=vocabulary.URGENCIES,
    where=vocabulary.WHERE, wish_status=vocabulary.WISH_STATUSES,
    category=tk.LabelFunction(vocabulary.category_label),  # admins rename and add categories
)


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
        CareRequest.handler_account_id == current_user.id, CareRequest.status.in_(vocabulary.OPEN_STATUSES))
        .order_by(CareRequest.resolve_due_at).limit(50)).all()
    units = tk.manageable_units("care.manage") if tk.can("care.manage") else []
    return render_template("care/index.html", mine=mine, handling=handling, units=units, s=TEMPLATE_NAMES,
                           draft=filing.get_draft(member), now=_now())


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
    with JavaScript, autosave.js also keeps it in the browser while typing and offline-queue.js
    sends it later when it was sent without a connection."""
    member = _target_member()
    own = member.account_id == current_user.id
    draft = filing.get_draft(member) if own else None
    if request.method == "GET":
        form = RequestForm(formdata=None, data=draft.data if draft else None).set_choices()
        return render_template("care/new.html", form=form, member=member, own=own, draft=draft,
                               limits=attachments.upload_limits())
    form = RequestForm().set_choices()
    if request.form.get("action") == "draft" and own:
        filing.save_draft(member, request.form.to_dict(), now=_now())
        db.session.commit()
        flash(_("Draft saved. You can finish it later."), "success")
        return redirect(url_for("care.new"))
    try:
        data = request.form.to_dict()
        req = filing.file_request(member, data, filed_by=current_user, now=_now(),
                                    files=request.files.getlist("attachments"))
    except tk.ServiceError as error:
        db.session.rollback()
        for name, message in error.field_errors.items():
            if name in form:
                form[name].errors = [message]
        if request.files.getlist("attachments") and any(f.filename for f in request.files.getlist("attachments")):
            flash(_("Your text is kept below. Please choose the files again."), "warning")
        return render_template("care/new.html", form=form, member=member, own=own, draft=draft,
                               limits=attachments.upload_limits(), error=error.message), error.status
    db.session.commit()
    flash(_("Your request was sent to %(unit)s.", unit=req.unit.name), "success")
    return redirect(url_for("care.detail", request_id=req.id))


@bp.post("/draft/discard")
@login_required
def discard_draft():
    """Throw away the server-side draft."""
    if current_user.member is None:
        abort(403)
    filing.discard_draft(current_user.member)
    db.session.commit()
    flash(_("Draft discarded."), "success")
    return redirect(url_for("care.new"))


def _visible_or_404(request_id: int) -> CareRequest:
    req = access.get_visible(request_id, current_user)
    if req is None:
        abort(404)
    return req


def _render_detail(req: CareRequest, *, errors: dict | None = None, values: dict | None = None,
                   status: int = 200):
    roles = access.roles_on(req, current_user)
    return render_template(
        "care/detail.html", req=req, roles=roles, s=TEMPLATE_NAMES, events=workflow.timeline(req, current_user),
        attachments=attachments.visible_attachments(req, current_user), moves=workflow.allowed_moves(req, current_user),
        handlers=workflow.handler_choices(req) if access.STAFF in roles and sla.is_open(req) else [],
        overdue=sla.overdue_kind(req, _now()), errors=errors or {}, values=values or {},
    ), status


@bp.get("/requests/<int:request_id>")
@login_required
def detail(request_id: int):
    """One request: facts, timeline, and the actions the viewer may take. Views by others are audited."""
    req = _visible_or_404(request_id)
    access.record_view(req, current_user)
    db.session.commit()
    return _render_detail(req)


def _refused(request_id: int, error: tk.ServiceError):
    """The request page again, with what was typed and the per-field messages (the main one is flashed)."""
    req = _visible_or_404(request_id)
    return _render_detail(req, errors=error.field_errors, values=request.form.to_dict(), status=error.status)


@bp.post("/requests/<int:request_id>/transition")
@login_required
def transition(request_id: int):
    """Move the request along the workflow (the transition table in ``workflow`` decides)."""
    req = _visible_or_404(request_id)
    form = request.form
    return tk.form_post(
        lambda: workflow.transition(req, current_user, form.get("to", ""), now=_now(), comment=form.get("comment"),
                                    reason=form.get("reason"), summary=form.get("summary"),
                                    support_kind=form.get("support_kind"), support_amount=form.get("support_amount"),
                                    rating=form.get("rating"), rating_comment=form.get("rating_comment")),
        success=lambda _event: _("Saved: the request is now %(status)s.", status=vocabulary.STATUSES[req.status]),
        redirect_to=url_for("care.detail", request_id=req.id), on_error=lambda error: _refused(request_id, error))


@bp.post("/requests/<int:request_id>/comment")
@login_required
def comment(request_id: int):
    """A comment (the member sees it) or an internal note (only secretaries and handlers)."""
    req = _visible_or_404(request_id)
    return tk.form_post(
        lambda: workflow.add_comment(req, current_user, request.form.get("body", ""), now=_now(),
                                     internal=request.form.get("internal") in ("1", "y", "on"),
                                     files=request.files.getlist("attachments")),
        success=_("Message added."), redirect_to=url_for("care.detail", request_id=req.id) + "#timeline",
        on_error=lambda error: _refused(request_id, error))


@bp.post("/requests/<int:request_id>/assign")
@login_required
def assign(request_id: int):
    """Give the request to a handler."""
    req = _visible_or_404(request_id)
    return tk.form_post(lambda: workflow.assign(req, current_user, request.form.get("handler"), now=_now()),
                        success=_("Handler assigned."), redirect_to=url_for("care.detail", request_id=req.id),
                        on_error=lambda error: _refused(request_id, error))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """An attachment, after the same permission check as its request (never from static)."""
    item = attachments.attachment_for(attachment_id, current_user) or abort(404)
    response = attachments.send_attachment(item)  # 404 before the view is recorded when the file is gone
    access.record_view(item.request, current_user, via=f"attachment:{item.id}")
    db.session.commit()
    return response


# -- secretaries' pages ------------------------------------------------------


#: What a queue's rows show (``care/_macros.html``, ``request_rows``), as plain rows: building 25 requests
#: with their members and units as objects cost more than both statements of the page.
QUEUE_COLUMNS = (
    CareRequest.id, CareRequest.title, CareRequest.status, CareRequest.category, CareRequest.urgency,
    CareRequest.created_at, CareRequest.first_response_at, CareRequest.respond_due_at, CareRequest.resolve_due_at,
    tk.Member.name.label("member_name"), tk.OrgUnit.name.label("unit_name"),
)


def _queue(title: str, condition, order, template_args: dict):
    conditions = [access.staff_condition(current_user)]
    if condition is not None:
        conditions.append(condition)
    unit_id = request.args.get("unit", type=int)
    unit = db.session.get(tk.OrgUnit, unit_id) if unit_id else None
    if unit_id and (unit is None or not tk.can("care.manage", unit)):
        abort(404)
    if unit is not None:
        conditions.append(CareRequest.unit_id.in_(access.subtree_ids([unit])))
    total = db.session.scalar(select(func.count()).select_from(CareRequest).where(*conditions))
    rows = (select(*QUEUE_COLUMNS).outerjoin(tk.Member, tk.Member.id == CareRequest.member_id)
            .outerjoin(tk.OrgUnit, tk.OrgUnit.id == CareRequest.unit_id).where(*conditions).order_by(*order))
    page = tk.paginate(rows, scalars=False, total=total)
    return render_template("care/queue.html", page=page, title=title, s=TEMPLATE_NAMES, now=_now(), unit=unit,
                           units=tk.manageable_units("care.manage"), **template_args)


@bp.get("/queue")
@login_required
def queue():
    """Requests routed to the units the secretary handles, filtered by status."""
    _require_staff()
    status = request.args.get("status", "open")
    try:
        condition = access.status_condition(status)
    except tk.Invalid:
        status, condition = "open", access.status_condition("open")
    return _queue(_("Care requests"), condition, (CareRequest.respond_due_at, CareRequest.id),
                  {"status": status, "endpoint": "care.queue"})


@bp.get("/overdue")
@login_required
def overdue():
    """The overdue queue: open requests past their first-response or resolution target."""
    _require_staff()
    return _queue(_("Overdue care requests"), sla.overdue_condition(_now()),
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
    total, rows = figures.dashboard(unit, now=now, since=now - timedelta(days=days))
    return unit, days, total, rows


@bp.get("/units/<int:unit_id>/dashboard")
@login_required
def dashboard(unit_id: int):
    """Open and overdue counts per receiving unit, medians, satisfaction."""
    unit, days, total, rows = _dashboard_data(unit_id)
    chart = tk.bar_chart([(r.name, r.open, r.overdue) for r in rows[:12]], _("Open and overdue requests per unit"),
                         tones=(4, 1))
    return render_template("care/dashboard.html", unit=unit, days=days, total=total, rows=rows, chart=chart)


@bp.get("/units/<int:unit_id>/dashboard.xlsx")
@login_required
def dashboard_xlsx(unit_id: int):
    """The dashboard as a spreadsheet (what secretaries hand upward)."""
    unit, days, total, rows = _dashboard_data(unit_id)
    headers = [_("Unit"), _("Requests"), tk.pgettext("care requests", "Open"), _("Overdue"), _("Median hours to first response"),
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
            vocabulary.save_category(form.key.data, form.label.data, bool(form.active.data), form.position.data or 0)
            tk.audit("care.category.saved", "care_category", form.key.data, label=form.label.data,
                     active=bool(form.active.data))
            db.session.commit()
            flash(_("Category saved."), "success")
            return redirect(url_for("care.admin_categories"))
        status = 422
    else:
        status = 200
    return render_template("care/admin_categories.html", form=form, rows=vocabulary.categories(include_inactive=True),
                           builtin=vocabulary.BUILTIN_CATEGORIES), status


@bp.route("/admin/rules", methods=["GET", "POST"])
@login_required
def admin_rules():
    """Routing rules by category, e.g. unpaid wages → a legal-aid unit."""
    tk.require("care.admin")
    form = RuleForm()
    units = tk.unit_choices("care.admin", kinds=("committee", "general_branch", "branch"))  # groups receive no requests
    form.category.choices = as_choices((k, label) for k, label, _a in vocabulary.categories(include_inactive=True))
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
    return render_template("care/admin_rules.html", form=form, rules=rules, s=TEMPLATE_NAMES), status


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
        mine = db.session.scalars(microwishes.own_wishes_query(member).limit(50)).all()
        claimed = db.session.scalars(microwishes.claimed_wishes_query(member).limit(50)).all()
    return render_template("care/wishes.html", open_wishes=microwishes.open_wishes_for(member), mine=mine,
                           claimed=claimed, pending=microwishes.pending_wishes_for(current_user), s=TEMPLATE_NAMES)


@bp.route("/wishes/new", methods=["GET", "POST"])
@tk.login_required_member
def wish_new():
    """Post a micro-wish; the home branch's secretary approves it and chooses who sees it."""
    form = WishForm()
    if request.method == "POST":
        return tk.form_post(
            lambda: microwishes.create_wish(current_user.member, request.form.to_dict(), now=_now()),
            success=_("Your wish was sent to your branch secretary for approval."),
            redirect_to=lambda wish: url_for("care.wish_detail", wish_id=wish.id), form=form,
            on_error=lambda error: (render_template("care/wish_new.html", form=form), error.status))
    return render_template("care/wish_new.html", form=form)


def _render_wish(wish: CareWish, *, errors: dict | None = None, status: int = 200):
    reviewer = microwishes.wish_reviewer(wish, current_user)
    scopes = microwishes.wish_scope_choices(wish, current_user) if reviewer and wish.status == "pending" else []
    return render_template("care/wish_detail.html", wish=wish, s=TEMPLATE_NAMES, reviewer=reviewer, scopes=scopes,
                           member=current_user.member, errors=errors or {}), status


@bp.get("/wishes/<int:wish_id>")
@login_required
def wish_detail(wish_id: int):
    wish = microwishes.get_visible_wish(wish_id, current_user) or abort(404)
    return _render_wish(wish)


@bp.post("/wishes/<int:wish_id>/<action>")
@login_required
def wish_action(wish_id: int, action: str):
    """approve / reject (secretary), claim / unclaim / fulfil (helper), confirm (wisher)."""
    wish = microwishes.get_visible_wish(wish_id, current_user) or abort(404)
    if action not in ("approve", "reject") and action not in microwishes.WISH_ACTIONS:
        abort(404)

    def act() -> None:
        if action in ("approve", "reject"):
            microwishes.review_wish(wish, current_user, approve=action == "approve", now=_now(),
                                    unit_id=request.form.get("unit"), reason=request.form.get("reason", ""))
        else:
            microwishes.act_on_wish(wish, current_user.member, action, now=_now())

    return tk.form_post(act, success=_("Saved."), redirect_to=url_for("care.wish_detail", wish_id=wish.id),
                        on_error=lambda error: _render_wish(wish, errors=error.field_errors, status=error.status))
