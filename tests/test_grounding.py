"""assistant.rag.grounding: refusal wording, citation markers, and invented names and numbers."""

from __future__ import annotations

import pytest

from assistant.rag.chain import MODEL_REFUSED, NO_PASSAGES
from assistant.rag.grounding import (
    SENTINEL,
    citations,
    drawn_terms,
    echoed_terms,
    is_refusal,
    is_ungrounded,
    key_facts,
    repair_citations,
    strip_invalid_citations,
    unsupported_facts,
)

PASSAGES = [
    "Nvidia's market share in China, Huang said, has plunged to 50 percent now from 95 percent "
    "at the start of former US president Joe Biden's administration.",
    "Lei Jun, chairman and CEO of Xiaomi, said the company will invest 200 billion yuan "
    "($27.8 billion) in R&D from 2026 to 2030.",
    "Lei said Xiaomi now has a 2,500-strong semiconductor R&D team driving innovation.",
]
QUESTION = "How much will Xiaomi invest in R&D?"


# -- is_refusal -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        SENTINEL,
        "not in documents",
        "NOT IN DOCUMENTS.",
        "NO IN DOCUMENTS",  # what the model writes when "NOT" is banned (a forced draft)
        "Sorry - NOT IN DOCUMENTS",
        "The passages do not mention Xiaomi's revenue.",
        "The context does not specify the date.",
        "The documents don't contain the answer.",
        "The passage doesn’t say who founded Huawei.",  # typographic apostrophe
        "There is no information about Apple in the passages.",
        "This is not stated in the documents.",
        "I cannot answer this question from the passages.",
        "I can't determine that. Huang only talks about market share.",
        "I am unable to find the answer.",
        MODEL_REFUSED,  # the chain's own refusal texts
        NO_PASSAGES,
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize(
    "text",
    [
        "Xiaomi will invest 200 billion yuan in R&D [2].",
        # a partial answer that admits a gap later is still an answer
        "Xiaomi will invest 200 billion yuan [2]. The passages do not say how it is split.",
        "Huang said the export control was a failure [1].",
        "No, Nvidia's share did not grow; it fell to 50 percent [1].",
        "",
    ],
)
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


# -- citations ----------------------------------------------------------------------------------


def test_citations_are_distinct_in_order_and_in_range() -> None:
    text = "Share fell [2]. Biden [1] and again [2]. Unknown [7], zero [0], three digits [123]."
    assert citations(text, 3) == [2, 1]
    assert citations(text, 7) == [2, 1, 7]
    assert citations("No markers at all.", 3) == []
    assert citations("Only invalid [4].", 3) == []


@pytest.mark.parametrize(
    ("text", "n_sources", "expected"),
    [
        ("Xiaomi will invest 200 billion yuan [2].", 3, "Xiaomi will invest 200 billion yuan [2]."),
        ("It fell to 50 percent [1][9].", 3, "It fell to 50 percent [1]."),
        ("It fell to 50 percent [4]. Huang said so [1].", 3,
         "It fell to 50 percent. Huang said so [1]."),
        ("Zero is not a passage [0] number.", 3, "Zero is not a passage number."),
        ("A [1] B [2] C [3]", 0, "A B C"),
        ("Ten of twelve [10] [12] [13].", 12, "Ten of twelve [10] [12]."),
    ],
)
def test_out_of_range_markers_are_removed(text: str, n_sources: int, expected: str) -> None:
    assert strip_invalid_citations(text, n_sources) == expected
    assert citations(strip_invalid_citations(text, n_sources), n_sources) == citations(
        text, n_sources
    )


# -- key facts ----------------------------------------------------------------------------------


def test_key_facts_finds_numbers_and_names_but_not_markers() -> None:
    numbers, names = key_facts(
        "According to Jack Gold, Xiaomi's 2,500-strong team [3] costs $27.8 billion [2]."
    )
    assert numbers == {"2500", "27.8"}  # thousands separators dropped, markers ignored
    assert names == {"jack", "gold", "xiaomi"}  # "According" is only a sentence opener


def test_key_facts_of_plain_lowercase_text_is_empty() -> None:
    assert key_facts("the export control was a failure, he said.") == (set(), set())


