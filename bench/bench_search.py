"""Search latency over >= 10 000 generated lessons (mixed Chinese and English), both backends side by side.

    .venv/bin/python bench/bench_search.py [--lessons 10000] [--repeat 30] [--pg postgresql+psycopg://…/db]
        [--backends whoosh,postgres]
    .venv/bin/python bench/bench_search.py --copies 10 …   # the issue's 100 000 lessons: each lesson ten times

Indexes the same generated lessons into each backend — whoosh in a temporary
folder and, with ``--pg`` (an empty database: its ``search_document`` table is
created, then dropped), PostgreSQL's ``search_document`` — through the same
batch interface as ``portal search reindex``, then runs a set of Chinese and
English queries through ``portal.search.service.search`` — the same code path
as the search page, including the scope filter, de-duplication and highlighted
snippets — and prints solo p50/p95 latency per query and overall, per backend:
"first" is a query asked for the first time since the index changed (the kept
results emptied before each run: the engine's own cost, what the target is read
against), "again" the same query asked again (answered from the kept results of
``portal.search.service``, as a popular query is under load); CPU ms beside wall
ms, as the machine is shared. Lesson text is made of sentences from the shipped
courses, shuffled.
"""
from __future__ import annotations

import argparse
import functools
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["流动党员", "党费 缴纳", "讨薪", '"流动党员"', "工伤认定", "活动证 年度审核", "法律援助 12348",
           "wages", '"work injury"', "legal aid", "contract probation", "dues quarterly", "怎么交党费",
           "如何转接组织关系", "how do I pay my dues"]


def sentences() -> dict[str, list[str]]:
    pools = {"zh_CN": [], "en": []}
    for path in sorted((ROOT / "courses").glob("*/*.md")):
        locale = "zh_CN" if path.name.endswith(".zh_CN.md") else "en"
        text = re.sub(r"[#|*>`\-]+", " ", path.read_text(encoding="utf-8"))
        splitter = r"(?<=[。！？；])" if locale == "zh_CN" else r"(?<=[.!?;])\s+"
        pools[locale].extend(s.strip() for s in re.split(splitter, text) if len(s.strip()) > 8)
    return pools


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def lessons(count: int):
    """``count`` generated lesson documents (two thirds Chinese, one in five with text in the other language)."""
    from portal.plugins.types import SearchDocument

    rng = random.Random(2026)
    pools = sentences()
    for n in range(count):
        locale = "zh_CN" if n % 3 else "en"
        body = ("。" if locale == "zh_CN" else " ").join(rng.sample(pools[locale], 12))
        if n % 5 == 0:  # mixed text: English words in Chinese lessons and the reverse
            body += " " + " ".join(rng.sample(pools["en" if locale == "zh_CN" else "zh_CN"], 1))
        title = rng.choice(pools[locale])[:40]
        scope = rng.choice(["members", "members", "public", "unit:1"])
        yield SearchDocument(key=f"bench:{n}", type="lesson", title=title, body=body, url=f"/bench/{n}",
                             scope=scope, locale=locale)


def timed(query: str, repeat: int, forget: bool) -> tuple[int, list[float], list[float]]:
    """(hits, wall ms, CPU ms) of ``repeat`` searches for ``query``; ``forget``: empty the kept results before each."""
    from flask import current_app

    from portal.search import service

    wall, cpu, hits = [], [], 0
    if not forget:  # kept by this first search
        service.search(query, None, locale="zh_CN", limit=20)
    for _ in range(repeat):
        if forget:
            current_app.extensions["portal_search_results"].clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        hits = len(service.search(query, None, locale="zh_CN", limit=20))
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return hits, wall, cpu


def copied(count: int, copies: int):
    """``copies`` of each of ``count`` lessons, under keys and URLs of their own, a lesson's copies one after another."""
    from dataclasses import replace

    for doc in lessons(count):
        yield doc
        for n in range(1, copies):
            yield replace(doc, key=f"{doc.key}:{n}", url=f"{doc.url}/{n}")


