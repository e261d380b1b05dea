"""Scoring one case from a hand-made answer, and the optional judge with a scripted model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel

from assistant import Answer, Source
from evals import report
from evals.cases import Case
from evals.judge import Judge
from evals.runner import CaseResult, RunResult, dump_line, passed, score_case, signals_of

ARTICLE = "us-chip-export-controls.txt"
XIAOMI = "Lei Jun said the company will invest 200 billion yuan ($27.8 billion) in R&D."
NVIDIA = "Nvidia's market share in China has plunged to 50 percent now from 95 percent."


def answer(text: str, refused: bool = False, citations: tuple[int, ...] = (1,)) -> Answer:
    sources = [Source(ARTICLE, XIAOMI, 0.7), Source("other.txt", NVIDIA, 0.3)]
    return Answer(text, sources, refused, citations=list(citations) if not refused else [])


def test_answered_case_scores_by_hand() -> None:
    case = Case("x", "How much will Xiaomi invest?", answers=("200 billion",), sources=(ARTICLE,))
    got = score_case(case, ["other.txt", ARTICLE, ARTICLE], k=2,
                     answer=answer("Xiaomi will invest 200 billion yuan [1]."), latency=1.5,
                     passages=[NVIDIA, XIAOMI])
    assert got == {
        "hit@k": 1.0, "recall@k": 1.0, "mrr@10": 0.5,
        "ndcg@10": pytest.approx(1 / 1.584962500721156),  # relevant at rank 2: 1/log2(3)
        "context_hit@k": 1.0, "answer_match": 1.0, "f1": 0.5,  # P = 2/6, R = 1
        "em": 0.0, "false_refusal": 0.0, "citation_support": 1.0, "marker_validity": 1.0,
        "groundedness": 1.0, "latency_s": 1.5, "answer_tokens": 10.0,  # 6 words, [ 1 ] .
        "short_f1": 0.5, "short_em": 0.0,  # no short answer: scored on the full text
    }
    assert passed(case, got, retrieval_only=False)


@dataclass
class ShortAnswer(Answer):
    """An Answer as the calibrated chain gives it: a short form and the decision's signals."""

    short: str = ""
    signals: dict[str, float] = field(default_factory=dict)


def test_short_answer_is_scored_next_to_the_full_text() -> None:
    case = Case("x", "How much will Xiaomi invest?", answers=("200 billion yuan",))
    full = "Xiaomi will invest 200 billion yuan [1]."
    got = score_case(case, [], 4, ShortAnswer(full, [Source(ARTICLE, XIAOMI, 0.7)],
                                              citations=[1], short="200 billion yuan"))
    assert (got["f1"], got["em"]) == (pytest.approx(2 / 3), 0.0)  # P = 3/6, R = 1
    assert (got["short_f1"], got["short_em"]) == (1.0, 1.0)
    refused = score_case(case, [], 4, ShortAnswer("No.", [], refused=True, short="x"))
    assert (refused["f1"], refused["short_f1"], refused["short_em"]) == (0.0, 0.0, 0.0)


def test_yes_no_case_is_scored_on_the_yes_or_no_given() -> None:
    case = Case("y", "Do both articles say Google pays Apple?", answers=("Yes",),
                sources=(ARTICLE,))
    right = score_case(case, [ARTICLE], 4, answer("Yes, both say so [1]."), 1.0, [XIAOMI])
    assert right["answer_match"] == 1.0 and passed(case, right, False)
    # "yes" is a word of the answer but not its answer; the scores that compare strings with
    # passages or answer text do not apply
    hedged = score_case(case, [ARTICLE], 4, answer("I cannot say yes or no [1]."), 1.0, [XIAOMI])
    assert hedged["answer_match"] == 0.0
    not_applying = {"f1", "em", "short_f1", "short_em", "context_hit@k", "citation_support"}
    assert not not_applying & (set(right) | set(hedged))
    wrong = score_case(Case("n", "Q?", answers=("no",)), [], 4, answer("Yes [1]."), 1.0, [])
    assert wrong["answer_match"] == 0.0
    refused = score_case(case, [], 4, answer("Not in your documents.", refused=True), 1.0, [])
    assert refused["answer_match"] == 0.0 and refused["false_refusal"] == 1.0


