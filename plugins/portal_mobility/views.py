"""Thin views of the mobility pages: parse input, check permission, call a service, render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from portal.toolkit import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from portal import toolkit as tk

from . import (
    certificates, checkins, common, contacts, labels, moves, outflows, photos, queries, returns, statistics,
    transfers,
)
from .forms import (
    ArrivalForm, DecisionForm, MoveForm, OutflowForm, PhotoForm, ReturnForm, TransferForm, contact_form, options,
    review_form,
)
from .models import REVIEW_CHECKLIST, Certificate, CheckIn, Outflow, Transfer

bp = Blueprint("mobility", __name__, template_folder="templates", static_folder="static",
               static_url_path="/mobility/static")
db = tk.db


# -- helpers -----------------------------------------------------------------

tk.template_labels(
    bp, "mobility", outflow=labels.OUTFLOW_STATUS_LABELS, checkin=labels.CHECKIN_STATUS_LABELS,
    identity=labels.IDENTITY_LABELS, review=labels.REVIEW_OUTCOME_LABELS, check=labels.REVIEW_CHECK_LABELS,
    transfer=labels.TRANSFER_STATUS_LABELS, channel=labels.CHANNEL_LABELS, age=labels.AGE_BAND_LABELS,
    duration=labels.DURATION_LABELS, fact=labels.REVIEW_FACT_LABELS,
)


def _get(model, object_id):
    return db.session.get(model, object_id) or abort(404)


def _member(member_id) -> tk.Member:
    return db.session.get(tk.Member, member_id) or abort(404)


def _unit(unit_id) -> tk.OrgUnit:
    return db.session.get(tk.OrgUnit, unit_id) or abort(404)


def _subject(member_id: str | None) -> tk.Member:
    """The member a form is about: the current member, or (for the home side) ``member_id``."""
    if member_id:
        try:
            member = _member(int(member_id))
        except ValueError:
            abort(404)
        if not common.may_act_for(member, current_user):
            abort(404)
        return member
    member = tk.current_member()
    if member is None:
        abort(403)
    return member


# -- the member's own pages -------------------------------------------------------

@bp.get("/mobility/")
@tk.login_required_member
def index():
    """My mobility: registration, certificate, host branch, what to do next."""
    member = tk.current_member()
    now = tk.utcnow()
    return render_template(
        "mobility/index.html", member=member, outflow=outflows.open_outflow(member),
        certificate=certificates.active_certificate(member), checkin=checkins.open_checkin(member),
        confirm_due=moves.confirmation_due(member, now), settle=transfers.settled_long_enough(member, now),
        transfer=transfers.open_transfer(member), history=certificates.certificate_history(member),
        moves=moves.moves_of(member, 10), past=_past_outflows(member), today=tk.local_date(now))


def _past_outflows(member) -> list[Outflow]:
    return list(db.session.scalars(select(Outflow).where(Outflow.member_id == member.id,
                                                          Outflow.status.in_(("returned", "transferred", "cancelled")))
                                   .order_by(Outflow.id.desc()).limit(20)))


@bp.route("/mobility/outflows/new", methods=["GET", "POST"])
@login_required
def register():
    """Outflow registration, by the member or by the home secretary for a member (``?member_id=``)."""
    member = _subject(request.values.get("member_id"))
    form = OutflowForm()
    if request.method == "POST":
        return tk.form_post(
            lambda: outflows.register_outflow(member, request.form, by_account=current_user),
            success=_("Your registration was sent to the home branch for approval.")
            if member.account_id == current_user.id else _("The registration was saved."),
            redirect_to=lambda outflow: url_for("mobility.outflow", outflow_id=outflow.id), form=form,
            on_error=lambda error: (render_template("mobility/outflow_form.html", form=form, member=member,
                                                    outflow=None), error.status))
    if not form.start_date.data:
        form.start_date.data = tk.local_today().isoformat()
    return render_template("mobility/outflow_form.html", form=form, member=member, outflow=None)


@bp.get("/mobility/outflows/<int:outflow_id>")
@login_required
def outflow(outflow_id: int):
    """One registration with its decision, certificate, check-ins and (after return) the summary of the time away."""
    outflow = _get(Outflow, outflow_id)
    member = outflow.member
    if not common.may_view(member):
        abort(404)
    outflow_certificates = list(db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)
                                                   .order_by(Certificate.id.desc())))
    outflow_checkins = list(db.session.scalars(select(CheckIn).where(CheckIn.outflow_id == outflow.id)
                                               .order_by(CheckIn.id.desc())))
    summary, away = returns.stored_summary(outflow)
    live = None
    if outflow.status == "approved" and (common.may_manage(member) or member.account_id == current_user.id):
        from datetime import datetime, time

        live = returns.participation_summary(member, datetime.combine(outflow.start_date, time.min), tk.utcnow())
    return render_template("mobility/outflow.html", outflow=outflow, member=member, certificates=outflow_certificates,
                           checkins=outflow_checkins, summary=summary, away=away, live=live,
                           may_manage=common.may_manage(member), is_self=member.account_id == current_user.id,
                           decision=DecisionForm(), photo_form=PhotoForm())


@bp.route("/mobility/outflows/<int:outflow_id>/edit", methods=["GET", "POST"])
@login_required
def edit(outflow_id: int):
    """Correct a registration that waits or was sent back."""
    outflow = _get(Outflow, outflow_id)
    member = outflow.member
    if not common.may_act_for(member, current_user):
        abort(404)
    form = OutflowForm(obj=outflow, destination=outflow.destination_code or outflow.destination) \
        if request.method == "GET" else OutflowForm()
    if request.method == "GET":
        form.start_date.data = outflow.start_date.isoformat()
    if request.method == "POST":
        return tk.form_post(
            lambda: outflows.update_outflow(outflow, request.form), success=_("Saved."),
            redirect_to=url_for("mobility.outflow", outflow_id=outflow.id), form=form,
            on_error=lambda error: (render_template("mobility/outflow_form.html", form=form, member=member,
                                                    outflow=outflow), error.status))
    return render_template("mobility/outflow_form.html", form=form, member=member, outflow=outflow)


@bp.post("/mobility/outflows/<int:outflow_id>/decide")
@login_required
def decide(outflow_id: int):
    """The home branch approves (issuing the certificate) or asks for changes."""
    outflow = _get(Outflow, outflow_id)
    if not common.may_manage(outflow.member):
        abort(404)
    action = request.form.get("action")

    def act() -> str:
        if action == "approve":
            certificate = outflows.approve_outflow(outflow, by_account=current_user, note=request.form.get("note"))
            return _("Approved. Activity certificate %(number)s issued.", number=certificate.number)
        if action == "changes":
            outflows.request_changes(outflow, request.form.get("note", ""), by_account=current_user)
            return _("The registration was sent back to the member.")
        raise tk.BadRequest(_("Unknown action."))

    back = url_for("mobility.outflow", outflow_id=outflow_id)
    return tk.form_post(act, success=lambda message: message, redirect_to=back, on_error=back)


@bp.post("/mobility/outflows/<int:outflow_id>/withdraw")
@login_required
def withdraw(outflow_id: int):
    outflow = _get(Outflow, outflow_id)
    if not common.may_act_for(outflow.member, current_user):
        abort(404)
    back = url_for("mobility.outflow", outflow_id=outflow_id)
    return tk.form_post(lambda: outflows.withdraw_outflow(outflow), success=_("The registration was withdrawn."),
                        redirect_to=url_for("mobility.index") if outflow.member.account_id == current_user.id else back,
                        on_error=back)


@bp.post("/mobility/outflows/<int:outflow_id>/photo")
@login_required
def upload_photo(outflow_id: int):
    """The member's photo for the certificate (JPEG/PNG, size-limited, checked by content)."""
    outflow = _get(Outflow, outflow_id)
    member = outflow.member
    if not common.may_act_for(member, current_user):
        abort(404)
    return tk.form_post(
        lambda: photos.save_photo(outflow, request.files.get("photo")), success=_("The photo was saved."),
        redirect_to=url_for("mobility.outflow", outflow_id=outflow.id),
        on_error=lambda error: (render_template("mobility/photo_error.html", outflow=outflow, message=error.message),
                                error.status))


