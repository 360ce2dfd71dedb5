"""Quick end-to-end checks of the core: login, dashboard, API token, locale."""
from tests.conftest import api_token, login


def test_login_and_dashboard(client, org):
    response = login(client, "member1")
    assert response.status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "张伟" in page.get_data(as_text=True)


def test_api_token_and_me(client, org):
    headers = api_token(client, "member1")
    data = client.get("/api/v1/me", headers=headers).json
    assert data["username"] == "member1"
    assert data["home_branch"] == {"id": org.home.id, "name": org.home.name}
    assert data["host_branch"] == {"id": org.host.id, "name": org.host.name}


def test_zh_cn_browser_gets_chinese(client, org):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.get_data(as_text=True)
