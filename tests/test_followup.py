"""Follow-up resolution: pure functions, a fake rewrite function standing in for the model."""

from __future__ import annotations

import pytest

from assistant.rag.followup import (
    clean_rewrite,
    depends_on_history,
    entities,
    format_history,
    is_person,
    mentions,
    resolve,
    rewrite_problem,
    rewrite_without_model,
    subject,
    topic,
)

HUANG = [("What did Jensen Huang call the export controls?",
          'Jensen Huang called the export controls "a failure" [1].')]
REN = [("Who founded Huawei?", "Ren Zhengfei founded Huawei [1].")]
XRING = [("What chip did Xiaomi unveil in May?",
          "Xiaomi unveiled its 3-nanometer XRing O1 chip [1].")]
SURGE = [("What did Xiaomi launch in 2014?",
          "In 2014 Xiaomi launched its first semiconductor project, code-named Surge [1].")]
LEI = [("Who runs Xiaomi?", "Lei Jun, chairman and CEO of Xiaomi [1].")]
MPMATH = [("What is mpmath?", "A Python library for arbitrary-precision arithmetic [1].")]


class FakeRewrite:
    """Replies with a fixed text and records what it was asked."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[tuple[str, str]] = []

    def __call__(self, history: str, question: str) -> str:
        self.calls.append((history, question))
        return self.reply


# -- names ----------------------------------------------------------------------------------------
def test_entities_are_capitalised_runs_without_question_words_or_possessives() -> None:
    text = ("What did King Charles III of West Francia give Rollo; Nvidia's Grace Blackwell, "
            "iFlytek and the XRing O1 in May [2]?")
    assert entities(text) == ["King Charles III of West Francia", "Rollo", "Nvidia",
                              "Grace Blackwell", "iFlytek", "XRing O1"]


def test_acronyms_of_two_letters_and_r_and_d_are_not_subjects() -> None:
    assert entities("How much do US firms spend on AI and R&D?") == []


@pytest.mark.parametrize(("name", "person"), [
    ("Jensen Huang", True), ("Duke William II of Normandy", True), ("Rollo", False),
    ("J.Gold Associates", False), ("Executive Director", False), ("Xiaomi", False),
])
def test_is_person(name: str, person: bool) -> None:
    assert is_person(name) is person


def test_a_surname_mentions_the_full_name() -> None:
    assert mentions("What did Huang say?", "Jensen Huang")
    assert not mentions("What did Nvidia say?", "Jensen Huang")
    assert mentions("Nvidia's market share", "Nvidia")


@pytest.mark.parametrize(("question", "expected"), [
    ("What is mpmath?", "mpmath"),
    ("Who is Lei Jun?", "Lei Jun"),
    ("What was the Duchy of Normandy?", "Duchy of Normandy"),
    ("What does dateutil compute for Easter?", "dateutil"),
    ("Who wrote the dateutil module?", "dateutil"),
    ("What is the longest river in Germany?", None),  # the answer names it
])
def test_topic(question: str, expected: str | None) -> None:
    assert topic(question) == expected


# -- which follow-ups need the history -----------------------------------------------------------
@pytest.mark.parametrize(("question", "depends"), [
    ("And what did he say about Huawei?", True),  # pronoun
    ("How much will his company invest?", True),  # possessive
    ("When did the company launch its first project?", True),  # "the company"
    ("And in 2017?", True),  # ellipsis
    ("What about the Moselle?", True),
    ("And how many ships?", True),  # short, names nothing
    ("In what year?", True),
    ("Which river joins the Rhine there?", True),  # "there", the Rhine already said
    ("Who founded Huawei?", False),  # a topic switch names its own subject
    ("How large is Xiaomi's semiconductor R&D team?", False),
    ("Where does Ren Zhengfei say he sees the real challenge?", False),  # named first
])
def test_depends_on_history(question: str, depends: bool) -> None:
    history = [("Where does the Rhine begin?", "In the Swiss Alps [1].")]
    assert depends_on_history(question, history) is depends


# -- what a reference points at ------------------------------------------------------------------
def test_subject_of_a_who_question_is_the_name_in_its_answer() -> None:
    assert subject(REN, "person") == "Ren Zhengfei"
    assert subject([("Who was the leader of the Norse raiders?", "Rollo [1].")],
                   "person") == "Rollo"


def test_it_after_what_chip_is_the_chip_but_the_company_is_the_company() -> None:
    assert subject(XRING, "thing") == "XRing O1"
    assert subject(XRING, "definite", "company") == "Xiaomi"


def test_they_after_who_runs_is_the_company_not_the_person() -> None:
    assert subject(LEI, "plural") == "Xiaomi"


# -- deterministic rewrites ----------------------------------------------------------------------
@pytest.mark.parametrize(("question", "history", "expected"), [
    ("And what did he say about Huawei?", HUANG,
     "And what did Jensen Huang say about Huawei?"),
    ("What did he say about software?", REN, "What did Ren Zhengfei say about software?"),
    ("How much will his company invest in R&D?", LEI,
     "How much will Lei Jun's company invest in R&D?"),
    ("How many years of R&D went into it?", XRING, "How many years of R&D went into XRing O1?"),
    ("When did the company launch its first semiconductor project?", XRING,
     "When did Xiaomi launch its first semiconductor project?"),
    ("What did they secretly greenlight in 2021?", LEI,
     "What did Xiaomi secretly greenlight in 2021?"),
    ("Which Python versions does it require?", MPMATH,
     "Which Python versions does mpmath require?"),
])
def test_pronouns_are_replaced_by_their_subject(question, history, expected) -> None:
    assert rewrite_without_model(question, history) == expected


@pytest.mark.parametrize(("question", "history", "expected"), [
    ("And in 2017?", SURGE, "What did Xiaomi launch in 2017?"),
    ("What about the Moselle?", [("What is the average discharge of the Rhine?", "2,900 m3/s")],
     "What is the average discharge of the Moselle?"),
    ("And how many ships?", [("How many men did Robert Guiscard lead in 1081?", "30,000 [1].")],
     "How many ships did Robert Guiscard lead in 1081?"),
    ("In what year?", [("Where did the Normans invade Ireland?", "At Bannow Bay [1].")],
     "In what year did the Normans invade Ireland?"),
])
def test_ellipsis_fills_the_previous_question(question, history, expected) -> None:
    assert rewrite_without_model(question, history) == expected


def test_earlier_follow_ups_are_resolved_before_the_last_one() -> None:
    history = SURGE + [("And in 2017?", "Xiaomi debuted its Surge S1 chip in 2017 [1].")]
    assert rewrite_without_model("And in 2021?", history) == "What did Xiaomi launch in 2021?"
    three = REN + [("Which newspaper interviewed him?", "People's Daily [1].")]
    assert rewrite_without_model("Where did he say the real challenge lies?", three) == (
        "Where did Ren Zhengfei say the real challenge lies?")


# -- the model's rewrite, checked ----------------------------------------------------------------
def test_a_good_model_rewrite_is_used() -> None:
    model = FakeRewrite("What did Huang say about Huawei?")
    assert resolve("And what did he say about Huawei?", HUANG, model) == (
        "What did Huang say about Huawei?")
    assert model.calls == [(format_history(HUANG), "And what did he say about Huawei?")]


@pytest.mark.parametrize(("reply", "problem"), [
    ("What did Nvidia say about Huawei?", "names another subject than Jensen Huang"),
    ("What did the CEO say about Huawei?", "names another subject than Jensen Huang"),
    ("Huang said Huawei competes with Nvidia.", "not a question"),
    ("Who did Jensen Huang talk to about Huawei?", "drops 'what'"),
])
def test_a_bad_model_rewrite_falls_back_to_the_deterministic_one(reply, problem) -> None:
    question = "And what did he say about Huawei?"
    assert rewrite_problem(reply, question, HUANG) == problem
    assert resolve(question, HUANG, FakeRewrite(reply)) == (
        "And what did Jensen Huang say about Huawei?")


def test_a_rewrite_that_changes_what_is_asked_for_is_refused() -> None:
    assert rewrite_problem("Who interviewed Ren Zhengfei?", "Which newspaper interviewed him?",
                           REN) == "drops 'which'"
    assert rewrite_problem("Which paper interviewed Ren Zhengfei?",
                           "Which newspaper interviewed him?", REN) == "drops 'newspaper'"


def test_a_rewrite_that_invents_a_name_is_refused() -> None:
    history = [("Who is Jensen Huang?", "The CEO of Nvidia [1].")]
    assert rewrite_problem("What did Jensen Huang say to Tim Cook?", "What did he say?",
                           history) == "invents Tim Cook"
    # names from the model's own knowledge count as invented too
    assert rewrite_problem("What did Huang say about Huawei's Ascend chips?",
                           "And what did he say about Huawei?", HUANG) == "invents Ascend"


def test_a_topic_switch_is_used_as_asked_without_calling_the_model() -> None:
    model = FakeRewrite("How large is Jensen Huang's team?")
    question = "How large is Xiaomi's semiconductor R&D team?"
    assert resolve(question, HUANG, model) == question
    assert model.calls == []


def test_without_history_the_question_is_used_as_asked() -> None:
    model = FakeRewrite("anything")
    assert resolve("What did he say?", [], model) == "What did he say?"
    assert model.calls == []


def test_without_a_model_the_deterministic_rewrite_is_used() -> None:
    assert resolve("What did he say about software?", REN) == (
        "What did Ren Zhengfei say about software?")


def test_without_names_in_the_history_the_model_is_trusted() -> None:
    assert resolve("And they?", [("q", "a")], FakeRewrite("How much will Xiaomi invest?")) == (
        "How much will Xiaomi invest?")


@pytest.mark.parametrize(("reply", "expected"), [
    ("Standalone question: \"How much will Xiaomi invest?\"", "How much will Xiaomi invest?"),
    ("How much will Xiaomi invest?\nIt refers to Xiaomi.", "How much will Xiaomi invest?"),
    ("", ""),
    ("Xiaomi " * 200, ""),  # rambling instead of rewriting
])
def test_clean_rewrite(reply: str, expected: str) -> None:
    assert clean_rewrite(reply, "How much will they invest?") == expected
