"""The rules of mobility: what views, the API, the CLI, the alerts scan and tests call.

Every function that changes something takes ``now`` (naive UTC) so tests can
control the clock, writes in the caller's transaction and leaves the commit to
the caller. Rule violations raise :class:`MobilityError` with a translated
message (and, for forms, the offending fields).
"""
from __future__ import annotations

import io
import secrets
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal import toolkit as tk

from .models import (
    CHANNELS, OPEN_OUTFLOW, REVIEW_CHECKLIST, REVIEW_OUTCOMES, Certificate, CheckIn, ContactLog, LostContactCase, Move,
    Outflow, Review, Transfer,
)

db = tk.db
PLUGIN = "mobility"

CHANNEL_LABELS = {"call": _l("phone call"), "message": _l("message"), "visit": _l("visit"), "video": _l("video call"),
                  "letter": _l("letter")}
OUTFLOW_STATUS_LABELS = {
    "pending": _l("waiting for approval"), "changes_requested": _l("changes requested"), "approved": _l("approved"),
    "returned": _l("returned"), "transferred": _l("membership transferred"), "cancelled": _l("withdrawn"),
}
CHECKIN_STATUS_LABELS = {"pending": _l("waiting for the host branch"), "confirmed": _l("confirmed"),
                         "rejected": _l("declined"), "ended": _l("ended")}
IDENTITY_LABELS = {"pending": _l("identity to be confirmed by the home branch"), "confirmed": _l("identity confirmed"),
                   "rejected": _l("identity not confirmed")}
REVIEW_OUTCOME_LABELS = {"renewed": _l("passed, certificate renewed"), "follow_up": _l("needs follow-up"),
                         "closed": _l("certificate closed")}
REVIEW_CHECK_LABELS = {
    "kept_contact": _l("Kept in touch with the home branch"), "branch_life": _l("Took part in branch life where they are"),
    "dues_paid": _l("Paid dues"), "reports_sent": _l("Sent personal reports"),
    "details_current": _l("Whereabouts and contact details are up to date"),
}
TRANSFER_STATUS_LABELS = {"pending": _l("waiting for approval"), "approved": _l("completed"), "rejected": _l("declined"),
                          "cancelled": _l("withdrawn")}
AGE_BANDS = ("under_35", "35_45", "45_55", "55_plus", "unknown")
AGE_BAND_LABELS = {"under_35": _l("under 35"), "35_45": _l("35–45"), "45_55": _l("45–55"), "55_plus": _l("55 and over"),
                   "unknown": _l("unknown")}
DURATION_BANDS = ("under_6m", "6_12m", "1_2y", "2y_plus")
DURATION_LABELS = {"under_6m": _l("under 6 months"), "6_12m": _l("6–12 months"), "1_2y": _l("1–2 years"),
                   "2y_plus": _l("2 years and more")}
PHOTO_TYPES = {b"\xff\xd8\xff": ("jpg", "image/jpeg"), b"\x89PNG\r\n\x1a\n": ("png", "image/png")}
MOVE_FIELDS = ("current_province", "current_city", "district", "employer", "industry", "phone")


class MobilityError(ValueError):
    """A rule was broken; ``message`` is translated, ``fields`` names form fields at fault."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message, self.fields, self.status = message, fields or {}, status


def setting(key: str) -> Any:
    return tk.get_setting(PLUGIN, key)


def path_for(endpoint: str, **values: Any) -> str:
    """A site-relative URL that works with or without a request (the CLI scan has none)."""
    try:
        return url_for(endpoint, **values)
    except RuntimeError:
        return current_app.url_map.bind("").build(endpoint, values)


def label(mapping: dict, value: str | None) -> str:
    return "" if value is None else str(mapping.get(value, value))


def count(query) -> int:
    """How many rows ``query`` selects."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _clean(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _day(now: datetime) -> date:
    return now.date()


# -- outflows ----------------------------------------------------------------

def open_outflow(member) -> Outflow | None:
    """The member's outflow that is waiting, sent back or approved (at most one)."""
    return db.session.scalar(select(Outflow).where(Outflow.member_id == member.id, Outflow.status.in_(OPEN_OUTFLOW))
                             .order_by(Outflow.id.desc()).limit(1))


def active_outflow(member) -> Outflow | None:
    """The approved outflow of a member who is away, or None."""
    return db.session.scalar(select(Outflow).where(Outflow.member_id == member.id, Outflow.status == "approved")
                             .order_by(Outflow.id.desc()).limit(1))


def active_certificate(member) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.member_id == member.id, Certificate.status == "active")
                             .order_by(Certificate.id.desc()).limit(1))


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def clean_outflow_data(data: dict) -> dict:
    """Validate an outflow's fields (form or API); raises MobilityError naming every bad field."""
    errors: dict[str, str] = {}
    cleaned = {
        "destination_province": _clean(data.get("destination_province"), 50),
        "destination_city": _clean(data.get("destination_city"), 50),
        "destination_district": _clean(data.get("destination_district"), 50) or None,
        "employer": _clean(data.get("employer"), 200) or None,
        "industry": _clean(data.get("industry"), 100) or None,
        "reason": _clean(data.get("reason"), 2000),
        "contact_there": _clean(data.get("contact_there"), 200) or None,
    }
    for name in ("destination_province", "destination_city", "reason"):
        if not cleaned[name]:
            errors[name] = _("This field is required.")
    start = parse_date(data.get("start_date"))
    if start is None:
        errors["start_date"] = _("Enter a date as YYYY-MM-DD.")
    cleaned["start_date"] = start
    months = data.get("expected_months")
    if months in (None, ""):
        cleaned["expected_months"] = None
    else:
        try:
            cleaned["expected_months"] = int(months)
            if not 1 <= cleaned["expected_months"] <= 240:
                raise ValueError
        except (TypeError, ValueError):
            errors["expected_months"] = _("Enter a number of months between 1 and 240.")
    if errors:
        raise MobilityError(_("Please correct the marked fields."), errors)
    return cleaned


