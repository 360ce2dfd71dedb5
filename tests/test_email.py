"""E-mail as a delivery channel, against a real SMTP server (aiosmtpd): immediate messages go once,
the daily digest at the local hour, preferences and unsubscribe links, the reader's language, an outage."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk
from portal.notify.services import notify
from portal_email import preferences
from portal_email.models import EmailPreference, EmailSend
from portal_email.sending import send_due
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect
from tests.helpers.smtp import smtp_server  # noqa: F401  (the fixture)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://portal.example.cn"


def utc(local: datetime) -> datetime:
    """A Shanghai wall-clock time as the naive UTC the database keeps."""
    return local.replace(tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def mail(app, db, org, smtp_server, monkeypatch):  # noqa: F811
    """E-mail on: the local SMTP server, a public address, member1 and member2 with addresses."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", PUBLIC)
    for key, value in {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": "none",
                       "from_address": "portal@example.cn", "digest_hour": 18}.items():
        tk.set_setting("email", key, value)
    org.member1.account.email, org.member1.account.locale = "member1@example.org", "zh_CN"
    org.member2.account.email, org.member2.account.locale = "member2@example.org", "en"
    db.session.commit()
    return smtp_server


def message(account, title="Your password has been changed.", kind="care.wish", at: datetime | None = None):
    """One inbox message (a translatable title) made and committed at ``at``."""
    note = notify([account.id], _l(title), _l("The current password is wrong."), url="/inbox", kind=kind)[0]
    if at is not None:
        note.created_at = at
    tk.db.session.commit()
    return note


def log_rows(db):
    return db.session.scalars(select(EmailSend).order_by(EmailSend.id)).all()


