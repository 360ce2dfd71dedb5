#!/usr/bin/env python
"""Generate a realistic organization at scale, on SQLite or PostgreSQL, in minutes.

    python bench/generate.py --instance /tmp/bench-sqlite                       # SQLite file in the instance
    python bench/generate.py --instance /tmp/bench-pg \\
        --url postgresql+psycopg://app:app@127.0.0.1:55432/bench                  # PostgreSQL
    python bench/generate.py --instance /tmp/b --members 5000 --activities 200000 # small, for development

What it builds (defaults are the issue's scale):

* a 4-level tree — the root committee, township committees (plus a general
  branch of mobile members' branches in destination cities), village branches,
  party groups — with materialized paths exactly as ``create_unit`` computes
  them (``/1/7/42/``);
* ``--members`` members with login accounts (one shared password hash), a third
  of them away and hosted by a mobile members' branch; every branch's first
  member is its secretary;
* ``--activities`` activities over the last two years (daily logins, daily
  quizzes, lessons completed, courses completed, quiz attempts, comments,
  contact logs) and what the points plugin writes for them: ledger entries
  scored with the default rules (caps, once-per-object, cooldowns respected),
  per-member and per-branch day/month/quarter/year/all totals, rule counters;
* what the courses and quizzes plugins write for the same acts: lesson
  progress, enrollments, daily quiz results;
* ``--courses`` courses with ``--lessons`` lessons (Chinese Markdown bodies),
  indexed for search;
* ``--care`` care requests routed to home or host branches, each with its
  first timeline event;
* branch life (``bench/branch_life.py``): two years of meetings with attendance
  and notices with receipts, dues profiles and payments, personal reports and
  suggestions, development cases with their steps, last year's annual review
  (``--no-branch-life`` skips them).

The schema comes from the migrations (``portal.migrate.upgrade``, what
``portal init`` runs); tables of plugins that have no migration yet are
created from their models. Rows go in with bulk statements — ``executemany``
in large batches on SQLite (``journal_mode=WAL``, ``synchronous=OFF``), ``COPY``
on PostgreSQL — with the big tables' secondary indexes, unique and foreign-key
constraints dropped during the load and rebuilt after it.

Demo accounts (password ``--password``, default ``bench-2026``): ``admin``,
``organizer`` (root), ``home-secretary`` (a village branch), ``host-secretary``
(a mobile members' branch), ``member1`` (that village, away, hosted there),
``member2`` (same village, at home). Other members log in as ``m<member id>``.

The instance folder gets a ``config.toml`` (database URL, secret key), so
``PORTAL_INSTANCE_PATH=<instance> portal …`` and ``bench/run.py --instance``
find the data.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.branch_life import BIG_TABLES, build_branch_life  # noqa: E402 (needs ROOT on the path)

DAYS = 730
TZ_OFFSET = 8 * 3600  # Asia/Shanghai, the portal's default TIMEZONE (no DST)

# -- words ------------------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华志海燕文辉玉萍红建国兰飞鹏斌宇浩凯秀云峰亮成婷雪琳晨欣"
PLACES = "东西南北上下大小新老前后石竹茶柳桥湾田山河溪岭坪塘冲坑坝口庄源湖林峰岗铺集寨港圩"
DESTINATIONS = [("广东省", "深圳市"), ("广东省", "东莞市"), ("广东省", "广州市"), ("浙江省", "杭州市"),
                ("浙江省", "宁波市"), ("上海市", "上海市"), ("江苏省", "苏州市"), ("福建省", "厦门市"),
                ("江西省", "南昌市"), ("北京市", "北京市")]
HOME_PROVINCE, HOME_CITY = "江西省", "吉安市"
OCCUPATIONS = [("建筑工人", "建筑业"), ("电子厂操作工", "制造业"), ("快递员", "交通运输业"), ("厨师", "住宿和餐饮业"),
               ("个体经营", "批发和零售业"), ("软件工程师", "信息技术"), ("务农", "农业"), ("教师", "教育"),
               ("网约车司机", "交通运输业"), ("护工", "卫生和社会工作")]
EMPLOYERS = ["深圳市华达电子有限公司", "杭州顺风物流有限公司", "中建某局第三项目部", "东莞市长安五金厂", "个体", "苏州工业园区某科技公司"]
EDUCATION = (["primary", "junior_high", "high_school", "vocational", "associate", "bachelor", "master", "doctorate"],
             [2, 18, 35, 15, 12, 15, 2, 1])
STAGES = (["full", "probationary", "candidate", "activist", "applicant"], [78, 6, 4, 6, 6])
PHRASES = ["流动党员", "组织生活", "理论学习", "党支部", "三会一课", "主题党日", "民主评议", "党费缴纳", "初心使命",
           "为民服务", "乡村振兴", "基层治理", "志愿服务", "安全生产", "劳动权益", "技能培训", "家风建设", "廉洁自律",
           "调查研究", "群众路线", "学习贯彻", "发展党员", "入党积极分子", "联系群众", "先锋模范", "党员先锋岗",
           "两地审查", "活动证", "组织关系转接", "返乡创业"]
CONNECTORS = ["是", "要求", "包括", "离不开", "需要坚持", "体现了", "推动", "促进", "关系到", "服务于"]
CATEGORIES = ["theory", "policy", "history", "skills", "law", "general"]
CARE = {"schooling": "孩子入学遇到困难", "medical": "看病就医需要帮助", "wages": "工资被拖欠", "employment": "希望介绍工作",
        "skills": "想参加技能培训", "family": "家中老人需要照顾", "hardship": "生活困难申请帮扶", "other": "其他需要帮助的事"}

# Default points rules by verb (portal_points.services.DEFAULT_RULES), checked against the database at run time.
RULED_VERBS = ("member.daily_login", "lesson.completed", "daily_quiz.completed", "course.completed")


# -- the output: bulk loaders ---------------------------------------------------------------------

class Loader:
    """Bulk inserts on one raw DBAPI connection: ``executemany`` (SQLite) or ``COPY`` (PostgreSQL)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.timings: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        if self.dialect == "sqlite":
            for pragma in ("journal_mode=WAL", "synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000",
                           "temp_store=MEMORY"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.execute("BEGIN")
        else:
            with self.conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
                cur.execute("SET maintenance_work_mem = '512MB'")

    def execute(self, sql: str, params=()) -> list:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
        finally:
            cur.close()

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        else:
            with self.conn.cursor() as cur:
                with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        self.timings[table] += time.perf_counter() - started
        self.counts[table] += len(rows)

    def commit(self) -> None:
        if self.dialect == "sqlite":
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
        else:
            self.conn.commit()

    def close(self) -> None:
        if self.dialect == "sqlite":
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()
        self.raw.close()

    @contextmanager
    def bulk_mode(self, tables: list[str]):
        """Drop the tables' secondary indexes (and on PostgreSQL unique/foreign-key constraints); rebuild after."""
        started = time.perf_counter()
        saved_indexes, saved_constraints = [], []
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(tables))
            saved_indexes = self.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
                tables)
            for name, _sql in saved_indexes:
                self.conn.execute(f'DROP INDEX "{name}"')
        else:
            saved_constraints = self.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
                "FROM pg_constraint c WHERE c.contype IN ('f', 'u') AND c.conrelid::regclass::text = ANY(%s) "
                "ORDER BY c.contype", (tables,))
            for table, name, _definition, _kind in saved_constraints:  # 'f' before 'u'
                self.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            saved_indexes = self.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')", (tables,))
            for name, _sql in saved_indexes:
                self.execute(f'DROP INDEX "{name}"')
            self.conn.commit()
        self.timings["(drop indexes)"] += time.perf_counter() - started
        yield
        self.commit()
        started = time.perf_counter()
        for _name, sql in saved_indexes:
            self.execute(sql)
        for table, name, definition, _kind in sorted(saved_constraints, key=lambda c: c[3], reverse=True):
            self.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')  # 'u' before 'f'
        self.commit()
        self.timings["(rebuild indexes and constraints)"] += time.perf_counter() - started


