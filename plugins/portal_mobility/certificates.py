"""Activity certificates: issue, verify, print, close, and their annual review."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from flask import url_for
from portal.toolkit import gettext as _
from portal.toolkit import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal import toolkit as tk

from .common import PLUGIN, clean_text, day_of, setting
from .labels import REVIEW_OUTCOME_LABELS
from .models import (
    MEETING_VERBS, REVIEW_CHECKLIST, REVIEW_FACT_ALIASES, REVIEW_FACT_VERBS, REVIEW_OUTCOMES, Certificate, CheckIn,
    Outflow, Review,
)
from .photos import photo_bytes

db = tk.db


def active_certificate(member) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.member_id == member.id, Certificate.status == "active")
                             .order_by(Certificate.id.desc()).limit(1))


def new_certificate_number(now: datetime) -> str:
    """``LD`` + year + 8 random hex digits: unique and not guessable (the verify page is public)."""
    return f"LD{now.year}{secrets.token_hex(4).upper()}"


def issue_certificate(outflow: Outflow, *, now: datetime | None = None) -> Certificate:
    """Issue a certificate for an approved outflow, valid for the configured number of days."""
    now = now or tk.utcnow()
    days = int(setting("certificate_valid_days") or 365)
    return tk.add_with_unique_code(
        lambda number: Certificate(number=number, outflow_id=outflow.id, member_id=outflow.member_id,
                                   issuing_unit_id=outflow.home_unit_id, issued_at=now,
                                   valid_until=day_of(now) + timedelta(days=days), photo_file=outflow.photo_file),
        new=lambda: new_certificate_number(now))


def certificate_by_number(number: str) -> Certificate | None:
    """The certificate with ``number`` as typed or scanned (any case), or ``None``."""
    number = tk.normalize_code(number)
    return db.session.scalar(select(Certificate).where(Certificate.number == number)) if number else None


def verify_url(certificate: Certificate) -> str:
    """The public verification page of ``certificate`` (printed as a QR code)."""
    return url_for("mobility.verify", number=certificate.number, _external=True)


def certificate_status(certificate: Certificate, today: date | None = None) -> str:
    """``valid``, ``revoked`` (closed: returned, reviewed out) or ``expired`` (past its validity)."""
    return tk.document_status(revoked=certificate.status != "active", valid_until=certificate.valid_until,
                              today=today or tk.local_today())


def public_photo_url(certificate: Certificate, today: date | None = None) -> str | None:
    """The public photo of a valid certificate with a photo (keyed by its unguessable number), else ``None``."""
    if certificate.photo_file is None or certificate_status(certificate, today) != "valid":
        return None
    return url_for("mobility.verify_photo", number=certificate.number)


def public_photo(number: str, today: date | None = None):
    """The photo for the public check: only while the certificate is valid (revoked, expired, unknown → 404)."""
    certificate = certificate_by_number(number)
    if certificate is None or public_photo_url(certificate, today) is None:
        raise tk.NotFound(_("This certificate shows no photo."))
    return tk.send_upload(PLUGIN, certificate.photo_file)


def verification_page(number: str, today: date | None = None) -> tuple[str, int]:
    """The public check of ``number``: enough to match card and holder, nothing else personal.

    Shown: the masked name (王*), the photo while valid, the home and host branches and the
    validity period. Never the phone, ID number, address, destination or a closing reason.
    """
    title = _("Certificate verification")
    certificate = certificate_by_number(number)
    if certificate is None:
        return tk.verification_page(title, "unknown", message=_(
            "No mobile member activity certificate with the number %(number)s exists.", number=number[:40]))
    status = certificate_status(certificate, today)
    member = certificate.member
    facts = [(_("Holder"), tk.mask_name(member.name)), (_("Certificate number"), certificate.number),
             (_("Issued by"), certificate.issuing_unit.name)]
    if status == "valid":  # where the holder takes part now; a closed card says nothing about today
        facts.append((_("Host branch"), member.host_unit.name if member.host_unit else _("not checked in yet")))
    facts.append((_("Valid"), _("%(start)s to %(end)s", start=tk.fmt_date(tk.local_date(certificate.issued_at)),
                                end=tk.fmt_date(certificate.valid_until))))
    message = None if status == "valid" else _("This certificate was closed or has expired.")
    return tk.verification_page(title, status, facts, message=message,
                                photo_url=public_photo_url(certificate, today))


def certificate_history(member) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.member_id == member.id)
                                   .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def close_certificate(certificate: Certificate, note: str | None, now: datetime) -> None:
    if certificate.status == "active":
        certificate.status = "closed"
        certificate.closed_at = now
        certificate.closed_note = note


def certificate_document(certificate: Certificate) -> tk.Document:
    """The printable facts of the card: front (who, where from, where to, until when, photo), back (check, notes)."""
    member, outflow = certificate.member, certificate.outflow
    lines = [
        (_("Name"), member.name), (_("Gender"), tk.label(tk.GENDER_LABELS, member.gender)),
        (_("Stage"), tk.label(tk.STAGE_LABELS, member.stage)),
        (_("Home branch"), certificate.issuing_unit.name), (_("Certificate number"), certificate.number),
        (_("Destination"), " ".join(filter(None, [outflow.destination_province, outflow.destination_city]))),
        (_("Valid"), _("%(start)s to %(end)s", start=tk.fmt_date(tk.local_date(certificate.issued_at)),
                       end=tk.fmt_date(certificate.valid_until))),
    ]
    notes = [_("Show this certificate to the branch where you stay and take part in its branch life."),
             _("Keep in touch with your home branch and pay your dues."),
             _("Have it reviewed once a year; hand it back when you return or transfer.")]
    return tk.Document(title=_("Mobile member activity certificate"), code=certificate.number,
                       verify_url=verify_url(certificate), holder=member.name, lines=lines,
                       issuer=certificate.issuing_unit.name, issued_at=certificate.issued_at,
                       status=certificate_status(certificate), photo=photo_bytes(certificate.photo_file), notes=notes)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The printable card: front and back on one A4 page (photo and QR code on different sides)."""
    return tk.document_pdf(certificate_document(certificate), "card")


