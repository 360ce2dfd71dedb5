"""A local S3-compatible server for tests: moto in server mode, one per test session.

``moto_server`` starts ``moto_server`` from the running Python's bin folder on a
free port of 127.0.0.1 and waits until it answers; ``s3_settings`` gives the
portal configuration for one bucket there; ``s3_app`` is a testing app on the
session's database (so the ``db``/``org`` fixtures apply) whose files live in a
fresh bucket.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

#: Credentials moto accepts (any will do); never real ones.
ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def start_moto(timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """Start a moto server and wait until it answers; ``(process, endpoint URL)``."""
    program = Path(sys.executable).parent / "moto_server"
    if not program.exists():
        pytest.skip(f"{program} is missing (pip install 'moto[server]')")
    port = free_port()
    process = subprocess.Popen([str(program), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not _answers(f"{url}/moto-api/"):
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode} before answering on {url}")
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"moto_server did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.1)
    return process, url


def stop(process: subprocess.Popen) -> None:
    """Stop a server this module started."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def s3_settings(endpoint_url: str, bucket: str | None = None) -> dict[str, Any]:
    """Portal configuration keeping files in ``bucket`` (default: a new name) at ``endpoint_url``, created at start-up."""
    return {"STORAGE": "s3", "S3_BUCKET": bucket or f"portal-test-{uuid.uuid4().hex[:16]}",
            "S3_ENDPOINT_URL": endpoint_url, "S3_REGION": REGION, "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_CREATE_BUCKET": True}


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of the session's moto server (stopped at the end of the session)."""
    process, url = start_moto()
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture
def s3_app(app, moto_server, tmp_path_factory):
    """A testing app on the session's database whose file store is a fresh bucket of the moto server."""
    from portal.extensions import db
    from tests.conftest import make_test_app

    s3 = make_test_app(tmp_path_factory, DATABASE_URL=app.config["DATABASE_URL"], **s3_settings(moto_server))
    yield s3
    with s3.app_context():
        db.engine.dispose()
