"""xAPI statements built from the activity stream (portal/xapi/statements.py)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest

from portal.activity.services import record_activity
from portal.plugins.models import Setting
from portal.xapi.statements import actor_for, statement_id, statements_for

BASE = "https://portal.example.cn"


@pytest.fixture
def public(app, monkeypatch):
    """A configured public address (statements are built outside a request too)."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", BASE)


def test_daily_login_statement_shape(db, org, public):
    activity, _ = record_activity(org.member1, "member.daily_login", "login", "2026-11-30",
                                  at=datetime(2026, 11, 30, 1, 2, 3))
    db.session.commit()
    [statement] = statements_for([activity])
    assert statement["version"] == "1.0.3"
    assert statement["id"] == statement_id(activity)
    assert statement["actor"]["objectType"] == "Agent"
    assert statement["actor"]["account"]["homePage"] == BASE
    assert statement["verb"]["id"] == "https://w3id.org/xapi/adl/verbs/logged-in"
    assert set(statement["verb"]["display"]) == {"zh-CN", "en-US"}
    assert statement["object"]["objectType"] == "Activity"
    assert statement["object"]["id"] == BASE + "/"
    assert statement["object"]["definition"]["type"] == "http://activitystrea.ms/schema/1.0/application"
    assert set(statement["object"]["definition"]["name"]) == {"zh-CN", "en-US"}
    assert statement["timestamp"] == "2026-11-30T09:02:03+08:00"
    context = statement["context"]
    assert context["language"] == "zh-CN" and context["platform"]
    home = context["extensions"][BASE + "/xapi/extensions/home-branch"]
    host = context["extensions"][BASE + "/xapi/extensions/host-branch"]
    assert home == {"id": f"{BASE}/units/{org.home.id}", "name": org.home.name}
    assert host == {"id": f"{BASE}/units/{org.host.id}", "name": org.host.name}
    assert "result" not in statement


def test_member_at_home_has_no_host_extension(db, org, public):
    activity, _ = record_activity(org.member2, "member.daily_login", "login", "2026-11-30")
    [statement] = statements_for([activity])
    assert list(statement["context"]["extensions"]) == [BASE + "/xapi/extensions/home-branch"]


def test_unmapped_verb_uses_portal_iris_and_the_stream_label(db, org, public):
    activity, _ = record_activity(org.member1, "thing.poked", "thing", 42)
    [statement] = statements_for([activity])
    assert statement["verb"]["id"] == BASE + "/xapi/verbs/thing.poked"
    assert statement["verb"]["display"] == {"zh-CN": "thing.poked", "en-US": "thing.poked"}
    assert statement["object"]["id"] == BASE + "/xapi/objects/thing/42"
    assert statement["object"]["definition"]["name"]["en-US"] == "thing 42"


def test_unmapped_verb_display_comes_from_the_activity_verb_label(db, org, public, register):
    from portal.plugins import hookimpl
    from portal.plugins.types import ActivityVerb

    class Poking:
        @hookimpl
        def portal_activity_verbs(self):
            return [ActivityVerb("thing.poked", "Poked a thing")]

    register(Poking(), "poking")
    activity, _ = record_activity(org.member1, "thing.poked", "thing", 42)
    [statement] = statements_for([activity])
    assert statement["verb"]["display"] == {"zh-CN": "Poked a thing", "en-US": "Poked a thing"}


def test_statement_id_is_stable_and_follows_the_idempotency_key(db, org, public):
    first, created = record_activity(org.member1, "thing.poked", "thing", 1, key="poke-1")
    again, created_again = record_activity(org.member1, "thing.poked", "thing", 1, key="poke-1")
    other, _ = record_activity(org.member1, "thing.poked", "thing", 1, key="poke-2")
    assert created and not created_again
    assert statement_id(first) == statement_id(again) == statements_for([first])[0]["id"]
    assert statement_id(first) != statement_id(other)
    assert uuid.UUID(statement_id(first)).version == 5


def test_actor_is_opaque_and_stable(db, org, public):
    actor = actor_for(org.member1.id)
    db.session.commit()
    assert actor == actor_for(org.member1.id)
    assert actor != actor_for(org.member2.id)
    activity, _ = record_activity(org.member1, "member.daily_login", "login", "x")
    text = json.dumps(statements_for([activity]), ensure_ascii=False)
    member = org.member1
    for secret in (member.phone, member.id_number, member.account.username, member.name):
        if secret:
            assert secret not in text
    assert str(member.id) != actor["account"]["name"]


def test_actor_namespace_is_generated_once(db, org, public):
    actor_for(org.member1.id)
    db.session.commit()
    rows = db.session.query(Setting).filter_by(namespace="xapi", key="actor_namespace").all()
    assert len(rows) == 1
    uuid.UUID(rows[0].value)


def test_a_second_worker_keeps_the_first_namespace(db, org, public):
    """Two first uses: the later insert loses on the primary key and reads the stored value."""
    from flask import g

    from portal.xapi.statements import _store_once

    first = actor_for(org.member1.id)
    db.session.commit()
    _store_once("xapi", "actor_namespace", str(uuid.uuid4()))  # what a racing worker would try
    g.pop("_settings", None)
    assert actor_for(org.member1.id) == first