def certificates_due_for_review(unit, now: datetime, within_days: int = 30) -> list[Certificate]:
    """Active certificates of the unit's subtree expiring within ``within_days`` (or already expired)."""
    limit = day_of(now) + timedelta(days=within_days)
    return list(db.session.scalars(select(Certificate).join(tk.OrgUnit, Certificate.issuing_unit_id == tk.OrgUnit.id)
                                   .where(Certificate.status == "active", Certificate.valid_until <= limit,
                                          tk.in_subtree(tk.OrgUnit.path, unit.path))
                                   .order_by(Certificate.valid_until)))


def review_facts(certificate: Certificate, now: datetime) -> dict:
    """What the activity stream shows for the reviewed year: ``{"since": iso day, "counts": {verb: n}}``.

    The year is the last 365 days, or since the issue when the certificate is younger. Verbs no
    installed plugin records yet (dues, reports, meetings) count 0: the secretary checks those by hand.
    A meeting attended online counts as a meeting attended (:data:`REVIEW_FACT_ALIASES`).
    """
    since = max(certificate.issued_at, now - timedelta(days=365))
    rows = db.session.execute(
        select(tk.Activity.verb, func.count(tk.Activity.id))
        .where(tk.Activity.actor_id == certificate.member_id,
               tk.Activity.verb.in_(REVIEW_FACT_VERBS + tuple(REVIEW_FACT_ALIASES)),
               tk.Activity.created_at >= since, tk.Activity.created_at <= now)
        .group_by(tk.Activity.verb)).all()
    counts = dict.fromkeys(REVIEW_FACT_VERBS, 0)
    for verb, count in rows:
        counts[REVIEW_FACT_ALIASES.get(verb, verb)] += int(count)
    return {"since": day_of(since).isoformat(), "counts": counts}


def host_unit_ids(certificate: Certificate) -> set[int]:
    """The host branches of the certificate's registration: its confirmed check-ins, and the member's
    current host while the certificate is active (a host recorded without a check-in)."""
    ids = set(db.session.scalars(select(CheckIn.host_unit_id).where(
        CheckIn.outflow_id == certificate.outflow_id, CheckIn.confirmed_at.is_not(None))))
    if certificate.status == "active" and certificate.member.host_unit_id:
        ids.add(certificate.member.host_unit_id)
    return ids


