"""gunicorn settings for lean workers: ``gunicorn -c portal/gunicorn_conf.py -w 2 -b 127.0.0.1:8000 "portal:create_app()"``.

* ``preload_app``: the app (every plugin, its templates' loaders, the translations) is
  built once in the master and the workers are forked from it, so the code and data
  they have in common sit in pages they share (PSS and USS drop; RSS, which counts
  shared pages, does not).
* ``gc.freeze()`` before forking: the collector would otherwise write to every old
  object's header during a worker's first full collection and so copy nearly every
  shared page (copy-on-write) into each worker; collection stays off in the master
  while it loads, as Python's documentation advises, and is on again in workers.
* The database connections the master opened while loading are dropped before the
  fork and, in each worker, the inherited pool forgotten without closing what the
  master owns (a socket or SQLite handle must never be shared between processes).
* jieba's compact dictionary (portal/search/dictionary.py) is built once here rather
  than by two workers racing on their first search; workers map the same file.
* What every worker loads on its first requests — Babel's locale data, every
  domain's catalog, jieba's HMM tables, whoosh's search modules — is loaded here,
  so it stays in shared pages (USS −6 MiB per worker; RSS unchanged, it counts them).
* A worker whose resident memory passed ``PORTAL_WORKER_MAX_RSS_MIB`` (default 150)
  after a request is replaced once that response is sent: a PDF (fpdf2, fontTools,
  the parsed CJK font) or a spreadsheet leaves ~70 MiB behind that later pages never
  use; the replacement is a fresh fork of the preloaded master (milliseconds).
* SIGHUP (sent by the portal itself when plugin wheels were installed or removed,
  portal/plugins/installer.py) rebuilds the app in the master before the new
  workers are forked — gunicorn alone would fork them from the app it preloaded at
  start, without the new plugins. Modules unpacked in ``<instance>/plugins`` are
  imported afresh; an upgrade of the portal or of a pip-installed plugin needs a
  restart (or gunicorn's USR2 binary upgrade), as with any preloaded gunicorn app.
* ``max_requests`` with jitter: a worker is replaced after ~10 000 requests, so what
  a long-lived process slowly accumulates (fragmentation, caches) is given back,
  and the workers do not all restart at the same moment.

Any setting may still be given on the command line (it wins over this file).
"""
from __future__ import annotations

import ctypes
import gc
import os
import re
import sys

preload_app = True
max_requests = 10_000
max_requests_jitter = 1_000
worker_class = "sync"
max_worker_rss_mib = float(os.environ.get("PORTAL_WORKER_MAX_RSS_MIB", "150"))

# Off while the master imports and builds the app: collections would only move objects
# between generations before the freeze below. Re-enabled in every worker (post_fork).
gc.disable()


def _app(server):
    """The Flask app the master loaded (``preload_app``)."""
    return server.app.wsgi()


def when_ready(server) -> None:
    """In the master, before the first fork: warm what workers share, drop connections, freeze the heap."""
    _prepare_for_fork(_app(server))


def on_reload(server) -> None:
    """SIGHUP: build the app again in the master (new plugin wheels), then prepare it for forking."""
    from portal.plugins.installer import plugins_folder

    gc.unfreeze()  # the old app may be collected now
    folder = str(plugins_folder(_app(server)).resolve())
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(folder):
            del sys.modules[name]
    old, server.app.callable = server.app.callable, None
    try:
        app = _app(server)
    except Exception:  # a broken plugin must not take the master down: keep serving the app it had
        server.log.exception("rebuilding the app on SIGHUP failed; the workers keep the previous one")
        server.app.callable = app = old
    _prepare_for_fork(app)


def _prepare_for_fork(app) -> None:
    from portal.extensions import db
    from portal.search.service import init_jieba

    with app.app_context():
        init_jieba(app.instance_path)
        _load_what_workers_share(app)
        for engine in db.engines.values():
            engine.dispose()
    gc.collect()
    _give_back_free_heap()
    gc.freeze()


def _load_what_workers_share(app) -> None:
    """Load in the master what every worker would otherwise load for itself on its first requests.

    Loaded here, it sits in pages the workers share (their PSS and USS drop by as
    much; RSS, which counts shared pages, does not): each locale's Babel data and
    every domain's catalog (~4.5 MiB per worker), jieba's HMM tables and — where
    search runs on the embedded whoosh index — whoosh's query and reading modules
    (~5 MiB). Only modules and read-only data: no file or connection is
    opened here that a worker would inherit (a whoosh searcher's file handle
    shared by two processes would mix their reads).
    """
    from flask_babel import force_locale, format_date

    from portal.extensions import db
    from portal.i18n import CATALOG_NAMES, EXTENSION
    from portal.search.service import backend_name

    with app.test_request_context():
        for locale in app.config["LOCALES"]:
            with force_locale(CATALOG_NAMES.get(locale, locale)):
                format_date(None)  # Babel's data of the locale (dates, numbers, names)
                for domain in [app.extensions["babel"].instance.domain_instance,
                               *app.extensions.get(EXTENSION, {}).values()]:
                    domain.get_translations()
    import jieba

    jieba.lcut("流动党员")  # jieba's HMM tables (jieba.finalseg, ~1.5 MiB): both backends segment with jieba
    if backend_name(app.config, db.engine.dialect.name) == "whoosh":
        import whoosh.highlight  # noqa: F401 - the modules a first search imports
        import whoosh.qparser  # noqa: F401
        import whoosh.searching  # noqa: F401


def _give_back_free_heap() -> None:
    """Return the heap glibc keeps after loading (garbage of migrations, catalogs…) to the system.

    Every worker starts with the master's resident pages: what the master has
    freed but still holds would otherwise count in each worker's RSS.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: nothing to trim
        pass


def post_fork(server, worker) -> None:
    """In each worker: forget the master's pooled connections (without closing them), collect again."""
    from portal.extensions import db

    app = _app(server)
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    gc.enable()


def _rss_mib() -> float:
    """This process's resident set size in MiB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read())
    except OSError:
        return 0.0
    return int(match.group(1)) / 1024 if match else 0.0


def post_request(worker, req, environ, resp) -> None:
    """Retire a worker that grew past ``max_worker_rss_mib`` (the sync worker exits after this response)."""
    if max_worker_rss_mib and _rss_mib() > max_worker_rss_mib:
        worker.log.info("worker %s: %.0f MiB resident after %s, replacing it", worker.pid, _rss_mib(), req.path)
        worker.alive = False
