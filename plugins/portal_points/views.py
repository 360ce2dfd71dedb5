"""Points pages: my points, boards, standings, reports, manual awards, campaigns, rules."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from portal.toolkit import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_points import leaderboard as boards
from portal_points import periods, reports, services
from portal_points.forms import AwardForm, CampaignForm, PrivacyForm, ReverseForm, RuleForm
from portal_points.models import PERIODS, PointsCampaign, PointsEntry, PointsRule

bp = Blueprint("points", __name__, url_prefix="/points", template_folder="templates", static_folder="static")
db = tk.db


def _period() -> str:
    period = request.args.get("period", "month")
    if period not in PERIODS:
        abort(400)
    return period


def _unit(unit_id: int):
    return db.session.get(tk.OrgUnit, unit_id) or abort(404)


def _history_page(member_id: int):
    page = tk.paginate(services.history_query(member_id))
    return page, services.reversed_ids(e.id for e in page.items)


# -- members ----------------------------------------------------------------------

def _monthly_chart(values: list[tuple[int, int]], title: str):
    """A column per ``(month key, points)``; negative months show as empty columns with their value."""
    return tk.column_chart([(periods.month_label(key), [value]) for key, value in values], title)


@bp.get("/")
@tk.login_required_member
def me():
    """My points today, this month and in total, my level, badges, chart and history."""
    member = tk.current_member()
    summary = tk.cached("points.me", (member.id, _page_number()), partial(_my_summary, member.id))
    return render_template("points/me.html", summary=summary, privacy=PrivacyForm(hide=member.hide_from_public_boards))


def _page_number() -> int:
    """The ``?page=`` asked for, as :func:`tk.paginate` reads it."""
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def _my_summary(member_id: int) -> Markup:
    """The member's points page but its privacy form (which holds a CSRF token): what the cache keeps."""
    totals = services.member_totals(member_id)
    page, undone = _history_page(member_id)
    chart = _monthly_chart(services.monthly_points(member_id), _("My points in the last 12 months"))
    return Markup(render_template("points/_me_summary.html", totals=totals, level=services.level_for(totals["all"]),
                                  badges=services.badges_of(member_id), page=page, undone=undone, chart=chart))


@bp.post("/privacy")
@tk.login_required_member
def privacy():
    """Hide (or show) my name on boards outside my own branch."""
    member = tk.current_member()
    form = PrivacyForm()
    if form.validate_on_submit():
        boards.set_hidden_from_public_boards(member, form.hide.data)
        db.session.commit()
        flash(_("Saved."), "success")
    else:
        flash(_("The form was not understood. Please try again."), "error")
    return redirect(url_for("points.me"))


@bp.get("/rules")
@login_required
def rules():
    """How points are earned: every rule in force, with its caps and conditions."""
    rows = services.rules_in_force()
    db.session.commit()  # the default rules, made at the first look
    return render_template("points/rules.html", rows=rows, registry=services.verb_registry())


# -- boards -------------------------------------------------------------------------

@bp.get("/leaderboard")
@login_required
def leaderboard():
    """Top members under a unit for a period, and my rank."""
    member = tk.current_member()
    period = _period()
    units = boards.board_units_for(member, current_user)
    raw = request.args.get("unit")
    if raw:
        if not raw.isdigit():
            abort(400)
        unit = _unit(int(raw))
    elif member is not None:
        unit = member.home_unit
    elif units:
        unit = units[0]
    else:
        abort(404)
    if not boards.can_view_board(unit, member, current_user):
        abort(404)
    size = int(tk.get_setting("points", "leaderboard_size") or 50)
    board = boards.leaderboard(unit, period, viewer_member=member, limit=size)
    return render_template("points/leaderboard.html", board=board, units=units, unit=unit, period=period,
                           periods=services.PERIOD_LABELS)


