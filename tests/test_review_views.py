"""The member's review pages (/review): who sees them (GET matrix), my round with its steps and evidence, the
grade only once reported, the self-assessment (draft autosave, submit, refused text kept), the rating page
("rated n of m", one form per other member, replacing), the year PDF (write matrix:
tests/test_post_matrix_review.py)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, text

from portal import toolkit as tk
from portal_review import rounds
from portal_review.models import ROUND_STEPS, Rating, ReviewEntry, ReviewRound
from tests.conftest import login
from tests.helpers.permission_matrix import check_matrix, expect


def _today():
    return tk.local_today(tk.utcnow())


def open_home_round(org, *, status: str = "study", year: int | None = None) -> ReviewRound:
    """The home branch's round of this year (member1 away, member2, home-secretary), moved to ``status``."""
    round_ = rounds.open_round(org.home, year or _today().year, actor=org.home_sec)
    for step in ("self", "mutual", "grading", "reported", "closed")[:ROUND_STEPS.index(status)]:
        round_.status = step  # the order of steps and their checks are tests/test_review_rounds.py's
    if status in ("grading", "reported", "closed"):
        round_.ballot_secret = None
    tk.db.session.commit()
    return round_


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _entry(round_, member) -> ReviewEntry:
    return tk.db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                          ReviewEntry.member_id == member.id))


def test_get_matrix(app, db, org):
    round_ = open_home_round(org, status="mutual")
    members = expect(200, anonymous=302, organizer=403, admin=403)
    in_round = expect(404, anonymous=302, member1=200, member2=200, home_sec=200, organizer=403, admin=403)
    checked = check_matrix(app, org, {
        "review.mine": members, "review.year_pdf": members,
        "review.self_assessment": in_round, "review.rate_page": in_round,
    }, blueprints={"review"}, url_values={
        "review.year_pdf": {"year": round_.year},
        "review.self_assessment": {"round_id": round_.id}, "review.rate_page": {"round_id": round_.id},
    })
    assert checked == 4 * 9


def test_mine_without_a_round_says_so(app, db, org):
    html = _client(app, "member2").get("/review/").get_data(as_text=True)
    assert 'id="round"' not in html and 'id="evidence"' in html


def test_mine_shows_steps_and_hides_the_grade_until_reported(app, db, org):
    round_ = open_home_round(org, status="grading")
    entry = _entry(round_, org.member2)
    entry.grade, entry.feedback = "excellent", "Keep teaching the evening class."
    db.session.commit()
    html = _client(app, "member2").get("/review/").get_data(as_text=True)
    assert 'id="step-grading" class="current" aria-current="step"' in html
    grade = html.split('id="grade"')[1].split("</section>")[0]
    assert "Excellent" not in grade and "evening class" not in grade
    round_.status = "reported"
    db.session.commit()
    grade = _client(app, "member2").get("/review/").get_data(as_text=True).split('id="grade"')[1].split("</section>")[0]
    assert "Excellent" in grade and "evening class" in grade


def test_mine_links_to_rating_only_while_mutual_and_counts(app, db, org):
    round_ = open_home_round(org, status="self")
    client = _client(app, "member2")
    assert 'id="mutual"' not in client.get("/review/").get_data(as_text=True)
    round_.status = "mutual"
    db.session.commit()
    html = client.get("/review/").get_data(as_text=True)
    assert "Rated 0 of 2" in html and f"/review/{round_.id}/rate" in html


