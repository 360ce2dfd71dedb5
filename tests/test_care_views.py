"""Care pages: the permission matrix, audit of views, attachments, drafts without JavaScript,
the secretary's workflow through forms, dashboards and the .xlsx export."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_care import attachments, filing, microwishes, vocabulary, workflow
from portal_care.models import CareAttachment, CareDraft, CareRequest, CareWish
from tests.conftest import login
from tests.helpers.permission_matrix import admin_only, check_matrix, expect, logged_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake but well-formed enough to sniff\n"
FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
        "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}


def _file(db, org, where="host", consent=True, member=None, title="Wages owed"):
    member = member or org.member1
    req = filing.file_request(member, {"category": "wages", "title": title, "description": "6800 yuan",
                                         "where": where, "consent_host": consent}, filed_by=member.account,
                                now=tk.utcnow())
    db.session.commit()
    return req


def _attach(db, req, data=PNG, name="receipt.png"):
    from werkzeug.datastructures import FileStorage

    uploads = attachments.check_uploads([FileStorage(io.BytesIO(data), filename=name)])
    rows = attachments.store_uploads(req, uploads, req.member.account)
    db.session.commit()
    return rows[0]


def _wish(db, org):
    wish = microwishes.create_wish(org.member2, {"title": "A school bag"}, now=tk.utcnow())
    microwishes.review_wish(wish, org.home_sec, approve=True, unit_id=org.home.id, now=tk.utcnow())
    db.session.commit()
    return wish


def test_permission_matrix(app, db, org):
    host_req = _file(db, org, where="host", consent=True)
    attachment = _attach(db, host_req)
    wish = _wish(db, org)
    staff = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200, admin=200)
    host_request = expect(404, anonymous=302, member1=200, host_sec=200, organizer=200, admin=200)
    host_dashboard = expect(404, anonymous=302, host_sec=200, organizer=200, admin=200)
    members_only = expect(200, anonymous=302, organizer=403, admin=403)
    checked = check_matrix(app, org, {
        "care.index": logged_in(),
        "care.new": members_only,
        "care.detail": host_request,
        "care.attachment": host_request,
        "care.queue": staff,
        "care.overdue": staff,
        "care.file_for": staff,
        "care.dashboard": host_dashboard,
        "care.dashboard_xlsx": host_dashboard,
        "care.admin_categories": admin_only(),
        "care.admin_rules": admin_only(),
        "care.wishes": logged_in(),
        "care.wish_new": members_only,
        "care.wish_detail": expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200),
        "care_api.list_requests": expect(200, anonymous=401),
        "care_api.get_request": expect(404, anonymous=401, member1=200, host_sec=200, organizer=200, admin=200),
        "care_api.download_attachment": expect(404, anonymous=401, member1=200, host_sec=200, organizer=200,
                                               admin=200),
        "care_api.list_wishes": expect(200, anonymous=401),
        "care_api.get_wish": expect(404, anonymous=401, member1=200, member2=200, home_sec=200, organizer=200,
                                    admin=200),
    }, blueprints={"care", "care_api"}, url_values={
        "care.detail": {"request_id": host_req.id}, "care.attachment": {"attachment_id": attachment.id},
        "care.dashboard": {"unit_id": org.host.id}, "care.dashboard_xlsx": {"unit_id": org.host.id},
        "care.wish_detail": {"wish_id": wish.id}, "care_api.get_request": {"request_id": host_req.id},
        "care_api.download_attachment": {"request_id": host_req.id, "attachment_id": attachment.id},
        "care_api.get_wish": {"wish_id": wish.id},
    })
    assert checked == 19 * 9


def test_hometown_request_is_seen_by_home_not_host(app, db, org):
    req = _file(db, org, where="hometown")
    for username, status in (("home-secretary", 200), ("host-secretary", 404), ("foreign-secretary", 404),
                             ("member2", 404)):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/care/requests/{req.id}").status_code == status, username


def test_views_by_others_are_audited(client, db, org):
    from portal.audit.models import AuditEntry

    req = _file(db, org, where="hometown")
    login(client, "member1")
    page = client.get(f"/care/requests/{req.id}")
    assert "Wages owed" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
    client.post("/logout")
    login(client, "home-secretary")
    client.get(f"/care/requests/{req.id}")
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.target_id, entry.actor_account_id, entry.unit_id) == (
        "care.request.viewed", str(req.id), org.home_sec.id, org.home.id)


def test_member_files_request_through_the_form(client, db, org):
    login(client, "member1")
    response = client.post("/care/new", data={**FORM, "attachments": [(io.BytesIO(PDF), "contract.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    req = db.session.scalar(select(CareRequest))
    assert (req.title, req.unit_id, req.consent_host, req.urgency) == ("Wages for March not paid", org.host.id, True, "high")
    attachment = req.attachments[0]
    stored = Path(client.application.config["UPLOAD_DIR"]) / "care" / attachment.stored_name
    assert stored.read_bytes() == PDF
    # the toolkit's random stored name keeps the checked extension (tests/test_toolkit.py)
    assert "contract" not in attachment.stored_name and re.fullmatch(r"[0-9a-f]{40}\.pdf", attachment.stored_name)
    served = client.get(f"/care/attachments/{attachment.id}")
    assert served.data == PDF and served.mimetype == "application/pdf"
    assert "attachment" in served.headers["Content-Disposition"] and "no-store" in served.headers["Cache-Control"]
    client.post("/logout")
    login(client, "foreign-secretary")
    assert client.get(f"/care/attachments/{attachment.id}").status_code == 404


def _post_bad(client, **files):
    return client.post("/care/new", data={**FORM, **files}, content_type="multipart/form-data")


def _stored_files(client) -> set:
    folder = Path(client.application.config["UPLOAD_DIR"]) / "care"
    return set(folder.iterdir()) if folder.exists() else set()


def test_bad_attachments_are_refused_and_nothing_is_lost(client, db, org):
    login(client, "member1")
    before = _stored_files(client)
    cases = [
        ("program.exe", b"MZ" + b"\x00" * 100, "not accepted"),
        ("photo.png", b"just some text pretending", "not a valid PNG"),
    ]
    for name, data, message in cases:
        response = _post_bad(client, attachments=[(io.BytesIO(data), name)])
        body = response.get_data(as_text=True)
        assert response.status_code == 422, name
        assert message in body
        assert "Wages for March not paid" in body and "The contractor owes 6800 yuan." in body  # nothing lost
    tk.set_setting("care", "attachment_max_kb", 10)
    db.session.commit()
    response = _post_bad(client, attachments=[(io.BytesIO(PNG + b"\x00" * 11000), "big.png")])
    assert response.status_code == 413 and "too large" in response.get_data(as_text=True)  # the toolkit's upload check
    tk.set_setting("care", "attachment_max_count", 1)
    db.session.commit()
    response = _post_bad(client, attachments=[(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")])
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(func.count(CareRequest.id))) == 0
    assert db.session.scalar(select(func.count(CareAttachment.id))) == 0
    assert _stored_files(client) == before


def test_missing_fields_get_messages_and_keep_text(client, db, org):
    login(client, "member1")
    response = client.post("/care/new", data={**FORM, "title": "", "where": "moon"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in body and "Not a valid choice." in body
    assert "The contractor owes 6800 yuan." in body


def test_save_as_draft_without_javascript(client, db, org):
    login(client, "member1")
    response = client.post("/care/new", data={**FORM, "action": "draft", "title": "Half a tit"})
    assert response.status_code == 302
    draft = db.session.get(CareDraft, org.member1.id)
    assert draft.data["title"] == "Half a tit" and "csrf_token" not in draft.data
    page = client.get("/care/new").get_data(as_text=True)
    assert 'value="Half a tit"' in page and "The contractor owes 6800 yuan." in page
    assert "unfinished request" in client.get("/care/").get_data(as_text=True)
    client.post("/care/new", data={**FORM, "title": "Half a title, finished"})
    db.session.expire_all()
    assert db.session.get(CareDraft, org.member1.id) is None
    assert db.session.scalar(select(CareRequest.title)) == "Half a title, finished"


def test_new_request_page_loads_the_draft_script_without_inline_script(client, org):
    """Issue 21: the core autosave.js (all fields, on this device) and offline-queue.js replace care's own script."""
    login(client, "member1")
    page = client.get("/care/new").get_data(as_text=True)
    assert "/static/autosave.js" in page and "/static/offline-queue.js" in page
    assert f'data-storage-key="care-draft:{org.member1.account.id}:{org.member1.id}"' in page
    assert f'data-offline-send="care-new:{org.member1.id}"' in page
    assert f'data-autosave-discard="care-draft:{org.member1.account.id}:{org.member1.id}"' not in page  # no draft
    assert "<script>" not in page and "style=" not in page
    assert client.get("/care/static/care-draft.js").status_code == 404
    assert client.get("/static/offline-queue.js").status_code == 200


