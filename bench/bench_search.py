"""Search latency over >= 10 000 generated lessons (mixed Chinese and English). A benchmark, not a test.

    .venv/bin/python bench/bench_search.py [--docs 10000] [--repeat 30]

Builds a throw-away index in a temporary folder with the portal's own schema
and analyzer (jieba with word positions + Porter stemming), then runs a set of
Chinese and English queries through ``portal.search.service.search`` — the same
code path as the search page, including the scope filter, de-duplication and
highlighted snippets — and prints p50/p95 latency per query and overall.
Lesson text is made of sentences from the shipped courses, shuffled.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    import os

    os.environ["PORTAL_INSTANCE_PATH"] = str(tmp)
    from portal import create_app
    from portal.plugins.types import SearchDocument
    from portal.extensions import db
    from portal.search import service

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
                      "SEARCH_INDEX_DIR": str(tmp / "index")})
    rng = random.Random(2026)
    pools = sentences()
    with app.app_context():
        db.create_all()  # search reads the plugins' enabled state from the settings table
        t0 = time.perf_counter()
        service.init_jieba(str(tmp))
        jieba_seconds = time.perf_counter() - t0
        ix = service.open_index()
        t0 = time.perf_counter()
        writer = ix.writer(limitmb=256)
        for n in range(args.docs):
            locale = "zh_CN" if n % 3 else "en"  # two thirds Chinese, like the members
            body = ("。" if locale == "zh_CN" else " ").join(rng.sample(pools[locale], 12))
            if n % 5 == 0:  # mixed text: English words in Chinese lessons and the reverse
                body += " " + " ".join(rng.sample(pools["en" if locale == "zh_CN" else "zh_CN"], 1))
            title = rng.choice(pools[locale])[:40]
            scope = rng.choice(["members", "members", "public", "unit:1"])
            doc = SearchDocument(key=f"bench:{n}", type="lesson", title=title, body=body, url=f"/bench/{n}",
                                 scope=scope, locale=locale)
            writer.add_document(**service._doc_fields(doc, {1: "/1/"}, "courses"))
        writer.commit()
        index_seconds = time.perf_counter() - t0
        with app.test_request_context():
            for query in QUERIES:  # warm up caches
                service.search(query, None, locale="zh_CN")
            overall, rows = [], []
            for query in QUERIES:
                times, count = [], 0
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    count = len(service.search(query, None, locale="zh_CN", limit=20))
                    times.append((time.perf_counter() - start) * 1000)
                overall.extend(times)
                rows.append((query, count, percentile(times, 0.5), percentile(times, 0.95)))
    size_mb = sum(p.stat().st_size for p in (tmp / "index").iterdir()) / 1e6
    print(f"documents: {args.docs}  index: {size_mb:.1f} MB  indexing: {index_seconds:.1f} s "
          f"({args.docs / index_seconds:.0f} docs/s)  jieba init: {jieba_seconds:.2f} s")
    print(f"{'query':<22}{'hits':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for query, count, p50, p95 in rows:
        print(f"{query:<22}{count:>6}{p50:>10.1f}{p95:>10.1f}")
    print(f"{'ALL (' + str(len(overall)) + ' queries)':<22}{'':>6}{statistics.median(overall):>10.1f}"
          f"{percentile(overall, 0.95):>10.1f}")
    print("(visitor scope filter, top 20 results with highlighted snippets; one process, machine shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
