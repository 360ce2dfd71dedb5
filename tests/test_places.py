"""Places as administrative-division codes (issue 12): the table, the resolver, the picker and unit places."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.org.models import OrgUnit
from portal.places import resolve, short_name
from tests.conftest import login


@pytest.mark.parametrize("text", ["江西", "江西省", " 江西省 ", "jiangxi", "ＪＩＡＮＧＸＩ"])
def test_province_names_short_names_and_pinyin(text):
    assert tk.place_from_text(text) == "360000"


@pytest.mark.parametrize("text", ["南昌", "南昌市", "nanchang", "NanChang", "江西南昌", "江西省 南昌市", "江西省南昌市", "360100"])
def test_a_city_however_it_is_typed(text):
    # "南昌" is also the short name of 南昌县 (a county): the city outranks it
    assert tk.place_from_text(text) == "360100"


def test_codes_names_and_provinces():
    assert tk.place_name("360102") == "江西省南昌市东湖区" and tk.place_name("360100") == "江西省南昌市"
    assert tk.place_name("999999") == "" and tk.place_name(None) == ""
    assert tk.province_code("360102") == tk.province_code("360100") == tk.province_code("360000") == "360000"
    assert tk.province_code("xx") is None
    assert tk.place_parts("110105") == ("北京市", "北京市", "朝阳区")  # a municipality is its own city
    assert tk.place_parts("360121") == ("江西省", "南昌市", "南昌县")
    assert [short_name(n) for n in ("广西壮族自治区", "延边朝鲜族自治州", "城步苗族自治县", "吉安市", "东区")] == [
        "广西", "延边", "城步", "吉安", "东区"]


def test_ambiguous_and_unknown_text():
    code, candidates = resolve("朝阳区")
    assert code is None and {c for c, _ in candidates} == {"110105", "220104"}
    assert tk.place_from_text("火星") is None and tk.place_from_text("") is None
    with pytest.raises(tk.Invalid) as ambiguous:
        tk.clean_place("朝阳区", "where")
    assert "could mean several places" in ambiguous.value.field_errors["where"]
    assert "北京市朝阳区" in ambiguous.value.field_errors["where"]
    with pytest.raises(tk.Invalid) as unknown:
        tk.clean_place("火星", "where")
    assert "No place called" in unknown.value.field_errors["where"]
    with pytest.raises(tk.Invalid) as province_only:
        tk.clean_place("江西", "where", need_city=True)
    assert "Name the city" in province_only.value.field_errors["where"]
    assert tk.clean_place("北京", "where", need_city=True) == "110000"  # a municipality is a city
    assert tk.clean_place("", "where", required=False) is None


def test_search_ranks_exact_then_prefix():
    results = tk.place_search("南昌", 3)
    assert results[0] == ("360100", "江西省南昌市") and ("360121", "江西省南昌市南昌县") in results
    assert tk.place_search("shenzh", 1) == [("440300", "广东省深圳市")]
    assert tk.place_search("", 5) == [] and len(tk.place_search("江西", 50)) == 50


def test_picker_endpoint_needs_login_and_answers_json(client, org):
    assert client.get("/places?q=nanchang").status_code == 302
    login(client, "member1")
    data = client.get("/places?q=nanchang").json
    assert data["places"][0] == {"code": "360100", "name": "江西省南昌市"}
    assert client.get("/places?q=").json == {"places": []}


def test_unit_place_is_stored_as_a_code(client, org, db):
    # units made from text get a code (the factory's 江西省 + 吉安市)
    assert org.home.place_code == "360800" and org.host.place_code == "440300"
    login(client, "organizer")
    page = client.get(f"/units/new?parent={org.township.id}").get_data(as_text=True)
    assert 'data-places="/places"' in page and "<datalist" in page and "places.js" in page
    response = client.post(f"/units/new?parent={org.township.id}", data={"name": "Nanchang Branch", "kind": "branch",
                                                                          "place": "nanchang"})
    assert response.status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "Nanchang Branch"))
    assert (unit.place_code, unit.province, unit.city) == ("360100", "江西省", "南昌市")
    edit_page = client.get(f"/units/{unit.id}/edit").get_data(as_text=True)
    assert 'value="江西省南昌市"' in edit_page
    refused = client.post(f"/units/{unit.id}/edit", data={"name": "Nanchang Branch", "kind": "branch", "place": "朝阳区"})
    assert refused.status_code == 422 and "could mean several places" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, unit.id).place_code == "360100"


def test_the_table_ships_with_its_license():
    from portal.places import DATA

    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    assert DATA.exists() and "MIT" in readme and "cpca" in readme


def test_migrations_fill_codes_from_the_old_text(tmp_path_factory):
    from alembic import command
    from sqlalchemy import text

    from portal.extensions import db
    from portal.migrate import alembic_config, upgrade
    from tests.conftest import make_test_app

    folder = tmp_path_factory.mktemp("places-migrate")
    app = make_test_app(tmp_path_factory, DATABASE_URL=f"sqlite:///{folder / 'm.sqlite3'}")
    with app.app_context():
        command.upgrade(alembic_config(app), "core_0006")
        command.upgrade(alembic_config(app), "mobility_0004")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO org_unit (id, name, kind, path, depth, province, city, is_mobile_branch, created_at) "
                "VALUES (1, '县委', 'committee', '/1/', 0, '江西省', '吉安市', 0, '2026-01-01'), "
                "(2, '某地', 'branch', '/1/2/', 1, '', '朝阳区', 0, '2026-01-01')"))
            connection.execute(text(
                "INSERT INTO member (id, name, stage, home_unit_id, is_away, lost_contact, hide_from_public_boards, "
                "current_province, current_city, created_at, updated_at) VALUES "
                "(1, '甲', 'full', 1, 1, 0, 0, '浙江', '杭州', '2026-01-01', '2026-01-01')"))
            connection.execute(text(
                "INSERT INTO mobility_outflow (id, member_id, home_unit_id, status, destination_province, "
                "destination_city, start_date, reason, created_at, updated_at) VALUES "
                "(1, 1, 1, 'approved', '江西', '南昌', '2026-01-01', '务工', '2026-01-01', '2026-01-01')"))
        upgrade(app)
        with db.engine.connect() as connection:
            units = dict(connection.execute(text("SELECT id, place_code FROM org_unit")).all())
            outflow = connection.execute(text(
                "SELECT destination_code, current_place_code FROM mobility_outflow")).one()
        assert units == {1: "360800", 2: None}  # 朝阳区 is in Beijing and in Changchun: left for a person
        assert tuple(outflow) == ("360100", "330100")  # registered Nanchang; the member's text says Hangzhou now
        db.engine.dispose()