def register_outflow(member, data: dict, *, by_account=None, now: datetime | None = None) -> Outflow:
    """Record that ``member`` leaves (or has left) home; the home branch is asked to approve."""
    now = now or tk.utcnow()
    cleaned = clean_outflow_data(data)
    if open_outflow(member) is not None:
        raise MobilityError(_("There is already an open outflow registration for this member."), status=409)
    outflow = Outflow(member_id=member.id, home_unit_id=member.home_unit_id, status="pending",
                      created_by_account_id=getattr(by_account, "id", None), created_at=now, **cleaned)
    try:
        with db.session.begin_nested():
            db.session.add(outflow)
            db.session.flush()
    except IntegrityError:  # a concurrent request registered first
        raise MobilityError(_("There is already an open outflow registration for this member."), status=409) from None
    tk.record_activity(member, "mobility.registered", "mobility_outflow", outflow.id, at=now,
                       extras={"province": outflow.destination_province, "city": outflow.destination_city})
    tk.notify(tk.secretaries_of(member.home_unit),
              _l("%(name)s registered an outflow to %(city)s", name=member.name, city=outflow.destination_city),
              url=path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.registered")
    return outflow


def update_outflow(outflow: Outflow, data: dict, *, now: datetime | None = None) -> Outflow:
    """Change a waiting or sent-back registration; it goes back to the home branch."""
    if outflow.status not in ("pending", "changes_requested"):
        raise MobilityError(_("Only a registration that is not yet approved can be changed."), status=409)
    for key, value in clean_outflow_data(data).items():
        setattr(outflow, key, value)
    was_sent_back = outflow.status == "changes_requested"
    outflow.status = "pending"
    outflow.updated_at = now or tk.utcnow()
    if was_sent_back:
        tk.notify(tk.secretaries_of(outflow.home_unit),
                  _l("%(name)s corrected the outflow registration", name=outflow.member.name),
                  url=path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.registered")
    return outflow


def lock(row) -> None:
    """Re-read ``row`` with a row lock (PostgreSQL) so concurrent decisions queue; SQLite writers queue anyway."""
    db.session.refresh(row, with_for_update=True)


def _ensure_decidable(outflow: Outflow) -> None:
    lock(outflow)
    if outflow.status not in ("pending", "changes_requested"):
        raise MobilityError(_("This registration has already been decided."), status=409)


def approve_outflow(outflow: Outflow, *, by_account=None, note: str | None = None,
                    now: datetime | None = None) -> Certificate:
    """Approve an outflow: the member is away from now on and receives an activity certificate."""
    now = now or tk.utcnow()
    _ensure_decidable(outflow)
    outflow.status = "approved"
    outflow.decided_at = now
    outflow.decided_by_account_id = getattr(by_account, "id", None)
    outflow.decision_note = _clean(note, 2000) or None
    outflow.last_confirmed_at = now
    member = outflow.member
    member.is_away = True
    member.current_province = outflow.destination_province
    member.current_city = outflow.destination_city
    if outflow.employer:
        member.employer = outflow.employer
    if outflow.industry:
        member.industry = outflow.industry
    certificate = issue_certificate(outflow, now=now)
    tk.audit("mobility.outflow_approved", "mobility_outflow", outflow.id, unit_id=outflow.home_unit_id,
             certificate=certificate.number)
    if member.account_id:
        tk.notify([member.account_id], _l("Your outflow registration was approved"),
                  _l("Activity certificate %(number)s, valid until %(date)s.", number=certificate.number,
                    date=certificate.valid_until.isoformat()),
                  url=path_for("mobility.index"), kind="mobility.approved")
    return certificate


def request_changes(outflow: Outflow, note: str, *, by_account=None, now: datetime | None = None) -> Outflow:
    """Send a registration back to the member with what to change."""
    now = now or tk.utcnow()
    _ensure_decidable(outflow)
    note = _clean(note, 2000)
    if not note:
        raise MobilityError(_("Say what should be changed."), {"note": _("This field is required.")})
    outflow.status = "changes_requested"
    outflow.decided_at = now
    outflow.decided_by_account_id = getattr(by_account, "id", None)
    outflow.decision_note = note
    if outflow.member.account_id:
        tk.notify([outflow.member.account_id], _l("Your outflow registration needs changes"), note,
                  url=path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.changes")
    return outflow


def withdraw_outflow(outflow: Outflow) -> None:
    """The member (or secretary) withdraws a registration that was not approved yet."""
    if outflow.status not in ("pending", "changes_requested"):
        raise MobilityError(_("Only a registration that is not yet approved can be withdrawn."), status=409)
    outflow.status = "cancelled"


# -- certificates --------------------------------------------------------------

def new_certificate_number(now: datetime) -> str:
    """``LD`` + year + 8 random hex digits: unique and not guessable (the verify page is public)."""
    return f"LD{now.year}{secrets.token_hex(4).upper()}"


def issue_certificate(outflow: Outflow, *, now: datetime | None = None) -> Certificate:
    """Issue a certificate for an approved outflow, valid for the configured number of days."""
    now = now or tk.utcnow()
    days = int(setting("certificate_valid_days") or 365)
    for _attempt in range(5):
        certificate = Certificate(number=new_certificate_number(now), outflow_id=outflow.id, member_id=outflow.member_id,
                                  issuing_unit_id=outflow.home_unit_id, issued_at=now,
                                  valid_until=_day(now) + timedelta(days=days), photo_file=outflow.photo_file)
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
                db.session.flush()
            return certificate
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a certificate number")


def certificate_by_number(number: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.number == (number or "").strip().upper()))


def verify_url(certificate: Certificate) -> str:
    return url_for("mobility.verify", number=certificate.number, _external=True)


def certificate_history(member) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.member_id == member.id)
                                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def close_certificate(certificate: Certificate, note: str | None, now: datetime) -> None:
    if certificate.status == "active":
        certificate.status = "closed"
        certificate.closed_at = now
        certificate.closed_note = note


def certificate_pdf(certificate: Certificate) -> bytes:
    """The printable card: name, unit, number, validity, photo, QR code to the verification page."""
    member = certificate.member
    pdf = tk.new_pdf(orientation="L", page_format=(105, 148))  # A6 landscape
    pdf.set_fill_color(183, 28, 28)
    pdf.rect(0, 0, 148, 16, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font_size(15)
    pdf.set_xy(6, 4)
    pdf.cell(136, 8, _("Mobile member activity certificate"), align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font_size(10)
    rows = [
        (_("Name"), member.name), (_("Gender"), core_label("gender_label", member.gender)),
        (_("Home branch"), certificate.issuing_unit.name), (_("Certificate number"), certificate.number),
        (_("Issued on"), certificate.issued_at.date().isoformat()), (_("Valid until"), certificate.valid_until.isoformat()),
        (_("Destination"), " ".join(filter(None, [certificate.outflow.destination_province,
                                                  certificate.outflow.destination_city]))),
    ]
    y = 22
    for title, value in rows:
        pdf.set_xy(6, y)
        pdf.set_text_color(95, 99, 104)
        pdf.cell(28, 6, str(title))
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(62, 6, str(value or "—"))
        y = max(y + 7, pdf.get_y() + 1)
    photo = photo_path(certificate.photo_file) if certificate.photo_file else None
    if photo is not None and photo.is_file():
        pdf.image(str(photo), x=104, y=20, w=36)
    qr = io.BytesIO(tk.qr_png(verify_url(certificate), scale=4))
    pdf.image(qr, x=108, y=64, w=30)
    pdf.set_font_size(7)
    pdf.set_xy(100, 95)
    pdf.cell(44, 4, _("Scan to verify"), align="C")
    if certificate.status != "active":
        pdf.set_text_color(183, 28, 28)
        pdf.set_font_size(12)
        pdf.set_xy(6, 92)
        pdf.cell(80, 6, _("Closed"))
    return bytes(pdf.output())


def core_label(filter_name: str, value: str | None) -> str:
    """The core's translated label of a coded value (gender, stage, education) through its template filter."""
    return str(current_app.jinja_env.filters[filter_name](value)) if value else ""


# -- photos ------------------------------------------------------------------

def photo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "mobility"


def photo_path(name: str | None) -> Path | None:
    """Where a stored photo lives; only names this plugin generated are accepted."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    return photo_dir() / name


def save_photo(outflow: Outflow, stream, *, now: datetime | None = None) -> str:
    """Store an uploaded member photo (JPEG or PNG, at most the configured size) for ``outflow``.

    The image is checked by its content, not its name; on any problem nothing
    is stored and a MobilityError explains why.
    """
    limit = int(setting("photo_max_kb") or 2048) * 1024
    data = stream.read(limit + 1) if stream else b""
    if not data:
        raise MobilityError(_("Choose a photo to upload."), {"photo": _("Choose a photo to upload.")}, status=400)
    if len(data) > limit:
        message = _("The photo is too large (at most %(kb)d KB).", kb=limit // 1024)
        raise MobilityError(message, {"photo": message}, status=413)
    kind = next((value for magic, value in PHOTO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        message = _("Upload a JPEG or PNG photo.")
        raise MobilityError(message, {"photo": message}, status=400)
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:
        message = _("The file is not a readable image.")
        raise MobilityError(message, {"photo": message}, status=400) from None
    name = f"{uuid.uuid4().hex}.{kind[0]}"
    folder = photo_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    outflow.photo_file = name
    certificate = db.session.scalar(select(Certificate).where(Certificate.outflow_id == outflow.id,
                                                               Certificate.status == "active"))
    if certificate is not None:
        certificate.photo_file = name
    return name


def photo_mimetype(name: str) -> str:
    return "image/png" if name.endswith(".png") else "image/jpeg"


# -- check-in ----------------------------------------------------------------

def search_host_units(term: str, limit: int = 30) -> list:
    """Open branches and groups whose city or name contains ``term`` (mobile members' branches first)."""
    term = (term or "").strip()
    if not term:
        return []
    query = select(tk.OrgUnit).where(tk.OrgUnit.closed_at.is_(None), tk.OrgUnit.kind.in_(("branch", "group")),
                                     or_(tk.OrgUnit.city.contains(term), tk.OrgUnit.name.contains(term),
                                         tk.OrgUnit.province.contains(term)))
    return list(db.session.scalars(query.order_by(tk.OrgUnit.is_mobile_branch.desc(), tk.OrgUnit.name).limit(limit)))


def open_checkin(member) -> CheckIn | None:
    """The member's waiting or confirmed check-in."""
    return db.session.scalar(select(CheckIn).where(CheckIn.member_id == member.id,
                                                    CheckIn.status.in_(("pending", "confirmed")))
                             .order_by(CheckIn.id.desc()).limit(1))


def pending_checkin(member) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.status == "pending")
                             .order_by(CheckIn.id.desc()).limit(1))


def _valid_host(unit) -> None:
    if unit is None or unit.is_closed or unit.kind not in ("branch", "group"):
        raise MobilityError(_("Choose an open branch to check in at."), {"host_unit_id": _("Choose a branch.")})


def request_checkin(member, host_unit, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The member reports at ``host_unit``; its secretaries are asked to confirm."""
    now = now or tk.utcnow()
    _valid_host(host_unit)
    outflow = active_outflow(member)
    if outflow is None:
        raise MobilityError(_("Register your outflow and have it approved before you check in at a host branch."),
                            status=409)
    if host_unit.id == member.home_unit_id or (member.home_unit and member.home_unit.contains(host_unit)):
        raise MobilityError(_("This is your home branch."), {"host_unit_id": _("Choose a branch."), }, status=422)
    if member.host_unit_id == host_unit.id:
        raise MobilityError(_("You are already checked in at this branch."), status=409)
    waiting = pending_checkin(member)
    if waiting is not None:
        if waiting.host_unit_id == host_unit.id:
            return waiting
        waiting.status = "ended"
        waiting.ended_at = now
    checkin = CheckIn(member_id=member.id, outflow_id=outflow.id, host_unit_id=host_unit.id, status="pending",
                      source="member", requested_at=now, requested_by_account_id=getattr(by_account, "id", None))
    db.session.add(checkin)
    db.session.flush()
    tk.notify(tk.secretaries_of(host_unit), _l("%(name)s asks to check in at %(unit)s", name=member.name,
                                                unit=host_unit.name),
              url=path_for("mobility.unit", unit_id=host_unit.id, tab="incoming"), kind="mobility.checkin")
    return checkin


def _activate_checkin(checkin: CheckIn, now: datetime) -> None:
    """The member is hosted at the check-in's unit from now on (earlier check-ins end)."""
    member = checkin.member
    for other in db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.id != checkin.id,
                                                           CheckIn.status == "confirmed")):
        other.status = "ended"
        other.ended_at = now
    checkin.status = "confirmed"
    checkin.confirmed_at = now
    member.host_unit_id = checkin.host_unit_id
    member.host_unit = checkin.host_unit
    member.is_away = True
    tk.record_activity(member, "mobility.checked_in", "mobility_checkin", checkin.id, at=now,
                       extras={"host_unit_id": checkin.host_unit_id})
    if member.account_id:
        tk.notify([member.account_id], _l("Your check-in at %(unit)s was confirmed", unit=checkin.host_unit.name),
                  url=path_for("mobility.index"), kind="mobility.checked_in")


def confirm_checkin(checkin: CheckIn, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The host secretary confirms a member's check-in (after the home branch confirmed an uncertified arrival)."""
    now = now or tk.utcnow()
    lock(checkin)
    if checkin.status != "pending":
        raise MobilityError(_("This check-in has already been decided."), status=409)
    if checkin.identity_status == "pending":
        raise MobilityError(_("The home branch has not confirmed this member's identity yet."), status=409)
    checkin.confirmed_by_account_id = getattr(by_account, "id", None)
    _activate_checkin(checkin, now)
    tk.audit("mobility.checkin_confirmed", "mobility_checkin", checkin.id, unit_id=checkin.host_unit_id)
    return checkin


def reject_checkin(checkin: CheckIn, note: str | None = None, *, now: datetime | None = None) -> CheckIn:
    now = now or tk.utcnow()
    if checkin.status != "pending":
        raise MobilityError(_("This check-in has already been decided."), status=409)
    checkin.status = "rejected"
    checkin.ended_at = now
    checkin.note = _clean(note, 2000) or checkin.note
    if checkin.member.account_id and checkin.source == "member":
        tk.notify([checkin.member.account_id], _l("%(unit)s declined your check-in", unit=checkin.host_unit.name),
                  checkin.note or "", url=path_for("mobility.index"), kind="mobility.checkin")
    return checkin


def find_arriving_member(home_unit, phone: str):
    """A member of ``home_unit``'s subtree with this phone number, or None."""
    phone = (phone or "").strip()
    if not phone or home_unit is None:
        return None
    return db.session.scalar(select(tk.Member).where(
        tk.Member.phone == phone, tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, home_unit.path))).limit(1))


