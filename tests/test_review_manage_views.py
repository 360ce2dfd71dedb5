"""The secretaries' review pages: who sees them (the GET matrix), the round page, a member's entry (evidence,
self-assessment, host opinion, tallies, the grade forms with the one-third meter, the plan for basically
qualified, the handling steps for unqualified), the results page, ``.xlsx`` and PDF (tallies only, never who
rated whom) and the host opinions a host branch's secretary owes (POST routes:
tests/test_post_matrix_review_manage.py)."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal_review import ratings, rounds
from portal_review.models import Handling, HostOpinion, ImprovementPlan, Rating, ReviewEntry, ReviewRound
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect

OVERSEERS = expect(404, anonymous=302, member1=403, member2=403, host_sec=403, home_sec=200, organizer=200,
                   admin=200)


def _today():
    return tk.local_today(tk.utcnow())


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _round(db, org, status: str = "study") -> ReviewRound:
    """This year's round of the home branch, moved straight to ``status`` (the moves are test_review_rounds')."""
    round_ = rounds.open_round(org.home, _today().year, actor=None)
    round_.status = status
    db.session.commit()
    return round_


def _entry(db, round_, member) -> ReviewEntry:
    return db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                       ReviewEntry.member_id == member.id))


def test_review_manage_get_matrix(app, db, org):
    round_ = _round(db, org)
    rid = round_.id
    entry_home = expect(404, anonymous=302, member2=403, home_sec=200, organizer=200, admin=200)
    entry_away = expect(404, anonymous=302, member1=403, host_sec=200, home_sec=200, organizer=200, admin=200)
    checked = check_matrix(app, org, {
        "review_manage.rounds": expect(404, anonymous=302, member1=403, member2=403, outsider=403, home_sec=200,
                                       organizer=200, admin=200),
        "review_manage.round_page": OVERSEERS,
        "review_manage.entry": entry_home,
        "review_manage.entry_year_pdf": entry_home,
        "review_manage.results_page": OVERSEERS,
        "review_manage.results_xlsx": OVERSEERS,
        "review_manage.results_pdf": OVERSEERS,
        "review_manage.owed": expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200,
                                     organizer=200, admin=200),
    }, blueprints={"review_manage"}, url_values={
        "review_manage.rounds": {"unit": org.home.id},
        "review_manage.round_page": {"round_id": rid},
        "review_manage.entry": {"round_id": rid, "member_id": org.member2.id},
        "review_manage.entry_year_pdf": {"round_id": rid, "member_id": org.member2.id},
        "review_manage.results_page": {"round_id": rid},
        "review_manage.results_xlsx": {"round_id": rid},
        "review_manage.results_pdf": {"round_id": rid},
    })
    assert checked == 8 * 9
    # A member away: the host branch's secretary reads the entry (evidence, self-assessment), the member does not.
    url = f"/review/manage/rounds/{rid}/members/{org.member1.id}"
    for role, username in (("host_sec", "host-secretary"), ("member1", "member1"), ("member2", "member2"),
                           ("foreign_sec", "foreign-secretary"), ("home_sec", "home-secretary")):
        assert _client(app, username).get(url).status_code in entry_away[role], role


def test_ids_past_the_database_range_are_not_found(app, db, org):
    _round(db, org)
    client = _client(app, "home-secretary")
    assert client.get("/review/manage/rounds/99999999999999999999").status_code == 404
    assert client.get(f"/review/manage/rounds/{2**63}/members/1").status_code == 404


def test_rounds_page_lists_the_year_and_opens_a_round(app, db, org):
    client = _client(app, "home-secretary")
    html = client.get(f"/review/manage/?unit={org.home.id}").get_data(as_text=True)
    assert 'id="open"' in html and "round-" not in html
    response = client.post(f"/review/manage/?unit={org.home.id}", data={"year": str(_today().year)})
    assert response.status_code == 302
    round_ = db.session.scalar(select(ReviewRound))
    assert response.headers["Location"].endswith(f"/review/manage/rounds/{round_.id}")
    html = client.get(f"/review/manage/?unit={org.home.id}").get_data(as_text=True)
    assert f'id="round-{round_.id}"' in html
    again = client.post(f"/review/manage/?unit={org.home.id}", data={"year": str(_today().year)})
    assert again.status_code == 409
    bad = client.post(f"/review/manage/?unit={org.home.id}", data={"year": "next"})
    assert bad.status_code == 422 and 'class="error"' in bad.get_data(as_text=True)
    assert db.session.query(ReviewRound).count() == 1


def test_round_page_shows_steps_entries_and_moves_forward(app, db, org):
    round_ = _round(db, org)
    client = _client(app, "home-secretary")
    html = client.get(f"/review/manage/rounds/{round_.id}").get_data(as_text=True)
    assert f'id="entry-{org.member1.id}"' in html and f'id="entry-{org.member2.id}"' in html
    assert 'id="one-third"' in html and "<svg" in html
    assert 'name="status" value="self"' in html
    assert client.post(f"/review/manage/rounds/{round_.id}/status", data={"status": "self"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewRound, round_.id).status == "self"
    skipped = client.post(f"/review/manage/rounds/{round_.id}/status", data={"status": "grading"})
    assert skipped.status_code == 303
    db.session.expire_all()
    assert db.session.get(ReviewRound, round_.id).status == "self"


def test_round_page_is_paged_with_the_whole_rounds_meter_and_each_members_whole_tally(app, db, org, factory, monkeypatch):
    """A county branch's round holds a thousand entries: one page of rows; the meter counts the whole round."""
    _four_more(factory, org)
    round_ = _round(db, org, "grading")
    entries = rounds.entries(round_)  # 7, by name
    for entry in entries:
        entry.grade = "excellent"
    for key in ("rater-a", "rater-b"):  # the last entry's tally: two ratings (its row is on the second page)
        db.session.add(Rating(round_id=round_.id, rater_key=key, ratee_member_id=entries[-1].member_id,
                              rating="qualified", comment="", rated_on=_today()))
    db.session.commit()
    monkeypatch.setitem(app.config, "PER_PAGE", 4)  # the app outlives the test
    client = _client(app, "home-secretary")
    pages = [client.get(f"/review/manage/rounds/{round_.id}?page={n}").get_data(as_text=True) for n in (1, 2)]
    shown = [re.findall(r'<tr id="entry-(\d+)"', page) for page in pages]
    assert shown == [[str(e.member_id) for e in entries[:4]], [str(e.member_id) for e in entries[4:]]]
    for page in pages:
        assert "Excellent: 7 of 7 full members" in page
    last = re.search(rf'<tr id="entry-{entries[-1].member_id}">(.*?)</tr>', pages[1], re.S).group(1)
    assert "0 / 2 / 0 / 0" in last