def test_secretary_files_on_behalf(client, db, org):
    login(client, "host-secretary")
    found = client.get("/care/file-for?q=张").get_data(as_text=True)
    assert "张伟" in found and "王强" not in found
    response = client.post(f"/care/new?member={org.member1.id}", data=FORM)
    assert response.status_code == 302
    req = db.session.scalar(select(CareRequest))
    assert (req.member_id, req.filed_by_account_id) == (org.member1.id, org.host_sec.id)
    assert client.get(f"/care/new?member={org.outsider.id}").status_code == 404


def test_workflow_through_forms(client, db, org):
    req = _file(db, org, where="hometown")
    login(client, "home-secretary")
    page = client.get(f"/care/requests/{req.id}").get_data(as_text=True)
    assert "Accept" in page and "李芳" in page  # member2 offered as handler
    assert client.post(f"/care/requests/{req.id}/assign", data={"handler": org.member2.account_id}).status_code == 302
    bad = client.post(f"/care/requests/{req.id}/transition", data={"to": "resolved", "summary": ""})
    assert bad.status_code == 422 and "Describe how the request was resolved." in bad.get_data(as_text=True)
    conflict = client.post(f"/care/requests/{req.id}/transition", data={"to": "closed"})
    assert conflict.status_code == 409
    client.post(f"/care/requests/{req.id}/comment", data={"body": "Only for us", "internal": "1"})
    client.post(f"/care/requests/{req.id}/transition", data={
        "to": "resolved", "summary": "Legal aid got the wages back", "support_kind": "money", "support_amount": "6800"})
    client.post("/logout")
    login(client, "member1")
    page = client.get(f"/care/requests/{req.id}").get_data(as_text=True)
    assert "Legal aid got the wages back" in page and "Was your problem solved?" in page
    assert "Only for us" not in page
    assert client.post(f"/care/requests/{req.id}/transition", data={"to": "closed"}).status_code == 422
    assert client.post(f"/care/requests/{req.id}/transition",
                       data={"to": "closed", "rating": "5", "rating_comment": "Great"}).status_code == 302
    db.session.expire_all()
    req = db.session.get(CareRequest, req.id)
    assert (req.status, req.rating, str(req.support_amount)) == ("closed", 5, "6800.00")


