"""The app shell in Chinese (issue 21): the offline page and the texts pwa.js shows come from the zh_CN catalog."""
from __future__ import annotations

from tests.conftest import login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_offline_page_in_chinese(client):
    response = client.get("/offline", headers=ZH)
    page = response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "zh-CN" and '<html lang="zh-CN">' in page
    assert "<title>没有网络连接 · 流动党员之家</title>" in page
    assert "本页未保存在这部手机上" in page and "这部手机上还没有保存任何页面" in page and ">重试<" in page


def test_offline_note_and_install_button_in_chinese(client, org):
    login(client, "member1")
    page = client.get("/dashboard", headers=ZH).get_data(as_text=True)
    assert 'data-offline-text="当前没有网络：显示的是保存在这部手机上的副本。"' in page
    assert 'data-install-text="安装到这部手机"' in page
