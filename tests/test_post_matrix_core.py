"""Every write route of the core blueprints × every role (issue 11: POST, not only GET).

Same cast as tests/test_permission_matrix_core.py. Each role acts on a fresh
target; a refused request (and every request of an anonymous visitor) must
leave the whole database as it was. Acting on one's own record is in
tests/test_self_actions.py.
"""
from __future__ import annotations

import importlib
import itertools
from pathlib import Path


from portal import toolkit as tk
from portal.accounts.models import LoginFailure
from portal.accounts.services import issue_token, live_tokens
from portal.notify.services import notify
from portal.settings import get_setting, setting_specs
from tests.helpers.factories import Factory
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect, post_routes

BLUEPRINTS = {"web", "auth", "org", "inbox", "admin", "audit", "api", "search"}
COVERED_ELSEWHERE = {
    "auth.login": "tests/test_accounts.py::test_wrong_password_gives_a_clear_message_and_no_session",
    "api.token": "tests/test_accounts.py::test_api_token_bad_credentials_and_bad_body",
}
_serial = itertools.count(1)


def only(*allowed: str, status: int = 302, denied: int = 404) -> dict:
    """``status`` for the ``allowed`` roles, ``denied`` for every other logged-in role, the login page for visitors."""
    return expect(denied, anonymous=302, **{role: status for role in allowed})


UNIT_MANAGERS = ("organizer", "admin")
HOME_EDITORS = ("home_sec", "organizer", "admin")
ADMIN = expect(403, anonymous=302, admin=302)


def _home(org) -> dict:
    return {"unit_id": org.home.id}


def _new_unit(org) -> dict:
    return {"unit_id": Factory(tk.db).unit(f"Cell {next(_serial)}", "branch", org.township).id}


def _member2(org) -> dict:
    return {"member_id": org.member2.id}


def _fresh_member(org) -> dict:
    return {"member_id": Factory(tk.db).member(org.home, f"fresh{next(_serial)}").id}


def _member_without_account(org) -> dict:
    member = tk.Member(name=f"无账号{next(_serial)}", home_unit_id=org.home.id, stage="full", gender="female")
    tk.db.session.add(member)
    tk.db.session.flush()
    return {"member_id": member.id}


def _fresh_account(_org) -> dict:
    return {"account_id": Factory(tk.db).account(f"acct{next(_serial)}").id}


def _candidate(org) -> dict:
    return {"unit_id": org.home.id, "username": Factory(tk.db).account(f"candidate{next(_serial)}").username}


def _fresh_secretary(org) -> dict:
    assignment = Factory(tk.db).grant(Factory(tk.db).account(f"helper{next(_serial)}"), "secretary", org.home)
    return {"unit_id": org.home.id, "assignment_id": assignment.id}


def _token_of_member1(org) -> dict:
    issue_token(org.member1.account)
    tk.db.session.flush()
    return {"token_id": max(token.id for token in live_tokens(org.member1.account))}


def _locked_member(org) -> dict:
    """A fresh member of the home branch, locked for one client (unlocking deletes the failures)."""
    member = Factory(tk.db).member(org.home, f"locked{next(_serial)}")
    tk.db.session.add_all([LoginFailure(ip="192.0.2.9", username=member.account.username, account_id=member.account_id)
                           for _ in range(5)])
    tk.db.session.flush()
    return {"account_id": member.account_id}


def _message_for_member1(org) -> dict:
    note, = notify([org.member1.account_id], "Hello", url="/me")
    tk.db.session.flush()
    return {"notification_id": note.id}


def _core_settings() -> dict:
    """The core settings form as it is shown (saving it changes nothing but proves the admin may)."""
    data = {}
    for spec in setting_specs()["core"]:
        value = get_setting("core", spec.key)
        if isinstance(value, bool):
            data.update({f"s_{spec.key}": "y"} if value else {})
        else:
            data[f"s_{spec.key}"] = ", ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
    return data


def _message_for_everyone(org) -> dict:
    notify([account.id for account in org.accounts.values()], "Meeting on Friday")
    return {}


def _profile(name: str, org) -> dict:
    return {"name": name, "gender": "female", "birth_date": "1992-03-04", "stage": "full", "education": "",
            "home_unit_id": str(org.home.id), "host_unit_id": "", "phone": f"1380000{next(_serial):04d}"}


