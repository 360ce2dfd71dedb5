"""The search service: the same analysis and query semantics over one of two backends.

Design (see docs/architecture.md, "Search"):

* **Backends** (``SEARCH_BACKEND``): ``whoosh``, one index in the instance
  folder (the default on SQLite: one machine), or ``postgres``, the
  ``search_document`` table with a ``tsvector`` under a GIN index
  (:mod:`portal.search.postgres`; the default on PostgreSQL, shared by every
  app server). Both index the words of the analyzer below and take their
  query from the same :func:`query_parts`; the queue, snippets, scopes and
  suggestions are the same code. Below, "the index" is whichever is in use.

* **One index**, ``SEARCH_INDEX_DIR`` (default ``<instance>/search-index``),
  named after the schema version so a new schema simply builds a new index.
* **Analysis**: jieba's whoosh ``ChineseAnalyzer`` chain (jieba tokenizer →
  lowercase → jieba's stop words → Porter stemmer). Chinese is cut by jieba in
  its "search" mode (long words plus their dictionary sub-words), English is
  stemmed (``wages`` finds ``wage``). The one change to jieba's tokenizer:
  jieba's own reports *character offsets* as token positions, which makes
  phrase queries impossible; ours numbers words (a word's sub-words share its
  position), so ``"流动党员"`` and ``"work injury"`` work as quoted phrases.
  A few domain words (the branch vocabulary of docs/domain.md) are added to
  jieba's dictionary so they are cut consistently.
* **Questions**: members type questions (``怎么交党费``). The query is cut by
  jieba, question words and particles (``QUESTION_WORDS``) are dropped, each
  remaining word may also match its synonyms (``synonyms.toml``; a long word
  the index lacks: its dictionary sub-words), and documents are ranked by how many of the words they
  match (``OrGroup``, BM25F, titles count double) instead of needing all.
  When nothing matches, :func:`suggest` offers a spelling correction from the
  index's own words ("Did you mean …").
* **jieba** is initialised once per process (lazily, under a lock), with its
  9 MB cache in the instance folder and its logger silenced.
* **Visibility**: every document has a ``scope`` (``public``, ``members``,
  ``unit:<id>``); results are filtered inside whoosh by what the viewer may see
  (unit scopes through the unit's materialized path, so a role over a
  committee sees everything below it with one prefix query).
* **Enabled plugins only**: every document stores its owning ``plugin``
  (from the hook that returned it on reindex, from its URL's blueprint on
  queued updates); documents of disabled plugins are masked at query time, so
  disabling a plugin needs no reindex. Indexes built before the field existed
  get it added in place and fall back to the key prefix (``courses:…`` is
  the ``courses`` plugin's) until the next ``portal search reindex``.
* **Kept between searches** (issue 20): each thread keeps its whoosh
  searcher open until a commit (of any thread or process) writes a new table
  of contents, with the filter sets of the viewers it served; and each process
  keeps the results of recent searches (an LRU, a quarter of
  ``CACHE_MAX_BYTES``) under the normalized query, the viewer's visibility, the
  disabled plugins, the locale, the limit and types, *and the index's version*
  read before searching: whoosh's latest commit, or on PostgreSQL a
  ``cache_stamp`` row every index batch bumps in its own transaction. A
  drained edit is found by the next search on every app server.
* **Updates never run in a request's hot path**: plugins queue changes in the
  ``search_queue`` table inside their own transaction; after the commit a
  per-process background thread drains the queue into the index (cron can run
  ``portal search drain`` too). The drain takes whoosh's write lock *before*
  reading the queue, so two drainers can never apply an older version of a
  document after a newer one; entries are removed only after the index
  commit, so a crash means a harmless re-apply. A full rebuild
  (``portal search reindex``) collects every plugin's ``portal_search_documents``
  and replaces the index's segments in one commit (``mergetype=CLEAR``).
"""
from __future__ import annotations

import copy
import functools
import logging
import os
import re
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

from flask import current_app, has_app_context
from markupsafe import Markup, escape
from whoosh.analysis import Token, Tokenizer
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from portal.plugins.types import SearchDocument

T = TypeVar("T")

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
INDEX_NAME = f"portal_v{SCHEMA_VERSION}"
MAX_QUERY_LENGTH = 200
MAX_BODY_CHARS = 50_000
LOCK_TIMEOUT = 30.0

#: Words jieba's dictionary lacks or cuts inconsistently (the branch vocabulary, see docs/domain.md).
DOMAIN_WORDS = (
    "流动党员", "流出党员", "流入党员", "党组织", "党支部", "党总支", "党小组", "流入地", "流出地",
    "活动证", "流动党员活动证", "外出登记", "流出登记", "流入登记", "变动报告", "返回登记", "年度审核",
    "组织关系", "组织关系转接", "介绍信", "失联", "党费", "欠缴", "补缴", "思想汇报", "民主评议",
    "三会一课", "主题党日", "组织生活", "网上党校", "结业证书", "讨薪", "讨薪维权", "欠薪", "法律援助",
    "劳动合同", "工伤", "工伤认定", "劳动仲裁", "劳动监察", "入党积极分子", "发展对象", "预备党员",
    "正式党员", "转正", "双向考察", "两地公示", "报到",
)

