#!/usr/bin/env python
"""Benchmark the portal's main pages against a bare Flask page, on data made by ``bench/generate.py``.

    python bench/run.py --instance /tmp/bench-sqlite             # after generate.py --instance /tmp/bench-sqlite
    python bench/run.py --instance /tmp/bench-pg --duration 5 --pages dashboard,lesson

Both the portal and the baseline (``bench/baseline_app.py``: one indexed SELECT,
a small Jinja template) are served the same way — gunicorn, ``--workers`` sync
workers on 127.0.0.1 — started here and stopped at the end. Load comes from
``wrk`` (Debian's package; ``--connections`` keep-alive connections on 2
threads for ``--duration`` seconds per page). Every figure is printed as
throughput, the ratio of that throughput to the baseline's (measured before
and after the pages, in the same run), and latency p50/p95.

Then: the peak resident memory of each gunicorn worker (``VmHWM``), and the
weight of the main member pages in Chromium (Playwright driving
``/usr/bin/chromium``): bytes over the wire on a first load with an empty
cache, and on a later visit with the cache warm.

Logged-in requests carry the session cookie of a login through the real form
(CSRF token parsed from the page). Nothing here is a pass/fail test; the
targets of issue 8 are printed next to the figures they concern.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from typing import Sequence
import tempfile
import time
import tomllib
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


# -- serving ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn master started for the benchmark (stopped with ``stop``)."""

    def __init__(self, app: str, env: dict, workers: int, label: str, log_dir: Path,
                 extra: Sequence[str] = (), cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.label = label
        self.log = open(log_dir / f"{label}.log", "w")
        gunicorn = shutil.which("gunicorn", path=str(PYTHON_BIN)) or "gunicorn"
        self.proc = subprocess.Popen(
            [gunicorn, "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{self.port}", "--timeout", "120",
             "--log-level", "warning", *extra, app],
            cwd=cwd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited: see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                if conn.getresponse().status < 500:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.label} did not answer in {timeout} s")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def peak_rss_mb(self) -> list[float]:
        """Peak resident set size (VmHWM) of each worker, in MiB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return peaks

    def memory_mb(self) -> list[dict[str, float]]:
        """Each worker's memory now, in MiB: RSS, PSS (shared pages split between the processes sharing them) and
        USS (pages only this worker holds: what one more worker costs), from ``/proc/<pid>/smaps_rollup``."""
        figures = []
        for pid in self.workers():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            kb = {name: int(value) for name, value in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
            figures.append({"pid": pid, "rss": kb.get("Rss", 0) / 1024, "pss": kb.get("Pss", 0) / 1024,
                            "uss": (kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024})
        return figures

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# -- a browser-less logged-in session ----------------------------------------------------------------------

class Session:
    """Cookies over ``http.client`` (enough for the portal's session cookie)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, dict(response.getheaders()), text

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def login(self, username: str, password: str) -> None:
        status, _headers, page = self.request("GET", "/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no CSRF token on the login page")
        status, headers, _ = self.request("POST", "/login", {"login": username, "password": password,
                                                            "csrf_token": match.group(1)})
        if status != 302 or "/login" in headers.get("Location", ""):
            raise RuntimeError(f"login as {username} failed ({status})")
        self.request("GET", "/dashboard")  # the day's first request records the daily login and sets its flag


# -- load ---------------------------------------------------------------------------------------------

@dataclass
class Figure:
    name: str
    url: str
    account: str | None
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    #: latency of one client alone (no queueing behind other connections): what a member waits
    solo_p50_ms: float = 0.0
    solo_p95_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    ratio: float | None = None
    status: int = 0
    bytes: int = 0
    note: str = ""


def load(port: int, path: str, cookie: str | None, duration: float, connections: int, script: Path) -> dict:
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
               "--timeout", "30s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    line = next((line for line in output.splitlines() if line.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{output}")
    return json.loads(line)


def measure(figure: Figure, port: int, cookie: str | None, args, script: Path) -> Figure:
    result = load(port, figure.url, cookie, args.duration, args.connections, script)
    seconds = result["duration_us"] / 1e6
    figure.requests = result["requests"]
    figure.rps = result["requests"] / seconds if seconds else 0.0
    figure.p50_ms, figure.p95_ms, figure.p99_ms = (result[k] / 1000 for k in ("p50_us", "p95_us", "p99_us"))
    figure.errors = result["status_errors"] + result["socket_errors"]
    if args.solo:
        solo = load(port, figure.url, cookie, max(1.0, args.duration / 2), 1, script)
        figure.solo_p50_ms, figure.solo_p95_ms = solo["p50_us"] / 1000, solo["p95_us"] / 1000
        figure.errors += solo["status_errors"] + solo["socket_errors"]
    return figure


# -- page weight in Chromium --------------------------------------------------------------------------------

def page_weights(port: int, username: str, password: str, paths: dict[str, str]) -> dict[str, dict]:
    """``{name: {"first": bytes, "later": bytes, "requests": n}}`` over the wire, measured with the DevTools protocol."""
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        for name, path in paths.items():
            # Service workers blocked: a page's requests through the worker are not seen by this page's DevTools
            # session (every page weighed 0 KiB); blocked, "later" is what the HTTP cache alone saves.
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                          locale="zh-CN", service_workers="block")
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            received = {"bytes": 0, "requests": 0}

            def finished(event, received=received):
                received["bytes"] += int(event.get("encodedDataLength", 0))
                received["requests"] += 1

            cdp.on("Network.loadingFinished", finished)
            page.goto(f"{base}/login")
            page.fill("input[name=login]", username)
            page.fill("input[name=password]", password)
            page.click("main form button[type=submit]")
            page.wait_for_load_state("networkidle")
            cdp.send("Network.clearBrowserCache")
            received.update(bytes=0, requests=0)
            page.goto(f"{base}{path}", wait_until="networkidle")
            first = dict(received)
            page.goto(f"{base}/points/" if path != "/points/" else f"{base}/dashboard", wait_until="networkidle")
            received.update(bytes=0, requests=0)
            page.goto(f"{base}{path}", wait_until="networkidle")
            later = dict(received)
            results[name] = {"path": path, "first": first["bytes"], "first_requests": first["requests"],
                             "later": later["bytes"], "later_requests": later["requests"]}
            context.close()
        browser.close()
    return results


