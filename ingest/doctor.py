"""A check of the store: chunks Chroma cannot read back, documents left incomplete, and a lexical
index out of step with Chroma; and the repair of what it finds.

Every chunk is read back in pages with its text, metadata and vector. A page that fails is
split in halves until the bad chunks are found one by one (a page of 500 with one bad chunk
costs about 18 reads), since Chroma fails a whole `get` for one vector it cannot find
(`Error getting embedding`). Repairing deletes those chunks (under the write lock), so their
documents count as incomplete and the next ingest writes them again, and brings the lexical
index in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.report import IngestReport
from ingest.store import Store

PAGE = 500  # chunks read back per `get`


@dataclass(frozen=True)
class Repair:
    """What a repair did, and the check made after it."""

    deleted: int  # unreadable chunks deleted
    lexical_fixed: int  # lexical index entries added or dropped
    reingested: IngestReport | None  # the damaged documents whose files are still there
    after: Checkup
    lost: list[str] = field(default_factory=list)  # damaged, and their files are gone

    @property
    def ok(self) -> bool:
        return self.after.ok and not self.lost

    def lines(self) -> list[str]:
        lines = [f"Repaired: deleted {self.deleted} unreadable chunks, fixed "
                 f"{self.lexical_fixed} keyword index entries."]
        if self.reingested is not None:
            lines.append(f"Re-ingested the documents whose files are still there: "
                         f"{self.reingested.summary()}")
            lines += [f"   failed  {s}: {reason}" for s, reason in self.reingested.failed]
        if self.lost:
            lines.append(f"Not re-ingested, their files are gone: {len(self.lost)} documents")
            lines += [f"  {source or '(unknown source)'}" for source in self.lost]
        if self.after.ok:
            lines.append("Checked again: no problems left.")
        else:
            lines.append("Checked again:")
            lines += ["  " + line for line in self.after.lines()[1:-1]]
        if not self.ok:
            lines.append("Fix: ingest the documents above again from where their files are now; "
                         "'assistant remove PATH' drops an incomplete one.")
        return lines


@dataclass(frozen=True)
class Checkup:
    """What `check` found; `unreadable` maps each bad chunk id to its source ("" if unknown)."""

    chunks: int
    documents: int
    unreadable: dict[str, str] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)  # sources with a version short of chunks
    lexical_missing: int = 0  # chunks in Chroma the lexical index lacks
    lexical_extra: int = 0  # chunks in the lexical index that Chroma no longer has
    repair: Repair | None = None  # set by a repair (`Assistant.doctor(repair=True)`)

    @property
    def ok(self) -> bool:
        """Nothing was found wrong."""
        return not (self.unreadable or self.incomplete or self.lexical_missing
                    or self.lexical_extra)

    @property
    def healthy(self) -> bool:
        """Nothing is wrong now: nothing was found, or the repair left nothing."""
        return self.ok or (self.repair is not None and self.repair.ok)

    @property
    def damaged(self) -> list[str]:
        """Sources with unreadable chunks, sorted ("" for chunks whose source is unknown)."""
        return sorted(set(self.unreadable.values()))

    def lines(self) -> list[str]:
        """The report, a line per kind of problem, for the CLI."""
        lines = [f"Checked {self.chunks} chunks in {self.documents} documents."]
        if self.unreadable:
            lines.append(f"unreadable: {len(self.unreadable)} chunks in "
                         f"{len(self.damaged)} documents (Chroma cannot read them back)")
            lines += [f"  {source or '(unknown source)'}" for source in self.damaged]
        if self.incomplete:
            lines.append(f"incomplete: {len(self.incomplete)} documents")
            lines += [f"  {source}" for source in self.incomplete]
        if self.lexical_missing or self.lexical_extra:
            lines.append(f"keyword index out of step: {self.lexical_missing} chunks missing, "
                         f"{self.lexical_extra} left over")
        if self.ok:
            lines.append("No problems found.")
        elif self.repair is not None:
            lines += self.repair.lines()
        else:
            lines.append("Fix: run 'assistant doctor --repair'.")
        return lines


def _unreadable(store: Store, ids: Sequence[str]) -> list[str]:
    """The ids among `ids` that Chroma fails to return whole, by bisection."""
    try:
        store.collection.get(ids=list(ids), include=["documents", "metadatas", "embeddings"])
        return []
    except Exception:  # chromadb raises InternalError (and others) for a chunk it cannot read
        if len(ids) == 1:
            return list(ids)
    middle = len(ids) // 2
    return _unreadable(store, ids[:middle]) + _unreadable(store, ids[middle:])


def _sources(store: Store, ids: list[str]) -> dict[str, str]:
    """The source of each chunk, from its metadata alone, when that can still be read."""
    found: dict[str, str] = {}
    for one in ids:
        try:
            metas = store.collection.get(ids=[one], include=["metadatas"])["metadatas"] or [{}]
            found[one] = str((metas[0] or {}).get("source", ""))
        except Exception:  # the metadata is gone too
            found[one] = ""
    return found


def check(store: Store, page: int = PAGE) -> Checkup:
    """Read every chunk back and compare the two indexes; writes nothing."""
    ids = store.ids()
    bad: list[str] = []
    for start in range(0, len(ids), page):
        bad += _unreadable(store, ids[start:start + page])
    documents = store.documents()
    missing = extra = 0
    if store.lexical is not None:
        in_lexical = store.lexical.ids()
        missing, extra = len(set(ids) - in_lexical), len(in_lexical - set(ids))
    return Checkup(
        chunks=len(ids),
        documents=len({d.source for d in documents}),
        unreadable=_sources(store, bad),
        incomplete=sorted({d.source for d in documents if not d.complete}
                          - {d.source for d in documents if d.complete}),
        lexical_missing=missing,
        lexical_extra=extra,
    )


def repair(store: Store, checkup: Checkup) -> int:
    """Delete the unreadable chunks `checkup` found and bring the lexical index in step; call
    it holding the write lock. Returns how many lexical entries were fixed."""
    bad = list(checkup.unreadable)
    for start in range(0, len(bad), PAGE):
        store.delete_ids(bad[start:start + PAGE])
    return store.sync(force=True)