TYPE_LABELS: dict[str, Any] = {}


def _type_labels() -> dict[str, Any]:
    from flask_babel import lazy_gettext as _l

    if not TYPE_LABELS:
        TYPE_LABELS.update({"course": _l("Course"), "lesson": _l("Lesson"), "page": _l("Page")})
    return TYPE_LABELS


# -- analysis -------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_ready = False
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_HAN = re.compile(r"[\u4E00-\u9FFF]")


def init_jieba(tmp_dir: str | None = None) -> None:
    """Give jieba its dictionary once per process: the compact memory-mapped one (portal/search/dictionary.py).

    jieba's own ``dict`` would cost every worker ~60 MiB; the mapped file is shared
    by all processes through the page cache and segments identically. It is built
    (once per dictionary content) in ``tmp_dir`` — the instance folder by default.
    """
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if _jieba_ready:
            return
        import tempfile

        import jieba

        from portal.search import dictionary

        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        if tmp_dir is None and has_app_context():
            tmp_dir = current_app.instance_path
        path = dictionary.ensure(Path(tmp_dir or tempfile.gettempdir()), [(word, 2000) for word in DOMAIN_WORDS])
        dictionary.install(jieba.dt, dictionary.CompactFreq(path))
        _jieba_ready = True


class MixedTokenizer(Tokenizer):
    """jieba's tokenizer with word positions (phrase queries work) instead of character offsets.

    At index time (``mode != "query"``) a long word also yields its
    dictionary sub-words at the same position, like jieba's search mode (which
    only looks at 2- and 3-character sub-words; we take every length, so
    流动党员活动证 also indexes 流动党员).
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        import jieba

        init_jieba()
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for word, start, end in jieba.tokenize(value, mode="default", HMM=True):
            if not _WORDLIKE.search(word) or (len(word) == 1 and not _HAN.match(word) and not word.isdigit()):
                continue
            pieces = [(word, start, end)]
            if mode != "query" and len(word) > 2 and _HAN.match(word):
                freq = jieba.dt.FREQ
                for size in range(2, len(word)):
                    for i in range(len(word) - size + 1):
                        gram = word[i:i + size]
                        if gram != word and freq.get(gram):
                            pieces.append((gram, start + i, start + i + size))
            for text, s, e in pieces:
                token.original = token.text = text
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar, token.endchar = start_char + s, start_char + e
                yield token
            pos += 1


_analyzer = None


def analyzer():
    """jieba's ChineseAnalyzer chain over the positioned tokenizer (built once)."""
    global _analyzer
    if _analyzer is None:
        from portal.search.dictionary import STOP_WORDS
        from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter
        from whoosh.lang.porter import stem

        _analyzer = (MixedTokenizer() | LowercaseFilter()
                     | StopFilter(stoplist=STOP_WORDS, minsize=1, renumber=False)
                     | StemFilter(stemfn=stem, ignore=None, cachesize=50000))
    return _analyzer


def schema():
    from whoosh.fields import ID, STORED, TEXT, Schema

    text = analyzer()
    return Schema(
        key=ID(stored=True, unique=True), type=ID(stored=True), scope=ID(stored=True),
        unit_path=ID(stored=True), locale=ID(stored=True), url=STORED, plugin=ID(stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=2.0, phrase=True),
        body=TEXT(analyzer=text, stored=True, phrase=True),
        tags=TEXT(analyzer=text, stored=True, phrase=True),
    )


# -- the index -------------------------------------------------------------------

_index_lock = threading.Lock()
_indexes: dict[str, Any] = {}


def index_dir() -> str:
    return current_app.config["SEARCH_INDEX_DIR"]


