"""CSRF, the OpenAPI document, the inbox, audit log, personal data export and settings."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal.notify.services import notify, unread_count
from portal.plugins.manager import get_manager
from tests.conftest import login, make_test_app


@pytest.fixture(scope="module")
def csrf_app(app, tmp_path_factory):
    return make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], WTF_CSRF_ENABLED=True)


def test_forms_without_csrf_token_are_refused_with_a_clear_message(csrf_app, org):
    client = csrf_app.test_client()
    page = client.post("/login", data={"login": "member1", "password": "pass-1234"})
    assert page.status_code == 400
    assert "The form has expired" in page.get_data(as_text=True)
    zh = client.post("/login", data={"login": "member1", "password": "pass-1234"},
                     headers={"Accept-Language": "zh-CN"})
    assert "表单已过期" in zh.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # not logged in


def test_forms_with_csrf_token_work(csrf_app, org):
    import re

    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": "member1", "password": "pass-1234", "csrf_token": token.group(1)})
    assert response.status_code == 302


def test_bearer_api_calls_need_no_csrf_token(csrf_app, org):
    client = csrf_app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "member1", "password": "pass-1234"}).json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json["username"] == "member1"


def test_openapi_lists_every_api_route(client, app):
    import re

    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    shape = lambda path: re.sub(r"\{[^}]+\}", "{}", path)  # noqa: E731 (parameter names may differ)
    documented = {shape(path) for path in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.endpoint.endswith("static"):
            path = re.sub(r"<(?:\w+:)?\w+>", "{}", rule.rule)
            # <any(a, b):name> is one rule for several documented paths: each must be there
            choices = re.search(r"<any\(([^)]*)\):\w+>", path)
            for choice in ([c.strip() for c in choices.group(1).split(",")] if choices else [None]):
                concrete = path.replace(choices.group(0), choice) if choices else path
                assert concrete in documented, f"{rule.rule} ({concrete}) is not in the OpenAPI document"


def test_api_errors_are_json(client, org):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_inbox_unread_count_and_reading(client, org, db):
    notify([org.member1.account_id], "会议通知", "周六晚上八点视频会议", url="/dashboard")
    db.session.commit()
    assert unread_count(org.member1.account_id) == 1
    login(client, "member1")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "会议通知" in page and 'class="badge">1<' in page
    note = db.session.scalar(select(Notification))
    opened = client.post(f"/inbox/{note.id}/open")
    assert opened.headers["Location"] == "/dashboard"
    assert unread_count(org.member1.account_id) == 0


def test_someone_elses_message_is_404(client, org, db):
    note = notify([org.member2.account_id], "private")[0]
    db.session.commit()
    login(client, "member1")
    assert client.post(f"/inbox/{note.id}/open").status_code == 404


def test_delivery_channels_receive_messages_only_after_commit(app, org, db):
    delivered = []
    from portal.plugins import hookimpl
    from portal.plugins.types import DeliveryChannel

    class SmsPlugin:  # a real plugin implementing the hook (more in tests/test_hooks.py)
        @hookimpl
        def portal_delivery_channels(self):
            return [DeliveryChannel("sms", lambda note: delivered.append(note.title))]

    plugin = SmsPlugin()
    get_manager().pm.register(plugin, name="sms")
    try:
        notify([org.member1.account_id], "rolled back")
        db.session.rollback()
        notify([org.member1.account_id], "kept")
        assert delivered == []
        db.session.commit()
        assert delivered == ["kept"]
    finally:
        get_manager().pm.unregister(plugin)


def test_audit_log_records_admin_actions_and_is_admin_only(client, org, db):
    name = next(name for name, info in sorted(get_manager().plugins.items()) if info.module is not None)
    login(client, "admin")
    client.post(f"/admin/plugins/{name}", data={"action": "disable"})
    client.post(f"/admin/plugins/{name}", data={"action": "enable"})
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["plugin.disabled", "plugin.enabled"]
    page = client.get("/admin/audit/?action=plugin.dis").get_data(as_text=True)
    assert "plugin.disabled" in page and "plugin.enabled" not in page
    other = client.application.test_client()
    login(other, "home-secretary")
    assert other.get("/admin/audit/").status_code == 403


def test_viewing_an_id_number_is_audited(client, org, db):
    member = org.member1
    member.id_number = "11010519491231002X"
    db.session.commit()
    login(client, "home-secretary")
    masked = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "110***********002X" in masked and "11010519491231002X" not in masked
    shown = client.get(f"/members/{member.id}?show_id=1").get_data(as_text=True)
    assert "11010519491231002X" in shown
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "member.id_number_viewed"))
    assert entry.target_id == str(member.id)


def test_personal_data_export_contains_every_section(client, org, db):
    from portal.activity.services import record_activity

    record_activity(org.member1, "lesson.completed", "lesson", 3)
    db.session.commit()
    login(client, "member1")
    data = json.loads(client.get("/me/export.json").get_data(as_text=True))
    assert data["account"]["username"] == "member1"
    assert data["sections"]["profile"][0]["name"] == "张伟"
    assert "lesson.completed" in [row["verb"] for row in data["sections"]["activities"]]
    assert "张伟" in client.get("/me").get_data(as_text=True)


def test_settings_form_validates_and_saves(client, org, db):
    login(client, "admin")
    bad = client.post("/admin/settings/core", data={"s_site_notice": "", "s_mobile_after_months": "abc"})
    assert bad.status_code == 422 and "Not a valid integer value." in bad.get_data(as_text=True)
    good = client.post("/admin/settings/core", data={"s_site_notice": "**欢迎**", "s_mobile_after_months": "6"})
    assert good.status_code == 302
    member = client.application.test_client()
    login(member, "member1")
    assert "<strong>欢迎</strong>" in member.get("/dashboard").get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hookspecs_are_documented():
    from portal.plugins import hookspecs

    for name in dir(hookspecs):
        if name.startswith("portal_"):
            assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} needs a docstring"


def test_each_reader_sees_a_message_in_their_own_language(app, org, db):
    from flask_babel import force_locale, gettext, lazy_gettext

    from portal.notify.services import render_for

    with app.test_request_context(headers={"Accept-Language": "en"}):  # the sender reads English
        note = notify([org.member1.account_id], lazy_gettext("Plugin %(name)s is now %(state)s.", name="points",
                                                             state=lazy_gettext("enabled")))[0]
        db.session.commit()
        assert note.title == "Plugin points is now enabled."
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            expected = gettext("Plugin %(name)s is now %(state)s.", name="points", state=gettext("enabled"))
    assert expected != note.title and "points" in expected
    member = app.test_client()
    login(member, "member1")
    page = member.get("/inbox/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert expected in page
    with app.test_request_context():
        assert render_for(note, "zh_CN")[0] == expected and render_for(note, "en")[0] == note.title


def test_participation_summary_is_for_the_home_side_only(client, org, db):
    from portal.activity.services import record_activity

    record_activity(org.member1, "lesson.completed", "lesson", 11)
    db.session.commit()
    home = client.application.test_client()
    login(home, "home-secretary")
    page = home.get(f"/members/{org.member1.id}").get_data(as_text=True)
    assert "Participation in the last 12 months" in page
    host = client.application.test_client()
    login(host, "host-secretary")
    hosted_view = host.get(f"/members/{org.member1.id}")
    assert hosted_view.status_code == 200  # basics are host-visible
    assert "Participation in the last 12 months" not in hosted_view.get_data(as_text=True)