def register_arrival(host_unit, home_unit, name: str, phone: str, note: str | None = None, *, by_account=None,
                     now: datetime | None = None) -> CheckIn:
    """A host secretary records a member who arrived without a certificate; the home branch confirms identity."""
    now = now or tk.utcnow()
    _valid_host(host_unit)
    errors = {}
    if home_unit is None:
        errors["home_unit_id"] = _("Choose the member's home branch.")
    if not (name or "").strip():
        errors["name"] = _("This field is required.")
    if not (phone or "").strip():
        errors["phone"] = _("This field is required.")
    if errors:
        raise MobilityError(_("Please correct the marked fields."), errors)
    member = find_arriving_member(home_unit, phone)
    if member is None or member.name.strip() != name.strip():
        message = _("No member with this name and phone number is registered at that branch. Check the details with the member.")
        raise MobilityError(message, {"phone": message})
    if member.host_unit_id == host_unit.id:
        raise MobilityError(_("This member is already checked in here."), status=409)
    existing = db.session.scalar(select(CheckIn).where(CheckIn.member_id == member.id, CheckIn.status == "pending",
                                                        CheckIn.host_unit_id == host_unit.id))
    if existing is not None:
        return existing
    checkin = CheckIn(member_id=member.id, outflow_id=getattr(active_outflow(member), "id", None),
                      host_unit_id=host_unit.id, status="pending", source="host", identity_status="pending",
                      note=_clean(note, 2000) or None, requested_at=now,
                      requested_by_account_id=getattr(by_account, "id", None))
    db.session.add(checkin)
    db.session.flush()
    tk.notify(tk.secretaries_of(member.home_unit),
              _l("%(unit)s reports that %(name)s arrived without a certificate: please confirm the identity",
                unit=host_unit.name, name=member.name),
              url=path_for("mobility.member", member_id=member.id), kind="mobility.identity")
    return checkin


