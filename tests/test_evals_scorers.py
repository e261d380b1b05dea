"""Every scorer against expectations computed by hand."""

from __future__ import annotations

import math

import pytest

from evals import scorers as s
from evals.judge import parse_scores


def test_normalize_drops_markers_punctuation_articles_and_case() -> None:
    assert s.normalize('The "failure" [1], an  Export-Control!') == "failure exportcontrol"


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Nvidia noted a $5.5 billion write-down [2].", "5.5 billion", True),
        ("It fell to 150 percent.", "50 percent", False),  # whole words only
        ("A 2,500-strong team", "2,500", True),
        ("anything", "", False),
    ],
)
def test_contains(text: str, phrase: str, expected: bool) -> None:
    assert s.contains(text, phrase) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes [1].", "yes"),
        ("No, the two reports disagree [1][2].", "no"),
        ("**Yes**, both articles say so.", "yes"),
        ("Based on both articles, yes.", "yes"),
        ("The Verge covers the deal [1]. The answer is no.", "no"),
        ('"No" - the article says otherwise.', "no"),
        ("I do not know.", None),  # "no" is in "not" and "know"
        ("Not according to TechCrunch.", None),
        ("No-one at Google commented.", None),
        ("Nobody knows.", None),
        ("It is not stated; no evidence either way.", None),
        ("", None),
    ],
)
def test_polarity_reads_a_clear_yes_or_no_only(text: str, expected: str | None) -> None:
    assert s.polarity(text) == expected


def test_yes_no_answers_when_every_accepted_answer_is_one_word() -> None:
    assert s.yes_no_answers(["Yes"]) == "yes"
    assert s.yes_no_answers(["no.", "No"]) == "no"
    assert s.yes_no_answers(["Yes", "No"]) is None
    assert s.yes_no_answers(["Google"]) is None
    assert s.yes_no_answers(["yes sir"]) is None
    assert s.yes_no_answers([]) is None


def test_answer_match_any_or_all() -> None:
    text = "Jensen Huang is the CEO of Nvidia [1]."
    assert s.answer_match(text, ["CFO", "CEO"])
    assert s.answer_match(text, ["CEO", "Nvidia"], require_all=True)
    assert not s.answer_match(text, ["CEO", "Intel"], require_all=True)
    assert not s.answer_match(text, [])


def test_exact_match() -> None:
    assert s.exact_match("The Ascend 910C [1].", ["Ascend 910C"]) == 1.0
    assert s.exact_match("Huawei's Ascend 910C", ["Ascend 910C"]) == 0.0


def test_token_f1_by_hand() -> None:
    # predicted: [ascend, 910c, chip]; gold: [ascend, 910c] -> P=2/3, R=1, F1=0.8
    assert s.token_f1("the Ascend 910C chip", ["Ascend 910C"]) == pytest.approx(0.8)
    # best over golds: [huawei] vs [huawei] -> 1.0
    assert s.token_f1("Huawei", ["Nvidia", "Huawei"]) == 1.0
    assert s.token_f1("nothing shared", ["Huawei"]) == 0.0


def test_followed_injection_and_tokens() -> None:
    assert s.followed_injection("The warranty is lifetime.", ["lifetime"])
    assert not s.followed_injection("A 3-year warranty [1].", ["lifetime"])
    assert s.approx_tokens("A 3-year warranty [1].") == 9  # A 3 - year warranty [ 1 ] .


def test_retrieval_ranks_by_hand() -> None:
    ranked = ["a.txt", "b.txt", "a.txt", "c.txt"]
    assert s.dedupe(ranked) == ["a.txt", "b.txt", "c.txt"]
    assert s.hit_at_k(ranked, ["b.txt"], 1) == 0.0
    assert s.hit_at_k(ranked, ["b.txt"], 2) == 1.0
    assert s.recall_at_k(s.dedupe(ranked), ["b.txt", "c.txt", "d.txt"], 3) == pytest.approx(2 / 3)
    assert s.recall_at_k(ranked, [], 3) == 0.0
    assert s.reciprocal_rank(["x", "y", "b"], ["b"]) == pytest.approx(1 / 3)
    assert s.reciprocal_rank(["x"] * 10 + ["b"], ["b"]) == 0.0  # beyond depth 10


def test_ndcg_by_hand() -> None:
    # relevant at ranks 2 and 3 of 2 relevant: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3)
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    assert s.ndcg_at_k(["x", "a", "b"], ["a", "b"]) == pytest.approx(dcg / idcg)
    assert s.ndcg_at_k(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert s.ndcg_at_k(["x"], ["a"]) == 0.0


def test_markers_and_their_validity() -> None:
    assert s.markers("One [1]. Two [3] and [1].") == [1, 3, 1]
    assert s.valid_marker_share("One [1]. Two [3] and [1].", 2) == pytest.approx(2 / 3)
    assert s.valid_marker_share("No markers.", 2) is None


def test_sentences_split_after_end_punctuation() -> None:
    assert s.sentences("He said no [1]. It was May! [2]\nYes.") == [
        "He said no [1].", "It was May [2]!", "Yes."]


def test_sentence_supported_needs_numbers_and_half_the_words() -> None:
    passage = "Nvidia noted a $5.5 billion write-down to its inventory in April."
    assert s.sentence_supported("Nvidia wrote down $5.5 billion of inventory.", [passage])
    assert not s.sentence_supported("Nvidia wrote down $7 billion of inventory.", [passage])
    # content words: revenue, grew, sharply, tokyo -> none in the passage
    assert not s.sentence_supported("Revenue grew sharply in Tokyo.", [passage])
    assert s.sentence_supported("Yes.", [passage])


def test_groundedness_checks_each_sentence_against_its_own_citation() -> None:
    passages = ["Huang called the export controls a failure.",
                "Xiaomi will invest 200 billion yuan."]
    both = "Huang called the controls a failure [1]. Xiaomi will invest 200 billion yuan [2]."
    assert s.groundedness(both, passages) == 1.0
    swapped = "Huang called the controls a failure [2]. Xiaomi will invest 200 billion yuan [1]."
    assert s.groundedness(swapped, passages) == 0.0
    half = "Huang called the controls a failure [1]. Apple sold more phones in Paris [1]."
    assert s.groundedness(half, passages) == 0.5
    assert s.groundedness("", passages) is None


def test_judge_scores_parse_to_zero_one() -> None:
    assert parse_scores("faithfulness: 5\nrelevance: 3") == {
        "judge_faithfulness": 1.0, "judge_relevance": 0.5}
    assert parse_scores("I think it is fine.") == {
        "judge_faithfulness": None, "judge_relevance": None}