def test_self_draft_autosave_then_submit(app, db, org):
    round_ = open_home_round(org, status="self")
    client = _client(app, "member2")
    page = client.get(f"/review/{round_.id}/self").get_data(as_text=True)
    assert 'id="self-form"' in page and f'data-storage-key="review-self:{org.member2.id}:{round_.id}"' in page
    assert "autosave.js" in page
    response = client.post(f"/review/{round_.id}/self/draft", json={"text": "I led the harvest volunteers."})
    assert response.status_code == 200 and response.json["saved_at"]
    entry = _entry(round_, org.member2)
    assert entry.self_text == "I led the harvest volunteers." and entry.self_submitted_at is None
    page = client.get(f"/review/{round_.id}/self").get_data(as_text=True)
    assert "I led the harvest volunteers." in page and "data-server-saved=\"0\"" not in page
    assert client.post(f"/review/{round_.id}/self/draft", json={"body": "x"}).status_code == 422
    response = client.post(f"/review/{round_.id}/self", data={"text": "I led the harvest volunteers. Final."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")
    db.session.refresh(entry)
    assert entry.self_submitted_at is not None and entry.self_text.endswith("Final.")
    # submitted: the page no longer sends server drafts (a draft would be refused), it can be submitted again
    page = client.get(f"/review/{round_.id}/self").get_data(as_text=True)
    assert "data-draft-url" not in page and 'id="self-form"' in page


def test_self_refused_keeps_the_text_and_closed_step_locks(app, db, org):
    round_ = open_home_round(org, status="self")
    client = _client(app, "member2")
    response = client.post(f"/review/{round_.id}/self", data={"text": "   "})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    too_long = "长" * 5001
    response = client.post(f"/review/{round_.id}/self", data={"text": too_long})
    assert response.status_code == 422 and too_long in response.get_data(as_text=True)
    round_.status = "mutual"
    db.session.commit()
    page = client.get(f"/review/{round_.id}/self").get_data(as_text=True)
    assert 'id="self-form"' not in page and 'id="self-text"' in page
    assert client.post(f"/review/{round_.id}/self", data={"text": "Late."}).status_code == 409
    assert _entry(round_, org.member2).self_submitted_at is None
    assert client.post(f"/review/{round_.id}/self/draft", json={"text": "Late."}).status_code == 409


def test_rate_page_lists_the_others_and_counts(app, db, org):
    round_ = open_home_round(org, status="mutual")
    client = _client(app, "member2")
    page = client.get(f"/review/{round_.id}/rate").get_data(as_text=True)
    assert "Rated 0 of 2" in page
    assert f'id="member-{org.member1.id}"' in page and f'id="member-{org.home_sec.member.id}"' in page
    assert f'id="member-{org.member2.id}"' not in page  # never oneself
    response = client.post(f"/review/{round_.id}/rate/{org.member1.id}", data={"rating": "qualified",
                                                                                "comment": "Always on time."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#member-{org.member1.id}")
    page = client.get(f"/review/{round_.id}/rate").get_data(as_text=True)
    form = page.split(f'id="member-{org.member1.id}"')[1].split("</li>")[0]
    assert "Rated 1 of 2" in page and 'value="qualified" required checked' in form and "Always on time." in form
    client.post(f"/review/{round_.id}/rate/{org.member1.id}", data={"rating": "excellent", "comment": ""})
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == round_.id)) == 1
    assert "Rated 1 of 2" in client.get(f"/review/{round_.id}/rate").get_data(as_text=True)


def test_rating_refused_changes_nothing(app, db, org):
    round_ = open_home_round(org, status="mutual")
    client = _client(app, "member2")
    client.post(f"/review/{round_.id}/rate/{org.member1.id}", data={"rating": "outstanding"})
    client.post(f"/review/{round_.id}/rate/{org.member2.id}", data={"rating": "excellent"})  # oneself
    client.post(f"/review/{round_.id}/rate/{org.outsider.id}", data={"rating": "excellent"})  # not in the round
    assert db.session.scalar(select(func.count(Rating.id))) == 0
    round_.mutual_until = _today() - timedelta(days=1)
    db.session.commit()
    client.post(f"/review/{round_.id}/rate/{org.member1.id}", data={"rating": "excellent"})
    assert db.session.scalar(select(func.count(Rating.id))) == 0


def test_rate_page_closed_outside_mutual(app, db, org):
    round_ = open_home_round(org, status="self")
    page = _client(app, "member2").get(f"/review/{round_.id}/rate").get_data(as_text=True)
    assert "Mutual assessment is not open now." in page and 'name="rating"' not in page


def test_year_pdf(app, db, org):
    open_home_round(org, status="self")
    client = _client(app, "member2")
    response = client.get(f"/review/year/{_today().year}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/review/year/{_today().year + 1}.pdf").status_code == 404
    assert client.get("/review/year/1999.pdf").status_code == 404


def test_pages_fit_a_phone(app, db, org):
    """Phone-first: the pages use the plugin's stylesheet, whose boxes take the width and wrap."""
    round_ = open_home_round(org, status="mutual")
    client = _client(app, "member2")
    for path in ("/review/", f"/review/{round_.id}/self", f"/review/{round_.id}/rate"):
        assert "review.css" in client.get(path).get_data(as_text=True)
    css = client.get("/review/static/review.css").get_data(as_text=True)
    assert "box-sizing:border-box" in css and "flex-wrap:wrap" in css


def test_rating_through_the_page_records_nothing_naming_the_rater(app, db, org):
    """The rate route is unrecorded: the form's one-time token, the audit, activity and notifications keep no row."""
    round_ = open_home_round(org, status="mutual")
    client = _client(app, "member2")
    page = client.get(f"/review/{round_.id}/rate").get_data(as_text=True)
    form = page.split(f'id="member-{org.member1.id}"')[1].split("</form>")[0]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)"', form))
    assert "csrf_token" in hidden and len(hidden) == 2  # the CSRF and the one-time submission token

    def counts():
        return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 (fixed names)
                for table in ("submission_token", "audit_entry", "activity", "notification")}

    before = counts()
    response = client.post(f"/review/{round_.id}/rate/{org.member1.id}", data={**hidden, "rating": "excellent"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == round_.id)) == 1
    assert counts() == before
