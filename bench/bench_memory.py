"""Worker memory: RSS, PSS and USS of each gunicorn worker after a round of real pages, and what takes it.

Serves the portal with gunicorn (2 sync workers, as ``bench/run.py`` does) on an
instance — a fresh ``portal demo`` by default — logs in as a member and a branch
secretary, requests the pages that pull in most code (dashboard, lesson, search,
points, a certificate PDF, a dues receipt PDF, a members ``.xlsx``, the meetings
``.ics``, the member list, the care queue) from two clients at once so both
workers serve them, then reads ``/proc/<pid>/smaps_rollup`` of the master and of
every worker:

* **RSS** — every resident page the process maps, shared or not (what ``top`` shows, the issue's target);
* **PSS** — each shared page divided by the number of processes sharing it (sums to the machine's real use);
* **USS** — pages only this process holds (what stopping it would give back).

``--page-set benchmark`` requests ``bench/run.py``'s pages instead (the workers' memory after the
benchmark itself, the issue's target); ``--conf FILE`` measures variant ``conf`` with another settings
file (a copy of the previous ``portal/gunicorn_conf.py``: before/after of a change to it in one run).

Variants measured in the same run (each a fresh gunicorn):

* ``before`` (with ``--before DIR``): another checkout of the code, e.g. ``git archive HEAD | tar -x -C DIR``,
  served exactly like ``bench/run.py`` does;
* ``plain``: this checkout, ``bench/run.py``'s command line;
* ``conf``: this checkout with ``-c portal/gunicorn_conf.py`` (app preloaded in the master, ``gc.freeze()``);
* ``baseline``: ``bench/baseline_app.py`` (bare Flask) for scale.

Then (``--no-analyse`` skips it) where the memory goes inside one process: RSS and the top
``tracemalloc`` allocations by package after ``create_app()`` and after the first search, and the
slowest imports of ``create_app()`` (``python -X importtime``), by top-level package.

    .venv/bin/python bench/bench_memory.py                              # fresh demo instance
    .venv/bin/python bench/bench_memory.py --instance /tmp/bench/sqlite --password bench-2026
    git archive HEAD | (mkdir -p /tmp/before && tar -x -C /tmp/before)
    .venv/bin/python bench/bench_memory.py --before /tmp/before        # before/after in one run
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
SMAPS_FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty")


# -- serving: bench/run.py's gunicorn master and logged-in session ---------------------------------------

sys.path.insert(0, str(ROOT))
from bench.run import PAGES, Server, Session, discover  # noqa: E402 - after the path is set


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS, USS, shared and peak RSS of ``pid`` in MiB (from ``smaps_rollup`` and ``status``)."""
    values = dict.fromkeys(SMAPS_FIELDS, 0)
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in values:
            values[name] = int(rest.split()[0])
    peak = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    mib = lambda kb: round(kb / 1024, 1)  # noqa: E731
    return {"rss": mib(values["Rss"]), "pss": mib(values["Pss"]),
            "uss": mib(values["Private_Clean"] + values["Private_Dirty"]),
            "shared": mib(values["Shared_Clean"] + values["Shared_Dirty"]),
            "peak_rss": mib(int(peak.group(1)) if peak else 0)}


# -- the pages ----------------------------------------------------------------------------------------

def database_url(instance: Path) -> str:
    """The instance's database URL (config.toml, else the default SQLite file)."""
    config = tomllib.loads((instance / "config.toml").read_text(encoding="utf-8"))
    return config.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"


