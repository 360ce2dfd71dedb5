"""Points at scale: generate members, units and ledger entries, then time leaderboards and the member page.

    .venv/bin/python bench/bench_points.py --members 100000 --entries 10000000
    .venv/bin/python bench/bench_points.py --members 5000 --entries 200000 --only sqlite   # quick

Generation uses batched ``executemany`` on the raw driver connection (no ORM
rows, no COPY), loads the ledger with its secondary
indexes dropped and rebuilds them afterwards, and derives the per-period totals
with ``INSERT … SELECT … GROUP BY`` exactly as ``portal points recompute``
would. Then it times, through the plugin's own services, the queries of:

* the leaderboard (top 50 and the viewer's rank) of the root, a township, a
  branch and a mobile members' branch (hosting a share of the away third of
  the members), for each period;
* the member points page (totals, level, one page of history with its count,
  the 12-month chart, badges).

Prints p50/p95 in milliseconds per query group and the generation times.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://app:app@127.0.0.1:55432/bench"
RULES = (  # (code, verb, category, points low, points high, weight)
    ("daily_login", "member.daily_login", "login", 1, 1, 40),
    ("lesson_completed", "lesson.completed", "study", 1, 1, 30),
    ("daily_quiz", "daily_quiz.completed", "quiz", 1, 5, 20),
    ("quiz_passed", "quiz.passed", "quiz", 2, 2, 4),
    ("course_completed", "course.completed", "study", 5, 5, 2),
    ("meeting_attended", "meeting.attended", "meeting", 3, 3, 3),
    ("care_resolved", "care.resolved", "care", 3, 3, 1),
)


def log(message: str) -> None:
    print(message, flush=True)


class Loader:
    """Batched ``executemany`` on the raw DBAPI connection of either dialect.

    (Measured here: psycopg 3's pipelined executemany loads ~30 000 ledger rows/s,
    faster than 100–1 000-row ``VALUES`` lists; sqlite3's executemany is faster still.)
    """

    def __init__(self, engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        self.mark = "?" if self.dialect == "sqlite" else "%s"

    def insert(self, table: str, columns: list[str], rows, batch_size: int = 20_000) -> int:
        sql = f"INSERT INTO {table} ({','.join(columns)}) VALUES ({','.join([self.mark] * len(columns))})"
        cursor = self.raw.cursor()
        batch: list = []
        count = 0
        for row in rows:
            batch.append(row)
            if len(batch) == batch_size:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
        cursor.close()
        return count

    def execute(self, sql: str) -> None:
        cursor = self.raw.cursor()
        cursor.execute(sql)
        cursor.close()

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


def build_units(loader: Loader, count: int, now: datetime) -> tuple[list[int], list[int], dict[int, int]]:
    """Root → townships → branches; returns (township ids, branch ids, branch → township)."""
    townships = max(2, count // 50)
    branches = count - 1 - townships
    rows, township_ids, branch_ids, parent_of = [], [], [], {}
    rows.append((1, "County committee", "committee", None, "/1/", 0, False, now))
    next_id = 2
    for t in range(townships):
        tid = next_id
        next_id += 1
        township_ids.append(tid)
        rows.append((tid, f"Township {t + 1}", "committee", 1, f"/1/{tid}/", 1, False, now))
    for b in range(branches):
        tid = township_ids[b % townships]
        bid = next_id
        next_id += 1
        branch_ids.append(bid)
        parent_of[bid] = tid
        rows.append((bid, f"Branch {b + 1}", "branch", tid, f"/1/{tid}/{bid}/", 2, b % 25 == 0, now))
    loader.insert("org_unit", ["id", "name", "kind", "parent_id", "path", "depth", "is_mobile_branch", "created_at"],
                  rows)
    return township_ids, branch_ids, parent_of


def build_members(loader: Loader, count: int, branch_ids: list[int], rng: random.Random, now: datetime) -> list[int]:
    """Members spread unevenly over branches (some branches are 5× bigger); returns each member's branch.

    A third are away, hosted by one of the mobile members' branches (every 25th
    branch), so boards also list incoming members.
    """
    sizes = [rng.uniform(0.4, 2.0) for _ in branch_ids]
    homes = rng.choices(branch_ids, weights=sizes, k=count)
    mobile = branch_ids[::25]
    rows = ((i + 1, f"Member {i + 1}", "full", homes[i], rng.choice(mobile) if i % 3 == 0 else None, i % 3 == 0,
             False, i % 20 == 0, now, now) for i in range(count))
    loader.insert("member", ["id", "name", "stage", "home_unit_id", "host_unit_id", "is_away", "lost_contact",
                             "hide_from_public_boards", "created_at", "updated_at"], rows)
    return homes


def build_entries(loader: Loader, total: int, homes: list[int], rule_ids: dict, rng: random.Random,
                  now: datetime, zone) -> None:
    """``total`` rule entries over the last 365 days, members weighted (a few very active, many quiet)."""
    from datetime import timezone

    members = len(homes)
    weights = [min(rng.paretovariate(1.3), 40.0) for _ in range(members)]
    cumulative, running = [], 0.0
    for weight in weights:
        running += weight
        cumulative.append(running)
    rule_weights = [r[5] for r in RULES]
    start = now - timedelta(days=365)
    span = int((now - start).total_seconds())
    columns = ["member_id", "points", "kind", "category", "rule_id", "rule_version_id", "verb", "object_type",
               "object_id", "unit_id", "reason", "occurred_at", "day_key", "created_at"]
    done, chunk = 0, 200_000
    started = time.perf_counter()
    while done < total:
        n = min(chunk, total - done)
        picks = rng.choices(range(members), cum_weights=cumulative, k=n)
        rules = rng.choices(RULES, weights=rule_weights, k=n)
        seconds = [rng.randrange(span) for _ in range(n)]
        rows = []
        for i in range(n):
            member = picks[i]
            code, verb, category, low, high, _w = rules[i]
            at = start + timedelta(seconds=seconds[i])
            local = at.replace(tzinfo=timezone.utc).astimezone(zone)
            rule_id, version_id = rule_ids[code]
            rows.append((member + 1, low if low == high else rng.randint(low, high), "rule", category, rule_id,
                         version_id, verb, "thing", str(done + i), homes[member], "", at,
                         local.year * 10000 + local.month * 100 + local.day, at))
        loader.insert("points_entry", columns, rows)
        loader.commit()
        done += n
        if done % 2_000_000 == 0 or done == total:
            log(f"    {done:>11,} entries ({time.perf_counter() - started:.0f} s)")


TOTALS_SQL = [
    # day rows from the ledger, then every coarser period from the day rows
    "INSERT INTO points_total (member_id, period, period_key, unit_id, points) "
    "SELECT e.member_id, 'd', e.day_key, m.home_unit_id, SUM(e.points) FROM points_entry e "
    "JOIN member m ON m.id = e.member_id GROUP BY e.member_id, e.day_key, m.home_unit_id",
    "INSERT INTO points_total (member_id, period, period_key, unit_id, points) "
    "SELECT member_id, 'm', period_key / 100, unit_id, SUM(points) FROM points_total WHERE period = 'd' "
    "GROUP BY member_id, period_key / 100, unit_id",
    "INSERT INTO points_total (member_id, period, period_key, unit_id, points) "
    "SELECT member_id, 'q', (period_key / 100) * 10 + ((period_key % 100) - 1) / 3 + 1, unit_id, SUM(points) "
    "FROM points_total WHERE period = 'm' "
    "GROUP BY member_id, (period_key / 100) * 10 + ((period_key % 100) - 1) / 3 + 1, unit_id",
    "INSERT INTO points_total (member_id, period, period_key, unit_id, points) "
    "SELECT member_id, 'y', period_key / 100, unit_id, SUM(points) FROM points_total WHERE period = 'm' "
    "GROUP BY member_id, period_key / 100, unit_id",
    "INSERT INTO points_total (member_id, period, period_key, unit_id, points) "
    "SELECT member_id, 'a', 0, unit_id, SUM(points) FROM points_total WHERE period = 'y' "
    "GROUP BY member_id, unit_id",
    "INSERT INTO points_unit_total (unit_id, period, period_key, points) "
    "SELECT unit_id, period, period_key, SUM(points) FROM points_total GROUP BY unit_id, period, period_key",
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return p50 * 1000, p95 * 1000


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for index in range(runs):
        begin = time.perf_counter()
        fn(index)
        samples.append(time.perf_counter() - begin)
    return percentiles(samples)


def run(url: str, args, label: str) -> dict:
    os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-points-")
    from portal import create_app
    from portal.extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "SERVER_NAME": None,
                      "DEFAULT_LOCALE": "en"})
    rng = random.Random(args.seed)
    figures: dict = {"label": label}
    with app.app_context():
        from sqlalchemy import select, text

        from portal_points import leaderboard as boards
        from portal_points import services
        from portal_points.models import PointsEntry, PointsRule
        from portal.org.models import Member, OrgUnit
        from portal.timeutil import local_zone

        engine = db.engine
        now = datetime.utcnow().replace(microsecond=0)
        if not args.reuse:
            log(f"[{label}] creating a fresh schema")
            from sqlalchemy import MetaData

            existing = MetaData()
            existing.reflect(bind=engine)
            existing.drop_all(bind=engine)  # whatever an earlier run or another schema left behind
            db.create_all()
            services.ensure_default_rules()
            db.session.commit()
            rule_ids = {rule.code: (rule.id, rule.current.id) for rule in db.session.scalars(select(PointsRule))}
            db.session.remove()
            loader = Loader(engine)
            if loader.dialect == "sqlite":
                loader.execute("PRAGMA synchronous=OFF")
            begin = time.perf_counter()
            townships, branches, _parents = build_units(loader, args.units, now)
            homes = build_members(loader, args.members, branches, rng, now)
            loader.commit()
            figures["gen_org_s"] = time.perf_counter() - begin
            log(f"[{label}] {args.units} units and {args.members} members in {figures['gen_org_s']:.1f} s")
            entry_table = PointsEntry.__table__
            for index in entry_table.indexes:
                loader.execute(f"DROP INDEX {index.name}")
            # Foreign keys are checked once after the load instead of per row.
            from sqlalchemy.schema import AddConstraint, DropConstraint

            foreign_keys = list(entry_table.foreign_key_constraints)
            if loader.dialect == "sqlite":
                loader.execute("PRAGMA foreign_keys=OFF")
            else:
                loader.execute("SET work_mem = '256MB'")
                for fk in foreign_keys:
                    loader.execute(str(DropConstraint(fk).compile(dialect=engine.dialect)))
            loader.commit()
            begin = time.perf_counter()
            build_entries(loader, args.entries, homes, rule_ids, rng, now, local_zone())
            figures["gen_entries_s"] = time.perf_counter() - begin
            log(f"[{label}] {args.entries:,} ledger entries in {figures['gen_entries_s']:.1f} s")
            begin = time.perf_counter()
            loader.close()
            with engine.begin() as conn:
                for index in entry_table.indexes:
                    index.create(conn)
                if engine.dialect.name == "postgresql":
                    for fk in foreign_keys:
                        conn.execute(AddConstraint(fk))
            figures["gen_indexes_s"] = time.perf_counter() - begin
            log(f"[{label}] ledger indexes (and foreign keys) in {figures['gen_indexes_s']:.1f} s")
            begin = time.perf_counter()
            from portal_points.models import PointsTotal, PointsUnitTotal

            total_indexes = [*PointsTotal.__table__.indexes, *PointsUnitTotal.__table__.indexes]
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL work_mem = '256MB'"))
                total_fks = [fk for table in (PointsTotal.__table__, PointsUnitTotal.__table__)
                             for fk in table.foreign_key_constraints] if engine.dialect.name == "postgresql" else []
                for fk in total_fks:
                    conn.execute(DropConstraint(fk))
                for index in total_indexes:
                    index.drop(conn)
                for sql in TOTALS_SQL:
                    step = time.perf_counter()
                    conn.execute(text(sql))
                    if args.verbose:
                        log(f"    {time.perf_counter() - step:6.1f} s  {sql[:90]}")
                for index in total_indexes:
                    index.create(conn)
                for fk in total_fks:
                    conn.execute(AddConstraint(fk))
            if engine.dialect.name == "postgresql":
                # What autovacuum does in production: statistics and the visibility map (index-only scans).
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            else:
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
            figures["gen_totals_s"] = time.perf_counter() - begin
            log(f"[{label}] totals in {figures['gen_totals_s']:.1f} s")
        else:
            log(f"[{label}] reusing the existing data")
        counts = db.session.execute(text(
            "SELECT (SELECT COUNT(*) FROM member), (SELECT COUNT(*) FROM org_unit), "
            "(SELECT COUNT(*) FROM points_entry), (SELECT COUNT(*) FROM points_total)")).one()
        figures["rows"] = tuple(counts)
        log(f"[{label}] members {counts[0]:,}, units {counts[1]:,}, entries {counts[2]:,}, totals rows {counts[3]:,}")

        root = db.session.get(OrgUnit, 1)
        township_list = list(db.session.scalars(select(OrgUnit).where(OrgUnit.depth == 1)))
        branch_list = list(db.session.scalars(select(OrgUnit).where(OrgUnit.depth == 2)))
        host_list = [unit for unit in branch_list if unit.is_mobile_branch]  # boards with many incoming members
        member_count = counts[0]
        viewers = [db.session.get(Member, rng.randint(1, member_count)) for _ in range(20)]
        runs = args.runs
        results = []
        with app.test_request_context("/points/"):
            for period in ("day", "month", "quarter", "year", "all"):
                for scope, pick in (("root", lambda i: root),
                                    ("township", lambda i: township_list[i % len(township_list)]),
                                    ("branch", lambda i: branch_list[(i * 7919) % len(branch_list)]),
                                    ("host", lambda i: host_list[i % len(host_list)])):
                    def query(i, pick=pick, period=period):
                        boards.leaderboard(pick(i), period, viewer_member=viewers[i % len(viewers)], now=now)
                        db.session.expire_all()

                    query(0)  # warm the cache once
                    p50, p95 = timed(query, runs)
                    results.append((f"leaderboard {scope:<8} {period:<7}", p50, p95))
            members = [rng.randint(1, member_count) for _ in range(runs)]

            def member_page(i):
                member_id = members[i]
                totals = services.member_totals(member_id, now=now)
                services.level_for(totals["all"])
                page = services.tk.paginate(services.history_query(member_id), 25)
                services.reversed_ids(e.id for e in page.items)
                [services.entry_reason(e) for e in page.items]
                services.monthly_points(member_id, now=now)
                services.badges_of(member_id)
                db.session.expire_all()

            member_page(0)
            p50, p95 = timed(member_page, runs)
            results.append(("member points page queries", p50, p95))

            def standings(i):
                boards.unit_standings(township_list[i % len(township_list)], "month", now=now)
                db.session.expire_all()

            p50, p95 = timed(standings, max(10, runs // 4))
            results.append(("unit standings township month", p50, p95))
        figures["results"] = results
        log(f"[{label}] p50 / p95 in ms over {runs} runs each")
        for name, p50, p95 in results:
            log(f"  {name:<34} {p50:8.2f} {p95:8.2f}")
        db.session.remove()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per query group")
    parser.add_argument("--sqlite", default=os.path.join(tempfile.gettempdir(), "bench-points.sqlite3"))
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--only", choices=("sqlite", "pg"))
    parser.add_argument("--reuse", action="store_true", help="time the existing data without generating")
    parser.add_argument("--seed", type=int, default=20260310)
    parser.add_argument("--verbose", action="store_true", help="time each totals statement")
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(args.sqlite + suffix).unlink(missing_ok=True)
        run(f"sqlite:///{args.sqlite}", args, "sqlite")
    if args.only in (None, "pg"):
        run(args.pg, args, "postgresql")


if __name__ == "__main__":
    main()
