"""The xAPI outbox: queued while an LRS is configured, pushed to a real local HTTP server with back-off."""
from __future__ import annotations

import base64
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.activity.services import record_activity
from portal.cli import cli
from portal.database import utcnow
from portal.xapi.models import XapiOutbox
from portal.xapi.outbox import MAX_BACKOFF, PARKED_AT, push, status

BASE = "https://portal.example.cn"


class FakeLrs:
    """A local HTTP server answering statement POSTs from a script: a list of status codes, then ``default``.

    ``refuse`` holds object ids the LRS rejects with 400 whenever a batch contains one of them.
    """

    def __init__(self) -> None:
        self.script: list[int] = []
        self.refuse: set[str] = set()
        self.requests: list[dict] = []
        self.stored: dict[str, dict] = {}
        self.delay = 0.0
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                lrs.requests.append({"path": self.path, "headers": self.headers, "body": body})
                time.sleep(lrs.delay)
                code = lrs.script.pop(0) if lrs.script else 200
                if code == 200 and any(s["object"]["id"] in lrs.refuse for s in body):
                    code = 400
                if code == 200:
                    lrs.stored.update({s["id"]: s for s in body})
                payload = json.dumps([s["id"] for s in body] if code == 200 else {"message": f"status {code}"})
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/xAPI/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs(app, monkeypatch):
    server = FakeLrs()
    for key, value in {"XAPI_ENDPOINT": server.url, "XAPI_USERNAME": "portal", "XAPI_PASSWORD": "s3cret",
                       "PUBLIC_URL": BASE, "XAPI_BATCH": 50}.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.close()


def _record(org, count: int, verb: str = "thing.poked"):
    activities = [record_activity(org.member1, verb, "thing", n)[0] for n in range(count)]
    from portal.extensions import db

    db.session.commit()
    return activities


def _rows(db):
    return list(db.session.scalars(select(XapiOutbox).order_by(XapiOutbox.id)))


def test_rows_are_queued_only_while_an_lrs_is_configured(db, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", None)
    _record(org, 2)
    assert _rows(db) == []
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", "http://127.0.0.1:9/xAPI")
    [activity] = _record(org, 1, verb="thing.kicked")
    record_activity(org.member1, "thing.kicked", "thing", 0)  # the same act again: no second row
    db.session.commit()
    assert [row.activity_id for row in _rows(db)] == [activity.id]


def test_push_sends_a_batch_with_basic_auth_and_the_version_header(db, org, lrs):
    activities = _record(org, 3)
    report = push()
    assert (report.sent, report.parked, report.failed) == (3, 0, 0)
    [request] = lrs.requests
    assert request["path"] == "/xAPI/statements"
    assert request["headers"]["X-Experience-API-Version"] == "1.0.3"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"portal:s3cret").decode()
    assert len(request["body"]) == len(activities)
    assert all(row.sent_at is not None for row in _rows(db))
    assert push().sent == 0 and len(lrs.requests) == 1  # a re-push sends nothing


