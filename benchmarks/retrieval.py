"""Retrieval quality and latency: lexical, dense, hybrid (and MMR) through `Assistant.retrieve`.

    python benchmarks/retrieval.py [--data-dir DIR] [--scale 100000 1000000] [--answers]

SciFact (../shared/bench/scifact): the 5,183 abstracts written one file each go through a normal
`Assistant.ingest` (into --data-dir, reused between runs: a second ingest skips unchanged files),
then each of the 300 test claims through `Assistant.retrieve`; chunks map back to their
abstract (its best chunk's rank). Prints nDCG@10, recall@10, recall@100, MRR@10 and query
latency per mode. SQuAD 2.0 two articles: gold-paragraph hit@5 for the answerable questions,
and the share of questions the relevance gate would refuse at several thresholds (answerable,
unanswerable-but-on-topic, and SciFact claims as off-topic questions). --scale: p50 latency
over synthetic stores of N chunks (random vectors and Zipf-distributed words). --answers: the
answer model on the sample article before/after context packing, in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings, Source  # noqa: E402
from assistant.rag.retrieval import Retriever  # noqa: E402
from ingest.store import Store  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
MODES: list[tuple[str, dict[str, Any]]] = [
    ("lexical (BM25, FTS5)", {"retrieval": "lexical"}),
    ("dense (MiniLM)", {"retrieval": "dense"}),
    ("hybrid (RRF)", {"retrieval": "hybrid"}),
    ("hybrid + MMR", {"retrieval": "hybrid", "rerank": "mmr"}),
]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join([f"## {title}", line(header), line(["-" * w for w in widths]),
                      *(line(r) for r in rows)])


# -- SciFact -------------------------------------------------------------------------------------
def scifact_corpus(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    with (BENCH / "scifact" / "corpus.jsonl").open() as rows:
        for line in rows:
            doc = json.loads(line)
            path = target / f"{doc['_id']}.txt"
            if not path.exists():
                path.write_text(f"{doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
    return target


def scifact_queries() -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    qrels: dict[str, dict[str, int]] = {}
    with (BENCH / "scifact" / "qrels" / "test.tsv").open() as rows:
        next(rows)
        for row in rows:
            query, doc, score = row.split()
            qrels.setdefault(query, {})[doc] = int(score)
    queries = {}
    with (BENCH / "scifact" / "queries.jsonl").open() as rows:
        for line in rows:
            q = json.loads(line)
            if q["_id"] in qrels:
                queries[q["_id"]] = q["text"]
    return queries, qrels


def doc_ranking(sources: list[Source]) -> list[str]:
    """Document ids in the order of their best chunk."""
    return list(dict.fromkeys(Path(s.source).stem for s in sources))


def ndcg(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def recall(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    return len(set(ranking[:k]) & set(relevant)) / len(relevant)


def mrr(ranking: list[str], relevant: dict[str, int], k: int) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranking[:k]) if d in relevant), 0.0)


class CachedQueries(Embeddings):
    """Embeds each query once: the untimed deeper retrievals of a query reuse its vector."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner, self.cache = inner, {}  # type: dict[str, list[float]]

    def embed_query(self, text: str) -> list[float]:
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)


def bench_scifact(data_dir: Path, embeddings: Any, modes: Sequence[str]) -> list[list[str]]:
    docs = scifact_corpus(data_dir / "docs")
    base = Assistant(Settings(data_dir=data_dir / "kb", llm="fake"), embeddings=embeddings)
    started = time.perf_counter()
    report = base.ingest([docs])
    print(f"ingest: {report.summary()} in {time.perf_counter() - started:.0f} s "
          f"({base.store.count()} chunks)", flush=True)
    queries, qrels = scifact_queries()
    rows = []
    for name, options in MODES:
        if modes and not any(m in name for m in modes):
            continue
        assistant = Assistant(Settings(data_dir=data_dir / "kb", llm="fake", **options),
                              embeddings=CachedQueries(embeddings))  # fresh: timed calls embed
        assistant.retrieve("warm up")
        scores: dict[str, list[float]] = {"ndcg": [], "r10": [], "r100": [], "mrr": []}
        latency = []
        for qid, text in queries.items():
            started = time.perf_counter()
            assistant.retrieve(text)  # as a question would: the default k (4)
            latency.append(time.perf_counter() - started)
            ranking = doc_ranking(assistant.retrieve(text, k=40))  # 40 chunks: >= 10 abstracts
            deep = doc_ranking(assistant.retrieve(text, k=400))  # >= 100 abstracts
            scores["ndcg"].append(ndcg(ranking, qrels[qid], 10))
            scores["r10"].append(recall(ranking, qrels[qid], 10))
            scores["mrr"].append(mrr(ranking, qrels[qid], 10))
            scores["r100"].append(recall(deep, qrels[qid], 100))
        rows.append([name, *(f"{statistics.mean(v):.3f}" for v in scores.values()),
                     f"{1000 * percentile(latency, 0.5):.0f}",
                     f"{1000 * percentile(latency, 0.95):.0f}"])  # k=4, query embedding included
        print(rows[-1], flush=True)
    return rows


