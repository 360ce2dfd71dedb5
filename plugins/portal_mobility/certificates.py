"""Activity certificates: issue, verify, print, close, and their annual review."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from flask import url_for
from portal.toolkit import gettext as _
from sqlalchemy import select

from portal import toolkit as tk

from .common import clean_text, day_of, setting
from .models import REVIEW_CHECKLIST, REVIEW_OUTCOMES, Certificate, Outflow, Review
from .photos import photo_path

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


def verification_page(number: str, today: date | None = None) -> tuple[str, int]:
    """The public check of ``number``: validity, issuing unit and validity date only — nothing personal."""
    title = _("Certificate verification")
    certificate = certificate_by_number(number)
    if certificate is None:
        return tk.verification_page(title, "unknown", message=_(
            "No mobile member activity certificate with the number %(number)s exists.", number=number[:40]))
    status = certificate_status(certificate, today)
    facts = [(_("Certificate number"), certificate.number), (_("Issued by"), certificate.issuing_unit.name),
             (_("Valid until"), tk.fmt_date(certificate.valid_until))]
    message = None if status == "valid" else _("This certificate was closed or has expired.")
    return tk.verification_page(title, status, facts, message=message)


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
    member, outflow = certificate.member, certificate.outflow
    lines = [
        (_("Name"), member.name), (_("Gender"), tk.label(tk.GENDER_LABELS, member.gender)),
        (_("Home branch"), certificate.issuing_unit.name), (_("Certificate number"), certificate.number),
        (_("Valid until"), certificate.valid_until.isoformat()),
        (_("Destination"), " ".join(filter(None, [outflow.destination_province, outflow.destination_city]))),
    ]
    document = tk.Document(title=_("Mobile member activity certificate"), code=certificate.number,
                           verify_url=verify_url(certificate), holder=member.name, lines=lines,
                           issuer=certificate.issuing_unit.name, issued_at=certificate.issued_at,
                           status=certificate_status(certificate), photo=photo_path(certificate.photo_file))
    return tk.document_pdf(document, "card")


def certificates_due_for_review(unit, now: datetime, within_days: int = 30) -> list[Certificate]:
    """Active certificates of the unit's subtree expiring within ``within_days`` (or already expired)."""
    limit = day_of(now) + timedelta(days=within_days)
    return list(db.session.scalars(select(Certificate).join(tk.OrgUnit, Certificate.issuing_unit_id == tk.OrgUnit.id)
                                   .where(Certificate.status == "active", Certificate.valid_until <= limit,
                                          tk.in_subtree(tk.OrgUnit.path, unit.path))
                                   .order_by(Certificate.valid_until)))


def review_certificate(certificate: Certificate, checklist: dict, outcome: str, note: str | None = None, *,
                       by_account=None, now: datetime | None = None) -> Review:
    """Record the annual review; ``renewed`` extends the validity, ``closed`` closes the certificate.

    Nobody reviews their own certificate (:func:`tk.require_acting_on`).
    """
    tk.require_acting_on(certificate.member, "mobility.manage", certificate.member.home_unit, account=by_account)
    now = now or tk.utcnow()
    if certificate.status != "active":
        raise tk.Conflict(_("Only an active certificate can be reviewed."))
    if outcome not in REVIEW_OUTCOMES:
        raise tk.Invalid(_("Please correct the marked fields."), {"outcome": _("Choose an outcome.")})
    checks = {key: bool(checklist.get(key)) for key in REVIEW_CHECKLIST}
    review = Review(certificate_id=certificate.id, reviewed_at=now, reviewer_account_id=getattr(by_account, "id", None),
                    checklist=checks, outcome=outcome, note=clean_text(note, 2000) or None)
    if outcome == "renewed":
        days = int(setting("certificate_valid_days") or 365)
        certificate.valid_until = max(certificate.valid_until, day_of(now)) + timedelta(days=days)
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