# -- time helpers -------------------------------------------------------------------------------------

class Clock:
    """Local days ``0 … DAYS-1`` ending today; timestamps rendered as naive-UTC strings (both databases parse them)."""

    def __init__(self, today: date) -> None:
        self.first = today - timedelta(days=DAYS - 1)
        self.day_keys = [self._key(self.first + timedelta(days=d)) for d in range(DAYS)]
        self.dates = [(self.first + timedelta(days=d)).isoformat() for d in range(-1, DAYS + 1)]  # index d+1
        self.tods = [f" {h:02d}:{m:02d}:{sec:02d}.000000" for h in range(24) for m in range(60) for sec in range(60)]

    @staticmethod
    def _key(day: date) -> int:
        return day.year * 10000 + day.month * 100 + day.day

    def stamp(self, day: int, second: int) -> str:
        """Naive UTC ``YYYY-MM-DD HH:MM:SS.000000`` of local ``day`` at ``second`` past local midnight."""
        total = day * 86400 + second - TZ_OFFSET
        utc_day, sec = divmod(total, 86400)
        return self.dates[utc_day + 1] + self.tods[sec]

    def local_date(self, day: int) -> str:
        return self.dates[day + 1]


def period_keys(dkey: int) -> dict[str, int]:
    year, month = dkey // 10000, dkey // 100 % 100
    return {"d": dkey, "m": year * 100 + month, "q": year * 10 + (month - 1) // 3 + 1, "y": year, "a": 0}


# -- the organization -------------------------------------------------------------------------------

def plan_units(total: int, rng: random.Random) -> list[dict]:
    """Units (dicts with id, parent, kind, name, place) in id order: root, townships, general branch, branches, groups."""
    townships = max(2, total // 100)
    mobile = max(2, total * 3 // 100)
    villages = max(townships, (total - 2 - townships - mobile) * 32 // 100)
    groups = max(0, total - 2 - townships - mobile - villages)
    units: list[dict] = []

    def add(parent, kind, name, province=HOME_PROVINCE, city=HOME_CITY, is_mobile=False):
        unit = dict(id=len(units) + 1, parent=parent, kind=kind, name=name, province=province, city=city,
                    is_mobile=is_mobile)
        unit["path"] = f"{units[parent - 1]['path'] if parent else '/'}{unit['id']}/"
        unit["depth"] = units[parent - 1]["depth"] + 1 if parent else 0
        units.append(unit)
        return unit

    used = set()

    def place():
        while True:
            name = "".join(rng.choice(PLACES) for _ in range(2))
            if name not in used:
                used.add(name)
                return name

    root = add(None, "committee", "青山市委")
    town_units = [add(root["id"], "committee", f"{place()}镇党委") for _ in range(townships)]
    general = add(root["id"], "general_branch", "青山市流动党员党总支", province=None, city=None)
    for index in range(mobile):
        province, city = DESTINATIONS[index % len(DESTINATIONS)]
        add(general["id"], "branch", f"青山市驻{city[:-1]}流动党员第{index // len(DESTINATIONS) + 1}党支部",
            province=province, city=city, is_mobile=True)
    village_units = [add(town_units[i % townships]["id"], "branch", f"{place()}村党支部") for i in range(villages)]
    for index in range(groups):
        village = village_units[index % villages]
        add(village["id"], "group", f"{village['name'][:-3]}第{index // villages + 1}党小组")
    return units


def insert_units(loader: Loader, units: list[dict], now: str) -> None:
    loader.insert("org_unit", ("id", "name", "kind", "parent_id", "path", "depth", "province", "city",
                               "is_mobile_branch", "closed_at", "created_at"),
                  [(u["id"], u["name"], u["kind"], u["parent"], u["path"], u["depth"], u["province"], u["city"],
                    u["is_mobile"], None, now) for u in units])


# -- main ---------------------------------------------------------------------------------------------

def make_app(instance: Path, url: str | None):
    instance.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{instance / 'portal.sqlite3'}"
    (instance / "config.toml").write_text(
        f'DATABASE_URL = "{url}"\nSECRET_KEY = "bench-secret-not-for-production-use-at-all"\n', encoding="utf-8")
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    from portal import create_app

    return create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}), url


def reset_database(app, url: str, instance: Path) -> None:
    from sqlalchemy import text

    from portal.extensions import db

    if url.startswith("sqlite"):
        db.engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            path = Path(url.split("///", 1)[1] + suffix)
            if path.exists():
                path.unlink()
    else:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    index = instance / "search-index"
    if index.exists():
        for item in index.iterdir():
            item.unlink()


def create_schema(app) -> list[str]:
    """Run the migrations, then create tables of plugins that have none yet; returns those table names."""
    from sqlalchemy import inspect

    from portal import migrate
    from portal.extensions import db

    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    migrate.upgrade(app)
    existing = set(inspect(db.engine).get_table_names())
    missing = [t.name for t in db.metadata.sorted_tables if t.name not in existing]
    db.metadata.create_all(db.engine, tables=[db.metadata.tables[name] for name in missing])
    return missing


def columns_of(table: str) -> set[str]:
    from portal.extensions import db

    return {c.name for c in db.metadata.tables[table].columns} if table in db.metadata.tables else set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", required=True, type=Path, help="instance folder (created; holds config and index)")
    parser.add_argument("--url", help="database URL (default: SQLite file in the instance folder)")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--activities", type=int, default=10_000_000)
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--lessons", type=int, default=10_000)
    parser.add_argument("--care", type=int, default=5_000)
    parser.add_argument("--password", default="bench-2026")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk", type=int, default=2_000, help="members generated per batch")
    parser.add_argument("--no-search", action="store_true", help="skip building the search index")
    parser.add_argument("--no-branch-life", action="store_true",
                        help="skip meetings, dues, reports, development and review (bench/branch_life.py)")
    args = parser.parse_args(argv)
    generate(args)
    return 0


def generate(args) -> dict:
    t0 = time.perf_counter()
    app, url = make_app(args.instance.resolve(), args.url)
    from portal.extensions import db

    report: dict[str, float] = {}
    with app.app_context():
        reset_database(app, url, args.instance)
        started = time.perf_counter()
        late_tables = create_schema(app)
        report["schema (migrations)"] = time.perf_counter() - started
        if late_tables:
            print(f"note: created from models (no migration yet): {', '.join(late_tables)}")
        rules = points_rules(db)
        from portal.accounts.services import hash_password

        password_hash = hash_password(args.password)
        dialect = db.engine.dialect.name
        db.session.remove()
        loader = Loader(db.engine)
        rng = random.Random(args.seed)
        today = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=TZ_OFFSET)
        clock = Clock(today.date())
        now = clock.stamp(DAYS - 1, min(today.hour * 3600 + today.minute * 60, 86399))
        bool_ = (lambda v: int(v)) if dialect == "sqlite" else (lambda v: v)
        big = ["account", "member", "activity", "points_entry", "points_total", "points_unit_total",
               "points_rule_counter", "courses_lesson_progress", "courses_enrollment", "quizzes_daily"]
        big = [t for t in big if t in db.metadata.tables]
        with loader.bulk_mode(big):
            units = plan_units(args.units, rng)
            insert_units(loader, units, now)
            courses = build_courses(loader, rng, args.courses, args.lessons, now, bool_)
            people = build_members(loader, rng, units, args.members, password_hash, now, bool_)
            loader.commit()
            build_activity(loader, rng, clock, people, courses, rules, args.activities, args.chunk, bool_)
        build_care(loader, rng, clock, people, units, args.care, bool_)
        if not args.no_branch_life:
            life_tables = [t for t in BIG_TABLES if t in db.metadata.tables]
            with loader.bulk_mode(life_tables):
                report.update(build_branch_life(loader, rng, clock, people, units, bool_))
        fix_sequences(loader, ["org_unit", "account", "member", "role_assignment", "activity", "points_entry",
                               "courses_course", "courses_lesson", "courses_lesson_progress", "courses_enrollment",
                               "quizzes_daily", "care_request", "care_event", *BIG_TABLES])
        loader.close()
        if dialect == "postgresql":
            started = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
            report["ANALYZE"] = time.perf_counter() - started
        if not args.no_search and "courses_lesson" in db.metadata.tables:
            started = time.perf_counter()
            from portal.search.service import reindex

            try:
                count = reindex()
                report[f"search index ({count} documents)"] = time.perf_counter() - started
            except Exception as error:  # the data stands without it: say so and how to build it later
                print(f"search index not built ({error!r}): run `PORTAL_INSTANCE_PATH={args.instance} "
                      "portal search reindex`")
    print(f"\nGenerated on {dialect} in {time.perf_counter() - t0:.0f} s ({url.split('@')[-1]})")
    for table, seconds in sorted(loader.timings.items(), key=lambda kv: -kv[1]):
        rows = loader.counts.get(table)
        rate = f"{rows / seconds:>10,.0f} rows/s" if rows and seconds else ""
        print(f"  {table:<36} {rows or '':>12,} rows {seconds:8.1f} s {rate}" if rows else
              f"  {table:<36} {'':>17} {seconds:8.1f} s")
    for label, seconds in report.items():
        print(f"  {label:<36} {'':>17} {seconds:8.1f} s")
    print(f"  {'(generating rows in Python)':<36} {'':>17} {GEN_TIME[0]:8.1f} s")
    return {"timings": dict(loader.timings), "counts": dict(loader.counts), **report}


GEN_TIME = [0.0]


def points_rules(db) -> dict[str, tuple[int, int, dict]]:
    """``{verb: (rule id, version id, values)}`` of the default rules (created like the plugin creates them)."""
    if "points_rule" not in db.metadata.tables:
        return {}
    from portal_points.models import PointsRule
    from portal_points.services import ensure_default_rules
    from sqlalchemy import select

    ensure_default_rules()
    db.session.commit()
    rules = {}
    for rule in db.session.scalars(select(PointsRule).where(PointsRule.campaign_id.is_(None))):
        version = rule.current
        if version is not None and version.enabled:
            rules[rule.verb] = (rule.id, version.id, {"points": version.points, "daily_cap": version.daily_cap})
    return rules


def build_courses(loader: Loader, rng: random.Random, count: int, lessons: int, now: str, bool_) -> list[tuple]:
    """Courses and lessons; returns ``[(course id, [lesson ids])]``."""
    if not columns_of("courses_course") or count <= 0:
        return []
    # Course sizes vary (a short policy brief to a long training class) but stay within what a course is:
    # between a fifth and two and a half times the mean (10 … 125 lessons at the default scale).
    mean = max(1, lessons // count)
    low, high = max(1, mean // 5), max(1, mean * 5 // 2)
    per = [min(high, max(low, round(rng.lognormvariate(0, 0.5) * mean))) for _ in range(count)]
    while sum(per) != lessons:  # adjust to the exact total, one lesson at a time, within the bounds
        index = rng.randrange(count)
        if sum(per) < lessons and per[index] < high:
            per[index] += 1
        elif sum(per) > lessons and per[index] > low:
            per[index] -= 1
    course_rows, lesson_rows, result, lesson_id = [], [], [], 0
    for cid in range(1, count + 1):
        topic = rng.sample(PHRASES, 3)
        title = f"{topic[0]}与{topic[1]}（第{cid}讲）"
        course_rows.append((cid, f"bench-course-{cid:04d}", json.dumps({"zh_CN": title, "en": f"Course {cid}"}),
                            json.dumps({"zh_CN": sentence(rng, 3)}), rng.choice(CATEGORIES),
                            json.dumps({"zh_CN": topic}), per[cid - 1] * 8, 5, bool_(cid % 5 == 0), "all_lessons",
                            cid, "web", bool_(True), now, now))
        ids = []
        for position in range(per[cid - 1]):
            lesson_id += 1
            ids.append(lesson_id)
            body = "\n\n".join(f"## {rng.choice(PHRASES)}\n\n{sentence(rng, rng.randint(6, 14))}" for _ in range(3))
            lesson_rows.append((lesson_id, cid, f"lesson-{position + 1:03d}", position + 1,
                                json.dumps({"zh_CN": f"{rng.choice(PHRASES)}：{rng.choice(PHRASES)}",
                                            "en": f"Lesson {lesson_id}"}, ensure_ascii=False),
                                json.dumps({"zh_CN": body}, ensure_ascii=False), None, now, now))
        result.append((cid, ids))
    loader.insert("courses_course", ("id", "slug", "titles", "summaries", "category", "tags", "estimated_minutes",
                                     "points_hint", "grants_certificate", "completion_rule", "position", "source",
                                     "published", "created_at", "updated_at"), course_rows)
    loader.insert("courses_lesson", ("id", "course_id", "slug", "position", "titles", "bodies", "min_seconds",
                                     "created_at", "updated_at"), lesson_rows)
    return result


def sentence(rng: random.Random, parts: int) -> str:
    return "。".join(f"{rng.choice(PHRASES)}{rng.choice(CONNECTORS)}{rng.choice(PHRASES)}" for _ in range(parts)) + "。"


class People:
    """What later steps need to know about the members (parallel lists indexed by member id - 1)."""

    def __init__(self) -> None:
        self.home: list[int] = []
        self.host: list[int | None] = []
        self.account: list[int] = []
        self.stage: list[str] = []
        self.away: list[bool] = []
        #: branch id → its secretary's member id (each branch's first member; the demo home branch: member 3)
        self.secretaries: dict[int, int] = {}
        self.demo: dict[str, int] = {}


def build_members(loader: Loader, rng: random.Random, units: list[dict], count: int, password_hash: str,
                  now: str, bool_) -> People:
    villages = [u for u in units if u["kind"] == "branch" and not u["is_mobile"]]
    mobile = [u for u in units if u["is_mobile"]]
    groups_of: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        if unit["kind"] == "group":
            groups_of[unit["parent"]].append(unit["id"])
    weights = [rng.lognormvariate(0, 0.6) for _ in villages]
    home_branch, host_branch = villages[0], mobile[0]  # the demo accounts' branches (the first village is large)
    weights[0] = max(weights) * 1.5
    people = People()
    accounts, members, roles = [], [], []
    secretaries: dict[int, int] = {}
    year = int(now[:4])
    for mid in range(1, count + 1):
        if mid <= 3:
            village = home_branch
        else:
            village = rng.choices(villages, weights)[0]
        groups = groups_of.get(village["id"])
        home = rng.choice(groups) if groups and rng.random() < 0.7 and mid > 3 else village["id"]
        away = mid == 1 or (mid > 3 and rng.random() < 1 / 3)
        host = host_branch if mid == 1 else (rng.choice(mobile) if away else None)
        username = {1: "member1", 2: "member2", 3: "home-secretary"}.get(mid, f"m{mid}")
        age = rng.choices([rng.randint(20, 34), rng.randint(35, 44), rng.randint(45, 54), rng.randint(55, 75)],
                          [45, 25, 18, 12])[0]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        occupation, industry = rng.choice(OCCUPATIONS)
        phone = f"13{mid:09d}"
        accounts.append((mid, username, phone, name, password_hash, None, bool_(True), bool_(False), 0, None, 1,
                         now, None))
        members.append((mid, mid, name, rng.choice(("male", "male", "female")),
                        f"{year - age}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", "汉族",
                        rng.choices(*EDUCATION)[0], phone, f"3624{rng.randint(10**13, 10**14 - 1)}",
                        rng.choices(*STAGES)[0], f"{year - rng.randint(0, max(1, age - 19))}-{rng.randint(1, 12):02d}-01",
                        occupation, industry, rng.choice(EMPLOYERS) if away else None,
                        host["province"] if host else HOME_PROVINCE, host["city"] if host else HOME_CITY,
                        home, host["id"] if host else None, None, bool_(away), bool_(rng.random() < 0.01), None,
                        bool_(rng.random() < 0.03), None, now, now))
        people.home.append(home)
        people.host.append(host["id"] if host else None)
        people.account.append(mid)
        people.stage.append(members[-1][9])
        people.away.append(away)
        if village["id"] not in secretaries:
            secretaries[village["id"]] = mid
    # Staff accounts: admin and organizer (no member), host-secretary (a member hosted … no: a member of the host branch)
    next_account = count + 1
    for username, display in (("admin", "管理员"), ("organizer", "市委组织部")):
        accounts.append((next_account, username, None, display, password_hash, None, bool_(True), bool_(False), 0,
                         None, 1, now, None))
        roles.append((len(roles) + 1, next_account, username, 1, now))
        people.demo[username] = next_account
        next_account += 1
    accounts.append((next_account, "host-secretary", None, "驻深圳支部书记", password_hash, None, bool_(True),
                     bool_(False), 0, None, 1, now, None))
    roles.append((len(roles) + 1, next_account, "secretary", host_branch["id"], now))
    people.demo["host-secretary"] = next_account
    secretaries[home_branch["id"]] = 3
    for unit_id, mid in secretaries.items():
        roles.append((len(roles) + 1, mid, "secretary", unit_id, now))
    loader.insert("account", ("id", "username", "phone", "display_name", "password_hash", "locale", "is_active_account",
                              "must_change_password", "failed_logins", "locked_until", "session_version", "created_at",
                              "last_login_at"), accounts)
    loader.insert("member", ("id", "account_id", "name", "gender", "birth_date", "ethnicity", "education", "phone",
                             "id_number", "stage", "joined_on", "occupation", "industry", "employer", "current_province",
                             "current_city", "home_unit_id", "host_unit_id", "contact_member_id", "is_away",
                             "lost_contact", "notes", "hide_from_public_boards", "last_active_at", "created_at",
                             "updated_at"), members)
    loader.insert("role_assignment", ("id", "account_id", "role", "unit_id", "created_at"), roles)
    people.demo.update({"member1": 1, "member2": 2, "home-secretary": 3, "home_unit": home_branch["id"],
                        "host_unit": host_branch["id"]})
    people.secretaries = dict(secretaries)
    return people


def build_activity(loader: Loader, rng: random.Random, clock: Clock, people: People, courses: list[tuple],
                   rules: dict, total: int, chunk: int, bool_) -> None:
    """Activities with the rows the courses, quizzes and points plugins write for them, member chunk by chunk."""
    count = len(people.home)
    weights = [rng.lognormvariate(0, 0.9) for _ in range(count)]
    scale = total / sum(weights)
    budget = [max(1, round(w * scale)) for w in weights]
    budget[0] = budget[1] = max(budget[0], 400)  # the demo members are active
    have_courses = bool(courses) and bool(columns_of("courses_lesson_progress"))
    have_quiz = bool(columns_of("quizzes_daily"))
    have_points = bool(rules)
    activity_id = entry_id = 0
    unit_totals: dict[tuple, int] = defaultdict(int)
    a_cols = ("id", "idempotency_key", "actor_id", "verb", "object_type", "object_id", "home_unit_id", "host_unit_id",
              "created_at", "extras")
    e_cols = ("id", "member_id", "points", "kind", "category", "rule_id", "rule_version_id", "activity_id", "verb",
              "object_type", "object_id", "campaign_id", "unit_id", "reverses_id", "reason", "created_by_account_id",
              "occurred_at", "day_key", "created_at")
    categories = {"member.daily_login": "login", "lesson.completed": "study", "course.completed": "study",
                  "daily_quiz.completed": "quiz"}
    member_last_active = []
    progress_id = enrollment_id = daily_id = 0
    for lo in range(0, count, chunk):
        g0 = time.perf_counter()
        acts, entries, totals, counters, progress, enrollments, dailies = [], [], [], [], [], [], []
        for index in range(lo, min(count, lo + chunk)):
            mid = index + 1
            home, host = people.home[index], people.host[index]
            n = budget[index]
            days = sorted(rng.sample(range(DAYS), min(DAYS - 5, max(1, round(n * 0.45)))))
            events: list[tuple] = []  # (day, second, verb, object_type, object_id, extras, points)
            quiz_days = [d for d in days if rng.random() < 0.55]
            remaining = n - len(days) - len(quiz_days)
            for d in days:
                events.append((d, rng.randint(6 * 3600, 8 * 3600), "member.daily_login", "day",
                               clock.local_date(d), "{}", 1))
            for d in quiz_days:
                correct = rng.choices((0, 1, 2, 3, 4, 5), (2, 4, 8, 20, 30, 36))[0]
                events.append((d, 22 * 3600 + rng.randint(0, 3000), "daily_quiz.completed", "daily_quiz",
                               clock.local_date(d),
                               json.dumps({"score": correct, "max_score": 5, "correct": correct}), min(correct, 5)))
            if have_courses and remaining > 0:
                wanted = max(0, round(remaining * 0.7))
                picked = rng.sample(courses, min(len(courses), 1 + wanted // 30))
                lesson_days = list(days)
                day_use: dict[int, int] = defaultdict(int)
                cursor = 0
                for cid, lesson_ids in picked:
                    done = lesson_ids[:max(1, min(len(lesson_ids), wanted))]
                    if not done:
                        continue
                    wanted -= len(done)
                    first = last = None
                    for lid in done:
                        d = lesson_days[min(len(lesson_days) - 1, cursor)]
                        day_use[d] += 1
                        if day_use[d] >= 6:
                            cursor += 1
                        second = 19 * 3600 + day_use[d] * 600 + rng.randint(0, 300)
                        events.append((d, second, "lesson.completed", "lesson", str(lid), json.dumps({"course": cid}), 1))
                        progress_id += 1
                        stamp = clock.stamp(d, second)
                        progress.append((progress_id, mid, lid, clock.stamp(d, second - 300), stamp, stamp))
                        first = first or clock.stamp(d, second - 300)
                        last = (lid, stamp, d, second)
                    complete = len(done) == len(lesson_ids)
                    if complete:
                        events.append((last[2], last[3] + 5, "course.completed", "course", str(cid), "{}", 5))
                    enrollment_id += 1
                    enrollments.append((enrollment_id, mid, cid, first, last[0], None, last[1] if complete else None))
                    remaining -= len(done) + complete
                    if wanted <= 0:
                        break
            other = ["quiz.attempted", "lesson.commented", "contact.logged"] if host is None else \
                ["quiz.attempted", "lesson.commented", "contact.logged", "mobility.checked_in"]
            for k in range(max(0, remaining)):
                d = rng.choice(days)
                verb = rng.choice(other)
                events.append((d, rng.randint(8 * 3600, 20 * 3600), verb, verb.split(".")[0], f"{mid}-{k}", "{}", 0))
            events.sort(key=lambda e: (e[0], e[1]))
            mtotals: dict[tuple, int] = defaultdict(int)
            rule_use: dict[int, list] = {}
            for d, second, verb, otype, oid, extras, points in events:
                activity_id += 1
                stamp = clock.stamp(d, second)
                # the keys record_activity (and the core's daily login) would have used
                key = f"{verb}:{mid}:{oid}" if verb == "member.daily_login" else f"{verb}:{mid}:{otype}:{oid}"
                acts.append((activity_id, key, mid, verb, otype, oid, home, host, stamp, extras))
                if have_quiz and verb == "daily_quiz.completed":
                    daily_id += 1
                    correct = json.loads(extras)["correct"]
                    dailies.append((daily_id, mid, clock.local_date(d), "[]", "{}", "[]", float(correct), 5.0, correct,
                                    stamp))
                rule = rules.get(verb) if have_points else None
                if rule is None or points <= 0:
                    continue
                entry_id += 1
                dkey = clock.day_keys[d]
                entries.append((entry_id, mid, points, "rule", categories.get(verb, "other"), rule[0], rule[1],
                                activity_id, verb, otype, oid, None, home, None, "", None, stamp, dkey, stamp))
                for code, key in period_keys(dkey).items():
                    mtotals[(code, key)] += points
                    unit_totals[(home, code, key)] += points
                use = rule_use.setdefault(rule[0], [0, stamp])
                use[0] += 1
                use[1] = stamp
            for (code, key), points in mtotals.items():
                totals.append((mid, code, key, home, points))
            for rule_id, (awards, last) in rule_use.items():
                counters.append((mid, rule_id, awards, last))
            member_last_active.append((events[-1][0], events[-1][1]) if events else None)
        GEN_TIME[0] += time.perf_counter() - g0
        loader.insert("activity", a_cols, acts)
        loader.insert("points_entry", e_cols, entries)
        loader.insert("points_total", ("member_id", "period", "period_key", "unit_id", "points"), totals)
        loader.insert("points_rule_counter", ("member_id", "rule_id", "awards", "last_awarded_at"), counters)
        loader.insert("courses_lesson_progress", ("id", "member_id", "lesson_id", "started_at", "last_opened_at",
                                                  "completed_at"), progress)
        loader.insert("courses_enrollment", ("id", "member_id", "course_id", "started_at", "last_lesson_id",
                                             "quiz_passed_at", "completed_at"), enrollments)
        loader.insert("quizzes_daily", ("id", "member_id", "day", "question_ids", "answers", "results", "score",
                                        "max_score", "correct", "submitted_at"), dailies)
        loader.commit()
        done = min(count, lo + chunk)
        print(f"\r  members {done:,}/{count:,}  activities {activity_id:,}  entries {entry_id:,}", end="", flush=True)
    print()
    if have_points:
        loader.insert("points_unit_total", ("unit_id", "period", "period_key", "points"),
                      [(u, code, key, p) for (u, code, key), p in unit_totals.items()])
    # Members' last activity (one UPDATE per member would be slow: a temporary table and one UPDATE … FROM).
    started = time.perf_counter()
    rows = [(clock.stamp(*last), index + 1) for index, last in enumerate(member_last_active) if last]
    loader.execute("CREATE TEMPORARY TABLE bench_last (id INTEGER PRIMARY KEY, at VARCHAR(40))")
    loader.insert("bench_last", ("at", "id"), rows)
    if loader.dialect == "sqlite":
        loader.execute("UPDATE member SET last_active_at = (SELECT at FROM bench_last WHERE bench_last.id = member.id)")
    else:
        loader.execute("UPDATE member SET last_active_at = bench_last.at::timestamp FROM bench_last "
                       "WHERE bench_last.id = member.id")
    loader.execute("DROP TABLE bench_last")
    loader.timings["member (last_active_at)"] += time.perf_counter() - started


def build_care(loader: Loader, rng: random.Random, clock: Clock, people: People, units: list[dict], count: int,
               bool_) -> None:
    if not columns_of("care_request") or count <= 0:
        return
    statuses = (["new", "accepted", "in_progress", "waiting_for_member", "resolved", "closed", "rejected"],
                [8, 6, 8, 3, 25, 45, 5])
    requests, events = [], []
    total_members = len(people.home)
    demo_home = people.demo["home_unit"]
    home_members = [i + 1 for i, h in enumerate(people.home) if h == demo_home][:200] or [1]
    for rid in range(1, count + 1):
        mid = rng.choice(home_members) if rid % 50 == 0 or rid <= 30 else rng.randint(1, total_members)
        home, host = people.home[mid - 1], people.host[mid - 1]
        category = rng.choice(list(CARE))
        where = "host" if host and rng.random() < 0.5 else "hometown"
        consent = where == "host" and rng.random() < 0.8
        unit, routed = (host, "host") if where == "host" and consent else (home, "home" if where == "hometown" else "no_consent")
        status = "new" if rid <= 30 else rng.choices(*statuses)[0]
        day = DAYS - 1 - min(DAYS - 1, int(rng.expovariate(1 / 120))) if rid > 30 else DAYS - 1 - rid % 10
        second = rng.randint(8 * 3600, 20 * 3600)
        created = clock.stamp(day, second)
        resolved = clock.stamp(min(DAYS - 1, day + rng.randint(1, 20)), second) if status in ("resolved", "closed") else None
        requests.append((rid, mid, people.account[mid - 1], category, CARE[category], sentence(rng, 3), "normal", where,
                         "phone", None, bool_(consent), unit, routed, status, None, None, None, None, None, None, None,
                         created, resolved or created, None if status == "new" else created, resolved,
                         resolved if status == "closed" else None,
                         clock.stamp(min(DAYS - 1, day + 2), second), clock.stamp(min(DAYS - 1, day + 14), second),
                         None, None, None, 0))
        events.append((rid, rid, people.account[mid - 1], "status", bool_(False), "", None, "new", created))
    loader.insert("care_request", (
        "id", "member_id", "filed_by_account_id", "category", "title", "description", "urgency", "where",
        "contact_pref", "contact_detail", "consent_host", "unit_id", "routed_by", "status", "handler_account_id",
        "reject_reason", "resolution_summary", "support_kind", "support_amount", "rating", "rating_comment",
        "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at", "respond_due_at", "resolve_due_at",
        "escalated_unit_id", "response_escalated_at", "resolution_escalated_at", "reopen_count"), requests)
    loader.insert("care_event", ("id", "request_id", "account_id", "kind", "internal", "body", "from_status",
                                 "to_status", "created_at"), events)
    loader.commit()


def fix_sequences(loader: Loader, tables: list[str]) -> None:
    """PostgreSQL: move each id sequence past the ids written explicitly."""
    if loader.dialect != "postgresql":
        return
    for table in tables:
        if not columns_of(table):
            continue
        loader.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table}\"), false)")
    loader.commit()


if __name__ == "__main__":
    sys.exit(main())
