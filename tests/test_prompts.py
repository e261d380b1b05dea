"""Prompt files: each loads, and declares exactly the variables the chain really supplies."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda

import prompts
from assistant.rag import chain as chain_module
from assistant.rag.chain import RagChain, format_passages
from assistant.rag.decision import Calibration
from assistant.rag.grounding import SENTINEL
from assistant.rag.retrieval import Source
from prompts import PromptError, load_prompt, prompt_names


class FixedRetriever(BaseRetriever):
    """Always returns the same passages, each relevant enough to be used."""

    docs: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self.docs


class CalibratingFake(GenericFakeChatModel):
    """A fake the chain treats as reporting token probabilities, so every step runs."""

    reports_logprobs: bool = True


def supplied_inputs(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Run the real chain (a follow-up, so every step runs) and record what it feeds each prompt."""
    supplied: dict[str, set[str]] = {}
    real_load = chain_module.load_prompt

    def recording_load(name: str):
        def record(inputs: dict[str, Any]) -> dict[str, Any]:
            supplied[name] = set(inputs)
            return inputs

        return RunnableLambda(record) | real_load(name)

    monkeypatch.setattr(chain_module, "load_prompt", recording_load)
    llm = CalibratingFake(messages=iter(["Who founded Huawei?", "Ren Zhengfei [1].", "yes"]))
    passage = Document(page_content="Ren Zhengfei founded Huawei.", metadata={"score": 0.9})
    # a calibration the sentence check can still tip either way, so that it is asked
    calibration = Calibration({"sentence_yes": 4.0}, bias=-2.0, threshold=0.5,
                              ranges={"sentence_yes": (0.0, 1.0)})
    rag = RagChain(llm, FixedRetriever(docs=[passage]), min_relevance=0.2,
                   calibration=calibration)
    events = list(rag.run("Who founded it?", [("Tell me about Huawei.", "Huawei makes PCs [1].")]))
    assert not events[-1].refused  # the run went through every step
    return supplied


@pytest.fixture
def fresh_prompt_cache() -> Iterator[None]:
    load_prompt.cache_clear()
    yield
    load_prompt.cache_clear()


def test_prompt_files_are_found() -> None:
    assert prompt_names() == ["answer", "condense", "sentence_check"]


@pytest.mark.parametrize("name", prompt_names())
def test_prompt_loads_with_a_system_and_a_human_message(name: str) -> None:
    template = load_prompt(name)
    assert [m.__class__.__name__ for m in template.messages] == [
        "SystemMessagePromptTemplate",
        "HumanMessagePromptTemplate",
    ]


def test_every_prompt_declares_exactly_what_the_chain_supplies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    supplied = supplied_inputs(monkeypatch)
    assert set(supplied) == set(prompt_names())  # every prompt file is used by the chain
    for name in prompt_names():
        spec = yaml.safe_load(files("prompts").joinpath(f"{name}.yaml").read_text())
        assert set(spec["inputs"]) == supplied[name], name
        assert set(load_prompt(name).input_variables) == supplied[name], name
    # what the files document, as derived from the running chain
    assert supplied == {"answer": {"context", "question"}, "condense": {"history", "question"},
                        "sentence_check": {"sentence", "question"}}


def test_the_sentence_check_shares_the_answer_prompts_system_message() -> None:
    check = load_prompt("sentence_check").format_messages(sentence="S.", question="Q?")
    answer = load_prompt("answer").format_messages(context="[1] S.", question="Q?")
    assert check[0].content == answer[0].content  # llama.cpp reuses the cached prefix
    assert "Sentence: S." in check[1].content


def test_answer_prompt_asks_for_the_sentinel_the_chain_detects() -> None:
    messages = load_prompt("answer").format_messages(context="[1] text", question="q?")
    assert f"reply with exactly: {SENTINEL}" in messages[0].content


def test_rendering_without_a_variable_fails() -> None:
    with pytest.raises(KeyError):
        load_prompt("answer").invoke({"question": "Who?"})


# -- broken prompt files (loaded from a temporary folder) ------------------------------------------


