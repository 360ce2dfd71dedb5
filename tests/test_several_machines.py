"""Two app servers, one PostgreSQL database, one S3 object store (issue 20): nothing a request leaves behind may stay
on the machine that served it.

The module builds a fresh database on the server of ``PORTAL_TEST_DATABASE_URL`` (``portal init``, then the standard
test organization), starts a moto S3 server and two real app servers as separate processes — each with its own
instance folder, the same database URL, secret key and S3 settings, on its own port — and drives them through HTTP
like a browser (log-in form, CSRF token, cookies). Each check does something on server A and looks at the result on
server B:

a. plugin state: a plugin disabled on A answers 404 on B and leaves B's menu; enabled again, it is back (``setting``);
b. throttling: failed logins split over A and B lock the account at the configured count (``login_failure``), and
   the API token limit counts requests on both (``rate_counter``);
c. search: a lesson edited on A is found by search on B (the PostgreSQL search backend, ``search_document``);
d. files: a care attachment uploaded to A downloads from B byte for byte (S3 storage, ``portal/storage.py``);
e. the composition cache: B's dashboard, cached before, shows the points a lesson completed on A earned
   (``cache_stamp`` rows bumped by A's commit, read by B).

The servers are gunicorn when the environment has it (``pip install .[server]``, as in production), else werkzeug's
threaded server (the test extras): the checks are the same either way.
"""
from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest
import requests
from sqlalchemy import create_engine, text

from portal.config import DEFAULTS
from portal.extensions import db
from tests.conftest import PG_URL, make_test_app
from tests.helpers.factories import PASSWORD, Factory
from tests.helpers.s3 import s3_settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="PORTAL_TEST_DATABASE_URL not set")]

PDF = b"%PDF-1.4\n%an attachment kept in the object store, not on the machine that took it\n"
CARE_FORM = {"category": "wages", "title": "Wages for March not paid", "description": "The contractor owes 6800 yuan.",
             "urgency": "high", "where": "host", "consent_host": "y", "contact_pref": "phone", "action": "submit"}
#: API token requests per client on the servers: a day's window, so the few requests of the check never straddle two.
TOKEN_RATE = "5/day"
WAIT_SECONDS = 60.0  # the longest any poll waits (a server starting on a busy CI machine, the search queue draining)
T = TypeVar("T")


def poll(what: str, probe: Callable[[], T | None], timeout: float = WAIT_SECONDS) -> T:
    """Call ``probe`` until it returns something true; fail after ``timeout`` seconds."""
    deadline, pause = time.monotonic() + timeout, 0.05
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


class _Inputs(HTMLParser):
    """The ``name → value`` of every ``<input>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if tag == "input" and fields.get("name"):
            self.values.setdefault(fields["name"], fields.get("value") or "")


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    parser = _Inputs()
    parser.feed(html)
    assert parser.values.get("csrf_token"), "the page has no form with a CSRF token"
    return parser.values["csrf_token"]


@dataclass
class Server:
    """One app server process and where it answers."""

    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


class Browser:
    """A person's browser: one cookie jar for every server (they share the host name, as behind one proxy)."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"

    def get(self, server: Server, path: str, **kwargs) -> requests.Response:
        return self.http.get(server.url + path, allow_redirects=False, timeout=WAIT_SECONDS, **kwargs)

    def post_form(self, server: Server, page: str, action: str, data: dict, **kwargs) -> requests.Response:
        """Open ``page`` on ``server`` for its CSRF token, then post ``data`` to ``action`` there."""
        shown = self.get(server, page)
        assert shown.status_code == 200, f"{page} on {server.name}: {shown.status_code}"
        return self.http.post(server.url + action, data={**data, "csrf_token": csrf_token(shown.text)},
                              allow_redirects=False, timeout=WAIT_SECONDS, **kwargs)

    def log_in(self, server: Server, username: str, password: str = PASSWORD) -> requests.Response:
        return self.post_form(server, "/login", "/login", {"login": username, "password": password})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


#: werkzeug's threaded server around the app factory, for environments without gunicorn (the test extras).
_WERKZEUG = ("import sys\nfrom werkzeug.serving import run_simple\nfrom portal import create_app\n"
             "run_simple('127.0.0.1', int(sys.argv[1]), create_app(), threaded=True)\n")


def _server_command(port: int) -> list[str]:
    if importlib.util.find_spec("gunicorn") is not None:
        # Two workers: the checks hold across processes of one machine as well as across machines.
        return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                "--graceful-timeout", "5", "portal:create_app()"]
    return [sys.executable, "-c", _WERKZEUG, str(port)]


