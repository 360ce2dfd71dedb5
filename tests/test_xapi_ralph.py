"""The demo's statements pushed to a real learning record store, Ralph (issue 21): every one is accepted,
and pushing them all again duplicates nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from portal import toolkit as tk
from portal.cli import cli
from portal.xapi.models import XapiOutbox
from portal.xapi.statements import statement_id, statements_for
from tests.helpers.demo import demo_built_once
from tests.helpers.lrs import statements as lrs_statements

PUBLIC_URL = "http://portal.test"


@pytest.fixture(scope="module")
def demo(app):
    yield from demo_built_once(app, {"PUBLIC_URL": PUBLIC_URL})


def _push_all(app) -> str:
    """``portal xapi push --all``, as cron runs it; its output."""
    result = app.test_cli_runner().invoke(cli, ["xapi", "push", "--all"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_pushed_to_ralph_is_accepted_whole_and_a_second_push_duplicates_nothing(app, demo, ralph_lrs,
                                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", ralph_lrs.endpoint)
    monkeypatch.setitem(app.config, "XAPI_USERNAME", ralph_lrs.user)
    monkeypatch.setitem(app.config, "XAPI_PASSWORD", ralph_lrs.password)
    # One POST: Ralph's filesystem backend writes new statements once (tests/helpers/lrs.py); re-sending is free.
    monkeypatch.setitem(app.config, "XAPI_BATCH", 5000)
    session = tk.db.session
    before = {statement["id"] for statement in lrs_statements(ralph_lrs)}
    activities = list(session.scalars(select(tk.Activity)))
    ours = {statement_id(activity) for activity in activities}
    assert len(ours) == len(activities) > 500

    output = _push_all(app)
    assert f"Queued {len(activities)} past activities" in output and f"Sent {len(activities)}, parked 0" in output
    held = [statement["id"] for statement in lrs_statements(ralph_lrs)]
    assert len(held) == len(set(held)) == len(before) + len(activities)
    assert ours <= set(held)
    assert session.scalar(select(func.count()).where(XapiOutbox.sent_at.is_(None))) == 0

    # Every row sent again (as after a lost answer), and the backfill asked again: the LRS keeps one of each.
    session.execute(update(XapiOutbox).values(sent_at=None, next_attempt_at=tk.utcnow()))
    session.commit()
    output = _push_all(app)
    assert "Queued 0 past activities" in output and f"Sent {len(activities)}, parked 0" in output
    assert len(lrs_statements(ralph_lrs)) == len(held)


def test_the_demo_statements_pass_ralphs_own_xapi_model(demo):
    models = pytest.importorskip("ralph.models.xapi.base.statements")
    activities = list(tk.db.session.scalars(select(tk.Activity)))
    for statement in statements_for(activities):
        models.BaseXapiStatement.model_validate(statement)