# -- unsupported facts / is_ungrounded ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("Xiaomi will invest 300 billion yuan in R&D [2].", ["300"]),
        ("Nvidia's share fell to 45 percent [1].", ["45"]),
        ("The investment runs from 2026 to 2031 [2].", ["2031"]),
        ("The CEO of Xiaomi is Tim Cook [2].", ["cook", "tim"]),
        ("Xiaomi's investment was announced by Satya Nadella [2].", ["nadella", "satya"]),
        ("The share fell to 50 percent, Reuters reported [1].", ["reuters"]),
    ],
)
def test_invented_numbers_and_names_are_flagged(answer: str, invented: list[str]) -> None:
    assert unsupported_facts(answer, PASSAGES, QUESTION) == invented
    assert is_ungrounded(answer, PASSAGES, QUESTION)


@pytest.mark.parametrize(
    "answer",
    [
        "Xiaomi will invest 200 billion yuan ($27.8 billion) in R&D from 2026 to 2030 [2].",
        "Lei Jun said Xiaomi has a 2,500-strong R&D team [3].",
        "Xiaomi has a team of 2500 engineers [3].",  # "2,500" in the passage
        "Nvidia's share in China fell to 50% [1].",  # "50 percent" in the passage
        "Nvidia's share in China fell from 95 percent to 50 percent [1].",
        "According to Huang, the share fell under Joe Biden [1].",
        "However, the CEO of Xiaomi is Lei Jun [2].",
        "The answer is yes.",
    ],
)
def test_facts_copied_from_the_passages_are_not_flagged(answer: str) -> None:
    assert unsupported_facts(answer, PASSAGES, QUESTION) == []
    assert not is_ungrounded(answer, PASSAGES, QUESTION)


def test_percent_sign_in_passage_supports_percent_word_in_answer() -> None:
    passages = ["Nvidia's share fell to 50% this year."]
    assert not is_ungrounded("Nvidia's share fell to 50 percent [1].", passages, "What fell?")


def test_numbers_and_names_from_the_question_are_not_flagged() -> None:
    question = "Did Apple spend 7 billion in 2031?"
    answer = "The passages say nothing about Apple in 2031; Xiaomi will invest 200 billion [2]."
    assert unsupported_facts(answer, PASSAGES, question) == []
    # ... but the question's subject, repeated by the answer, appears in no passage
    assert echoed_terms(answer, PASSAGES, question) == ["apple"]
    assert is_ungrounded(answer, PASSAGES, question)


@pytest.mark.parametrize(
    ("question", "answer", "echoed"),
    [
        ("What was Nvidia's revenue last year?", "Nvidia's revenue was $5.5 billion [1].",
         ["revenue"]),
        ("What is the clock speed of Xiaomi's team?", "The clock speed of Xiaomi's team is 3 [2].",
         ["clock", "speed"]),
        ("Who is Lei Jun?", "Lei Jun is the chairman and CEO of Xiaomi [2].", []),
        ("How much will Xiaomi invest?", "Xiaomi will invest 200 billion yuan [2].", []),
        ("Who founded Huawei?", "Ren Zhengfei founded Huawei [3].", []),  # passage: "founder"
        ("What is the name of TSMC's CEO?", "TSMC's CEO is Lei Jun [2].", ["tsmc"]),
    ],
)
def test_echoed_question_terms(question: str, answer: str, echoed: list[str]) -> None:
    passages = [*PASSAGES, "Ren Zhengfei, founder of Huawei, said there is no need to worry."]
    assert echoed_terms(answer, passages, question) == echoed
    assert is_ungrounded(answer, passages, question) == bool(echoed)


def test_one_reworded_ordinary_word_is_tolerated() -> None:
    passages = ["In 2014, Xiaomi launched its inaugural semiconductor project."]
    question = "When did Xiaomi launch its first chip project?"
    answer = "Xiaomi launched its first semiconductor project in 2014 [1]."
    assert echoed_terms(answer, passages, question) == ["first"]
    assert not is_ungrounded(answer, passages, question)


def test_one_invented_name_among_several_grounded_ones_is_tolerated() -> None:
    # names: xiaomi, lei, jun (grounded) and beijing (not in the passages): 1 of 4 invented
    answer = "Xiaomi's Lei Jun spoke in Beijing about R&D [2]."
    assert unsupported_facts(answer, PASSAGES, QUESTION) == ["beijing"]
    assert not is_ungrounded(answer, PASSAGES, QUESTION)


def test_half_of_the_names_invented_is_ungrounded() -> None:
    answer = "Xiaomi's plan was praised by Cupertino [2]."
    assert unsupported_facts(answer, PASSAGES, QUESTION) == ["cupertino"]
    assert is_ungrounded(answer, PASSAGES, QUESTION)


