"""Points pages served from the composition cache (issue 20): a leaderboard's rows are kept per unit and period for
every viewer, the viewer's rank per viewer, "My points" per member — and each changes at once when an award, a
reversal or a member hiding their name changes what it shows.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select

from portal import cache
from portal import toolkit as tk
from portal_points.models import PointsEntry
from tests.conftest import login

ROW = re.compile(r"<tr( aria-current=\"true\")?><td>(\d+)</td><td>(.*?)</td><td>(-?\d+)</td></tr>", re.S)


def _rows(page: str) -> list[tuple[int, str, int, bool]]:
    """``(rank, member cell text, points, is the viewer)`` of a leaderboard page."""
    return [(int(rank), re.sub(r"<[^>]+>", " ", cell).split()[0], int(points), bool(mine))
            for mine, rank, cell, points in ROW.findall(page)]


def _warm(app, client, url: str) -> str:
    """``url`` requested twice; the second answer must come from kept pieces."""
    client.get(url)
    hits = cache.stats(app).hits
    page = client.get(url).get_data(as_text=True)
    assert cache.stats(app).hits > hits, f"{url} was not served from the cache when warm"
    return page


def _award(app, org, member, points: int) -> None:
    secretary = app.test_client()
    login(secretary, "home-secretary")
    response = secretary.post(f"/points/members/{member.id}/award",
                              data={"points": str(points), "reason": "Helped at the flood", "campaign_id": "0"})
    assert response.status_code == 302


def test_an_award_changes_the_kept_board_and_rank_at_once(app, client, org):
    url = f"/points/leaderboard?unit={org.root.id}&period=month"
    _award(app, org, org.member2, 5)
    login(client, "member1")
    before = {name: points for _rank, name, points, _me in _rows(_warm(app, client, url))}
    assert before["李芳"] == 5
    _award(app, org, org.member1, 9)
    after = client.get(url).get_data(as_text=True)
    rows = {name: (rank, points, mine) for rank, name, points, mine in _rows(after)}
    assert rows["张伟"] == (1, before.get("张伟", 0) + 9, True) and rows["李芳"][:2] == (2, 5)
    assert f"Your rank: 1 with {before.get('张伟', 0) + 9} points" in after


def test_viewers_share_the_rows_but_each_sees_their_own_rank(app, client, org):
    url = f"/points/leaderboard?unit={org.home.id}&period=month"
    _award(app, org, org.member1, 9)
    _award(app, org, org.member2, 4)
    login(client, "member1")
    other = app.test_client()
    login(other, "member2")
    other.get("/points/")  # the day's first page records member2's daily login (a write)
    first = _rows(_warm(app, client, url))
    hits = cache.stats(app).hits
    second = other.get(url).get_data(as_text=True)
    assert cache.stats(app).hits > hits  # member1's board rows served member2 too
    assert [row[:3] for row in _rows(second)][:2] == [row[:3] for row in first][:2]
    assert [name for _rank, name, _points, mine in first if mine] == ["张伟"]
    assert [name for _rank, name, _points, mine in _rows(second) if mine] == ["李芳"]
    assert "Your rank: 2 with" in second


def test_hiding_my_name_hides_it_on_the_kept_board_at_once(app, client, org):
    url = f"/points/leaderboard?unit={org.root.id}&period=month"
    _award(app, org, org.member2, 6)
    login(client, "member1")
    assert "李芳" in _warm(app, client, url)
    member2 = app.test_client()
    login(member2, "member2")
    assert member2.post("/points/privacy", data={"hide": "y"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "李芳" not in page and "A member who keeps their name private" in page
    assert "李芳" in member2.get(url).get_data(as_text=True)  # they still see themselves


def test_an_award_and_a_reversal_change_my_kept_points_page_at_once(app, client, org):
    login(client, "member1")
    total = _total(_warm(app, client, "/points/"))
    _award(app, org, org.member1, 7)
    page = client.get("/points/").get_data(as_text=True)
    assert _total(page) == total + 7 and "Helped at the flood" in page
    award = tk.db.session.scalar(select(func.max(PointsEntry.id)).where(PointsEntry.member_id == org.member1.id))
    secretary = app.test_client()
    login(secretary, "home-secretary")
    assert secretary.post(f"/points/entries/{award}/reverse", data={"reason": "Counted twice"}).status_code == 302
    page = client.get("/points/").get_data(as_text=True)
    assert _total(page) == total and "reversed" in page


def test_the_cold_points_pages_match_the_warm_ones(app, client, org):
    _award(app, org, org.member2, 3)
    login(client, "member1")
    for url in ("/points/", f"/points/leaderboard?unit={org.root.id}", f"/points/leaderboard?unit={org.home.id}"):
        cache.clear(app)
        cold = client.get(url).get_data(as_text=True)
        warm = _warm(app, client, url)
        assert _without_tokens(cold) == _without_tokens(warm)


def _total(page: str) -> int:
    found = re.search(r'Total</span><br><span class="stat">(-?\d+)</span>', page)
    assert found, "no total on the points page"
    return int(found.group(1))


def _without_tokens(page: str) -> str:
    return re.sub(r'<input[^>]*(csrf_token|submission_token)[^>]*>', "", page)
