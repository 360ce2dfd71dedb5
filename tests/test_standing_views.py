"""The standing pages: who sees what (GET matrix), the unit page sorted by step with the OR rule and why,
the member's own page with what resets each count, the forms for leave, work and talks, and a case's
decision, approval and closing (write matrix: tests/test_post_matrix_standing.py)."""
from __future__ import annotations

import re
from datetime import timedelta

from portal import toolkit as tk
from portal_standing.models import Case, Leave, Talk, WorkDone
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect


def _today():
    return tk.local_today(tk.utcnow())


def _history(db, member, *, joined_days: int = 400, meetings_every: int | None = 30, dues_every: int | None = 30,
             work_every: int | None = 30):
    """A member who joined ``joined_days`` ago and acted every ``…_every`` days up to yesterday (None: never)."""
    member.joined_on = _today() - timedelta(days=joined_days)
    for verb, every in (("meeting.attended", meetings_every), ("dues.paid", dues_every), ("work.done", work_every)):
        if every is None:
            continue
        for days_ago in range(1, joined_days, every):
            tk.record_activity(member, verb, "test", f"{verb}-{days_ago}",
                               at=tk.utcnow() - timedelta(days=days_ago))
    db.session.commit()


def _case(db, org, member=None, state="open") -> Case:
    member = member or org.member2
    case = Case(member_id=member.id, unit_id=member.home_unit_id, since=_today() - timedelta(days=200),
                reasons={"dues": 6}, state=state)
    if state == "decided":
        case.decision, case.decided_on = "Persuade him to pay within a month.", _today()
    db.session.add(case)
    db.session.commit()
    return case


def test_get_permission_matrix(app, db, org):
    case = _case(db, org)
    # managers anywhere see their first unit; members hold the permission nowhere (403)
    managers_anywhere = expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200,
                               admin=200)
    # the home branch's members and cases: its secretary and those above; other secretaries and members 404
    home = expect(404, anonymous=302, home_sec=200, organizer=200, admin=200)
    home_unit = expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200, organizer=200,
                       admin=200)
    # my standing: every account with a member record (the organizer and admin have none: 403)
    members = expect(200, anonymous=302, organizer=403, admin=403)
    checked = check_matrix(app, org, {
        "standing.unit": home_unit,
        "standing.member": home,
        "standing.case": home,
        "standing.me": members,
    }, blueprints={"standing"}, url_values={
        "standing.unit": {"unit": org.home.id}, "standing.member": {"member_id": org.member2.id},
        "standing.case": {"case_id": case.id},
    })
    assert checked == 4 * 9
    check_matrix(app, org, {"standing.unit": managers_anywhere, "standing.member": home, "standing.case": home,
                            "standing.me": members}, blueprints={"standing"}, url_values={
        "standing.member": {"member_id": org.member2.id}, "standing.case": {"case_id": case.id}})


def _order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="member-(\d+)"', html)]