def test_dates_are_saved_and_a_window_backwards_is_refused(app, db, org):
    round_ = _round(db, org)
    client = _client(app, "home-secretary")
    start = _today() + timedelta(days=1)
    response = client.post(f"/review/manage/rounds/{round_.id}/dates",
                           data={"self_from": start.isoformat(), "self_until": (start + timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewRound, round_.id).self_until == start + timedelta(days=7)
    bad = client.post(f"/review/manage/rounds/{round_.id}/dates",
                      data={"self_from": start.isoformat(), "self_until": (start - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422
    typo = client.post(f"/review/manage/rounds/{round_.id}/dates", data={"grading_on": "soon"})
    assert typo.status_code == 422 and "YYYY-MM-DD" in typo.get_data(as_text=True)


def test_entry_page_shows_evidence_self_assessment_tallies_and_audits_the_read(app, db, org):
    round_ = _round(db, org, "mutual")
    entry = _entry(db, round_, org.member2)
    entry.self_text, entry.self_submitted_at = "I led the harvest volunteers.", tk.utcnow()
    db.session.commit()
    ratings.rate(round_, org.member1, org.member2.id, "excellent", "Always helps.", today=_today())
    db.session.commit()
    html = _client(app, "home-secretary").get(
        f"/review/manage/rounds/{round_.id}/members/{org.member2.id}").get_data(as_text=True)
    assert 'id="evidence"' in html and "I led the harvest volunteers." in html
    tallies = html.split('id="tallies"')[1].split("</section>")[0]
    assert "Always helps." in tallies and "1" in tallies
    assert "张伟" not in tallies  # the rater is never named
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review.read")).all()
    assert [(a.target_type, str(a.target_id)) for a in reads] == [("review_entry", str(entry.id))]


def test_host_secretary_sees_evidence_and_self_assessment_not_tallies(app, db, org):
    round_ = _round(db, org, "mutual")
    entry = _entry(db, round_, org.member1)
    entry.self_text, entry.self_submitted_at = "Worked in Shenzhen all year.", tk.utcnow()
    db.session.commit()
    ratings.rate(round_, org.member2, org.member1.id, "basic", "Rarely seen.", today=_today())
    db.session.commit()
    html = _client(app, "host-secretary").get(
        f"/review/manage/rounds/{round_.id}/members/{org.member1.id}").get_data(as_text=True)
    assert "Worked in Shenzhen all year." in html and 'id="evidence"' in html
    assert 'id="tallies"' not in html and "Rarely seen." not in html and 'id="grading"' not in html
    opinion = db.session.scalar(select(HostOpinion))
    assert f"/review/manage/host-opinions/{opinion.id}" in html  # the host's form is there too


def test_host_opinions_owed_and_sent(app, db, org):
    round_ = _round(db, org, "self")
    opinion = db.session.scalar(select(HostOpinion))
    client = _client(app, "host-secretary")
    html = client.get("/review/manage/host-opinions").get_data(as_text=True)
    assert f'id="opinion-{opinion.id}"' in html and "张伟" in html
    assert "李芳" not in html  # member2 lives at home: nothing owed
    empty = client.post(f"/review/manage/host-opinions/{opinion.id}",
                        data={f"o{opinion.id}-opinion": "", f"o{opinion.id}-proposed_grade": "qualified"})
    assert empty.status_code == 422 and f'id="o{opinion.id}-opinion-err"' in empty.get_data(as_text=True)
    response = client.post(f"/review/manage/host-opinions/{opinion.id}",
                           data={f"o{opinion.id}-opinion": "Active in the mobile branch.",
                                 f"o{opinion.id}-proposed_grade": "excellent"})
    assert response.status_code == 302
    db.session.expire_all()
    sent = db.session.get(HostOpinion, opinion.id)
    assert (sent.opinion, sent.proposed_grade, sent.submitted_at is not None) == (
        "Active in the mobile branch.", "excellent", True)
    home = _client(app, "home-secretary").get(
        f"/review/manage/rounds/{round_.id}/members/{org.member1.id}").get_data(as_text=True)
    assert "Active in the mobile branch." in home.split('id="host-opinion"')[1].split("</section>")[0]
    assert _client(app, "home-secretary").get("/review/manage/host-opinions").get_data(as_text=True).count(
        'id="opinion-') == 0


def _four_more(factory, org) -> list:
    return [factory.member(org.home, f"extra{i}", name=f"成员{i}") for i in range(4)]


def test_decision_over_one_third_asks_for_the_reason(app, db, org, factory):
    extras = _four_more(factory, org)
    round_ = _round(db, org, "grading")
    client = _client(app, "home-secretary")
    base = f"/review/manage/rounds/{round_.id}/members"
    html = client.get(f"{base}/{extras[0].id}").get_data(as_text=True)
    assert 'id="one-third"' in html and "<svg" in html and 'id="excellent-reason"' not in html
    for member in extras[:3]:
        response = client.post(f"{base}/{member.id}/decide", data={"decide-grade": "excellent", "decide-on": _today().isoformat()})
        assert response.status_code == 302
    # 3 excellent of 7 full members (home_sec, member1, member2 and four more): 3 × 3 > 7.
    assert response.headers["Location"].endswith("#excellent-reason")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="excellent-reason"' in html and "class=\"tag warning\"" in html
    saved = client.post(f"/review/manage/rounds/{round_.id}/excellent-reason",
                        data={"reason": "The harvest rescue."})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewRound, round_.id).excellent_reason == "The harvest rescue."


def test_away_member_needs_the_host_opinion_or_a_reason(app, db, org):
    round_ = _round(db, org, "grading")
    client = _client(app, "home-secretary")
    url = f"/review/manage/rounds/{round_.id}/members/{org.member1.id}/decide"
    refused = client.post(url, data={"decide-grade": "qualified", "decide-on": _today().isoformat()})
    assert refused.status_code == 409 and 'id="decide-reason-err"' in refused.get_data(as_text=True)
    assert _entry(db, round_, org.member1).grade is None
    done = client.post(url, data={"decide-grade": "qualified", "decide-on": _today().isoformat(),
                                  "decide-reason": "The host branch did not answer in time."})
    assert done.status_code == 302
    db.session.expire_all()
    assert _entry(db, round_, org.member1).grade == "qualified"


def test_basic_asks_for_the_plan_with_follow_ups(app, db, org):
    round_ = _round(db, org, "grading")
    client = _client(app, "home-secretary")
    base = f"/review/manage/rounds/{round_.id}/members/{org.member2.id}"
    assert 'id="improvement-plan"' not in client.get(base).get_data(as_text=True)
    client.post(f"{base}/decide", data={"decide-grade": "basic", "decide-on": _today().isoformat()})
    html = client.get(base).get_data(as_text=True)
    assert 'id="improvement-plan"' in html and html.count('name="due_on"') >= 3
    first, second = _today() + timedelta(days=90), _today() + timedelta(days=30)
    response = client.post(f"{base}/plan", data={"plan": "Attend every meeting.",
                                                 "due_on": [first.isoformat(), second.isoformat(), ""],
                                                 "done_on": ["", "", ""], "follow_notes": ["", "call", ""]})
    assert response.status_code == 302
    plan = db.session.scalar(select(ImprovementPlan))
    assert plan.plan == "Attend every meeting."
    assert [step["due_on"] for step in plan.follow_ups] == [second.isoformat(), first.isoformat()]
    none = client.post(f"{base}/plan", data={"plan": "Again.", "due_on": ["", "", ""]})
    assert none.status_code == 422


def test_unqualified_records_handling_steps(app, db, org):
    round_ = _round(db, org, "grading")
    client = _client(app, "home-secretary")
    base = f"/review/manage/rounds/{round_.id}/members/{org.member2.id}"
    client.post(f"{base}/decide", data={"decide-grade": "unqualified", "decide-on": _today().isoformat()})
    html = client.get(base).get_data(as_text=True)
    assert 'id="handling"' in html and 'name="kind"' in html
    no_until = client.post(f"{base}/handling", data={"kind": "correction", "decided_on": _today().isoformat()})
    assert no_until.status_code == 422 and 'id="until-err"' in no_until.get_data(as_text=True)
    until = _today() + timedelta(days=180)
    response = client.post(f"{base}/handling", data={"kind": "correction", "decided_on": _today().isoformat(),
                                                     "until": until.isoformat(), "notes": "Six months."})
    assert response.status_code == 302
    step = db.session.scalar(select(Handling))
    assert (step.kind, step.until) == ("correction", until)
    db.session.expire_all()
    assert db.session.get(tk.Member, org.member2.id).stage == "full"  # recorded only


def test_results_page_xlsx_and_pdf_show_tallies_never_raters(app, db, org):
    round_ = _round(db, org, "mutual")
    ratings.rate(round_, org.member1, org.member2.id, "excellent", "", today=_today())
    ratings.rate(round_, org.home_sec.member, org.member2.id, "qualified", "", today=_today())
    db.session.commit()
    keys = list(db.session.scalars(select(Rating.rater_key)))
    client = _client(app, "home-secretary")
    html = client.get(f"/review/manage/rounds/{round_.id}/results").get_data(as_text=True)
    assert 'id="counts"' in html and "<svg" in html
    book = load_workbook(io.BytesIO(client.get(f"/review/manage/rounds/{round_.id}/results.xlsx").data))
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    assert not any("rater" in str(cell).lower() for cell in header)
    by_name = {row[0]: row for row in body}
    assert by_name["李芳"].count(1) >= 2  # one excellent, one qualified: counts only
    pdf = client.get(f"/review/manage/rounds/{round_.id}/results.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for output in (html, str(rows), pdf.data.decode("latin-1")):
        assert not any(key in output for key in keys)


def test_the_year_record_is_attached_to_the_entry_for_its_readers_and_audited(app, db, org):
    """The host secretary downloads the year record (年度纪实) of a member they host; the read is audited."""
    round_ = _round(db, org)
    url = f"/review/manage/rounds/{round_.id}/members/{org.member1.id}/year.pdf"
    entry_page = _client(app, "home-secretary").get(f"/review/manage/rounds/{round_.id}/members/{org.member1.id}")
    assert url in entry_page.get_data(as_text=True)
    response = _client(app, "host-secretary").get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review.read",
                                                        AuditEntry.actor_account_id == org.host_sec.id)).all()
    assert len(reads) == 1
    assert _client(app, "foreign-secretary").get(url).status_code == 404