@bp.get("/units/<int:unit_id>/standings")
@login_required
def standings(unit_id: int):
    """Units under this one ranked by points per member (fair to small branches) or by total."""
    unit = _unit(unit_id)
    member = tk.current_member()
    if not boards.can_view_board(unit, member, current_user):
        abort(404)
    period = _period()
    by = request.args.get("by", "average")
    if by not in ("average", "total"):
        abort(400)
    rows = boards.unit_standings(unit, period, by=by)
    return render_template("points/standings.html", unit=unit, rows=rows, period=period, by=by,
                           periods=services.PERIOD_LABELS)


# -- secretaries -------------------------------------------------------------------------

def _report_query(unit, start, end, zero_only: bool):
    query = reports.members_query(unit)
    if zero_only:
        in_unit = query.with_only_columns(tk.Member.id).order_by(None)
        earners = (select(PointsEntry.member_id)
                   .where(PointsEntry.member_id.in_(in_unit),
                          PointsEntry.day_key.between(periods.day_key(start), periods.day_key(end)))
                   .group_by(PointsEntry.member_id).having(func.sum(PointsEntry.points) > 0))
        query = query.where(tk.Member.id.not_in(earners))
    return query


@bp.get("/units/<int:unit_id>/report")
@login_required
def report(unit_id: int):
    """Participation per member for a period: points by category, last active, zero-point members marked."""
    unit = _unit(unit_id)
    tk.require("points.view", unit)
    start, end, valid = reports.parse_range(request.args, tk.utcnow())
    if not valid:
        flash(_("Those dates were not understood; showing this year instead."), "error")
    zero_only = request.args.get("zero") == "1"
    page = tk.paginate(_report_query(unit, start, end, zero_only))
    rows = reports.participation(page.items, start, end)
    total_members = tk.count(reports.members_query(unit))
    zero_members = tk.count(_report_query(unit, start, end, True))
    chart = _monthly_chart(reports.unit_monthly(unit), _("Points earned in %(unit)s by month", unit=unit.name))
    return render_template("points/report.html", unit=unit, rows=rows, page=page, start=start, end=end,
                           zero_only=zero_only, categories=reports.categories_of(rows), chart=chart,
                           total_members=total_members, zero_members=zero_members), 200 if valid else 400


@bp.get("/units/<int:unit_id>/report.xlsx")
@login_required
def report_xlsx(unit_id: int):
    """The participation report as a spreadsheet (for the annual peer review)."""
    unit = _unit(unit_id)
    tk.require("points.view", unit)
    start, end, valid = reports.parse_range(request.args, tk.utcnow())
    if not valid:
        abort(400)
    members = list(db.session.scalars(reports.members_query(unit)))
    rows = reports.participation(members, start, end)
    categories = reports.categories_of(rows)
    headers = [_("Name"), _("Home branch"), _("Host branch"), _("Points"),
               *[services.category_label(c) for c in categories], _("Last points"), _("Last active"),
               _("No points in this period")]
    data = [[row.member.name, row.member.home_unit.name, row.member.host_unit.name if row.member.host_unit else "",
             row.total, *[row.by_category.get(c, 0) for c in categories], row.last_points_on,
             row.member.last_active_at, _("yes") if row.zero else ""] for row in rows]
    tk.audit("points.report_exported", "org_unit", unit.id, unit_id=unit.id, rows=len(data))
    db.session.commit()
    filename = _("points-%(unit)s-%(start)s-%(end)s.xlsx", unit=unit.name, start=start.isoformat(), end=end.isoformat())
    return tk.xlsx_response(filename, headers, data, title=_("Participation"))


def _award_form(member) -> AwardForm:
    form = AwardForm()
    campaigns = [c for c in db.session.scalars(select(PointsCampaign).order_by(PointsCampaign.starts_on.desc()))
                 if services.member_in_campaign(c, member)]
    form.campaign_id.choices = [(0, _("None"))] + [(c.id, c.name) for c in campaigns]
    return form


