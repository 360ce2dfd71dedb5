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
from portal.notify.models import Notification
from tests.conftest import login
from tests.test_documents import PHOTO_RGB, bbox_where, is_black, is_photo, needs_poppler, render_pages


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


@needs_poppler
def test_printed_card_is_one_page_with_photo_and_qr_code_apart(app, db, org, client, tmp_path):
    outflow, certificate = _approved(org, now=datetime(2026, 3, 1, 18, 30))  # 2 March in Asia/Shanghai
    login(client, "member1")
    blue = Image.new("RGB", (90, 120), PHOTO_RGB)
    buffer = io.BytesIO()
    blue.save(buffer, format="PNG")
    assert client.post(f"/mobility/outflows/{outflow.id}/photo", data={"photo": (io.BytesIO(buffer.getvalue()), "me.png")},
                       content_type="multipart/form-data").status_code == 302
    db.session.expire_all()
    response = client.get(f"/mobility/certificates/{certificate.id}.pdf", headers={"Accept-Language": "zh-CN"})
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 and "2026年3月2日" in reader.pages[0].extract_text()
    [page] = render_pages(response.data, tmp_path, "activity-card")
    photo, qr = bbox_where(page, is_photo), bbox_where(page, is_black)
    assert photo is not None and qr is not None
    assert photo[3] < qr[1] or qr[3] < photo[1] or photo[2] < qr[0] or qr[2] < photo[0]  # disjoint on the page


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


def test_verification_lets_the_holder_be_matched_and_nothing_else(app, db, org):
    outflow, certificate = _approved(org)
    org.member1.id_number = "36082119800101123X"
    photo = app.test_client()
    login(photo, "member1")
    assert photo.post(f"/mobility/outflows/{outflow.id}/photo", data={"photo": (io.BytesIO(_image("JPEG")), "me.jpg")},
                      content_type="multipart/form-data").status_code == 302
    anonymous = app.test_client()
    body = anonymous.get(f"/certificates/mobility/verify/{certificate.number}").get_data(as_text=True)
    photo_url = f"/certificates/mobility/verify/{certificate.number}/photo"
    assert "张*" in body and "张伟" not in body and org.host.name in body and org.home.name in body
    assert photo_url in body and tk.fmt_date(certificate.valid_until) in body
    assert org.member1.phone not in body and "36082119800101123X" not in body and "深圳市" not in body
    served = anonymous.get(photo_url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert anonymous.get("/certificates/mobility/verify/LD2026NOTREAL/photo").status_code == 404
    # closed: no photo on the page, none served, no host branch
    certificates.close_certificate(certificate, "returned", tk.utcnow())
    db.session.commit()
    body = anonymous.get(f"/certificates/mobility/verify/{certificate.number}").get_data(as_text=True)
    assert "Not valid" in body and photo_url not in body and org.host.name not in body
    assert anonymous.get(photo_url).status_code == 404


def test_expired_certificate_serves_no_photo(app, db, org):
    outflow, certificate = _approved(org, now=tk.utcnow() - timedelta(days=400))
    certificate.photo_file = outflow.photo_file = "missing.jpg"
    db.session.commit()
    assert certificates.public_photo_url(certificate) is None
    assert app.test_client().get(f"/certificates/mobility/verify/{certificate.number}/photo").status_code == 404


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


ALL_CHECKS = {"kept_contact": True, "branch_life": True, "dues_paid": True, "reports_sent": True,
              "details_current": True}


def _inbox(account, kind="mobility.review") -> list[str]:
    return [n.title for n in tk.db.session.scalars(select(Notification).where(
        Notification.account_id == account.id, Notification.kind == kind))]


def test_review_renews_only_with_every_check_confirmed(app, db, org):
    # changed deliberately (issue 12): unticked boxes used to renew; now they must be confirmed or followed up
    _, certificate = _approved(org, now=tk.utcnow() - timedelta(days=340))
    old_until = certificate.valid_until
    home = app.test_client()
    login(home, "home-secretary")
    url = f"/mobility/certificates/{certificate.id}/review"
    # a wrong outcome changes nothing
    assert home.post(url, data={"outcome": "great"}).status_code == 422
    response = home.post(url, data={"outcome": "renewed", "check_kept_contact": "y", "check_branch_life": "y",
                                    "note": "表现良好"})
    assert response.status_code == 422 and "every check is confirmed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Review.id))) == 0
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).valid_until == old_until
    # unconfirmed checks: the secretary records a follow-up, the certificate stays as it is
    response = home.post(url, data={"outcome": "follow_up", "check_kept_contact": "y", "note": "党费未交"})
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.scalar(select(Review))
    assert review.outcome == "follow_up" and review.checklist["kept_contact"] and not review.checklist["dues_paid"]
    assert db.session.get(Certificate, certificate.id).valid_until == old_until
    assert _inbox(org.member1.account) == ["Annual review of your activity certificate: needs follow-up"]
    # all confirmed: renewed for a year from the old expiry date
    data = {"outcome": "renewed", "note": "表现良好", **{f"check_{key}": "y" for key in ALL_CHECKS}}
    assert home.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).valid_until == old_until + timedelta(days=365)
    assert "表现良好" in home.get(f"/mobility/certificates/{certificate.id}").get_data(as_text=True)
    assert "Annual review of your activity certificate: passed, certificate renewed" in _inbox(org.member1.account)


