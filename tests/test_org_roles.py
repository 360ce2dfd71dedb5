"""Role assignments per unit: list, give, take away; only admins grant or remove admin; audited."""
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.org.models import RoleAssignment
from portal.org.permissions import can
from tests.conftest import login


def _roles(db, unit):
    db.session.expire_all()
    return sorted((r.account.username, r.role) for r in db.session.scalars(
        select(RoleAssignment).where(RoleAssignment.unit_id == unit.id)))


def test_organizer_lists_and_assigns_a_secretary(client, org, db, factory):
    newcomer = factory.member(org.foreign, "newcomer")
    login(client, "organizer")
    page = client.get(f"/units/{org.foreign.id}/roles").get_data(as_text=True)
    assert "foreign-secretary" in page and 'value="admin"' not in page  # organizers cannot grant admin
    response = client.post(f"/units/{org.foreign.id}/roles", data={"username": "newcomer", "role": "secretary"})
    assert response.status_code == 302
    assert _roles(db, org.foreign) == [("foreign-secretary", "secretary"), ("newcomer", "secretary")]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "role.assigned"))
    assert entry.details == {"role": "secretary", "username": "newcomer"} and entry.unit_id == org.foreign.id
    # The role takes effect at once: the newcomer now sees the outsider.
    client.post("/logout")
    login(client, "newcomer")
    assert client.get(f"/members/{org.outsider.id}").status_code == 200
    assert client.get(f"/members/{org.member1.id}").status_code == 404
    assert newcomer.id


def test_bad_role_requests_change_nothing(client, org, db):
    login(client, "organizer")
    for data, message in (({"username": "nobody", "role": "secretary"}, "There is no account with this username."),
                          ({"username": "member2", "role": "admin"}, "Not a valid choice"),
                          ({"username": "foreign-secretary", "role": "secretary"}, "already holds this role here"),
                          ({"username": "", "role": "secretary"}, "This field is required.")):
        response = client.post(f"/units/{org.foreign.id}/roles", data=data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert _roles(db, org.foreign) == [("foreign-secretary", "secretary")]


def test_only_admins_grant_and_remove_admin(client, org, db):
    login(client, "admin")
    assert 'value="admin"' in client.get(f"/units/{org.root.id}/roles").get_data(as_text=True)
    assert client.post(f"/units/{org.root.id}/roles", data={"username": "member2", "role": "admin"}).status_code == 302
    assert ("member2", "admin") in _roles(db, org.root)
    client.post("/logout")
    login(client, "organizer")
    granted = db.session.scalar(select(RoleAssignment).where(RoleAssignment.role == "admin",
                                                              RoleAssignment.account_id == org.member2.account_id))
    response = client.post(f"/units/{org.root.id}/roles/{granted.id}/remove")
    assert response.status_code == 403  # a refusal of the actor (tk.Forbidden), not a state conflict
    assert "Only site admins may remove a site admin." in response.get_data(as_text=True)
    assert ("member2", "admin") in _roles(db, org.root)


def test_remove_a_role_and_the_last_admin_stays(client, org, db):
    login(client, "admin")
    assignment = db.session.scalar(select(RoleAssignment).where(RoleAssignment.unit_id == org.foreign.id))
    assert client.post(f"/units/{org.foreign.id}/roles/{assignment.id}/remove").status_code == 302
    assert _roles(db, org.foreign) == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "role.removed"))
    assert entry.details == {"role": "secretary", "username": "foreign-secretary"}
    db.session.expire_all()
    assert not can("members.view", org.foreign, db.session.get(type(org.foreign_sec), org.foreign_sec.id))
    own = db.session.scalar(select(RoleAssignment).where(RoleAssignment.role == "admin"))
    response = client.post(f"/units/{org.root.id}/roles/{own.id}/remove")
    assert response.status_code == 409 and "The last site admin cannot be removed." in response.get_data(as_text=True)
    assert ("admin", "admin") in _roles(db, org.root)


def test_roles_are_managed_only_within_scope(client, org, db):
    login(client, "home-secretary")
    assert client.get(f"/units/{org.home.id}/roles").status_code == 404
    assert client.post(f"/units/{org.home.id}/roles", data={"username": "member2", "role": "secretary"}).status_code == 404
    assignment = db.session.scalar(select(RoleAssignment).where(RoleAssignment.unit_id == org.foreign.id))
    assert client.post(f"/units/{org.foreign.id}/roles/{assignment.id}/remove").status_code == 404
    client.post("/logout")
    login(client, "organizer")  # an assignment id must belong to the unit in the URL
    assert client.post(f"/units/{org.home.id}/roles/{assignment.id}/remove").status_code == 404
    assert _roles(db, org.foreign) == [("foreign-secretary", "secretary")]
    assert ("member2", "secretary") not in _roles(db, org.home)
