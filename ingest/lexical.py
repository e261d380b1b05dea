"""A BM25 index of the chunks, persisted in SQLite FTS5 next to the vector store.

FTS5 (in Python's own sqlite3) updates incrementally, ranks with BM25 (k1=1.2, b=0.75), stems
with Porter, and commits each change atomically, so the index is written alongside Chroma, never
rebuilt from all documents. `Store` keeps the two in step; this module knows nothing of Chroma.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from ingest.text import STOPWORDS, words

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
                                   source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks (source);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 (text, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def match_expression(query: str) -> str:
    """The FTS5 query for free text: its distinct non-stopword terms, quoted, OR-ed."""
    terms = dict.fromkeys(t for t in words(query) if t not in STOPWORDS)
    return " OR ".join(f'"{t}"' for t in terms)


# A write transaction takes the write lock when it begins, waiting out the busy timeout for it.
# A deferred BEGIN reads first, and in WAL mode a reader whose snapshot another process has
# since committed over cannot upgrade to a writer: it fails at once with "database is locked"
# (seen with two `assistant ingest` at once on a loaded machine), whatever the timeout.
_BEGIN_WRITE = "BEGIN IMMEDIATE"


class LexicalIndex:
    """Chunk id -> text and source, searchable with BM25; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # A generous busy timeout: another process may hold the write lock during a long sync.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=120)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers are not blocked by a writer
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM chunks")}

    def sources(self) -> list[str]:
        """Every distinct source, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT source FROM chunks ORDER BY source")
            return [row[0] for row in rows]

    def upsert(self, ids: Sequence[str], texts: Sequence[str], sources: Sequence[str]) -> None:
        """Add chunks, replacing any with the same id; one transaction."""
        with self._lock, self._db:
            self._db.execute(_BEGIN_WRITE)
            self._delete(ids)
            for chunk, text, source in zip(ids, texts, sources, strict=True):
                cur = self._db.execute(
                    "INSERT INTO chunks (id, source) VALUES (?, ?)", (chunk, source)
                )
                self._db.execute("INSERT INTO fts (rowid, text) VALUES (?, ?)",
                                 (cur.lastrowid, text))

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock, self._db:
            self._db.execute(_BEGIN_WRITE)
            self._delete(list(ids))

    def _delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
            batch = list(ids[start:start + 500])
            marks = ",".join("?" * len(batch))
            where = f"SELECT rowid FROM chunks WHERE id IN ({marks})"
            self._db.execute(f"DELETE FROM fts WHERE rowid IN ({where})", batch)
            self._db.execute(f"DELETE FROM chunks WHERE id IN ({marks})", batch)

    def search(
        self, query: str, k: int, sources: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The `k` best (chunk id, BM25 score) pairs, best first; higher is better.

        `sources`, when given, restricts the search to chunks of those sources.
        """
        expression = match_expression(query)
        if k <= 0 or not expression or (sources is not None and not sources):
            return []
        sql = ("SELECT c.id, -bm25(fts) FROM fts JOIN chunks c ON c.rowid = fts.rowid "
               "WHERE fts MATCH ?")
        params: list[object] = [expression]
        if sources is not None:
            sql += f" AND c.source IN ({','.join('?' * len(sources))})"
            params.extend(sources)
        sql += " ORDER BY bm25(fts) LIMIT ?"
        params.append(k)
        with self._lock:
            return [(row[0], float(row[1])) for row in self._db.execute(sql, params)]

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, value))
