"""Notice pages (blueprint ``meetings_notices`` under ``/notices``): thin views over ``notices``."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk
from portal_meetings import notices
from portal_meetings.models import Notice
from portal_meetings.notice_forms import NoticeForm
from portal_meetings.vocabulary import AUDIENCE_LABELS, NOTICE_KIND_LABELS

bp = Blueprint("meetings_notices", __name__, url_prefix="/notices", template_folder="templates")
db = tk.db
# its own name: the meetings pages hand over ``meetings_labels``
tk.template_labels(bp, "meetings_notices", audience=AUDIENCE_LABELS, kind=NOTICE_KIND_LABELS,
                   receipt=notices.RECEIPT_LABELS)


# -- members -------------------------------------------------------------------


@bp.get("/")
@login_required
def mine():
    """My notices, unread first, then the newest."""
    member = current_user.member
    page = tk.paginate(notices.notices_for_member(member), scalars=False) if member else None
    return render_template("meetings/notices/mine.html", page=page,
                           can_send=tk.can(notices.PERMISSION), now=tk.utcnow())


@bp.get("/<int:notice_id>")
@login_required
def show(notice_id: int):
    """One notice; an addressee's first visit records the read receipt."""
    notice, receipt = notices.visible_notice(notice_id, current_user)
    if receipt is not None:
        receipt = notices.open_notice(notice, current_user.member, now=tk.utcnow())
    return render_template("meetings/notices/show.html", notice=notice, receipt=receipt,
                           follower=notices.can_follow(notice, current_user), now=tk.utcnow())


def _addressed(notice_id: int) -> Notice:
    notice, receipt = notices.visible_notice(notice_id, current_user)
    if receipt is None:
        abort(404)
    return notice


@bp.post("/<int:notice_id>/ack")
@login_required
def ack(notice_id: int):
    """Sign for the notice (签收), with an optional reply."""
    notice = _addressed(notice_id)
    return tk.form_post(lambda: notices.acknowledge(notice, current_user.member, now=tk.utcnow(),
                                                    reply=request.form.get("reply")),
                        success=_("Signed. The sender can see it."),
                        redirect_to=url_for("meetings_notices.show", notice_id=notice.id),
                        on_error=url_for("meetings_notices.show", notice_id=notice.id))


@bp.post("/<int:notice_id>/reply")
@login_required
def reply(notice_id: int):
    """Keep a reply to the notice (the sender reads it on the receipts page)."""
    notice = _addressed(notice_id)
    return tk.form_post(lambda: notices.save_reply(notice, current_user.member, request.form.get("reply")),
                        success=_("Reply saved."),
                        redirect_to=url_for("meetings_notices.show", notice_id=notice.id),
                        on_error=url_for("meetings_notices.show", notice_id=notice.id))


# -- senders -------------------------------------------------------------------


def _require_sender_anywhere() -> None:
    if not tk.can(notices.PERMISSION):
        abort(403)


@bp.get("/sent")
@login_required
def sent():
    """Notices of the sender's units (``?unit=``: that unit and below) with read and signed counts."""
    _require_sender_anywhere()
    unit = None
    query = select(Notice).join(tk.OrgUnit, tk.OrgUnit.id == Notice.unit_id)
    if request.args.get("unit", type=int):
        unit = db.session.get(tk.OrgUnit, request.args.get("unit", type=int))
        if unit is None:
            abort(404)
        tk.require(notices.PERMISSION, unit)
        query = query.where(tk.in_subtree(tk.OrgUnit.path, unit.path))
    else:
        query = query.where(tk.unit_scope(notices.PERMISSION))
    page = tk.paginate(query.order_by(Notice.created_at.desc(), Notice.id.desc()))
    return render_template("meetings/notices/sent.html", page=page, unit=unit, counts=notices.summaries(page.items),
                           units=tk.manageable_units(notices.PERMISSION))


def _form_units() -> tuple[list[tuple[int, str]], tk.OrgUnit | None]:
    """The sender's units for the picker, and the one picked (``?unit=`` or the form's, else the first)."""
    choices = tk.unit_choices(notices.PERMISSION)
    picked = request.values.get("unit", type=int) or (choices[0][0] if choices else None)
    unit = db.session.get(tk.OrgUnit, picked) if picked else None
    if picked and unit is None:
        abort(404)
    return choices, unit


def _render_new(form: NoticeForm, unit, status: int = 200):
    return render_template("meetings/notices/new.html", form=form, unit=unit), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Write and send a notice; the chosen-list boxes are the picked unit's members."""
    _require_sender_anywhere()
    choices, unit = _form_units()
    if unit is not None:
        tk.require(notices.PERMISSION, unit)
    candidates = notices.list_candidates(unit) if unit is not None else []
    if request.method == "GET":
        form = NoticeForm(formdata=None, data={"unit": str(unit.id) if unit else None}).set_choices(choices, candidates)
        return _render_new(form, unit)
    form = NoticeForm().set_choices(choices, candidates)
    data = {**request.form.to_dict(), "member_ids": request.form.getlist("member_ids")}
    return tk.form_post(lambda: notices.send_notice(unit, data, by=current_user, now=tk.utcnow()),
                        success=_("Notice sent."), form=form,
                        redirect_to=lambda notice: url_for("meetings_notices.receipts", notice_id=notice.id),
                        on_error=lambda error: _render_new(form, unit, error.status))


def _followed(notice_id: int) -> Notice:
    notice = notices.get_notice(notice_id)
    notices.require_follower(notice, current_user)
    return notice


@bp.get("/<int:notice_id>/receipts")
@login_required
def receipts(notice_id: int):
    """Who has read and signed, who not yet; after the deadline, the call list."""
    notice = _followed(notice_id)
    now = tk.utcnow()
    return render_template("meetings/notices/receipts.html", notice=notice, rows=notices.receipts(notice),
                           summary=notices.receipts_summary(notice), overdue=notices.is_overdue(notice, now),
                           status_of=notices.status_of)


@bp.get("/<int:notice_id>/receipts.xlsx")
@login_required
def receipts_xlsx(notice_id: int):
    """The receipts as a spreadsheet."""
    return notices.receipts_xlsx(_followed(notice_id))


@bp.post("/<int:notice_id>/receipts/<int:member_id>/called")
@login_required
def called(notice_id: int, member_id: int):
    """The secretary reached an unsigned member by phone."""
    notice = _followed(notice_id)
    target = url_for("meetings_notices.receipts", notice_id=notice.id) + "#call-list"
    return tk.form_post(lambda: notices.mark_called(notice, member_id, request.form.get("note"), by=current_user,
                                                    now=tk.utcnow()),
                        success=_("Call recorded."), redirect_to=target, on_error=target)
