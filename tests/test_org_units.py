"""Unit administration: create, rename, edit, move (no cycles), close (only when empty); all audited."""
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.org.models import OrgUnit
from tests.conftest import login


def _audits(db, action):
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_organizer_creates_a_unit_below_a_parent(client, org, db):
    login(client, "organizer")
    response = client.post(f"/units/new?parent={org.township.id}", data={
        "name": "  Tea Garden Village Branch ", "kind": "branch", "province": "江西省", "city": "吉安市"})
    assert response.status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "Tea Garden Village Branch"))
    assert unit.parent_id == org.township.id
    assert unit.path == f"{org.township.path}{unit.id}/" and unit.depth == org.township.depth + 1
    assert (unit.province, unit.city, unit.is_mobile_branch) == ("江西省", "吉安市", False)
    entry = _audits(db, "unit.created")[0]
    assert entry.target_id == str(unit.id) and entry.actor.username == "organizer"


def test_secretary_cannot_manage_units(client, org, db):
    login(client, "home-secretary")
    assert client.get(f"/units/new?parent={org.home.id}").status_code == 404
    assert client.post(f"/units/new?parent={org.home.id}", data={"name": "X", "kind": "group"}).status_code == 404
    assert client.post(f"/units/{org.home.id}/edit", data={"name": "Renamed", "kind": "branch"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(OrgUnit, org.home.id).name == "East Ridge Village Branch"
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.name == "X")) is None


def test_only_admins_create_top_units(client, org, db):
    login(client, "organizer")
    assert client.post("/units/new", data={"name": "Other County", "kind": "committee"}).status_code == 403
    client.post("/logout")
    login(client, "admin")
    assert client.post("/units/new", data={"name": "Other County", "kind": "committee"}).status_code == 302
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "Other County"))
    assert unit.parent_id is None and unit.depth == 0


def test_rename_and_edit_flags_are_audited(client, org, db):
    login(client, "organizer")
    response = client.post(f"/units/{org.host.id}/edit", data={
        "name": "Shenzhen Bao'an Mobile Members Branch", "kind": "branch", "province": "广东省", "city": "深圳市"})
    assert response.status_code == 302
    db.session.expire_all()
    host = db.session.get(OrgUnit, org.host.id)
    assert host.name == "Shenzhen Bao'an Mobile Members Branch"
    assert host.is_mobile_branch is False  # the box was not ticked
    entry = _audits(db, "unit.updated")[0]
    assert entry.details["name"] == "Shenzhen Bao'an Mobile Members Branch" and entry.details["is_mobile_branch"] is False


def test_edit_with_bad_input_changes_nothing(client, org, db):
    login(client, "organizer")
    response = client.post(f"/units/{org.home.id}/edit", data={"name": "", "kind": "castle"})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, org.home.id).kind == "branch"
    assert not _audits(db, "unit.updated")


def test_move_a_subtree(client, org, db, factory):
    group = factory.unit("Group A", "group", org.home)
    login(client, "organizer")
    page = client.get(f"/units/{org.home.id}/move")
    assert page.status_code == 200 and "Mobile Members General Branch" in page.get_data(as_text=True)
    response = client.post(f"/units/{org.home.id}/move", data={"parent": org.mobile.id})
    assert response.status_code == 302
    db.session.expire_all()
    home = db.session.get(OrgUnit, org.home.id)
    group = db.session.get(OrgUnit, group.id)
    assert home.parent_id == org.mobile.id and home.path == f"{org.mobile.path}{home.id}/"
    assert group.path == f"{home.path}{group.id}/" and group.depth == home.depth + 1
    entry = _audits(db, "unit.moved")[0]
    assert entry.details == {"old_parent_id": org.township.id, "new_parent_id": org.mobile.id}


def test_move_refuses_cycles_with_a_clear_message(client, org, db, factory):
    group = factory.unit("Group A", "group", org.home)
    login(client, "organizer")
    response = client.post(f"/units/{org.township.id}/move", data={"parent": group.id})
    assert response.status_code == 422
    assert "cannot be moved below itself or below one of its own sub-units" in response.get_data(as_text=True)
    response = client.post(f"/units/{org.township.id}/move", data={"parent": org.township.id})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(OrgUnit, org.township.id).parent_id == org.root.id
    assert db.session.get(OrgUnit, group.id).path == f"{org.home.path}{group.id}/"
    assert not _audits(db, "unit.moved")


def test_move_target_must_be_in_scope(client, org, db, factory):
    other_root = factory.unit("Other County", "committee")
    login(client, "organizer")
    response = client.post(f"/units/{org.home.id}/move", data={"parent": other_root.id})
    assert response.status_code == 422
    assert "Choose one of the units you manage." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, org.home.id).parent_id == org.township.id


def test_close_refuses_a_unit_that_is_not_empty(client, org, db):
    login(client, "organizer")
    response = client.post(f"/units/{org.home.id}/close")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    # home_sec, member1, member2 live there
    assert "still has 0 open sub-units, 3 members and 0 incoming members hosted" in text
    response = client.post(f"/units/{org.host.id}/close")
    assert response.status_code == 409
    assert "1 incoming members hosted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, org.home.id).closed_at is None
    assert not _audits(db, "unit.closed")


def test_close_an_empty_unit_then_it_takes_nothing_new(client, org, db, factory):
    empty = factory.unit("Empty Branch", "branch", org.township)
    login(client, "organizer")
    assert client.post(f"/units/{empty.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(OrgUnit, empty.id).is_closed
    assert _audits(db, "unit.closed")[0].target_id == str(empty.id)
    response = client.post(f"/units/new?parent={empty.id}", data={"name": "Under closed", "kind": "group"})
    assert response.status_code == 422
    assert "cannot be added below a closed unit" in response.get_data(as_text=True)
    response = client.post(f"/units/{org.home.id}/move", data={"parent": empty.id})
    assert response.status_code == 422


def test_edit_page_explains_what_blocks_closing(client, org):
    login(client, "organizer")
    page = client.get(f"/units/{org.township.id}/edit").get_data(as_text=True)
    assert "still has 2 open sub-units, 0 members and 0 incoming members hosted" in page