def test_any_invented_number_is_ungrounded_even_with_grounded_names() -> None:
    answer = "Lei Jun said Xiaomi, Nvidia and Huang's team have 3,000 engineers [3]."
    assert unsupported_facts(answer, PASSAGES, QUESTION) == ["3000"]
    assert is_ungrounded(answer, PASSAGES, QUESTION)


def test_sentence_opening_common_word_is_not_a_name() -> None:
    answer = "Investment in R&D will total 200 billion yuan [2]."
    assert not is_ungrounded(answer, PASSAGES, QUESTION)


REPAIR_PASSAGES = [
    "Huang said the export controls were a failure.",
    "Nvidia's market share in China plunged to 50 percent now from 95 percent.",
    "Xiaomi will invest 200 billion yuan in R&D.",
]


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        # cited the wrong passage: the one that holds the number wins
        ("Nvidia's share in China is 50 percent [1].",
         "Nvidia's share in China is 50 percent [2]."),
        # right citations stay; a wrong pair in the next sentence collapses to the right one
        ("Huang called them a failure [1].\nXiaomi will invest 200 billion [1][2].",
         "Huang called them a failure [1].\nXiaomi will invest 200 billion [3]."),
        # one of two markers is right: left alone
        ("Xiaomi will invest 200 billion yuan [1][3].",
         "Xiaomi will invest 200 billion yuan [1][3]."),
        ("No markers here.", "No markers here."),
        # a marker after the full stop belongs to the sentence before it
        ("It fell to 50 percent. [1]", "It fell to 50 percent. [2]"),
    ],
)
def test_repair_citations(text: str, repaired: str) -> None:
    assert repair_citations(text, REPAIR_PASSAGES) == repaired


ROOTS = ["Ren Zhengfei, founder of Huawei, said there is no need to worry about chips.",
         "Ren underscored the importance of theoretical research. \"Without fundamental "
         "research, we lack roots,\" he said."]


def test_paraphrased_question_echoed_around_passage_content_is_kept() -> None:
    question = "Why does Huawei's founder think basic science matters?"
    answer = "Huawei's founder thinks basic science matters because without fundamental " \
             "research, we lack roots [1]."
    assert echoed_terms(answer, ROOTS, question) == ["basic", "matters", "science"]
    assert drawn_terms(answer, ROOTS, question) == ["fundamental", "lack", "research", "roots"]
    assert not is_ungrounded(answer, ROOTS, question)


def test_question_restated_around_one_passage_value_is_withheld() -> None:
    passage = "Xiaomi unveiled its 3-nanometer XRing O1 chip for smartphones in May."
    question = "What is the clock speed of Xiaomi's XRing O1 chip?"
    answer = "The clock speed of Xiaomi's XRing O1 chip is 3 nanometers [1]."
    assert drawn_terms(answer, [passage], question) == ["nanometers"]
    assert is_ungrounded(answer, [passage], question)


@pytest.mark.parametrize(
    ("answer", "passage"),
    [
        ("Mars takes 687 days [1].", "Planet: Mars; Orbital period (days): 687.0"),
        ("Python 3.10 was released on October 4, 2021 [1].", "Version: 3.10; Released: 2021-10-04"),
        ("It was released on 4 October 2021 [1].", "Released: 2021-10-04 00:00:00"),
        ("It was released in 2021 [1].", "Released: 2021-10-04"),
        ("Support ends in October 2027 [1].", "Version: 3.11; End of life: 2027-10"),
    ],
)
def test_a_number_or_date_written_another_way_in_the_cell_is_supported(
        answer: str, passage: str) -> None:
    assert unsupported_facts(answer, [passage], "When?") == []
    assert not is_ungrounded(answer, [passage], "When?")


@pytest.mark.parametrize(
    ("answer", "invented"),
    [
        ("It was released on October 5, 2021 [1].", ["5"]),
        ("It was released on November 4, 2021 [1].", ["november"]),
        ("Python 3.1 was released in 2021 [1].", ["3.1"]),  # the cell says 3.10
    ],
)
def test_a_different_date_or_version_is_still_unsupported(answer: str, invented: list[str]) -> None:
    passage = "Version: 3.10; Released: 2021-10-04"
    assert unsupported_facts(answer, [passage], "When?") == invented
