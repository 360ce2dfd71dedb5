"""Open Badges for the member: "My badges", GET /api/v1/me/badges, links from "My data" and the navigation."""
from __future__ import annotations

import io
import json

import openbadges_bakery
import pytest

from portal import toolkit as tk
from portal.badges import services as badges
from tests.conftest import api_token, login
from tests.test_open_badges import BASE, _certified

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def assertion(app, db, org):
    cert = _certified(db, org.member1)
    return badges.assertion_for_source(f"certificate:{cert.id}")


def test_the_api_lists_the_callers_badges_with_absolute_addresses(assertion, client, org, db):
    response = client.get("/api/v1/me/badges", headers=api_token(client, "member1"))
    assert response.status_code == 200
    assert response.json == [{"name": "Getting started with the portal",
                              "assertion_url": f"{BASE}/badges/assertions/{assertion.uid}",
                              "image_url": f"{BASE}/badges/assertions/{assertion.uid}/baked.png"}]
    baked = client.get(response.json[0]["image_url"].removeprefix(BASE))
    assert json.loads(openbadges_bakery.unbake(io.BytesIO(baked.data)))["id"] == response.json[0]["assertion_url"]
    assert client.get("/api/v1/me/badges", headers=api_token(client, "member2")).json == []
    assert client.get("/api/v1/me/badges", headers=api_token(client, "admin")).json == []  # an account without a member


def test_the_api_needs_a_login(client, db):
    response = client.get("/api/v1/me/badges")
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_the_api_leaves_revoked_badges_out(assertion, client, db):
    tk.revoke_badge(assertion.source, "Issued by mistake")
    db.session.commit()
    assert client.get("/api/v1/me/badges", headers=api_token(client, "member1")).json == []


def test_the_openapi_document_describes_it(client, db):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/me/badges"]["get"]
    item = operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert set(item["required"]) == {"name", "assertion_url", "image_url"} and "401" in operation["responses"]


def test_my_badges_shows_the_members_own_badges_only(assertion, app, org):
    own = app.test_client()
    login(own, "member1")
    page = own.get("/me/badges").get_data(as_text=True)
    assert "Getting started with the portal" in page
    assert f"/badges/assertions/{assertion.uid}/baked.png" in page and f"/badges/assertions/{assertion.uid}\"" in page
    assert "/badges/classes/course:getting-started/image.png" in page and "backpack" in page
    other = app.test_client()
    login(other, "member2")
    page = other.get("/me/badges").get_data(as_text=True)
    assert assertion.uid not in page and "Getting started with the portal" not in page


def test_my_badges_needs_a_login(client, db):
    response = client.get("/me/badges")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_badges_renders_in_chinese(assertion, client):
    login(client, "member1")
    response = client.get("/me/badges", headers=ZH)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'lang="zh' in page
    assert "Getting started with the portal" in page and assertion.uid in page


def test_my_data_and_the_navigation_link_to_my_badges(client, org):
    login(client, "member1")
    assert 'href="/me/badges"' in client.get("/me").get_data(as_text=True)
    assert 'href="/me/badges"' in client.get("/dashboard").get_data(as_text=True)


def test_my_data_lists_the_badges(assertion, client):
    login(client, "member1")
    export = client.get("/me/export.json").get_json()
    rows = export["sections"]["badges"]
    assert rows == [{"badge": "Getting started with the portal", "issued_at": tk.isoformat(assertion.issued_at),
                     "revoked_at": None, "revocation_reason": None, "recipient_type": "url",
                     "assertion": f"/badges/assertions/{assertion.uid}"}]