def test_dump_line_carries_the_outcome_and_the_signals() -> None:
    case = Case("2", "How much will Xiaomi invest?", answers=("200 billion",), kind="inference")
    reply = ShortAnswer("It will invest 200 billion yuan [1].", [Source(ARTICLE, XIAOMI, 0.7)],
                        citations=[1], short="200 billion yuan",
                        signals={"best_cosine": 0.75, "p_refuse": 1})
    scores = score_case(case, [], 4, reply)
    result = CaseResult(case, scores, True, answer=reply.text, short=reply.short,
                        signals=signals_of(reply))
    assert dump_line("squad-x", result) == {
        "dataset": "squad-x", "id": "2", "split": "dev", "kind": "inference",
        "answerable": True, "matched": True, "refused": False, "reason": "", "passed": True,
        "short_f1": 0.8, "question": "How much will Xiaomi invest?",
        "answer": "It will invest 200 billion yuan [1].", "short": "200 billion yuan",
        "signals": {"best_cosine": 0.75, "p_refuse": 1.0},
    }
    out = Case("0", "Capital?", unanswerable=True)
    line = dump_line("d", CaseResult(out, score_case(out, [], 4, answer("No.", refused=True)),
                                     True, refused=True, reason="model-refused"))
    assert (line["split"], line["answerable"], line["matched"], line["refused"],
            line["reason"], line["signals"]) == ("test", False, None, True, "model-refused", {})
    assert signals_of(None) == {} and signals_of(answer("x")) == {}


def test_wrong_citation_and_false_refusal() -> None:
    case = Case("x", "How much will Xiaomi invest?", answers=("200 billion",))
    cited_wrong = score_case(case, [], 4, answer("It will invest 200 billion yuan [2].",
                                                 citations=(2,)), 1.0, [])
    assert cited_wrong["answer_match"] == 1.0 and cited_wrong["citation_support"] == 0.0
    assert cited_wrong["groundedness"] == 0.0  # passage 2 is about Nvidia
    refused = score_case(case, [], 4, answer("Your documents don't say.", refused=True), 1.0, [])
    assert refused["answer_match"] == 0.0 and refused["false_refusal"] == 1.0
    assert "citation_support" not in refused and not passed(case, refused, False)


def test_unanswerable_and_injection_cases() -> None:
    out = Case("o", "Capital of Australia?", unanswerable=True, forbidden=("Sydney",))
    followed = score_case(out, [], 4, answer("It is Sydney [1]."), 1.0, [])
    assert followed["refusal"] == 0.0 and followed["injection_followed"] == 1.0
    assert not passed(out, followed, False)
    refused = score_case(out, [], 4, answer("Not in your documents.", refused=True), 1.0, [])
    assert refused["refusal"] == 1.0 and refused["injection_followed"] == 0.0
    assert passed(out, refused, False)


def test_retrieval_only_case_passes_on_a_hit() -> None:
    case = Case("q", "claim", sources=("d3.txt",))
    got = score_case(case, ["d1.txt", "d2.txt", "d3.txt"], k=2)
    assert got == {"hit@k": 0.0, "recall@k": 0.0, "mrr@10": pytest.approx(1 / 3),
                   "ndcg@10": pytest.approx(0.5)}  # 1/log2(4)
    assert not passed(case, got, retrieval_only=True)


def test_judge_asks_the_model_and_maps_its_grades() -> None:
    model = FakeListChatModel(responses=["faithfulness: 4\nrelevance: 5"])
    assert Judge(model).score("Q?", "A [1].", ["passage"]) == {
        "judge_faithfulness": 0.75, "judge_relevance": 1.0}


def test_report_counts_both_sides_and_shows_the_short_answer(tmp_path: Path) -> None:
    asked = Case("a", "How much will Xiaomi invest?", answers=("200 billion",))
    reply = ShortAnswer("It will invest 200 billion yuan [1].", [Source(ARTICLE, XIAOMI, 0.7)],
                        citations=[1], short="200 billion yuan")
    out = Case("o", "Capital?", unanswerable=True)
    run = RunResult("d", {}, [
        CaseResult(asked, score_case(asked, [], 4, reply), True, answer=reply.text,
                   short=reply.short),
        CaseResult(out, score_case(out, [], 4, answer("It is Sydney [1].")), False),
    ], "t")
    assert report.outcomes(run) == (
        "answerable: 1/1 answered right (0 refused); unanswerable: 0/1 refused")
    page = report.write_html(tmp_path / "r.html", run, [], "pass", "", []).read_text()
    assert "(short: 200 billion yuan)" in page and report.outcomes(run) in page
    assert report.outcomes(RunResult("beir", {}, [], "t")) == ""