@bp.get("/mobility/outflows/<int:outflow_id>/photo")
@login_required
def photo(outflow_id: int):
    """The stored photo, only for those who may see the member's mobility record."""
    outflow = _get(Outflow, outflow_id)
    if not common.may_view(outflow.member):
        abort(404)
    return tk.send_upload(common.PLUGIN, outflow.photo_file)


@bp.route("/mobility/outflows/<int:outflow_id>/return", methods=["GET", "POST"])
@login_required
def record_return(outflow_id: int):
    """Return registration by the member or the home secretary: certificate checked and closed."""
    outflow = _get(Outflow, outflow_id)
    if not common.may_act_for(outflow.member, current_user):
        abort(404)
    form = ReturnForm()
    if request.method == "POST":
        return tk.form_post(
            lambda: returns.record_return(outflow, request.form), success=_("Welcome back! The return was recorded."),
            redirect_to=url_for("mobility.outflow", outflow_id=outflow.id), form=form,
            on_error=lambda error: (render_template("mobility/return.html", form=form, outflow=outflow),
                                    error.status))
    form.returned_on.data = form.returned_on.data or tk.local_today().isoformat()
    return render_template("mobility/return.html", form=form, outflow=outflow)


# -- certificates -----------------------------------------------------------------

def _certificate_for_viewer(certificate_id: int) -> Certificate:
    certificate = _get(Certificate, certificate_id)
    if not common.may_view(certificate.member):
        abort(404)
    return certificate