def meetings_at_host(certificate: Certificate) -> list[dict]:
    """The meetings the holder attended at a host branch (or a unit below it) while the certificate was valid.

    Read from the activity stream, where a meetings plugin records ``meeting.attended`` /
    ``meeting.attended_online`` with the meeting's unit in ``extras["unit_id"]``. Newest first, each
    ``{"at": naive UTC, "unit": OrgUnit, "online": bool}``. A few queries however many there are.
    """
    hosts = db.session.scalars(select(tk.OrgUnit).where(tk.OrgUnit.id.in_(host_unit_ids(certificate)))).all()
    if not hosts:
        return []
    units = {unit.id: unit for unit in db.session.scalars(select(tk.OrgUnit).where(
        or_(*[tk.in_subtree(tk.OrgUnit.path, host.path) for host in hosts])))}
    until = tk.local_day_bounds(certificate.valid_until)[1]
    if certificate.closed_at is not None:
        until = min(until, certificate.closed_at)
    activities = db.session.scalars(select(tk.Activity).where(
        tk.Activity.actor_id == certificate.member_id, tk.Activity.verb.in_(MEETING_VERBS),
        tk.Activity.created_at >= certificate.issued_at, tk.Activity.created_at < until)
        .order_by(tk.Activity.created_at.desc(), tk.Activity.id.desc()))
    return [{"at": activity.created_at, "unit": units[unit_id], "online": activity.verb == "meeting.attended_online"}
            for activity in activities if (unit_id := _unit_of(activity)) in units]


def _unit_of(activity) -> int | None:
    """The unit an activity names in its extras (another plugin wrote them: tolerate a string or nothing)."""
    value = (activity.extras or {}).get("unit_id")
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


def renewable_from(certificate: Certificate) -> date:
    """The first day a renewal is accepted: the configured number of days before the certificate expires."""
    return certificate.valid_until - timedelta(days=int(setting("review_window_days") or 60))


def review_certificate(certificate: Certificate, checklist: dict, outcome: str, note: str | None = None, *,
                       by_account=None, now: datetime | None = None) -> Review:
    """Record the annual review with the stream's facts and the secretary's checks, and tell the member.

    ``renewed`` needs every check confirmed (otherwise choose ``follow_up``) and is accepted only
    from :func:`renewable_from` on; it extends the validity from the old expiry date, never from
    today. ``follow_up`` keeps the certificate as it is; ``closed`` closes it. Nobody reviews
    their own certificate (:func:`tk.require_acting_on`).
    """
    tk.require_acting_on(certificate.member, "mobility.manage", certificate.member.home_unit, account=by_account)
    now = now or tk.utcnow()
    if certificate.status != "active":
        raise tk.Conflict(_("Only an active certificate can be reviewed."))
    if outcome not in REVIEW_OUTCOMES:
        raise tk.Invalid(_("Please correct the marked fields."), {"outcome": _("Choose an outcome.")})
    checks = {key: bool(checklist.get(key)) for key in REVIEW_CHECKLIST}
    if outcome == "renewed":
        _require_renewable(certificate, checks, now)
    review = Review(certificate_id=certificate.id, reviewed_at=now, reviewer_account_id=getattr(by_account, "id", None),
                    checklist=checks, facts=review_facts(certificate, now), outcome=outcome,
                    note=clean_text(note, 2000) or None)
    if outcome == "renewed":
        certificate.valid_until += timedelta(days=int(setting("certificate_valid_days") or 365))
        certificate.review_prompted_at = None
    elif outcome == "closed":
        close_certificate(certificate, _("Closed at the annual review"), now)
    review.valid_until_after = certificate.valid_until
    db.session.add(review)
    tk.audit("mobility.certificate_reviewed", "mobility_certificate", certificate.id,
             unit_id=certificate.issuing_unit_id, outcome=outcome)
    _notify_review(certificate, review)
    return review


def _require_renewable(certificate: Certificate, checks: dict[str, bool], now: datetime) -> None:
    """Refuse a renewal with an unconfirmed check, or earlier than the review window allows."""
    missing = {f"check_{key}": _("Confirm this, or choose “needs follow-up”.") for key, done in checks.items()
               if not done}
    if missing:
        raise tk.Invalid(_("A certificate is renewed only when every check is confirmed."), missing)
    start = renewable_from(certificate)
    if day_of(now) < start:
        raise tk.Conflict(_("This certificate can be renewed from %(date)s on (valid until %(until)s).",
                            date=tk.fmt_date(start), until=tk.fmt_date(certificate.valid_until)))


def _notify_review(certificate: Certificate, review: Review) -> None:
    """The member learns the result in their own language (lazy strings)."""
    account_id = certificate.member.account_id
    if not account_id:
        return
    body = (_l("Valid until %(date)s.", date=review.valid_until_after.isoformat()) if review.outcome == "renewed"
            else _l("Please get in touch with your home branch.") if review.outcome == "follow_up" else "")
    tk.notify([account_id], _l("Annual review of your activity certificate: %(outcome)s",
                               outcome=REVIEW_OUTCOME_LABELS[review.outcome]), body,
              url=tk.path_for("mobility.certificate", certificate_id=certificate.id), kind="mobility.review")



def reviews_of(certificate: Certificate) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.certificate_id == certificate.id)
                                   .order_by(Review.reviewed_at.desc())))