def _environment(shared: dict[str, str], instance: Path) -> dict[str, str]:
    """The process environment without the caller's ``PORTAL_*`` settings, plus ``shared`` and the instance folder."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    return {**env, **shared, "PORTAL_INSTANCE_PATH": str(instance)}


def _portal(env: dict[str, str], *args: str) -> None:
    """Run a ``portal`` command as an operator would (``portal init``)."""
    done = subprocess.run([sys.executable, "-c", "from portal.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def _start(name: str, env: dict[str, str], folder: Path) -> Server:
    port = _free_port()
    log = folder / f"server-{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(_server_command(port), env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(name, f"http://127.0.0.1:{port}", process, log)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"server {name} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            return requests.get(server.url + "/login", timeout=WAIT_SECONDS).status_code == 200
        except requests.ConnectionError:  # not listening yet
            return False

    try:
        poll(f"server {name} to answer", ready)
    except BaseException:
        _stop(server)  # never leave a half-started server behind
        raise
    return server


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)  # the server and its workers: its own process group
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh database beside the test database (.ci/run grants CREATEDB), dropped afterwards."""
    base, _, _name = PG_URL.rpartition("/")
    name = f"portal_machines_{secrets.token_hex(4)}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _build_organization(tmp_path_factory, url: str) -> None:
    """The standard test organization (tests/conftest.py ``org``), written by an app in this process."""
    app = make_test_app(tmp_path_factory, DATABASE_URL=url)
    with app.app_context():
        Factory(db).standard_org()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def s3_environment(moto_server) -> dict[str, str]:
    """The ``PORTAL_S3_*`` variables of one fresh bucket of the session's moto server (tests/helpers/s3.py)."""
    return {f"PORTAL_{key}": str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in s3_settings(moto_server).items()}


@dataclass
class Cluster:
    """Two servers over one database and object store, and the ids the setup created."""

    a: Server
    b: Server
    folder: Path  # the instance folders and server logs
    course: str
    lesson: int


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, database_url, s3_environment) -> Iterator[Cluster]:
    """``portal init``, the standard organization, two running servers and a course the admin wrote on A."""
    folder = tmp_path_factory.mktemp("machines")
    shared = {
        "PORTAL_DATABASE_URL": database_url, "PORTAL_SECRET_KEY": secrets.token_hex(32), "PORTAL_DEFAULT_LOCALE": "en",
        "PORTAL_ARGON2_PROFILE": "fast", "PORTAL_RATE_LIMIT_TOKEN": TOKEN_RATE, **s3_environment,
    }
    instances = {name: folder / f"instance-{name}" for name in ("a", "b")}
    _portal(_environment(shared, instances["a"]), "init")
    _build_organization(tmp_path_factory, database_url)
    servers: list[Server] = []
    try:
        for name, instance in instances.items():
            servers.append(_start(name, _environment(shared, instance), folder))
        a, b = servers
        course, lesson = _author_course(a)
        yield Cluster(a, b, folder, course, lesson)
    finally:
        for server in servers:
            _stop(server)


def _author_course(server: Server) -> tuple[str, int]:
    """A published course with one lesson that counts at once (no minimum reading time), written by the admin."""
    admin = Browser()
    assert admin.log_in(server, "admin").status_code == 302
    slug = "working-away-" + secrets.token_hex(3)
    created = admin.post_form(server, "/courses/manage/new", "/courses/manage/new", {
        "slug": slug, "title_en": "Working away from home", "category": "general", "estimated_minutes": "5",
        "completion_rule": "all_lessons", "published": "y", "unit": _root_unit_id(admin, server)})
    assert created.status_code == 302, created.text[-3000:]
    saved = admin.post_form(server, f"/courses/manage/{slug}/lessons/new", f"/courses/manage/{slug}/lessons/new", {
        "title_en": "Keeping in touch", "body_en": "Tell your home branch where you work.", "min_seconds": "0"})
    assert saved.status_code == 302, saved.text[-3000:]
    page = admin.get(server, f"/courses/manage/{slug}/edit").text
    marker = f"/courses/manage/{slug}/lessons/"
    lesson = int(page.split(marker, 1)[1].split("/", 1)[0])
    return slug, lesson


def _root_unit_id(browser: Browser, server: Server) -> str:
    """The first unit the admin may author courses for (the root: every member sees the course)."""
    page = browser.get(server, "/courses/manage/new").text
    select = page.split('name="unit"', 1)[1]
    return select.split('value="', 1)[1].split('"', 1)[0]


def _member(cluster: Cluster, username: str, server: Server | None = None) -> Browser:
    browser = Browser()
    response = browser.log_in(server or cluster.a, username)
    assert response.status_code == 302, response.text[-2000:]
    return browser


# -- a. plugin state (the setting table) ----------------------------------------------------------------------------

def test_a_plugin_disabled_on_a_is_gone_on_b(cluster):
    admin, member = _member(cluster, "admin"), _member(cluster, "member1", cluster.b)
    page, link = "/standing/me", 'href="/standing/me"'  # the member's page of the standing plugin, and its menu link

    def seen_on_b() -> tuple[int, bool]:
        return member.get(cluster.b, page).status_code, link in member.get(cluster.b, "/dashboard").text

    def toggle(action: str) -> None:
        done = admin.post_form(cluster.a, "/admin/plugins", "/admin/plugins/standing", {"action": action})
        assert done.status_code == 302, f"{action} on A: {done.status_code}"

    assert seen_on_b() == (200, True)
    toggle("disable")
    assert seen_on_b() == (404, False)
    toggle("enable")
    assert seen_on_b() == (200, True)