def test_review_six_months_early_cannot_renew(app, db, org):
    issued = datetime(2026, 1, 10, 8, 0)
    _, certificate = _approved(org, now=issued)
    old_until = certificate.valid_until
    with pytest.raises(ServiceError) as refused:
        certificates.review_certificate(certificate, ALL_CHECKS, "renewed", now=issued + timedelta(days=182))
    assert refused.value.status == 409 and certificate.valid_until == old_until
    # the window is a setting; the new validity runs from the old expiry date, never from the review day
    assert certificates.renewable_from(certificate) == old_until - timedelta(days=60)
    tk.set_setting("mobility", "review_window_days", 200)
    certificates.review_certificate(certificate, ALL_CHECKS, "renewed", now=issued + timedelta(days=182))
    db.session.commit()
    assert certificate.valid_until == old_until + timedelta(days=365)


def test_review_records_the_year_from_the_stream(app, db, org):
    issued = datetime(2025, 1, 10, 8, 0)
    _, certificate = _approved(org, now=issued)
    member = org.member1
    at = certificate.valid_until - timedelta(days=20)
    now = datetime(at.year, at.month, at.day, 9, 0)
    events = [("dues.paid", now - timedelta(days=30 * n)) for n in range(1, 4)]
    events += [("report.submitted", now - timedelta(days=100)), ("meeting.attended", now - timedelta(days=50)),
               ("meeting.attended", now - timedelta(days=400)),  # before the reviewed period: not counted
               ("quiz.passed", now - timedelta(days=10))]  # not a review fact
    for number, (verb, when) in enumerate(events):
        tk.record_activity(member, verb, "test", number, at=when)
    db.session.commit()
    home = app.test_client()
    login(home, "home-secretary")
    page = home.get(f"/mobility/certificates/{certificate.id}/review").get_data(as_text=True)
    assert "Dues payments" in page and "Meetings attended" in page
    review = certificates.review_certificate(certificate, ALL_CHECKS, "renewed", now=now)
    db.session.commit()
    assert review.facts["counts"] == {"report.submitted": 1, "dues.paid": 3, "meeting.attended": 1,
                                      "contact.logged": 0}
    assert review.facts["since"] == issued.date().isoformat()  # younger than a year: since the issue
    assert review.valid_until_after == at + timedelta(days=20 + 365)
    assert "Dues payments 3" in home.get(f"/mobility/certificates/{certificate.id}").get_data(as_text=True)


def test_review_can_close_and_a_closed_certificate_is_not_reviewed(app, db, org):
    _, certificate = _approved(org)
    certificates.review_certificate(certificate, {}, "closed")
    db.session.commit()
    assert certificate.status == "closed"
    assert _inbox(org.member1.account) == ["Annual review of your activity certificate: certificate closed"]
    with pytest.raises(ServiceError):
        certificates.review_certificate(certificate, ALL_CHECKS, "renewed")


def test_history_keeps_every_certificate(app, db, org):
    outflow, first = _approved(org)
    returns.record_return(outflow, {"returned_on": tk.local_today().isoformat(), "certificate_returned": "y"})
    db.session.commit()
    _, second = _approved(org)
    history = certificates.certificate_history(org.member1)
    assert {c.number for c in history} == {first.number, second.number}
    assert [c.status for c in history if c.id == first.id] == ["closed"]
    client = app.test_client()
    login(client, "home-secretary")
    page = client.get(f"/mobility/certificates/{second.id}").get_data(as_text=True)
    assert first.number in page and second.number in page
