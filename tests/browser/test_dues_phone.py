"""The secretary's dues pages on a 360 px phone: record member2's payment from the member page and see the
month turn paid; the month's list, the member page and the arrears page never scroll sideways."""
from __future__ import annotations

from sqlalchemy import select

from portal_dues import money, profiles
from portal_dues.models import Payment, PaymentMonth
from tests.browser.conftest import browser_login


def _month(n: int = 0) -> str:
    return money.month_key(money.add_months(money.current_month(), n))


def _no_side_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def test_secretary_records_a_payment_on_a_phone(page, live_server, db, org, tmp_path):
    for member in (org.member1, org.member2):  # member1 four months behind: listed in arrears
        profiles.set_profile(member, {"category": "salaried", "monthly_base": "4000.00", "valid_from": _month(-4)},
                             by=None)
    db.session.commit()
    browser_login(page, live_server, "home-secretary")
    page.goto(f"{live_server}/dues/manage/")
    assert page.locator(f"#member-{org.member2.id}").count() == 1
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "dues-index.png"), full_page=True)
    page.goto(f"{live_server}/dues/manage/arrears")
    assert page.locator(f"#member-{org.member1.id} [data-months]").get_attribute("data-months") == "4"
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "dues-arrears.png"), full_page=True)
    page.goto(f"{live_server}/dues/manage/member/{org.member2.id}")
    month = page.locator(f"[data-month='{_month()}']")
    assert month.get_attribute("data-status") == "unpaid"
    assert _no_side_scroll(page)
    # the five unpaid months are ticked, their sum is the amount; keep this month and the one before only
    pay = page.locator("#pay form")
    assert pay.locator("input[name=amount]").input_value() == "200.00"
    for box in pay.locator("input[type=checkbox]").all():
        box.set_checked(box.get_attribute("value") in (_month(-1), _month()))
    assert pay.locator("input[name=amount]").input_value() == "80.00"  # the page added the months up
    pay.locator("select[name=channel]").select_option("cash")
    pay.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f"[data-month='{_month()}']").get_attribute("data-status") == "paid"
    assert page.locator(f"[data-month='{_month(-1)}']").get_attribute("data-status") == "paid"
    assert page.locator(f"[data-month='{_month(-2)}']").get_attribute("data-status") == "unpaid"
    assert _no_side_scroll(page)
    page.screenshot(path=str(tmp_path / "dues-member.png"), full_page=True)
    db.session.commit()  # end this session's snapshot: the live server wrote in another connection
    payment = db.session.scalar(select(Payment).where(Payment.member_id == org.member2.id))
    assert (payment.channel, str(payment.amount), payment.status) == ("cash", "80.00", "confirmed")
    months = set(db.session.scalars(select(PaymentMonth.month).where(PaymentMonth.payment_id == payment.id)))
    assert {money.month_key(m) for m in months} == {_month(-1), _month()}
