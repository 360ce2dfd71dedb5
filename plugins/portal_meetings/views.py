"""Members' meeting pages: my meetings, one meeting, check-in by scanning, joining online, leave, .ics.

Thin views: parse input, check who may see the meeting, call ``meetings``/``attendance``, render.
The QR code on the secretary's screen carries ``/meetings/<id>/checkin?code=…``: opening it
shows one button (a GET changes nothing); the POST counts the member.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _

from portal import toolkit as tk
from portal_meetings import attendance, calendar, meetings, vocabulary
from portal_meetings.models import Attendee, Meeting

bp = Blueprint("meetings", __name__, url_prefix="/meetings", template_folder="templates",
               static_folder="static", static_url_path="/static")

# ``meetings_labels`` is one app-wide template global: the same dicts as meetings_manage hands over.
tk.template_labels(bp, vocabulary.PLUGIN, **vocabulary.TEMPLATE_LABELS)
#: Meetings a member may see: called ones (and those that went on from there); drafts stay with the secretaries.
MEMBER_VISIBLE = ("notified", "held", "minuted", "archived", "cancelled")
#: Past meetings listed per page of "My meetings" (a phone page: about a quarter's meetings; older ones page on).
PAST_SHOWN = 10


def _now() -> datetime:
    return tk.utcnow()


def is_at_home(meeting: Meeting, member: tk.Member) -> bool:
    """True when ``meeting`` is held by the member's home branch or a unit above it (not the host branch)."""
    return meeting.unit.contains(member.home_unit)


def is_concerned(meeting: Meeting, member: tk.Member | None) -> bool:
    """May ``member`` see ``meeting``: listed, or in its unit's subtree, or hosted there (drafts: nobody)?"""
    if member is None or meeting.status not in MEMBER_VISIBLE:
        return False
    if attendance.attendee_of(meeting, member) is not None:
        return True
    return meeting.unit.contains(member.home_unit) or meeting.unit.contains(member.host_unit)


def shown_status(meeting: Meeting, row: Attendee | None, now: datetime) -> str | None:
    """The attendance status a member reads: nothing recorded by the end reads as absent (as in the summary)."""
    if row is None:
        return None
    if row.status in ("expected", "leave_requested") and meeting.ends_at <= now:
        return "absent"
    return row.status


def _visible_or_404(meeting_id: int) -> Meeting:
    """The meeting when the viewer manages it or it concerns them; 404 otherwise (nobody learns it exists)."""
    meeting = meetings.get_meeting(meeting_id)
    if meetings.can_manage(meeting, current_user) or is_concerned(meeting, tk.current_member()):
        return meeting
    abort(404)


def _page_url(meeting: Meeting) -> str:
    return url_for("meetings.show", meeting_id=meeting.id)


# -- pages --------------------------------------------------------------------


