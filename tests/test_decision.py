"""The calibrated answer-or-refuse decision: its signals from token probabilities, the fitted
score and its bound, and the chain's three outcomes with a fake model that reports logprobs."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

from assistant.rag.chain import MODEL_REFUSED, UNSUPPORTED, UNSURE, RagChain
from assistant.rag.decision import (
    Calibration,
    answer_sentence,
    first_top_logprobs,
    load_calibration,
    sentinel_mass,
    yes_share,
)


def top(**probs: float) -> list[dict[str, Any]]:
    return [{"token": t.replace("_", " "), "logprob": math.log(p)} for t, p in probs.items()]


def test_sentinel_mass_counts_the_sentinels_first_word_in_any_case_but_not_no() -> None:
    assert sentinel_mass(top(NOT=0.5, _Not=0.1, No=0.2, The=0.2), "NOT IN DOCUMENTS") == (
        pytest.approx(0.6))


def test_yes_share_is_yes_over_yes_and_no_and_even_when_neither() -> None:
    assert yes_share(top(Yes=0.3, yes=0.1, NO=0.1, The=0.5)) == pytest.approx(0.8)
    assert yes_share(top(The=1.0)) == 0.5


def test_first_top_logprobs_reads_openai_shaped_metadata() -> None:
    first = {"token": "A", "logprob": -0.1, "top_logprobs": top(A=0.9)}
    assert first_top_logprobs({"logprobs": {"content": [first]}}) == first["top_logprobs"]
    assert first_top_logprobs({}) is None


def test_score_is_logistic_and_best_case_takes_unknown_signals_at_their_best() -> None:
    model = Calibration({"p_refuse": -4.0, "verify_yes": 2.0}, bias=1.0, threshold=0.5,
                        ranges={"verify_yes": (0.2, 0.9)})
    assert model.score({"p_refuse": 0.5, "verify_yes": 0.5}) == pytest.approx(
        1 / (1 + math.exp(-(1.0 - 2.0 + 1.0))))
    assert model.best_case({"p_refuse": 0.5}) == pytest.approx(model.score(
        {"p_refuse": 0.5, "verify_yes": 0.9}))


def test_undecided_when_the_unknown_signal_can_still_move_the_score_across() -> None:
    model = Calibration({"best_score": 10.0, "sentence_yes": 4.0}, bias=-7.0, threshold=0.5,
                        ranges={"sentence_yes": (0.0, 1.0)})
    assert model.worst_case({"best_score": 0.5}) == pytest.approx(model.score(
        {"best_score": 0.5, "sentence_yes": 0.0}))
    assert model.undecided({"best_score": 0.5}, 0.5)  # -2 .. +2 around 0
    assert not model.undecided({"best_score": 0.2}, 0.5)  # at best -1: refused whatever it says
    assert not model.undecided({"best_score": 0.8}, 0.5)  # at worst +1: answered anyway


def test_the_answer_sentence_is_the_one_holding_the_drafts_own_words() -> None:
    passages = ["The Normans fought in Italy. Vikings settled in Normandy, a region in France.",
                "The Normans were Norse."]
    # "Normans" and "settle" are the question's words; "Normandy" is what the draft adds
    assert answer_sentence("The Normans settled in Normandy [1].", "Where did the Normans settle?",
                           passages) == "Vikings settled in Normandy, a region in France."


def test_the_answer_sentence_counts_the_drafts_numbers() -> None:
    passages = ["The Normans invaded England in 1066.",
                "Norman names are common in the southeast of Ireland.",
                "The Normans reached Ireland in 1169 at Bannow Bay."]
    # every word of the draft but the year is the question's: the year tells the sentence
    assert answer_sentence("The Normans invaded Ireland in 1169 [3].",
                           "In what year did the Normans invade Ireland?",
                           passages) == passages[2]


def test_the_answer_sentence_follows_the_drafts_first_sentence() -> None:
    passages = ["The real challenge lies in our education system.",
                "In the future, China will have thousands of operating systems in industry."]
    draft = ("The real challenge lies in education [1]. In the future, China will have "
             "thousands of operating systems in industry and farming [2].")
    # the second sentence of the draft shares more words with a passage; the first answers
    assert answer_sentence(draft, "Where does the real challenge lie?", passages) == passages[0]


def test_the_answer_sentence_does_not_depend_on_the_passages_order() -> None:
    # the chain sees passages in packing order, the calibration rows in citation order
    passages = ["Lei Jun spoke in Beijing on Friday.", "Xiaomi's founder Lei Jun spoke on Friday.",
                "Lei Jun said so."]
    question, draft = "Who is Xiaomi's founder?", "Lei Jun [2]."
    picks = {answer_sentence(draft, question, list(order))
             for order in (passages, passages[::-1], passages[1:] + passages[:1])}
    # all three hold "Lei Jun"; the second also the question's "Xiaomi" and "founder"
    assert picks == {"Xiaomi's founder Lei Jun spoke on Friday."}
    assert answer_sentence(draft, question, []) == ""


def test_the_shipped_calibration_loads_and_round_trips(tmp_path: Any) -> None:
    model = load_calibration()
    assert 0.0 < model.threshold < 1.0 and model.weights
    path = tmp_path / "c.json"
    path.write_text(model.to_json())
    assert load_calibration(path) == model


class ProbChat(BaseChatModel):
    """Streams a refusal or an answer with OpenAI-shaped logprobs: the first token is the
    sentinel with probability `p_refuse`; banning the sentinel (`logit_bias`) makes it answer.
    A one-token call (the self-check) answers yes with probability `p_yes`."""

    p_refuse: float
    p_yes: float = 0.9
    answer: str = "Xiaomi will invest 200 billion yuan [1]."
    calls: list[dict[str, Any]] = Field(default_factory=list)
    reports_logprobs: bool = True

    @property
    def _llm_type(self) -> str:
        return "prob-fake"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        self.calls.append({"kind": "check", **kwargs})
        logprobs = {"content": [{"token": "Yes", "logprob": math.log(self.p_yes),
                                 "top_logprobs": top(Yes=self.p_yes, No=1 - self.p_yes)}]}
        message = AIMessage(content="Yes", response_metadata={"logprobs": logprobs})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        banned = "logit_bias" in kwargs
        self.calls.append({"kind": "forced" if banned else "draft", **kwargs})
        refuse = self.p_refuse >= 0.5 and not banned
        first = {"NOT": self.p_refuse, "Xiaomi": 1 - self.p_refuse}
        pieces = ["NOT", " IN DOCUMENTS"] if refuse else self.answer.split(" ")
        for n, piece in enumerate(pieces):
            text = piece if refuse or n == 0 else " " + piece
            entry = {"token": text, "logprob": -0.1,
                     "top_logprobs": top(**first) if n == 0 else []}
            yield ChatGenerationChunk(message=AIMessageChunk(
                content=text, response_metadata={"logprobs": {"content": [entry]}}))


class OneDoc(BaseRetriever):
    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content="Xiaomi will invest 200 billion yuan in research.",
                         metadata={"source": "xiaomi.txt", "score": 0.6})]


MODEL = Calibration({"p_refuse": -6.0, "verify_yes": 4.0}, bias=0.0, threshold=0.5,
                    ranges={"p_refuse": (0.0, 1.0), "verify_yes": (0.0, 1.0)})


def ask(llm: ProbChat, threshold: float | None = None, model: Calibration = MODEL) -> Any:
    chain = RagChain(llm, OneDoc(), min_relevance=0.2, calibration=model, threshold=threshold)
    *pieces, answer = list(chain.run("How much will Xiaomi invest?"))
    return "".join(str(p) for p in pieces), answer


def test_a_confident_draft_is_answered_with_its_score_and_signals() -> None:
    llm = ProbChat(p_refuse=0.05, p_yes=0.9)
    streamed, answer = ask(llm)
    assert not answer.refused and answer.text == "Xiaomi will invest 200 billion yuan [1]."
    assert streamed == answer.text
    assert answer.signals["p_refuse"] == pytest.approx(0.05)
    assert answer.signals["verify_yes"] == pytest.approx(0.9)
    assert answer.signals["greedy_refused"] == 0.0
    assert answer.score == pytest.approx(MODEL.score(answer.signals))
    assert [c["kind"] for c in llm.calls] == ["draft", "check"]


def test_a_sure_refusal_costs_no_second_call() -> None:
    llm = ProbChat(p_refuse=0.99)  # best case: -5.94 + 4 < 0 -> below 0.5 whatever the check
    _, answer = ask(llm)
    assert answer.refused and answer.reason == "model-refused" and answer.text == MODEL_REFUSED
    assert [c["kind"] for c in llm.calls] == ["draft"]


def test_a_doubtful_refusal_is_drafted_anyway_and_answered_when_the_score_allows() -> None:
    llm = ProbChat(p_refuse=0.55, p_yes=0.95)  # -3.3 + 3.8 > 0
    streamed, answer = ask(llm)
    assert [c["kind"] for c in llm.calls] == ["draft", "forced", "check"]
    assert not answer.refused and answer.signals["greedy_refused"] == 1.0
    assert streamed == answer.text  # the held-back sentinel was never shown


def test_a_refusal_over_passages_less_similar_than_redraft_min_is_not_drafted_again() -> None:
    llm = ProbChat(p_refuse=0.55, p_yes=0.95)  # drafted again above (OneDoc's similarity 0.6)
    _, answer = ask(llm, model=replace(MODEL, redraft_min=0.7))
    assert [c["kind"] for c in llm.calls] == ["draft"]
    assert answer.refused and answer.reason == "model-refused"


def test_redraft_min_and_ranges_survive_the_calibration_file(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(replace(MODEL, redraft_min=0.4).to_json(), encoding="utf-8")
    assert load_calibration(path) == replace(MODEL, redraft_min=0.4)


def test_a_draft_under_the_threshold_is_withheld_but_kept_for_inspection() -> None:
    _, answer = ask(ProbChat(p_refuse=0.3, p_yes=0.2))  # -1.8 + 0.8 < 0
    assert answer.refused and answer.reason == "unsure" and answer.text == UNSURE
    assert answer.draft == "Xiaomi will invest 200 billion yuan [1]."
    _, lenient = ask(ProbChat(p_refuse=0.3, p_yes=0.2), threshold=0.2)
    assert not lenient.refused  # the threshold setting moves the operating point


def test_a_confident_draft_with_an_invented_number_is_withheld_as_unsupported() -> None:
    llm = ProbChat(p_refuse=0.05, answer="Xiaomi will invest 300 billion yuan [1].")
    _, answer = ask(llm)
    assert answer.refused and answer.reason == "unsupported"
    assert answer.text == UNSUPPORTED.format(facts="300")
    assert answer.score is not None and answer.score > MODEL.threshold  # the score alone passed


def sentence_model(bias: float) -> Calibration:
    return Calibration({"p_refuse": -6.0, "sentence_yes": 4.0}, bias=bias, threshold=0.5,
                       ranges={"p_refuse": (0.0, 1.0), "sentence_yes": (0.0, 1.0)})


def test_the_sentence_check_is_one_token_asked_only_when_it_can_tip_the_decision() -> None:
    llm = ProbChat(p_refuse=0.3, p_yes=0.8)  # -1.8 without it: -1.8 .. +2.2, undecided
    _, answer = ask(llm, model=sentence_model(0.0))
    assert [c["kind"] for c in llm.calls] == ["draft", "check"]
    assert llm.calls[1]["max_tokens"] == 1 and llm.calls[1]["top_logprobs"] == 10
    assert answer.signals["sentence_yes"] == pytest.approx(0.8) and not answer.refused
    assert answer.timings["total_s"] >= answer.timings["first_token_s"] + answer.timings[
        "sentence_check_s"]  # the answer's time counts the check it waited for
    _, doubted = ask(ProbChat(p_refuse=0.3, p_yes=0.2), model=sentence_model(0.0))
    assert doubted.refused and doubted.reason == "unsure"  # -1.8 + 0.8 < 0
    sure = ProbChat(p_refuse=0.05)  # +0.7 even if the check said no: not asked
    _, answer = ask(sure, model=sentence_model(1.0))
    assert [c["kind"] for c in sure.calls] == ["draft"] and "sentence_yes" not in answer.signals
    assert not answer.refused


def test_a_check_left_unasked_decides_by_the_bound_of_its_range_not_by_zero() -> None:
    narrow = replace(sentence_model(-0.5), ranges={"sentence_yes": (0.3, 0.9)})
    llm = ProbChat(p_refuse=0.05)  # -0.8 with P(yes) 0, but at least +0.4 within the range
    _, answer = ask(llm, model=narrow)
    assert [c["kind"] for c in llm.calls] == ["draft"] and not answer.refused
    assert answer.score == pytest.approx(narrow.worst_case(answer.signals))
    assert narrow.bound({"p_refuse": 0.9}, 0.5) == pytest.approx(  # refused: its best case
        narrow.best_case({"p_refuse": 0.9}))


def test_a_model_without_logprobs_keeps_the_rules() -> None:
    llm = ProbChat(p_refuse=0.05)
    llm.reports_logprobs = False
    chain = RagChain(llm, OneDoc(), min_relevance=0.2, calibration=MODEL)
    assert chain.calibration is None