def _member_page(member, form=None, reverse_form=None, status: int = 200):
    totals = services.member_totals(member.id)
    page, undone = _history_page(member.id)
    may_award = tk.can_see_member(member, "points.award") and not (
        current_user.member is not None and current_user.member.id == member.id)
    return render_template("points/member.html", member=member, totals=totals, page=page, undone=undone,
                           level=services.level_for(totals["all"]), badges=services.badges_of(member.id),
                           may_award=may_award, form=form or _award_form(member),
                           reverse_form=reverse_form or ReverseForm()), status


@bp.get("/members/<int:member_id>")
@login_required
def member(member_id: int):
    """A member's points and ledger, with manual awards and reversals for their secretaries."""
    member = tk.require_member(db.session.get(tk.Member, member_id), "points.view")
    return _member_page(member)


@bp.post("/members/<int:member_id>/award")
@login_required
def award(member_id: int):
    """Award or deduct points with a mandatory reason (audit-logged)."""
    member = tk.require_member(db.session.get(tk.Member, member_id), "points.award")
    form = _award_form(member)
    if not form.validate_on_submit():
        return _member_page(member, form=form, status=422)
    campaign = db.session.get(PointsCampaign, form.campaign_id.data) if form.campaign_id.data else None
    return tk.form_post(
        lambda: services.award_manual(member, form.points.data, form.reason.data, account=current_user,
                                      campaign=campaign),
        success=_("Saved: %(points)+d points for %(name)s.", points=form.points.data, name=member.name),
        redirect_to=url_for("points.member", member_id=member.id), form=form,
        on_error=lambda error: _member_page(member, form=form, status=error.status))


@bp.post("/entries/<int:entry_id>/reverse")
@login_required
def reverse(entry_id: int):
    """Cancel a ledger entry with a reversing entry (nothing is ever deleted)."""
    entry = db.session.get(PointsEntry, entry_id) or abort(404)
    member = tk.require_member(entry.member, "points.award")
    form = ReverseForm()
    if not form.validate_on_submit():
        flash(_("Give a reason (at least 4 characters): the member and the auditors will read it."), "error")
        return _member_page(member, reverse_form=form, status=422)
    return tk.form_post(lambda: services.reverse_entry(entry, form.reason.data, account=current_user),
                        success=_("The entry was reversed."),
                        redirect_to=url_for("points.member", member_id=member.id),
                        on_error=lambda error: _member_page(member, reverse_form=form, status=error.status))


# -- campaigns ---------------------------------------------------------------------------

def _campaign(campaign_id: int) -> PointsCampaign:
    campaign = db.session.get(PointsCampaign, campaign_id) or abort(404)
    if not services.can_view_campaign(campaign, tk.current_member(), current_user):
        abort(404)
    return campaign


@bp.get("/campaigns")
@login_required
def campaigns():
    """Campaigns I take part in or run."""
    items = services.visible_campaigns(tk.current_member(), current_user)
    return render_template("points/campaigns.html", campaigns=items, today=tk.local_today(),
                           may_create=tk.can("points.campaigns"))


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    """A campaign's board, rules and participating units."""
    item = _campaign(campaign_id)
    board = boards.campaign_board(item, viewer_member=tk.current_member())
    return render_template("points/campaign.html", campaign=item, board=board,
                           rules=services.all_rules(item), may_manage=services.can_manage_campaign(item),
                           today=tk.local_today())


