"""The mobility catalog is complete and used: a zh-CN member reads the branch's own words (docs/domain.md)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

import portal_mobility
from portal_mobility import outflows
from tests.conftest import login

CATALOG = Path(portal_mobility.__file__).parent / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def test_catalog_is_complete_and_compiled():
    catalog = read_po(open(CATALOG / "messages.po", "rb"))
    empty = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert empty == [] and fuzzy == []
    assert (CATALOG / "messages.mo").stat().st_mtime >= (CATALOG / "messages.po").stat().st_mtime - 5
    template = read_po(open(CATALOG.parent.parent / "messages.pot", "rb"))
    assert {m.id for m in template if m.id} <= {m.id for m in catalog if m.id}


def test_chinese_pages_use_the_glossary(app, db, org):
    outflow = outflows.register_outflow(org.member1, {"destination_province": "广东省", "destination_city": "深圳市",
                                                      "start_date": "2025-03-01", "reason": "务工"})
    certificate = outflows.approve_outflow(outflow)
    db.session.commit()
    client = app.test_client()
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    page = client.get(f"/certificates/mobility/verify/{certificate.number}", headers=zh).get_data(as_text=True)
    assert "活动证查验" in page and "有效" in page
    login(client, "member1")
    client.post("/locale", data={"locale": "zh_CN"})
    mine = client.get("/mobility/").get_data(as_text=True)
    assert "流动党员活动证" in mine and "到流入地党组织报到" in mine
