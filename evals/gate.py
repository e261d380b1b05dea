"""The regression gate: a run against its baseline entry, on the cases both hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from evals.baseline import Entry, differences
from evals.metrics import Change, compare
from evals.runner import CaseResult, RunResult


@dataclass
class Comparison:
    """What changed since the baseline: metrics, and cases that flipped either way."""

    note: str
    changes: list[Change]
    has_baseline: bool
    flipped: list[CaseResult] = field(default_factory=list)  # passed before, fail now
    fixed: list[CaseResult] = field(default_factory=list)  # failed before, pass now
    new: list[str] = field(default_factory=list)  # case ids the baseline lacks

    @property
    def regressed(self) -> list[Change]:
        return [c for c in self.changes if c.regressed]


def compare_run(result: RunResult, entry: Entry | None, exact: bool, where: str,
                tolerance: float | None = None) -> Comparison:
    """Compare `result` with `entry` (found in `where`) over the cases both hold.

    Metrics are recomputed from the baseline's per-case scores for those cases, so a
    `--limit` run meets the baseline's values on the same questions.
    """
    if entry is None:
        return Comparison(f"No baseline recorded in {where}.", compare(result.metrics, {}), False)
    ids = {r.case.id for r in result.results}
    common = ids & set(entry.cases)
    note = f"Baseline: {where}, recorded {entry.recorded}, {len(common)} cases in common."
    if not exact:
        note += (" No baseline for this configuration, so compared with the reference one ("
                 + "; ".join(differences(result.config, entry.config)) + ").")
    now = RunResult(result.dataset, result.config,
                    [r for r in result.results if r.case.id in common], result.started)
    before = {r.case.id: entry.cases[r.case.id].passed for r in now.results}
    return Comparison(
        note, compare(now.metrics, entry.metrics(common), tolerance), True,
        flipped=[r for r in now.results if before[r.case.id] and not r.passed],
        fixed=[r for r in now.results if not before[r.case.id] and r.passed],
        new=sorted(ids - common),
    )
