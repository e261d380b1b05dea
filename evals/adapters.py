"""Public benchmarks as eval datasets: BEIR folders (retrieval), SQuAD-style files and
MultiHop-RAG news questions (answers and refusals).

Each writes its documents out as one text file each (`<id>.txt`), so the runner ingests them
like any user folder and a case's expected `sources` are plain file names.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evals.cases import Case, Dataset, EvalError


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise EvalError(f"Missing {path}.", fix="point at a folder in the benchmark's layout")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _safe_name(doc_id: str) -> str:
    """A file name for a document id (ids may hold slashes or spaces)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in doc_id) + ".txt"


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    # Rewriting an unchanged file would be harmless (ingest skips by content hash), but
    # leaving it keeps a kept index's corpus folder stable.
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def load_beir(root: Path, corpus_dir: Path, split: str = "test",
              limit: int | None = None, max_docs: int | None = None) -> Dataset:
    """A BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) as a retrieval dataset.

    Only queries with relevance judgements in `split` become cases. `limit` keeps an evenly
    spread subset of them; `max_docs` shrinks the corpus to the documents those cases need
    plus the first others up to `max_docs` (a quicker, easier run; say so when reporting it).
    """
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise EvalError(f"No relevance judgements at {qrels_path}.",
                        fix="use a BEIR folder with qrels/test.tsv (or pick another split)")
    relevant: dict[str, list[str]] = {}
    with qrels_path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row.get("score", 1) or 0) > 0:
                relevant.setdefault(row["query-id"], []).append(row["corpus-id"])
    cases = [
        Case(id=q["_id"], question=q["text"],
             sources=tuple(_safe_name(d) for d in relevant[q["_id"]]))
        for q in _jsonl(root / "queries.jsonl") if q["_id"] in relevant
    ]
    dataset = Dataset(f"beir-{root.name}", cases, [corpus_dir], retrieval_only=True).limited(limit)
    needed = {s for c in dataset.cases for s in c.sources}
    corpus_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for doc in _jsonl(root / "corpus.jsonl"):
        name = _safe_name(doc["_id"])
        if max_docs is not None and name not in needed and written >= max_docs:
            continue
        _write(corpus_dir, name, f"{doc.get('title', '')}\n\n{doc['text']}".strip() + "\n")
        written += 1
    if max_docs is not None:
        dataset.name += f"-docs{max_docs}"
    return dataset


def load_squad(root: Path, corpus_dir: Path, limit: int | None = None) -> Dataset:
    """A SQuAD-style folder (documents.jsonl, questions.jsonl) as an answer + refusal dataset.

    documents.jsonl: `doc_id`, `title`, `text`; questions.jsonl: `id`, `question`, `answers`,
    `is_impossible`, `title`. Unanswerable questions must be refused.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for doc in _jsonl(root / "documents.jsonl"):
        name = _safe_name(doc["doc_id"])
        names[doc.get("title", doc["doc_id"])] = name
        _write(corpus_dir, name, f"{doc.get('title', '')}\n\n{doc['text']}".strip() + "\n")
    cases = []
    for q in _jsonl(root / "questions.jsonl"):
        impossible = bool(q.get("is_impossible"))
        answers = tuple(dict.fromkeys(a.strip() for a in q.get("answers", []) if a.strip()))
        source = names.get(q.get("title", ""))
        cases.append(Case(
            id=q["id"], question=q["question"], answers=() if impossible else answers,
            unanswerable=impossible or not answers,
            sources=(source,) if source and not impossible else (),
        ))
    return Dataset(f"squad-{root.name}", cases, [corpus_dir]).limited(limit)


NULL_QUERY = "null_query"


def news_document(fact: dict[str, Any]) -> str:
    """One evidence sentence under its article's title, source and date, so that a question
    naming "The Verge" or a day can find it."""
    date = str(fact.get("published_at", ""))[:10]
    return f"{fact['title']}\n{fact['source']}, {date}\n\n{fact['fact']}\n"


def load_news(root: Path, corpus_dir: Path, limit: int | None = None) -> Dataset:
    """A MultiHop-RAG folder (evidence_facts.jsonl, questions.jsonl) as an answer dataset.

    One file per evidence fact, not per article: an article's facts are separate sentences,
    and with the default 600-character chunks only the first chunk of a longer file would
    carry the title and source (every fact with its header fits in one chunk). A
    `null_query` must be refused; "Yes"/"No" answers are scored as yes/no (see
    `scorers.yes_no_answers`); the case `kind` is the question type.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for fact in _jsonl(root / "evidence_facts.jsonl"):
        names[fact["fact_id"]] = name = _safe_name(fact["fact_id"])
        _write(corpus_dir, name, news_document(fact))
    cases = []
    for q in _jsonl(root / "questions.jsonl"):
        null = q["question_type"] == NULL_QUERY
        answer = str(q.get("answer", "")).strip()
        missing = [f for f in q.get("evidence_fact_ids", []) if f not in names]
        if missing:
            raise EvalError(f"{root}: question {q['id']} cites unknown facts {', '.join(missing)}.",
                            fix="use the evidence_facts.jsonl that came with the questions")
        cases.append(Case(
            id=q["id"], question=q["question"], answers=() if null or not answer else (answer,),
            unanswerable=null, kind=q["question_type"],
            sources=tuple(dict.fromkeys(names[f] for f in q.get("evidence_fact_ids", []))),
        ))
    return Dataset(f"news-{root.name}", cases, [corpus_dir]).limited(limit)
