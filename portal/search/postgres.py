"""The PostgreSQL search backend: the index is a table every app server shares.

* **Documents** are rows of ``search_document`` (migration core_0011), upserted
  by key. ``words`` is a ``tsvector`` written from the *same analyzer* as the
  whoosh index (jieba words and their dictionary sub-words, lowercased, jieba's
  stop words out, English Porter-stemmed): the vector is spelled out as a
  literal with whoosh's word positions (a long word's sub-words share its
  position), rather than re-cut by ``to_tsvector``, so phrases match exactly as
  in whoosh. Weights: title A, tags B, body C; each field starts a few
  positions after the previous one, so no phrase spans two fields.
* **Queries** come from the same :class:`~portal.search.service.QueryPart`
  list as whoosh's: each part (a word OR its synonyms, a ``<->`` phrase) is a
  ``tsquery``; a document matches when any part does (GIN index), and ranks by
  a BM25-like sum over the alternatives it matches (see ``hits``).
  Scope, type and disabled plugins are filtered in the same statement.
  Only a capped set of candidates is scored (``CANDIDATES``, shared by the
  alternatives and the documents matching every part), so a common word matching tens of
  thousands of documents costs about as much as a rare one.
* **Batches** hold a transaction-level advisory lock on their own connection
  from before the queue is read until the commit, so drainers of every app
  server apply queued changes in order; a rebuild replaces every row in one
  transaction (searches see the old rows until it commits).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import CompoundSelect, Integer, bindparam, cast, func, literal, or_, select, text, true, union
from sqlalchemy.dialects.postgresql import ARRAY, REAL, TSQUERY, TSVECTOR, insert
from sqlalchemy.engine import Connection

from portal import cache
from portal.database import utcnow
from portal.search.models import search_document as table
from portal.search.service import _HAN, Hit, QueryPart, Visibility, _stem, analyzer

#: The composition cache's stamp (``cache_stamp``, scope ``table:search_index``) of the documents' content.
INDEX_STAMP = "search_index"
#: pg_advisory_xact_lock key of index batches ("search" in ASCII).
LOCK_KEY = 0x736561726368
#: Rows per INSERT … ON CONFLICT round trip.
CHUNK = 500
#: Highest position a tsvector stores (larger ones are clamped by PostgreSQL too).
MAX_POSITION = 16383
#: Lexemes longer than this (bytes) cannot be stored; such "words" are not worth finding anyway.
MAX_LEXEME_BYTES = 2046
#: Positions left between two fields, so a phrase never matches across them.
FIELD_GAP = 2
WEIGHTS = {"title": "A", "tags": "B", "body": "C"}
#: How much an alternative's ts_rank (frequency and field) counts against matching it at all.
TF_FACTOR = 6
#: ts_rank weights in PostgreSQL's order {D, C, B, A}: body and tags 1, the title double (whoosh's field boost).
RANK_WEIGHTS = "{0.1,0.5,0.5,1.0}"
#: How much of a body a hit carries: enough for :func:`~portal.search.service.snippet` (first match in the first
#: 20 000 characters, a 200-character window from 60 before it) to read it as if whole.
SNIPPET_SOURCE = 20_300
#: Documents scored at most, shared by the alternatives (and "every part"): PostgreSQL has no early cut-off,
#: and scoring reads each candidate's words once per alternative. Below the share, every match is scored (the
#: ranking is exact); above, all documents of the rarer alternatives (the ones scoring most) are in, and a
#: common word brings a sample.
CANDIDATES = 1200
#: The smallest share of an alternative, however many the query has.
MIN_SHARE = 150
#: Documents whose words are read when looking for a Chinese spelling correction.
CORRECTION_SAMPLE = 300


def _quote(lexeme: str) -> str:
    """``lexeme`` as a quoted tsvector/tsquery lexeme (taken as is: no parsing or normalizing)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(fields: dict[str, str]) -> str:
    """The weighted ``tsvector`` of a document's title, tags and body, spelled out with whoosh's positions."""
    positions: dict[str, list[str]] = {}
    offset = 0
    for field in ("title", "tags", "body"):
        weight, last = WEIGHTS[field], 0
        for token in analyzer()(fields.get(field) or "", positions=True):
            lexeme = token.text
            if len(lexeme.encode()) > MAX_LEXEME_BYTES:
                continue
            last = max(last, token.pos + 1)
            positions.setdefault(lexeme, []).append(f"{min(MAX_POSITION, offset + token.pos + 1)}{weight}")
        offset += last + FIELD_GAP
    return " ".join(f"{_quote(lexeme)}:{','.join(dict.fromkeys(spots))}" for lexeme, spots in positions.items())


def _tokens(text: str) -> list[str]:
    return [token.text for token in analyzer()(text, mode="query")]


def part_query(part: QueryPart) -> str | None:
    """The tsquery text of one part (None when analysis leaves nothing, like a stop word)."""
    options = []
    for alt in part.alternatives:
        tokens = _tokens(alt)
        if not tokens:
            continue
        if part.phrase or " " in alt:
            options.append("(" + " <-> ".join(_quote(t) for t in tokens) + ")")
        else:  # a word analyzed into several tokens matches any of them (whoosh's parser does the same)
            options.extend(_quote(t) for t in tokens)
    options = list(dict.fromkeys(options))
    if not options:
        return None
    return options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"


