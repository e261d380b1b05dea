"""Fitting the answer-or-refuse decision: the logistic fit, the threshold choice, the refreshed
text signals, and that the shipped calibration is what the committed rows give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.rag.decision import load_calibration
from evals.calibrate import (
    _fitted,
    answers,
    choose_threshold,
    collected,
    decisions_right,
    fit_logistic,
    load_rows,
    only,
    refresh,
)
from evals.cases import DATASETS_DIR, Case

ROWS = DATASETS_DIR / "calibration_rows.jsonl"


def row(score: float, right: bool, answerable: bool = True, draft: str = "It is 5 [1].") -> dict:
    return {"dataset": "d", "id": f"{score}", "split": "dev", "answerable": answerable,
            "right": right, "draft": draft, "signals": {"best_score": score}}


def test_fit_logistic_finds_the_direction_of_a_separating_signal() -> None:
    x = np.array([[0.1], [0.2], [0.3], [0.6], [0.7], [0.8]])
    y = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    weights, bias = fit_logistic(x, y)
    assert weights[0] > 0
    low, high = (1 / (1 + np.exp(-(weights[0] * v + bias))) for v in (0.1, 0.8))
    assert low < 0.5 < high


def test_the_threshold_is_the_one_with_most_right_decisions() -> None:
    rows = [row(0.2, False, answerable=False), row(0.3, False, answerable=False),
            row(0.7, True), row(0.8, True)]
    model, _ = _fitted(rows, ["best_score"])
    t = choose_threshold(model, rows)
    assert decisions_right(rows, model, t) == 4
    assert [answers(r, model, t) for r in rows] == [False, False, True, True]


def test_a_draft_that_refuses_in_words_never_counts_as_answered() -> None:
    refusing = refresh({**row(0.9, False), "query": "How much?", "passages": ["It is 5."],
                        "draft": "The passages do not state it."})
    model, _ = _fitted([row(0.2, False, answerable=False), row(0.8, True)], ["best_score"])
    assert refusing["refuses"] and not answers(refusing, model, 0.0)


def test_refresh_recomputes_text_signals_and_the_rules_decision() -> None:
    fresh = refresh({**row(0.5, True), "query": "What did Huang call the controls?",
                     "passages": ["Huang called the controls a failure."],
                     "draft": "Huang called them a failure [1]."})
    assert fresh["signals"]["unsupported"] == 0.0 and fresh["signals"]["gap"] == 0.0
    assert fresh["rules_refused"] is False


@pytest.mark.skipif(not ROWS.is_file(), reason="calibration rows not committed")
def test_the_shipped_calibration_is_the_fit_of_the_committed_rows() -> None:
    shipped = load_calibration()
    rows = [r for r in load_rows([Path(ROWS)]) if r["split"] == "dev"]
    model, threshold = _fitted(rows, list(shipped.weights))
    assert model.weights == pytest.approx(shipped.weights, abs=1e-6)
    assert model.bias == pytest.approx(shipped.bias, abs=1e-6)
    assert threshold == pytest.approx(shipped.threshold)


def test_only_keeps_the_cases_of_one_kind() -> None:
    cases = [Case("a", "Q?", ("x",)), Case("b", "Q?", unanswerable=True)]
    assert [c.id for c in only(cases, "answerable")] == ["a"]
    assert [c.id for c in only(cases, "unanswerable")] == ["b"]
    assert only(cases, "all") == cases


def test_collect_skips_the_cases_its_output_already_holds(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    assert collected(out) == set()
    out.write_text('{"dataset": "d", "id": "1"}\n\n{"dataset": "e", "id": "2"}\n', encoding="utf-8")
    assert collected(out) == {("d", "1"), ("e", "2")}
