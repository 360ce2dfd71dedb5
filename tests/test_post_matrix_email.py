"""Every write route of the e-mail plugin × every role: one's own preferences, the signed unsubscribe
links (no login), the admin's test e-mail. The behaviour behind them is in tests/test_email.py."""
from __future__ import annotations

import pytest

from portal import toolkit as tk
from portal_email import preferences
from portal_email.models import EmailPreference
from tests.helpers.permission_matrix import PostCase, check_post_coverage, check_post_matrix, expect
from tests.helpers.smtp import smtp_server  # noqa: F401  (the fixture)

BLUEPRINTS = {"email"}


@pytest.fixture
def mail(app, db, smtp_server, monkeypatch):  # noqa: F811
    """The admin's test e-mail goes to a real local SMTP server."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.cn")
    for key, value in {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": "none"}.items():
        tk.set_setting("email", key, value)
    db.session.commit()
    return smtp_server


def _token(org) -> dict:
    """A fresh link of member1's, whose choices are reset so each request has something to change."""
    tk.db.session.execute(EmailPreference.__table__.delete())
    return {"token": preferences.unsubscribe_token(org.member1.account.id, "care")}


CASES = [
    PostCase("email.save_preferences", expect(302), data={"mode-care": "digest"}),
    PostCase("email.unsubscribe_confirm", expect(200), _token, {"scope": "kind"}, public=True),
    PostCase("email.one_click", expect(204), _token, public=True),
    PostCase("email.send_test", expect(403, anonymous=302, admin=302), data={"address": "boss@example.org"},
             changes=False),
]


def test_every_email_write_route_has_expectations(app):
    check_post_coverage(app, BLUEPRINTS, CASES)


def test_email_post_matrix(app, db, org, mail):
    assert check_post_matrix(app, org, CASES) == len(CASES) * 9
    assert [m["To"] for m in mail.messages] == ["boss@example.org"]  # the admin's test e-mail only