def _tsquery(text: str):
    return cast(literal(text), TSQUERY)


def _visible(visible: Visibility | None):
    if visible is None:
        return true()
    return or_(table.c.scope.in_(visible.scopes),
               *(table.c.unit_path.startswith(path, autoescape=True) for path in visible.unit_paths))


def _candidates(queries: list[str], parts: list[str], conditions: list) -> CompoundSelect:
    """The keys to score: an equal share of ``CANDIDATES`` per alternative and for documents matching every part.

    A rare alternative brings all its documents, a common one the first it
    finds (no ordering: a sort would read every match, which is the cost
    avoided); documents matching every part (whoosh's coordination bonus makes
    them the best) are taken on their own so a sample cannot miss them.
    """
    groups = list(queries)
    if len(parts) > 1:
        groups.append(" & ".join(parts))
    share = max(MIN_SHARE, CANDIDATES // len(groups))
    return union(*(select(table.c.key).where(table.c.words.op("@@")(_tsquery(q)), *conditions).limit(share)
                   for q in groups))


@contextmanager
def _index_scans() -> Iterator[None]:
    """Run a statement without sequential scans of ``search_document``.

    With a LIMIT, the planner expects a common word's matches early in the
    table and reads it from the start, decompressing every row's words on the
    way (several times slower than the GIN index, whose list of matches is
    exact for plain words). SET LOCAL ends with the transaction at the latest
    (after an error, the rollback undoes it: nothing more may run before).
    """
    from portal.extensions import db

    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    yield
    db.session.execute(text("SET LOCAL enable_seqscan = DEFAULT"))


class _PostgresBatch:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pending: list[dict] = []
        self.cleared = self.changed = False

    def clear(self) -> None:
        self.pending.clear()
        self.cleared = self.changed = True
        self.connection.execute(table.delete())

    def upsert(self, fields: dict[str, str]) -> None:
        self.changed = True
        self.pending.append({**fields, "words_text": tsvector_literal(fields), "updated_at": utcnow()})
        if len(self.pending) >= CHUNK:
            self.flush()

    def delete(self, key: str) -> None:
        self.changed = True
        self.flush()  # keep the order of an upsert and a delete of the same key
        self.connection.execute(table.delete().where(table.c.key == key))

    def flush(self) -> None:
        if not self.pending:
            return
        columns = [c.name for c in table.c if c.name != "words"]
        statement = insert(table).values({name: bindparam(name) for name in columns}
                                         | {"words": cast(bindparam("words_text"), TSVECTOR)})
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={name: statement.excluded[name] for name in [*columns, "words"] if name != "key"})
        self.connection.execute(statement, self.pending)
        self.pending.clear()


