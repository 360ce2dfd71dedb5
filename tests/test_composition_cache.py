"""The composition cache (issue 20, ``portal/cache.py``): pages served from kept pieces change at once when the
data they show changes — through this app, through another app server on the same database, by a plugin
disabled — and never keep what they cannot know (``text()`` SQL), within a byte bound; a rollback bumps nothing.

Every page here is requested through the test client; the cache is used as the pages use it (no patching).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from portal import cache
from portal import toolkit as tk
from portal.cache import CacheStamp
from tests.conftest import login, make_test_app


@pytest.fixture(scope="module")
def other_app(app, tmp_path_factory):
    """A second app object on the same database: another app server (its own process-local cache, tiny)."""
    return make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], CACHE_MAX_BYTES=4096)


def _stamps(db) -> dict[str, int]:
    db.session.commit()
    return dict(db.session.execute(select(CacheStamp.scope, CacheStamp.version)).all())


def _points_stat(page: str) -> str:
    """The total in the dashboard's points panel."""
    found = re.search(r'<span class="stat">(\d+)</span> points', page)
    assert found, "no points panel on the dashboard"
    return found.group(1)


def _without_tokens(page: str) -> str:
    """The page without its per-request tokens (CSRF: signed with the second it was made; submission tokens)."""
    return re.sub(r'<input[^>]*(csrf_token|submission_token)[^>]*>', "", page)


def _warm(client, url: str, app) -> str:
    """Request ``url`` twice and check that the second answer came from kept pieces."""
    client.get(url)
    before = cache.stats(app).hits
    page = client.get(url).get_data(as_text=True)
    assert cache.stats(app).hits > before, f"{url} was not served from the cache when warm"
    return page


def test_points_award_changes_the_dashboard_at_once(app, client, org):
    login(client, "member1")
    before = int(_points_stat(_warm(client, "/dashboard", app)))  # the day's login may have earned a point
    secretary = app.test_client()
    login(secretary, "home-secretary")
    awarded = secretary.post(f"/points/members/{org.member1.id}/award",
                             data={"points": "7", "reason": "Helped at the flood", "campaign_id": "0"})
    assert awarded.status_code == 302
    assert int(_points_stat(client.get("/dashboard").get_data(as_text=True))) == before + 7


def test_a_plugin_disabled_by_the_admin_loses_its_panel_at_once(app, client, org):
    login(client, "member1")
    assert "My points" in _warm(client, "/dashboard", app)
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post("/admin/plugins/points", data={"action": "disable"}).status_code == 302
    try:
        assert "My points" not in client.get("/dashboard").get_data(as_text=True)
        assert "My learning" in client.get("/dashboard").get_data(as_text=True)  # the others stay
    finally:
        assert admin.post("/admin/plugins/points", data={"action": "enable"}).status_code == 302
    assert "My points" in client.get("/dashboard").get_data(as_text=True)


def test_a_lesson_edit_shows_on_the_next_lesson_page_and_dashboard(app, client, org):
    author = app.test_client()
    login(author, "home-secretary")
    course = {"slug": "flood-study", "title_en": "Flood study", "category": "general",
              "completion_rule": "all_lessons", "unit": org.home.id, "estimated_minutes": 10}
    assert author.post("/courses/manage/new", data=course).status_code == 302
    assert author.post("/courses/manage/flood-study/lessons/new", data={
        "action": "save", "title_en": "Sandbags", "body_en": "Fill the **sandbags** by the river."}).status_code == 302
    assert author.post("/courses/manage/flood-study/edit", data={**course, "published": "y"}).status_code == 302
    from portal_courses.models import Lesson

    lesson_id = tk.db.session.scalar(select(Lesson.id).where(Lesson.titles["en"].as_string() == "Sandbags"))
    url = f"/courses/flood-study/lessons/{lesson_id}"
    login(client, "member2")
    assert "<strong>sandbags</strong>" in client.get(url).get_data(as_text=True)
    assert "Flood study: Sandbags" in _warm(client, "/dashboard", app)

    edited = author.post(f"/courses/manage/flood-study/lessons/{lesson_id}/edit", data={
        "action": "save", "title_en": "Sandbags and pumps", "body_en": "Fill the **sandbags**, start the *pumps*."})
    assert edited.status_code == 302
    lesson_page = client.get(url).get_data(as_text=True)
    assert "<em>pumps</em>" in lesson_page and "Sandbags and pumps" in lesson_page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Flood study: Sandbags and pumps" in dashboard


def test_a_write_through_another_app_server_is_seen_here(app, other_app, client, org):
    login(client, "member1")
    before = int(_points_stat(_warm(client, "/dashboard", app)))
    there = other_app.test_client()
    login(there, "home-secretary")
    awarded = there.post(f"/points/members/{org.member1.id}/award",
                         data={"points": "4", "reason": "Organized the night watch", "campaign_id": "0"})
    assert awarded.status_code == 302
    assert int(_points_stat(client.get("/dashboard").get_data(as_text=True))) == before + 4


