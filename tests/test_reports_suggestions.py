"""The suggestion box: who sees what (GET matrix), targets, the states and the reply deadline, the public
digest, and that an anonymous suggestion leaves nothing naming its sender in any table."""
from __future__ import annotations

import hashlib
import json
from collections import namedtuple
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from portal import toolkit as tk
from portal.notify.models import Notification
from portal_reports import suggestions
from portal_reports.models import Suggestion
from tests.conftest import api_token, login
from tests.helpers.permission_matrix import check_matrix, expect, public

NOW = datetime(2026, 11, 30, 2, 0)  # 2026-11-30 10:00 in Shanghai
SEND = {"target": "home", "body": "Hold the meeting on a Sunday."}


def _send(member, **extra) -> tuple[Suggestion, str]:
    suggestion, token = suggestions.submit(member, {**SEND, **extra}, now=NOW)
    tk.db.session.commit()
    return suggestion, token


def test_permission_matrix(app, db, org):
    """Members write; answerers of the unit list and open; the named author opens their own; the unit's
    members read the digest; the reply page and the token answer need no login (the token is the proof)."""
    named, token = _send(org.member2)
    unit = {"unit": org.home.id}
    members = expect(200, anonymous=302, organizer=403, admin=403)
    answerers = expect(404, anonymous=302, member2=200, home_sec=200, organizer=200, admin=200)
    home_people = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "reports_suggestions.new": members,
        "reports_suggestions.reply_page": public(),
        "reports_suggestions.received": expect(404, anonymous=302, member1=403, member2=403, outsider=403,
                                               home_sec=200, organizer=200, admin=200),
        "reports_suggestions.digest": home_people,
        "reports_suggestions.show": answerers,
    }, blueprints={"reports_suggestions"}, url_values={
        "reports_suggestions.received": unit, "reports_suggestions.digest": unit,
        "reports_suggestions.show": {"suggestion_id": named.id},
        "reports_suggestions.reply_page": {"token": token},
    })
    api = lambda spec: {role: tuple(401 if s == 302 else s for s in got) for role, got in spec.items()}  # noqa: E731
    checked += check_matrix(app, org, {
        "reports_suggestions_api.list_suggestions": expect(404, anonymous=401, home_sec=200, organizer=200,
                                                           admin=200),
        "reports_suggestions_api.mine": api(members),
        "reports_suggestions_api.digest": api(home_people),
        "reports_suggestions_api.by_token": public(),
        "reports_suggestions_api.get_suggestion": api(answerers),
    }, blueprints={"reports_suggestions_api"}, url_values={
        "reports_suggestions_api.list_suggestions": unit, "reports_suggestions_api.digest": unit,
        "reports_suggestions_api.get_suggestion": {"suggestion_id": named.id},
        "reports_suggestions_api.by_token": {"token": token},
    })
    assert checked == 10 * 9


def test_targets(db, org):
    """home → the home branch, host → the host branch (refused without one), committee → above home."""
    assert _send(org.member1, target="host")[0].unit_id == org.host.id
    assert _send(org.member1, target="committee")[0].unit_id == org.home.parent_id
    assert _send(org.member2)[0].unit_id == org.home.id
    for data, field in (({**SEND, "target": "host"}, "target"), ({**SEND, "target": "moon"}, "target"),
                        ({**SEND, "body": "  "}, "body"), ({**SEND, "anonymous": "yes"}, "anonymous")):
        with pytest.raises(tk.Invalid) as refused:
            suggestions.submit(org.member2, data, now=NOW)
        assert field in refused.value.field_errors


def test_states_deadline_and_escalation_once(db, org):
    tk.set_setting("reports", "suggestion_reply_days", 10)
    suggestion, _token = _send(org.member2)
    assert (suggestion.status, suggestion.submitted_on, suggestion.reply_due) == \
        ("submitted", date(2026, 11, 30), date(2026, 12, 10))
    assert suggestions.scan(NOW + timedelta(days=10)) == []  # due that day: not yet late
    alerts = suggestions.scan(NOW + timedelta(days=11))
    assert [(a.kind, a.unit_id, a.permission) for a in alerts] == [("suggestion.overdue", org.home.id,
                                                                    "reports.suggestions")]
    assert suggestions.scan(NOW + timedelta(days=12)) == []  # told once
    suggestions.assign(suggestion, by=org.home_sec)
    with pytest.raises(tk.Conflict):
        suggestions.assign(suggestion, by=org.home_sec)
    with pytest.raises(tk.Conflict):
        suggestions.close(suggestion)
    suggestions.reply(suggestion, "Agreed.", by=org.home_sec, digest=True)
    with pytest.raises(tk.Conflict):
        suggestions.reply(suggestion, "Again.", by=org.home_sec)
    suggestions.close(suggestion)
    assert suggestion.status == "closed" and suggestion.in_digest


