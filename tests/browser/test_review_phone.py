"""member2 takes part in the annual review on a 360 px phone: writes the self-assessment (a draft kept at the
portal while typing), reloads in the middle (what was typed since the last save comes back from the device),
submits it; then, in mutual assessment, rates two members of the round and sees "rated 2 of 2". No page
scrolls sideways."""
from __future__ import annotations

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_review import rounds
from portal_review.models import Rating, ReviewEntry
from tests.browser.conftest import browser_login

FIRST = "今年我按时参加了每一次组织生活，交纳了党费。"
MORE = " 不足是学习不够系统，明年要多读原著。"


def _no_side_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def _is_draft_save(response) -> bool:
    return response.url.endswith("/self/draft") and response.request.method == "POST"


def _rate(page, member_id: int, grade: str, comment: str) -> None:
    form = page.locator(f"#member-{member_id}")
    form.locator(f"input[name=rating][value={grade}]").check()
    form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash")


def test_member_reviews_on_a_phone(page, live_server, db, org, tmp_path):
    round_ = rounds.open_round(org.home, tk.local_today(tk.utcnow()).year, actor=org.home_sec)
    round_.status = "self"
    db.session.commit()
    browser_login(page, live_server, "member2")
    page.goto(f"{live_server}/review/")
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "review-mine.png"), full_page=True)
    page.locator("#self a.button").click()
    page.wait_for_selector("#self-form[data-autosave-ready='1'] textarea[name=text]")
    box = page.locator("#self-form textarea[name=text]")

    # typing: a few seconds later the draft is kept at the portal
    with page.expect_response(_is_draft_save) as saved:
        box.fill(FIRST)
    assert saved.value.ok
    page.wait_for_selector("#self-form[data-saved='1']")
    db.session.commit()  # a fresh snapshot: the live server wrote in another connection
    entry = db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                        ReviewEntry.member_id == org.member2.id))
    assert (entry.self_text, entry.self_submitted_at) == (FIRST, None)

    # more typing, then a reload before the next save is due: nothing is lost
    box.fill(FIRST + MORE)
    page.reload()
    page.wait_for_selector("#self-form[data-autosave-ready='1'] textarea[name=text]")
    assert page.locator("#self-form textarea[name=text]").input_value() == FIRST + MORE
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "review-self.png"), full_page=True)

    page.locator("#self-form button[type=submit]").click()
    page.wait_for_selector(".flash")
    assert page.url.endswith("/review/")
    assert page.evaluate(f"window.localStorage.getItem('review-self:{org.member2.id}:{round_.id}')") is None
    db.session.commit()
    db.session.refresh(entry)
    assert entry.self_text == FIRST + MORE and entry.self_submitted_at is not None

    # mutual assessment: rate the two others of the round
    round_.status = "mutual"
    db.session.commit()
    page.goto(f"{live_server}/review/{round_.id}/rate")
    assert "0" in page.locator("#progress").inner_text() and "2" in page.locator("#progress").inner_text()
    assert _no_side_scroll(page)
    _rate(page, org.member1.id, "excellent", "在深圳也常常回村帮忙。")
    _rate(page, org.home_sec.member.id, "qualified", "")
    progress = page.locator("#progress").inner_text()
    assert progress.count("2") == 2 and "0" not in progress  # rated 2 of 2
    assert page.locator(f"#member-{org.member1.id} input[value=excellent]").is_checked()
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "review-rate.png"), full_page=True)
    db.session.commit()
    assert db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == round_.id)) == 2