CASES = [
    # org: units and roles (organizers and admins)
    PostCase("org.new_unit", only(*UNIT_MANAGERS), lambda org: {"parent": org.township.id},
             lambda _org, _v: {"name": f"New cell {next(_serial)}", "kind": "branch"}),
    PostCase("org.edit_unit", only(*UNIT_MANAGERS), _new_unit,
             lambda _org, _v: {"name": f"Renamed cell {next(_serial)}", "kind": "branch"}),
    PostCase("org.move_unit", only(*UNIT_MANAGERS), _new_unit, lambda org, _v: {"parent": str(org.mobile.id)}),
    PostCase("org.close_unit", only(*UNIT_MANAGERS), _new_unit),
    PostCase("org.roles", only(*UNIT_MANAGERS), _candidate,
             lambda _org, values: {"username": values.pop("username"), "role": "secretary"}),
    PostCase("org.remove_role", only(*UNIT_MANAGERS), _fresh_secretary),
    # org: members (the home side: its secretary, organizers, admins)
    PostCase("org.new_member", only(*HOME_EDITORS), _home, lambda org, _v: _profile(f"新党员{next(_serial)}", org)),
    PostCase("org.edit_member", only(*HOME_EDITORS), _fresh_member,
             lambda org, _v: _profile(f"改名{next(_serial)}", org)),
    PostCase("org.member_contact", only(*HOME_EDITORS), _fresh_member,
             lambda org, _v: {"contact": str(org.member2.id)}),
    PostCase("org.member_account", only(*HOME_EDITORS), _member_without_account,
             lambda _org, _v: {"username": f"login{next(_serial)}", "password": "Initial-pass-2468"}),
    PostCase("org.reset_password", only(*HOME_EDITORS), _fresh_member, {"password": "Temporary-pass-1357"}),
    # no file: the allowed roles get the form back, and nothing is stored
    PostCase("org.import_members", only(*HOME_EDITORS, status=400), _home),
    PostCase("org.import_confirm", only(*HOME_EDITORS, status=409), _home, {"token": "expired"}),
    PostCase("org.import_map", only(*HOME_EDITORS, status=409), _home, {"token": "expired"}),
    PostCase("org.import_cancel", only(*HOME_EDITORS), _home, changes=False),  # the upload is in the session
    # admin screens: site admins only, 403 for everyone else (no unit to hide)
    PostCase("admin.settings", ADMIN, lambda _org: {"namespace": "core"}, lambda _org, _v: _core_settings()),
    PostCase("admin.create_account", ADMIN,
             data=lambda _org, _v: {"username": f"new{next(_serial)}", "display_name": "New", "password": "Initial-pass-2468"}),
    PostCase("admin.reset_account_password", ADMIN, _fresh_account, {"password": "Temporary-pass-1357"}),
    PostCase("admin.set_account_active", ADMIN, _fresh_account, {"active": "0"}),
    PostCase("admin.toggle_plugin", ADMIN, lambda _org: {"name": "points"}, {"action": "enable"}),
    PostCase("admin.install_plugin", expect(403, anonymous=302, admin=422)),  # no wheel: the form says so
    PostCase("admin.remove_plugin", expect(403, anonymous=302, admin=404), lambda _org: {"name": "not-installed"}),
    # one's own inbox and password (a wrong current password changes nothing)
    PostCase("inbox.open_message", only("member1"), _message_for_member1),
    PostCase("inbox.read_all", expect(302), _message_for_everyone),
    PostCase("api.inbox_read", expect(404, anonymous=401, member1=200), _message_for_member1, json=True),
    PostCase("api.inbox_read_all", expect(200, anonymous=401), _message_for_everyone, json=True),
    PostCase("auth.change_password", expect(422, anonymous=302),
             data={"current": "wrong", "new": "Another-pass-9753", "repeat": "Another-pass-9753"}),
    PostCase("auth.revoke_token", only("member1"), _token_of_member1),
    PostCase("auth.change_email", expect(302), data={"email": "someone@example.org"}),  # one's own address
    PostCase("api.change_email", expect(200, anonymous=401), data={"email": "from-the-app@example.org"}, json=True,
             method="PUT"),
    PostCase("auth.unlock", only(*HOME_EDITORS), _locked_member),
    PostCase("api.change_password", expect(422, anonymous=401), data={"current": "wrong", "new": "Another-pass-9753"},
             json=True),
    PostCase("web.set_locale", expect(302), data={"locale": "en"}, public=True, changes=False),
    PostCase("auth.logout", expect(302), public=True, changes=False),  # last: it ends every client's session
]


def _hosted_member1(org) -> dict:
    """member1, hosted at the host branch (as the fixture has it, whatever an earlier role's edit did)."""
    org.member1.host_unit_id, org.member1.is_away = org.host.id, True
    return {"member_id": org.member1.id}


def _hosted_profile(org, _values: dict) -> dict:
    return {**_profile("张伟", org), "host_unit_id": str(org.host.id), "is_away": "y"}


# the host branch's secretary sees member1's profile (GET matrix) but edits nothing of it: 404 as for anyone else
HOSTED_CASES = [
    PostCase("org.edit_member", only(*HOME_EDITORS), _hosted_member1, _hosted_profile),
    PostCase("org.member_contact", only(*HOME_EDITORS), _hosted_member1, lambda org, _v: {"contact": str(org.member2.id)}),
    PostCase("org.reset_password", only(*HOME_EDITORS), _hosted_member1, {"password": "Temporary-pass-1357"}),
]


def test_every_core_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES, COVERED_ELSEWHERE)


def test_every_blueprint_with_write_routes_has_a_post_matrix(app):
    """A new plugin's blueprint needs its own tests/test_post_matrix_<plugin>.py (with ``BLUEPRINTS``)."""
    covered = set()
    for path in Path(__file__).parent.glob("test_post_matrix_*.py"):
        covered |= importlib.import_module(f"tests.{path.stem}").BLUEPRINTS
    with_writes = {endpoint.split(".")[0] for endpoint in post_routes(app, app.blueprints)}
    assert not with_writes - covered, f"blueprints without a POST matrix: {sorted(with_writes - covered)}"


def test_core_post_matrix(app, db, org):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9


def test_the_host_side_edits_nothing_of_a_hosted_member(app, db, org):
    assert check_post_matrix(app, org, HOSTED_CASES) == len(HOSTED_CASES) * 9
