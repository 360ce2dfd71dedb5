"""SQLite under concurrent load: how many requests fail with a 5xx ("database is locked")?

    .venv/bin/python bench/bench_locks.py                      # 200 clients for 30 s, 4 workers
    .venv/bin/python bench/bench_locks.py --clients 50 --duration 10

Builds the demo organization (``portal demo``) on a fresh SQLite database in a
temporary instance folder, serves it with gunicorn (``--workers`` sync
workers, localhost only), logs in a few accounts, and lets ``--clients``
threads request a mix of pages for ``--duration`` seconds: dashboards and
lists for members and secretaries, and pages that write on GET — the day's
first request (daily login) and secretaries' views of personal data that are
audited (a member's unmasked ID number, care requests). Prints the count of
each status and of 5xx answers, which issue 14 wants at 0. Not a test: run it
by hand.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PYTHON_BIN, Server, Session  # noqa: E402 - after the path is set

PASSWORD = "demo-2026"
MEMBERS = ("member1", "member2", "member3", "member4", "member5", "member6")
SECRETARIES = ("home-secretary", "organizer", "admin")  # all see the home branch's members


def build_instance(instance: Path) -> Path:
    """A demo organization on SQLite in ``instance``; returns the database file."""
    database = instance / "portal.sqlite3"
    (instance / "config.toml").write_text(
        f'DATABASE_URL = "sqlite:///{database}"\nSECRET_KEY = "bench-locks-secret-not-for-production"\n',
        encoding="utf-8")
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance)}
    subprocess.run([str(PYTHON_BIN / "portal"), "demo", "--password", PASSWORD], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return database


def pages(database: Path) -> dict[str, list[str]]:
    """Paths per account kind, with ids read from the demo database."""
    with sqlite3.connect(database) as conn:
        home = conn.execute("SELECT u.id FROM org_unit u JOIN role_assignment r ON r.unit_id = u.id"
                            " JOIN account a ON a.id = r.account_id WHERE a.username = 'home-secretary'").fetchone()[0]
        members = [row[0] for row in conn.execute("SELECT id FROM member WHERE home_unit_id = ? LIMIT 20", (home,))]
        care = [row[0] for row in conn.execute("SELECT id FROM care_request WHERE unit_id = ? LIMIT 20", (home,))]
    audited = [f"/members/{m}?show_id=1" for m in members] + [f"/care/requests/{c}" for c in care]
    return {
        "member": ["/dashboard", "/me", "/inbox/", "/mobility/", "/care/", "/search?q=" + urllib.parse.quote("党员")],
        "secretary": ["/dashboard", f"/units/{home}", *[f"/members/{m}" for m in members[:5]],
                      "/care/queue", *audited],
    }


def login_all(port: int) -> dict[str, list[dict[str, str]]]:
    """Cookies of each logged-in account, by kind."""
    cookies: dict[str, list[dict[str, str]]] = {"member": [], "secretary": []}
    for kind, usernames in (("member", MEMBERS), ("secretary", SECRETARIES)):
        for username in usernames:
            session = Session(port)
            session.login(username, PASSWORD)
            cookies[kind].append(dict(session.cookies))
    return cookies


def probe(port: int, cookies: dict, paths: dict) -> None:
    """Each page once, before the load: a page that is not there would measure nothing."""
    for kind, kind_paths in paths.items():
        session = Session(port)
        session.cookies = dict(cookies[kind][0])
        answers = {path: session.request("GET", path)[0] for path in kind_paths}
        print(f"{kind} pages: {dict(collections.Counter(answers.values()))}; not 200: "
              f"{ {path: status for path, status in answers.items() if status != 200} }")


def drive(port: int, cookies: dict, paths: dict, clients: int, duration: float) -> collections.Counter:
    """``clients`` threads requesting random pages until ``duration`` is over; the count of each status."""
    statuses: collections.Counter = collections.Counter()
    failures: collections.Counter = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(index: int) -> None:
        rng = random.Random(index)
        kind = "secretary" if index % 2 else "member"
        session = Session(port)
        session.cookies = dict(rng.choice(cookies[kind]))
        while time.monotonic() < deadline:
            path = rng.choice(paths[kind])
            try:
                status, _headers, _body = session.request("GET", path)
            except OSError as exc:
                status = f"error {type(exc).__name__}"
            with lock:
                statuses[status] += 1
                if not isinstance(status, int) or status >= 500:
                    failures[path.split("?")[0].rstrip("0123456789")] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 120)
    statuses["failing paths"] = dict(failures)  # type: ignore[assignment]
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-locks-") as folder:
        instance = Path(folder)
        print("building the demo organization …", flush=True)
        database = build_instance(instance)
        server = Server("portal:create_app()", {"PORTAL_INSTANCE_PATH": str(instance)}, args.workers, "portal",
                        instance)
        try:
            server.wait("/login")
            cookies = login_all(server.port)
            paths = pages(database)
            probe(server.port, cookies, paths)
            print(f"{args.clients} clients for {args.duration:.0f} s on {args.workers} gunicorn workers …", flush=True)
            statuses = drive(server.port, cookies, paths, args.clients, args.duration)
        finally:
            server.stop()
        failing = statuses.pop("failing paths")
        total = sum(statuses.values())
        errors = sum(n for status, n in statuses.items() if not isinstance(status, int) or status >= 500)
        print(f"requests: {total} ({total / args.duration:.0f}/s); statuses: {dict(sorted(statuses.items(), key=str))}")
        print(f"5xx and connection errors: {errors}" + (f" — by path: {failing}" if failing else ""))
        if errors:
            print("server log:\n" + (instance / "portal.log").read_text(encoding="utf-8")[-4000:])


if __name__ == "__main__":
    main()