def _storage(directory: str):
    """The index folder, read with plain reads rather than whoosh's default ``mmap``.

    A searcher is kept open (:func:`open_searcher`): mapped, every page of
    the index it ever touched would count in the worker's RSS (the whole
    21 MB segment at 10 000 lessons, per worker); read, the pages stay in the
    operating system's cache, shared by every worker. Costs ~3 ms more per
    search the kept results do not answer.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(directory, supports_mmap=False)


def open_index(directory: str | None = None, *, create: bool = True):
    """The whoosh index in ``directory`` (default: the app's), created when missing."""
    directory = directory or index_dir()
    init_jieba(current_app.instance_path if has_app_context() else None)
    with _index_lock:
        ix = _indexes.get(directory)
        if ix is not None and ix.latest_generation() >= 0:  # a directory listing (exists_in would read the TOC)
            return ix
        Path(directory).mkdir(parents=True, exist_ok=True)
        storage = _storage(directory)
        if storage.index_exists(INDEX_NAME):
            ix = _with_plugin_field(storage.open_index(INDEX_NAME), directory)
        elif create:
            ix = storage.create_index(schema(), indexname=INDEX_NAME)
        else:
            return None
        _indexes[directory] = ix
        return ix


#: Searchers a thread keeps open (one per index folder: one in production, a few when tests run several apps).
MAX_SEARCHERS = 4
#: Filter sets a searcher keeps (one per kind of viewer: scopes, types and disabled plugins).
MAX_FILTER_SETS = 64


class _OpenSearcher:
    """A searcher kept open across searches, with the filter sets computed for its version of the index."""

    def __init__(self, ix: Any, searcher: Any, token: tuple) -> None:
        self.ix = ix
        self.searcher = searcher
        self.token = token
        self.filter_sets: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()


_threads = threading.local()


def toc_token(ix) -> tuple:
    """What identifies the index's latest commit: its generation and the identity of that table of contents.

    Every commit (the drain thread's, ``portal search reindex`` in another
    process) writes a new ``.toc`` file; the inode and modification time also
    tell a deleted and re-created index of the same generation apart.
    """
    from whoosh.index import TOC

    for _attempt in range(5):
        generation = ix.latest_generation()
        try:
            stat = os.stat(os.path.join(ix.storage.folder, TOC._filename(INDEX_NAME, generation)))
        except FileNotFoundError:  # a commit replaced it meanwhile: look again
            continue
        return generation, stat.st_ino, stat.st_mtime_ns
    return generation, 0, 0


def open_searcher(directory: str | None = None) -> _OpenSearcher:
    """This thread's searcher of the index, opened again only when a commit changed the index.

    Opening a searcher reads the table of contents and opens every segment
    (~10 ms at 10 000 lessons): once per commit instead of once per search.
    :func:`toc_token` (a directory listing and a ``stat``) tells whether a
    commit happened. Per thread, because whoosh searchers are not meant to be
    shared by threads (gunicorn's sync workers have one).
    """
    directory = directory or index_dir()
    ix = open_index(directory)
    token = toc_token(ix)  # read before (re)opening: a commit landing after it costs one more refresh, never a stale read
    kept: OrderedDict[str, _OpenSearcher] = _threads.__dict__.setdefault("searchers", OrderedDict())
    held = kept.pop(directory, None)
    if held is not None and held.ix is ix and held.token == token:
        kept[directory] = held
        return held
    if held is not None:
        # Not whoosh's refresh(): its reader keeps the segments a merge or a rebuild (mergetype=CLEAR) removed.
        held.searcher.close()
    kept[directory] = fresh = _OpenSearcher(ix, ix.searcher(), token)
    while len(kept) > MAX_SEARCHERS:
        kept.popitem(last=False)[1].searcher.close()
    return fresh


def _with_plugin_field(ix, directory: str):
    """``ix`` with the ``plugin`` field, added in place to an index built before it existed (no reindex needed)."""
    from whoosh.fields import ID

    if "plugin" in ix.schema:
        return ix
    writer = ix.writer(timeout=LOCK_TIMEOUT)
    writer.add_field("plugin", ID(stored=True))
    writer.commit()
    return _storage(directory).open_index(INDEX_NAME)


def _key_prefix(plugin: str) -> str:
    """The key prefix of ``plugin``'s documents by convention (the ``courses`` plugin's keys start ``courses:``)."""
    return f"{plugin}:"


def document_plugin(doc: SearchDocument) -> str:
    """The plugin owning ``doc``: the blueprint serving its URL, else the plugin named by its key prefix."""
    from urllib.parse import urlsplit

    from portal.plugins.manager import CORE_PLUGIN, get_manager

    manager = get_manager()
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(urlsplit(doc.url).path, method="GET")
    except Exception:  # not one of our URLs (or not a GET route): fall back to the key
        endpoint = ""
    owner = manager.blueprint_owner.get(endpoint.split(".")[0]) if "." in endpoint else None
    if owner:
        return owner
    return next((name for name in manager.plugins if doc.key.startswith(_key_prefix(name))), CORE_PLUGIN)


def _doc_fields(doc: SearchDocument, unit_paths: dict[int, str], plugin: str) -> dict[str, str]:
    unit_path = ""
    if doc.scope.startswith("unit:"):
        try:
            unit_path = unit_paths.get(int(doc.scope[5:]), "")
        except ValueError:
            unit_path = ""
    return {"key": doc.key, "type": doc.type, "scope": doc.scope, "unit_path": unit_path,
            "locale": doc.locale or "", "url": doc.url, "plugin": plugin, "title": doc.title or "",
            "body": (doc.body or "")[:MAX_BODY_CHARS], "tags": doc.tags or ""}


def _unit_paths(docs: Iterable[SearchDocument]) -> dict[int, str]:
    from portal.extensions import db
    from portal.org.models import OrgUnit

    ids = set()
    for doc in docs:
        if doc.scope.startswith("unit:") and doc.scope[5:].isdigit():
            ids.add(int(doc.scope[5:]))
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(ids))).all())


def _coerce(doc: SearchDocument | dict) -> SearchDocument:
    return doc if isinstance(doc, SearchDocument) else SearchDocument(**doc)


# -- backends ----------------------------------------------------------------------

BACKENDS = ("auto", "whoosh", "postgres")
TEXT_FIELDS = ("title", "body", "tags")


@dataclass
class Hit:
    """One matching document as a backend returns it (``body``: at least its first 20 300 characters)."""

    key: str
    type: str
    title: str
    url: str
    locale: str
    body: str
    score: float