def test_replied_named_author_is_told_anonymous_reads_with_token(client, db, org):
    named, _token = _send(org.member2)
    anonymous, token = _send(org.member2, anonymous=True)
    before = db.session.scalar(select(func.count(Notification.id))
                               .where(Notification.account_id == org.member2.account_id))
    suggestions.reply(named, "Yes.", by=org.home_sec)
    suggestions.reply(anonymous, "Also yes.", by=org.home_sec)
    db.session.commit()
    after = db.session.scalar(select(func.count(Notification.id))
                              .where(Notification.account_id == org.member2.account_id))
    assert after == before + 1  # only the named one
    answer = client.get(f"/api/v1/suggestions/token/{token}").json
    assert (answer["id"], answer["reply"], answer["author"], answer["anonymous"]) == \
        (anonymous.id, "Also yes.", None, True)
    assert client.get("/api/v1/suggestions/token/not-a-token").status_code == 404
    page = client.get(f"/suggestions/reply?token={token}").get_data(as_text=True)
    assert "Also yes." in page and "Hold the meeting" in page


def test_unit_list_never_shows_an_anonymous_author(client, db, org):
    _send(org.member2)
    _send(org.member1, anonymous=True)
    rows = client.get(f"/api/v1/suggestions?unit={org.home.id}", headers=api_token(client, "home-secretary")).json
    by_kind = {row["anonymous"]: row for row in rows["suggestions"]}
    assert by_kind[False]["author"] == {"member_id": org.member2.id, "name": org.member2.name}
    assert by_kind[True]["author"] is None
    assert "member_id" not in json.dumps(by_kind[True]) and org.member1.name not in json.dumps(by_kind[True])
    login(client, "home-secretary")
    page = client.get(f"/suggestions/{by_kind[True]['id']}").get_data(as_text=True)
    assert org.member1.name not in page and "Anonymous" in page


def test_digest_lists_only_chosen_answers_without_authors(client, db, org):
    chosen, _t = _send(org.member2)
    other, _t = _send(org.member2, body="Another thing.")
    suggestions.reply(chosen, "We changed the day.", by=org.home_sec, digest=True)
    suggestions.reply(other, "Not now.", by=org.home_sec, digest=False)
    db.session.commit()
    rows = client.get(f"/api/v1/suggestions/digest?unit={org.home.id}", headers=api_token(client, "member1")).json
    assert [(r["id"], r["author"]) for r in rows["suggestions"]] == [(chosen.id, None)]
    login(client, "member1")
    page = client.get("/suggestions/digest").get_data(as_text=True)  # the member's home branch by default
    assert "We changed the day." in page and "Not now." not in page and org.member2.name not in page
    assert 'name="token"' in client.get("/suggestions/reply").get_data(as_text=True)  # asks for the code
    tk.set_setting("reports", "suggestion_digest", False)
    later, _t = _send(org.member2, body="Third.")
    suggestions.reply(later, "Off.", by=org.home_sec, digest=True)
    assert later.in_digest is False  # the setting turns the digest off


def _rows_by_table(db) -> dict[str, set[tuple]]:
    """Every row of every table, hashable (PostgreSQL hands JSON columns back as dicts: kept as their JSON text)."""
    found = {}
    for name in inspect(db.engine).get_table_names():
        result = db.session.execute(text(f'SELECT * FROM "{name}"'))
        row_type = namedtuple(f"Row_{name}", list(result.keys()), rename=True)
        found[name] = {row_type(*(json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else v
                                  for v in row)) for row in result}
    return found


@pytest.mark.parametrize("route", ["api", "web"])
def test_an_anonymous_suggestion_leaves_no_trace_of_its_sender(app, db, org, route):
    """Whatever a POST writes (audit, tokens, idempotency keys, notifications, activity), no new or changed row
    holds the sender's account id, member id, username or name; the Idempotency-Key and the form's one-time
    token are left unrecorded for this route (they would keep the account with the answer)."""
    member = org.member2
    client = app.test_client()
    login(client, member.account.username)
    client.get("/")  # the daily login is recorded now, not with the suggestion
    page = client.get("/suggestions/").get_data(as_text=True)
    assert 'name="submission_token"' in page  # the core's macro renders it; the route must not record it
    db.session.commit()
    before = _rows_by_table(db)
    if route == "api":
        response = client.post("/api/v1/suggestions", json={**SEND, "anonymous": True},
                               headers={"Idempotency-Key": "k-1"})
        assert response.status_code == 201
        token = response.json["reply_token"]
    else:
        token_field = page.split('name="submission_token" value="')[1].split('"')[0]
        response = client.post("/suggestions/", data={**SEND, "anonymous": "1", "submission_token": token_field})
        assert response.status_code == 302
        token = response.location.split("token=")[1]
    db.session.expire_all()
    after = _rows_by_table(db)
    new_rows = {name: rows - before.get(name, set()) for name, rows in after.items()}
    assert any(new_rows.values())
    suggestion = db.session.scalar(select(Suggestion).where(Suggestion.reply_token_hash ==
                                                            hashlib.sha256(token.encode()).hexdigest()))
    assert suggestion.author_member_id is None and token not in str(new_rows)
    personal = {str(member.account_id), str(member.id), member.account.username, member.name}
    for name, rows in new_rows.items():
        for row in rows:
            columns = row._fields
            for column, value in zip(columns, row, strict=True):
                if value is None or column == "id":
                    continue
                if column.endswith(("account_id", "member_id", "actor_id", "user_id")) or isinstance(value, str):
                    assert not any(p == str(value) or (isinstance(value, str) and len(p) > 3 and p in value)
                                   for p in personal), f"{name}.{column} names the sender: {value!r}"