# -- SQuAD 2.0, two articles ---------------------------------------------------------------------
def squad_documents(data_dir: Path) -> tuple[Path, dict[str, str]]:
    """The two SQuAD articles written out one file each; returns the folder and the texts."""
    docs = data_dir / "squad_docs"
    docs.mkdir(parents=True, exist_ok=True)
    articles = {}
    for line in (BENCH / "squad2_two_articles" / "documents.jsonl").open():
        doc = json.loads(line)
        articles[doc["doc_id"]] = doc["text"]
        (docs / f"{doc['doc_id']}.txt").write_text(doc["text"], encoding="utf-8")
    return docs, articles


def bench_squad(data_dir: Path, embeddings: Any) -> tuple[list[list[str]], list[list[str]]]:
    folder = BENCH / "squad2_two_articles"
    docs, articles = squad_documents(data_dir)
    spans = {}
    for line in (folder / "paragraphs.jsonl").open():
        par = json.loads(line)
        start = articles[par["title"]].find(par["text"])
        spans[par["paragraph_id"]] = (start, start + len(par["text"]))
    questions = [json.loads(line) for line in (folder / "questions.jsonl").open()]
    claims = list(scifact_queries()[0].values())  # off-topic questions for these articles

    hit_rows, gate_rows = [], []
    tops: dict[str, dict[str, list[float]]] = {}
    for name, options in MODES:
        assistant = Assistant(Settings(data_dir=data_dir / "squad_kb", llm="fake", **options),
                              embeddings=embeddings)
        assistant.ingest([docs])
        hits = []
        top: dict[str, list[float]] = {"answerable": [], "unanswerable": [], "off-topic": []}
        for q in questions:
            found = assistant.retrieve(q["question"], k=5)
            best = max((s.score for s in found[:4]), default=0.0)
            top["unanswerable" if q["is_impossible"] else "answerable"].append(best)
            if q["is_impossible"]:
                continue
            gold = spans[q["paragraph_id"]]
            hits.append(any(
                int(s.metadata.get("start_index", -1)) < gold[1]
                and int(s.metadata.get("start_index", -1)) + len(s.text) > gold[0]
                for s in found))
        for claim in claims:
            top["off-topic"].append(max((s.score for s in assistant.retrieve(claim, k=4)),
                                        default=0.0))
        hit_rows.append([name, f"{statistics.mean(hits):.3f}", str(len(hits))])
        tops[name] = top
    for threshold in (0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        top = tops["hybrid (RRF)"]
        gate_rows.append([f"{threshold:.2f}", *(
            f"{sum(v < threshold for v in top[kind]) / len(top[kind]):.3f}"
            for kind in ("answerable", "unanswerable", "off-topic"))])
    return hit_rows, gate_rows


# -- scale ---------------------------------------------------------------------------------------
def bench_scale(n: int, data_dir: Path) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(30_000)]
    weights = 1 / np.arange(1, len(vocabulary) + 1)  # Zipf-like word frequencies
    weights /= weights.sum()
    store = Store.open(data_dir / f"scale{n}", "scale", "synthetic")
    started = time.perf_counter()
    batch = 5000
    for start in range(store.count(), n, batch):
        size = min(batch, n - start)
        vectors = rng.standard_normal((size, 384)).astype(np.float32)
        words = rng.choice(len(vocabulary), size=(size, 60), p=weights)
        texts = [" ".join(vocabulary[w] for w in row) for row in words]
        ids = [f"c{start + i}" for i in range(size)]
        metas = [{"source": f"doc{(start + i) // 4}", "content_hash": "x", "chunk": 0,
                  "n_chunks": 1} for i in range(size)]
        store.upsert(ids, texts, vectors.tolist(), metas)
    build = time.perf_counter() - started

    class Random(Embeddings):
        def embed_query(self, text: str) -> list[float]:
            return rng.standard_normal(384).tolist()

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(t) for t in texts]

    results = [f"{n:,}", f"{build:.0f}"]
    for mode in ("dense", "lexical", "hybrid"):
        retriever = Retriever(store=store, embeddings=Random(), k=4, mode=mode)
        times = []
        for _ in range(50):
            query = " ".join(rng.choice(vocabulary[50:3000], size=6))
            t = time.perf_counter()
            retriever.search(query)
            times.append(time.perf_counter() - t)
        results.append(f"{1000 * percentile(times, 0.5):.0f}")
    return results


