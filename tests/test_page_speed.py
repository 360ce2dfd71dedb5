"""Per-request work done once (issue 20): setting defaults, care category names, the member list's counts."""
from __future__ import annotations

from portal import settings
from portal.org.models import Member
from portal_care import vocabulary
from tests.conftest import login


def test_setting_defaults_are_gathered_once_until_a_setting_changes(app, db, monkeypatch):
    calls = []
    specs = settings.setting_specs
    monkeypatch.setattr(settings, "setting_specs", lambda: calls.append(1) or specs())
    with app.test_request_context():
        assert settings.get_setting("courses", "reading_heartbeat_seconds") == 15
        assert settings.get_setting("courses", "comments_enabled") is True
        assert settings.get_setting("courses", "no such key", "fallback") == "fallback"
        assert len(calls) == 1  # every plugin was asked once, not once per unset key
        settings.set_setting("courses", "comments_enabled", False)  # drops the stored settings: the defaults follow
        assert settings.get_setting("courses", "comments_enabled") is False
        assert settings.get_setting("courses", "reading_heartbeat_seconds") == 15
        assert len(calls) == 2


def test_category_label_agrees_with_the_category_list(app, db):
    with app.test_request_context():
        vocabulary.save_category("wages", "Wages and contracts", True, 5)
        vocabulary.save_category("medical", None, False, 15)  # hidden, still named in old requests
        vocabulary.save_category("flood", "Flood relief", True, 100)
        vocabulary.save_category("nameless", None, True, 110)
        db.session.flush()
        listed = {key: label for key, label, _active in vocabulary.categories(include_inactive=True)}
        assert listed["wages"] == "Wages and contracts"
        assert {key: vocabulary.category_label(key) for key in listed} == listed
        assert vocabulary.category_label("unknown") == "unknown"


def test_member_list_counts_members_and_others_in_one_statement(client, db, org, factory):
    factory.member(org.home, name="An applicant", stage="applicant")
    factory.member(org.foreign, name="A candidate", stage="candidate")
    db.session.commit()
    everyone = db.session.query(Member).count()
    others = db.session.query(Member).filter(Member.stage.not_in(("full", "probationary"))).count()
    login(client, "organizer")
    page = client.get(f"/units/{org.root.id}").get_data(as_text=True)
    assert f"<p>{everyone - others} members · also listed: {others} applicants" in page
    assert f"also listed: {others} applicants, activists and candidates" in page
    at_home = db.session.query(Member).filter(Member.home_unit_id == org.home.id)
    home_others = at_home.filter(Member.stage.not_in(("full", "probationary"))).count()
    client.post("/logout")
    login(client, "home-secretary")
    page = client.get(f"/units/{org.home.id}").get_data(as_text=True)
    assert f"<p>{at_home.count() - home_others} member" in page
    assert "An applicant" in page and "A candidate" not in page
