"""Lean workers (issue 20): heavy libraries load where they are used, jieba's dictionary is compact and mapped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.search import dictionary

HEAVY = ("openpyxl", "fpdf", "fontTools", "PIL", "segno", "qrcode", "icalendar", "boto3", "botocore", "alembic", "jieba",
         "jieba.analyse", "ralph", "requests", "urllib3", "pydantic", "cryptography", "openbadges_bakery", "psycopg")

PROBE = """
import json, sys
from portal import create_app
create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sys.argv[1]})
print(json.dumps(sorted(set(sys.argv[2:]) & set(sys.modules))))
"""


def test_the_app_factory_imports_no_heavy_library(tmp_path):
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", PROBE, f"sqlite:///{tmp_path / 'probe.sqlite3'}", *HEAVY],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


WARM = """
import gc, importlib.util, json, sys
from portal import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sys.argv[1]})
spec = importlib.util.spec_from_file_location("gunicorn_conf", sys.argv[2])
conf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conf)
gc.enable()  # the settings file turns collection off for the master's loading
with app.app_context():
    conf._load_what_workers_share(app)
from portal.i18n import EXTENSION
from portal.search import service
print(json.dumps({"catalogs": sorted({len(domain.cache) for domain in app.extensions[EXTENSION].values()}),
                  "modules": sorted(set(sys.argv[3:]) & set(sys.modules)), "indexes": len(service._indexes)}))
"""


def test_the_master_loads_what_every_worker_needs_and_opens_no_index(tmp_path):
    """gunicorn_conf: catalogs of every plugin in every locale and the search modules are loaded before the fork,
    but no whoosh index is opened (its file handle would be shared by the workers)."""
    conf = Path(__file__).resolve().parent.parent / "portal" / "gunicorn_conf.py"
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", WARM, f"sqlite:///{tmp_path / 'warm.sqlite3'}", str(conf),
                             "whoosh.searching", "jieba.finalseg", "fpdf", "openpyxl"],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"catalogs": [2], "modules": ["jieba.finalseg", "whoosh.searching"], "indexes": 0}


def test_the_compact_dictionary_segments_like_jieba(tmp_path):
    import jieba

    from portal.search.service import DOMAIN_WORDS

    words = [(word, 2000) for word in DOMAIN_WORDS]
    path = dictionary.ensure(tmp_path, words)
    assert path.name == dictionary.file_name(words) and dictionary.ensure(tmp_path, words) == path
    compact = jieba.Tokenizer()
    dictionary.install(compact, dictionary.CompactFreq(path))
    full = jieba.Tokenizer()
    full.tmp_dir = str(tmp_path)
    full.initialize()
    for word, freq in words:
        full.add_word(word, freq=freq)
    assert compact.total == full.total
    text = ("流动党员外出务工怎么办理组织关系转接？流动党员活动证丢了，要去流入地党组织报到。"
            "Unpaid wages: 讨薪维权找法律援助，工伤认定和劳动仲裁。三会一课、主题党日和民主评议。")
    assert list(compact.tokenize(text)) == list(full.tokenize(text))
    assert list(compact.cut_for_search(text)) == list(full.cut_for_search(text))
    for word in ("流动党员", "流动", "党", "流动党", "不是一个词语啊", "wages"):
        assert (word in compact.FREQ) == (word in full.FREQ)
        assert compact.FREQ.get(word) == full.FREQ.get(word)
    compact.add_word("新词语测试", freq=5)  # run-time additions land in the overlay
    assert compact.FREQ["新词语测试"] == 5 and "新词语测" in compact.FREQ
    with pytest.raises(KeyError):
        compact.FREQ["不是一个词语啊"]


def test_a_file_that_is_not_a_compact_dictionary_is_refused(tmp_path):
    path = Path(tmp_path / "bogus.bin")
    path.write_bytes(b"\0" * 64)
    with pytest.raises(ValueError):
        dictionary.CompactFreq(path)