@bp.get("/mobility/certificates/<int:certificate_id>")
@login_required
def certificate(certificate_id: int):
    """The certificate with its QR code, its reviews and the member's certificate history."""
    certificate = _certificate_for_viewer(certificate_id)
    url = certificates.verify_url(certificate)
    return render_template("mobility/certificate.html", certificate=certificate, qr=Markup(tk.qr_svg(url)),
                           verify_url=url, reviews=certificates.reviews_of(certificate),
                           history=certificates.certificate_history(certificate.member),
                           host_meetings=certificates.meetings_at_host(certificate),
                           may_manage=common.may_manage(certificate.member), today=tk.local_today())


@bp.get("/mobility/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id: int):
    """The printable card."""
    certificate = _certificate_for_viewer(certificate_id)
    return tk.pdf_response(certificates.certificate_pdf(certificate), f"{certificate.number}.pdf", inline=True)


@bp.route("/mobility/certificates/<int:certificate_id>/review", methods=["GET", "POST"])
@login_required
def review(certificate_id: int):
    """The annual review with its checklist and outcome (home side)."""
    certificate = _get(Certificate, certificate_id)
    if not common.may_manage(certificate.member):
        abort(404)
    form = review_form()
    # The secretary sees what the stream counted over the year before confirming the checks.
    context = {"form": form, "certificate": certificate, "reviews": certificates.reviews_of(certificate),
               "facts": certificates.review_facts(certificate, tk.utcnow()),
               "renewable_from": certificates.renewable_from(certificate), "today": tk.local_today()}
    if request.method == "POST":
        checklist = {key: request.form.get(f"check_{key}") in ("y", "on", "1", "true") for key in REVIEW_CHECKLIST}
        return tk.form_post(
            lambda: certificates.review_certificate(certificate, checklist, request.form.get("outcome", ""),
                                                    request.form.get("note"), by_account=current_user),
            success=_("The review was recorded."),
            redirect_to=url_for("mobility.certificate", certificate_id=certificate.id), form=form,
            on_error=lambda error: (render_template("mobility/review.html", **context), error.status))
    return render_template("mobility/review.html", **context)


@bp.get("/certificates/mobility/verify/<number>")
def verify(number: str):
    """Public verification page, no login: validity, masked name, photo, branches — nothing else personal."""
    return certificates.verification_page(number)


@bp.get("/certificates/mobility/verify/<number>/photo")
def verify_photo(number: str):
    """The holder's photo for the public check, keyed by the unguessable number; only while valid."""
    return certificates.public_photo(number)


# -- check-in ------------------------------------------------------------------------

@bp.route("/mobility/checkin", methods=["GET", "POST"])
@tk.login_required_member
def checkin():
    """Pick a host branch (search by city, or arrive from a branch's QR code with ``?unit=``) and check in."""
    member = tk.current_member()
    if request.method == "POST":
        try:
            unit_id = int(request.form.get("host_unit_id", ""))
        except ValueError:
            unit_id = None
        host = db.session.get(tk.OrgUnit, unit_id) if unit_id else None
        return tk.form_post(
            lambda: checkins.request_checkin(member, host, by_account=current_user),
            success=lambda checkin: _("Your check-in was sent to %(unit)s. Its secretary will confirm it.",
                                      unit=checkin.host_unit.name),
            redirect_to=url_for("mobility.index"),
            on_error=lambda error: (render_template("mobility/checkin.html", member=member, term="", units=[],
                                                    chosen=host, outflow=outflows.active_outflow(member),
                                                    checkin=checkins.open_checkin(member)), error.status))
    term = (request.args.get("city") or "").strip()[:50]
    chosen = None
    if request.args.get("unit", "").isdigit():
        chosen = db.session.get(tk.OrgUnit, int(request.args["unit"]))
        if chosen is None or chosen.is_closed:
            abort(404)
    if not term and chosen is None and member.current_city:
        term = member.current_city
    units = checkins.search_host_units(term, exclude_unit_id=member.home_unit_id)
    return render_template("mobility/checkin.html", member=member, term=term, units=units, chosen=chosen,
                           outflow=outflows.active_outflow(member), checkin=checkins.open_checkin(member))


@bp.get("/mobility/units/<int:unit_id>/checkin-code")
@login_required
def checkin_code(unit_id: int):
    """A printable page with the branch's QR code linking to a pre-filled check-in."""
    unit = _unit(unit_id)
    tk.require("mobility.host", unit)
    url = url_for("mobility.checkin", unit=unit.id, _external=True)
    return render_template("mobility/checkin_code.html", unit=unit, url=url, qr=Markup(tk.qr_svg(url, scale=6)))


@bp.post("/mobility/checkins/<int:checkin_id>/decide")
@login_required
def decide_checkin(checkin_id: int):
    """The host secretary confirms or declines a check-in."""
    checkin = _get(CheckIn, checkin_id)
    tk.require("mobility.host", checkin.host_unit)
    action = request.form.get("action")

    def act() -> str:
        if action == "confirm":
            checkins.confirm_checkin(checkin, by_account=current_user)
            return _("%(name)s is now hosted by %(unit)s.", name=checkin.member.name, unit=checkin.host_unit.name)
        if action == "reject":
            checkins.reject_checkin(checkin, request.form.get("note"), by_account=current_user)
            return _("The check-in was declined.")
        raise tk.BadRequest(_("Unknown action."))

    back = url_for("mobility.unit", unit_id=checkin.host_unit_id, tab="pending")
    return tk.form_post(act, success=lambda message: message, redirect_to=back, on_error=back)


@bp.post("/mobility/checkins/<int:checkin_id>/identity")
@login_required
def decide_identity(checkin_id: int):
    """The home branch confirms that an arrival without certificate is its member."""
    checkin = _get(CheckIn, checkin_id)
    if not common.may_manage(checkin.member):
        abort(404)
    back = url_for("mobility.member", member_id=checkin.member_id)
    return tk.form_post(
        lambda: checkins.decide_identity(checkin, request.form.get("action") == "confirm", by_account=current_user),
        success=_("Saved."), redirect_to=back, on_error=back)


@bp.route("/mobility/units/<int:unit_id>/arrivals/new", methods=["GET", "POST"])
@login_required
def arrival(unit_id: int):
    """The host secretary registers a member who arrived without a certificate."""
    unit = _unit(unit_id)
    tk.require("mobility.host", unit)
    form = ArrivalForm()
    # the member's home branch may lie anywhere in the organization, not only where this secretary works
    form.home_unit_id.choices = options([("", "—")] + tk.unit_choices(kinds=("branch", "group"), exclude=[unit.id]))
    if request.method == "POST":
        home_id = request.form.get("home_unit_id", "")
        home = db.session.get(tk.OrgUnit, int(home_id)) if home_id.isdigit() else None
        return tk.form_post(
            lambda: checkins.register_arrival(unit, home, request.form.get("name", ""), request.form.get("phone", ""),
                                              request.form.get("note"), by_account=current_user),
            success=_("The arrival was recorded. The home branch is asked to confirm the identity."),
            redirect_to=url_for("mobility.unit", unit_id=unit.id, tab="pending"), form=form,
            on_error=lambda error: (render_template("mobility/arrival.html", form=form, unit=unit), error.status))
    return render_template("mobility/arrival.html", form=form, unit=unit)


# -- moves --------------------------------------------------------------------------

@bp.route("/mobility/report", methods=["GET", "POST"])
@tk.login_required_member
def report_move():
    """Report a change of place, employer or contact — or confirm nothing changed."""
    member = tk.current_member()
    outflow = outflows.active_outflow(member)
    if outflow is None:
        flash(_("You are not registered as away."), "warning")
        return redirect(url_for("mobility.index"))
    details = moves.current_details(member)
    form = MoveForm() if request.method == "POST" else MoveForm(data=details)
    if request.method == "POST":
        return tk.form_post(
            lambda: moves.report_move(member, request.form, by_account=current_user),
            success=lambda move: _("Thank you. The change was recorded (reported later than %(days)d days after it "
                                   "happened).", days=common.setting("move_report_days")) if move.late
            else _("Thank you. The change was recorded."),
            redirect_to=url_for("mobility.index"), form=form,
            on_error=lambda error: (render_template("mobility/report.html", form=form, details=details,
                                                    outflow=outflow, limit=common.setting("move_report_days")),
                                    error.status))
    form.changed_on.data = tk.local_today().isoformat()
    return render_template("mobility/report.html", form=form, details=details, outflow=outflow,
                           limit=common.setting("move_report_days"))


@bp.post("/mobility/confirm")
@tk.login_required_member
def confirm_details():
    member = tk.current_member()
    return tk.form_post(lambda: moves.confirm_details(member, by_account=current_user),
                        success=_("Thank you for confirming your details."), redirect_to=url_for("mobility.index"),
                        on_error=url_for("mobility.index"))


# -- a member's mobility file (secretaries) -------------------------------------------------

@bp.get("/mobility/members/<int:member_id>")
@login_required
def member(member_id: int):
    """Everything about one member's mobility; the contact log only for the home side."""
    member = _member(member_id)
    if not common.may_view(member):
        abort(404)
    manage = common.may_manage(member)
    member_outflows = list(db.session.scalars(select(Outflow).where(Outflow.member_id == member.id)
                                              .order_by(Outflow.id.desc())))
    member_checkins = list(db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id)
                                              .order_by(CheckIn.id.desc())))
    member_transfers = list(db.session.scalars(select(Transfer).where(Transfer.member_id == member.id)
                                               .order_by(Transfer.id.desc())))
    return render_template(
        "mobility/member.html", member=member, manage=manage, outflows=member_outflows, checkins=member_checkins,
        certificates=certificates.certificate_history(member), moves=moves.moves_of(member),
        contacts=contacts.contacts_of(member) if manage else [], transfers=member_transfers,
        contact_form=contact_form() if manage else None,
        candidates=contacts.contact_candidates(member) if manage else [],
        case=contacts.open_case(member) if manage else None, last_seen=contacts.last_seen(member) if manage else None,
        settle=transfers.settled_long_enough(member, tk.utcnow()), today=tk.local_today())