def _past_page() -> int:
    """``?page=`` of the past meetings (from 1; anything else reads as 1; bounded so the offset stays an INTEGER)."""
    value = request.args.get("page", "")
    return min(int(value), tk.MAX_ID // PAST_SHOWN) if value.isdigit() and int(value) > 0 else 1


@bp.get("/")
@login_required
def mine():
    """Upcoming meetings at home and at the host branch (cancelled ones marked), then past ones with my attendance,
    :data:`PAST_SHOWN` at a time (``?page=`` goes back further)."""
    member = tk.current_member()
    now = _now()
    page = _past_page()
    upcoming = meetings.upcoming_with_rows(member, now=now) if member else []
    # one more than shown: whether there are older ones, without counting them
    past = (meetings.past_for_member(member, now=now, limit=PAST_SHOWN + 1, offset=(page - 1) * PAST_SHOWN)
            if member else [])
    return render_template(
        "meetings/member/mine.html", member=member, now=now, page=page, older=len(past) > PAST_SHOWN,
        upcoming=upcoming,
        past=[(meeting, shown_status(meeting, row, now)) for meeting, row in past[:PAST_SHOWN]],
        at_home=is_at_home, manages=tk.can("meetings.manage"))


@bp.get("/<int:meeting_id>")
@login_required
def show(meeting_id: int):
    """One meeting: facts, my status, and what I can do now (check in, join online, ask for leave)."""
    meeting = _visible_or_404(meeting_id)
    member = tk.current_member()
    now = _now()
    row = attendance.attendee_of(meeting, member) if member else None
    return render_template(
        "meetings/member/show.html", meeting=meeting, member=member, row=row, now=now,
        status=shown_status(meeting, row, now), checkin_open=member is not None and attendance.is_open(meeting, now),
        can_leave=_can_ask_leave(meeting, row, now), manages=meetings.can_manage(meeting, current_user),
        window=attendance.checkin_window(meeting),
        at_home=member is not None and is_at_home(meeting, member))


def _can_ask_leave(meeting: Meeting, row: Attendee | None, now: datetime) -> bool:
    """Offer the leave form to a listed member of a called meeting that has not started."""
    return (row is not None and meeting.status == "notified" and now < meeting.starts_at
            and row.status == "expected")


@bp.route("/<int:meeting_id>/checkin", methods=["GET", "POST"])
@tk.login_required_member
def checkin(meeting_id: int):
    """What the QR code opens (GET: one big "签到" button, changes nothing) and the check-in itself (POST).

    A member the meeting does not concern (a guest from another branch) gets the page only with a
    current code; their POST needs a code, which ``attendance.check_in`` checks.
    """
    meeting = meetings.get_meeting(meeting_id)
    member = tk.current_member()
    concerned = meetings.can_manage(meeting, current_user) or is_concerned(meeting, member)
    if request.method == "POST":
        return _check_in(meeting, member, request.form.get("code", "").strip(), concerned)
    code = request.args.get("code", "").strip()
    now = _now()
    if not concerned and not (meeting.status in MEMBER_VISIBLE and attendance.code_matches(meeting, code, now)):
        abort(404)
    return render_template("meetings/member/checkin.html", meeting=meeting, row=attendance.attendee_of(meeting, member),
                           code=code, now=now, is_open=attendance.is_open(meeting, now), concerned=concerned)


def _counted_message(result: tuple[Attendee, bool]) -> str:
    row, new = result
    at = tk.fmt_datetime(row.checked_in_at, "HH:mm") if row.checked_in_at else ""
    if new:
        return _("Checked in at %(time)s. Your attendance is counted.", time=at)
    return _("You were already counted at %(time)s.", time=at)


def _check_in(meeting: Meeting, member: tk.Member, code: str, concerned: bool):
    """Count the member once; a wrong code or a closed window flashes the reason and writes nothing."""
    if not concerned and (meeting.status not in MEMBER_VISIBLE or not code):
        abort(404)
    return tk.form_post(lambda: attendance.check_in(meeting, member, code or None, now=_now()),
                        success=_counted_message, redirect_to=_page_url(meeting),
                        on_error=_page_url(meeting) if concerned else url_for("meetings.mine"))


@bp.post("/<int:meeting_id>/join")
@tk.login_required_member
def join(meeting_id: int):
    """Join an online or hybrid meeting through the portal: records the attendance, then opens the meeting's link."""
    meeting = _visible_or_404(meeting_id)
    member = tk.current_member()
    return tk.form_post(lambda: attendance.check_in(meeting, member, None, now=_now()),
                        success=_counted_message, redirect_to=meeting.online_url or _page_url(meeting),
                        on_error=_page_url(meeting))


@bp.post("/<int:meeting_id>/leave")
@tk.login_required_member
def leave(meeting_id: int):
    """Ask for leave (请假) with a reason, before the meeting starts; the secretary decides."""
    meeting = _visible_or_404(meeting_id)
    member = tk.current_member()
    return tk.form_post(
        lambda: attendance.request_leave(meeting, member, request.form.get("reason", ""), now=_now()),
        success=_("Your leave request was sent to the secretary."), redirect_to=_page_url(meeting),
        on_error=_page_url(meeting))


# -- calendar -------------------------------------------------------------------


@bp.get("/<int:meeting_id>.ics")
@login_required
def ics(meeting_id: int):
    """One meeting for the phone's calendar."""
    meeting = _visible_or_404(meeting_id)
    return calendar.ics_response([meeting], base_url=request.host_url, filename=f"meeting-{meeting.id}.ics")


@bp.get("/calendar.ics", endpoint="calendar")
@tk.login_required_member
def calendar_feed():
    """My upcoming meetings (at home and at the host branch, cancelled ones marked) as one calendar."""
    upcoming = meetings.upcoming_for_member(tk.current_member(), now=_now())
    return calendar.ics_response(upcoming, base_url=request.host_url, filename="meetings.ics",
                                 name=_("My meetings"))