def pages(url: str) -> list[tuple[str, str, str]]:
    """``(name, account, path)`` of the pages to request, with ids from the instance's data."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        def one(sql: str, **params):
            try:
                return conn.execute(text(sql), params).scalar()
            except Exception:  # a plugin's table missing: skip its page
                conn.rollback()
                return None

        member = one("SELECT m.id FROM member m JOIN account a ON a.id = m.account_id WHERE a.username = 'member1'")
        home = one("SELECT home_unit_id FROM member WHERE id = :m", m=member)
        lesson = one("SELECT id FROM courses_lesson ORDER BY course_id, position LIMIT 1")
        course = one("SELECT c.slug FROM courses_course c JOIN courses_lesson l ON l.course_id = c.id "
                     "WHERE l.id = :l", l=lesson)
        certificate = one("SELECT code FROM courses_certificate WHERE member_id = :m ORDER BY id LIMIT 1", m=member)
        payment = one("SELECT id FROM dues_payment WHERE member_id = :m AND status = 'confirmed' ORDER BY id LIMIT 1",
                      m=member)
    engine.dispose()
    wanted = [
        ("dashboard", "member1", "/dashboard"),
        ("lesson", "member1", f"/courses/{course}/lessons/{lesson}" if lesson else None),
        ("search", "member1", "/search?q=" + urllib.parse.quote("流动党员怎么交党费")),
        ("points", "member1", "/points/"),
        ("certificate PDF", "member1", f"/certificates/{certificate}.pdf" if certificate else None),
        ("dues receipt PDF", "member1", f"/dues/payments/{payment}/receipt.pdf" if payment else None),
        ("meetings .ics", "member1", "/meetings/calendar.ics"),
        ("member list", "home-secretary", f"/units/{home}"),
        ("members .xlsx", "home-secretary", f"/units/{home}/members.xlsx"),
        ("care queue", "home-secretary", "/care/queue"),
    ]
    return [(name, account, path) for name, account, path in wanted if path]


def benchmark_pages(url: str) -> list[tuple[str, str, str]]:
    """``(name, account, path)`` of ``bench/run.py``'s pages: the workers' memory after the benchmark itself."""
    ids = discover(url)
    wanted = []
    for name, account, template, _target in PAGES:
        try:
            wanted.append((name, account, template.format(**ids)))
        except (KeyError, ValueError):  # an id this instance lacks (no review round…)
            continue
    return [(name, account, path) for name, account, path in wanted if "None" not in path]


def exercise(port: int, password: str, wanted: list[tuple[str, str, str]], rounds: int) -> dict[str, int]:
    """Request every page ``rounds`` times from two clients at once (both workers serve); statuses by page."""
    statuses: dict[str, int] = {}

    def client() -> None:
        sessions = {}
        for account in dict.fromkeys(account for _name, account, _path in wanted):
            sessions[account] = Session(port)
            sessions[account].login(account, password)
        for _ in range(rounds):
            for name, account, path in wanted:
                statuses[name] = sessions[account].request("GET", path)[0]

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


# -- inside one process ---------------------------------------------------------------------------------

ANALYSE = r"""
import collections, json, re, sys, tracemalloc
mode, password = sys.argv[1], sys.argv[2]
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
def package(filename):
    for marker in ("site-packages/", "/plugins/"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/portal/" in filename:
        return "portal"
    if filename.startswith("<frozen importlib"):
        return "code objects (imports)"
    return "stdlib" if "/lib/python3" in filename else filename
def top(stats, attr, n=10):
    sizes = collections.Counter()
    for stat in stats:
        sizes[package(stat.traceback[0].filename)] += getattr(stat, attr)
    return [(k, round(v / 2**20, 1)) for k, v in sizes.most_common(n) if v > 0]
out = {"start_rss": rss()}
if mode == "trace":
    tracemalloc.start()
from portal import create_app
app = create_app()
out["create_app_rss"] = rss()
heavy = ("openpyxl", "fpdf", "fontTools", "PIL", "segno", "icalendar", "markdown_it", "boto3", "alembic", "jieba",
         "whoosh")
out["heavy_loaded_at_start"] = [name for name in heavy if name in sys.modules]
if mode == "trace":
    out["create_app_top"] = top(tracemalloc.take_snapshot().statistics("filename"), "size")
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page)
client.post("/login", data={"login": "member1", "password": password, "csrf_token": token.group(1) if token else ""})
client.get("/dashboard")
out["dashboard_rss"] = rss()
if mode == "trace":
    before_search = tracemalloc.take_snapshot()