def decide_identity(checkin: CheckIn, confirmed: bool, *, by_account=None, now: datetime | None = None) -> CheckIn:
    """The home branch confirms (or denies) that an uncertified arrival is its member."""
    now = now or tk.utcnow()
    if checkin.identity_status != "pending" or checkin.status != "pending":
        raise MobilityError(_("This identity check has already been decided."), status=409)
    checkin.identity_status = "confirmed" if confirmed else "rejected"
    if not confirmed:
        checkin.status = "rejected"
        checkin.ended_at = now
    tk.notify(tk.secretaries_of(checkin.host_unit),
              _("The home branch confirmed the identity of %(name)s", name=checkin.member.name) if confirmed else
              _("The home branch did not confirm the identity of %(name)s", name=checkin.member.name),
              url=path_for("mobility.unit", unit_id=checkin.host_unit_id, tab="incoming"), kind="mobility.identity")
    tk.audit("mobility.identity_" + ("confirmed" if confirmed else "rejected"), "mobility_checkin", checkin.id,
             unit_id=checkin.member.home_unit_id)
    return checkin


def end_checkins(member, now: datetime) -> None:
    for checkin in db.session.scalars(select(CheckIn).where(CheckIn.member_id == member.id,
                                                             CheckIn.status.in_(("pending", "confirmed")))):
        checkin.status = "ended"
        checkin.ended_at = now
    member.host_unit_id = None
    member.host_unit = None


# -- moves and confirmations -----------------------------------------------------

def current_details(member) -> dict:
    outflow = active_outflow(member)
    return {"current_province": member.current_province, "current_city": member.current_city,
            "district": outflow.destination_district if outflow else None, "employer": member.employer,
            "industry": member.industry, "phone": member.phone}


def report_move(member, data: dict, *, by_account=None, now: datetime | None = None) -> Move:
    """Record a change of place, employer or contact. Reported later than the limit → flagged late.

    Moving to another city ends the check-in at a host branch in the old city.
    """
    now = now or tk.utcnow()
    changed_on = parse_date(data.get("changed_on"))
    errors = {}
    if changed_on is None:
        errors["changed_on"] = _("Enter a date as YYYY-MM-DD.")
    elif changed_on > _day(now):
        errors["changed_on"] = _("The date cannot be in the future.")
    new = {key: _clean(data.get(key), 200) or None for key in MOVE_FIELDS}
    old = current_details(member)
    changed = {key: value for key, value in new.items() if value is not None and value != old.get(key)}
    if not errors and not changed:
        errors["current_city"] = _("Nothing has changed. Use “confirm my details” if everything is still right.")
    if errors:
        raise MobilityError(_("Please correct the marked fields."), errors)
    outflow = active_outflow(member)
    limit = int(setting("move_report_days") or 15)
    late = (_day(now) - changed_on).days > limit
    move = Move(member_id=member.id, outflow_id=getattr(outflow, "id", None), kind="change", changed_on=changed_on,
                reported_at=now, late=late, old_values={k: old.get(k) for k in changed}, new_values=changed,
                note=_clean(data.get("note"), 2000) or None, reported_by_account_id=getattr(by_account, "id", None))
    db.session.add(move)
    for key in ("current_province", "current_city", "employer", "industry", "phone"):
        if key in changed:
            setattr(member, key, changed[key])
    if outflow is not None:
        if "district" in changed:
            outflow.destination_district = changed["district"]
        outflow.last_confirmed_at = now
    host = member.host_unit
    if "current_city" in changed and host is not None and host.city and host.city != changed["current_city"]:
        end_checkins(member, now)
    db.session.flush()
    tk.record_activity(member, "mobility.moved", "mobility_move", move.id, at=now,
                       extras={"late": late, "fields": sorted(changed)})
    tk.notify(tk.secretaries_of(member.home_unit),
              _("%(name)s reported a change (late)", name=member.name) if late else
              _("%(name)s reported a change", name=member.name),
              url=path_for("mobility.member", member_id=member.id), kind="mobility.moved")
    return move


def confirm_details(member, *, by_account=None, now: datetime | None = None) -> Move:
    """The member confirms that place, employer and contact are unchanged."""
    now = now or tk.utcnow()
    outflow = active_outflow(member)
    if outflow is None:
        raise MobilityError(_("You are not registered as away."), status=409)
    move = Move(member_id=member.id, outflow_id=outflow.id, kind="confirm", changed_on=_day(now), reported_at=now,
                old_values={}, new_values={}, reported_by_account_id=getattr(by_account, "id", None))
    db.session.add(move)
    outflow.last_confirmed_at = now
    return move