@pytest.fixture
def prompt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_prompt_cache) -> Path:
    """Make `prompts.load_prompt` read its files from a temporary folder."""
    monkeypatch.setattr(prompts, "files", lambda package: tmp_path)
    return tmp_path


def write_prompt(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.yaml").write_text(text)


def test_temporary_prompt_folder_works(prompt_dir: Path) -> None:
    write_prompt(prompt_dir, "greet", "inputs: [name]\nsystem: Be kind.\nuser: Hello {name}\n")
    assert prompt_names() == ["greet"]
    assert load_prompt("greet").input_variables == ["name"]


def test_undeclared_variable_is_a_prompt_error(prompt_dir: Path) -> None:
    write_prompt(
        prompt_dir,
        "answer",
        "inputs: [question]\nsystem: Use the passages.\nuser: |\n  {context}\n  Q: {question}\n",
    )
    with pytest.raises(PromptError) as err:
        load_prompt("answer")
    assert str(err.value) == (
        "prompts/answer.yaml declares inputs ['question'] but uses ['context', 'question']"
    )


def test_unused_declared_variable_is_a_prompt_error(prompt_dir: Path) -> None:
    write_prompt(prompt_dir, "condense",
                 "inputs: [history, question]\nsystem: Rewrite.\nuser: '{question}'\n")
    with pytest.raises(PromptError, match=r"declares inputs \['history', 'question'\] but uses "
                                          r"\['question'\]"):
        load_prompt("condense")


def test_variable_in_the_system_message_counts(prompt_dir: Path) -> None:
    write_prompt(
        prompt_dir, "p", "inputs: [question]\nsystem: 'Today: {date}'\nuser: '{question}'\n"
    )
    with pytest.raises(PromptError, match=r"uses \['date', 'question'\]"):
        load_prompt("p")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inputs: [q]\nuser: '{q}'\n", "prompts/p.yaml lacks system"),
        ("system: s\n", "prompts/p.yaml lacks inputs, user"),
        ("", "prompts/p.yaml lacks inputs, system, user"),
    ],
)
def test_incomplete_prompt_file_is_a_prompt_error(
    prompt_dir: Path, text: str, message: str
) -> None:
    write_prompt(prompt_dir, "p", text)
    with pytest.raises(PromptError) as err:
        load_prompt("p")
    assert str(err.value) == message


def test_system_from_reuses_another_files_system_message(prompt_dir: Path) -> None:
    write_prompt(prompt_dir, "base", "inputs: [q]\nsystem: Be brief.\nuser: '{q}'\n")
    write_prompt(prompt_dir, "more", "inputs: [s]\nsystem_from: base\nuser: 'Is {s} so?'\n")
    system, human = load_prompt("more").format_messages(s="it")
    assert (system.content, human.content) == ("Be brief.", "Is it so?")
    write_prompt(prompt_dir, "gone", "inputs: [s]\nsystem_from: nope\nuser: '{s}'\n")
    with pytest.raises(PromptError, match=r"^No prompt file prompts/nope.yaml$"):
        load_prompt("gone")


def test_missing_prompt_file_is_a_prompt_error(prompt_dir: Path) -> None:
    with pytest.raises(PromptError, match=r"^No prompt file prompts/nope.yaml$"):
        load_prompt("nope")


def test_malformed_yaml_is_a_prompt_error(prompt_dir: Path) -> None:
    write_prompt(prompt_dir, "p", "inputs: [q\nsystem: s\nuser: '{q}'\n")
    with pytest.raises(PromptError):
        load_prompt("p")


def test_answer_prompt_reads_delimited_passages_before_the_question() -> None:
    context = format_passages([Source(source="a.md", text="Alpha.\nBeta.", score=0.9)])
    system, human = load_prompt("answer").format_messages(context=context, question="q?")
    assert "\n[1] Alpha. Beta.\n" in human.content  # one line per passage
    assert human.content.index("[1] ") < human.content.index("Question: q?")  # cached prefix
    assert "one line quoted from the user's files" in system.content
