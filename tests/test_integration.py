"""Real MiniLM embeddings, real embedded Chroma, and (parametrized) the real SmolLM2 model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from ingest.errors import EmbeddingMismatchError

pytestmark = pytest.mark.integration

HUANG = "What did Jensen Huang call the export controls?"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, minilm) -> Path:
    data_dir = tmp_path_factory.mktemp("kb")
    report = Assistant(Settings(data_dir=data_dir, llm="fake"), embeddings=minilm).ingest(
        [Path(__file__).resolve().parent.parent / "data" / "sample"]
    )
    assert report.added and not report.failed and report.chunks > 5
    return data_dir


def unmarked(text: str) -> str:
    return " ".join(re.sub(r"\[\d+\]", " ", text).split())


def make(kb: Path, minilm, llm: str = "fake") -> Assistant:
    return Assistant(Settings(data_dir=kb, llm=llm), embeddings=minilm)


def test_dense_retrieval_finds_the_passage(kb: Path, minilm) -> None:
    dense = Assistant(Settings(data_dir=kb, llm="fake", retrieval="dense"), embeddings=minilm)
    sources = dense.retrieve(HUANG, k=3)  # by cosine alone, so scores fall with rank
    assert len(sources) == 3
    assert "a failure" in sources[0].text
    assert sources[0].score >= sources[1].score >= sources[2].score
    assert sources[0].source.endswith("us-chip-export-controls.txt")
    assert isinstance(sources[0].metadata["start_index"], int)


def test_reingest_is_idempotent(kb: Path, minilm) -> None:
    assistant = make(kb, minilm)
    before = assistant.store.count()
    report = assistant.ingest([Path(__file__).resolve().parent.parent / "data" / "sample"])
    assert report.unchanged and not report.added and report.chunks == 0
    assert assistant.store.count() == before


def test_other_embedding_model_is_refused(kb: Path) -> None:
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2"):
        Assistant(Settings(data_dir=kb, llm="fake", embedding="fake")).documents()


@pytest.mark.parametrize("llm", ["fake", "llamacpp:smollm2-135m"])
def test_answers_cite_real_sources(kb: Path, minilm, llm: str) -> None:
    assistant = make(kb, minilm, llm)
    stream = assistant.stream(HUANG)
    pieces = list(stream)
    answer = stream.answer
    assert answer is not None and answer.sources
    assert "".join(pieces).strip()
    if not answer.refused:  # a 135M model may well refuse; when it answers, citations are valid
        assert answer.citations
        assert all(1 <= n <= len(answer.sources) for n in answer.citations)
        # the final text is the streamed draft with its markers renumbered for the reader
        assert unmarked("".join(pieces)) == unmarked(answer.text)


@pytest.mark.parametrize("llm", ["fake", "llamacpp:smollm2-135m"])
def test_off_topic_question_is_refused(kb: Path, minilm, llm: str) -> None:
    answer = make(kb, minilm, llm).ask("What is the best recipe for banana bread?")
    assert answer.refused
    assert answer.reason == "no-passages"


def test_follow_up_is_condensed_with_a_real_model(kb: Path, minilm) -> None:
    history = [(HUANG, 'He called them "a failure" [1].')]
    answer = make(kb, minilm, "llamacpp:smollm2-135m").ask("What else did he say?", history)
    assert answer.question  # the model rewrote it (or it fell back to the question itself)
    assert answer.sources or answer.refused


def test_warm_up_loads_the_small_model_and_answers_one_token(kb: Path, minilm) -> None:
    assistant = make(kb, minilm, "llamacpp:smollm2-135m")
    assistant.warm_up()
    reply = assistant.llm.invoke("Count from one to ten.", max_tokens=1)
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 1
