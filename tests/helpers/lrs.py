"""A real learning record store for tests: Ralph (``ralph-malph``) with its filesystem backend, one per session.

``ralph_server`` creates an account with ``ralph auth`` in a temporary folder, starts ``ralph runserver -b fs``
from the running Python's bin folder on a free port of 127.0.0.1, waits until ``/__heartbeat__`` answers
and yields an :class:`Lrs` (its xAPI endpoint and the account); the server is stopped at the end of the
session. ``ralph_lrs`` is that server emptied for the test. ``statements(lrs)`` reads back everything it
holds, following its ``more`` links.

Ralph 5.1's filesystem backend writes its statement file once: the first POST creates it, and a later
POST bringing new statements is refused (500 "Statements bulk indexation failed": the backend will not
write an existing file), while a POST of statements it holds already is answered 204 without writing.
So a test sends its new statements in one POST (``XAPI_BATCH`` above their number); pushing them again
is what the store takes any number of times.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers.s3 import free_port, stop


@dataclass(frozen=True)
class Lrs:
    """A running Ralph: ``endpoint`` is its xAPI base (``http://127.0.0.1:<port>/xAPI``); ``data`` its folder."""

    url: str
    user: str
    password: str
    data: Path

    @property
    def endpoint(self) -> str:
        return f"{self.url}/xAPI"

    def get(self, path_and_query: str) -> Any:
        """GET a path of the server (``/xAPI/statements?limit=…``) as the account; the decoded JSON."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(f"{self.url}{path_and_query}", headers={
            "Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def statements(lrs: Lrs, page: int = 500) -> list[dict]:
    """Every statement Ralph holds, read page after page through its ``more`` links."""
    found: list[dict] = []
    path = f"/xAPI/statements?limit={page}"
    while path:
        answer = lrs.get(path)
        found.extend(answer["statements"])
        more = answer.get("more") or ""
        path = urllib.parse.urlsplit(more)._replace(scheme="", netloc="").geturl() if more else ""
    return found


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/__heartbeat__", timeout=1) as response:
            return response.status == 200
    except OSError:  # refused while starting (URLError and HTTPError are OSErrors)
        return False


def start_ralph(folder: Path, timeout: float = 60.0) -> tuple[subprocess.Popen, Lrs]:
    """Create an account and start Ralph on the filesystem backend in ``folder``; ``(process, Lrs)``."""
    program = Path(sys.executable).parent / "ralph"
    if not program.exists():
        pytest.skip(f"{program} is missing (pip install -e '.[test]' installs ralph-malph)")
    app_dir = folder / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RALPH_APP_DIR": str(app_dir), "RALPH_AUTH_FILE": str(app_dir / "auth.json"),
           "RALPH_RUNSERVER_BACKEND": "fs"}
    user, password = "portal", secrets.token_urlsafe(12)
    subprocess.run([str(program), "auth", "-u", user, "-p", password, "-s", "all",
                    "-A", "portal", "http://portal.test", "-w"], env=env, check=True, capture_output=True)
    port = free_port()
    # runserver always reloads on changes of .py files under its working folder: that is the empty temporary one
    process = subprocess.Popen([str(program), "runserver", "-b", "fs", "-h", "127.0.0.1", "-p", str(port),
                                "--fs-default-directory-path", str(folder / "data")],
                               cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lrs = Lrs(f"http://127.0.0.1:{port}", user, password, folder / "data")
    deadline = time.monotonic() + timeout
    while not _heartbeat(lrs.url):
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"ralph did not answer on {lrs.url} within {timeout:.0f} s")
        try:  # between two polls, watch the process: a server that dies is reported at once
            process.wait(0.1)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"ralph exited with {process.returncode} before answering on {lrs.url}")
    return process, lrs


@pytest.fixture(scope="session")
def ralph_server(tmp_path_factory) -> Iterator[Lrs]:
    """The session's Ralph LRS (stopped at the end of the session)."""
    process, lrs = start_ralph(tmp_path_factory.mktemp("ralph"))
    try:
        yield lrs
    finally:
        stop(process)


@pytest.fixture
def ralph_lrs(ralph_server: Lrs) -> Lrs:
    """The session's Ralph holding no statement (its file is read at every request: removing it empties the store)."""
    for stored in ralph_server.data.glob("*.jsonl"):
        stored.unlink()
    return ralph_server