class IndexBatch(Protocol):
    """Changes to the index, visible to searches together when the batch ends without an error."""

    def clear(self) -> None:
        """Drop every document indexed before this batch."""

    def upsert(self, fields: dict[str, str]) -> None:
        """Index a document (the fields of :func:`_doc_fields`), replacing the one with its key."""

    def delete(self, key: str) -> None:
        """Remove the document with ``key``, if any."""


class SearchBackend(Protocol):
    """Where documents are indexed and searched: whoosh files or PostgreSQL (``SEARCH_BACKEND``)."""

    name: str

    def batch(self) -> AbstractContextManager[IndexBatch]:
        """A batch excluding every other batch (of any process) from its start to its commit."""

    def version(self) -> Any:
        """What identifies the index's content: it changes with every batch that changed the index."""

    def has_word(self, word: str) -> bool:
        """Whether ``word`` (as typed, not analyzed) is a word of some title, body or tags."""

    def has_terms(self, terms: list[str]) -> bool:
        """Whether every analyzed term is in the index."""

    def hits(self, parts: list[QueryPart], visible: Visibility | None, disabled: list[str], *,
             types: tuple[str, ...], limit: int) -> list[Hit]:
        """Up to ``limit`` documents matching ``parts``, best first, seen by ``visible``, not of ``disabled`` plugins."""

    def correction(self, word: str, maxdist: int) -> str | None:
        """The index's closest term to ``word`` within ``maxdist`` edits, or None."""

    def document_text(self, key: str) -> str:
        """The title and body of the document with ``key`` ("" when gone)."""

    def count(self) -> int:
        """How many documents are indexed."""


def backend_name(config: dict[str, Any], dialect: str) -> str:
    """The backend ``SEARCH_BACKEND`` names for a database of ``dialect`` (``auto``: postgres on PostgreSQL)."""
    choice = config.get("SEARCH_BACKEND") or "auto"
    if choice not in BACKENDS:
        raise ValueError(f"SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {choice!r}")
    if choice == "auto":
        return "postgres" if dialect == "postgresql" else "whoosh"
    if choice == "postgres" and dialect != "postgresql":
        raise ValueError("SEARCH_BACKEND = 'postgres' needs a PostgreSQL database")
    return choice


def backend() -> SearchBackend:
    """The app's search backend."""
    from portal.extensions import db

    if backend_name(current_app.config, db.engine.dialect.name) == "postgres":
        from portal.search.postgres import PostgresBackend

        return PostgresBackend()
    return WhooshBackend()


class _WhooshBatch:
    def __init__(self, writer) -> None:
        self.writer = writer
        self.cleared = self.changed = False

    def clear(self) -> None:
        self.cleared = self.changed = True  # committed with mergetype=CLEAR: the old segments go at once

    def upsert(self, fields: dict[str, str]) -> None:
        self.changed = True
        (self.writer.add_document if self.cleared else self.writer.update_document)(**fields)

    def delete(self, key: str) -> None:
        self.changed = True
        self.writer.delete_by_term("key", key)


