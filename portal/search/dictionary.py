"""jieba's prefix dictionary, compact and memory-mapped: shared by every worker through the page cache.

jieba keeps its dictionary as a Python ``dict`` of ~500 000 words and word
prefixes (``FREQ``): about 60 MiB of private memory in every process that
segments text. Here the same dictionary (jieba's ``dict.txt`` plus the
portal's domain words, exactly as ``jieba.add_word`` would add them) is one
file of sorted 64-bit word hashes with their frequencies (6 MiB), mapped
read-only: all workers share the same page-cache pages, a process only
touches the pages its lookups land on, and nothing is parsed at start.

Lookups are a binary search (``bisect`` in C over a ``memoryview``) on the
word's hash — BLAKE2b truncated to 64 bits, so a word outside the dictionary
is mistaken for one with a probability of ~3·10⁻¹⁴ per lookup; the build
checks that no two dictionary words share a hash. Segmentation is therefore
identical to jieba's own dictionary, at a few microseconds per lookup
instead of a few tens of nanoseconds (queries: negligible; indexing a 1 KB
lesson: a few milliseconds more).

The file is built once per dictionary content (its name carries a digest of
``dict.txt``, the domain words and the format), in a short-lived subprocess so
the worker that needs it never holds the 60 MiB ``dict`` even briefly.
"""
from __future__ import annotations

import array
import bisect
import hashlib
import mmap
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

FORMAT = b"PJD1"

#: jieba's ``jieba.analyse.analyzer.STOP_WORDS``, copied: importing ``jieba.analyse`` builds its TF-IDF and
#: TextRank tables at import time (~95 MiB per process), of which the search needs only this list.
STOP_WORDS = frozenset(("a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in",
                        "is", "it", "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we",
                        "when", "will", "with", "yet", "you", "your", "的", "了", "和"))
_HEADER = struct.Struct("<4sQQ")  # magic, number of entries, jieba's total frequency


def word_hash(word: str) -> int:
    """The 64-bit hash a word is stored under (stable across processes, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _source_dict() -> Path:
    import jieba

    return Path(jieba.__file__).with_name("dict.txt")


def file_name(domain_words: Iterable[tuple[str, int]]) -> str:
    """The compact dictionary's file name for jieba's ``dict.txt`` plus ``domain_words``."""
    digest = hashlib.blake2b(FORMAT, digest_size=10)
    source = _source_dict()
    stat = source.stat()
    digest.update(f"{source}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    for word, freq in domain_words:
        digest.update(f"\n{word}\t{freq}".encode())
    return f"jieba-compact-{digest.hexdigest()}.bin"


def build(path: Path, domain_words: Iterable[tuple[str, int]]) -> None:
    """Write the compact dictionary of jieba's ``dict.txt`` + ``domain_words`` to ``path`` (atomically).

    Uses jieba's own loader and ``add_word`` so the frequencies and the total are exactly jieba's.
    Holds jieba's full dictionary while it runs: call it in a short-lived process (:func:`ensure`).
    """
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
    tokenizer.initialized = True
    for word, freq in domain_words:
        tokenizer.add_word(word, freq=freq)
    entries = sorted((word_hash(word), freq) for word, freq in tokenizer.FREQ.items())
    hashes = array.array("Q", (h for h, _ in entries))
    if len(set(hashes)) != len(hashes):  # odds ~10⁻⁸ for 500 000 words; would make two words one
        raise RuntimeError("two dictionary words share a 64-bit hash")
    freqs = array.array("Q", (f for _, f in entries))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(_HEADER.pack(FORMAT, len(hashes), tokenizer.total))
        hashes.tofile(out)
        freqs.tofile(out)
    os.replace(tmp, path)


class CompactFreq(Mapping):
    """jieba's ``FREQ`` (word or prefix → frequency, 0 for a bare prefix) over a mapped compact file.

    ``jieba.add_word`` at run time lands in a small in-memory overlay.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        magic, count, self.total = _HEADER.unpack_from(self._map)
        if magic != FORMAT:
            raise ValueError(f"{path} is not a compact jieba dictionary")
        view = memoryview(self._map)
        start = _HEADER.size
        self._hashes = view[start:start + 8 * count].cast("Q")
        self._freqs = view[start + 8 * count:start + 16 * count].cast("Q")
        self._count = count
        self._extra: dict[str, int] = {}

    def _find(self, word: str) -> int | None:
        key = word_hash(word)
        i = bisect.bisect_left(self._hashes, key)
        if i < self._count and self._hashes[i] == key:
            return self._freqs[i]
        return None

    def __getitem__(self, word: str) -> int:
        freq = self._extra.get(word)
        if freq is None:
            freq = self._find(word)
            if freq is None:
                raise KeyError(word)
        return freq

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self._extra or self._find(word) is not None)

    def get(self, word: str, default: int | None = None) -> int | None:
        """The frequency of ``word`` (0 for a bare prefix), ``default`` when jieba does not know it."""
        freq = self._extra.get(word)
        if freq is None:
            freq = self._find(word)
        return default if freq is None else freq

    def __setitem__(self, word: str, freq: int) -> None:
        self._extra[word] = freq

    def __len__(self) -> int:
        return self._count + len(self._extra)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("the compact dictionary stores hashes: its words cannot be listed")


def ensure(directory: Path, domain_words: Iterable[tuple[str, int]]) -> Path:
    """The compact dictionary file in ``directory``, built first (in a subprocess) when missing."""
    words = list(domain_words)
    path = Path(directory) / file_name(words)
    if not path.exists():
        payload = "\n".join(f"{word}\t{freq}" for word, freq in words)
        # the file itself, not ``-m portal.search.dictionary``: importing the portal package costs a second
        subprocess.run([sys.executable, __file__, str(path)], input=payload,
                       text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return path


def install(tokenizer, freq: CompactFreq) -> None:
    """Make a ``jieba.Tokenizer`` use ``freq`` as its (already initialised) dictionary."""
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total = freq, freq.total
        tokenizer.initialized = True


def _main(argv: list[str]) -> int:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    words = [(w, int(f)) for w, _, f in (line.partition("\t") for line in sys.stdin.read().splitlines()) if w]
    build(Path(argv[0]), words)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