@bp.post("/mobility/members/<int:member_id>/contact-person")
@login_required
def contact_person(member_id: int):
    member = _member(member_id)
    if not common.may_manage(member):
        abort(404)
    raw = request.form.get("contact_member_id", "")
    contact = db.session.get(tk.Member, int(raw)) if raw.isdigit() else None

    def assign() -> None:
        contacts.assign_contact(member, contact)
        tk.audit("mobility.contact_assigned", "member", member.id, unit_id=member.home_unit_id, contact=contact.id)

    back = url_for("mobility.member", member_id=member.id)
    return tk.form_post(assign, success=lambda _result: _("%(name)s is now the contact person.", name=contact.name),
                        redirect_to=back, on_error=back)


@bp.post("/mobility/members/<int:member_id>/contacts")
@login_required
def log_contact(member_id: int):
    member = _member(member_id)
    if not common.may_manage(member):
        abort(404)
    form = contact_form()
    return tk.form_post(
        lambda: contacts.log_contact(member, request.form.get("channel", ""), request.form.get("contacted_on"),
                                     request.form.get("note"), by_account=current_user,
                                     reached=not request.form.get("not_reached")),
        success=_("The contact was logged."), redirect_to=url_for("mobility.member", member_id=member.id),
        form=form, on_error=lambda error: (render_template("mobility/contact_error.html", member=member, form=form),
                                           error.status))


