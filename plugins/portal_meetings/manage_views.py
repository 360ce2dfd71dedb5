"""The secretary's meeting pages: calling and editing meetings, the register, leave, minutes, the QR code
for the projector, compliance and the downloads. Thin views: parse input, check permission, call a service."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from portal.toolkit import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload

from portal import toolkit as tk
from portal_meetings import attendance, compliance, meetings, vocabulary
from portal_meetings.forms import LOCAL_INPUT_FORMAT, MeetingForm, MinutesForm
from portal_meetings.models import Attachment, Attendee, Meeting

bp = Blueprint("meetings_manage", __name__, url_prefix="/meetings/manage", template_folder="templates",
               static_folder="static", static_url_path="/static")
db = tk.db
PERMISSION = "meetings.manage"
# Every label dict of the plugin: ``meetings_labels`` is one app-wide template global, whichever blueprint sets it.
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
#: Fields of the meeting form the services read (the unit is chosen apart, only when creating).
MEETING_FIELDS = ("kind", "topic", "starts_at", "ends_at", "place", "mode", "online_url", "host_name",
                  "recorder_name", "lecturer_name", "agenda")
MINUTES_FIELDS = ("minutes", "decisions", "host_name", "recorder_name", "lecturer_name")
#: The register's buttons, in the order they are shown.
MARKS = ("present", "online", "leave", "absent")
#: Whom a secretary may add by hand (the others are listed by the rules or by scanning the code).
ADDABLE_ROLES = ("attending", "activist")


# -- helpers -----------------------------------------------------------------


def _managed_meeting(meeting_id: int) -> Meeting:
    """The meeting, if the account manages its unit (404 otherwise, like a unit outside one's scope)."""
    meeting = db.session.get(Meeting, meeting_id) if meeting_id <= tk.MAX_ID else None
    if meeting is None:
        abort(404)
    tk.require(PERMISSION, meeting.unit)
    return meeting


def _member_in(meeting: Meeting, member_id: str | None) -> tk.Member:
    """A member on the meeting's list (``tk.Invalid`` for anyone else)."""
    attendee = next((row for row in meeting.attendees if str(row.member_id) == (member_id or "").strip()), None)
    if attendee is None:
        raise tk.Invalid(_("This person is not on the meeting's list."), field="member_id")
    return attendee.member


def _period_or_none(text: str | None):
    """``(period, error)``: the period typed, or None and the message when it cannot be read."""
    if not text:
        return None, None
    try:
        return compliance.parse_period(text.strip()), None
    except tk.Invalid as error:
        return None, error.message


def _counts(meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    """``{meeting_id: {status: n}}`` for the listed meetings (one grouped query)."""
    counts: dict[int, dict[str, int]] = {}
    if meeting_ids:
        rows = db.session.execute(select(Attendee.meeting_id, Attendee.status, func.count())
                                  .where(Attendee.meeting_id.in_(meeting_ids))
                                  .group_by(Attendee.meeting_id, Attendee.status))
        for meeting_id, status, n in rows:
            counts.setdefault(meeting_id, {})[status] = n
    return counts


def _now() -> datetime:
    return tk.utcnow()


# -- the list, calling and editing -------------------------------------------


@bp.get("/")
@login_required
def index():
    """The units the account manages, the chosen unit's meetings (newest first), filtered by period."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    period, period_error = _period_or_none(request.args.get("period"))
    # The same for every secretary of the unit: rendered once, kept until a meeting or an attendance changes.
    # Keyed by ``?page=`` as typed: the page shown is what ``tk.paginate`` makes of that text.
    listing = tk.cached("meetings.register", (unit.id, period.key if period else "", request.args.get("page", "")),
                        lambda: _listing(unit, period))
    return render_template("meetings/manage/index.html", unit=unit, units=tk.unit_choices(PERMISSION),
                           listing=listing, period=period, period_text=request.args.get("period", ""),
                           period_error=period_error), 422 if period_error else 200


def _listing(unit: tk.OrgUnit, period: compliance.Period | None) -> Markup:
    """One page of the unit's meetings in ``period`` (newest first) with their attendance counts, as HTML."""
    since, until = period.bounds() if period else (None, None)
    # the list shows counts (one grouped query), not the people: no attendee rows loaded
    page = tk.paginate(meetings.meetings_of_unit(unit, since=since, until=until)
                       .options(lazyload(Meeting.attendees)))
    return Markup(render_template("meetings/manage/_listing.html", unit=unit, page=page, period=period,
                                  counts=_counts([m.id for m in page.items])))


def _meeting_data(form) -> dict:
    return {name: form.get(name, "") for name in MEETING_FIELDS}


def _render_form(form: MeetingForm, meeting: Meeting | None = None, status: int = 200):
    return render_template("meetings/manage/form.html", form=form, meeting=meeting), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a meeting: "Save as draft" keeps it to the secretaries, "Call the meeting" tells the members."""
    tk.require(PERMISSION)
    units = tk.unit_choices(PERMISSION)
    if request.method == "GET":
        chosen = request.args.get("unit", "")
        form = MeetingForm(formdata=None, data={"unit": chosen, "kind": "assembly", "mode": "onsite"})
        return _render_form(form.set_choices(units))
    form = MeetingForm().set_choices(units)
    call = request.form.get("action") != "draft"

    def create() -> Meeting:
        value = request.form.get("unit", "")
        unit = db.session.get(tk.OrgUnit, int(value)) if value.isdigit() and int(value) <= tk.MAX_ID else None
        if unit is None:
            raise tk.Invalid(_("Choose the unit that holds the meeting."), field="unit")
        tk.require(PERMISSION, unit)
        return meetings.create_meeting(unit, _meeting_data(request.form), by=current_user, now=_now(), call=call)

    return tk.form_post(
        create, form=form,
        success=(_("The meeting was called: its members were told.") if call
                 else _("The meeting was saved as a draft. Members are told when you call it.")),
        redirect_to=lambda meeting: url_for("meetings_manage.meeting", meeting_id=meeting.id),
        on_error=lambda error: _render_form(form, status=error.status))


def _form_data(meeting: Meeting) -> dict:
    data = {name: getattr(meeting, name) for name in MEETING_FIELDS}
    data["starts_at"] = tk.to_local(meeting.starts_at).strftime(LOCAL_INPUT_FORMAT)
    data["ends_at"] = tk.to_local(meeting.ends_at).strftime(LOCAL_INPUT_FORMAT)
    data["unit"] = str(meeting.unit_id)
    return data


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    """Change a meeting; members of a called meeting are told when its time or place moves."""
    meeting = _managed_meeting(meeting_id)
    units = [(meeting.unit_id, meeting.unit.name)]
    if request.method == "GET":
        return _render_form(MeetingForm(formdata=None, data=_form_data(meeting)).set_choices(units), meeting)
    form = MeetingForm().set_choices(units)
    return tk.form_post(
        lambda: meetings.update_meeting(meeting, _meeting_data(request.form), by=current_user, now=_now()),
        form=form, success=_("The meeting was saved."),
        redirect_to=url_for("meetings_manage.meeting", meeting_id=meeting.id),
        on_error=lambda error: _render_form(form, _managed_meeting(meeting_id), error.status))


# -- one meeting: state, minutes, attachments --------------------------------


def _render_meeting(meeting: Meeting, minutes_form: MinutesForm | None = None, status: int = 200):
    if minutes_form is None:
        minutes_form = MinutesForm(formdata=None, data={name: getattr(meeting, name) for name in MINUTES_FIELDS})
    now = _now()
    return render_template(
        "meetings/manage/meeting.html", meeting=meeting, minutes_form=minutes_form, now=now,
        started=meeting.starts_at <= now, summary=attendance.summary(meeting, account=current_user, now=now),
        upload_types=", ".join(tk.get_setting(vocabulary.PLUGIN, "attachment_types")),
        upload_kb=tk.get_setting(vocabulary.PLUGIN, "attachment_max_kb"),
    ), status


@bp.get("/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    """Everything about one meeting, the buttons that move it on, its minutes and attachments."""
    return _render_meeting(_managed_meeting(meeting_id))


def _change_state(meeting: Meeting, to: str):
    now = _now()
    if to == "call":
        return meetings.call_meeting(meeting, by=current_user, now=now)
    if to == "held":
        return meetings.mark_held(meeting, by=current_user, now=now)
    if to == "cancel":
        return meetings.cancel_meeting(meeting, request.form.get("reason", ""), by=current_user, now=now)
    if to == "archive":
        return meetings.archive_meeting(meeting, by=current_user, now=now)
    raise tk.Invalid(_("Choose what to do with the meeting."), field="to")


@bp.post("/<int:meeting_id>/state")
@login_required
def state(meeting_id: int):
    """Call, mark held, cancel (with a reason) or archive the meeting."""
    meeting = _managed_meeting(meeting_id)
    return tk.form_post(
        lambda: _change_state(meeting, request.form.get("to", "")),
        success=lambda _result: _("Saved: the meeting is now %(status)s.",
                                  status=vocabulary.STATUS_LABELS[meeting.status]),
        redirect_to=url_for("meetings_manage.meeting", meeting_id=meeting.id),
        on_error=lambda error: _render_meeting(_managed_meeting(meeting_id), status=error.status))


@bp.post("/<int:meeting_id>/minutes")
@login_required
def minutes(meeting_id: int):
    """Record the minutes and decisions of a held meeting (it becomes minuted)."""
    meeting = _managed_meeting(meeting_id)
    form = MinutesForm()
    return tk.form_post(
        lambda: meetings.record_minutes(meeting, {name: request.form.get(name, "") for name in MINUTES_FIELDS},
                                        by=current_user, now=_now()),
        form=form, success=_("The minutes were saved."),
        redirect_to=url_for("meetings_manage.meeting", meeting_id=meeting.id),
        on_error=lambda error: _render_meeting(_managed_meeting(meeting_id), form, error.status))


@bp.post("/<int:meeting_id>/attachments")
@login_required
def upload(meeting_id: int):
    """Keep a file with the meeting (sign-in sheet photo, slides, minutes scan)."""
    meeting = _managed_meeting(meeting_id)
    return tk.form_post(lambda: meetings.add_attachment(meeting, request.files.get("file"), by=current_user),
                        success=_("The file was added."),
                        redirect_to=url_for("meetings_manage.meeting", meeting_id=meeting.id) + "#attachments",
                        on_error=lambda error: _render_meeting(_managed_meeting(meeting_id), status=error.status))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """A meeting's file, after the same permission check as the meeting (never from static)."""
    item = db.session.get(Attachment, attachment_id) if attachment_id <= tk.MAX_ID else None
    if item is None:
        abort(404)
    _managed_meeting(item.meeting_id)
    return meetings.attachment_response(item)


# -- the register --------------------------------------------------------------


def _candidates(meeting: Meeting, term: str) -> list[tk.Member]:
    """People who may be added: of the unit's subtree or hosted there, matching ``term`` (name or id), not listed."""
    term = term.strip()[:50]
    if not term:
        return []
    subtree = tk.subtree_ids(meeting.unit)
    listed = {row.member_id for row in meeting.attendees}
    match = tk.Member.id == int(term) if term.isdigit() and int(term) <= tk.MAX_ID else \
        tk.Member.name.contains(term, autoescape=True)
    query = select(tk.Member).where(match, or_(tk.Member.home_unit_id.in_(subtree), tk.Member.host_unit_id.in_(subtree)))
    return [m for m in db.session.scalars(query.order_by(tk.Member.name).limit(20)) if m.id not in listed]


def _render_register(meeting: Meeting, status: int = 200):
    term, now = request.args.get("q", ""), _now()
    rows = sorted(meeting.attendees, key=lambda row: (row.status != "leave_requested", row.member.name, row.id))
    return render_template("meetings/manage/register.html", meeting=meeting, rows=rows, marks=MARKS,
                           summary=attendance.summary(meeting, account=current_user, now=now), term=term,
                           candidates=_candidates(meeting, term), addable_roles=ADDABLE_ROLES,
                           ended=meeting.ends_at <= now), status


@bp.route("/<int:meeting_id>/register", methods=["GET", "POST"])
@login_required
def register(meeting_id: int):
    """The attendance register; a POST ticks one person present, online, on leave or absent."""
    meeting = _managed_meeting(meeting_id)
    if request.method == "GET":
        return _render_register(meeting)
    mark = request.form.get("status", "")

    def tick():
        member = _member_in(meeting, request.form.get("member_id"))
        if mark not in MARKS:
            raise tk.Invalid(_("Choose present, online, on leave or absent."), field="status")
        return attendance.mark(meeting, member, mark, by=current_user, now=_now())

    return tk.form_post(
        tick, success=lambda row: _("%(name)s: %(status)s.", name=row.member.name,
                                    status=vocabulary.ATTENDANCE_LABELS[row.status]),
        redirect_to=url_for("meetings_manage.register", meeting_id=meeting.id),
        on_error=lambda error: _render_register(_managed_meeting(meeting_id), error.status))


@bp.post("/<int:meeting_id>/leave")
@login_required
def leave(meeting_id: int):
    """Approve or refuse a leave request."""
    meeting = _managed_meeting(meeting_id)
    approve = request.form.get("decision") == "approve"
    return tk.form_post(
        lambda: attendance.decide_leave(meeting, _member_in(meeting, request.form.get("member_id")), approve,
                                        by=current_user, now=_now()),
        success=_("Leave approved.") if approve else _("Leave refused: the member is expected again."),
        redirect_to=url_for("meetings_manage.register", meeting_id=meeting.id),
        on_error=lambda error: _render_register(_managed_meeting(meeting_id), error.status))


def _add(meeting: Meeting) -> Attendee:
    raw = request.form.get("member_id", "").strip()
    member = next((m for m in _candidates(meeting, raw) if str(m.id) == raw), None) if raw.isdigit() else None
    if member is None:
        raise tk.Invalid(_("Choose someone of this unit or hosted here who is not on the list yet."),
                         field="member_id")
    role = request.form.get("role", "")
    if role not in ADDABLE_ROLES:
        raise tk.Invalid(_("Choose how they take part."), field="role")
    return meetings.add_attendee(meeting, member, role, by=current_user)


@bp.post("/<int:meeting_id>/attendees")
@login_required
def add_attendee(meeting_id: int):
    """Add someone to the list (列席 or an activist)."""
    meeting = _managed_meeting(meeting_id)
    return tk.form_post(
        lambda: _add(meeting), success=lambda row: _("%(name)s was added to the list.", name=row.member.name),
        redirect_to=url_for("meetings_manage.register", meeting_id=meeting.id),
        on_error=lambda error: _render_register(_managed_meeting(meeting_id), error.status))


@bp.post("/<int:meeting_id>/attendees/remove")
@login_required
def remove_attendee(meeting_id: int):
    """Take someone off the list."""
    meeting = _managed_meeting(meeting_id)

    def remove() -> tk.Member:
        member = _member_in(meeting, request.form.get("member_id"))
        meetings.remove_attendee(meeting, member, by=current_user)
        return member

    return tk.form_post(
        remove, success=lambda member: _("%(name)s was taken off the list.", name=member.name),
        redirect_to=url_for("meetings_manage.register", meeting_id=meeting.id),
        on_error=lambda error: _render_register(_managed_meeting(meeting_id), error.status))


@bp.get("/<int:meeting_id>/qr")
@login_required
def qr(meeting_id: int):
    """The projector page: the check-in QR code, refreshed (no JavaScript) before the code changes."""
    meeting = _managed_meeting(meeting_id)
    now = _now()
    seconds = tk.get_setting(vocabulary.PLUGIN, "checkin_code_seconds")
    code = attendance.current_code(meeting, now) if attendance.is_open(meeting, now) else None
    url = url_for("meetings.checkin", meeting_id=meeting.id, code=code, _external=True) if code else None
    return render_template("meetings/manage/qr.html", meeting=meeting, code=code, url=url,
                           qr=Markup(tk.qr_svg(url, scale=8)) if url else None, refresh=max(1, seconds // 2),
                           window=attendance.checkin_window(meeting))


# -- compliance and downloads ------------------------------------------------------


def _unit_and_period():
    """The unit and period of the compliance pages: ``?unit=&period=`` (default: this quarter)."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    period, error = _period_or_none(request.args.get("period"))
    return unit, period or compliance.current_period("quarter", tk.local_today()), error


def _download_args():
    """The unit and period of a download; a period that cannot be read is refused (``tk.Invalid``)."""
    unit = tk.unit_from_arg(request.args.get("unit"), PERMISSION)
    text = request.args.get("period") or compliance.current_period("quarter", tk.local_today()).key
    return unit, compliance.parse_period(text.strip())


@bp.get("/compliance", endpoint="compliance")
@login_required
def compliance_page():
    """Required vs held per kind for the unit, and for every unit below it that must hold meetings."""
    unit, period, error = _unit_and_period()
    today = tk.local_today()
    shortcuts = [compliance.current_period(granularity, today) for granularity in ("month", "quarter", "year")]
    return render_template("meetings/manage/compliance.html", unit=unit, period=period, error=error,
                           units=tk.unit_choices(PERMISSION), shortcuts=shortcuts,
                           own=compliance.unit_compliance(unit, period),
                           subtree=compliance.subtree_compliance(unit, period),
                           period_text=request.args.get("period", period.key)), 422 if error else 200


@bp.get("/compliance/register.xlsx")
@login_required
def register_xlsx():
    """The period's meeting register as a spreadsheet."""
    return compliance.register_xlsx(*_download_args())


@bp.get("/compliance/minutes.pdf")
@login_required
def minutes_pdf():
    """The period's minutes book: one meeting per page, with attendance."""
    return compliance.minutes_book_pdf(*_download_args())

