"""assistant.rag.answer_type: the slot a question asks for, and whether a draft fills it."""

from __future__ import annotations

import pytest

from assistant.rag.answer_type import KINDS, WANTED, dodged, expected, satisfies
from assistant.rag.grounding import SENTINEL

NEWSPAPER = "Which newspaper interviewed Ren Zhengfei?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What year was Nvidia founded?", "year"),
        ("In what year did Xiaomi start its first semiconductor project?", "year"),
        ("When did Huang call the export controls a failure?", "date"),
        ("How many years of R&D went into it?", "number"),
        ("How much will Xiaomi invest in R&D from 2026 to 2030?", "number"),
        ("What percentage of the market does Nvidia hold?", "number"),
        ("What is Nvidia's market share in China now, according to Huang?", "number"),
        ("How large was the write-down Nvidia noted in April?", "number"),
        ("Who founded Huawei?", "person"),
        ("Whom did Lei Jun thank?", "person"),
        ("Who was the Norse leader?", "person"),
        ("Where is the chip testing workshop in the photo?", "place"),
        ("What is the capital of Australia?", "place"),
        ("The Rhine forms a border with which country?", "place"),
        ("Which direction did the Rhine flow during the last cold phase?", "direction"),
        (NEWSPAPER, "name"),
        ("Which consultancy does Jack Gold work for?", "name"),
        ("Which Huawei chip does Huang say competes with Nvidia's high-end offerings?", "name"),
        ("What is the name of iFlytek's deep reasoning model?", "name"),
        ("What is the highest point of the Rhine basin called?", "name"),
        ("Which of the chips did Xiaomi debut first?", "name"),
        ("In which game, covered by Polygon, can you smash stuff?", "name"),
        ("Does Huawei make its own PC operating system?", "yesno"),
        ("Is the XRing O1 a 3-nanometer chip?", "yesno"),
        ("Between the report on May 1 and the one on May 2, did the tone change?", "yesno"),
        ("According to Fortune, has the outlook improved?", "yesno"),
        ("Were the reports consistent or inconsistent?", "choice"),
        ("Was the injury reported before or after the match?", "choice"),
        ("When the Rhine emerges from Lake Constance which direction does it flow?", "direction"),
        # No slot to check: explanations, descriptions, open "what did ... say" questions.
        ("Why did Nvidia write down its inventory?", None),
        ("How did Huang describe Chinese chip firms?", None),
        ("Who is Jensen Huang?", None),
        ("What did Jensen Huang call the export controls?", None),
        ("What carries a significant amount of the Rhine flow through France?", None),
        ("What does the name Rhine come from?", None),
        ("Do both articles agree, or do they differ on the facts?", None),
        ("And in 2019?", None),
    ],
)
def test_expected(question: str, kind: str | None) -> None:
    assert expected(question) == kind


@pytest.mark.parametrize(
    ("answer", "kind", "question", "ok"),
    [
        # The dodge this module exists for, and the answers that fill the slot.
        ("Ren Zhengfei said in a newspaper interview that software is no problem [1].", "name",
         NEWSPAPER, False),
        ("In a newspaper interview [2].", "name", NEWSPAPER, False),
        ("Newspapers reported it [1].", "name", NEWSPAPER, False),
        ("the Financial Times", "name", NEWSPAPER, True),
        ("Ren Zhengfei was interviewed by People's Daily [1].", "name", NEWSPAPER, True),
        ("Several newspapers carried the interview.", "name", NEWSPAPER, False),
        ("Based on the passages, Ren spoke to a newspaper [1].", "name", NEWSPAPER, False),
        ("Based on the passages, Ren spoke to Reuters [1].", "name", NEWSPAPER, True),
        ("Lake Überlingen [1].", "place", "What lake does the flow enter?", True),
        ("Huang [1].", "person", "Who did Jensen Huang praise?", False),
        ("Lei Jun [1].", "person", "Who runs Xiaomi?", True),
        ("three", "number", "How many chips did Xiaomi launch?", True),
        ("a dozen small chips [1]", "number", "How many chips did Xiaomi launch?", True),
        ("2,500 engineers", "number", "How large is the team?", True),
        ("Xiaomi launched several chips [1].", "number", "How many chips did Xiaomi make?", False),
        ("It plunged from 95 percent.", "number", "How far did it fall from 95 percent?", False),
        ("late May", "date", "When did Huang call the export controls a failure?", True),
        ("At a tech forum [1].", "date", "When did Huang call the export controls a failure?",
         False),
        ("in the 10th and 11th centuries", "date", "When were the Normans in Normandy?", True),
        ("two years later", "date", "When did the project start?", True),
        ("~11,600 BP", "date", "When did the last glacial end?", True),
        ("In 2014 [1].", "year", "In what year did Xiaomi start its first chip project?", True),
        ("In 2014 [1].", "year", "What year after 2014 did Xiaomi restart?", False),
        ("In the spring [1].", "year", "What year did Xiaomi start?", False),
        ("the 1990s", "year", "What decade?", True),
        ("1,230 kilometres (764 miles) [1].", "date", "When was the length corrected?", False),
        ("In the 19th Century [1].", "place", "What region was changed?", False),
        ("It was in May [1].", "name", NEWSPAPER, False),
        ("north", "direction", "Which direction does the Rhine turn?", True),
        ("It turns near Chur [1].", "direction", "Which direction does the Rhine turn?", False),
        ("It flows parallel to the canalized Rhine.", "place", "Where does it flow now?", True),
        ("Yes, it does [1].", "yesno", "Does Huawei make chips?", True),
        ("It doesn't.", "yesno", "Does Huawei make chips?", True),
        ("Huawei makes the Ascend 910C [1].", "yesno", "Does Huawei make chips?", False),
        ("Inconsistent.", "choice", "Were the reports consistent or inconsistent?", True),
        ("The reports differ.", "choice", "Were the reports consistent or inconsistent?", False),
        ("Anything at all.", None, "Why?", True),
    ],
)
def test_satisfies(answer: str, kind: str | None, question: str, ok: bool) -> None:
    assert satisfies(answer, kind, question) is ok


def test_citation_markers_are_not_numbers() -> None:
    assert satisfies("Xiaomi launched chips [1][2].", "number", "How many chips?") is False


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown answer kind 'colour'"):
        satisfies("red", "colour")


@pytest.mark.parametrize(
    ("question", "answer", "kind"),
    [
        (NEWSPAPER, "Ren said in a newspaper interview that chips matter [1].", "name"),
        (NEWSPAPER, "People's Daily [1].", None),
        (NEWSPAPER, SENTINEL, None),  # a refusal answers every slot
        (NEWSPAPER, "The passages do not mention the newspaper.", None),
        ("How many chips did Xiaomi launch?", "Xiaomi launched chips [1].", "number"),
        ("Why did Nvidia write down its inventory?", "Because of new rules [1].", None),
    ],
)
def test_dodged(question: str, answer: str, kind: str | None) -> None:
    assert dodged(question, answer) == kind


def test_every_kind_has_a_wording() -> None:
    assert set(WANTED) == set(KINDS)
