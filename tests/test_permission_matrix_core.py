"""Every GET route of the core blueprints × every role, including a foreign branch's secretary.

Who is who (tests/helpers/factories.py): admin (site), organizer (root committee),
home_sec (East Ridge branch: member1 and member2 live there), host_sec (Shenzhen
mobile members' branch, where member1 is hosted), foreign_sec (Stone Bridge branch,
the outsider's). Rules proved here:

- members see only themselves; anonymous visitors are sent to the login page (API: 401);
- home_sec sees and edits everyone at home, resets their passwords, but manages no units or roles;
- host_sec sees member1's basic profile (host-visible) but not member2 or the outsider, and edits nobody;
- foreign_sec gets 404 on everyone and everything in the home branch;
- organizer and admin see everything under the root; only admins reach the admin screens.
"""
from types import SimpleNamespace

from portal.org.models import Member
from tests.helpers.permission_matrix import ROLES, admin_only, check_matrix, expect, logged_in, public

CORE_BLUEPRINTS = {"web", "auth", "org", "inbox", "admin", "audit", "api", "search", "xapi_api", "pwa"}


def only(*allowed: str, status: int = 200, denied: int = 404, anonymous: int = 302) -> dict:
    """``status`` for the ``allowed`` roles, ``denied`` for every other logged-in role."""
    return expect(denied, anonymous=anonymous, **{role: status for role in allowed})


def expectations(s: SimpleNamespace) -> dict:
    """The matrix for one scenario: a unit, a member, and who may do what with them."""
    return {
        # web
        "web.home": expect(302),
        "web.dashboard": logged_in(),
        "web.me": logged_in(),
        "web.me_export": logged_in(),
        "web.search": public(),
        "web.unit_dashboard": only(*s.unit_staff),
        # auth, inbox
        "auth.login": expect(302, anonymous=200),
        "auth.change_password": logged_in(),
        "auth.account": logged_in(),
        "inbox.index": logged_in(),
        # admin, audit
        "admin.index": admin_only(),
        "admin.plugins": admin_only(),
        "admin.permissions": admin_only(),
        "admin.settings": admin_only(),
        "admin.accounts": admin_only(),
        "admin.reset_account_password": admin_only(),
        "audit.index": admin_only(),
        # api, search
        "api.me": expect(200, anonymous=401),
        "api.me_export": expect(200, anonymous=401),
        "api.inbox_list": expect(200, anonymous=401),
        "api.openapi": public(),
        "search.api_search": public(),
        # the app shell (issue 21): nothing of an account in it
        "pwa.manifest": public(),
        "pwa.service_worker": public(),
        "pwa.offline": public(),
        "xapi_api.statements": expect(403, anonymous=401, organizer=200, admin=200),  # admins, organizers
        # org: units
        "org.units": expect(403, anonymous=302, home_sec=200, host_sec=200, foreign_sec=200, organizer=200, admin=200),
        "org.unit": only(*s.unit_staff),
        "org.export_members": only(*s.unit_staff),
        "org.import_members": only(*s.unit_staff),
        "org.import_rejected": expect(404, anonymous=302),  # only with this session's token (tests/test_import_members.py)
        "org.new_member": only(*s.unit_staff),
        "org.new_unit": only("organizer", "admin"),
        "org.edit_unit": only("organizer", "admin"),
        "org.move_unit": only("organizer", "admin"),
        "org.roles": only("organizer", "admin"),
        # org: members
        "org.member": only(*s.member_viewers),
        "org.edit_member": only(*s.member_editors),
        "org.member_contact": only(*s.member_editors),
        "org.member_account": only(*s.account_editors, status=s.account_status),
        "org.reset_password": only(*s.member_editors),
    }


def url_values(unit, member, account_member):
    return {
        "web.unit_dashboard": {"unit_id": unit.id}, "web.search": {"q": "党员"},
        "search.api_search": {"q": "党员"},
        "org.unit": {"unit_id": unit.id}, "org.export_members": {"unit_id": unit.id},
        "org.import_members": {"unit_id": unit.id}, "org.new_member": {"unit_id": unit.id},
        "org.import_rejected": {"unit_id": unit.id},
        "org.new_unit": {"parent": unit.id}, "org.edit_unit": {"unit_id": unit.id},
        "org.move_unit": {"unit_id": unit.id}, "org.roles": {"unit_id": unit.id},
        "org.member": {"member_id": member.id}, "org.edit_member": {"member_id": member.id},
        "org.member_contact": {"member_id": member.id}, "org.reset_password": {"member_id": member.id},
        "org.member_account": {"member_id": account_member.id},
        "admin.reset_account_password": lambda org: {"account_id": org.organizer.id},
    }


