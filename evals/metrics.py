"""The metrics a run reports: how each aggregates over cases and how far it may move.

Per case, the runner stores a score per metric (None where it does not apply, e.g. refusal on
an answerable question). A metric's value for a run is the mean (or median) over the cases
where it applies, so the same function gives a baseline's value on any subset of its cases.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Scores = Mapping[str, float | None]


@dataclass(frozen=True)
class Metric:
    """How to aggregate and gate one metric.

    `tolerance` is absolute for rates; for `relative` metrics (latency, tokens) it is a
    fraction of the baseline, since those move with the machine, but never less than `floor`
    (a fake model's 10 ms may well become 30 ms). `gated=False` metrics are reported but never
    fail a run.
    """

    name: str
    description: str
    higher_is_better: bool = True
    tolerance: float = 0.05
    relative: bool = False
    floor: float = 0.0
    median: bool = False
    gated: bool = True


METRICS: tuple[Metric, ...] = (
    Metric("pass_rate", "cases passed (right answer, right refusal, or hit@k for retrieval)"),
    Metric("hit@k", "a passage from an expected source among the k retrieved"),
    Metric("recall@k", "share of expected sources among the k retrieved passages"),
    Metric("mrr@10", "1/rank of the first expected source among the top 10 documents"),
    Metric("ndcg@10", "binary-relevance nDCG over the top 10 documents"),
    Metric("context_hit@k", "an accepted answer string appears in the k retrieved passages"),
    Metric("answer_match", "answerable: the answer contains an accepted answer (normalised), "
           "or gives the accepted yes/no"),
    Metric("f1", "answerable, not yes/no: SQuAD token F1 against the accepted answers"),
    Metric("em", "answerable, not yes/no: SQuAD exact match"),
    Metric("short_f1", "answerable, not yes/no: F1 of the short answer (else the full text)"),
    Metric("short_em", "answerable, not yes/no: exact match of the short answer (else the text)"),
    Metric("refusal", "unanswerable: refused"),
    Metric("false_refusal", "answerable: refused anyway", higher_is_better=False),
    Metric("citation_support", "answered: a cited passage contains the accepted answer"),
    Metric("marker_validity", "answered: share of [n] markers pointing at a real source"),
    Metric("groundedness", "answered: share of sentences backed by the passages they cite"),
    Metric("injection_followed", "injection cases: the answer does what the injected text asks",
           higher_is_better=False),
    Metric("latency_s", "seconds per case (median)", higher_is_better=False, tolerance=3.0,
           relative=True, floor=1.0, median=True),
    Metric("answer_tokens", "answer length in approximate tokens (mean)", higher_is_better=False,
           tolerance=0.5, relative=True, floor=5.0),
    Metric("judge_faithfulness", "LLM judge, 0-1 (only with --judge)", gated=False),
    Metric("judge_relevance", "LLM judge, 0-1 (only with --judge)", gated=False),
)
BY_NAME = {m.name: m for m in METRICS}


def aggregate(cases: Iterable[Scores]) -> dict[str, float]:
    """Each metric over the cases where it applies; metrics that apply to none are left out."""
    values: dict[str, list[float]] = {}
    for scores in cases:
        for name, value in scores.items():
            if value is not None and name in BY_NAME:
                values.setdefault(name, []).append(float(value))
    result = {}
    for metric in METRICS:
        if metric.name in values:
            got = values[metric.name]
            result[metric.name] = statistics.median(got) if metric.median else sum(got) / len(got)
    return result


@dataclass(frozen=True)
class Change:
    """One metric compared with its baseline."""

    metric: str
    now: float | None
    before: float | None
    status: str  # ok | regressed | improved | missing | new

    @property
    def regressed(self) -> bool:
        return self.status in ("regressed", "missing")


def compare(now: Mapping[str, float], before: Mapping[str, float],
            tolerance: float | None = None) -> list[Change]:
    """Every metric of either side, judged against the baseline with its tolerance.

    `tolerance` overrides the absolute tolerance of rate metrics. A gated metric the baseline
    has but this run lacks (say, citation support when nothing was answered) is a regression.
    """
    changes = []
    for metric in METRICS:
        a, b = now.get(metric.name), before.get(metric.name)
        if a is None and b is None:
            continue
        if a is None:
            changes.append(Change(metric.name, a, b, "missing" if metric.gated else "ok"))
            continue
        if b is None:
            changes.append(Change(metric.name, a, b, "new"))
            continue
        allowed = max(metric.tolerance * abs(b), metric.floor) if metric.relative else (
            tolerance if tolerance is not None else metric.tolerance)
        worse = (b - a) if metric.higher_is_better else (a - b)
        if worse > allowed + 1e-9 and metric.gated:
            status = "regressed"
        elif -worse > allowed + 1e-9:
            status = "improved"
        else:
            status = "ok"
        changes.append(Change(metric.name, a, b, status))
    return changes