class WhooshBackend:
    """The embedded index in ``SEARCH_INDEX_DIR`` (one machine; the default on SQLite)."""

    name = "whoosh"

    @contextmanager
    def batch(self) -> Iterator[_WhooshBatch]:
        """whoosh's write lock for the whole batch; one commit at the end (cancelled when nothing changed)."""
        from whoosh import writing

        writer = open_index().writer(timeout=LOCK_TIMEOUT)
        batch = _WhooshBatch(writer)
        try:
            yield batch
        except BaseException:
            writer.cancel()
            raise
        if not batch.changed:
            writer.cancel()
        elif batch.cleared:
            writer.commit(mergetype=writing.CLEAR)
        else:
            writer.commit()

    def version(self) -> tuple:
        """The index folder and its latest commit (:func:`toc_token`): no database needed on one machine."""
        directory = index_dir()
        return directory, toc_token(open_index(directory))

    def has_word(self, word: str) -> bool:
        reader = open_searcher().searcher.reader()
        return any(reader.doc_frequency(field, word) for field in TEXT_FIELDS)

    def has_terms(self, terms: list[str]) -> bool:
        reader = open_searcher().searcher.reader()
        return all(any(reader.doc_frequency(field, term) for field in TEXT_FIELDS) for term in terms)

    def parse(self, parts: list[QueryPart]):
        """The whoosh query of ``parts`` over title, body and tags.

        Documents matching more parts rank higher (``OrGroup`` with a bonus for
        coverage; on the member questions of tests/test_search_questions.py it
        finds 39 of 39 lessons in the top 3, requiring all words 17).
        """
        from whoosh import qparser

        parser = qparser.MultifieldParser(list(TEXT_FIELDS), schema=open_searcher().searcher.schema,
                                          group=qparser.OrGroup.factory(0.9))
        parser.remove_plugin_class(qparser.WildcardPlugin)
        parser.remove_plugin_class(qparser.FieldsPlugin)
        return parser.parse(_query_string(parts))

    def hits(self, parts: list[QueryPart], visible: Visibility | None, disabled: list[str], *,
             types: tuple[str, ...], limit: int) -> list[Hit]:
        from whoosh import query as Q

        parsed = self.parse(parts)
        if parsed is Q.NullQuery:
            return []
        held = open_searcher()
        allow, hide = self._filter_sets(held, visible, types, disabled)
        if allow is not None and not allow:  # nothing visible (whoosh takes an empty set for "no filter")
            return []
        found = held.searcher.search(parsed, filter=allow, mask=hide, limit=limit)
        return [Hit(key=hit["key"], type=hit["type"], title=hit["title"], url=hit["url"],
                    locale=hit.get("locale", ""), body=hit["body"], score=hit.score) for hit in found]

    @staticmethod
    def _filter_sets(held: _OpenSearcher, visible: Visibility | None, types: tuple[str, ...],
                     disabled: list[str]) -> tuple[Any, Any]:
        """The documents ``visible`` may see (None: all) and those to hide, as sets kept with the searcher.

        Listing the documents of the common scopes (``members``: nearly all of
        them) cost a fifth of a search; viewers alike share the sets until the next commit.
        """
        from whoosh import query as Q
        from whoosh.idsets import BitSet

        key = (visible, types, tuple(disabled))
        found = held.filter_sets.get(key)
        if found is not None:
            held.filter_sets.move_to_end(key)
            return found
        searcher = held.searcher
        filters = []
        if visible is not None:
            filters.append(Q.Or([*(Q.Term("scope", scope) for scope in visible.scopes),
                                 *(Q.Prefix("unit_path", path) for path in visible.unit_paths)]))
        if types:
            filters.append(Q.Or([Q.Term("type", t) for t in types]))
        # documents indexed before the plugin field existed: by their key prefix, until the next reindex
        mask = Q.Or([q for name in disabled for q in (Q.Term("plugin", name), Q.Prefix("key", _key_prefix(name)))]) \
            if disabled else None
        size = searcher.doc_count_all()
        allow = BitSet(searcher.docs_for_query(Q.And(filters)), size=size) if filters else None
        hide = BitSet(searcher.docs_for_query(mask), size=size) if mask is not None else None
        if allow is not None and hide is not None:
            allow, hide = allow - hide, None
        held.filter_sets[key] = found = (allow, hide)
        while len(held.filter_sets) > MAX_FILTER_SETS:
            held.filter_sets.popitem(last=False)
        return found

    def correction(self, word: str, maxdist: int) -> str | None:
        """whoosh's spelling corrector over the bodies' words."""
        found = open_searcher().searcher.corrector("body").suggest(word, limit=1, maxdist=maxdist)
        return found[0] if found else None

    def document_text(self, key: str) -> str:
        shown = open_searcher().searcher.document(key=key) or {}
        return f"{shown.get('title', '')} {shown.get('body', '')}"

    def count(self) -> int:
        return open_searcher().searcher.doc_count()


def reindex() -> int:
    """Rebuild the whole index from every enabled plugin's ``portal_search_documents``.

    Replaces every document in one commit, so searches keep working meanwhile.
    Queue entries older than the rebuild are dropped (the rebuild covers
    them). Returns the number of documents indexed.
    """
    from portal.database import write_intent
    from portal.extensions import db
    from portal.plugins.manager import call_each
    from portal.search.models import SearchQueueEntry

    with backend().batch() as batch:
        with write_intent():
            last_queued = db.session.scalar(select(func.max(SearchQueueEntry.id))) or 0
            owned = [(name, _coerce(doc)) for name, result in call_each("portal_search_documents") for doc in result]
        unit_paths = _unit_paths(doc for _name, doc in owned)
        batch.clear()
        seen = set()
        for name, doc in owned:
            if doc.key in seen:
                continue
            seen.add(doc.key)
            batch.upsert(_doc_fields(doc, unit_paths, name))
    with write_intent():
        db.session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.id <= last_queued))
        db.session.commit()
    return len(seen)


# -- incremental updates (queue) ----------------------------------------------------

def queue_documents(docs: SearchDocument | Iterable[SearchDocument]) -> None:
    """Queue documents for (re)indexing in the caller's transaction (caller commits)."""
    from portal.extensions import db
    from portal.search.models import SearchQueueEntry

    if isinstance(docs, SearchDocument):
        docs = [docs]
    for doc in docs:
        db.session.add(SearchQueueEntry(doc_key=doc.key[:200], action="upsert", document=asdict(doc)))
    _mark_dirty(db.session)


def queue_removals(keys: str | Iterable[str]) -> None:
    """Queue the removal of documents by key in the caller's transaction (caller commits)."""
    from portal.extensions import db
    from portal.search.models import SearchQueueEntry

    if isinstance(keys, str):
        keys = [keys]
    for key in keys:
        db.session.add(SearchQueueEntry(doc_key=key[:200], action="delete", document=None))
    _mark_dirty(db.session)


def _mark_dirty(session) -> None:
    session.info["search_queued"] = True
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _after_rollback(session) -> None:
    session.info.pop("search_queued", None)


def _after_commit(session) -> None:
    if not session.info.pop("search_queued", None) or not has_app_context():
        return
    app = current_app._get_current_object()
    if app.config.get("SEARCH_DRAIN_AFTER_COMMIT", not app.testing):
        _drainer(app).request()