# -- conversational rewriting --------------------------------------------------------------------
# Follow-ups written for this benchmark on the SQuAD articles: (earlier question, its answer,
# follow-up, paragraph that answers the follow-up).
FOLLOW_UPS = [
    ("Who was Richard's fiancee?", "Berengaria.", "Where was the boat carrying her anchored?",
     "Normans_26"),
    ("Who was the despot of Cyprus when Richard arrived?", "Isaac Komnenos.",
     "What did he refuse to do?", "Normans_26"),
    ("Which bridge did the Germans fail to demolish?", "The Ludendorff Bridge.",
     "Where does it cross the river?", "Rhine_42"),
    ("Who established the Confederation of the Rhine?", "Napoleon.", "How long did it last?",
     "Rhine_40"),
    ("What is the longest suspension bridge in Germany?", "The Emmerich Rhine Bridge.",
     "Between which two towns is it?", "Rhine_15"),
    ("Which city has the largest river port in Europe?", "Duisburg.",
     "How far downstream of it is Wesel?", "Rhine_15"),
    ("Which naval base did a Norman army invade in 1185?", "Dyrrachium.",
     "On which sea was it?", "Normans_13"),
    ("Into which lake does the Rhine form an inland delta?", "Lake Constance.",
     "Which Austrian towns does the delta include?", "Rhine_4"),
    ("Who led the Norse raiders who settled in Normandy?", "Rollo.",
     "To which king did they swear fealty?", "Normans_0"),
    ("In what year was the Rhine-kilometer scale introduced?", "In 1939.",
     "Where does the scale end?", "Rhine_2"),
]


def bench_rewriting(llm: str, data_dir: Path, embeddings: Any) -> list[list[str]]:
    """Follow-up retrieval hit@4: as asked, after the previous question, after LLM rewriting."""
    from assistant.rag.chain import RagChain, follow_up_wordings

    squad = Assistant(Settings(data_dir=data_dir / "squad_kb", llm=llm), embeddings=embeddings)
    squad.ingest([squad_documents(data_dir)[0]])
    sample = Assistant(Settings(data_dir=data_dir / "sample_kb", llm=llm),
                       embeddings=embeddings)
    sample.ingest_sample_if_empty()
    chain = RagChain(squad.llm, squad._retriever(4), 0.0)
    paragraphs = {}
    for line in (BENCH / "squad2_two_articles" / "paragraphs.jsonl").open():
        par = json.loads(line)
        paragraphs[par["paragraph_id"]] = par["text"]
    cases: list[tuple[Assistant, str, str, str, Callable[[str], bool]]] = []
    for earlier, answer, follow_up, gold in FOLLOW_UPS:
        text = paragraphs[gold]
        cases.append((squad, earlier, answer, follow_up,
                      lambda chunk, text=text: chunk[:200] in text or text[-200:] in chunk))
    for line in (ROOT / "evals" / "datasets" / "sample_article.jsonl").open():
        case = json.loads(line)
        if case["history"]:
            (earlier, answer), answers = case["history"][-1], case["answers"]
            cases.append((sample, earlier, answer, case["question"],
                          lambda chunk, answers=answers: any(a in chunk for a in answers)))
    hits: dict[str, list[bool]] = {"as asked": [], "earlier question + follow-up": [],
                                   "rewritten by the model": [],
                                   "rewrite fused with earlier + follow-up (default)": []}
    for assistant, earlier, answer, follow_up, holds in cases:
        history = [(earlier, answer)]
        rewritten = chain.standalone(follow_up, history)
        print(f"{follow_up!r} -> {rewritten!r}", flush=True)
        for name, query in zip(hits, (follow_up, f"{earlier} {follow_up}", rewritten),
                               strict=False):
            found = assistant.retrieve(query, k=4)
            hits[name].append(any(holds(s.text) for s in found))
        fused = assistant._retriever(4).search(
            rewritten, also=follow_up_wordings(follow_up, history))
        hits["rewrite fused with earlier + follow-up (default)"].append(
            any(holds(s.text) for s in fused))
    return [[name, f"{sum(v)}/{len(v)}"] for name, v in hits.items()]


