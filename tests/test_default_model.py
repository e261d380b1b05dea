"""End to end with the default model (Qwen2.5-Coder-1.5B via llama.cpp) on the sample article."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    a = Assistant(Settings(data_dir=tmp_path_factory.mktemp("kb")))  # the defaults, unchanged
    assert a.ingest_sample_if_empty() is not None
    return a


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Jensen Huang call the export controls?", ["failure"]),
        ("How much will Xiaomi invest in R&D from 2026 to 2030?", ["200 billion"]),
        ("What is Nvidia's market share in China now?", ["50 percent"]),
    ],
)
def test_answers_facts_with_citations(assistant: Assistant, question: str, expected: list[str]):
    answer = assistant.ask(question)
    assert not answer.refused, answer.text
    assert all(e in answer.text for e in expected), answer.text
    assert answer.citations and all(1 <= n <= len(answer.sources) for n in answer.citations)
    assert any(e in " ".join(s.text for s in answer.cited_sources) for e in expected)
    assert answer.sources[0].source.endswith("us-chip-export-controls.txt")


@pytest.mark.parametrize(
    "question",
    ["What is the capital of Australia?", "What is the name of TSMC's CEO?"],
)
def test_refuses_what_the_article_does_not_say(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.refused, answer.text


def test_follow_up_uses_the_history(assistant: Assistant) -> None:
    history = [
        ("What did Jensen Huang call the export controls?",
         'Jensen Huang called the export controls "a failure" [1].'),
    ]
    answer = assistant.ask("What did he say about Nvidia's market share in China?", history)
    assert not answer.refused, answer.text
    assert "50" in answer.text