def test_unit_page_lists_the_or_rule_and_sorts(app, db, org, client):
    # member2 went to a meeting every month and did assigned work, but paid no dues for 7 months: a case
    _history(db, org.member2, joined_days=210, dues_every=None)
    # member1 keeps everything up
    _history(db, org.member1, joined_days=210)
    login(client, "home-secretary")
    html = client.get(f"/standing/?unit={org.home.id}").get_data(as_text=True)
    row = html[html.index(f'id="member-{org.member2.id}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-step="case"' in row
    assert 'data-dimension="dues" data-months="6"' in row or 'data-dimension="dues" data-months="7"' in row
    assert 'data-dimension="branch_life" data-months="0"' in row
    assert "months without Dues" in row
    good = html[html.index(f'id="member-{org.member1.id}"'):]
    assert 'data-step="none"' in good[:good.index("</tr>")]
    # by step (the default): the case first; by name: 张伟 (member1) before 李芳 (member2) by code point
    assert _order(html).index(org.member2.id) < _order(html).index(org.member1.id)
    by_name = _order(client.get(f"/standing/?unit={org.home.id}&sort=name").get_data(as_text=True))
    assert by_name == sorted(by_name, key=lambda mid: db.session.get(tk.Member, mid).name)
    by_dues = _order(client.get(f"/standing/?unit={org.home.id}&sort=dues").get_data(as_text=True))
    assert by_dues[0] == org.member2.id
    # an unknown sort falls back to the step
    assert client.get(f"/standing/?unit={org.home.id}&sort=bogus").status_code == 200


def test_unit_page_covers_the_subtree(app, db, org, client):
    _history(db, org.outsider, joined_days=100, meetings_every=None)
    above = app.test_client()
    login(above, "organizer")
    html = above.get(f"/standing/?unit={org.township.id}").get_data(as_text=True)
    assert f'id="member-{org.outsider.id}"' in html and f'id="member-{org.member2.id}"' in html
    assert org.foreign.name in html  # a member of a unit below is shown with their unit
    login(client, "home-secretary")
    assert f'id="member-{org.outsider.id}"' not in client.get(f"/standing/?unit={org.home.id}").get_data(as_text=True)


def test_me_shows_my_months_and_what_resets_them(app, db, org, client):
    _history(db, org.member2, joined_days=100, meetings_every=None)
    login(client, "member2")
    html = client.get("/standing/me").get_data(as_text=True)
    assert 'data-step="notice"' in html or 'data-step="talk"' in html
    assert 'data-dimension="branch_life" data-months="3"' in html
    for dim in ("branch_life", "dues", "work"):
        assert f'data-reset="{dim}"' in html
    assert "Take part in a meeting" in html


def test_me_for_an_applicant_says_the_rule_does_not_apply(app, db, org, client):
    org.member2.stage = "applicant"
    db.session.commit()
    login(client, "member2")
    html = client.get("/standing/me").get_data(as_text=True)
    assert "applies to full and probationary members" in html and "data-step" not in html


def test_recording_leave_pauses_the_count(app, db, org, client):
    _history(db, org.member2, joined_days=100, meetings_every=None)
    login(client, "home-secretary")
    start = (_today() - timedelta(days=100)).isoformat()
    response = client.post(f"/standing/members/{org.member2.id}/leave",
                           data={"starts_on": start, "ends_on": "", "reason": "In hospital"})
    assert response.status_code == 302
    leave = db.session.query(Leave).filter_by(member_id=org.member2.id).one()
    assert leave.reason == "In hospital" and leave.approved_by_account_id == org.home_sec.id
    html = client.get(f"/standing/members/{org.member2.id}").get_data(as_text=True)
    assert 'data-dimension="branch_life" data-months="0"' in html and "In hospital" in html


def test_recording_work_counts_as_assigned_work(app, db, org, client):
    _history(db, org.member2, joined_days=100, work_every=None)
    login(client, "home-secretary")
    assert 'data-dimension="work" data-months="3"' in client.get(
        f"/standing/members/{org.member2.id}").get_data(as_text=True)
    response = client.post(f"/standing/members/{org.member2.id}/work",
                           data={"done_on": _today().isoformat(), "description": "Helped with the harvest"})
    assert response.status_code == 302
    assert db.session.query(WorkDone).filter_by(member_id=org.member2.id).count() == 1
    assert 'data-dimension="work" data-months="0"' in client.get(
        f"/standing/members/{org.member2.id}").get_data(as_text=True)


def test_a_refused_talk_comes_back_with_its_errors(app, db, org, client):
    login(client, "home-secretary")
    response = client.post(f"/standing/members/{org.member2.id}/talk", data={"held_on": "yesterday", "notes": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a date as YYYY-MM-DD." in html and "This field is required." in html
    assert db.session.query(Talk).count() == 0
    response = client.post(f"/standing/members/{org.member2.id}/talk",
                           data={"held_on": _today().isoformat(), "notes": "He will come to the next meeting."})
    assert response.status_code == 302
    assert db.session.query(Talk).one().by_account_id == org.home_sec.id


def test_a_secretary_records_nothing_on_their_own_record(app, db, org, client):
    own = org.home_sec.member
    login(client, "home-secretary")
    html = client.get(f"/standing/members/{own.id}").get_data(as_text=True)
    assert "This is your own record" in html and 'action="/standing/members/' not in html
    response = client.post(f"/standing/members/{own.id}/talk",
                           data={"held_on": _today().isoformat(), "notes": "I talked to myself."})
    assert response.status_code == 403
    assert db.session.query(Talk).count() == 0


def test_a_case_is_decided_at_home_and_approved_above(app, db, org, client):
    case = _case(db, org)
    login(client, "home-secretary")
    html = client.get(f"/standing/cases/{case.id}").get_data(as_text=True)
    assert 'id="decision"' in html and 'id="approval"' not in html
    response = client.post(f"/standing/cases/{case.id}/decision",
                           data={"decision": "Persuade him to pay.", "decided_on": _today().isoformat()})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == "decided" and case.decided_by_account_id == org.home_sec.id
    # the home branch cannot approve its own decision: approval belongs to the committee above
    assert client.post(f"/standing/cases/{case.id}/approval", data={"approval": "Approved."}).status_code == 404
    above = app.test_client()
    login(above, "organizer")
    assert 'id="approval"' in above.get(f"/standing/cases/{case.id}").get_data(as_text=True)
    assert above.post(f"/standing/cases/{case.id}/approval", data={"approval": "Approved."}).status_code == 302
    db.session.refresh(case)
    assert case.state == "approved" and case.approved_by_account_id == org.organizer.id


def test_a_case_resolved_by_activity_shows_so_and_is_closed_with_a_reason(app, db, org, client):
    _history(db, org.member2, joined_days=100)  # everything kept up: the gap of the case has ended
    case = _case(db, org)
    login(client, "home-secretary")
    assert "Resolved by activity" in client.get(f"/standing/?unit={org.home.id}").get_data(as_text=True)
    assert "Resolved by activity" in client.get(f"/standing/cases/{case.id}").get_data(as_text=True)
    assert client.post(f"/standing/cases/{case.id}/close", data={"reason": ""}).status_code == 422
    response = client.post(f"/standing/cases/{case.id}/close", data={"reason": "He paid and came back."})
    assert response.status_code == 302, re.findall(r'class="(?:error|flash[^"]*)"[^>]*>([^<]*)', response.get_data(as_text=True))
    db.session.refresh(case)
    assert case.state == "closed" and case.closed_reason == "He paid and came back."
    assert f'id="case-{case.id}"' not in client.get(f"/standing/?unit={org.home.id}").get_data(as_text=True)


def test_zh_cn_pages_render(app, db, org, client):
    _case(db, org)
    login(client, "home-secretary")
    client.post("/locale", data={"locale": "zh_CN"})
    assert client.get(f"/standing/?unit={org.home.id}").status_code == 200
    assert client.get("/standing/me").status_code == 200