class _Drainer:
    """One background thread per app and process that drains the queue when asked."""

    def __init__(self, app) -> None:
        self.app = app
        self.wanted = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def request(self) -> None:
        self.wanted.set()
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="portal-search-drain", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while self.wanted.wait(timeout=60):
            self.wanted.clear()
            try:
                with self.app.app_context():
                    while drain() > 0:
                        pass
            except Exception:  # the next commit (or cron) retries
                log.exception("search queue drain failed")


_drainers: dict[int, _Drainer] = {}


def _drainer(app) -> _Drainer:
    with _index_lock:
        return _drainers.setdefault(id(app), _Drainer(app))


def drain(limit: int = 2000) -> int:
    """Apply up to ``limit`` queued changes to the index; returns how many entries were applied.

    Reads the queue inside the backend's batch (which excludes every other
    drainer, of any process) so changes are applied in order; removes the
    entries only after the batch committed.
    """
    from portal.database import write_intent
    from portal.extensions import db
    from portal.search.models import SearchQueueEntry

    with backend().batch() as batch:
        rows = db.session.execute(select(SearchQueueEntry.id, SearchQueueEntry.doc_key, SearchQueueEntry.action,
                                         SearchQueueEntry.document)
                                  .order_by(SearchQueueEntry.id).limit(limit)).all()
        db.session.rollback()  # end the read transaction; nothing held while indexing
        if not rows:
            return 0
        latest: dict[str, tuple[str, dict | None]] = {}
        for _id, key, action, document in rows:
            latest[key] = (action, document)
        docs = {key: _coerce(document) for key, (action, document) in latest.items() if action == "upsert"}
        unit_paths = _unit_paths(docs.values())
        for key, (action, _document) in latest.items():
            if action == "upsert":
                batch.upsert(_doc_fields(docs[key], unit_paths, document_plugin(docs[key])))
            else:
                batch.delete(key)
    with write_intent():
        db.session.execute(delete(SearchQueueEntry).where(SearchQueueEntry.id <= rows[-1][0]))
        db.session.commit()
    return len(rows)


def pending_count() -> int:
    """Queued changes not yet in the index."""
    from portal.extensions import db
    from portal.search.models import SearchQueueEntry

    return db.session.scalar(select(func.count(SearchQueueEntry.id))) or 0


# -- searching ----------------------------------------------------------------------

@dataclass
class SearchResult:
    """One hit as pages and the API show it."""

    key: str
    type: str
    title: str
    url: str
    snippet: Markup
    locale: str
    score: float

    @property
    def type_label(self) -> str:
        return str(_type_labels().get(self.type, self.type.replace("_", " ").capitalize()))

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "url": self.url, "snippet": str(self.snippet)}


@dataclass(frozen=True)
class Visibility:
    """What a viewer may see: documents with one of ``scopes``, or whose unit path starts with one of ``unit_paths``."""

    scopes: tuple[str, ...]
    unit_paths: tuple[str, ...] = ()


def visibility(account) -> Visibility | None:
    """The documents ``account`` may see (None: everything).

    Unit scopes go through the unit's materialized path, so a role over a
    committee sees everything below it with one prefix condition.
    """
    from portal.org.permissions import is_admin

    if account is None:
        return Visibility(("public",))
    if is_admin(account):
        return None
    member = getattr(account, "member", None)
    unit_ids: set[int] = set()
    if member is not None:
        for unit in (member.home_unit, member.host_unit):
            if unit is not None:
                unit_ids.update(unit.ancestor_ids())
    scopes = ("public", "members", *(f"unit:{uid}" for uid in sorted(unit_ids)))
    return Visibility(scopes, tuple(role.unit.path for role in account.roles))


def disabled_plugins() -> list[str]:
    """The plugins whose documents are hidden (disabling a plugin needs no reindex)."""
    from portal.plugins.manager import get_manager

    manager = get_manager()
    return sorted(name for name in manager.plugins if not manager.is_enabled(name))


def query_terms(parts: Iterable[QueryPart]) -> set[str]:
    """The analyzed words of a query (Chinese words, English stems), for highlighting."""
    return {token.text for part in parts for alt in part.alternatives for token in analyzer()(alt, mode="query")}


SNIPPET_CHARS = 200


@functools.lru_cache(maxsize=50000)
def _stem(word: str) -> str:
    from whoosh.lang.porter import stem

    return stem(word)

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+")


def snippet(text: str, terms: set[str]) -> Markup:
    """An escaped excerpt of ``text`` around the first match, matched words wrapped in ``<mark>``.

    Works on the raw text with the query's analyzed words (Chinese words by
    substring, English words by their stem) instead of re-analyzing whole
    lessons with jieba for every hit, which costs milliseconds per hit.
    """
    stem = _stem
    text = text or ""
    han = sorted((t for t in terms if _HAN.search(t)), key=len, reverse=True)
    latin = {t for t in terms if not _HAN.search(t)}
    han_re = re.compile("|".join(re.escape(t) for t in han)) if han else None

    def spans(chunk: str) -> list[tuple[int, int]]:
        found = [m.span() for m in han_re.finditer(chunk)] if han_re else []
        if latin:
            found += [m.span() for m in _LATIN_WORD.finditer(chunk) if stem(m.group().lower()) in latin]
        return sorted(found)

    first = next(iter(spans(text[:20000])), None)
    start = max(0, first[0] - 60) if first else 0
    window = text[start:start + SNIPPET_CHARS]
    out, index = ["…" if start else ""], 0
    for begin, end in spans(window):
        if begin < index:
            continue
        out.append(str(escape(window[index:begin])))
        out.append(f"<mark>{escape(window[begin:end])}</mark>")
        index = end
    out.append(str(escape(window[index:])))
    if start + SNIPPET_CHARS < len(text):
        out.append("…")
    return Markup("".join(out).replace("\n", " "))


