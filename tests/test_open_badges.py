"""Open Badges 2.0: the hosted documents' required fields, hashed recipients, baked images, revocation, issuance."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, timedelta

import openbadges_bakery
import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import toolkit as tk
from portal.badges import services as badges
from portal.badges.models import BadgeAssertion, BadgeClass
from portal.cli import cli
from portal.storage import get_store
from portal_courses import services as courses
from portal_courses.models import Certificate, Course
from portal_courses.sync import sync_directory
from portal_points import services as points
from portal_points.models import PointsBadge

CONTEXT = "https://w3id.org/openbadges/v2"
JSON_LD = "application/ld+json"
# Required properties per class, from the Open Badges 2.0 specification (IMS Global, final, 2018):
# https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html
ASSERTION_REQUIRED = {"@context", "id", "type", "recipient", "badge", "verification", "issuedOn"}
IDENTITY_REQUIRED = {"type", "identity", "hashed"}
BADGE_CLASS_REQUIRED = {"@context", "id", "type", "name", "description", "image", "criteria", "issuer"}
ISSUER_REQUIRED = {"@context", "id", "type", "name", "url", "email"}  # email: required of an issuer profile
REVOCATION_LIST_REQUIRED = {"@context", "type", "id", "issuer", "revokedAssertions"}
BASE = "http://localhost"


def _certified(db, member) -> Certificate:
    """``member`` completes the shipped course "getting-started" (which grants a certificate)."""
    sync_directory()
    course = db.session.scalar(select(Course).where(Course.slug == "getting-started"))
    start = tk.utcnow() - timedelta(hours=3)
    for index, lesson in enumerate(course.active_lessons):
        courses.open_lesson(member, lesson, now=start + timedelta(minutes=10 * index))
        courses.complete_lesson(member, lesson, now=start + timedelta(minutes=10 * index + 5))
    db.session.commit()
    return db.session.scalar(select(Certificate).where(Certificate.member_id == member.id))


@pytest.fixture
def cert(app, db, org):
    org.member1.account.email = "Zhang.Wei@Example.org"
    db.session.commit()
    return _certified(db, org.member1)


@pytest.fixture
def assertion(cert, db) -> BadgeAssertion:
    return badges.assertion_for_source(f"certificate:{cert.id}")


def _get(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == JSON_LD
    return json.loads(response.get_data(as_text=True))


def _is_iso_with_offset(value: str) -> bool:
    return datetime.fromisoformat(value).utcoffset() is not None


def test_a_course_certificate_is_issued_as_an_open_badge(cert, assertion, org):
    assert assertion is not None and assertion.member_id == org.member1.id and assertion.revoked_at is None
    badge_class = assertion.badge_class
    assert badge_class.key == "course:getting-started" and badge_class.plugin == "courses"
    assert badge_class.name == "Getting started with the portal"  # the course's title in the default language
    assert badge_class.criteria_path == "/courses/getting-started"
    assert assertion.evidence_path == f"/certificates/verify/{cert.code}"
    assert assertion.issued_at == cert.issued_at


def test_issuing_is_idempotent_on_its_source(cert, assertion, db, org):
    again = tk.issue_badge(org.member1, key="course:getting-started", plugin="courses", name="Another name",
                           description="d", criteria_narrative="c", source=f"certificate:{cert.id}")
    courses.issue_certificate_badge(cert)  # the plugin's own path once more
    db.session.commit()
    assert again.id == assertion.id
    assert db.session.scalar(select(func.count()).select_from(BadgeAssertion)) == 1
    assert db.session.scalar(select(func.count()).select_from(BadgeClass)) == 1
    assert assertion.badge_class.name == "Getting started with the portal"  # the latest call's texts


def test_the_documents_have_every_required_field(cert, assertion, client, db):
    tk.set_setting("core", "badge_issuer_email", "badges@example.org")
    db.session.commit()
    document = _get(client, f"/badges/assertions/{assertion.uid}")
    assert ASSERTION_REQUIRED <= set(document) and document["@context"] == CONTEXT and document["type"] == "Assertion"
    assert document["id"] == f"{BASE}/badges/assertions/{assertion.uid}"
    assert IDENTITY_REQUIRED <= set(document["recipient"]) and document["recipient"]["hashed"] is True
    assert document["verification"] == {"type": "hosted"} and _is_iso_with_offset(document["issuedOn"])
    assert document["issuedOn"].endswith("+08:00")
    assert document["evidence"] == f"{BASE}/certificates/verify/{cert.code}"
    assert document["image"] == f"{BASE}/badges/assertions/{assertion.uid}/baked.png"

    badge_class = _get(client, document["badge"].removeprefix(BASE))
    assert BADGE_CLASS_REQUIRED <= set(badge_class) and badge_class["type"] == "BadgeClass"
    assert badge_class["id"] == document["badge"] == f"{BASE}/badges/classes/course:getting-started"
    assert badge_class["criteria"]["id"] == f"{BASE}/courses/getting-started" and badge_class["criteria"]["narrative"]
    assert badge_class["name"] == "Getting started with the portal" and badge_class["description"]

    issuer = _get(client, badge_class["issuer"].removeprefix(BASE))
    assert ISSUER_REQUIRED <= set(issuer) and issuer["type"] == "Issuer" and issuer["id"] == badge_class["issuer"]
    assert issuer["email"] == "badges@example.org" and issuer["url"].startswith(BASE)
    assert issuer["name"] == "County Committee"  # the organization: the tree's top unit
    assert issuer["revocationList"] == f"{BASE}/badges/revocations"

    revocations = _get(client, "/badges/revocations")
    assert REVOCATION_LIST_REQUIRED <= set(revocations) and revocations["type"] == "RevocationList"
    assert revocations["issuer"] == issuer["id"] and revocations["revokedAssertions"] == []

    image = client.get(badge_class["image"].removeprefix(BASE))
    assert image.status_code == 200 and image.mimetype == "image/png"
    with Image.open(io.BytesIO(image.data)) as png:
        assert png.format == "PNG" and png.width == png.height >= 90


def test_the_issuer_gives_no_email_until_one_is_set(client, db):
    issuer = _get(client, "/badges/issuer")
    assert "email" not in issuer and issuer["name"] and issuer["url"]


def test_public_url_makes_the_addresses(cert, assertion, app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.cn/")
    document = _get(client, f"/badges/assertions/{assertion.uid}")
    assert document["id"] == f"https://portal.example.cn/badges/assertions/{assertion.uid}"
    assert document["badge"] == "https://portal.example.cn/badges/classes/course:getting-started"


def test_the_hashed_email_identity_verifies(assertion, client):
    document = _get(client, f"/badges/assertions/{assertion.uid}")
    recipient = document["recipient"]
    assert recipient["type"] == "email" and len(recipient["salt"]) == 32
    expected = "sha256$" + hashlib.sha256(("zhang.wei@example.org" + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == expected
    wrong = "sha256$" + hashlib.sha256(("other@example.org" + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] != wrong
    assert "example.org" not in json.dumps(document) and "张伟" not in json.dumps(document)


def test_without_an_email_the_recipient_is_the_hashed_xapi_actor(app, db, org, client):
    from portal.xapi.statements import actor_for

    cert = _certified(db, org.member2)  # no e-mail address; issued outside a request, without PUBLIC_URL
    assertion = badges.assertion_for_source(f"certificate:{cert.id}")
    assert assertion.recipient_type == "url" and assertion.identity == ""  # no address to hash from yet
    recipient = _get(client, f"/badges/assertions/{assertion.uid}")["recipient"]
    with app.test_request_context("/", base_url=BASE):
        account = actor_for(org.member2.id)["account"]
    iri = f"{BASE}/xapi/actors/{account['name']}"
    assert recipient["type"] == "url"
    assert recipient["identity"] == "sha256$" + hashlib.sha256((iri + recipient["salt"]).encode()).hexdigest()
    for private in (org.member2.phone, org.member2.account.username, org.member2.name):
        assert private not in iri


def test_with_public_url_the_actor_identity_is_kept_at_issuance(app, db, org, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.cn")
    assertion = tk.issue_badge(org.member2, key="test:kept", plugin="core", name="Kept", description="d",
                               criteria_narrative="c", source="test:kept:1")
    iri = badges.actor_iri(org.member2.id)
    assert iri.startswith("https://portal.example.cn/xapi/actors/")
    assert assertion.identity == badges.hashed_identity(iri, assertion.salt) == badges.identity_of(assertion)


def test_the_baked_image_carries_the_assertion(assertion, client):
    response = client.get(f"/badges/assertions/{assertion.uid}/baked.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    baked = json.loads(openbadges_bakery.unbake(io.BytesIO(response.data)))
    assert baked["id"] == f"{BASE}/badges/assertions/{assertion.uid}"
    assert baked == _get(client, f"/badges/assertions/{assertion.uid}")
    with Image.open(io.BytesIO(response.data)) as png:
        assert png.width == png.height >= 90
    # made once and kept in the store (the store outlives a test: other tests' images may be there too)
    keys = [key for key in get_store().keys("badges/baked/") if assertion.uid in key]
    assert len(keys) == 1
    assert client.get(f"/badges/assertions/{assertion.uid}/baked.png").data == response.data
    assert [key for key in get_store().keys("badges/baked/") if assertion.uid in key] == keys


def test_revoking_the_certificate_revokes_the_badge(cert, assertion, client, db):
    courses.revoke_certificate(cert, "Issued by mistake")
    db.session.commit()
    gone = client.get(f"/badges/assertions/{assertion.uid}")
    assert gone.status_code == 410 and gone.mimetype == JSON_LD
    body = gone.get_json(force=True)
    assert body["revoked"] is True and body["revocationReason"] == "Issued by mistake"
    assert body["id"] == f"{BASE}/badges/assertions/{assertion.uid}" and body["@context"] == CONTEXT
    assert client.get(f"/badges/assertions/{assertion.uid}/baked.png").status_code == 410
    revoked = _get(client, "/badges/revocations")["revokedAssertions"]
    assert revoked == [{"id": f"{BASE}/badges/assertions/{assertion.uid}", "revocationReason": "Issued by mistake"}]
    assert badges.badges_of(cert.member_id) == []
    assert tk.revoke_badge(f"certificate:{cert.id}", "Another reason").revocation_reason == "Issued by mistake"


def test_the_public_documents_need_no_login_and_unknown_ones_are_404(assertion, client):
    for path in ("/badges/issuer", "/badges/revocations", f"/badges/assertions/{assertion.uid}",
                 "/badges/classes/course:getting-started"):
        response = client.get(path)
        assert response.status_code == 200 and response.cache_control.public, path
    for path in ("/badges/assertions/not-a-uid", "/badges/assertions/not-a-uid/baked.png",
                 "/badges/classes/course:nothing", "/badges/classes/course:nothing/image.png"):
        assert client.get(path).status_code == 404, path


def test_a_lost_medal_is_drawn_again(assertion, client):
    get_store().delete(assertion.badge_class.image_key)
    response = client.get("/badges/classes/course:getting-started/image.png")
    assert response.status_code == 200 and response.data.startswith(b"\x89PNG")
    assert get_store().get(assertion.badge_class.image_key) == response.data


def test_medals_show_a_short_number_or_the_names_first_characters(db, org):
    from portal.badges.images import _label

    assert [_label(name) for name in ("Level 2 reached", "达到第 12 级", "流动党员之家使用入门", "《党章》学习",
                                      "Getting started with the portal", "2024年党史学习", "2024 Party history", "")] == [
        "2", "12", "流动", "党章", "GSW", "党史", "PH", "★"]
    with pytest.raises(ValueError):
        tk.issue_badge(org.member1, key="course/../x", plugin="courses", name="x", description="x",
                       criteria_narrative="x", source="test:bad-key")


def test_a_points_level_badge_is_issued_as_an_open_badge(db, org):
    points.award_manual(org.member1, 60, "Helped a neighbour", account=org.home_sec)  # level 2 needs 50
    db.session.commit()
    badge = db.session.scalar(select(PointsBadge).where(PointsBadge.member_id == org.member1.id))
    assertion = badges.assertion_for_source(f"points-badge:{badge.id}")
    assert assertion is not None and assertion.badge_class.key == "points:level:2"
    assert assertion.badge_class.name == "Level 2 reached" and assertion.badge_class.criteria_path == "/points/rules"
    assert "50 points" in assertion.badge_class.criteria_narrative


def test_a_campaign_place_is_its_own_badge_class(db, org):
    campaign = points.save_campaign(None, name="Report often", description="", starts_on=date(2026, 3, 1),
                                    ends_on=date(2026, 3, 20), units=[org.township], owner_unit=org.township,
                                    account_id=None, now=datetime(2026, 3, 2))
    for member, earned in ((org.member1, 9), (org.member2, 4)):
        points.award_manual(member, earned, "Reported every week", account=org.admin, campaign=campaign,
                            now=datetime(2026, 3, 2))
    points.finalize_campaigns(datetime(2026, 3, 21, 2))
    db.session.commit()
    classes = {a.member_id: a.badge_class for a in db.session.scalars(select(BadgeAssertion))}
    assert classes[org.member1.id].key == f"points:campaign:{campaign.id}:1"
    assert classes[org.member2.id].key == f"points:campaign:{campaign.id}:2"
    assert classes[org.member1.id].name == "Place 1 in Report often"
    assert classes[org.member1.id].criteria_path == f"/points/campaigns/{campaign.id}"


def test_the_backfill_issues_what_was_earned_before_and_changes_nothing_the_second_time(cert, app, db, org):
    points.award_manual(org.member1, 60, "Helped a neighbour", account=org.home_sec)
    courses.revoke_certificate(cert, "Issued by mistake")
    db.session.commit()
    db.session.execute(BadgeAssertion.__table__.delete())  # as before Open Badges existed
    db.session.commit()
    runner = app.test_cli_runner()
    for _round in range(2):
        assert "1 certificate(s)" in runner.invoke(cli, ["courses", "badges-sync"]).output
        assert "1 points badge(s)" in runner.invoke(cli, ["points", "badges-sync"]).output
    rows = db.session.scalars(select(BadgeAssertion).order_by(BadgeAssertion.source)).all()
    assert [(row.source.split(":")[0], row.revoked_at is not None) for row in rows] == [
        ("certificate", True), ("points-badge", False)]
    assert rows[0].revocation_reason == "Issued by mistake"