def test_home_branch_and_the_hosted_member(app, org):
    """Unit: the home branch; member: member1 (away, hosted at host)."""
    scenario = SimpleNamespace(
        unit_staff=("home_sec", "organizer", "admin"),
        member_viewers=("member1", "home_sec", "host_sec", "organizer", "admin"),
        member_editors=("home_sec", "organizer", "admin"),
        account_editors=("home_sec", "organizer", "admin"), account_status=302,  # already has an account
    )
    checked = check_matrix(app, org, expectations(scenario), blueprints=CORE_BLUEPRINTS,
                           url_values=url_values(org.home, org.member1, org.member1))
    assert checked == len(expectations(scenario)) * len(ROLES)


def test_host_branch_and_a_member_at_home(app, org, db):
    """Unit: the host branch; member: member2 (at home, so invisible to the host side)."""
    no_login = Member(name="赵六", home_unit_id=org.home.id, stage="full")
    db.session.add(no_login)
    db.session.commit()
    scenario = SimpleNamespace(
        unit_staff=("host_sec", "organizer", "admin"),
        member_viewers=("member2", "home_sec", "organizer", "admin"),
        member_editors=("home_sec", "organizer", "admin"),
        account_editors=("home_sec", "organizer", "admin"), account_status=200,
    )
    check_matrix(app, org, expectations(scenario), blueprints=CORE_BLUEPRINTS,
                 url_values=url_values(org.host, org.member2, no_login))


def test_foreign_branch_and_the_outsider(app, org):
    """Unit: the foreign branch; member: the outsider."""
    scenario = SimpleNamespace(
        unit_staff=("foreign_sec", "organizer", "admin"),
        member_viewers=("outsider", "foreign_sec", "organizer", "admin"),
        member_editors=("foreign_sec", "organizer", "admin"),
        account_editors=("foreign_sec", "organizer", "admin"), account_status=302,
    )
    check_matrix(app, org, expectations(scenario), blueprints=CORE_BLUEPRINTS,
                 url_values=url_values(org.foreign, org.outsider, org.outsider))


def test_secretaries_profiles_are_reset_only_by_those_above_them(app, org):
    """A secretary's own account holds a role: their fellow secretaries cannot reset it, organizers can."""
    scenario = SimpleNamespace(
        unit_staff=("home_sec", "organizer", "admin"),
        member_viewers=("home_sec", "organizer", "admin"),
        member_editors=("home_sec", "organizer", "admin"),
        account_editors=("home_sec", "organizer", "admin"), account_status=302,
    )
    matrix = expectations(scenario)
    matrix["org.reset_password"] = expect(404, anonymous=302, home_sec=403, organizer=200, admin=200)
    check_matrix(app, org, matrix, blueprints={"org"},
                 url_values=url_values(org.home, org.home_sec.member, org.home_sec.member))


def test_top_units_and_hosted_lists(app, org):
    """Routes whose answer depends on query arguments, for every role."""
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            client.post("/login", data={"login": org.accounts[role].username, "password": "pass-1234"})
        clients[role] = client
    new_root = {role: clients[role].get("/units/new").status_code for role in ROLES}
    assert new_root == {**{r: 403 for r in ROLES}, "anonymous": 302, "admin": 200}
    hosted = {role: clients[role].get(f"/units/{org.host.id}?where=hosted") for role in ROLES}
    assert {r: resp.status_code for r, resp in hosted.items()} == {
        **{r: 404 for r in ROLES}, "anonymous": 302, "host_sec": 200, "organizer": 200, "admin": 200}
    host_list = hosted["host_sec"].get_data(as_text=True)
    assert "张伟" in host_list and "李芳" not in host_list and "王强" not in host_list
    for role in ("home_sec", "foreign_sec"):  # the home side lists its members, not someone else's hosted ones
        assert clients[role].get(f"/units/{org.home.id}?where=hosted").status_code == (200 if role == "home_sec" else 404)


def test_what_the_host_secretary_sees_of_member1(app, org, db):
    db.session.get(Member, org.member1.id).id_number = "11010519491231002X"
    db.session.get(Member, org.member1.id).notes = "家中老人需要照顾"
    db.session.commit()
    host = app.test_client()
    host.post("/login", data={"login": "host-secretary", "password": "pass-1234"})
    page = host.get(f"/members/{org.member1.id}?show_id=1").get_data(as_text=True)
    assert "张伟" in page and "深圳市" in page
    for secret in ("11010519491231002X", "110***********002X", "家中老人需要照顾",
                   f"/members/{org.member1.id}/edit", f"/members/{org.member1.id}/password"):
        assert secret not in page
    home = app.test_client()
    home.post("/login", data={"login": "home-secretary", "password": "pass-1234"})
    page = home.get(f"/members/{org.member1.id}").get_data(as_text=True)
    assert "110***********002X" in page and "家中老人需要照顾" in page and f"/members/{org.member1.id}/edit" in page
