"""Statistics against a hand-computed fixture (a table as in docs/domain.md, "Figures secretaries report"), charts, exports."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from portal import toolkit as tk
from portal_mobility import outflows, returns, statistics
from tests.conftest import api_token, login

NOW = datetime(2026, 6, 15, 12, 0)

# name, branch, birth date (age on 2026-06-15), education, gender, destination, start date
AWAY = [
    ("甲", "a", date(2001, 1, 1), "high_school", "male", ("江西省", "南昌市"), date(2026, 4, 15)),    # 25, 2 months
    ("乙", "a", date(1996, 1, 1), "high_school", "male", ("江西省", "南昌市"), date(2026, 1, 15)),    # 30, 5 months
    ("丙", "b", date(1991, 6, 16), "bachelor", "female", ("江西省", "南昌市"), date(2025, 10, 15)),   # 34 (birthday tomorrow), 8 months
    ("丁", "b", date(1991, 6, 15), "high_school", "male", ("江西省", "赣州市"), date(2025, 7, 15)),   # 35 today, 11 months
    ("戊", "a", date(1982, 1, 1), "bachelor", "female", ("江西省", "赣州市"), date(2024, 12, 15)),   # 44, 18 months
    ("己", "b", date(1976, 1, 1), "high_school", "male", ("广东省", "深圳市"), date(2023, 12, 15)),  # 50, 30 months
]


@pytest.fixture
def county(db, factory):
    """A county of 10 members: 6 away (5 in-province, 1 out), 2 at home, 1 back home, 1 waiting for approval;
    plus a member of another county hosted here."""
    root = factory.unit("青山县委", "committee", province="江西省", city="吉安市")
    town = factory.unit("东岭镇党委", "committee", root)  # no province: inherits the county's
    branch_a = factory.unit("东岭村党支部", "branch", town, province="江西省")
    branch_b = factory.unit("石桥村党支部", "branch", town)
    other = factory.unit("外县党委", "committee", province="湖南省")
    other_branch = factory.unit("外县某村党支部", "branch", other)
    branches = {"a": branch_a, "b": branch_b}
    organizer = factory.staff("county-organizer", "organizer", root)
    for name, key, birth, education, gender, (province, city), start in AWAY:
        member = factory.member(branches[key], name=name, birth_date=birth, education=education, gender=gender)
        outflow = outflows.register_outflow(member, {"destination_province": province, "destination_city": city,
                                                     "start_date": start.isoformat(), "reason": "务工"},
                                            now=datetime.combine(start, datetime.min.time()))
        outflows.approve_outflow(outflow, now=datetime.combine(start, datetime.min.time()))
    factory.member(branch_a, name="庚")
    factory.member(branch_b, name="辛")
    back = factory.member(branch_a, name="壬", birth_date=date(1990, 3, 3))
    outflow = outflows.register_outflow(back, {"destination_province": "浙江省", "destination_city": "杭州市",
                                               "start_date": "2025-09-01", "reason": "务工"}, now=datetime(2025, 9, 1))
    outflows.approve_outflow(outflow, now=datetime(2025, 9, 1))
    returns.record_return(outflow, {"returned_on": "2026-03-10", "certificate_returned": "y"}, now=datetime(2026, 3, 10, 9))
    waiting = factory.member(branch_b, name="癸")
    outflows.register_outflow(waiting, {"destination_province": "广东省", "destination_city": "东莞市",
                                        "start_date": "2026-06-01", "reason": "务工"}, now=NOW)
    factory.member(other_branch, "guest", name="客", host=branch_a)
    db.session.commit()
    return {"root": root, "a": branch_a, "b": branch_b, "organizer": organizer}


def test_numbers_match_the_hand_computed_table(county):
    stats = statistics.unit_stats(county["root"], now=NOW)
    assert stats["members"] == 10
    assert stats["outgoing"] == 6 and stats["outgoing_share"] == 60.0
    assert stats["incoming"] == 1
    assert stats["in_province"] == 5 and stats["out_of_province"] == 1
    assert stats["by_province"] == {"江西省": 5, "广东省": 1}
    assert stats["age_band"] == {"under_35": 3, "35_45": 2, "45_55": 1, "55_plus": 0}
    assert stats["education"] == {"high_school": 4, "bachelor": 2}
    assert stats["gender"] == {"female": 2, "male": 4}
    assert stats["duration"] == {"under_6m": 2, "6_12m": 2, "1_2y": 1, "2y_plus": 1}
    trend = {m["month"]: (m["outgoing"], m["returned"]) for m in stats["trend"]}
    assert list(trend)[0] == "2025-07" and list(trend)[-1] == "2026-06" and len(trend) == 12
    assert {k: v for k, v in trend.items() if v != (0, 0)} == {
        "2025-07": (1, 0), "2025-09": (1, 0), "2025-10": (1, 0), "2026-01": (1, 0), "2026-03": (0, 1), "2026-04": (1, 0)}


def test_a_branch_sees_its_own_subtree(county):
    stats = statistics.unit_stats(county["b"], now=NOW)
    assert stats["members"] == 5 and stats["outgoing"] == 3 and stats["incoming"] == 0
    assert stats["in_province"] == 2 and stats["out_of_province"] == 1
    assert stats["age_band"] == {"under_35": 1, "35_45": 1, "45_55": 1, "55_plus": 0}
    assert statistics.unit_stats(county["a"], now=NOW)["incoming"] == 1


def test_band_boundaries():
    assert [statistics.age_band(a) for a in (None, 34, 35, 44, 45, 54, 55)] == [
        "unknown", "under_35", "35_45", "35_45", "45_55", "45_55", "55_plus"]
    assert [statistics.duration_band(m) for m in (0, 5, 6, 11, 12, 23, 24)] == [
        "under_6m", "under_6m", "6_12m", "6_12m", "1_2y", "1_2y", "2y_plus"]


def test_stats_page_charts_and_exports(app, county):
    client = app.test_client()
    login(client, "county-organizer")
    root = county["root"].id
    page = client.get(f"/mobility/units/{root}/stats")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count('<svg class="chart"') == 6
    assert "style=" not in body and "<script" not in body
    assert "江西省" in body and "high school" in body
    workbook = load_workbook(io.BytesIO(client.get(f"/mobility/units/{root}/stats.xlsx").data))
    rows = {(r[0], r[1]): r[2] for r in workbook.active.iter_rows(min_row=2, values_only=True)}
    assert rows[("Outgoing members", "total")] == statistics.unit_stats(county["root"])["outgoing"] == 6
    assert rows[("Destination", "outside the home province")] == 1
    assert rows[("Education", "high school")] == 4
    register = load_workbook(io.BytesIO(client.get(f"/mobility/units/{root}/outgoing.xlsx").data)).active
    names = sorted(r[0] for r in register.iter_rows(min_row=2, values_only=True))
    assert names == sorted(a[0] for a in AWAY)


def test_stats_api(app, county):
    client = app.test_client()
    headers = api_token(client, "county-organizer")
    data = client.get(f"/api/v1/mobility/stats?unit={county['b'].id}", headers=headers).json
    assert data["outgoing"] == 3 and data["gender"] == {"female": 1, "male": 2}
    assert client.get("/api/v1/mobility/stats?unit=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/mobility/stats?unit=999999", headers=headers).status_code == 404


def test_charts_are_plain_svg():
    # the charts are the toolkit's now (tests/test_toolkit.py); the stats page's trend is two series a month
    svg = str(tk.bar_chart([("<b>", 3), ("x", 0)], "t & t"))
    assert "&lt;b&gt;" in svg and "t &amp; t" in svg and 'width="0"' in svg and "style" not in svg
    trend = str(tk.column_chart([("26-01", [2, 1])], "T", series=["out", "back"]))
    assert trend.startswith("<svg") and trend.count("<rect") == 4


def test_trend_window_reaches_back_a_year(county):
    later = NOW + timedelta(days=400)
    stats = statistics.unit_stats(county["root"], now=later)
    assert sum(m["outgoing"] for m in stats["trend"]) == 0
