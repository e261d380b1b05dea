"""Scoring one case from a hand-made answer, and the optional judge with a scripted model."""

from __future__ import annotations

import pytest
from langchain_core.language_models import FakeListChatModel

from assistant import Answer, Source
from evals.cases import Case
from evals.judge import Judge
from evals.runner import passed, score_case

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
    }
    assert passed(case, got, retrieval_only=False)


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
