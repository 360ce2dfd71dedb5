"""Statistics against a hand-computed fixture (a table as in docs/domain.md, "Figures secretaries report"), charts, exports."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from portal import toolkit as tk
from portal_mobility import checkins, moves, outflows, returns, statistics
from portal_mobility.models import CheckIn, Move
from sqlalchemy import select
from tests.conftest import api_token, login

NOW = datetime(2026, 6, 15, 12, 0)

def _to(province: str, city: str) -> dict:
    return {"destination_province": province, "destination_city": city}


# name, branch, birth date (age on 2026-06-15), education, gender, destination, start date.
# 甲 and 乙 name Nanchang the way people type it ("江西"/"南昌", pinyin): the same province as "江西省" (issue 12).
AWAY = [
    ("甲", "a", date(2001, 1, 1), "high_school", "male", _to("江西", "南昌"), date(2026, 4, 15)),     # 25, 2 months
    ("乙", "a", date(1996, 1, 1), "high_school", "male", {"destination": "nanchang"}, date(2026, 1, 15)),  # 30, 5 months
    ("丙", "b", date(1991, 6, 16), "bachelor", "female", _to("江西省", "南昌市"), date(2025, 10, 15)),  # 34 (birthday tomorrow), 8 months
    ("丁", "b", date(1991, 6, 15), "high_school", "male", _to("江西省", "赣州市"), date(2025, 7, 15)),  # 35 today, 11 months
    ("戊", "a", date(1982, 1, 1), "bachelor", "female", {"destination": "赣州"}, date(2024, 12, 15)),  # 44, 18 months
    ("己", "b", date(1976, 1, 1), "high_school", "male", _to("广东省", "深圳市"), date(2023, 12, 15)),  # 50, 30 months
]


@pytest.fixture
def county(db, factory):
    """A county of 10 members: 6 away (5 in-province, 1 out), 2 at home, 1 back home, 1 waiting for approval;
    plus a member of another county hosted here, and two non-members (an applicant away, a candidate at home)."""
    root = factory.unit("青山县委", "committee", province="江西省", city="吉安市")
    town = factory.unit("东岭镇党委", "committee", root)  # no province: inherits the county's
    branch_a = factory.unit("东岭村党支部", "branch", town, province="江西省")
    branch_b = factory.unit("石桥村党支部", "branch", town)
    other = factory.unit("外县党委", "committee", province="湖南省")
    other_branch = factory.unit("外县某村党支部", "branch", other)
    branches = {"a": branch_a, "b": branch_b}
    organizer = factory.staff("county-organizer", "organizer", root)
    for name, key, birth, education, gender, destination, start in AWAY:
        member = factory.member(branches[key], name=name, birth_date=birth, education=education, gender=gender)
        outflow = outflows.register_outflow(member, {**destination, "start_date": start.isoformat(), "reason": "务工"},
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
    guest = factory.member(other_branch, "guest", name="客", host=branch_a)
    db.session.add(CheckIn(member_id=guest.id, host_unit_id=branch_a.id, status="confirmed",
                           requested_at=datetime(2026, 5, 1), confirmed_at=datetime(2026, 5, 1, 9)))
    factory.member(branch_a, name="子", stage="applicant", is_away=True, current_city="南昌市")
    factory.member(branch_b, name="丑", stage="candidate")
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


def _report(data: bytes) -> tuple[list, dict]:
    """The heading lines and the table rows (by first cell) of the exported report, keyed by the column header."""
    sheet = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(sheet) if row and row[0] == "Members")
    groups, headers = sheet[header_at - 1], sheet[header_at]
    group, columns = "", []
    for top, name in zip(groups, headers, strict=True):
        group = top or group
        columns.append((group, name))
    table = {row[0]: dict(zip(columns, row, strict=False)) for row in sheet[header_at + 1:] if row and row[0]}
    return [row[0] for row in sheet[:header_at - 1] if row and row[0]], table


def test_stats_page_table_charts_and_exports(app, county):
    client = app.test_client()
    login(client, "county-organizer")
    root = county["root"].id
    page = client.get(f"/mobility/units/{root}/stats?on={NOW.date().isoformat()}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count('<svg class="chart"') == 6
    # plain SVG charts: no inline style or script (the page's scripts are the core's offline files)
    assert "style=" not in body and not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "江西省" in body and "high school" in body
    assert "6 of 10 members (60.0 %) were away: 5 in the home province, 1 outside" in body
    assert '<table class="report">' in body and 'name="on" type="date"' in body
    # the report as secretaries hand it in (issue 12): title, unit and day, grouped headers, a row per direction
    heading, table = _report(client.get(f"/mobility/units/{root}/stats.xlsx?on={NOW.date().isoformat()}").data)
    assert heading[0] == "Mobile members of 青山县委" and heading[1].startswith("As of")
    assert "6 of 10 members" in heading[2] and "Not counted: 1 applicants, activists and candidates away." in heading
    out, inc = table["Outgoing members"], table["Incoming members"]
    assert (out[("", "Total")], out[("", "% of members")]) == (6, 60.0)
    assert (out[("Gender", "male")], out[("Gender", "female")]) == (4, 2)
    assert [out[("Age", band)] for band in ("under 35", "35–45", "45–55", "55 and over")] == [3, 2, 1, 0]
    assert (out[("Education", "high school")], out[("Education", "bachelor's degree")]) == (4, 2)
    assert (out[("Place", "in the home province")], out[("Place", "outside the home province")]) == (5, 1)
    assert [out[("Time away", b)] for b in ("under 6 months", "6–12 months", "1–2 years", "2 years and more")] == [
        2, 2, 1, 1]
    # the guest: from Hunan, hosted in Jiangxi; 36 years old; no outflow here, so time away unknown
    assert (inc[("", "Total")], inc[("Place", "outside the home province")], inc[("Age", "35–45")]) == (1, 1, 1)
    assert inc[("Time away", "unknown")] == 1
    register = load_workbook(io.BytesIO(client.get(f"/mobility/units/{root}/outgoing.xlsx").data)).active
    names = sorted(r[0] for r in register.iter_rows(min_row=2, values_only=True))
    assert names == sorted(a[0] for a in AWAY)


def test_any_day_gives_the_state_of_that_day(app, county):
    # 2026-01-01: 甲 and 乙 not yet away, 壬 away (back only in March); ages and time away on that day
    stats = statistics.unit_stats(county["root"], now=NOW, on=date(2026, 1, 1))
    assert stats["on"] == "2026-01-01" and stats["members"] == 10 and stats["outgoing"] == 5
    assert stats["in_province"] == 3 and stats["out_of_province"] == 2
    assert stats["age_band"] == {"under_35": 2, "35_45": 2, "45_55": 1, "55_plus": 0}
    assert stats["duration"] == {"under_6m": 3, "6_12m": 0, "1_2y": 1, "2y_plus": 1}
    assert stats["education"] == {"high_school": 3, "bachelor": 2} and stats["gender"] == {"female": 2, "male": 3}
    assert stats["incoming"] == 0  # the guest never checked in through the portal: hosted only as of today
    client = app.test_client()
    login(client, "county-organizer")
    body = client.get(f"/mobility/units/{county['root'].id}/stats?on=2026-01-01").get_data(as_text=True)
    assert "5 of 10 members" in body
    heading, table = _report(client.get(f"/mobility/units/{county['root'].id}/stats.xlsx?on=2026-01-01").data)
    assert table["Outgoing members"][("", "Total")] == 5


def test_duration_bands_are_a_setting(app, county):
    tk.set_setting("mobility", "duration_bands", "3, 12")
    db = tk.db
    db.session.commit()
    stats = statistics.unit_stats(county["root"], now=NOW)
    assert stats["duration"] == {"under_3m": 1, "3_12m": 3, "1y_plus": 2}


def test_only_members_count_and_only_members_go_away_with_a_certificate(app, db, county):
    stats = statistics.unit_stats(county["root"], now=NOW)
    assert stats["members"] == 10 and stats["others_away"] == 1  # 子 the applicant is listed apart
    candidate = db.session.scalar(select(tk.Member).where(tk.Member.name == "丑"))
    with pytest.raises(tk.Invalid) as refused:
        outflows.register_outflow(candidate, {**_to("江西省", "南昌市"), "start_date": "2026-06-01", "reason": "务工"})
    assert "Only full and probationary members" in refused.value.message
    client = app.test_client()
    login(client, "county-organizer")
    page = client.get(f"/mobility/units/{county['a'].id}?tab=outgoing").get_data(as_text=True)
    assert "3 members are away." in page and "Also away, not members" in page and "子" in page


def test_a_move_changes_the_current_place_everywhere(app, db, county):
    ji = db.session.scalar(select(tk.Member).where(tk.Member.name == "己"))
    outflow = outflows.active_outflow(ji)
    moves.report_move(ji, {"changed_on": "2026-05-01", "place": "九江"}, now=NOW)
    db.session.commit()
    assert outflow.destination_city == "深圳市" and tk.place_name(outflow.current_place_code) == "江西省九江市"
    assert (ji.current_province, ji.current_city) == ("江西省", "九江市")
    now_stats = statistics.unit_stats(county["root"], now=NOW)
    assert (now_stats["in_province"], now_stats["out_of_province"]) == (6, 0)
    assert now_stats["by_province"] == {"江西省": 6}
    before = statistics.unit_stats(county["root"], now=NOW, on=date(2026, 4, 30))
    assert (before["in_province"], before["out_of_province"]) == (5, 1)
    client = app.test_client()
    login(client, "county-organizer")
    assert "江西省九江市" in client.get(f"/mobility/units/{county['b'].id}?tab=outgoing").get_data(as_text=True)
    register = load_workbook(io.BytesIO(client.get(f"/mobility/units/{county['root'].id}/outgoing.xlsx").data)).active
    row = next(r for r in register.iter_rows(min_row=2, values_only=True) if r[0] == "己")
    assert (row[4], row[5]) == ("江西省九江市", "广东省深圳市")


def test_stats_api(app, county):
    client = app.test_client()
    headers = api_token(client, "county-organizer")
    data = client.get(f"/api/v1/mobility/stats?unit={county['b'].id}", headers=headers).json
    assert data["outgoing"] == 3 and data["gender"] == {"female": 1, "male": 2}
    assert client.get("/api/v1/mobility/stats?unit=abc", headers=headers).status_code == 400
    earlier = client.get(f"/api/v1/mobility/stats?unit={county['root'].id}&on=2026-01-01", headers=headers).json
    assert earlier["on"] == "2026-01-01" and earlier["outgoing"] == 5 and earlier["table"]["outgoing"]["total"] == 5
    assert client.get(f"/api/v1/mobility/stats?unit={county['b'].id}&on=soon", headers=headers).status_code == 400
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


def test_a_check_in_at_a_host_in_another_city_moves_the_current_place(app, db, org):
    outflow = outflows.register_outflow(org.member2, {"destination": "东莞", "start_date": "2026-01-01", "reason": "务工"})
    outflows.approve_outflow(outflow)
    assert (outflow.destination_code, outflow.current_place_code, org.member2.current_city) == (
        "441900", "441900", "东莞市")
    checkin = checkins.request_checkin(org.member2, org.host)
    checkins.confirm_checkin(checkin)
    db.session.commit()
    assert outflow.current_place_code == "440300" and org.member2.current_city == "深圳市"
    assert outflow.destination_city == "东莞市"  # the registration keeps what was registered
    located = db.session.scalar(select(Move).where(Move.member_id == org.member2.id, Move.kind == "checkin"))
    assert (located.old_values, located.new_values) == ({"place_code": "441900"}, {"place_code": "440300"})