#: Question words, particles and pronouns members type around what they look for (dropped from queries).
QUESTION_WORDS = frozenset("""
怎么 怎样 怎么样 怎么办 咋 咋办 如何 什么 啥 哪些 哪里 哪儿 哪个 为什么 为啥 多少 几 吗 呢 吧 啊 呀 嘛 哦 的 地 得 了 过
是 我 我们 我的 你 你们 他 她 要 想 想要 可以 能 能不能 可不可以 会 应该 该 需要 请问 请 一下 还 就 都 也 有 没 在 去 到 给 和 与
how what where when why who which whom whose do does did doing i me my mine we our you your can could should would
shall will must may need want please is are am was were be been there it its a an the to of for in on at with about
if or and not
""".split())
_PHRASE = re.compile(r'"([^"]*)"?')
_WORD = re.compile(r"^\w+$", re.UNICODE)


@functools.lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """``{word: its synonyms}`` from ``synonyms.toml`` (groups of interchangeable words)."""
    import tomllib

    with (Path(__file__).parent / "synonyms.toml").open("rb") as fh:
        groups = tomllib.load(fh)["groups"]
    table: dict[str, tuple[str, ...]] = {}
    for group in groups:
        for word in group:
            table[word] = tuple(dict.fromkeys(table.get(word, ()) + tuple(w for w in group if w != word)))
    return table


def query_words(text: str) -> list[str]:
    """The words of a query that carry meaning: jieba's cut without question words, particles and punctuation."""
    import jieba

    init_jieba()
    words = (word.strip().lower() for word in jieba.cut(text, HMM=True))
    return [word for word in words if _WORD.match(word) and word not in QUESTION_WORDS]


def _alternatives(word: str, indexed: Callable[[str], bool]) -> list[str]:
    """``word`` and its synonyms, any of which may match; a long word the index lacks is replaced by its
    dictionary sub-words (jieba's search mode: 组织关系转接 → 组织关系, 转接) and their synonyms."""
    import jieba

    found = [word]
    if _HAN.match(word) and len(word) > 2 and not indexed(word):
        found = [w for w in jieba.cut_for_search(word) if len(w) > 1 and w not in QUESTION_WORDS] or found
    for alt in list(found):
        found += synonyms().get(alt, ())
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class QueryPart:
    """One thing documents are ranked by: a word and its alternatives (any may match), or a quoted phrase."""

    alternatives: tuple[str, ...]
    phrase: bool = False

    def quoted(self) -> list[str]:
        """The alternatives as whoosh query syntax (phrases and several-word synonyms in quotes)."""
        return [f'"{alt}"' if self.phrase or " " in alt else alt for alt in self.alternatives]


def query_parts(text: str, indexed: Callable[[str], bool]) -> list[QueryPart]:
    """What a member typed as query parts: phrases kept whole, each word with its alternatives.

    Both backends build their query from these, so they match the same words.
    """
    parts, rest = [], []
    last = 0
    for match in _PHRASE.finditer(text):
        rest.append(text[last:match.start()])
        if _WORDLIKE.search(match.group(1)):  # a phrase is kept whole: its words' positions must match the text
            parts.append(QueryPart((match.group(1).strip(),), phrase=True))
        last = match.end()
    rest.append(text[last:])
    for word in query_words(" ".join(rest)):
        parts.append(QueryPart(tuple(_alternatives(word, indexed))))
    return parts


def _query_string(parts: Iterable[QueryPart]) -> str:
    """The whoosh query string of ``parts``: each word an OR of its alternatives."""
    out = []
    for part in parts:
        alts = part.quoted()
        out.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    return " ".join(out)


# -- kept results -----------------------------------------------------------------------

#: Share of the composition cache's budget (``CACHE_MAX_BYTES``; 0 turns both off) kept for search results.
RESULTS_SHARE = 4


@dataclass
class _Kept:
    version: Any
    value: Any
    size: int


def _results_store():
    """This app's LRU of results in this process (None when caching is off)."""
    from portal.cache import DEFAULT_MAX_BYTES, LRU

    store = current_app.extensions.get("portal_search_results")
    if store is None:
        budget = int(current_app.config.get("CACHE_MAX_BYTES", DEFAULT_MAX_BYTES) or 0) // RESULTS_SHARE
        store = current_app.extensions.setdefault("portal_search_results", LRU(budget))
    return store if store.max_bytes > 0 else None


def result_stats():
    """What this app's kept results did in this process (hits, misses …; :class:`portal.cache.Stats`)."""
    from portal.cache import LRU

    return (_results_store() or LRU(0)).stats