class PostgresBackend:
    """Search in ``search_document`` (PostgreSQL full-text search; the default on PostgreSQL)."""

    name = "postgres"

    @contextmanager
    def batch(self) -> Iterator[_PostgresBatch]:
        """One transaction on its own connection, under an advisory lock taken before anything is read.

        A batch that changed something bumps the index's stamp (:meth:`version`) in the same transaction,
        so every app server's kept results are stale exactly when the documents they came from changed.
        """
        from portal.extensions import db

        with db.engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
            batch = _PostgresBatch(connection)
            yield batch
            batch.flush()
            if batch.changed:
                cache.bump(INDEX_STAMP, connection=connection)
            if batch.cleared:  # a rebuild: fresh statistics, or the planner may scan every row instead of the GIN index
                connection.execute(text("ANALYZE search_document"))

    def version(self) -> int | None:
        """The stamp every batch that changed the documents bumps (None before the first such batch)."""
        from portal.extensions import db

        return db.session.scalar(select(cache.CacheStamp.version)
                                 .where(cache.CacheStamp.scope == cache.PREFIX + INDEX_STAMP))

    def _exists(self, query: str) -> bool:
        from portal.extensions import db

        return bool(db.session.scalar(select(
            select(table.c.key).where(table.c.words.op("@@")(_tsquery(query))).limit(1).exists())))

    def has_word(self, word: str) -> bool:
        return self._exists(_quote(word))

    def has_terms(self, terms: list[str]) -> bool:
        return all(self._exists(_quote(term)) for term in terms)

    def hits(self, parts: list[QueryPart], visible: Visibility | None, disabled: list[str], *,
             types: tuple[str, ...], limit: int) -> list[Hit]:
        from portal.extensions import db

        # Each alternative scores on its own, as in whoosh's BM25 (a rare synonym counts more than a common one).
        queries = list(dict.fromkeys(q for part in parts for alt in part.alternatives
                                     if (q := part_query(QueryPart((alt,), part.phrase)))))
        if not queries:
            return []
        conditions = [_visible(visible)]
        if disabled:
            conditions.append(table.c.plugin.not_in(disabled))
        if types:
            conditions.append(table.c.type.in_(types))
        candidates = _candidates(queries, [q for part in parts if (q := part_query(part))], conditions)
        # The candidates' words, read (and decompressed) once: every alternative looks at them twice.
        # "|| ''" makes a plain copy of the stored value; MATERIALIZED keeps PostgreSQL from inlining it per use.
        found = (select(table.c.key, table.c.words.op("||")(cast(literal(""), TSVECTOR)).label("words"))
                 .where(table.c.key.in_(candidates)).cte("found").prefix_with("MATERIALIZED"))
        words = found.c.words
        weights = cast(literal(RANK_WEIGHTS), ARRAY(REAL))
        columns = []
        for i, q in enumerate(queries):
            columns += [cast(words.op("@@")(_tsquery(q)), Integer).label(f"m{i}"),
                        func.ts_rank(weights, words, _tsquery(q)).label(f"t{i}")]
        matching = select(found.c.key, *columns).subquery("matching")
        # BM25's ideas in SQL: an alternative counts more the fewer matching documents have it (its IDF among
        # the matches), a document counts for matching it at all (whoosh's coordination bonus: documents matching
        # more words come first) and for how often and where (ts_rank: the title counts double).
        # On tests/test_search_questions.py this finds 39 of 39 lessons in the top 3, like whoosh.
        matches = cast(func.count().over(), REAL)
        score = sum((func.coalesce(func.ln(1.0 + matches / func.nullif(func.sum(matching.c[f"m{i}"]).over(), 0)), 0)
                     * (matching.c[f"m{i}"] + TF_FACTOR * matching.c[f"t{i}"]) for i in range(len(queries))),
                    literal(0.0)).label("score")
        best = select(matching.c.key, score).order_by(score.desc(), matching.c.key).limit(limit).subquery("best")
        statement = (select(table.c.key, table.c.type, table.c.title, table.c.url, table.c.locale,
                            func.left(table.c.body, SNIPPET_SOURCE).label("body"), best.c.score)
                     .join(best, best.c.key == table.c.key).order_by(best.c.score.desc(), table.c.key))
        with _index_scans():
            rows = db.session.execute(statement).all()
        return [Hit(key=r.key, type=r.type, title=r.title, url=r.url, locale=r.locale, body=r.body,
                    score=float(r.score)) for r in rows]

    def correction(self, word: str, maxdist: int) -> str | None:
        """The closest indexed term, nearest first, then the one in most documents.

        English: the word's and its stem's one-edit variants (and their stems)
        looked up in the index at once. Chinese: the words of a sample of the
        documents holding a word that starts like ``word`` (one character
        differs, added or missing). No extension needed (pg_trgm may be absent).
        """
        from portal.extensions import db

        if _HAN.search(word):
            candidates = self._han_candidates(word)
        else:
            word = word.lower()
            variants = _edits1(word) | _edits1(_stem(word))
            candidates = variants | {_stem(v) for v in variants}
        candidates = {c for c in candidates if c and c != word and _distance(word, c) <= maxdist}
        if not candidates:
            return None
        candidate = func.unnest(cast(literal(sorted(candidates)), ARRAY(table.c.key.type))) \
            .table_valued("term").render_derived(name="candidate")
        holders = (select(literal(1).label("one"))
                   .where(table.c.words.op("@@")(cast(func.quote_literal(candidate.c.term), TSQUERY)))
                   .limit(100).lateral("holders"))
        found = db.session.execute(select(candidate.c.term, func.count(holders.c.one))
                                   .select_from(candidate.join(holders, true())).group_by(candidate.c.term)).all()
        if not found:
            return None
        return min(found, key=lambda item: (_distance(word, item[0]), -item[1], item[0]))[0]

    def _han_candidates(self, word: str) -> set[str]:
        from portal.extensions import db

        sample = (select(table.c.words).where(table.c.words.op("@@")(_tsquery(f"{_quote(word[0])}:*")))
                  .limit(CORRECTION_SAMPLE).subquery())
        lexeme = func.unnest(sample.c.words).table_valued("lexeme").lateral()
        rows = db.session.scalars(
            select(lexeme.c.lexeme).select_from(sample.join(lexeme, true()))
            .where(func.left(lexeme.c.lexeme, 1) == word[0],
                   func.char_length(lexeme.c.lexeme).between(len(word) - 1, len(word) + 1)).distinct())
        return set(rows)

    def document_text(self, key: str) -> str:
        from portal.extensions import db

        row = db.session.execute(select(table.c.title, table.c.body).where(table.c.key == key)).first()
        return f"{row.title} {row.body}" if row else ""

    def count(self) -> int:
        from portal.extensions import db

        return db.session.scalar(select(func.count()).select_from(table)) or 0


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _edits1(word: str) -> set[str]:
    """Every string one edit (delete, swap of neighbours, replace, insert) from a Latin ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def _distance(a: str, b: str) -> int:
    """Edit distance with swaps of neighbours (optimal string alignment), as whoosh's corrector counts."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]

