"""The example SMS channel: urgent messages to the reader's phone through the provider the setting names."""
from __future__ import annotations

import pytest
from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import toolkit as tk
from portal.notify.services import notify
from portal_sms_example.models import SmsLogEntry
from tests import sms_provider
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect


@pytest.fixture
def sent():
    sms_provider.SENT.clear()
    yield sms_provider.SENT
    sms_provider.SENT.clear()


def provider(db, spec: str) -> None:
    tk.set_setting("sms_example", "provider", spec)
    db.session.commit()


def message(db, account, kind: str) -> None:
    notify([account.id], _l("Your password has been changed."), kind=kind)
    db.session.commit()


def test_nothing_is_sent_until_a_provider_is_set(db, org, sent):
    message(db, org.member1.account, "care.wish")
    assert sent == [] and db.session.scalars(select(SmsLogEntry)).all() == []


def test_urgent_messages_go_to_the_phone_in_the_readers_language(db, org, sent):
    provider(db, "tests.sms_provider:factory")
    account = org.member1.account
    account.phone, account.locale = "13800000001", "zh_CN"
    org.member2.account.phone = None
    db.session.commit()
    message(db, account, "care.wish")  # care is urgent
    message(db, account, "alert.care.overdue")  # meetings and care only: an alert is not
    message(db, account, "points")
    message(db, org.member2.account, "care.wish")  # no phone
    assert sent == [("13800000001", "密码已修改。")]


def test_a_rolled_back_message_sends_nothing(db, org, sent):
    provider(db, "tests.sms_provider:factory")
    org.member1.account.phone = "13800000001"
    db.session.commit()
    notify([org.member1.account.id], "never", kind="care.wish")
    db.session.rollback()
    assert sent == []


def test_the_log_provider_keeps_what_would_be_sent_for_admins(app, client, db, org):
    provider(db, "log")
    org.member1.account.phone = "13800000001"
    db.session.commit()
    message(db, org.member1.account, "meetings")
    [entry] = db.session.scalars(select(SmsLogEntry)).all()
    assert entry.phone == "13800000001" and entry.text
    login(client, "admin")
    assert "13800000001" in client.get("/sms-example/log").get_data(as_text=True)
    member = app.test_client()
    login(member, "member1")
    assert member.get("/sms-example/log").status_code == 403


def test_a_broken_provider_is_recorded_against_the_plugin(db, org):
    provider(db, "tests.sms_provider:nothing_here")
    org.member1.account.phone = "13800000001"
    db.session.commit()
    message(db, org.member1.account, "care.wish")  # the commit itself succeeds
    recorded = g.get("_plugin_failures", [])  # persisted against the plugin at the app context's teardown
    assert [name for name, _error in recorded] == ["sms_example"] and "nothing_here" in recorded[0][1]


def test_sms_example_get_matrix(app, db, org):
    assert check_matrix(app, org, {"sms_example.log": expect(403, anonymous=302, admin=200)},
                        blueprints={"sms_example"}) == 9