@contextmanager
def cuts_reused():
    """jieba's cut of a text reused for the text's copies (the slow part of indexing; the index is the same)."""
    import jieba

    cut = jieba.tokenize
    jieba.tokenize = functools.lru_cache(maxsize=8)(lambda text, **kwargs: list(cut(text, **kwargs)))
    try:
        yield
    finally:
        jieba.tokenize = cut


def measure(app, backend: str, count: int, repeat: int,
            copies: int = 1) -> tuple[float, dict[str, list[tuple]], dict[str, list]]:
    """Index ``count`` × ``copies`` lessons into ``backend``: (indexing seconds, per-query rows and every latency per mode)."""
    from portal.search import service

    app.config["SEARCH_BACKEND"] = backend
    with app.app_context():
        t0 = time.perf_counter()
        with service.backend().batch() as batch, cuts_reused():
            batch.clear()
            for doc in copied(count, copies):
                batch.upsert(service._doc_fields(doc, {1: "/1/"}, "courses"))
        index_seconds = time.perf_counter() - t0
        rows: dict[str, list[tuple]] = {"first": [], "again": []}
        overall: dict[str, list] = {"first": [[], []], "again": [[], []]}
        with app.test_request_context():
            for query in QUERIES:  # warm up the process (jieba, the searcher, the plan cache)
                service.search(query, None, locale="zh_CN")
            for mode in rows:
                for query in QUERIES:
                    hits, wall, cpu = timed(query, repeat, forget=mode == "first")
                    overall[mode][0].extend(wall)
                    overall[mode][1].extend(cpu)
                    rows[mode].append((query, hits, percentile(wall, 0.5), percentile(wall, 0.95),
                                       percentile(cpu, 0.5)))
    return index_seconds, rows, overall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", "--docs", type=int, default=10_000, dest="lessons")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--copies", type=int, default=1, help="index each lesson this many times (10: 100 000 lessons)")
    parser.add_argument("--pg", help="an empty PostgreSQL database URL: also measure the PostgreSQL backend")
    parser.add_argument("--backends", default="whoosh,postgres", help="which of whoosh,postgres to measure")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    import os

    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp)
    from portal import create_app
    from portal.extensions import db
    from portal.search import service

    url = args.pg or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url,
                      "SEARCH_INDEX_DIR": str(tmp / "index")})
    with app.app_context():
        db.create_all()  # search reads the plugins' enabled state from the settings table
        t0 = time.perf_counter()
        service.init_jieba(str(tmp))
        jieba_seconds = time.perf_counter() - t0
    print(f"lessons: {args.lessons} × {args.copies}  jieba init: {jieba_seconds:.2f} s  ({url.split('@')[-1]})")
    results = {}
    try:
        for backend in [b for b in args.backends.split(",") if b == "whoosh" or args.pg]:
            results[backend] = measure(app, backend, args.lessons, args.repeat, args.copies)
            print(f"{backend}: indexing {results[backend][0]:.1f} s "
                  f"({args.lessons * args.copies / results[backend][0]:.0f} lessons/s)", flush=True)
    finally:
        if args.pg:
            with app.app_context():
                db.drop_all()
    names = list(results)
    for mode in ("first", "again"):
        print(f"\n{mode}: " + ("asked for the first time since the index changed" if mode == "first"
                               else "asked again (kept results)"))
        print(f"{'query':<22}" + "".join(f"{name + ' hits':>14}{'p50 ms':>9}{'p95 ms':>9}{'cpu p50':>9}"
                                         for name in names))
        for i, query in enumerate(QUERIES):
            print(f"{query:<22}" + "".join("{:>14}{:>9.1f}{:>9.1f}{:>9.1f}".format(*results[n][1][mode][i][1:])
                                           for n in names))
        print(f"{'ALL':<22}" + "".join(
            f"{len(results[n][2][mode][0]):>14}{statistics.median(results[n][2][mode][0]):>9.1f}"
            f"{percentile(results[n][2][mode][0], 0.95):>9.1f}{statistics.median(results[n][2][mode][1]):>9.1f}"
            for n in names))
    print("(visitor scope filter, top 20 results with highlighted snippets; one process, solo, machine shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
