"""Fitting the answer-or-refuse decision: the logistic fit, the threshold choice, the refreshed
text signals, and that the shipped calibration is what the committed rows give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.rag.decision import Calibration, load_calibration
from evals.calibrate import (
    _fitted,
    answers,
    balanced,
    choose_threshold,
    collected,
    fit_logistic,
    forward_selection,
    load_rows,
    only,
    ranges,
    redraft_min,
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


def test_the_threshold_refuses_all_it_can_while_keeping_the_right_answers() -> None:
    rows = [row(0.2, False, answerable=False), row(0.3, False, answerable=False),
            row(0.7, True), row(0.8, True)]
    model, _ = _fitted(rows, ["best_score"])
    t = choose_threshold(model, rows)
    assert balanced(rows, [answers(r, model, t) for r in rows]) == 1.0
    assert [answers(r, model, t) for r in rows] == [False, False, True, True]


def test_the_threshold_gives_up_at_most_a_twentieth_of_the_right_answers() -> None:
    rows = [row(0.1 * i, True) for i in range(1, 21)] + [row(0.5, False, answerable=False)]
    model, _ = _fitted(rows, ["best_score"])
    t = choose_threshold(model, rows)
    answered = [answers(r, model, t) for r in rows if r["answerable"]]
    assert sum(answered) == 19  # 95% of the 20 kept: only the weakest right answer refused


def test_right_decisions_weigh_both_kinds_alike_whatever_their_numbers() -> None:
    model = Calibration({"best_score": 1.0}, bias=0.0, threshold=0.5)
    rows = [row(0.9, True), *[row(0.9, False, answerable=False) for _ in range(9)]]
    # all answered: 1/1 right, 0/9 refused
    assert balanced(rows, [answers(r, model, 0.5) for r in rows]) == 0.5
    assert balanced(rows, [answers(r, model, 0.99) for r in rows]) == 0.5  # all refused: 0/1, 9/9


def test_forward_selection_adds_a_signal_only_for_the_least_gain() -> None:
    scores = {(): 0.46, ("a",): 0.60, ("b",): 0.55, ("a", "b"): 0.664, ("a", "b", "c"): 0.669,
              ("a", "c"): 0.62}

    def score(rows: list[dict], names: list[str]) -> float:
        return scores.get(tuple(names), 0.0)

    assert forward_selection([], ["a", "b", "c"], score) == ["a", "b"]  # c: +0.005 only
    assert forward_selection([], ["a", "b", "c"], score, min_gain=0.0) == ["a", "b", "c"]


def test_ranges_leave_out_each_tail_of_the_dev_values() -> None:
    rows = [row(i / 100, True) for i in range(101)]
    low, high = ranges(rows, ["best_score"])["best_score"]
    assert low == pytest.approx(0.05) and high == pytest.approx(0.95)


def test_redraft_min_keeps_all_but_a_fiftieth_of_the_right_answers_similarity() -> None:
    rows = [row(0.3 + i / 100, True) for i in range(51)] + [row(0.1, False, answerable=False)]
    model = Calibration({"best_score": 1.0}, bias=0.0, threshold=0.5)
    floor = redraft_min(rows, model, 0.0)
    assert sum(r["signals"]["best_score"] < floor for r in rows if r["answerable"]) == 1


def test_answers_mirrors_the_chains_gates_on_redrafts_and_on_the_sentence_check() -> None:
    model = Calibration({"best_score": 10.0, "sentence_yes": 4.0}, bias=-8.5, threshold=0.5,
                        ranges={"sentence_yes": (0.2, 0.8)}, redraft_min=0.4)
    said_no = {**row(0.8, True), "signals": {"best_score": 0.8, "sentence_yes": 0.0}}
    assert model.score(said_no["signals"]) < 0.5  # -0.5 had the check been asked...
    assert answers(said_no, model, 0.5)  # ...but at worst in its range +0.3: it is not asked
    weak = {**row(0.35, True), "signals": {"best_score": 0.35, "sentence_yes": 1.0,
                                           "greedy_refused": 1.0}}
    assert not answers(weak, model, 0.0)  # the model refused, and is not drafted again
    assert answers({**weak, "signals": {**weak["signals"], "greedy_refused": 0.0}}, model, 0.0)


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