out["search_status"] = client.get("/search?q=%E6%B5%81%E5%8A%A8%E5%85%9A%E5%91%98").status_code
out["search_rss"] = rss()
if mode == "trace":
    out["search_top"] = top(tracemalloc.take_snapshot().compare_to(before_search, "filename"), "size_diff", 6)
print("RESULT " + json.dumps(out))
"""


def _run_probe(mode: str, password: str, cwd: Path, env: dict) -> dict:
    result = subprocess.run([sys.executable, "-c", ANALYSE, mode, password], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"analysis failed:\n{result.stderr[-3000:]}")
    return json.loads(line.removeprefix("RESULT "))


def analyse(instance: Path, password: str, cwd: Path = ROOT, env: dict | None = None) -> dict:
    """RSS after ``create_app()``, the dashboard and the first search (without tracemalloc, whose own
    bookkeeping would inflate it), tracemalloc by package at the same points, and import times."""
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance), **(env or {})}
    out = _run_probe("rss", password, cwd, env)
    traced = _run_probe("trace", password, cwd, env)
    out.update(create_app_top=traced["create_app_top"], search_top=traced["search_top"])
    timed = subprocess.run([sys.executable, "-X", "importtime", "-c", "from portal import create_app; create_app()"],
                           cwd=cwd, env=env, capture_output=True, text=True, timeout=600).stderr
    own: dict[str, int] = {}
    for line in timed.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*([\w.]+)", line)
        if match:
            package = match.group(2).split(".")[0]
            own[package] = own.get(package, 0) + int(match.group(1))
    out["import_ms_by_package"] = [(k, round(v / 1000)) for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:12]]
    return out


# -- the run ------------------------------------------------------------------------------------------------

def demo_instance(password: str) -> Path:
    """A fresh instance folder with ``portal init`` and ``portal demo`` run in it."""
    instance = Path(tempfile.mkdtemp(prefix="portal-memory-"))
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance)}
    portal = str(PYTHON_BIN / "portal")
    subprocess.run([portal, "init"], env=env, check=True, capture_output=True)
    subprocess.run([portal, "demo", "--password", password], env=env, check=True, capture_output=True)
    return instance


def measure(label: str, server: Server, password: str, wanted, rounds: int) -> dict:
    """Serve, exercise, read the memory of master and workers."""
    try:
        server.wait("/login", timeout=120)
        statuses = exercise(server.port, password, wanted, rounds) if wanted else {}
        time.sleep(1.0)  # let the search drain thread and the like settle
        workers = [memory(pid) for pid in server.workers()]
        return {"label": label, "master": memory(server.proc.pid), "workers": workers, "statuses": statuses}
    finally:
        server.stop()


def print_table(results: list[dict]) -> None:
    """One Markdown table: a row per process."""
    print("\n| variant | process | RSS MiB | PSS MiB | USS MiB | shared MiB | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for result in results:
        rows = [("master", result["master"])] + [(f"worker {i + 1}", w) for i, w in enumerate(result["workers"])]
        for name, m in rows:
            print(f"| {result['label']} | {name} | {m['rss']:.0f} | {m['pss']:.0f} | {m['uss']:.0f} | "
                  f"{m['shared']:.0f} | {m['peak_rss']:.0f} |")
    for result in results:
        if result["statuses"]:
            bad = {name: status for name, status in result["statuses"].items() if status != 200}
            print(f"{result['label']}: {len(result['statuses'])} pages, "
                  + (f"not 200: {bad}" if bad else "all 200"))


def main(argv: list[str] | None = None) -> int:
    """Run the variants, print the table (and ``--out`` JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, help="an instance folder (default: a fresh `portal demo`)")
    parser.add_argument("--password", default="demo-2026", help="the accounts' password (generated: bench-2026)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="times each client requests every page")
    parser.add_argument("--before", type=Path, help="a checkout of the code before, measured as variant 'before'")
    parser.add_argument("--variants", default="before,plain,conf,baseline",
                        help="comma-separated subset of: before, plain, conf, baseline")
    parser.add_argument("--page-set", choices=("heavy", "benchmark"), default="heavy",
                        help="heavy: the pages pulling in most code (PDF, .xlsx, .ics); benchmark: bench/run.py's pages")
    parser.add_argument("--pages", help="comma-separated subset of the page names (default: all)")
    parser.add_argument("--conf", type=Path, default=ROOT / "portal" / "gunicorn_conf.py",
                        help="the gunicorn settings file of variant 'conf' (e.g. a copy of the previous one)")
    parser.add_argument("--no-analyse", dest="analyse", action="store_false")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    instance = (args.instance or demo_instance(args.password)).resolve()
    url = database_url(instance)
    wanted = benchmark_pages(url) if args.page_set == "benchmark" else pages(url)
    if args.pages:
        wanted = [page for page in wanted if page[0] in args.pages.split(",")]
    log_dir = Path(tempfile.mkdtemp(prefix="portal-memory-logs-"))
    print(f"instance {instance}; {args.workers} sync workers; pages: {', '.join(n for n, _a, _p in wanted)}")
    env = {"PORTAL_INSTANCE_PATH": str(instance)}
    chosen = args.variants.split(",")
    variants = []
    if "before" in chosen and args.before:
        before = args.before.resolve()
        variants.append(("before", lambda: Server(
            "portal:create_app()", {**env, "PYTHONPATH": f"{before}:{before / 'plugins'}"}, args.workers,
            "before", log_dir, cwd=before), wanted))
    if "plain" in chosen:
        variants.append(("plain", lambda: Server("portal:create_app()", env, args.workers, "plain", log_dir), wanted))
    if "conf" in chosen:
        variants.append(("conf", lambda: Server("portal:create_app()", env, args.workers, "conf", log_dir,
                                                extra=["-c", str(args.conf.resolve())]), wanted))
    if "baseline" in chosen:
        variants.append(("baseline", lambda: Server("bench.baseline_app:app", {"BENCH_DATABASE_URL": url},
                                                    args.workers, "baseline", log_dir), []))
    results = []
    for label, start, pages_of in variants:
        print(f"measuring {label} …", flush=True)
        results.append(measure(label, start(), args.password, pages_of, args.rounds))
    print_table(results)
    figures = {"instance": str(instance), "servers": results}
    if args.analyse:
        figures["analysis"] = {"after": analyse(instance, args.password)}
        if args.before and "before" in chosen:
            figures["analysis"]["before"] = analyse(
                instance, args.password, cwd=args.before.resolve(),
                env={"PYTHONPATH": f"{args.before.resolve()}:{args.before.resolve() / 'plugins'}"})
        for label, found in figures["analysis"].items():
            print(f"\n## inside one process ({label})")
            print(f"RSS: start {found['start_rss']:.0f} MiB, after create_app() {found['create_app_rss']:.0f}, "
                  f"after the dashboard {found['dashboard_rss']:.0f}, after the first search "
                  f"{found['search_rss']:.0f} (status {found['search_status']})")
            print(f"heavy libraries imported by create_app(): {', '.join(found['heavy_loaded_at_start']) or 'none'}")
            print("tracemalloc after create_app(), MiB by package (Python objects only): "
                  + ", ".join(f"{k} {v}" for k, v in found["create_app_top"]))
            print("tracemalloc growth of the first search, MiB by package: "
                  + ", ".join(f"{k} {v}" for k, v in found["search_top"]))
            print("import time of create_app(), ms by package: "
                  + ", ".join(f"{k} {v}" for k, v in found["import_ms_by_package"]))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