# -- the run ------------------------------------------------------------------------------------------

def read_instance(instance: Path) -> dict:
    config = tomllib.loads((instance / "config.toml").read_text(encoding="utf-8"))
    return config


def discover(url: str) -> dict:
    """Ids the page URLs need (from the generated data)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        ids = {
            "root": one("SELECT id FROM org_unit WHERE parent_id IS NULL ORDER BY id LIMIT 1"),
            "home": one("SELECT home_unit_id FROM member m JOIN account a ON a.id = m.account_id "
                        "WHERE a.username = 'member1'"),
            "members": one("SELECT count(*) FROM member"),
        }
        try:  # a lesson in the middle of a course of median size
            sizes = conn.execute(text("SELECT course_id, count(*) FROM courses_lesson GROUP BY course_id "
                                      "ORDER BY count(*), course_id")).all()
            course_id, size = sizes[len(sizes) // 2]
            ids["course"] = conn.execute(text(f"SELECT slug FROM courses_course WHERE id = {int(course_id)}")).scalar()
            ids["lesson"] = conn.execute(text(f"SELECT id FROM courses_lesson WHERE course_id = {int(course_id)} "
                                              f"ORDER BY position LIMIT 1 OFFSET {int(size) // 2}")).scalar()
            ids["course_lessons"] = size
        except Exception:
            ids["course"], ids["lesson"] = None, None
        ids["township"] = one(f"SELECT parent_id FROM org_unit WHERE id = {int(ids['home'])}")
        try:  # the home branch's review round of last year (bench/branch_life.py)
            ids["review_round"] = one(f"SELECT id FROM review_round WHERE unit_id = {int(ids['home'])} "
                                      "ORDER BY year DESC LIMIT 1")
        except Exception:
            ids["review_round"] = None
    engine.dispose()
    return ids


PAGES = [
    # name, account, url template, issue-8 target (for the printout). Boards of the year: early in a month the
    # default month board is nearly empty and flatters the figure.
    ("inbox (core only)", "member1", "/inbox/", ""),
    ("dashboard", "member1", "/dashboard", "≥ 0.5 × baseline"),
    ("lesson", "member1", "/courses/{course}/lessons/{lesson}", "≥ 0.5 × baseline"),
    ("leaderboard_root", "member1", "/points/leaderboard?unit={root}&period=year", "p95 < 50 ms"),
    ("leaderboard_branch", "member1", "/points/leaderboard?unit={home}&period=year", "p95 < 50 ms"),
    ("points_me", "member1", "/points/", ""),
    ("members_branch", "home-secretary", "/units/{home}", ""),
    ("members_root_p20", "organizer", "/units/{root}?page=20", ""),
    ("care_queue", "home-secretary", "/care/queue", ""),
    ("search", "member1", "/search?q=%E6%B5%81%E5%8A%A8%E5%85%9A%E5%91%98", "p95 < 50 ms, ≥ 0.2 × baseline"),
    # the branch-life plugins (issue 20): a member's own pages, then the secretary's lists
    ("meetings_mine", "member1", "/meetings/", "≥ 0.3 × baseline"),
    ("dues_mine", "member1", "/dues/", "≥ 0.3 × baseline"),
    ("reports_mine", "member1", "/reports/", "≥ 0.3 × baseline"),
    ("review_mine", "member1", "/review/", "≥ 0.3 × baseline"),
    ("meetings_manage", "home-secretary", "/meetings/manage/?unit={home}", "≥ 0.2 × baseline"),
    ("dues_ledger", "home-secretary", "/dues/manage/?unit={home}", "≥ 0.2 × baseline"),
    ("reports_inbox", "home-secretary", "/reports/inbox?unit={home}", "≥ 0.2 × baseline"),
    ("development_board", "home-secretary", "/development/board/?unit={home}", "≥ 0.2 × baseline"),
    ("review_round", "home-secretary", "/review/manage/rounds/{review_round}", "≥ 0.2 × baseline"),
]
WEIGHT_PAGES = {"dashboard": "/dashboard", "lesson": "/courses/{course}/lessons/{lesson}", "points": "/points/",
                "leaderboard": "/points/leaderboard", "daily_quiz": "/quizzes/daily", "care": "/care/",
                "mobility": "/mobility/", "courses": "/courses"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", required=True, type=Path)
    parser.add_argument("--password", default="bench-2026")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-solo", dest="solo", action="store_false",
                        help="skip the one-connection latency run after each throughput run")
    parser.add_argument("--pages", help="comma-separated subset of: " + ",".join(p[0] for p in PAGES))
    parser.add_argument("--no-weight", action="store_true", help="skip the Chromium page-weight step")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    instance = args.instance.resolve()
    config = read_instance(instance)
    url = config["DATABASE_URL"]
    ids = discover(url)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    log_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    script = log_dir / "summary.lua"
    script.write_text(WRK_SCRIPT)
    wanted = set(args.pages.split(",")) if args.pages else None
    pages = [p for p in PAGES if wanted is None or p[0] in wanted]
    print(f"== {dialect}: {ids['members']:,} members; lesson page in a course of {ids.get('course_lessons')} lessons; "
          f"wrk {args.connections} connections × {args.duration:g} s per page; "
          f"gunicorn {args.workers} sync workers (logs in {log_dir})")

    baseline = Server("bench.baseline_app:app", {"BENCH_DATABASE_URL": url}, args.workers, "baseline", log_dir)
    # One account drives thousands of searches a minute here: lift the per-account search limit (60/minute),
    # or most requests would measure the 429 page instead of the search.
    portal = Server("portal:create_app()", {"PORTAL_INSTANCE_PATH": str(instance),
                                            "PORTAL_RATE_LIMIT_SEARCH": "1000000/minute"},
                    args.workers, "portal", log_dir,
                    # the portal's own gunicorn settings, as the README deploys it (lean workers)
                    extra=["-c", str(ROOT / "portal" / "gunicorn_conf.py")])
    results: dict = {"dialect": dialect, "members": ids["members"], "pages": [], "baseline": []}
    try:
        baseline.wait("/m/1")
        portal.wait("/login")
        sessions = {}
        for account in sorted({p[1] for p in pages}):
            session = Session(portal.port)
            session.login(account, args.password)
            sessions[account] = session
        base_path = f"/m/{max(1, ids['members'] // 2)}"

        def run_baseline(label):
            figure = measure(Figure(f"baseline ({label})", base_path, None), baseline.port, None, args, script)
            results["baseline"].append(asdict(figure))
            print(f"  {figure.name:<22} {figure.rps:8.0f} req/s  p50 {figure.p50_ms:6.1f} ms  p95 {figure.p95_ms:6.1f} ms"
                  f"  solo p50 {figure.solo_p50_ms:6.1f} p95 {figure.solo_p95_ms:6.1f} ms")
            return figure

        before = run_baseline("before")
        figures = []
        for name, account, template, target in pages:
            if ("{course}" in template and not ids.get("course")) or \
                    ("{review_round}" in template and not ids.get("review_round")):
                continue
            path = template.format(**ids)
            session = sessions[account]
            for _ in range(3):  # warm the workers (imports, jieba, caches) and check the page
                status, _headers, body = session.request("GET", path)
            figure = Figure(name, path, account, status=status, bytes=len(body.encode()), note=target)
            if status != 200:
                figure.note = f"HTTP {status}: skipped"
                print(f"  {name:<22} HTTP {status} — skipped")
                figures.append(figure)
                continue
            measure(figure, portal.port, session.cookie_header(), args, script)
            figures.append(figure)
            print(f"  {name:<22} {figure.rps:8.0f} req/s  p50 {figure.p50_ms:6.1f} ms  p95 {figure.p95_ms:6.1f} ms"
                  f"  solo p50 {figure.solo_p50_ms:6.1f} p95 {figure.solo_p95_ms:6.1f} ms"
                  f"  ({figure.requests} requests, {figure.errors} errors, {figure.bytes / 1024:.1f} KiB)")
        after = run_baseline("after")
        reference = (before.rps + after.rps) / 2
        for figure in figures:
            if figure.rps:
                figure.ratio = figure.rps / reference
            results["pages"].append(asdict(figure))
        results["baseline_rps"] = reference
        results["portal_worker_peak_rss_mb"] = portal.peak_rss_mb()
        results["baseline_worker_peak_rss_mb"] = baseline.peak_rss_mb()
        results["portal_worker_memory_mb"] = portal.memory_mb()
        results["baseline_worker_memory_mb"] = baseline.memory_mb()
        if not args.no_weight:
            weight_paths = {name: path.format(**ids) for name, path in WEIGHT_PAGES.items()
                            if "{course}" not in path or ids.get("course")}
            results["weights"] = page_weights(portal.port, "member1", args.password, weight_paths)
    finally:
        baseline.stop()
        portal.stop()

    print_report(results)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"\nfigures written to {args.out}")
    return 0


def verdicts(page: dict) -> list[str]:
    """"met" / "NOT met" for each target written in the page's note (a ratio, a solo p95)."""
    found = []
    ratio = re.search(r"≥ ([\d.]+) × baseline", page["note"])
    if ratio and page["ratio"] is not None:
        found.append("met" if page["ratio"] >= float(ratio.group(1)) else "NOT met")
    if "p95 < 50 ms" in page["note"] and page["rps"]:
        p95 = page["solo_p95_ms"] or page["p95_ms"]
        found.append(("met" if p95 < 50 else "NOT met") + " (solo p95)" * bool(page["solo_p95_ms"]))
    return found


