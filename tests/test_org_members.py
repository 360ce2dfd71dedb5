"""Member screens: profile create/edit with validation, masked ID numbers, contact person,
accounts for members and password resets by secretaries."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account
from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal.org import validation
from portal.org.models import Member
from tests.conftest import login


def make_id(birth: str = "19900501", seq: str = "123", area: str = "360821") -> str:
    """A valid 18-character ID number (odd 17th digit: male)."""
    first = area + birth + seq
    return first + validation.id_number_check_digit(first)


def _audits(db, action):
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _profile(org, **changes):
    data = {"name": "赵敏", "gender": "female", "birth_date": "1995-03-08", "ethnicity": "汉族", "education": "bachelor",
            "phone": "139 0000 1111", "id_number": make_id("19950308", "124"), "stage": "probationary",
            "joined_on": "2024-07-01", "occupation": "软件工程师", "industry": "信息技术", "employer": "深圳某科技公司",
            "current_province": "广东省", "current_city": "深圳市", "home_unit_id": str(org.home.id),
            "is_away": "y", "host_unit_id": str(org.host.id), "notes": "每季度思想汇报"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- validation helpers ---------------------------------------------------------------------------

def test_id_number_checksum_and_format(app):
    with app.test_request_context():
        good = make_id("19900501", "123")
        assert validation.normalize_id_number(good.lower()) == good
        assert validation.normalize_id_number("11010519491231002x") == "11010519491231002X"  # a known valid number
        bad_check = good[:17] + ("0" if good[17] != "0" else "1")
        for value, fragment in ((bad_check, "check character"), (good[:17], "18 characters"),
                                ("36082119901301123" + "1", "birth date"), ("A" + good[1:], "17 digits")):
            with pytest.raises(ValueError, match=fragment):
                validation.normalize_id_number(value)
        assert validation.id_matches_profile_problem(good, date(1990, 5, 2), None)
        assert validation.id_matches_profile_problem(good, date(1990, 5, 1), "female")
        assert validation.id_matches_profile_problem(good, date(1990, 5, 1), "male") is None


def test_phone_and_dates(app):
    with app.test_request_context():
        assert validation.normalize_phone(" 139-0000 1111 ") == "13900001111"
        assert validation.normalize_phone("") is None
        with pytest.raises(ValueError, match="6 to 20 digits"):
            validation.normalize_phone("139abc")
        assert validation.parse_date("1990年5月1日") == date(1990, 5, 1)
        assert validation.parse_date("1990.05") == date(1990, 5, 1)
        assert validation.parse_date(19900501) == date(1990, 5, 1)
        with pytest.raises(ValueError):
            validation.parse_date("May first")
        assert validation.joined_on_problem(date(1990, 1, 1), date(1995, 1, 1))


# --- create and edit --------------------------------------------------------------------------------

def test_secretary_adds_a_member_with_every_field(client, org, db):
    login(client, "home-secretary")
    response = client.post(f"/units/{org.home.id}/members/new", data=_profile(org))
    assert response.status_code == 302, response.get_data(as_text=True)
    member = db.session.scalar(select(Member).where(Member.name == "赵敏"))
    assert (member.gender, member.birth_date, member.ethnicity, member.education) == (
        "female", date(1995, 3, 8), "汉族", "bachelor")
    assert member.phone == "13900001111" and member.id_number == make_id("19950308", "124")
    assert (member.stage, member.joined_on, member.occupation, member.industry, member.employer) == (
        "probationary", date(2024, 7, 1), "软件工程师", "信息技术", "深圳某科技公司")
    assert (member.current_province, member.current_city, member.notes) == ("广东省", "深圳市", "每季度思想汇报")
    assert (member.home_unit_id, member.host_unit_id, member.is_away) == (org.home.id, org.host.id, True)
    assert member.account_id is None
    assert _audits(db, "member.created")[0].target_id == str(member.id)


@pytest.mark.parametrize("changes, message", [
    ({"phone": "139-abc"}, "6 to 20 digits"),
    ({"id_number": make_id("19950308", "124")[:17] + "0"}, "check character"),
    ({"id_number": make_id("19950309", "124")}, "does not match the birth date"),
    ({"id_number": make_id("19950308", "123")}, "does not match the gender"),
    ({"birth_date": "2999-01-01", "id_number": None}, "birth date lies in the future"),
    ({"joined_on": "1990-01-01"}, "must be after the birth date"),
    ({"birth_date": "31/02/1995"}, "Not a valid date"),
    ({"stage": "emperor"}, "Not a valid choice"),
    ({"is_away": None}, "A member with a host branch is away from home"),
    ({"name": ""}, "This field is required"),
])
def test_bad_profile_values_are_refused_and_nothing_is_lost(client, org, db, changes, message):
    login(client, "home-secretary")
    before = db.session.scalar(select(func.count(Member.id)))
    response = client.post(f"/units/{org.home.id}/members/new", data=_profile(org, **changes))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert "深圳某科技公司" in text  # what the secretary typed is still in the form
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Member.id))) == before


def test_duplicate_phone_or_id_number_is_refused(client, org, db):
    login(client, "home-secretary")
    response = client.post(f"/units/{org.home.id}/members/new", data=_profile(org, phone=org.member2.phone))
    assert response.status_code == 422
    assert "Another member already has this phone number." in response.get_data(as_text=True)
    member1 = db.session.get(Member, org.member1.id)
    member1.id_number = make_id("19950308", "124")
    db.session.commit()
    response = client.post(f"/units/{org.home.id}/members/new", data=_profile(org))
    assert "Another member already has this national ID number." in response.get_data(as_text=True)


def test_home_branch_must_be_in_the_editors_scope(client, org, db):
    login(client, "home-secretary")
    response = client.post(f"/units/{org.home.id}/members/new", data=_profile(org, home_unit_id=str(org.foreign.id)))
    assert response.status_code == 422  # not offered in the picker
    assert db.session.scalar(select(Member).where(Member.name == "赵敏")) is None


def test_edit_keeps_the_id_number_unless_changed_and_never_shows_it(client, org, db):
    stored = make_id("19900501", "123")
    member = db.session.get(Member, org.member2.id)
    member.id_number, member.gender = stored, "male"
    db.session.commit()
    login(client, "home-secretary")
    page = client.get(f"/members/{org.member2.id}/edit").get_data(as_text=True)
    assert stored not in page and member.masked_id_number in page
    data = {"name": "李芳芳", "gender": "male", "birth_date": "1990-05-01", "stage": "full",
            "home_unit_id": str(org.home.id), "phone": org.member2.phone, "education": "", "host_unit_id": ""}
    assert client.post(f"/members/{org.member2.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    member = db.session.get(Member, org.member2.id)
    assert member.name == "李芳芳" and member.id_number == stored and member.education is None
    assert member.account.display_name == "李芳芳"
    entry = _audits(db, "member.updated")[0]
    assert "name" in entry.details["fields"] and "id_number" not in entry.details["fields"]
    assert stored not in str(entry.details)
    client.post(f"/members/{org.member2.id}/edit", data={**data, "clear_id_number": "y"})
    db.session.expire_all()
    assert db.session.get(Member, org.member2.id).id_number is None


def test_who_may_edit(client, org, db):
    for username in ("host-secretary", "foreign-secretary", "member1", "member2"):
        login(client, username)
        assert client.get(f"/members/{org.member1.id}/edit").status_code == 404, username
        response = client.post(f"/members/{org.member1.id}/edit", data={"name": "Hacked", "stage": "full",
                                                                       "home_unit_id": org.home.id})
        assert response.status_code == 404
        client.post("/logout")
    db.session.expire_all()
    assert db.session.get(Member, org.member1.id).name == "张伟"
    login(client, "organizer")
    assert client.get(f"/members/{org.member1.id}/edit").status_code == 200


# --- masked ID numbers -----------------------------------------------------------------------------

def test_id_number_masked_unless_entitled_and_unmasking_is_audited(client, org, db):
    stored = make_id("19900501", "123")
    db.session.get(Member, org.member1.id).id_number = stored
    db.session.commit()
    masked = stored[:3] + "*" * 11 + stored[-4:]
    login(client, "home-secretary")
    page = client.get(f"/members/{org.member1.id}").get_data(as_text=True)
    assert masked in page and stored not in page
    assert not _audits(db, "member.id_number_viewed")
    page = client.get(f"/members/{org.member1.id}?show_id=1").get_data(as_text=True)
    assert stored in page
    entry = _audits(db, "member.id_number_viewed")[0]
    assert entry.actor.username == "home-secretary" and entry.target_id == str(org.member1.id)
    client.post("/logout")
    login(client, "host-secretary")  # sees the host-visible basics, never the ID number
    page = client.get(f"/members/{org.member1.id}?show_id=1").get_data(as_text=True)
    assert "张伟" in page and stored not in page and masked not in page


# --- contact person ----------------------------------------------------------------------------------

def test_assign_a_contact_person_notifies_them(client, org, db):
    login(client, "home-secretary")
    page = client.get(f"/members/{org.member1.id}/contact").get_data(as_text=True)
    assert "李芳" in page and "王强" not in page  # same home branch only
    response = client.post(f"/members/{org.member1.id}/contact", data={"contact": org.member2.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, org.member1.id).contact_member_id == org.member2.id
    note = db.session.scalar(select(Notification).where(Notification.account_id == org.member2.account_id))
    assert "张伟" in note.title
    assert _audits(db, "member.contact_assigned")[0].details["contact_member_id"] == org.member2.id
    assert "李芳" in client.get(f"/members/{org.member1.id}").get_data(as_text=True)


def test_contact_from_another_branch_is_refused(client, org, db):
    login(client, "organizer")
    response = client.post(f"/members/{org.member1.id}/contact", data={"contact": org.outsider.id})
    assert response.status_code == 422
    response = client.post(f"/members/{org.member1.id}/contact", data={"contact": org.member1.id})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Member, org.member1.id).contact_member_id is None


# --- accounts and password resets --------------------------------------------------------------------

def _member_without_account(db, org, phone="13800002222"):
    member = Member(name="孙丽", home_unit_id=org.home.id, phone=phone, stage="full")
    db.session.add(member)
    db.session.commit()
    return member


def test_create_an_account_for_a_member(client, org, db, app):
    member = _member_without_account(db, org)
    login(client, "home-secretary")
    page = client.get(f"/members/{member.id}/account").get_data(as_text=True)
    assert 'value="13800002222"' in page
    response = client.post(f"/members/{member.id}/account", data={
        "username": "sunli", "phone": "13800002222", "password": "start-2026"})
    assert response.status_code == 302
    db.session.expire_all()
    account = db.session.get(Member, member.id).account
    assert (account.username, account.phone, account.display_name, account.must_change_password) == (
        "sunli", "13800002222", "孙丽", True)
    assert _audits(db, "account.created")[0].details["member_id"] == member.id
    member_client = app.test_client()
    assert login(member_client, "13800002222", "start-2026").headers["Location"].endswith("/password")
    assert member_client.get("/dashboard").headers["Location"].endswith("/password")


def test_account_creation_refuses_taken_names_and_weak_passwords(client, org, db):
    member = _member_without_account(db, org)
    login(client, "home-secretary")
    response = client.post(f"/members/{member.id}/account", data={"username": "member1", "password": "start-2026"})
    assert response.status_code == 422 and "already taken" in response.get_data(as_text=True)
    response = client.post(f"/members/{member.id}/account", data={"username": "sun li", "password": "start-2026"})
    assert "Use letters, digits" in response.get_data(as_text=True)
    response = client.post(f"/members/{member.id}/account", data={"username": "sunli", "password": "12345678"})
    assert "mix letters" in response.get_data(as_text=True)
    assert client.post(f"/members/{org.member1.id}/account",
                       data={"username": "x", "password": "start-2026"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Member, member.id).account_id is None
    assert db.session.scalar(select(Account).where(Account.username == "sunli")) is None


def test_secretary_resets_a_members_password(client, org, db, app):
    member_client = app.test_client()
    login(member_client, "member1")
    assert member_client.get("/dashboard").status_code == 200
    login(client, "home-secretary")
    response = client.post(f"/members/{org.member1.id}/password", data={"password": "temp-4321"})
    assert response.status_code == 302
    assert member_client.get("/dashboard").status_code == 302  # the old session ended
    db.session.expire_all()
    account = db.session.get(Account, org.member1.account_id)
    assert account.must_change_password
    entry = _audits(db, "account.password_reset")[0]
    assert entry.actor.username == "home-secretary" and entry.target_id == str(account.id)
    fresh = app.test_client()
    assert login(fresh, "member1", "temp-4321").headers["Location"].endswith("/password")
    assert fresh.get("/dashboard").headers["Location"].endswith("/password")
    response = fresh.post("/password", data={"current": "temp-4321", "new": "mine-5678", "repeat": "mine-5678"})
    assert response.status_code == 302
    assert fresh.get("/dashboard").status_code == 200


def test_password_reset_scope(client, org, db, factory):
    deputy = factory.staff("deputy", "secretary", org.home)
    boss = factory.member(org.home, "boss")
    factory.grant(boss.account, "admin", org.root)
    checks = {
        ("host-secretary", org.member1.id): 404, ("foreign-secretary", org.member1.id): 404,
        ("member2", org.member1.id): 404, ("home-secretary", deputy.member.id): 403,
        ("home-secretary", boss.id): 403, ("organizer", boss.id): 403,
        ("organizer", deputy.member.id): 200, ("admin", boss.id): 200,
        ("home-secretary", org.home_sec.member.id): 403,
    }
    for (username, member_id), status in checks.items():
        client.post("/logout")
        login(client, username)
        assert client.get(f"/members/{member_id}/password").status_code == status, (username, member_id)
        if status != 200:
            client.post(f"/members/{member_id}/password", data={"password": "temp-4321"})
    db.session.expire_all()
    assert not _audits(db, "account.password_reset")
    assert not any(a.must_change_password for a in db.session.scalars(select(Account)))