def test_member_cannot_act_as_staff_and_foreign_gets_404(client, db, org):
    req = _file(db, org, where="hometown")
    login(client, "member1")
    assert client.post(f"/care/requests/{req.id}/transition", data={"to": "accepted"}).status_code == 403
    assert client.post(f"/care/requests/{req.id}/comment", data={"body": "x", "internal": "1"}).status_code == 403
    client.post("/logout")
    login(client, "foreign-secretary")
    assert client.post(f"/care/requests/{req.id}/transition", data={"to": "accepted"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(CareRequest, req.id).status == "new"


def test_queue_overdue_and_dashboard_export(client, db, org):
    late = filing.file_request(org.member1, {"category": "medical", "title": "Old and late", "description": "x",
                                               "where": "hometown", "urgency": "urgent"},
                                 filed_by=org.member1.account, now=tk.utcnow() - timedelta(hours=10))
    _file(db, org, where="hometown", title="Fresh one")
    db.session.commit()
    login(client, "home-secretary")
    queue = client.get("/care/queue").get_data(as_text=True)
    assert "Old and late" in queue and "Fresh one" in queue
    overdue = client.get("/care/overdue").get_data(as_text=True)
    assert "Old and late" in overdue and "Fresh one" not in overdue
    dash = client.get(f"/care/units/{org.home.id}/dashboard").get_data(as_text=True)
    assert "<svg" in dash and org.home.name in dash
    response = client.get(f"/care/units/{org.home.id}/dashboard.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Unit", "Requests", "Open", "Overdue")
    assert rows[1][:4] == (org.home.name, 2, 2, 1)
    client.post("/logout")
    login(client, "host-secretary")
    assert "Old and late" not in client.get("/care/queue").get_data(as_text=True)
    assert late.id


def test_widgets_on_dashboards(client, db, org):
    _file(db, org, where="host", consent=True, title="Wages owed in Shenzhen")
    login(client, "member1")
    assert "Wages owed in Shenzhen" in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout")
    login(client, "host-secretary")
    page = client.get(f"/units/{org.host.id}/dashboard").get_data(as_text=True)
    assert "Care requests" in page and "new, to accept" in page


def test_wish_pages(client, db, org):
    login(client, "member2")
    assert client.post("/care/wishes/new", data={"title": ""}).status_code == 422
    assert client.post("/care/wishes/new", data={"title": "A school bag"}).status_code == 302
    wish = db.session.scalar(select(CareWish))
    client.post("/logout")
    login(client, "home-secretary")
    assert "A school bag" in client.get("/care/wishes").get_data(as_text=True)
    assert client.post(f"/care/wishes/{wish.id}/approve", data={"unit": org.root.id}).status_code == 422
    assert client.post(f"/care/wishes/{wish.id}/approve", data={"unit": org.home.id}).status_code == 302
    client.post("/logout")
    login(client, "member1")
    assert "A school bag" in client.get("/care/wishes").get_data(as_text=True)
    client.post(f"/care/wishes/{wish.id}/claim")
    client.post(f"/care/wishes/{wish.id}/fulfil")
    client.post("/logout")
    login(client, "member2")
    assert client.post(f"/care/wishes/{wish.id}/confirm").status_code == 302
    db.session.expire_all()
    assert db.session.get(CareWish, wish.id).status == "confirmed"
    assert db.session.scalar(select(tk.Activity.actor_id).where(tk.Activity.verb == "wish.fulfilled")) == org.member1.id


def test_admin_edits_categories_and_rules(client, db, org, factory):
    legal = factory.unit("Legal Aid Centre", "branch", org.root)
    login(client, "admin")
    assert client.post("/care/admin/categories", data={"key": "Bad Key!", "label": "x"}).status_code == 422
    client.post("/care/admin/categories", data={"key": "farmland", "label": "Farmland", "position": 5, "active": "y"})
    assert client.post("/care/admin/rules", data={"category": "wages", "where": "any", "scope_unit": 0,
                                                   "target_unit": legal.id}).status_code == 302
    db.session.expire_all()
    assert "farmland" in [k for k, _l, _a in vocabulary.categories()]
    req = _file(db, org, where="hometown")
    assert req.unit_id == legal.id


def test_personal_data_export_has_requests_not_notes(client, db, org):
    req = _file(db, org, where="hometown", title="Mother needs care")
    workflow.add_comment(req, org.home_sec, "We will visit on Friday", now=tk.utcnow())
    workflow.add_comment(req, org.home_sec, "INTERNAL assessment", now=tk.utcnow(), internal=True)
    db.session.commit()
    login(client, "member1")
    text = client.get("/me/export.json").get_data(as_text=True)
    assert "Mother needs care" in text and "We will visit on Friday" in text
    assert "INTERNAL" not in text


def test_zh_cn_pages_are_chinese(client, db, org):
    login(client, "member1")
    page = client.get("/care/new", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "讨薪维权" in page and "保存草稿" in page