def print_report(results: dict) -> None:
    print(f"\n== {results['dialect']} — baseline {results['baseline_rps']:.0f} req/s "
          f"(before {results['baseline'][0]['rps']:.0f}, after {results['baseline'][1]['rps']:.0f})")
    print(f"{'page':<22} {'req/s':>8} {'ratio':>6} {'p50 ms':>8} {'p95 ms':>8} {'solo p50':>8} {'solo p95':>8} "
          f"{'KiB':>6}  target")
    for page in results["pages"]:
        ratio = f"{page['ratio']:.2f}" if page["ratio"] is not None else "-"
        verdict = ", ".join(verdicts(page))
        print(f"{page['name']:<22} {page['rps']:8.0f} {ratio:>6} {page['p50_ms']:8.1f} {page['p95_ms']:8.1f} "
              f"{page['solo_p50_ms']:8.1f} {page['solo_p95_ms']:8.1f} {page['bytes'] / 1024:6.1f}  {page['note']} {verdict}"
              + f"  ({page['errors']} ERRORS: non-2xx answers counted)" * bool(page.get("errors")))
    rss = results.get("portal_worker_peak_rss_mb") or []
    base_rss = results.get("baseline_worker_peak_rss_mb") or []
    print(f"peak RSS per portal worker: {', '.join(f'{v:.0f}' for v in rss)} MiB "
          f"(baseline workers: {', '.join(f'{v:.0f}' for v in base_rss)} MiB)")
    for label, key in (("portal", "portal_worker_memory_mb"), ("baseline", "baseline_worker_memory_mb")):
        for worker in results.get(key) or []:
            print(f"{label} worker {worker['pid']} after the run: RSS {worker['rss']:.0f} MiB, "
                  f"PSS {worker['pss']:.0f} MiB, USS {worker['uss']:.0f} MiB"
                  + ("  (target RSS ≤ 100 MiB: " + ("met" if worker["rss"] <= 100 else "NOT met") + ")")
                  * (label == "portal"))
    if results.get("weights"):
        print(f"\n{'page weight (Chromium)':<22} {'first KiB':>10} {'req':>4} {'later KiB':>10} {'req':>4}  "
              "target < 100 / < 30")
        for name, weight in results["weights"].items():
            ok = weight["first"] < 100 * 1024 and weight["later"] < 30 * 1024
            print(f"{name:<22} {weight['first'] / 1024:10.1f} {weight['first_requests']:4d} "
                  f"{weight['later'] / 1024:10.1f} {weight['later_requests']:4d}  {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
