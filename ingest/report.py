"""`IngestReport`: what one ingest run did, shared by the pipeline, its writer and `doctor`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    """What one ingest run did; `failed` and `skipped` hold (path, reason) pairs."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0

    @property
    def ok(self) -> bool:
        """False only when some file failed and none could be ingested."""
        return not self.failed or bool(self.added or self.updated or self.unchanged)

    def summary(self) -> str:
        skipped = f"{len(self.skipped)} skipped, " if self.skipped else ""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.failed)} failed, {skipped}{self.chunks} chunks written"
        )