def test_batches_follow_the_configured_size(db, org, lrs, app, monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_BATCH", 2)
    _record(org, 5)
    assert push(limit=3).sent == 3
    assert [len(r["body"]) for r in lrs.requests] == [2, 1]
    assert push().sent == 2
    assert status().pending == 0 and status().sent == 5


def test_unavailable_lrs_backs_off_then_sends(db, org, lrs):
    _record(org, 2)
    lrs.script = [503]
    before = utcnow()
    report = push()
    assert (report.sent, report.failed) == (0, 2) and "503" in report.last_error
    rows = _rows(db)
    assert all(row.sent_at is None and row.attempts == 1 and "503" in row.last_error for row in rows)
    assert all(timedelta(seconds=50) < row.next_attempt_at - before < timedelta(minutes=2) for row in rows)
    assert push().sent == 0 and len(lrs.requests) == 1  # not due yet
    for row in rows:  # the minute passed
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert push().sent == 2
    assert all(row.sent_at is not None and row.last_error == "" for row in _rows(db))
    assert status().pending == 0


def test_back_off_doubles_up_to_six_hours(db, org, lrs):
    _record(org, 1)
    lrs.script = [500] * 12
    delays = []
    for _ in range(12):
        [row] = _rows(db)
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        start = utcnow()
        push()
        delays.append(round((_rows(db)[0].next_attempt_at - start).total_seconds() / 60))
    assert delays[:4] == [1, 2, 4, 8]
    assert delays[-1] == MAX_BACKOFF.total_seconds() / 60


def test_unreachable_lrs_backs_off(db, org, lrs, app, monkeypatch):
    lrs.close()  # nothing listens there any more
    _record(org, 1)
    report = push()
    assert report.failed == 1 and report.last_error
    assert _rows(db)[0].attempts == 1 and _rows(db)[0].sent_at is None


def test_a_slow_lrs_times_out_and_backs_off(db, org, lrs, app, monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_TIMEOUT", 0.3)
    lrs.delay = 1.5
    _record(org, 1)
    report = push()
    assert report.failed == 1 and "timed out" in report.last_error.lower()
    assert _rows(db)[0].sent_at is None and _rows(db)[0].attempts == 1


def test_a_refused_statement_is_parked_and_the_rest_sent(db, org, lrs):
    _record(org, 5)
    lrs.refuse = {f"{BASE}/xapi/objects/thing/3"}
    report = push()
    assert (report.sent, report.parked, report.failed) == (4, 1, 0)
    parked = [row for row in _rows(db) if row.sent_at is None]
    assert len(parked) == 1 and parked[0].next_attempt_at == PARKED_AT and "400" in parked[0].last_error
    assert len(lrs.stored) == 4
    assert status().parked == 1 and status().pending == 0
    count = len(lrs.requests)
    assert push().sent == 0 and len(lrs.requests) == count  # parked: never retried


def test_conflict_counts_as_sent(db, org, lrs):
    _record(org, 1)
    lrs.script = [409]
    assert push().sent == 1


def test_cli_push_all_backfills_and_status(db, org, app, lrs, monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", None)
    _record(org, 3)  # before the LRS was connected
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", lrs.url)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["xapi", "push", "--all"])
    assert result.exit_code == 0, result.output
    assert "Queued 3" in result.output and "Sent 3" in result.output
    assert len(lrs.stored) == 3
    assert "Queued 0" in runner.invoke(cli, ["xapi", "push", "--all"]).output
    output = runner.invoke(cli, ["xapi", "status"]).output
    assert "Pending: 0" in output and "Sent: 3" in output and "Parked: 0" in output


def test_cli_push_refuses_without_an_lrs(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", None)
    result = app.test_cli_runner().invoke(cli, ["xapi", "push"])
    assert result.exit_code != 0 and "XAPI_ENDPOINT" in result.output


def test_cli_push_refuses_without_a_public_url(db, org, app, lrs, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    _record(org, 1)
    result = app.test_cli_runner().invoke(cli, ["xapi", "push"])
    assert result.exit_code != 0 and "PUBLIC_URL" in result.output
    assert _rows(db)[0].attempts == 0 and lrs.requests == []


def test_admin_index_shows_the_outbox(db, org, client, lrs, app, monkeypatch):
    from tests.conftest import login

    _record(org, 3)
    lrs.refuse = {f"{BASE}/xapi/objects/thing/0"}
    push()
    login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="xapi-outbox"' in page
    assert "sent: 2" in page and "refused by the store: 1" in page and "Waiting to be sent: 0" in page
    assert "status 400" in page  # the LRS's message of the parked statement
    monkeypatch.setitem(app.config, "XAPI_ENDPOINT", None)
    assert "Not connected" in client.get("/admin/").get_data(as_text=True)


def test_a_second_run_does_not_take_the_rows_a_first_run_claimed(db, org, lrs):
    """Two ``portal xapi push`` on two machines: the rows one claimed are leased to it."""
    from portal.xapi.outbox import LEASE, _claim

    _record(org, 3)
    first = [row.id for row in _claim(2)]
    second = [row.id for row in _claim(5)]
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert _claim(5) == []
    leased = [row for row in _rows(db) if row.id in first]
    assert all(row.next_attempt_at - utcnow() > LEASE - timedelta(minutes=1) for row in leased)
