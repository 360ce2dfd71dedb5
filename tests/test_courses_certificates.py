"""Completion certificates: PDF with the Chinese name as text, public verification, revocation."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import toolkit as tk
from portal_courses import services
from portal_courses.models import Certificate, Course
from portal_courses.sync import sync_directory
from tests.conftest import login


@pytest.fixture
def cert(app, db, org):
    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "getting-started"))
    start = tk.utcnow() - timedelta(hours=3)
    for index, lesson in enumerate(course.active_lessons):
        services.open_lesson(org.member1, lesson, now=start + timedelta(minutes=10 * index))
        services.complete_lesson(org.member1, lesson, now=start + timedelta(minutes=10 * index + 5))
    db.session.commit()
    return db.session.scalar(select(Certificate).where(Certificate.member_id == org.member1.id))


def test_code_is_unguessable_and_unique(cert):
    assert len(cert.code) == 14 and cert.code.count("-") == 2
    codes = {tk.new_code() for _ in range(2000)}  # the toolkit generates every document code
    assert len(codes) == 2000 and not any(set(c) & set("01IO") for c in codes)


def test_pdf_has_the_chinese_name_as_text_and_the_verification_link(cert, client):
    login(client, "member1")
    response = client.get(f"/certificates/{cert.code}.pdf", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "张伟" in text and "流动党员之家使用入门" in text and "结业证书" in text
    assert cert.code in text and f"/certificates/verify/{cert.code}" in text
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.pages[0].images  # the QR code
    english = client.get(f"/certificates/{cert.code}.pdf", headers={"Accept-Language": "en"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(english.data)).pages)
    assert "Certificate of completion" in text and "Getting started with the portal" in text and "张伟" in text


def test_only_the_holder_and_admins_download(cert, app, org):
    for username, status in [("member2", 404), ("home-secretary", 404), ("organizer", 404), ("admin", 200)]:
        client = app.test_client()
        login(client, username)
        assert client.get(f"/certificates/{cert.code}.pdf").status_code == status, username


def test_public_verification_shows_only_name_course_date(cert, client, org):
    page = client.get(f"/certificates/verify/{cert.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "genuine and valid" in html
    assert "张伟" in html and "Getting started with the portal" in html
    for private in (org.member1.phone, org.home.name, "member1", org.host.name):
        assert private not in html
    assert client.get(f"/certificates/verify/{cert.code.lower()}").status_code == 200
    missing = client.get("/certificates/verify/AAAA-BBBB-CCCC")
    assert missing.status_code == 404 and "does not exist" in missing.get_data(as_text=True)
    assert client.get("/certificates/verify/%3Cscript%3E").status_code == 404


def test_members_list_their_own_certificates(cert, app):
    client = app.test_client()
    login(client, "member1")
    assert cert.code in client.get("/certificates").get_data(as_text=True)
    other = app.test_client()
    login(other, "member2")
    assert cert.code not in other.get("/certificates").get_data(as_text=True)


def test_revocation_by_admins_only(cert, app, client):
    login(client, "home-secretary")
    assert client.post(f"/certificates/{cert.code}/revoke", data={"reason": "x"}).status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    empty = admin.post(f"/certificates/{cert.code}/revoke", data={"reason": "  "})
    assert empty.status_code == 422 and "Give a reason" in empty.get_data(as_text=True)
    tk.db.session.expire_all()
    assert tk.db.session.get(Certificate, cert.id).revoked_at is None
    done = admin.post(f"/certificates/{cert.code}/revoke", data={"reason": "Issued by mistake"})
    assert done.status_code == 302
    tk.db.session.expire_all()
    revoked = tk.db.session.get(Certificate, cert.id)
    assert revoked.revoked_at is not None and revoked.revoke_reason == "Issued by mistake"
    assert tk.db.session.scalar(select(tk.Activity).where(tk.Activity.verb == "certificate.issued")) is not None
    page = app.test_client().get(f"/certificates/verify/{cert.code}").get_data(as_text=True)
    assert "revoked" in page and "genuine and valid" not in page
    assert "Issued by mistake" not in page  # the reason is not public
    again = admin.post(f"/certificates/{cert.code}/revoke", data={"reason": "twice"})
    assert again.status_code == 409
    from portal.audit.models import AuditEntry

    assert tk.db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate.revoked")) is not None
