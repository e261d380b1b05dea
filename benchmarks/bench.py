"""Ingest throughput and answer latency of the default setup, with same-run baselines.

    python benchmarks/bench.py [--docs 500] [--llm llamacpp:qwen2.5-coder-1.5b]

Ingest: N SciFact abstracts written one file each (../shared/bench/scifact) go through
`Assistant.ingest`; the baseline is raw `SentenceTransformer.encode` on the same chunks.
Answers: five questions about the sample article, time to first token and total; the baseline
is the LangChain-tutorial wiring (1,000-character chunks, k=4, "if you don't know, say so").
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from ingest.chunking import split  # noqa: E402
from ingest.loaders import load_file  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"
QUESTIONS = [
    "What did Jensen Huang call the export controls?",
    "How much will Xiaomi invest in R&D from 2026 to 2030?",
    "What is Nvidia's market share in China now?",
    "Who founded Huawei?",
    "What is the name of TSMC's CEO?",
]
TUTORIAL = ChatPromptTemplate.from_messages([
    ("system", "Use the following pieces of retrieved context to answer the question. If you "
               "don't know the answer, say that you don't know.\n\n{context}"),
    ("human", "{question}"),
])


def write_corpus(target: Path, n: int) -> list[Path]:
    paths = []
    with SCIFACT.open() as rows:
        for _, line in zip(range(n), rows, strict=False):
            doc = json.loads(line)
            path = target / f"{doc['_id']}.txt"
            path.write_text(f"{doc.get('title', '')}\n\n{doc['text']}", encoding="utf-8")
            paths.append(path)
    return paths


def bench_ingest(n: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        files = write_corpus(docs, n)
        settings = Settings(data_dir=Path(tmp) / "kb", llm="fake")
        assistant = Assistant(settings)
        assistant.embeddings.embed_query("warm up")
        t0 = time.perf_counter()
        report = assistant.ingest([docs])
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = assistant.ingest([docs])
        reingest_s = time.perf_counter() - t0
        assert not again.added and len(again.unchanged) == len(files)

        texts = [c.page_content for f in files
                 for c in split(load_file(f, f.read_bytes()), settings.chunk_size,
                                settings.chunk_overlap)]
        model = assistant.embeddings._client  # type: ignore[attr-defined]  # the SentenceTransformer
        t0 = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True)
        raw_s = time.perf_counter() - t0
    rate, raw_rate = report.chunks / ingest_s, len(texts) / raw_s
    return [
        ("documents", str(len(files))),
        ("chunks", str(report.chunks)),
        ("ingest seconds", f"{ingest_s:.1f}"),
        ("ingest chunks/s", f"{rate:.0f}"),
        ("raw encode chunks/s (baseline)", f"{raw_rate:.0f}"),
        ("ingest / raw encode", f"{rate / raw_rate:.2f}"),
        ("re-ingest seconds (unchanged)", f"{reingest_s:.2f}"),
    ]


def bench_answers(llm: str) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        ours = Assistant(Settings(data_dir=Path(tmp) / "kb", llm=llm))
        ours.ingest_sample_if_empty()
        tutorial = Assistant(Settings(data_dir=Path(tmp) / "kb", llm=llm, collection="tutorial",
                                      chunk_size=1000, chunk_overlap=200, k=4, min_relevance=-1))
        tutorial.ingest_sample_if_empty()
        ours.ask("warm up: who is Jensen Huang?")  # loads the model once, outside the timings
        rows: list[tuple[str, str]] = []
        first, total, base_total = [], [], []
        chain = TUTORIAL | ours.llm | StrOutputParser()
        for question in QUESTIONS:
            answer = ours.ask(question)
            first.append(answer.timings.get("first_token_s", answer.timings.get("retrieve_s", 0)))
            total.append(answer.timings.get("total_s", first[-1]))
            context = "\n\n".join(s.text for s in tutorial.retrieve(question, k=4))
            t0 = time.perf_counter()
            base = chain.invoke({"context": context, "question": question})
            base_total.append(time.perf_counter() - t0)
            shown = ("REFUSED: " if answer.refused else "") + answer.text
            rows.append((question, f"{total[-1]:.1f}s  {shown[:90]}"))
            rows.append(("  tutorial baseline", f"{base_total[-1]:.1f}s  {base.strip()[:90]}"))
    med, base_med = statistics.median(total), statistics.median(base_total)
    return rows + [
        ("median time to first token", f"{statistics.median(first):.1f}s"),
        ("median answer time", f"{med:.1f}s"),
        ("median tutorial answer time (baseline)", f"{base_med:.1f}s"),
        ("answer time / tutorial", f"{med / base_med:.2f}"),
    ]


def table(title: str, rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join([f"## {title}", *(f"{k:<{width}}  {v}" for k, v in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500, help="SciFact abstracts to ingest")
    parser.add_argument("--llm", default=Settings().llm)
    parser.add_argument("--skip-answers", action="store_true")
    args = parser.parse_args()
    print(table(f"Ingest ({args.docs} SciFact abstracts, one file each)", bench_ingest(args.docs)))
    if not args.skip_answers:
        print()
        print(table(f"Answers ({args.llm}, sample article)", bench_answers(args.llm)))


if __name__ == "__main__":
    main()
