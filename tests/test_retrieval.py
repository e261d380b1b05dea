"""Retrieval: rank fusion, MMR, source filters (Python and CLI), the relevance gate and context
packing; fast with bag-of-words embeddings, plus integration tests with real MiniLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Assistant, NoMatchingSourceError, Settings, Source
from assistant.cli import main
from assistant.rag.packing import focus, pack, sentences, tokens
from assistant.rag.retrieval import Retriever, match_sources, mmr, rrf
from ingest import Store
from ingest.embeddings import HashingEmbeddings
from ingest.formats.tables import MARKDOWN, PAIRS, render

DOCS = {
    "reports/nvidia.txt": "Nvidia's market share in China has plunged to 50 percent now from "
    "95 percent, Jensen Huang said at a tech forum in late May.",
    "reports/xiaomi.md": "Lei Jun, chairman and CEO of Xiaomi, said the company will invest 200 "
    "billion yuan in research and development from 2026 to 2030.",
    "notes/huawei.txt": "Huawei unveiled personal computers powered by its own HarmonyOS "
    "operating system in May.",
}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def build(settings: Settings, corpus: Path, **overrides: Any) -> Assistant:
    assistant = Assistant(settings.model_copy(update=overrides))
    assistant.ingest([corpus])
    return assistant


def names(sources: list[Source]) -> list[str]:
    return [Path(s.source).name for s in sources]


# -- fusion and rerank ----------------------------------------------------------------------------


def test_rrf_rewards_agreement_and_weights() -> None:
    assert rrf([["a", "b", "c"], ["d", "b", "e"]], [1.0, 1.0], k=60)[:3] == ["b", "a", "d"]
    assert rrf([["a", "b"], ["b", "a"]], [1.0, 2.0], k=60) == ["b", "a"]
    assert rrf([["a"], []], [1.0, 1.0], k=60) == ["a"]


def test_mmr_skips_a_near_duplicate() -> None:
    query = np.array([1.0, 0.0, 0.0])
    rows = np.array([[0.9, 0.436, 0.0], [0.9, 0.436, 0.0], [0.8, 0.0, 0.6]])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    assert mmr(query, rows, 2, weight=1.0) == [0, 1]  # relevance only: the duplicate follows
    assert mmr(query, rows, 2, weight=0.5) == [0, 2]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_finds_the_passage_and_scores_by_cosine(settings, corpus, mode) -> None:
    assistant = build(settings, corpus, retrieval=mode)
    question = "How much will Xiaomi invest in research?"
    [top, *_] = assistant.retrieve(question, k=2)
    assert Path(top.source).name == "xiaomi.md"
    cosine = float(np.dot(HashingEmbeddings().embed_query(question),
                          HashingEmbeddings().embed_query(top.text)))
    assert top.score == pytest.approx(cosine, abs=1e-4)


@pytest.mark.parametrize("question", [
    "HarmonyOS chairman Xiaomi percent",
    "What did the chairman of the company say about HarmonyOS in 2026?",
])
def test_hybrid_is_the_rank_fusion_of_dense_and_lexical(settings, corpus, question) -> None:
    dense = names(build(settings, corpus, retrieval="dense").retrieve(question, k=3))
    lexical = names(build(settings, corpus, retrieval="lexical").retrieve(question, k=3))
    hybrid = names(build(settings, corpus).retrieve(question, k=3))
    assert dense != lexical  # the two disagree, so fusion has something to decide
    assert hybrid == rrf([dense, lexical], [1.0, 1.0], k=settings.rrf_k)


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_other_wordings_are_fused_but_scores_stay_the_querys(settings, corpus, mode) -> None:
    retriever = build(settings, corpus, retrieval=mode)._retriever(3)
    query, wording = "Tell me more about that.", "How much will Xiaomi invest in research?"
    found = retriever.search(query, k=3, also=[wording])
    alone = [names(retriever.search(q, k=3)) for q in (query, wording)]
    assert names(found) == rrf(alone, [1.0, 1.0], k=settings.rrf_k)[:3]
    assert "xiaomi.md" in names(found)
    if mode == "lexical":
        assert alone[0] == []  # no word of the query is in the documents
    for passage in found:  # the gate judges the query itself, not the other wording
        cosine = float(np.dot(HashingEmbeddings().embed_query(query),
                              HashingEmbeddings().embed_query(passage.text)))
        assert passage.score == pytest.approx(cosine, abs=1e-4)


def test_a_follow_up_is_also_retrieved_after_the_question_before_it(
    settings, corpus, monkeypatch
) -> None:
    assistant = build(settings, corpus, min_relevance=0.0)
    seen: list[tuple[str, tuple[str, ...]]] = []
    search = Retriever._get_relevant_documents  # what the chain's retriever.invoke runs

    def spy(self, query, *, also=(), **kwargs):
        seen.append((query, tuple(also)))
        return search(self, query, also=also, **kwargs)

    monkeypatch.setattr(Retriever, "_get_relevant_documents", spy)
    assistant.ask("Who is Lei Jun?")
    assistant.ask("How much will it invest?", history=[("Who is Lei Jun?", "Xiaomi's CEO.")])
    assert seen[0][1] == ()
    assert seen[1][1] == ("Who is Lei Jun? How much will it invest?",)


def test_mmr_rerank_returns_k_distinct_passages(settings, corpus) -> None:
    found = build(settings, corpus, rerank="mmr").retrieve("market share research", k=3)
    assert sorted(names(found)) == ["huawei.txt", "nvidia.txt", "xiaomi.md"]


# -- source filters -------------------------------------------------------------------------------


KNOWN = ["/d/reports/nvidia.txt", "/d/reports/xiaomi.md", "/d/notes/huawei.txt"]


@pytest.mark.parametrize(("patterns", "expected"), [
    (["*.md"], ["/d/reports/xiaomi.md"]),
    (["nvidia.txt"], ["/d/reports/nvidia.txt"]),
    (["/d/reports/*"], ["/d/reports/nvidia.txt", "/d/reports/xiaomi.md"]),
    (["*/notes/*", "xiaomi.*"], ["/d/notes/huawei.txt", "/d/reports/xiaomi.md"]),
    (["/d/notes/huawei.txt"], ["/d/notes/huawei.txt"]),
    (["/d/notes"], ["/d/notes/huawei.txt"]),  # a folder selects what is under it
])
def test_match_sources(patterns, expected) -> None:
    assert match_sources(patterns, KNOWN) == expected


def test_a_pattern_that_matches_nothing_is_an_error() -> None:
    with pytest.raises(NoMatchingSourceError, match="'\\*.pdf'") as info:
        match_sources(["*.md", "*.pdf"], KNOWN)
    assert "assistant sources" in info.value.fix


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_retrieve_and_ask_only_from_the_chosen_sources(settings, corpus, mode) -> None:
    assistant = build(settings, corpus, retrieval=mode, min_relevance=0.0)
    question = "How much will Xiaomi invest in research in May?"
    found = assistant.retrieve(question, k=3, sources=["*.txt"])
    assert found and "xiaomi.md" not in names(found)
    assert names(assistant.retrieve(question, k=3, sources=[str(corpus / "notes")])) == [
        "huawei.txt"]
    answer = assistant.ask(question, sources=["nvidia.txt"])
    assert names(answer.sources) == ["nvidia.txt"]


def test_filters_never_list_every_chunk_even_in_dense_mode(settings, corpus, monkeypatch) -> None:
    assistant = build(settings, corpus, retrieval="dense", min_relevance=0.0)

    def listing(self):
        raise AssertionError("a filtered question read every chunk's metadata")

    monkeypatch.setattr(Store, "documents", listing)
    answer = assistant.ask("How much will Xiaomi invest?", sources=["xiaomi.md"])
    assert names(answer.sources) == ["xiaomi.md"]


def test_relative_path_filter(settings, corpus, monkeypatch) -> None:
    assistant = build(settings, corpus)
    monkeypatch.chdir(corpus)
    assert names(assistant.retrieve("Xiaomi", k=3, sources=["reports/xiaomi.md"])) == [
        "xiaomi.md"]


def test_unknown_source_raises_before_answering(settings, corpus) -> None:
    assistant = build(settings, corpus)
    with pytest.raises(NoMatchingSourceError):
        assistant.stream("Who is Lei Jun?", sources=["missing.pdf"])
    with pytest.raises(NoMatchingSourceError):
        assistant.retrieve("Who is Lei Jun?", sources=["missing.pdf"])


def test_cli_ask_source(settings, corpus, capsys, monkeypatch) -> None:
    build(settings, corpus)
    monkeypatch.setenv("ASSISTANT_EMBEDDING", "fake")
    data = ["--data-dir", str(settings.data_dir), "--llm", "fake"]
    env_free = main([*data, "ask", "How much will Xiaomi invest?", "--source", "xiaomi.md"])
    out = capsys.readouterr().out
    assert env_free == 0 and "xiaomi.md" in out and "nvidia.txt" not in out

    assert main([*data, "ask", "Who is Lei Jun?", "--source", "*.pdf"]) == 1
    assert capsys.readouterr().err == (
        "Error: No ingested document matches the source filter '*.pdf'. Fix: list the documents "
        "with 'assistant sources' and use a file name, a path or a glob such as '*.pdf'.\n")


# -- relevance gate -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_gate_refuses_an_unrelated_question_in_every_mode(settings, corpus, mode) -> None:
    # "May" occurs in two passages, so BM25 ranks them, but their cosine stays low.
    assistant = build(settings, corpus, retrieval=mode, min_relevance=0.4)
    question = "Which poems did Shakespeare write in May?"
    assert assistant.retrieve(question, k=4)  # retrieval alone returns the closest passages
    answer = assistant.ask(question)
    assert answer.refused and answer.reason == "no-passages"


# -- context packing ------------------------------------------------------------------------------


def passage(text: str, score: float = 0.5) -> Source:
    return Source(source="doc.txt", text=text, score=score)


LONG = ("Xiaomi was founded in 2010 by Lei Jun. It sells phones in many countries. "
        "The company will invest 200 billion yuan in research. Its stores opened in Paris. "
        "Analysts expect growth.")


def test_pack_keeps_everything_within_budget() -> None:
    given = [passage("Short one."), passage("Short two.")]
    assert pack(given, "question", 100) == given
    assert pack(given, "question", 0) == given  # 0: no limit


def test_pack_keeps_the_best_passage_whole_and_the_relevant_sentences_of_others() -> None:
    best = passage("Lei Jun is the CEO of Xiaomi and founded it in 2010.", 0.8)
    unrelated = passage("Huawei unveiled computers. Stores opened in Berlin.", 0.3)
    packed = pack([best, passage(LONG), unrelated], "How much will Xiaomi invest in research?",
                  budget=tokens(best.text) + 25)
    assert packed[0] == best
    assert [p.text for p in packed[1:]] == [
        "The company will invest 200 billion yuan in research."]
    assert packed[1].metadata["packed"] is True
    assert sum(tokens(p.text) for p in packed) <= tokens(best.text) + 25


def test_pack_keeps_sentence_order_and_never_returns_nothing() -> None:
    first = passage(LONG)
    packed = pack([first], "research in Paris", budget=40)
    assert packed[0].text == ("The company will invest 200 billion yuan in research. "
                              "Its stores opened in Paris.")
    assert pack([passage("No overlap here at all. None.")], "Xiaomi", budget=1)[0].text.startswith(
        "No overlap")


FINALS = [["Year", "Winner", "Runner-up"], ["2022", "Argentina", "France"],
          ["2018", "France", "Croatia"], ["2014", "Germany", "Argentina"]]


def table_passage(style: str) -> Source:
    [page] = render(FINALS, 2000, title="Table 1: FIFA World Cup finals", style=style)
    return Source(source="finals.pdf", text=page.page_content, score=0.5,
                  metadata={**page.metadata, "table": 1})


@pytest.mark.parametrize("style", [PAIRS, MARKDOWN])
def test_a_table_passage_is_cut_to_the_rows_the_question_names(style) -> None:
    table = table_passage(style)
    kept = focus(table, "Who won the 2014 World Cup final?")
    lines = kept.text.split("\n")
    assert lines[0] == "Table 1: FIFA World Cup finals"
    assert [line for line in lines if "2022" in line or "2018" in line] == []
    assert "Germany" in lines[-1] and kept.metadata["rows_kept"] == 1
    assert len(focus(table, "When did France play in the final?").text.split("\n")) == \
        len(lines) + 1  # France is in two rows, both kept
    assert pack([table], "Who won the 2014 World Cup final?", 0) == [kept]  # also unlimited


@pytest.mark.parametrize("question", [
    "Who won the most World Cup finals?",  # no row named: every row may count
    "Which winner and runner-up are listed?",  # header words are in every row: not a name
])
def test_a_table_passage_stays_whole_when_no_row_is_named(question) -> None:
    table = table_passage(PAIRS)
    assert focus(table, question) == table
    assert focus(passage(LONG), "Xiaomi in 2010") == passage(LONG)  # not a table


def test_sentences_split_on_sentence_ends_only() -> None:
    assert sentences("He paid $5.5 billion. Then U.S. firms left! Why? 2026 came.") == [
        "He paid $5.5 billion.", "Then U.S. firms left!", "Why?", "2026 came."]


def test_chain_reads_the_packed_passages(settings, corpus) -> None:
    assistant = build(settings, corpus, context_tokens=40, min_relevance=0.0)
    answer = assistant.ask("How much will Xiaomi invest in research?")
    assert sum(tokens(s.text) for s in answer.sources) <= 40
    assert len(answer.sources) < 3  # the other passages did not fit
    assert names(answer.cited_sources) == ["xiaomi.md"]


# -- real MiniLM ---------------------------------------------------------------------------------


@pytest.mark.integration
def test_hybrid_with_minilm_on_the_sample_article(tmp_path, minilm, sample_copy) -> None:
    assistant = Assistant(Settings(data_dir=tmp_path / "kb", llm="fake"), embeddings=minilm)
    assistant.ingest([sample_copy])
    [top, *_] = assistant.retrieve("What is the name of Xiaomi's 3-nanometer chip?", k=4)
    assert "XRing" in top.text
    assert 0.3 < top.score <= 1.0  # a cosine similarity, not a fused rank score
    unrelated = assistant.ask("What is the boiling point of ethanol in Kelvin?")
    assert unrelated.refused and unrelated.reason == "no-passages"
    only = assistant.retrieve("Jensen Huang", k=3, sources=["*.txt"])
    assert only and all(s.source.endswith(".txt") for s in only)
