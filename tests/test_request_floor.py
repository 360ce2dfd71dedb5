"""The core's per-request floor (issue 20): what every page pays is kept or memoized, and never stale.

Every page reads the settings (plugin states included), the logged-in account with its roles and its
unread messages, and composes the navigation. Some of it is now kept longer than a statement: the
declaration hooks' results (the permission registry) per process and set of enabled plugins, the plugin
states per read of the settings, the unread count per request (read with the account). Each test here changes what one of those depends on and reads
the very next page — also when the change comes from "another app server" (a write straight to the
database, past this process's session and caches).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import delete, insert

from portal.notify.services import mark_read, notify, unread_count
from portal.org.models import RoleAssignment
from portal.org.permissions import permission_registry
from portal.plugins.manager import STATE_NAMESPACE, get_manager
from portal.plugins.models import Setting
from portal.plugins.types import Permission
from portal.toolkit import hookimpl
from tests.conftest import login
from tests.helpers.query_counter import count_queries


def _nav(client, path: str = "/inbox/", **kwargs) -> list[str]:
    """The labels of the main navigation on ``path``."""
    page = client.get(path, **kwargs).get_data(as_text=True)
    nav = re.search(r'<ul class="nav">(.*?)</ul>', page, re.S)
    assert nav, page[:500]
    return re.findall(r">([^<>]+)</a></li>", nav.group(1))


def _badge(client) -> str | None:
    """The header's unread badge, None when there is none."""
    found = re.search(r'class="badge">(\d+)<', client.get("/inbox/").get_data(as_text=True))
    return found.group(1) if found else None


@contextmanager
def _request(app) -> Iterator[None]:
    """A request of its own (its own app context: ``g`` is per request, as in production)."""
    with app.app_context(), app.test_request_context("/"):
        yield


def _set_plugin_state_elsewhere(db, name: str, enabled: bool) -> None:
    """What another app server's admin page leaves in the database, written past this process."""
    table = Setting.__table__
    with db.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.namespace == STATE_NAMESPACE, table.c.key == name))
        conn.execute(insert(table).values(namespace=STATE_NAMESPACE, key=name, value={"enabled": enabled}))


def test_a_role_granted_or_revoked_shows_on_the_next_page(client, db, org, factory):
    login(client, "member2")
    assert "Care cases" not in _nav(client)
    assignment = factory.grant(org.member2.account, "secretary", org.home)
    assert "Care cases" in _nav(client)
    db.session.execute(delete(RoleAssignment).where(RoleAssignment.id == assignment.id))
    db.session.commit()
    assert "Care cases" not in _nav(client)


def test_admin_granted_elsewhere_shows_on_the_next_page(client, db, org):
    login(client, "member2")
    assert "Admin" not in _nav(client)
    with db.engine.begin() as conn:
        conn.execute(insert(RoleAssignment.__table__).values(account_id=org.member2.account_id, role="admin",
                                                             unit_id=org.root.id))
    assert "Admin" in _nav(client)


def test_a_plugin_disabled_on_another_server_is_gone_from_the_next_page(client, db, org):
    login(client, "home-secretary")
    assert {"Care", "Care cases"} <= set(_nav(client))
    _set_plugin_state_elsewhere(db, "care", False)
    labels = _nav(client)
    assert "Care" not in labels and "Care cases" not in labels
    assert client.get("/care/queue").status_code == 404
    _set_plugin_state_elsewhere(db, "care", True)
    assert {"Care", "Care cases"} <= set(_nav(client))


def test_the_permission_registry_follows_the_enabled_plugins(app, db):
    """Declarations are kept per set of enabled plugins: each set reads its own, at once."""
    _set_plugin_state_elsewhere(db, "care", False)
    with _request(app):
        assert "care.manage" not in permission_registry()
    _set_plugin_state_elsewhere(db, "care", True)
    with _request(app):
        assert "care.manage" in permission_registry()
        assert permission_registry()["care.manage"].roles


def test_the_setting_specs_follow_the_enabled_plugins(app, db):
    """The settings' specs (kept like the other declarations, read by every unset setting) follow the plugins."""
    from portal.settings import get_setting, setting_specs

    _set_plugin_state_elsewhere(db, "care", False)
    with _request(app):
        assert "care" not in setting_specs()
    _set_plugin_state_elsewhere(db, "care", True)
    with _request(app):
        assert "care" in setting_specs()
        care_default = next(spec for spec in setting_specs()["care"])
        assert get_setting("care", care_default.key) == care_default.default