def test_the_cold_pages_match_the_warm_ones(app, client, org):
    """What a page shows does not depend on whether its pieces were kept: cold, then warm, the same page."""
    login(client, "home-secretary")
    for url in ("/dashboard", f"/units/{org.home.id}/dashboard"):
        cache.clear(app)
        misses = cache.stats(app).misses
        cold = client.get(url).get_data(as_text=True)
        assert cache.stats(app).misses > misses  # really computed
        warm = _warm(client, url, app)
        assert _without_tokens(cold) == _without_tokens(warm)
        assert "Points this month" in warm or "My points" in warm


def test_text_sql_is_never_kept(app, db, org):
    calls = []

    def with_text():
        calls.append(1)
        return db.session.execute(text("SELECT count(*) FROM member")).scalar()

    def with_orm():
        calls.append(2)
        return db.session.scalar(select(tk.Member.name).where(tk.Member.id == org.member1.id))

    with app.test_request_context():
        before = cache.stats(app).uncacheable
        first, second = (tk.cached("probe-text", (), with_text) for _ in range(2))
        assert first == second > 0
        assert cache.stats(app).uncacheable == before + 2
        assert [tk.cached("probe-orm", (), with_orm) for _ in range(2)] == ["张伟", "张伟"]
    assert calls == [1, 1, 2]


def test_the_byte_bound_evicts(other_app):
    store = other_app.extensions["portal_cache"]
    with other_app.test_request_context():
        evicted = store.stats.evicted
        for number in range(12):
            assert tk.cached("probe-size", (number,), lambda: "x" * 1000) == "x" * 1000
        assert store.stats.evicted > evicted
        assert 0 < store.size <= 4096 and len(store.entries) < 12
        calls = []
        tk.cached("probe-size", (0,), lambda: calls.append(1) or "x" * 1000)  # the oldest went first
        assert calls == [1]


def test_a_rollback_bumps_nothing_and_a_commit_bumps_what_it_wrote(db, org):
    before = _stamps(db)
    org.member2.name = "李芳芳"
    db.session.flush()
    db.session.rollback()
    assert _stamps(db) == before
    org.member2.name = "李芳芳"
    db.session.commit()
    after = _stamps(db)
    assert after["table:member"] != before.get("table:member")
    assert {scope for scope in after if after[scope] != before.get(scope)} == {"table:member"}


def test_writes_to_unstamped_tables_bump_nothing(db, org):
    from portal.audit.services import audit

    before = _stamps(db)
    audit("cache.probe", "member", org.member1.id)
    db.session.commit()
    assert _stamps(db) == before


def test_an_activity_does_not_invalidate_what_reads_members(db, org):
    """Recording an activity moves the member's "last active" time: that alone must not bump the member stamp
    (every activity in the organization would otherwise invalidate every board and list of members)."""
    before = _stamps(db)
    tk.record_activity(org.member2, "core.cache_probe", "member", str(org.member2.id))
    db.session.commit()
    assert tk.db.session.get(tk.Member, org.member2.id).last_active_at is not None
    after = _stamps(db)
    assert after.get("table:member") == before.get("table:member")
    assert after["table:activity"] != before.get("table:activity")


def test_review_pages_cold_and_warm_and_a_points_award_changes_their_evidence(app, client, org):
    """The review's own page and the entry page keep each plugin's evidence; an award shows on both at once."""
    from portal_review import rounds

    round_ = rounds.open_round(org.home, tk.local_today().year, actor=org.home_sec)
    tk.db.session.commit()
    secretary = app.test_client()
    login(secretary, "home-secretary")
    login(client, "member2")
    pages = {"/review/": client, f"/review/manage/rounds/{round_.id}/members/{org.member2.id}": secretary}
    earned = {}
    for url, viewer in pages.items():
        cache.clear(app)
        cold = viewer.get(url).get_data(as_text=True)
        warm = _warm(viewer, url, app)
        assert _without_tokens(cold) == _without_tokens(warm)
        earned[url] = int(re.search(r"Points earned in the year: (\d+)", warm).group(1))
    awarded = secretary.post(f"/points/members/{org.member2.id}/award",
                             data={"points": "6", "reason": "Repaired the dyke", "campaign_id": "0"})
    assert awarded.status_code == 302
    for url, viewer in pages.items():
        page = viewer.get(url).get_data(as_text=True)
        assert int(re.search(r"Points earned in the year: (\d+)", page).group(1)) == earned[url] + 6


def test_a_write_outside_the_session_bumps_its_stamp(app, client, org):
    """A report first read by a reading request is marked read in a transaction of its own
    (``db.engine.begin()``, which the tracking cannot see): it bumps its stamp itself."""
    from portal_reports import reading, schedule, writing

    report = writing.submit(org.member2, schedule.writable_periods(org.member2)[0], "What I learned this year.",
                            share_with_host=False)
    tk.db.session.commit()
    login(client, "home-secretary")
    assert "1 report waits to be read." in _warm(client, "/dashboard", app)
    with app.test_request_context(f"/reports/{report.id}"):  # a GET that has written nothing
        assert tk.is_reading_request()
        reading.open_report(tk.db.session.get(type(report), report.id), org.home_sec)
    assert "0 reports wait to be read." in client.get("/dashboard").get_data(as_text=True)