# -- transfers ------------------------------------------------------------------------

def _transfer_units(member, term: str) -> list:
    units = checkins.search_host_units(term) if term else []
    if member.host_unit is not None and member.host_unit not in units:
        units.insert(0, member.host_unit)
    return [u for u in units if u.id != member.home_unit_id]


def _unit_options(units) -> list:
    return options([("", "—")] + [(u.id, u.name + (f" ({u.city})" if u.city else "")) for u in units])


@bp.route("/mobility/transfers/new", methods=["GET", "POST"])
@login_required
def new_transfer():
    """Ask to transfer membership (the member for themself, or the home secretary for a member)."""
    member = _subject(request.values.get("member_id"))
    term = (request.args.get("q") or "").strip()[:50]
    form = TransferForm()
    units = _transfer_units(member, term)
    if request.method == "POST":
        raw = request.form.get("to_unit_id", "")
        to_unit = db.session.get(tk.OrgUnit, int(raw)) if raw.isdigit() else None
        if to_unit is not None and to_unit not in units:
            units.append(to_unit)
    form.to_unit_id.choices = _unit_options(units)
    if request.method == "POST":
        return tk.form_post(
            lambda: transfers.request_transfer(member, to_unit, request.form.get("reason", ""), by_account=current_user),
            success=_("The transfer request was sent to both branches."),
            redirect_to=lambda transfer: url_for("mobility.transfer", transfer_id=transfer.id), form=form,
            on_error=lambda error: (render_template("mobility/transfer_form.html", form=form, member=member,
                                                    term=term), error.status))
    form.member_id.data = str(member.id) if member.account_id != current_user.id else ""
    return render_template("mobility/transfer_form.html", form=form, member=member, term=term)