class DeclaresLater:
    """A plugin registered while the app runs (the cached declarations must make room for it)."""

    @hookimpl
    def portal_permissions(self):
        return [Permission("later.wave", "Wave later", ("secretary",))]


class BrokenDeclaration:
    """A declaration that raises: recorded as a failure every time, never kept."""

    calls = 0

    @hookimpl
    def portal_permissions(self):
        BrokenDeclaration.calls += 1
        raise RuntimeError("no permissions today")


def test_declarations_of_a_plugin_registered_later_count_at_once(app, db, register):
    with _request(app):
        assert "care.manage" in permission_registry() and "later.wave" not in permission_registry()
    register(DeclaresLater(), "declares_later")
    with _request(app):
        assert "later.wave" in permission_registry()


def test_a_declaration_that_raised_is_not_kept(app, db, register):
    register(BrokenDeclaration(), "broken_declaration")
    for _attempt in range(2):
        with _request(app):
            assert "care.manage" in permission_registry()
    assert BrokenDeclaration.calls == 2


def test_a_language_switch_shows_on_the_next_page(client, org):
    login(client, "member1")
    assert "Online school" in _nav(client)
    client.post("/locale", data={"locale": "zh_CN", "next": "/inbox/"})
    labels = _nav(client)
    assert "网上党校" in labels and "Online school" not in labels
    client.post("/locale", data={"locale": "en", "next": "/inbox/"})
    assert "Online school" in _nav(client)


def test_a_new_message_shows_on_the_next_page_and_reading_it_clears_it(client, db, org):
    login(client, "member1")
    assert _badge(client) is None
    notify([org.member1.account_id], "Meeting on Saturday")
    db.session.commit()
    assert _badge(client) == "1"
    notify([org.member1.account_id], "And another one")
    db.session.commit()
    assert _badge(client) == "2"
    client.post("/inbox/read-all")
    assert _badge(client) is None


def test_the_unread_count_is_read_again_after_a_change_in_the_same_request(app, db, org):
    account_id = org.member1.account_id
    with _request(app):
        assert unread_count(account_id) == 0
        notify([account_id], "Written in this request")
        db.session.flush()
        assert unread_count(account_id) == 1
        mark_read(account_id)
        assert unread_count(account_id) == 0
        db.session.rollback()


def test_nav_links_follow_the_script_root(client, org):
    """A portal mounted under a prefix links under it, whatever the pages read before."""
    login(client, "member1")
    page = client.get("/inbox/").get_data(as_text=True)
    assert 'href="/courses' in page
    mounted = client.get("/inbox/", base_url="http://localhost/portal").get_data(as_text=True)
    assert 'href="/portal/courses' in mounted and 'href="/courses' not in mounted


def test_the_inbox_sends_four_statements(client, org):
    """Settings, the account (with its roles and unread count), the messages' count and the page of them."""
    login(client, "member1")
    notify([org.member1.account_id], "Counted")
    client.get("/inbox/")
    with count_queries() as queries:
        page = client.get("/inbox/").get_data(as_text=True)
    assert "Counted" in page and 'class="badge">1<' in page
    assert len(queries) == 4, queries.report()


@pytest.mark.parametrize("path", ["/me", "/dashboard"])
def test_no_page_counts_the_unread_messages_apart(client, org, path):
    """The header's badge comes with the account: no statement of its own."""
    login(client, "member1")
    client.get(path)
    with count_queries() as queries:
        assert client.get(path).status_code == 200
    counts = [q.sql for q in queries if re.search(r"FROM notification\b", q.sql) and "FROM account" not in q.sql]
    assert not counts, queries.report()


def test_the_plugin_states_are_read_once_per_request(app, db):
    """Every hook call asks whether every plugin is enabled: answered from one read of the settings."""
    manager = get_manager(app)
    with _request(app):
        with count_queries() as queries:
            for _call in range(5):
                manager.call_list("portal_nav_items", account=None)
            assert manager.is_enabled("care")
        assert len(queries) == 1, queries.report()