def test_an_immediate_message_is_sent_once_in_the_readers_language(db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    message(org.member1.account, at=now - timedelta(minutes=1))
    message(org.member2.account, at=now - timedelta(minutes=1))
    report = send_due(now)
    assert report.immediate == 2 and report.failed == 0
    assert send_due(now + timedelta(minutes=1)).immediate == 0  # the next run finds them in the log
    by_to = {m["To"]: m for m in mail.messages}
    assert len(mail.messages) == 2
    chinese, english = by_to["member1@example.org"], by_to["member2@example.org"]
    assert chinese["Subject"] == "密码已修改。" and english["Subject"] == "Your password has been changed."
    text = chinese.get_body(("plain",)).get_content()
    html = chinese.get_body(("html",)).get_content()
    assert f"{PUBLIC}/inbox" in text and f'href="{PUBLIC}/inbox"' in html
    assert chinese["List-Unsubscribe"].startswith(f"<{PUBLIC}/email/unsubscribe/")
    assert chinese["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [(row.status, row.mode) for row in log_rows(db)] == [("sent", "immediate")] * 2


def test_a_rolled_back_or_old_message_is_not_sent(db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    notify([org.member1.account.id], "never committed", kind="care.wish")
    db.session.rollback()
    message(org.member1.account, at=now - timedelta(days=3))  # older than the look-back: stale news
    assert send_due(now).immediate == 0 and mail.messages == []


def test_the_digest_groups_the_days_messages_at_the_local_hour(db, org, mail):
    account = org.member1.account
    preferences.save(account.id, {"care": "digest"})
    db.session.commit()
    message(account, at=utc(datetime(2026, 11, 30, 9, 0)))
    message(account, "The token was revoked.", at=utc(datetime(2026, 11, 30, 12, 0)))
    assert send_due(utc(datetime(2026, 11, 30, 17, 59))).digests == 0
    assert mail.messages == []
    assert send_due(utc(datetime(2026, 11, 30, 18, 0))).digests == 1
    assert send_due(utc(datetime(2026, 11, 30, 18, 1))).digests == 0  # once a day
    [digest] = mail.messages
    text = digest.get_body(("plain",)).get_content()
    assert "2026" in digest["Subject"] and "密码已修改。" in text and "令牌已撤销。" in text
    message(account, at=utc(datetime(2026, 11, 30, 18, 30)))  # after today's digest: tomorrow's
    assert send_due(utc(datetime(2026, 11, 30, 23, 0))).digests == 0
    assert send_due(utc(datetime(2026, 12, 1, 18, 0))).digests == 1 and len(mail.messages) == 2
    assert {row.mode for row in log_rows(db)} == {"digest"} and len(log_rows(db)) == 3


def test_nothing_goes_when_the_kind_is_off_or_there_is_no_address(db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    preferences.save(org.member1.account.id, {"care": "off"})
    org.member2.account.email = None
    db.session.commit()
    message(org.member1.account, at=now)
    message(org.member2.account, at=now)
    message(org.accounts["home_sec"], at=now)  # no address either
    assert send_due(now + timedelta(minutes=1)).immediate == 0 and mail.messages == []
    message(org.member1.account, kind="contact", at=now)  # another kind still comes
    assert send_due(now + timedelta(minutes=1)).immediate == 1


def test_an_unknown_kind_falls_under_other_messages(db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    preferences.save(org.member1.account.id, {"other": "off"})
    db.session.commit()
    message(org.member1.account, kind="nobody.declares.this", at=now)
    message(org.member1.account, kind="alert.care.overdue", at=now)  # under the core's "alert"
    assert send_due(now + timedelta(minutes=1)).immediate == 1


def test_smtp_down_is_logged_retried_and_nothing_is_lost(db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    message(org.member1.account, at=now)
    message(org.member2.account, at=now)
    mail.stop()
    report = send_due(now + timedelta(minutes=1))
    assert report.failed == 1 and report.immediate == 0  # the run stops at the first unreachable send
    [row] = log_rows(db)
    assert row.status == "failed" and "Connection" in row.error and row.attempts == 1
    mail.start()
    assert send_due(now + timedelta(minutes=2)).immediate == 2
    assert send_due(now + timedelta(minutes=3)).immediate == 0
    db.session.expire_all()
    rows = log_rows(db)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 2), ("sent", 1)] and len(mail.messages) == 2


def unsubscribe_link(mail_message) -> str:
    text = mail_message.get_body(("plain",)).get_content()
    return re.search(rf"{PUBLIC}(/email/unsubscribe/\S+)", text).group(1)


def modes_of(db, account_id):
    db.session.expire_all()
    return {row.kind: row.mode for row in db.session.scalars(
        select(EmailPreference).where(EmailPreference.account_id == account_id))}


def test_the_unsubscribe_link_works_without_login(app, db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    message(org.member1.account, at=now)
    send_due(now)
    path = unsubscribe_link(mail.messages[0])
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "停止" in page.get_data(as_text=True)
    assert modes_of(db, org.member1.account.id) == {}  # opening the link changes nothing
    done = client.post(path, data={"scope": "kind"})
    assert done.status_code == 200 and modes_of(db, org.member1.account.id) == {"care": "off"}
    client.post(path, data={"scope": "all"})
    modes = modes_of(db, org.member1.account.id)
    assert set(modes.values()) == {"off"} and {"care", "alert", "other"} <= set(modes)


def test_the_one_click_unsubscribe_of_the_header(app, db, org, mail):
    now = utc(datetime(2026, 11, 30, 10, 0))
    message(org.member1.account, at=now)
    send_due(now)
    url = mail.messages[0]["List-Unsubscribe"].strip("<>").removeprefix(PUBLIC)
    response = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204 and modes_of(db, org.member1.account.id) == {"care": "off"}


def test_a_forged_or_broken_unsubscribe_link_changes_nothing(app, db, org, mail):
    forged = preferences.unsubscribe_token(org.member1.account.id, "care")[:-3] + "abc"
    client = app.test_client()
    for path in (f"/email/unsubscribe/{forged}", "/email/unsubscribe/nonsense"):
        page = client.post(path, data={"scope": "all"}, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 404 and "退订链接无效" in page.get_data(as_text=True)
        assert client.post(path + "/one-click").status_code == 404
    assert modes_of(db, org.member1.account.id) == {}


def test_preferences_page_shows_and_saves_modes(client, db, org, mail):
    login(client, "member1")
    page = client.get("/email/preferences").get_data(as_text=True)
    assert 'name="mode-care"' in page and 'name="mode-other"' in page
    assert client.post("/email/preferences", data={"mode-care": "digest", "mode-points": "off"}).status_code == 302
    assert modes_of(db, org.member1.account.id) == {"care": "digest", "points": "off"}
    refused = client.post("/email/preferences", data={"mode-care": "weekly", "mode-points": "immediate"})
    assert refused.status_code == 422 and "请从给出的方式中选择" in refused.get_data(as_text=True)
    assert modes_of(db, org.member1.account.id) == {"care": "digest", "points": "off"}


def test_the_admin_sends_a_test_email(client, db, org, mail):
    org.accounts["admin"].locale = "zh_CN"
    login(client, "admin")
    assert client.post("/email/admin/test", data={"address": "boss@example.org"}).status_code == 302
    assert [m["To"] for m in mail.messages] == ["boss@example.org"]
    mail.stop()
    client.post("/email/admin/test", data={"address": "boss@example.org"})
    assert "测试邮件未能发出" in client.get("/email/admin").get_data(as_text=True)


def test_email_get_matrix(app, db, org):
    token = lambda org: {"token": preferences.unsubscribe_token(org.member1.account.id, "care")}  # noqa: E731
    expectations = {
        "email.preferences": expect(200, anonymous=302),
        "email.admin": expect(403, anonymous=302, admin=200),
        "email.unsubscribe": expect(200),  # no login: the signed link is the proof
        "email.one_click_page": expect(302),
    }
    assert check_matrix(app, org, expectations, blueprints={"email"},
                        url_values={"email.unsubscribe": token, "email.one_click_page": token}) == 4 * 9


def test_the_cron_command_sends_and_says_what_it_did(app, db, org, mail, monkeypatch):
    from portal.cli import cli

    message(org.member1.account)  # made just now: due at once
    result = app.test_cli_runner().invoke(cli, ["email", "send"])
    assert result.exit_code == 0 and "1 message(s), 0 digest(s) sent; 0 failed." in result.output
    assert len(mail.messages) == 1
    message(org.member1.account)
    monkeypatch.delitem(app.config, "PUBLIC_URL")  # the links cannot be written: stop before claiming anything
    refused = app.test_cli_runner().invoke(cli, ["email", "send"])
    assert refused.exit_code != 0 and "PUBLIC_URL" in refused.output
    assert len(log_rows(db)) == 1 and len(mail.messages) == 1


def test_without_an_smtp_server_nothing_is_claimed(db, org, mail):
    tk.set_setting("email", "smtp_host", "")
    db.session.commit()
    message(org.member1.account)
    assert send_due().immediate == 0 and log_rows(db) == []
    tk.set_setting("email", "smtp_host", mail.host)
    db.session.commit()
    assert send_due().immediate == 1  # set up later: the waiting message goes


def test_personal_data_holds_the_choices_and_the_sends(client, db, org, mail):
    preferences.save(org.member1.account.id, {"points": "off"})
    db.session.commit()
    message(org.member1.account)
    send_due()
    login(client, "member1")
    exported = client.get("/me/export.json").get_json()
    assert exported["sections"]["email.preferences"] == [{"kind": "points", "mode": "off"}]
    [sent] = exported["sections"]["email.sent"]
    assert sent["status"] == "sent" and sent["mode"] == "immediate"