@bp.get("/mobility/transfers/<int:transfer_id>")
@login_required
def transfer(transfer_id: int):
    transfer = _get(Transfer, transfer_id)
    if not transfers.may_view_transfer(transfer, current_user):
        abort(404)
    from_side, to_side = transfers.transfer_sides(transfer)
    return render_template("mobility/transfer.html", transfer=transfer, from_side=from_side, to_side=to_side)


@bp.post("/mobility/transfers/<int:transfer_id>/decide")
@login_required
def decide_transfer(transfer_id: int):
    transfer = _get(Transfer, transfer_id)
    from_side, to_side = transfers.transfer_sides(transfer)
    side = request.form.get("side")
    if not ((side == "from" and from_side) or (side == "to" and to_side)):
        abort(404)

    def act() -> None:
        if request.form.get("action") == "approve":
            transfers.approve_transfer(transfer, side, by_account=current_user)
        elif request.form.get("action") == "reject":
            transfers.reject_transfer(transfer, request.form.get("note"), side=side, by_account=current_user)
        else:
            raise tk.BadRequest(_("Unknown action."))

    back = url_for("mobility.transfer", transfer_id=transfer.id)
    return tk.form_post(act, success=_("Saved."), redirect_to=back, on_error=back)


@bp.get("/mobility/transfers/<int:transfer_id>/letter.pdf")
@login_required
def letter(transfer_id: int):
    transfer = _get(Transfer, transfer_id)
    if not transfers.may_view_transfer(transfer, current_user):
        abort(404)
    return tk.pdf_response(transfers.letter_pdf(transfer), f"{transfer.number}.pdf", inline=True)


# -- units: lists, statistics ------------------------------------------------------------

@bp.get("/mobility/units")
@login_required
def units():
    """The units whose mobile members the current account looks after."""
    tops = {u.id: u for u in tk.manageable_units("mobility.view") + tk.manageable_units("mobility.host")}
    if not tops:
        abort(403)
    if len(tops) == 1:
        return redirect(url_for("mobility.unit", unit_id=next(iter(tops))))
    return render_template("mobility/units.html", units=sorted(tops.values(), key=lambda u: u.path))


TABS = ("outgoing", "incoming", "pending", "lost", "reviews", "changes")


