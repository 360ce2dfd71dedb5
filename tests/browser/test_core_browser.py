"""A member on a phone: log in, switch to Chinese and back, open the dashboard."""
from __future__ import annotations

from tests.browser.conftest import browser_login


def _weigh(page):
    """Collect bytes of every response body while the page loads (first load, empty cache)."""
    sizes = []

    def on_response(response):
        try:
            sizes.append(len(response.body()))
        except Exception:  # redirects have no body
            sizes.append(0)

    page.on("response", on_response)
    return sizes


def test_member_logs_in_switches_language_and_sees_dashboard(page, live_server, org, tmp_path):
    browser_login(page, live_server, "member1")
    assert page.url.endswith("/dashboard")
    assert page.locator("h1").inner_text() == "Hello, 张伟"

    page.click("footer button[value=zh_CN]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "你好，张伟"
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.click("footer button[value=en]")
    page.wait_for_load_state()
    assert "Hello" in page.locator("h1").inner_text()

    # Routing every request through Playwright disables the HTTP cache: a true first load.
    page.context.route("**/*", lambda route: route.continue_())
    sizes = _weigh(page)
    page.goto(f"{live_server}/dashboard")
    page.wait_for_load_state("networkidle")
    weight = sum(sizes)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(tmp_path / "dashboard-360.png"), full_page=True)
    print(f"dashboard first-load weight: {weight / 1024:.1f} KB over {len(sizes)} responses")
    assert width <= 360, "the page must not scroll sideways on a 360 px phone"
    assert weight < 100 * 1024
    assert (tmp_path / "dashboard-360.png").stat().st_size > 1000


def test_logout_and_wrong_password_message(page, live_server, org):
    browser_login(page, live_server, "member2", "wrong-one-1")
    assert "Wrong username, phone number or password." in page.content()
    browser_login(page, live_server, "member2")
    page.click("footer button.link")
    page.wait_for_load_state()
    assert page.url.endswith("/login")
