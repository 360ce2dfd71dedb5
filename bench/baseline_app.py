"""The baseline every benchmark is compared with: bare Flask + SQLAlchemy + Jinja.

One indexed SELECT (a member by primary key, on the same database as the
portal) rendered through a small Jinja template, served exactly like the portal
(gunicorn, sync workers, 127.0.0.1). ``bench/run.py`` starts and stops it.

    BENCH_DATABASE_URL=sqlite:////tmp/bench/portal.sqlite3 gunicorn -w 2 -b 127.0.0.1:8001 bench.baseline_app:app
"""
from __future__ import annotations

import os

from flask import Flask, abort, render_template_string
from sqlalchemy import create_engine, text

TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ member.name }}</title></head>
<body>
<main>
  <h1>{{ member.name }}</h1>
  <dl>
    <dt>Stage</dt><dd>{{ member.stage }}</dd>
    <dt>Where</dt><dd>{{ member.current_province or "" }} {{ member.current_city or "" }}</dd>
    <dt>Home unit</dt><dd>{{ member.home_unit_id }}</dd>
  </dl>
  <ul>{% for n in range(10) %}<li>{{ loop.index }} · {{ member.name }}</li>{% endfor %}</ul>
</main>
</body>
</html>"""

app = Flask(__name__)
_url = os.environ.get("BENCH_DATABASE_URL", "sqlite://")
_engine = create_engine(_url, **({"connect_args": {"check_same_thread": False}} if _url.startswith("sqlite") else
                                 {"pool_size": 5}))
_QUERY = text("SELECT id, name, stage, current_province, current_city, home_unit_id FROM member WHERE id = :id")


@app.get("/m/<int:member_id>")
def member(member_id: int):
    with _engine.connect() as conn:
        row = conn.execute(_QUERY, {"id": member_id}).mappings().first()
    if row is None:
        abort(404)
    return render_template_string(TEMPLATE, member=row)