@bp.get("/mobility/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """Outgoing and incoming members, what waits for a decision, lost contact, reviews due, reported changes."""
    unit = _unit(unit_id)
    tk.require("mobility.view", unit)
    tab = request.args.get("tab", "outgoing")
    if tab not in TABS:
        tab = "outgoing"
    now = tk.utcnow()
    context = {"unit": unit, "tab": tab, "tabs": TABS, "today": tk.local_date(now),
               "may_host": tk.can("mobility.host", unit), "may_manage": tk.can("mobility.manage", unit),
               "may_stats": tk.can("mobility.stats", unit)}
    if tab == "outgoing":
        context["page"] = tk.paginate(queries.outgoing_query(unit))
        context["others"] = queries.others_away(unit)
    elif tab == "incoming":
        context["page"] = tk.paginate(queries.incoming_members_query(unit))
    elif tab == "pending":
        context.update(outflows=queries.pending_outflows(unit) if context["may_manage"] else [],
                       checkins=queries.pending_checkins_at(unit) if context["may_host"] else [],
                       identities=queries.identity_checks_for(unit) if context["may_manage"] else [],
                       transfers=queries.transfers_for(unit))
    elif tab == "lost":
        context["rows"] = contacts.lost_contact_rows(queries.lost_contact_members(unit), now) \
            if context["may_manage"] else []
    elif tab == "reviews":
        context["certificates"] = certificates.certificates_due_for_review(unit, now) if context["may_manage"] else []
    else:
        context["moves"] = queries.late_moves(unit) if context["may_manage"] else []
    return render_template("mobility/unit.html", **context)


def stats_rows(stats: dict) -> list[tuple[str, str, int]]:
    """The statistics as (dimension, category, count) rows, labels translated."""
    unknown = _("unknown")
    rows = [(_("Members"), _("total"), stats["members"]), (_("Outgoing members"), _("total"), stats["outgoing"]),
            (_("Incoming members"), _("total"), stats["incoming"]),
            (_("Destination"), _("in the home province"), stats["in_province"]),
            (_("Destination"), _("outside the home province"), stats["out_of_province"])]
    rows += [(_("Destination province"), key or unknown, value) for key, value in stats["by_province"].items()]
    rows += [(_("Age"), tk.label(labels.AGE_BAND_LABELS, key), value) for key, value in stats["age_band"].items()]
    rows += [(_("Education"), unknown if key == "unknown" else tk.label(tk.EDUCATION_LABELS, key), value)
             for key, value in stats["education"].items()]
    rows += [(_("Gender"), unknown if key == "unknown" else tk.label(tk.GENDER_LABELS, key), value)
             for key, value in stats["gender"].items()]
    rows += [(_("Time away"), tk.label(labels.DURATION_LABELS, key), value)
             for key, value in stats["duration"].items()]
    rows += [(_("Outflows started"), month["month"], month["outgoing"]) for month in stats["trend"]]
    rows += [(_("Returns"), month["month"], month["returned"]) for month in stats["trend"]]
    return rows


def _stats_day() -> "tuple[object, str | None]":
    """The day of ``?on=`` (never after today) and a message when the text was not a date."""
    raw = request.args.get("on", "").strip()
    today = tk.local_today()
    day = common.parse_date(raw) if raw else today
    if day is None:
        return today, _("“%(text)s” is not a date; showing today.", text=raw)
    return min(day, today), None


def _duration_label(key: str, low: int | None, high: int | None) -> str:
    if key in labels.DURATION_LABELS:
        return str(labels.DURATION_LABELS[key])
    if low is None:
        return _("under %(months)d months", months=high)
    if high is None:
        return _("%(months)d months and more", months=low)
    return _("%(low)d–%(high)d months", low=low, high=high)


def stats_table(data: dict) -> dict:
    """The report table of :func:`statistics.unit_stats`: column groups, their columns, a row per direction.

    ``groups``: [(group label, [(label, value getter key)])]; ``rows``: [(row label, [values])].
    """
    table = data["table"]
    unknown = _("unknown")

    def present(field: str, keys, every: bool = True) -> list[str]:
        """``keys`` in order: all of them (``every``) or only those counted; "unknown" only when counted."""
        seen = set(table["outgoing"][field]) | set(table["incoming"][field])
        return [key for key in keys if key in seen or (every and key != "unknown")]

    genders = [g for g in ("male", "female", "unknown")
               if g != "unknown" or any(table[d]["gender"].get("unknown") for d in table)]
    groups = [
        ("", [(_("Total"), ("total", None)), (_("% of members"), ("share", None))]),
        (_("Gender"), [(unknown if g == "unknown" else tk.label(tk.GENDER_LABELS, g), ("gender", g)) for g in genders]),
        (_("Age"), [(tk.label(labels.AGE_BAND_LABELS, b), ("age_band", b)) for b in present("age_band", statistics.AGE_BANDS)]),
        (_("Education"), [(unknown if e == "unknown" else tk.label(tk.EDUCATION_LABELS, e), ("education", e))
                          for e in present("education", [*tk.EDUCATION_LABELS, "unknown"], every=False)]),
        (_("Place"), [(_("in the home province"), ("in_province", None)), (_("outside the home province"), ("out_of_province", None))]
         + ([(unknown, ("province_unknown", None))] if any(table[d]["province_unknown"] for d in table) else [])),
        (_("Time away"), [(_duration_label(b["key"], b["from_months"], b["below_months"]), ("duration", b["key"]))
                          for b in data["duration_bands"]]
         + ([(unknown, ("duration", "unknown"))] if any(table[d]["duration"].get("unknown") for d in table) else [])),
    ]

    def value(row: dict, field: str, key: str | None):
        return row[field] if key is None else row[field].get(key, 0)

    rows = [(title, [value(table[direction], *getter) for _label, columns in groups for _l, getter in columns])
            for direction, title in (("outgoing", _("Outgoing members")), ("incoming", _("Incoming members")))]
    return {"groups": [(label, [c for c, _g in columns]) for label, columns in groups], "rows": rows}


def stats_summary(data: dict) -> str:
    """The sentence secretaries report: "On …, 6 of 660 members (1 %) were away: 5 in the province, 1 outside."."""
    return _("On %(date)s, %(outgoing)d of %(members)d members (%(share)s %%) were away: %(inside)d in the home "
             "province, %(outside)d outside; %(incoming)d members from elsewhere were hosted.",
             date=tk.fmt_date(common.parse_date(data["on"])), outgoing=data["outgoing"], members=data["members"],
             share=data["outgoing_share"], inside=data["in_province"], outside=data["out_of_province"],
             incoming=data["incoming"])


@bp.get("/mobility/units/<int:unit_id>/stats")
@login_required
def stats(unit_id: int):
    """The mobility table of the subtree on a day (``?on=``), with SVG charts."""
    unit = _unit(unit_id)
    tk.require("mobility.stats", unit)
    day, problem = _stats_day()
    if problem:
        flash(problem, "warning")
    data = statistics.unit_stats(unit, on=day)
    rows = stats_rows(data)
    by_dimension: dict[str, list[tuple[str, int]]] = {}
    for dimension, category, value in rows[5:]:
        by_dimension.setdefault(dimension, []).append((category, value))
    chart_dims = [_("Destination province"), _("Age"), _("Education"), _("Gender"), _("Time away")]
    chart_list = [(dim, tk.bar_chart(by_dimension.get(dim, []), dim)) for dim in chart_dims]
    trend = tk.column_chart([(month["month"][2:], [month["outgoing"], month["returned"]]) for month in data["trend"]],
                            _("Trend by month"), series=[_("Outflows started"), _("Returns")], width=320, height=150)
    return render_template("mobility/stats.html", unit=unit, stats=data, charts=chart_list, trend=trend,
                           table=stats_table(data), summary=stats_summary(data), day=day)


@bp.get("/mobility/units/<int:unit_id>/stats.xlsx")
@login_required
def stats_export(unit_id: int):
    """The report table as a spreadsheet: title with unit and day, grouped header rows, one row per direction."""
    unit = _unit(unit_id)
    tk.require("mobility.stats", unit)
    day, _problem = _stats_day()
    data = statistics.unit_stats(unit, on=day)
    table = stats_table(data)
    group_row, headers = [""], [_("Members")]
    for label, columns in table["groups"]:
        group_row += [label] + [""] * (len(columns) - 1)
        headers += columns
    notes = [_("Members: full and probationary members of %(unit)s and the units below it (%(count)d).",
               unit=unit.name, count=data["members"])]
    if data["others_away"]:
        notes.append(_("Not counted: %(count)d applicants, activists and candidates away.", count=data["others_away"]))
    tk.audit("mobility.stats_exported", "unit", unit.id, unit_id=unit.id, on=day.isoformat())
    db.session.commit()
    return tk.xlsx_response(
        f"{unit.name}-mobility-{day.isoformat()}.xlsx", headers, [[label] + values for label, values in table["rows"]],
        title=_("Mobility"), heading=[_("Mobile members of %(unit)s", unit=unit.name),
                                      _("As of %(date)s", date=tk.fmt_date(day)), stats_summary(data), *notes],
        header_rows=[group_row])


@bp.get("/mobility/units/<int:unit_id>/outgoing.xlsx")
@login_required
def outgoing_export(unit_id: int):
    """The register of outgoing members (what the branch sends to the committee)."""
    unit = _unit(unit_id)
    tk.require("mobility.stats", unit)
    headers = [_("Name"), _("Gender"), _("Education"), _("Home branch"), _("Where now"),
               _("Registered destination"), _("Employer"), _("Leaving on"), _("Host branch"), _("Certificate number"),
               _("Valid until"), _("Phone number")]

    def rows():
        for outflow in db.session.scalars(queries.outgoing_query(unit)):
            member = outflow.member
            certificate = certificates.active_certificate(member)
            yield [member.name, tk.label(tk.GENDER_LABELS, member.gender), tk.label(tk.EDUCATION_LABELS, member.education),
                   member.home_unit.name, outflow.current_place, outflow.destination,
                   member.employer or "", outflow.start_date, member.host_unit.name if member.host_unit else "",
                   certificate.number if certificate else "", certificate.valid_until if certificate else "",
                   member.phone or ""]

    tk.audit("mobility.outgoing_exported", "unit", unit.id, unit_id=unit.id)
    db.session.commit()
    return tk.xlsx_response(f"{unit.name}-outgoing.xlsx", headers, rows(), title=_("Outgoing members"))