def confirmation_due(member, now: datetime, *, outflow: Outflow | None = None) -> bool:
    """True when an away member has not confirmed their details for the configured interval.

    ``outflow``: the member's approved outflow when the caller already has it.
    """
    outflow = outflow if outflow is not None and outflow.status == "approved" else active_outflow(member)
    if outflow is None:
        return False
    last = outflow.last_confirmed_at or outflow.decided_at or outflow.created_at
    return now - last >= timedelta(days=int(setting("confirm_every_days") or 90))


def moves_of(member, limit: int = 50) -> list[Move]:
    return list(db.session.scalars(select(Move).where(Move.member_id == member.id)
                                   .order_by(Move.reported_at.desc()).limit(limit)))


# -- return and the summary of the time away ------------------------------------

def participation_summary(member, since: datetime, until: datetime) -> list[dict]:
    """What the member did in a period, for the home branch.

    Sections from every plugin's ``portal_member_summary`` answer, plus the
    activity stream's count per verb of what was recorded at a host branch.
    """
    sections = []
    for plugin, pairs in tk.call_each("portal_member_summary", member=member, since=since, until=until):
        items = [(str(k), v) for k, v in pairs or []]
        if items:
            sections.append({"plugin": plugin, "items": items})
    verbs = {v.verb: v.label for v in tk.call_list("portal_activity_verbs")}
    rows = db.session.execute(
        select(tk.Activity.verb, func.count(tk.Activity.id)).where(
            tk.Activity.actor_id == member.id, tk.Activity.created_at >= since, tk.Activity.created_at <= until,
            tk.Activity.host_unit_id.is_not(None), ~tk.Activity.verb.like("mobility.%"))
        .group_by(tk.Activity.verb).order_by(tk.Activity.verb)).all()
    if rows:
        sections.append({"plugin": "activity",
                         "title": str(_l("Recorded at the host branch")),
                         "items": [(str(verbs.get(verb, verb)), count) for verb, count in rows]})
    return sections


def record_return(outflow: Outflow, data: dict, *, by_account=None, now: datetime | None = None) -> Outflow:
    """The member is back: certificate checked and closed, check-in ended, summary of the time away kept."""
    now = now or tk.utcnow()
    lock(outflow)
    if outflow.status != "approved":
        raise MobilityError(_("Only an approved outflow can be closed by a return."), status=409)
    returned_on = parse_date(data.get("returned_on")) or _day(now)
    if returned_on > _day(now) or returned_on < outflow.start_date:
        raise MobilityError(_("Please correct the marked fields."),
                            {"returned_on": _("The date must lie between the start of the outflow and today.")})
    certificate_returned = bool(data.get("certificate_returned"))
    note = _clean(data.get("note"), 2000) or None
    member = outflow.member
    since = datetime.combine(outflow.start_date, time.min)
    until = max(now, datetime.combine(returned_on, time.max))
    summary = participation_summary(member, since, until)
    days = (returned_on - outflow.start_date).days
    outflow.status = "returned"
    outflow.returned_on = returned_on
    outflow.return_note = note
    outflow.return_summary = [{"plugin": s["plugin"], "title": s.get("title"), "items": [list(i) for i in s["items"]]}
                              for s in summary] + [{"plugin": "mobility", "days": days,
                                                    "certificate_returned": certificate_returned}]
    for certificate in db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)):
        close_certificate(certificate, _("Handed back on return") if certificate_returned else
                          _("Closed on return (not handed back)"), now)
    end_checkins(member, now)
    member.is_away = False
    member.lost_contact = False
    _clear_cases(member, now)
    home = member.home_unit
    member.current_province, member.current_city = unit_province(home), _unit_city(home)
    tk.record_activity(member, "mobility.returned", "mobility_outflow", outflow.id, at=now,
                       extras={"days": days, "certificate_returned": certificate_returned})
    tk.notify(tk.secretaries_of(home), _l("%(name)s is back home", name=member.name),
              url=path_for("mobility.outflow", outflow_id=outflow.id), kind="mobility.returned")
    return outflow


def stored_summary(outflow: Outflow) -> tuple[list[dict], dict]:
    """The sections kept at return and the mobility facts (days, certificate handed back)."""
    sections, facts = [], {}
    for section in outflow.return_summary or []:
        if section.get("plugin") == "mobility" and "days" in section:
            facts = section
        else:
            sections.append(section)
    return sections, facts


# -- annual review --------------------------------------------------------------

def certificates_due_for_review(unit, now: datetime, within_days: int = 30) -> list[Certificate]:
    """Active certificates of the unit's subtree expiring within ``within_days`` (or already expired)."""
    limit = _day(now) + timedelta(days=within_days)
    return list(db.session.scalars(select(Certificate).join(tk.OrgUnit, Certificate.issuing_unit_id == tk.OrgUnit.id)
                                   .where(Certificate.status == "active", Certificate.valid_until <= limit,
                                          tk.in_subtree(tk.OrgUnit.path, unit.path))
                                   .order_by(Certificate.valid_until)))


def review_certificate(certificate: Certificate, checklist: dict, outcome: str, note: str | None = None, *,
                       by_account=None, now: datetime | None = None) -> Review:
    """Record the annual review; ``renewed`` extends the validity, ``closed`` closes the certificate."""
    now = now or tk.utcnow()
    if certificate.status != "active":
        raise MobilityError(_("Only an active certificate can be reviewed."), status=409)
    if outcome not in REVIEW_OUTCOMES:
        raise MobilityError(_("Please correct the marked fields."), {"outcome": _("Choose an outcome.")})
    checks = {key: bool(checklist.get(key)) for key in REVIEW_CHECKLIST}
    review = Review(certificate_id=certificate.id, reviewed_at=now, reviewer_account_id=getattr(by_account, "id", None),
                    checklist=checks, outcome=outcome, note=_clean(note, 2000) or None)
    if outcome == "renewed":
        days = int(setting("certificate_valid_days") or 365)
        certificate.valid_until = max(certificate.valid_until, _day(now)) + timedelta(days=days)
        certificate.review_prompted_at = None
    elif outcome == "closed":
        close_certificate(certificate, _("Closed at the annual review"), now)
    review.valid_until_after = certificate.valid_until
    db.session.add(review)
    tk.audit("mobility.certificate_reviewed", "mobility_certificate", certificate.id,
             unit_id=certificate.issuing_unit_id, outcome=outcome)
    return review


def reviews_of(certificate: Certificate) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.certificate_id == certificate.id)
                                   .order_by(Review.reviewed_at.desc())))


# -- membership transfer ---------------------------------------------------------

def new_transfer_number(now: datetime) -> str:
    return f"ZJ{now.year}{secrets.token_hex(4).upper()}"


def open_transfer(member) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(Transfer.member_id == member.id, Transfer.status == "pending")
                             .limit(1))