def _save_campaign(item: PointsCampaign | None):
    form = CampaignForm(obj=item) if request.method == "GET" else CampaignForm()
    form.units.choices = tk.unit_choices("points.campaigns")
    if request.method == "GET" and item is not None:
        form.units.data = item.unit_ids
    if form.validate_on_submit():
        errors = services.validate_campaign(form.name.data, form.starts_on.data, form.ends_on.data, form.units.data)
        for name, message in errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        if not errors:
            units = [db.session.get(tk.OrgUnit, uid) for uid in form.units.data]
            owner = item.owner_unit if item else next(
                (top for top in tk.manageable_units("points.campaigns") if top.contains(units[0])), units[0])
            item = services.save_campaign(item, name=form.name.data, description=form.description.data,
                                          starts_on=form.starts_on.data, ends_on=form.ends_on.data, units=units,
                                          owner_unit=owner, account_id=current_user.id)
            db.session.commit()
            flash(_("Campaign saved."), "success")
            return redirect(url_for("points.campaign", campaign_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("points/campaign_form.html", form=form, campaign=item), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new():
    """Create a campaign over units I oversee."""
    tk.require("points.campaigns")
    return _save_campaign(None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(campaign_id: int):
    """Change a campaign's name, dates or units."""
    item = _campaign(campaign_id)
    if not services.can_manage_campaign(item):
        abort(404)
    return _save_campaign(item)


# -- rules --------------------------------------------------------------------------------

@bp.get("/admin/rules")
@login_required
def admin_rules():
    """Every rule with its current version, and the verbs the enabled plugins record."""
    tk.require("points.rules")
    services.ensure_default_rules()
    db.session.commit()
    return render_template("points/admin_rules.html", rules=services.all_rules(), registry=services.verb_registry())


def _rule_permission(campaign: PointsCampaign | None) -> None:
    if campaign is None:
        tk.require("points.rules")
    elif not services.can_manage_campaign(campaign):
        abort(404)


def _verb_choices(registry: dict) -> list[tuple[str, str]]:
    return sorted(((verb, f"{info['label']} · {info['plugin']}") for verb, info in registry.items()),
                  key=lambda c: c[1])


@bp.route("/rules/new", methods=["GET", "POST"])
@login_required
def rule_new():
    """Attach points to an activity verb (for everyone, or for one campaign)."""
    raw = request.args.get("campaign", "")
    campaign = _campaign(int(raw)) if raw.isdigit() else None
    if raw and campaign is None:
        abort(404)
    _rule_permission(campaign)
    registry = services.verb_registry()
    form = RuleForm()
    form.verb.choices = _verb_choices(registry)

    def page(status: int):
        return render_template("points/rule_form.html", form=form, rule=None, campaign=campaign,
                               registry=registry), status

    if form.validate_on_submit():
        return tk.form_post(
            lambda: services.create_rule(form.verb.data, form.values(), account_id=current_user.id, campaign=campaign),
            success=_("Rule saved. It applies from now on."),
            redirect_to=url_for("points.campaign", campaign_id=campaign.id) if campaign else url_for("points.admin_rules"),
            form=form, on_error=lambda error: page(422))
    return page(422 if request.method == "POST" else 200)


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@login_required
def rule_edit(rule_id: int):
    """Change a rule: a new version valid from now; past entries keep the old one."""
    rule = db.session.get(PointsRule, rule_id) or abort(404)
    if rule.campaign is not None:
        _campaign(rule.campaign_id)
    _rule_permission(rule.campaign)
    registry = services.verb_registry()
    current = rule.current
    form = RuleForm(data=services.rule_values(current)) if request.method == "GET" else RuleForm()
    form.verb.choices = [(rule.verb, services.verb_label(rule.verb))]
    form.verb.data = rule.verb

    def page(status: int):
        return render_template("points/rule_form.html", form=form, rule=rule, campaign=rule.campaign,
                               registry=registry), status

    if form.validate_on_submit():
        done = url_for("points.campaign", campaign_id=rule.campaign_id) if rule.campaign_id else url_for("points.admin_rules")
        return tk.form_post(
            lambda: services.update_rule(rule, form.values(), account_id=current_user.id),
            success=lambda changed: _("Rule saved. It applies from now on.") if changed else _("Nothing was changed."),
            redirect_to=done, form=form, on_error=lambda error: page(422))
    return page(422 if request.method == "POST" else 200)


@bp.context_processor
def _helpers():
    return {"describe_rule": services.describe_version, "entry_reason": services.entry_reason}


# verbs come from every plugin's registry, badges carry their details: labels computed per value
tk.template_labels(bp, "points", category=tk.LabelFunction(services.category_label),
                   verb=tk.LabelFunction(services.verb_label), badge=tk.LabelFunction(services.badge_label))