# -- b. throttling (login_failure, rate_counter) --------------------------------------------------------------------

def test_b_failed_logins_on_both_servers_lock_the_account(cluster):
    limit = DEFAULTS["LOGIN_MAX_FAILURES"]  # the servers run with the default
    guesser = Browser()
    for attempt in range(limit):
        server = (cluster.a, cluster.b)[attempt % 2]  # neither server alone sees `limit` failures
        response = guesser.log_in(server, "outsider", "wrong-guess-1")
        expected = 429 if attempt == limit - 1 else 200
        assert response.status_code == expected, f"attempt {attempt + 1} on {server.name}"
    # locked for this client on both servers, even with the right password
    assert guesser.log_in(cluster.a, "outsider").status_code == 429
    assert guesser.log_in(cluster.b, "outsider").status_code == 429


def test_b_api_token_rate_limit_counts_on_both_servers(cluster):
    count = int(TOKEN_RATE.split("/")[0])
    client = requests.Session()
    statuses = [client.post((cluster.a, cluster.b)[i % 2].url + "/api/v1/auth/token", json={}, timeout=WAIT_SECONDS)
                .status_code for i in range(count + 1)]
    assert statuses == [400] * count + [429]  # counted before the body is read: the (count + 1)th is refused


# -- c. search (search_document on PostgreSQL) ----------------------------------------------------------------------

def test_c_lesson_edited_on_a_is_found_by_search_on_b(cluster):
    admin, member = _member(cluster, "admin"), _member(cluster, "member2", cluster.b)
    word = "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))  # in no other document
    lesson_url = f"/courses/{cluster.course}/lessons/{cluster.lesson}"

    def found() -> list[dict]:
        response = member.get(cluster.b, "/api/v1/search", params={"q": word})
        assert response.status_code == 200, response.text[-2000:]
        return [hit for hit in response.json()["results"] if hit["url"].endswith(lesson_url)]

    assert found() == []
    edit = f"/courses/manage/{cluster.course}/lessons/{cluster.lesson}/edit"
    saved = admin.post_form(cluster.a, edit, edit, {
        "title_en": "Keeping in touch", "body_en": f"Tell your home branch where you work: {word}.", "min_seconds": "0"})
    assert saved.status_code == 302, saved.text[-2000:]
    hits = poll("B's search to find the edited lesson", found)  # the queue drains into the shared index
    assert hits[0]["title"] == "Keeping in touch"
    assert word in member.get(cluster.b, lesson_url).text  # B renders the new text


# -- d. files (the S3 store) ----------------------------------------------------------------------------------------

def test_d_attachment_uploaded_to_a_downloads_from_b(cluster):
    member = _member(cluster, "member1")
    shown = member.get(cluster.a, "/care/new")
    filed = member.http.post(cluster.a.url + "/care/new", data={**CARE_FORM, "csrf_token": csrf_token(shown.text)},
                             files={"attachments": ("contract.pdf", PDF, "application/pdf")},
                             allow_redirects=False, timeout=WAIT_SECONDS)
    assert filed.status_code == 302, filed.text[-2000:]
    detail = member.get(cluster.a, filed.headers["Location"].removeprefix(cluster.a.url)).text
    attachment = "/care/attachments/" + detail.split("/care/attachments/", 1)[1].split('"', 1)[0]
    served = member.get(cluster.b, attachment)
    assert served.status_code == 200 and served.content == PDF
    secretary = _member(cluster, "host-secretary", cluster.b)  # the branch it went to reads it on B as well
    assert secretary.get(cluster.b, attachment).content == PDF
    assert not list(cluster.folder.rglob("*.pdf"))  # in the object store, on neither machine


# -- e. the composition cache (cache_stamp) -------------------------------------------------------------------------

def _points(browser: Browser, server: Server) -> int:
    page = browser.get(server, "/dashboard")
    assert page.status_code == 200
    return int(page.text.split("My points", 1)[1].split('<span class="stat">', 1)[1].split("<", 1)[0])


def test_e_points_earned_on_a_show_on_b_dashboard(cluster):
    member = _member(cluster, "member2", cluster.b)
    before = _points(member, cluster.b)  # B composes (and may cache) the dashboard now
    assert _points(member, cluster.b) == before
    lesson = f"/courses/{cluster.course}/lessons/{cluster.lesson}"
    done = member.post_form(cluster.a, lesson, f"{lesson}/complete", {})  # opening the lesson starts the clock
    assert done.status_code == 302, done.text[-2000:]
    after = _points(member, cluster.a)
    assert after > before  # the lesson and the one-lesson course earned points
    assert _points(member, cluster.b) == after
