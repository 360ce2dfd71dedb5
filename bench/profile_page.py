#!/usr/bin/env python
"""Profile one page in-process, on data made by ``bench/generate.py``: where does the time go?

    python bench/profile_page.py --instance /tmp/bench-sqlite --account member1 /search?q=流动党员
    python bench/profile_page.py --instance /tmp/bench-pg --account organizer --runs 20 /units/1?page=20

Logs in through the login form (CSRF checks off for this client only), requests
the page once to warm up, then ``--runs`` times under pyinstrument (or cProfile
with ``--cprofile``), and prints the call tree plus the SQL statements of one
request with their time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--instance", required=True, type=Path)
    parser.add_argument("--account", default="member1")
    parser.add_argument("--password", default="bench-2026")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args(argv)
    os.environ["PORTAL_INSTANCE_PATH"] = str(args.instance.resolve())
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    response = client.post("/login", data={"login": args.account, "password": args.password})
    assert response.status_code == 302, f"login failed: {response.status_code}"
    response = client.get(args.path)
    print(f"{args.path} → {response.status_code}, {len(response.data)} bytes")
    started = time.perf_counter()
    for _ in range(3):
        client.get(args.path)
    print(f"warm request: {(time.perf_counter() - started) / 3 * 1000:.1f} ms")

    timings: list[tuple[float, str]] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        timings.append(((time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter())) * 1000,
                        " ".join(statement.split())[:160]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    client.get(args.path)
    total = (time.perf_counter() - started) * 1000
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    sql = sum(t for t, _ in timings)
    print(f"\none request: {total:.1f} ms, {len(timings)} statements, {sql:.1f} ms in the database")
    for ms, statement in sorted(timings, reverse=True)[:12]:
        print(f"  {ms:7.2f} ms  {statement}")

    if args.cprofile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.runs):
            client.get(args.path)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    else:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.runs):
            client.get(args.path)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
