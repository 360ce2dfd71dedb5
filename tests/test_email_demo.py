"""The demo with e-mail: demo accounts have addresses, and a send run mails their recent messages in Chinese."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_email.sending import send_due
from tests.helpers.demo import demo_built_twice
from tests.helpers.smtp import smtp_server  # noqa: F401  (the fixture)


def _counts():
    return tk.db.session.scalar(select(func.count()).select_from(tk.Account).where(tk.Account.email.is_not(None)))


@pytest.fixture(scope="module")
def built(app):
    """The core demo (12 members) built twice at the real clock (its messages are recent)."""
    yield from demo_built_twice(app, _counts)


def test_demo_accounts_have_addresses_and_get_their_messages_by_email(app, built, smtp_server, monkeypatch):  # noqa: F811
    with app.app_context():
        member1 = tk.db.session.scalar(select(tk.Account).where(tk.Account.username == "member1"))
        assert member1.email == "member1@example.org" and built == _counts() > 12  # twice adds nothing
        monkeypatch.setitem(app.config, "PUBLIC_URL", "https://portal.example.cn")
        for key, value in {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
                           "smtp_security": "none"}.items():
            tk.set_setting("email", key, value)
        tk.db.session.commit()
        report = send_due()
        assert report.failed == 0 and report.immediate == len(smtp_server.messages) > 0
        subjects = [message["Subject"] for message in smtp_server.messages]
        assert any(any("\u4e00" <= char <= "\u9fff" for char in subject) for subject in subjects)  # demo: Chinese
