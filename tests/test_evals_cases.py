"""Case files, the bundled datasets and the BEIR / SQuAD adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.adapters import load_beir, load_news, load_squad
from evals.cases import BUILTIN, DATASETS_DIR, Case, Dataset, EvalError, load_cases, split_of

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_jsonl_cases_load_with_defaults(tmp_path: Path) -> None:
    cases, corpus = load_cases(write(tmp_path / "c.jsonl", [
        {"id": "a", "question": "Q?", "answers": ["x"], "history": [["q0", "a0"]]},
        {"id": "b", "question": "Out?", "unanswerable": True},
    ]))
    assert cases == [
        Case("a", "Q?", answers=("x",), history=(("q0", "a0"),)),
        Case("b", "Out?", unanswerable=True),
    ]
    assert corpus == []


def test_yaml_cases_carry_their_corpus(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "corpus: [docs]\ncases:\n  - id: a\n    question: Q?\n    sources: [x.txt]\n")
    cases, corpus = load_cases(tmp_path / "c.yaml")
    assert cases[0].sources == ("x.txt",)
    assert corpus == [(tmp_path / "docs").resolve()]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not valid JSON"),
        ('{"id": "a", "question": "Q?", "answer": ["x"]}', "line 1: unknown field(s) answer."),
        ('{"id": "a", "question": ""}', "line 1: 'question' must be a non-empty string."),
        ('{"id": "a", "question": "Q?"}', "line 1: case 'a' has no answers or sources to score."),
        ('{"id": "a", "question": "Q?", "answers": "x"}', "'answers' must be a list"),
        ('{"id": "a", "question": "Q?", "answers": ["x"], "history": ["q"]}',
         "'history' must be a list of [question, answer] pairs."),
    ],
)
def test_bad_cases_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(EvalError) as err:
        load_cases(path)
    assert str(err.value).startswith(f"{path}") and message in str(err.value)
    assert err.value.fix


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [{"id": "a", "question": "Q?", "answers": ["x"]}] * 2)
    with pytest.raises(EvalError, match="duplicate case id"):
        load_cases(path)


def test_limit_spreads_over_the_cases() -> None:
    cases = [Case(str(i), "Q?", answers=("x",)) for i in range(10)]
    assert [c.id for c in Dataset("d", cases).limited(3).cases] == ["0", "3", "6"]
    assert Dataset("d", cases).limited(None).cases == cases
    with pytest.raises(EvalError):
        Dataset("d", cases).limited(0)


def test_bundled_golden_set_covers_every_kind_of_case() -> None:
    cases, _ = load_cases(BUILTIN["sample_article"][0])
    assert len(cases) >= 50
    assert sum(c.unanswerable for c in cases) >= 10
    assert sum(bool(c.history) for c in cases) >= 5
    article = (BUILTIN["sample_article"][1][0] / "us-chip-export-controls.txt").read_text()
    for case in cases:  # every accepted answer of an answerable case is really in the article
        if case.answerable:
            assert any(a.lower() in article.lower() for a in case.answers), case.id


def test_bundled_injection_set_points_at_real_documents() -> None:
    path, corpus = BUILTIN["injection"]
    cases, _ = load_cases(path)
    files = {p.name: p.read_text() for folder in corpus for p in folder.iterdir()}
    assert all(c.forbidden for c in cases)
    for case in cases:
        assert all(s in files for s in case.sources), case.id
        if case.answers:
            assert any(a.lower() in files[s].lower() for a in case.answers for s in case.sources)
        # what the injection asks for is in some document, so following it is possible
        assert any(f.lower() in text.lower() for f in case.forbidden for text in files.values())


def test_beir_adapter_writes_one_file_per_document(tmp_path: Path) -> None:
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    write(root / "corpus.jsonl", [{"_id": f"d{i}", "title": f"T{i}", "text": f"text {i}"}
                                  for i in range(5)])
    write(root / "queries.jsonl", [{"_id": "q1", "text": "about 3"},
                                   {"_id": "q2", "text": "unjudged"}])
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")
    dataset = load_beir(root, tmp_path / "out", max_docs=1)
    assert dataset.retrieval_only and dataset.name == "beir-beir-docs1"
    assert dataset.cases == [Case("q1", "about 3", sources=("d3.txt",))]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d0.txt", "d3.txt"]
    assert (tmp_path / "out" / "d3.txt").read_text() == "T3\n\ntext 3\n"


def test_squad_adapter_marks_impossible_questions(tmp_path: Path) -> None:
    root = tmp_path / "squad"
    root.mkdir()
    write(root / "documents.jsonl", [{"doc_id": "Rhine", "title": "Rhine", "text": "A river."}])
    write(root / "questions.jsonl", [
        {"id": "1", "title": "Rhine", "question": "What?", "answers": ["river", "river"],
         "is_impossible": False},
        {"id": "2", "title": "Rhine", "question": "Who?", "answers": [], "is_impossible": True},
    ])
    dataset = load_squad(root, tmp_path / "out")
    assert dataset.cases == [
        Case("1", "What?", answers=("river",), sources=("Rhine.txt",)),
        Case("2", "Who?", unanswerable=True),
    ]
    assert (tmp_path / "out" / "Rhine.txt").read_text() == "Rhine\n\nA river.\n"


def test_split_is_fixed_by_the_id_unless_the_case_names_one() -> None:
    assert [split_of(i) for i in ("0", "1", "2", "3", "a")] == ["test", "test", "dev", "dev", "dev"]
    cases = [Case("0", "Q?", answers=("x",)), Case("2", "Q?", answers=("x",)),
             Case("1", "Q?", answers=("x",), split="dev")]
    dataset = Dataset("d", cases)
    assert [c.id for c in dataset.only("dev").cases] == ["2", "1"]
    assert [c.id for c in dataset.only("test").cases] == ["0"]
    assert dataset.only(None) is dataset
    with pytest.raises(EvalError, match="Unknown split 'train'"):
        dataset.only("train")


def test_injection_set_splits_follow_the_one_rule() -> None:
    cases, _ = load_cases(DATASETS_DIR / "injection_set.jsonl")
    assert all(c.split == split_of(c.id) for c in cases)
    assert {c.split for c in cases} == {"dev", "test"}


def news_folder(root: Path) -> Path:
    """A MultiHop-RAG-shaped folder: two facts from one article, one from another."""
    root.mkdir()
    article = {"title": "Apple defends Google deal", "source": "The Verge", "author": "D. P.",
               "published_at": "2023-09-26T17:01:22+00:00", "category": "technology",
               "url": "https://example.com/a"}
    write(root / "evidence_facts.jsonl", [
        {"fact_id": "fact_0000", "fact": "Google pays Apple to be the default.", **article},
        {"fact_id": "fact_0001", "fact": "Eddy Cue said there was no valid alternative.",
         **article},
        {**article, "fact_id": "fact_0002", "fact": "Sam Altman returned as chief executive.",
         "title": "Altman is back", "source": "TechCrunch",
         "published_at": "2023-11-22T08:00:00+00:00", "url": "https://example.com/b"},
    ])
    write(root / "questions.jsonl", [
        {"id": "0", "question": "Does The Verge say Google pays Apple?", "answer": "Yes",
         "question_type": "comparison_query", "evidence_fact_ids": ["fact_0000", "fact_0001"]},
        {"id": "1", "question": "Who returned as chief executive, per TechCrunch?",
         "answer": "Sam Altman", "question_type": "inference_query",
         "evidence_fact_ids": ["fact_0002"]},
        {"id": "2", "question": "Which letter names the new watch sensor?",
         "answer": "Insufficient information.", "question_type": "null_query",
         "evidence_fact_ids": []},
    ])
    return root


def test_news_adapter_writes_one_file_per_fact_under_its_header(tmp_path: Path) -> None:
    dataset = load_news(news_folder(tmp_path / "news"), tmp_path / "out")
    assert dataset.name == "news-news" and not dataset.retrieval_only
    assert dataset.cases == [
        Case("0", "Does The Verge say Google pays Apple?", answers=("Yes",),
             sources=("fact_0000.txt", "fact_0001.txt"), kind="comparison_query"),
        Case("1", "Who returned as chief executive, per TechCrunch?", answers=("Sam Altman",),
             sources=("fact_0002.txt",), kind="inference_query"),
        Case("2", "Which letter names the new watch sensor?", unanswerable=True,
             kind="null_query"),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fact_0000.txt", "fact_0001.txt", "fact_0002.txt"]
    assert (tmp_path / "out" / "fact_0002.txt").read_text() == (
        "Altman is back\nTechCrunch, 2023-11-22\n\nSam Altman returned as chief executive.\n")


def test_news_adapter_names_an_unknown_fact(tmp_path: Path) -> None:
    root = news_folder(tmp_path / "news")
    write(root / "questions.jsonl", [
        {"id": "9", "question": "Q?", "answer": "Yes", "question_type": "inference_query",
         "evidence_fact_ids": ["fact_0404"]}])
    with pytest.raises(EvalError, match="question 9 cites unknown facts fact_0404"):
        load_news(root, tmp_path / "out")


@pytest.mark.skipif(not (BENCH / "multihop_news").is_dir(), reason="no ../shared/bench here")
def test_news_adapter_on_the_real_folder(tmp_path: Path) -> None:
    dataset = load_news(BENCH / "multihop_news", tmp_path / "out")
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert len(dataset.cases) == 420 and len(files) == 438
    assert sum(c.unanswerable for c in dataset.cases) == 51
    assert {c.kind for c in dataset.cases} == {
        "inference_query", "comparison_query", "temporal_query", "null_query"}
    assert all(set(c.sources) <= files and bool(c.sources) == c.answerable
               for c in dataset.cases)
    assert [len(dataset.only(s).cases) for s in ("dev", "test")] == [223, 197]


@pytest.mark.skipif(not (BENCH / "squad2_two_articles").is_dir(), reason="no ../shared/bench")
def test_squad_adapter_keeps_every_case_without_a_limit(tmp_path: Path) -> None:
    dataset = load_squad(BENCH / "squad2_two_articles", tmp_path / "out")
    assert len(dataset.cases) == 706 and sum(c.unanswerable for c in dataset.cases) == 320
    assert [len(dataset.only(s).cases) for s in ("dev", "test")] == [366, 340]