# -- answers with and without context packing ----------------------------------------------------
def bench_answers(llm: str, data_dir: Path, golden_too: bool) -> list[list[str]]:
    """Both configurations answer each question in turn, in alternating order (so that load on a
    shared machine hits both alike); one line per answer is printed as it comes."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import ANSWERABLE, UNANSWERABLE  # the development questions

    cases: list[tuple[str, list[tuple[str, str]], list[str], bool, bool]] = [
        (q, [], [expected], False, False) for q, expected in ANSWERABLE]
    cases += [(q, [], [], False, True) for q in UNANSWERABLE]
    if golden_too:
        for line in (ROOT / "evals" / "datasets" / "sample_article.jsonl").open():
            c = json.loads(line)
            cases.append((c["question"], [tuple(t) for t in c["history"]], c["answers"],
                          c["all"], c["unanswerable"]))
    configs = {"dense, no packing (before)": {"retrieval": "dense", "context_tokens": 0},
               "hybrid, packed (after)": {}}
    base = Assistant(Settings(data_dir=data_dir / "sample_kb", llm=llm))
    base.ingest_sample_if_empty()
    base.warm_up()
    assistants = {name: base.with_settings(**options) for name, options in configs.items()}
    stats: dict[str, dict[str, list[float]]] = {
        name: {"right": [], "first": [], "total": []} for name in configs}
    for turn, (question, history, answers, every, unanswerable) in enumerate(cases):
        # Alternate which goes first: the second may reuse the first's prompt from the cache.
        order = list(assistants.items())[:: 1 if turn % 2 else -1]
        for name, assistant in order:
            answer = assistant.ask(question, history=history)
            t = answer.timings
            check: Callable[..., bool] = all if every else any
            right = answer.refused if unanswerable else not answer.refused and check(
                a.lower() in answer.text.lower() for a in answers)
            stats[name]["right"].append(float(right))
            stats[name]["first"].append(t.get("first_token_s", t["retrieve_s"]))
            stats[name]["total"].append(t.get("total_s", t["retrieve_s"]))
            print(f"{name[:6]} {'ok ' if right else 'BAD'} {t.get('first_token_s', 0):5.1f} "
                  f"{t.get('total_s', 0):5.1f}  {question[:60]!r} -> {answer.text[:80]!r}",
                  flush=True)
    return [[name, f"{sum(v['right']):.0f}/{len(v['right'])}",
             f"{statistics.median(v['first']):.1f}", f"{statistics.median(v['total']):.1f}"]
            for name, v in stats.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="reused between runs (default: a temp dir)")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="synthetic store sizes")
    parser.add_argument("--answers", action="store_true", help="answer latency before/after")
    parser.add_argument("--golden", action="store_true", help="--answers: add the 54 golden")
    parser.add_argument("--llm", default="llamacpp:qwen2.5-coder-1.5b")
    parser.add_argument("--rewrite", action="store_true", help="follow-up rewriting hit@4")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--skip-squad", action="store_true")
    parser.add_argument("--modes", nargs="*", default=[], help="SciFact: only these modes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        from ingest.embeddings import load_embeddings

        embeddings = load_embeddings(Settings().embedding)
        if not args.skip_scifact:
            rows = bench_scifact(data_dir, embeddings, args.modes)
            print(table("SciFact test (300 claims), Assistant.retrieve",
                        ["mode", "nDCG@10", "recall@10", "recall@100", "MRR@10", "p50 ms",
                         "p95 ms"], rows))
        if not args.skip_squad:
            hits, gate = bench_squad(data_dir, embeddings)
            print(table("SQuAD 2.0 two articles: gold paragraph in the top 5 chunks",
                        ["mode", "hit@5", "questions"], hits))
            print(table("Relevance gate (hybrid): share refused, best cosine of top 4 < threshold",
                        ["threshold", "answerable", "unanswerable (on topic)",
                         "off-topic (SciFact claims)"], gate))
        if args.scale:
            rows = [bench_scale(n, data_dir) for n in args.scale]
            print(table("Scale: p50 query latency (ms), k=4, synthetic chunks",
                        ["chunks", "build s", "dense", "lexical", "hybrid"], rows))
        if args.rewrite:
            print(table(f"Follow-ups: passage that answers them in the top 4 ({args.llm})",
                        ["query", "hit@4"], bench_rewriting(args.llm, data_dir, embeddings)))
        if args.answers:
            print(table(f"Answers, sample article ({args.llm})",
                        ["config", "right (the fact, or a refusal)", "median first token s",
                         "median answer s"],
                        bench_answers(args.llm, data_dir, args.golden)))


if __name__ == "__main__":
    main()