def settled_long_enough(member, now: datetime) -> bool:
    """Away at one place for the configured months or more: a transfer should be suggested (DOMAIN.md)."""
    outflow = active_outflow(member)
    if outflow is None:
        return False
    months = int(setting("transfer_after_months") or 6)
    return _months_between(outflow.start_date, _day(now)) >= months


def request_transfer(member, to_unit, reason: str, *, by_account=None, now: datetime | None = None) -> Transfer:
    """Ask to move membership to ``to_unit``; both branches must approve."""
    now = now or tk.utcnow()
    errors = {}
    if to_unit is None or to_unit.is_closed or to_unit.kind not in ("branch", "group"):
        errors["to_unit_id"] = _("Choose an open branch.")
    elif to_unit.id == member.home_unit_id:
        errors["to_unit_id"] = _("This is already the member's home branch.")
    reason = _clean(reason, 2000)
    if not reason:
        errors["reason"] = _("This field is required.")
    if errors:
        raise MobilityError(_("Please correct the marked fields."), errors)
    if open_transfer(member) is not None:
        raise MobilityError(_("A transfer for this member is already waiting for approval."), status=409)
    transfer = Transfer(number=new_transfer_number(now), member_id=member.id, from_unit_id=member.home_unit_id,
                        to_unit_id=to_unit.id, reason=reason, requested_at=now,
                        requested_by_account_id=getattr(by_account, "id", None))
    db.session.add(transfer)
    db.session.flush()
    url = path_for("mobility.transfer", transfer_id=transfer.id)
    tk.notify(tk.secretaries_of(member.home_unit) + tk.secretaries_of(to_unit),
              _l("Membership transfer of %(name)s to %(unit)s requested", name=member.name, unit=to_unit.name),
              url=url, kind="mobility.transfer")
    return transfer


def approve_transfer(transfer: Transfer, side: str, *, by_account=None, now: datetime | None = None) -> Transfer:
    """One side approves; when both have, the membership moves and the history stays here."""
    now = now or tk.utcnow()
    lock(transfer)
    if transfer.status != "pending":
        raise MobilityError(_("This transfer has already been decided."), status=409)
    if side == "from":
        transfer.from_approved_at, transfer.from_approved_by = now, getattr(by_account, "id", None)
    elif side == "to":
        transfer.to_approved_at, transfer.to_approved_by = now, getattr(by_account, "id", None)
    else:
        raise ValueError(side)
    if transfer.from_approved_at and transfer.to_approved_at:
        _complete_transfer(transfer, now)
    return transfer


def _complete_transfer(transfer: Transfer, now: datetime) -> None:
    member = transfer.member
    transfer.status = "approved"
    transfer.completed_at = now
    outflow = active_outflow(member) or open_outflow(member)
    if outflow is not None:
        outflow.status = "transferred" if outflow.status == "approved" else "cancelled"
        for certificate in db.session.scalars(select(Certificate).where(Certificate.outflow_id == outflow.id)):
            close_certificate(certificate, _("Closed: membership transferred"), now)
    end_checkins(member, now)
    member.home_unit_id = transfer.to_unit_id
    member.home_unit = transfer.to_unit
    member.is_away = False
    member.lost_contact = False
    member.contact_member_id = None
    _clear_cases(member, now)
    tk.audit("mobility.transfer_completed", "mobility_transfer", transfer.id, unit_id=transfer.from_unit_id,
             to_unit=transfer.to_unit_id)
    if member.account_id:
        tk.notify([member.account_id], _l("Your membership was transferred to %(unit)s", unit=transfer.to_unit.name),
                  url=path_for("mobility.transfer", transfer_id=transfer.id), kind="mobility.transfer")


def reject_transfer(transfer: Transfer, note: str | None, *, now: datetime | None = None) -> Transfer:
    if transfer.status != "pending":
        raise MobilityError(_("This transfer has already been decided."), status=409)
    transfer.status = "rejected"
    transfer.decision_note = _clean(note, 2000) or None
    transfer.completed_at = now or tk.utcnow()
    if transfer.member.account_id:
        tk.notify([transfer.member.account_id], _l("The membership transfer was declined"), transfer.decision_note or "",
                  url=path_for("mobility.transfer", transfer_id=transfer.id), kind="mobility.transfer")
    return transfer