def _kept(engine: SearchBackend, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, or the value kept for ``key`` while the index has not changed since.

    ``key`` holds everything the value depends on besides the index: the
    normalized query, the viewer's visibility, the disabled plugins, the
    locale, the limit and types. The index's version is read *before*
    computing: a commit landing meanwhile makes the value newer than its
    version (one needless recomputation), never older. Both backends' versions
    change with every write that changed the index (whoosh: its table of
    contents; PostgreSQL: a stamp bumped in the batch's transaction, shared by
    every app server), so an edited lesson is found as soon as it is drained.
    """
    store = _results_store()
    if store is None:
        return compute()
    key = (engine.name, *key)
    version = engine.version()
    entry = store.get(key)
    if entry is not None and entry.version == version:
        store.count("hits")
        return _copy(entry.value)
    store.count("misses")
    value = compute()
    store.put(key, _Kept(version, _copy(value), _result_size(key, value)))
    return value


def _copy(value: T) -> T:
    """A list of results as new objects (their fields are strings and numbers), so a caller may change them."""
    return [copy.copy(item) for item in value] if isinstance(value, list) else value


def _result_size(key: tuple, value: Any) -> int:
    """A rough estimate of the memory a kept value holds (its strings, with per-object overhead)."""
    if isinstance(value, list):
        return 200 + sum(400 + sum(len(str(v)) * 2 for v in vars(item).values()) for item in value) + len(str(key)) * 2
    return 200 + len(str(value)) * 2 + len(str(key)) * 2


def normalized(query: str) -> str:
    """``query`` as the key of its results: analysis lowercases and ignores spacing, so the key does too."""
    return " ".join((query or "")[:MAX_QUERY_LENGTH].split()).lower()


def search(query: str, account, *, limit: int = 30, types: Iterable[str] | None = None,
           locale: str | None = None) -> list[SearchResult]:
    """Results visible to ``account`` for ``query``, best first, one per URL.

    Documents in ``locale`` (default: the request's) are preferred when two
    language versions of the same page match. Results are kept per process
    until the index changes (:func:`_kept`).
    """
    query = (query or "").strip()
    if not query:
        return []
    if locale is None:
        locale = _viewer_locale()
    engine = backend()
    visible, disabled, types = visibility(account), disabled_plugins(), tuple(types or ())
    return _kept(engine, ("search", normalized(query), visible, tuple(disabled), locale, limit, types),
                 functools.partial(_search, engine, query, visible, disabled, types, limit, locale))


def _viewer_locale() -> str:
    """The request's language ("" outside a request)."""
    try:
        from portal.i18n import select_public_locale

        return select_public_locale()
    except Exception:
        return ""


def _search(engine: SearchBackend, query: str, visible: Visibility | None, disabled: list[str],
            types: tuple[str, ...], limit: int, locale: str) -> list[SearchResult]:
    """:func:`search` itself, without the kept results."""
    parts = query_parts(query[:MAX_QUERY_LENGTH], engine.has_word)
    if not parts:
        return []
    hits = engine.hits(parts, visible, disabled, types=types, limit=limit * 3)
    terms = query_terms(parts)
    groups: dict[str, list[Hit]] = {}
    for hit in hits:  # best first; one result per URL, in the viewer's language when it matched too
        groups.setdefault(hit.url, []).append(hit)
    results: list[SearchResult] = []
    for url, group in list(groups.items())[:limit]:
        hit = next((h for h in group if locale and h.locale == locale), group[0])
        results.append(SearchResult(key=hit.key, type=hit.type, title=hit.title, url=url,
                                    snippet=snippet(hit.body, terms), locale=hit.locale, score=group[0].score))
    return results


def suggest(query: str, account) -> str | None:
    """A corrected query for "Did you mean …" when ``query`` finds nothing, or None.

    Each word the index lacks is replaced by the closest word of the index
    (one edit for short words, two for longer ones; see the backend's
    ``correction``); the suggestion is only offered when it finds
    something ``account`` may see. Synonyms need no suggestion: they are
    searched already.
    """
    words = query_words((query or "")[:MAX_QUERY_LENGTH].replace('"', " "))
    if not words or search(query, account, limit=1):
        return None
    engine = backend()
    key = ("suggest", normalized(query), visibility(account), tuple(disabled_plugins()), _viewer_locale())
    return _kept(engine, key, functools.partial(_suggest, engine, words, account))


def _suggest(engine: SearchBackend, words: list[str], account) -> str | None:
    """:func:`suggest` for the ``words`` of a query that found nothing, without the kept results."""
    out = []
    for word in words:
        terms = [token.text for token in analyzer()(word, mode="query")]
        found = None if terms and engine.has_terms(terms) else engine.correction(word, 1 if len(word) <= 4 else 2)
        out.append(found or word)
    if out == words:
        return None
    hits = search(" ".join(out), account, limit=1)
    if not hits:
        return None
    text = engine.document_text(hits[0].key)
    return " ".join(_surface(corrected, text) if corrected != word else word for word, corrected in zip(words, out, strict=True))


def _surface(term: str, text: str) -> str:
    """The word of ``text`` an English stem comes from (``injuri`` → ``injury``), so suggestions read as words."""
    if _HAN.search(term):
        return term
    return next((m.group().lower() for m in _LATIN_WORD.finditer(text) if _stem(m.group().lower()) == term), term)
