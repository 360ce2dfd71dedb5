"""The activity certificate: number, validity, PDF card, QR code, public verification, photo, annual review."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_mobility import certificates, outflows, returns
from portal.toolkit import ServiceError
from portal_mobility.models import Certificate, Review
from tests.conftest import login


def _approved(org, member=None, now=None):
    member = member or org.member1
    outflow = outflows.register_outflow(member, {"destination_province": "广东省", "destination_city": "深圳市",
                                                 "start_date": "2025-03-01", "reason": "务工"}, now=now)
    certificate = outflows.approve_outflow(outflow, now=now)
    tk.db.session.commit()
    return outflow, certificate


def _image(fmt="PNG", size=(60, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_numbers_are_unique_and_validity_follows_the_setting(app, db, org):
    tk.set_setting("mobility", "certificate_valid_days", 180)
    db.session.commit()
    now = datetime(2026, 2, 1, 9, 0)
    _, first = _approved(org, now=now)
    _, second = _approved(org, org.member2, now=now)
    assert first.number != second.number and first.number.startswith("LD2026")
    assert first.valid_until == now.date() + timedelta(days=180)
    assert first.issuing_unit_id == org.home.id


def test_pdf_card_carries_the_chinese_name_and_a_qr_code(app, db, org, client):
    _, certificate = _approved(org)
    login(client, "member1")
    response = client.get(f"/mobility/certificates/{certificate.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = reader.pages[0].extract_text()
    assert "张伟" in text and certificate.number in text and org.home.name in text
    assert len(list(reader.pages[0].images)) == 1  # the QR code (no photo uploaded)


def test_certificate_page_links_the_public_verification(app, db, org, client):
    _, certificate = _approved(org)
    login(client, "member1")
    page = client.get(f"/mobility/certificates/{certificate.id}").get_data(as_text=True)
    assert f"/certificates/mobility/verify/{certificate.number}" in page and "<svg" in page


def test_verification_is_public_and_shows_only_validity_and_issuer(app, db, org):
    _, certificate = _approved(org)
    anonymous = app.test_client()
    page = anonymous.get(f"/certificates/mobility/verify/{certificate.number.lower()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Valid" in body and org.home.name in body
    assert "张伟" not in body and org.member1.phone not in body and "深圳" not in body
    unknown = anonymous.get("/certificates/mobility/verify/LD2026NOTREAL")
    assert unknown.status_code == 404 and "No mobile member activity certificate" in unknown.get_data(as_text=True)


def test_expired_certificate_is_reported_not_valid(app, db, org):
    _, certificate = _approved(org, now=tk.utcnow() - timedelta(days=400))
    body = app.test_client().get(f"/certificates/mobility/verify/{certificate.number}").get_data(as_text=True)
    assert "Not valid" in body


def test_photo_upload_checks_type_and_size_and_serves_only_to_entitled(app, db, org):
    outflow, certificate = _approved(org)
    member = app.test_client()
    login(member, "member1")
    url = f"/mobility/outflows/{outflow.id}/photo"
    # a text file named .jpg: refused, nothing stored
    bad = member.post(url, data={"photo": (io.BytesIO(b"hello, not an image"), "me.jpg")},
                      content_type="multipart/form-data")
    # the toolkit's upload check (422 like every refused input; 413 when too large)
    assert bad.status_code == 422 and "not a valid JPG" in bad.get_data(as_text=True)
    # a JPEG header followed by garbage: refused too
    broken = member.post(url, data={"photo": (io.BytesIO(b"\xff\xd8\xff\xe0" + b"x" * 100), "me.jpg")},
                         content_type="multipart/form-data")
    assert broken.status_code == 422
    tk.set_setting("mobility", "photo_max_kb", 50)
    db.session.commit()
    large = member.post(url, data={"photo": (io.BytesIO(_image("PNG", (2000, 2000)) + b"\0" * 60 * 1024), "big.png")},
                        content_type="multipart/form-data")
    assert large.status_code == 413
    db.session.expire_all()
    assert tk.db.session.get(Certificate, certificate.id).photo_file is None
    folder = Path(app.config["UPLOAD_DIR"]) / "mobility"
    before = set(folder.iterdir()) if folder.is_dir() else set()
    good = member.post(url, data={"photo": (io.BytesIO(_image("JPEG")), "me.jpg")}, content_type="multipart/form-data")
    assert good.status_code == 302
    db.session.expire_all()
    stored = tk.db.session.get(Certificate, certificate.id).photo_file
    assert stored and stored.endswith(".jpg") and len(set(folder.iterdir()) - before) == 1
    served = member.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg" and served.data[:3] == b"\xff\xd8\xff"
    assert "no-store" in served.headers["Cache-Control"]
    for username in ("member2", "foreign-secretary", "outsider"):
        other = app.test_client()
        login(other, username)
        assert other.get(url).status_code == 404, username
        assert other.post(url, data={"photo": (io.BytesIO(_image()), "x.png")},
                          content_type="multipart/form-data").status_code == 404
    assert app.test_client().get(url).status_code == 302
    # the card now carries the photo as a second image
    pdf = PdfReader(io.BytesIO(member.get(f"/mobility/certificates/{certificate.id}.pdf").data))
    assert len(list(pdf.pages[0].images)) == 2


def test_annual_review_renews_or_closes(app, db, org):
    now = datetime(2026, 1, 10, 8, 0)
    _, certificate = _approved(org, now=now)
    home = app.test_client()
    login(home, "home-secretary")
    # a wrong outcome changes nothing
    response = home.post(f"/mobility/certificates/{certificate.id}/review", data={"outcome": "great"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Review.id))) == 0
    due = certificates.certificates_due_for_review(org.home, now + timedelta(days=340))
    assert [c.id for c in due] == [certificate.id]
    response = home.post(f"/mobility/certificates/{certificate.id}/review", data={
        "outcome": "renewed", "check_kept_contact": "y", "check_branch_life": "y", "note": "表现良好"})
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.scalar(select(Review))
    renewed = db.session.get(Certificate, certificate.id)
    assert review.checklist == {"kept_contact": True, "branch_life": True, "dues_paid": False, "reports_sent": False,
                                "details_current": False}
    assert renewed.valid_until == max(now.date() + timedelta(days=365), tk.utcnow().date()) + timedelta(days=365)
    assert "表现良好" in home.get(f"/mobility/certificates/{certificate.id}").get_data(as_text=True)
    certificates.review_certificate(renewed, {}, "closed")
    db.session.commit()
    assert renewed.status == "closed"
    with pytest.raises(ServiceError):
        certificates.review_certificate(renewed, {}, "renewed")


def test_history_keeps_every_certificate(app, db, org):
    outflow, first = _approved(org)
    returns.record_return(outflow, {"returned_on": tk.utcnow().date().isoformat(), "certificate_returned": "y"})
    db.session.commit()
    _, second = _approved(org)
    history = certificates.certificate_history(org.member1)
    assert {c.number for c in history} == {first.number, second.number}
    assert [c.status for c in history if c.id == first.id] == ["closed"]
    client = app.test_client()
    login(client, "home-secretary")
    page = client.get(f"/mobility/certificates/{second.id}").get_data(as_text=True)
    assert first.number in page and second.number in page
