"""The courses plugin's zh_Hans_CN catalog is complete, and zh-CN requests get Chinese pages."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from portal_courses.models import Course
from portal_courses.sync import sync_directory
from tests.conftest import login

BASE = Path(__file__).resolve().parent.parent / "plugins" / "portal_courses" / "translations"


def test_catalog_is_complete_without_fuzzy_entries():
    pot = read_po((BASE / "messages.pot").open("rb"))
    po = read_po((BASE / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb"))
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in po if m.id}
    for message in pot:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        entry = translated.get(key)
        assert entry is not None, f"missing: {key}"
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings) and not entry.fuzzy, f"empty or fuzzy: {key}"
    mo = BASE / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    assert mo.stat().st_mtime >= (BASE / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").stat().st_mtime - 5


def test_chinese_pages(app, db, client, org):
    sync_directory()
    login(client, "member1")
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    page = client.get("/courses", headers=zh).get_data(as_text=True)
    assert "网上党校" in page and "流动党员之家使用入门" in page and "外出务工权益保护" in page
    course = db.session.scalar(select(Course).where(Course.slug == "workers-rights"))
    lesson = client.get(f"/courses/workers-rights/lessons/{course.active_lessons[0].id}", headers=zh).get_data(as_text=True)
    assert "劳动合同：一定要签，一定要留一份" in lesson and "我已学完本课" in lesson and "讨论区" in lesson