def letter_pdf(transfer: Transfer) -> bytes:
    """The letter of introduction (组织关系介绍信) with its number, for printing."""
    member = transfer.member
    pdf = tk.new_pdf()
    pdf.set_font_size(18)
    pdf.cell(0, 14, _("Letter of introduction"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(10)
    pdf.cell(0, 8, _("No. %(number)s", number=transfer.number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(12)
    pdf.ln(4)
    pdf.multi_cell(0, 8, _("To %(unit)s:", unit=transfer.to_unit.name), new_x="LMARGIN", new_y="NEXT")
    body = _("Comrade %(name)s (%(gender)s, %(stage)s) of %(from_unit)s transfers membership to your unit. "
             "Reason: %(reason)s. Please take over the membership.",
             name=member.name, gender=core_label("gender_label", member.gender),
             stage=core_label("stage_label", member.stage),
             from_unit=transfer.from_unit.name, reason=transfer.reason)
    pdf.multi_cell(0, 8, body, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    status = _("Approved by both branches on %(date)s", date=transfer.completed_at.date().isoformat()) \
        if transfer.status == "approved" and transfer.completed_at else _("Waiting for approval")
    pdf.multi_cell(0, 8, status, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(0, 8, transfer.from_unit.name, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, transfer.requested_at.date().isoformat(), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# -- contact people, contact log, lost contact -------------------------------------------

def assign_contact(member, contact_member) -> None:
    """The 1+1 pairing: a member at home keeps in touch with ``member``."""
    if contact_member is None or contact_member.id == member.id:
        raise MobilityError(_("Please correct the marked fields."), {"contact_member_id": _("Choose another member.")})
    if contact_member.home_unit is None or not member.home_unit or not (
            member.home_unit.contains(contact_member.home_unit) or contact_member.home_unit.contains(member.home_unit)
            or contact_member.home_unit_id == member.home_unit_id):
        raise MobilityError(_("Please correct the marked fields."),
                            {"contact_member_id": _("The contact person must belong to the same branch.")})
    member.contact_member_id = contact_member.id
    member.contact = contact_member


def contact_candidates(member) -> list:
    """Members of the same home branch who are at home (to be a contact person)."""
    return list(db.session.scalars(select(tk.Member).where(tk.Member.home_unit_id == member.home_unit_id,
                                                           tk.Member.id != member.id, tk.Member.is_away.is_(False))
                                   .order_by(tk.Member.name).limit(200)))


def log_contact(member, channel: str, contacted_on: Any, note: str | None = None, *, by_account=None,
                now: datetime | None = None) -> ContactLog:
    """Record a contact with an away member (it also clears a lost-contact flag)."""
    now = now or tk.utcnow()
    day = parse_date(contacted_on)
    errors = {}
    if channel not in CHANNELS:
        errors["channel"] = _("Choose how you were in contact.")
    if day is None:
        errors["contacted_on"] = _("Enter a date as YYYY-MM-DD.")
    elif day > _day(now):
        errors["contacted_on"] = _("The date cannot be in the future.")
    if errors:
        raise MobilityError(_("Please correct the marked fields."), errors)
    entry = ContactLog(member_id=member.id, by_account_id=getattr(by_account, "id", None), contacted_on=day,
                       channel=channel, note=_clean(note, 2000) or None, created_at=now)
    db.session.add(entry)
    db.session.flush()
    tk.record_activity(member, "contact.logged", "mobility_contact", entry.id,
                       at=datetime.combine(day, time(12, 0)) if day < _day(now) else now,
                       extras={"channel": channel, "by_account_id": entry.by_account_id})
    if member.lost_contact and now - last_seen(member) < timedelta(days=int(setting("lost_contact_days") or 90)):
        member.lost_contact = False
        _clear_cases(member, now)
    return entry


def contacts_of(member, limit: int = 100) -> list[ContactLog]:
    return list(db.session.scalars(select(ContactLog).where(ContactLog.member_id == member.id)
                                   .order_by(ContactLog.contacted_on.desc(), ContactLog.id.desc()).limit(limit)))


def last_seen(member) -> datetime:
    """The latest of: last activity, last logged contact, approval of the current outflow, profile creation."""
    candidates = [member.last_active_at, member.created_at]
    last_contact = db.session.scalar(select(func.max(ContactLog.contacted_on)).where(ContactLog.member_id == member.id))
    if last_contact:
        candidates.append(datetime.combine(last_contact, time(12, 0)))
    outflow = active_outflow(member)
    if outflow is not None and outflow.decided_at:
        candidates.append(outflow.decided_at)
    return max(c for c in candidates if c is not None)


def _clear_cases(member, now: datetime) -> None:
    for case in db.session.scalars(select(LostContactCase).where(LostContactCase.member_id == member.id,
                                                                  LostContactCase.cleared_at.is_(None))):
        case.cleared_at = now


def open_case(member) -> LostContactCase | None:
    return db.session.scalar(select(LostContactCase).where(LostContactCase.member_id == member.id,
                                                            LostContactCase.cleared_at.is_(None)).limit(1))


def scan_lost_contact(now: datetime) -> list:
    """Flag away members with no activity and no logged contact for N days; escalate old cases; clear resumed ones.

    Returns the ``Alert`` list for ``portal alerts scan``: one per newly lost
    member (to the home branch) and one per escalation (to the parent unit).
    """
    days = int(setting("lost_contact_days") or 90)
    escalate_days = int(setting("lost_contact_escalate_days") or 30)
    alerts = []
    members = db.session.scalars(select(tk.Member).where(or_(tk.Member.is_away.is_(True),
                                                             tk.Member.lost_contact.is_(True))))
    for member in members:
        seen = last_seen(member)
        lost = member.is_away and now - seen >= timedelta(days=days)
        case = open_case(member)
        if not lost:
            if member.lost_contact or case is not None:
                member.lost_contact = False
                _clear_cases(member, now)
            continue
        url = path_for("mobility.member", member_id=member.id)
        if case is None:
            member.lost_contact = True
            case = LostContactCase(member_id=member.id, unit_id=member.home_unit_id, flagged_at=now, last_seen_at=seen)
            db.session.add(case)
            alerts.append(tk.Alert("mobility.lost_contact", member.home_unit_id, member.id,
                                   _l("%(name)s has lost contact: nothing heard for %(days)d days",
                                     name=member.name, days=(now - seen).days), url=url))
        elif case.escalated_at is None and now - case.flagged_at >= timedelta(days=escalate_days):
            member.lost_contact = True
            home = member.home_unit
            parent = home.parent if home is not None and home.parent is not None else home
            case.escalated_at = now
            case.escalated_unit_id = parent.id
            accounts = tuple(tk.secretaries_of(parent, roles=("secretary", "organizer")))
            alerts.append(tk.Alert("mobility.lost_contact_escalated", parent.id, member.id,
                                   _l("%(name)s of %(unit)s is still out of contact after %(days)d days",
                                     name=member.name, unit=home.name, days=(now - seen).days),
                                   url=url, account_ids=accounts))
        else:
            member.lost_contact = True
    return alerts


def scan_prompts(now: datetime) -> list:
    """Periodic “confirm your details” prompts to members and “review due” notices to home branches."""
    alerts = []
    every = timedelta(days=int(setting("confirm_every_days") or 90))
    for outflow in db.session.scalars(select(Outflow).where(Outflow.status == "approved")):
        last = outflow.last_confirmed_at or outflow.decided_at or outflow.created_at
        prompted = outflow.confirm_prompted_at
        if now - last >= every and (prompted is None or prompted < last or now - prompted >= every):
            outflow.confirm_prompted_at = now
            if outflow.member.account_id:
                alerts.append(tk.Alert("mobility.confirm_details", None, outflow.member_id,
                                       _l("Please confirm where you are and how to reach you"),
                                       url=path_for("mobility.report_move"),
                                       account_ids=(outflow.member.account_id,)))
    horizon = _day(now) + timedelta(days=30)
    for certificate in db.session.scalars(select(Certificate).where(Certificate.status == "active",
                                                                    Certificate.valid_until <= horizon,
                                                                    Certificate.review_prompted_at.is_(None))):
        certificate.review_prompted_at = now
        alerts.append(tk.Alert("mobility.review_due", certificate.issuing_unit_id, certificate.member_id,
                               _l("The activity certificate of %(name)s is due for its annual review",
                                 name=certificate.member.name),
                               url=path_for("mobility.review", certificate_id=certificate.id)))
    return alerts


# -- lists for secretaries ---------------------------------------------------------------

def outgoing_query(unit):
    """Approved outflows of members whose home branch lies in ``unit``'s subtree."""
    return (select(Outflow).join(tk.Member, Outflow.member_id == tk.Member.id)
            .where(Outflow.status == "approved", tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
            .order_by(Outflow.start_date.desc(), Outflow.id.desc()))


def pending_outflows_query(unit):
    return (select(Outflow).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(("pending", "changes_requested")),
        tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))).order_by(Outflow.created_at))


def pending_outflows(unit) -> list[Outflow]:
    return list(db.session.scalars(pending_outflows_query(unit)))


def incoming_members_query(unit):
    return (select(tk.Member).where(tk.Member.host_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
            .order_by(tk.Member.name, tk.Member.id))


def pending_checkins_query(unit):
    return (select(CheckIn).join(tk.OrgUnit, CheckIn.host_unit_id == tk.OrgUnit.id).where(
        CheckIn.status == "pending", tk.in_subtree(tk.OrgUnit.path, unit.path)).order_by(CheckIn.requested_at))


def pending_checkins_at(unit) -> list[CheckIn]:
    return list(db.session.scalars(pending_checkins_query(unit)))


def identity_checks_for(unit) -> list[CheckIn]:
    """Uncertified arrivals of the unit's members waiting for the home branch to confirm identity."""
    return list(db.session.scalars(select(CheckIn).join(tk.Member, CheckIn.member_id == tk.Member.id).where(
        CheckIn.status == "pending", CheckIn.identity_status == "pending",
        tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path))).order_by(CheckIn.requested_at)))


def lost_contact_query(unit):
    return (select(tk.Member).where(
        tk.Member.lost_contact.is_(True), tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
        .order_by(tk.Member.name))


def lost_contact_members(unit) -> list:
    return list(db.session.scalars(lost_contact_query(unit)))


def unit_widget_counts(unit) -> dict[str, int]:
    """The unit widget's figures (outgoing, incoming, pending decisions, lost contact) in one statement."""
    def counted(query):
        return select(func.count()).select_from(query.order_by(None).subquery()).scalar_subquery()

    outgoing, incoming, outflows, checkins, lost = db.session.execute(select(
        counted(outgoing_query(unit)), counted(incoming_members_query(unit)), counted(pending_outflows_query(unit)),
        counted(pending_checkins_query(unit)), counted(lost_contact_query(unit)))).one()
    return {"outgoing": outgoing or 0, "incoming": incoming or 0, "pending": (outflows or 0) + (checkins or 0),
            "lost": lost or 0}


def late_moves(unit, limit: int = 50) -> list[Move]:
    return list(db.session.scalars(select(Move).join(tk.Member, Move.member_id == tk.Member.id).where(
        Move.kind == "change", tk.Member.home_unit.has(tk.in_subtree(tk.OrgUnit.path, unit.path)))
        .order_by(Move.reported_at.desc()).limit(limit)))


def transfers_for(unit) -> list[Transfer]:
    """Pending transfers out of or into ``unit``'s subtree."""
    ids = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)).scalar_subquery()
    return list(db.session.scalars(select(Transfer).where(
        Transfer.status == "pending", or_(Transfer.from_unit_id.in_(ids), Transfer.to_unit_id.in_(ids)))
        .order_by(Transfer.requested_at)))


# -- statistics ------------------------------------------------------------------------

def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 35:
        return "under_35"
    if age < 45:
        return "35_45"
    if age < 55:
        return "45_55"
    return "55_plus"


def duration_band(months: int) -> str:
    if months < 6:
        return "under_6m"
    if months < 12:
        return "6_12m"
    if months < 24:
        return "1_2y"
    return "2y_plus"


def unit_province(unit) -> str | None:
    """The unit's province, or its nearest ancestor's."""
    while unit is not None:
        if unit.province:
            return unit.province
        unit = unit.parent
    return None


def _unit_city(unit) -> str | None:
    while unit is not None:
        if unit.city:
            return unit.city
        unit = unit.parent
    return None


def _province_map(unit_ids: set[int]) -> dict[int, str | None]:
    """Each unit's province (its own or the nearest ancestor's), with one query for all ancestors."""
    units = {u.id: u for u in db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(unit_ids)))}
    ancestor_ids = {a for u in units.values() for a in u.ancestor_ids()}
    provinces = dict(db.session.execute(select(tk.OrgUnit.id, tk.OrgUnit.province)
                                        .where(tk.OrgUnit.id.in_(ancestor_ids))).all())
    result = {}
    for uid, unit in units.items():
        result[uid] = next((provinces.get(a) for a in reversed(unit.ancestor_ids()) if provinces.get(a)), None)
    return result


def unit_stats(unit, now: datetime | None = None, months: int = 12) -> dict:
    """The mobility table of ``unit``'s subtree as secretaries report it (DOMAIN.md).

    Outgoing = members of the subtree with an approved outflow; incoming =
    members hosted in the subtree. Breakdowns are over outgoing members:
    destination province (and in/out of the home unit's province), age band
    (<35, 35–45, 45–55, 55+), education, gender, time away; the trend counts
    outflows started and returns per month over the last ``months`` months.
    """
    now = now or tk.utcnow()
    today = _day(now)
    subtree = select(tk.OrgUnit.id).where(tk.in_subtree(tk.OrgUnit.path, unit.path)).scalar_subquery()
    total = db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.home_unit_id.in_(subtree))) or 0
    rows = db.session.execute(select(Outflow, tk.Member).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status == "approved", tk.Member.home_unit_id.in_(subtree))).all()
    provinces = _province_map({m.home_unit_id for _, m in rows}) if rows else {}
    by_province, ages, education, gender, duration = Counter(), Counter(), Counter(), Counter(), Counter()
    in_province = out_province = 0
    for outflow, member in rows:
        by_province[outflow.destination_province] += 1
        home_province = provinces.get(member.home_unit_id)
        if home_province and outflow.destination_province == home_province:
            in_province += 1
        else:
            out_province += 1
        ages[age_band(age_on(member.birth_date, today))] += 1
        education[member.education or "unknown"] += 1
        gender[member.gender or "unknown"] += 1
        duration[duration_band(max(0, _months_between(outflow.start_date, today)))] += 1
    incoming = db.session.scalar(select(func.count(tk.Member.id)).where(tk.Member.host_unit_id.in_(subtree))) or 0
    first_month = _add_months(date(today.year, today.month, 1), -(months - 1))
    started = db.session.execute(select(Outflow.start_date).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status.in_(("approved", "returned", "transferred")), Outflow.start_date >= first_month,
        tk.Member.home_unit_id.in_(subtree))).scalars().all()
    returned = db.session.execute(select(Outflow.returned_on).join(tk.Member, Outflow.member_id == tk.Member.id).where(
        Outflow.status == "returned", Outflow.returned_on >= first_month,
        tk.Member.home_unit_id.in_(subtree))).scalars().all()
    started_by = Counter(d.strftime("%Y-%m") for d in started)
    returned_by = Counter(d.strftime("%Y-%m") for d in returned if d)
    trend = []
    for index in range(months):
        key = _add_months(first_month, index).strftime("%Y-%m")
        trend.append({"month": key, "outgoing": started_by.get(key, 0), "returned": returned_by.get(key, 0)})
    outgoing = len(rows)
    return {
        "unit": {"id": unit.id, "name": unit.name}, "members": total, "outgoing": outgoing, "incoming": incoming,
        "outgoing_share": round(100.0 * outgoing / total, 1) if total else 0.0,
        "in_province": in_province, "out_of_province": out_province,
        "by_province": dict(sorted(by_province.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
        "age_band": {band: ages.get(band, 0) for band in AGE_BANDS if band != "unknown" or ages.get(band)},
        "education": dict(sorted(education.items(), key=lambda kv: (-kv[1], kv[0]))),
        "gender": dict(sorted(gender.items())),
        "duration": {band: duration.get(band, 0) for band in DURATION_BANDS},
        "trend": trend,
    }


def _add_months(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
