"""Follow-ups: does the rewritten question keep its subject and find the passage that answers?

    python benchmarks/followups.py [--data-dir DIR] [--llm llamacpp:qwen2.5-coder-1.5b]

Ingests the follow-up set's corpus (`evals/datasets/followups.jsonl`: the sample article, the
SQuAD Normans/Rhine articles, three package READMEs) with the configured embeddings, then for
each case retrieves with four rewrites of the follow-up:

- *as asked*: the follow-up alone;
- *condense*: today's chain, the model's rewrite (`prompts/condense.yaml`) cleaned as
  `RagChain.standalone` cleans it;
- *resolve*: `assistant.rag.followup.resolve` with the same model reply (no model call for a
  question that does not depend on the history);
- *resolve, no model*: `resolve` without a model (the deterministic rewrite only).

Retrieval is the chain's: the rewrite fused with "previous question + follow-up", the best `k`
(4) above the relevance cut. Columns: *carry* (the rewrite names one of the case's `carry`
names; for a topic switch, it names nothing of the history that the question does not),
*hit@4* (an expected source among the passages), *context hit@4* (an accepted answer string in
them), the same with the rewrite alone (no fused wording), and model calls. Dev and test
splits apart. Model replies are cached in DATA_DIR (keyed by the prompt file and the input),
so a second run calls the model only for what changed; without --llm only the model-free rows
are printed.

--answers: also answer every case with the --llm model for each rewrite (the chain's
`standalone` swapped for the rewrite, the variants taking turns case by case), scored by
`evals.runner.run_case`: answered right, refused, median seconds per answer (the condense
call not included: its replies come from the cache).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.runnables import Runnable  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.backends.registry import ModelOptions, load_llm  # noqa: E402
from assistant.rag.chain import follow_up_wordings, text_chain  # noqa: E402
from assistant.rag.followup import (  # noqa: E402
    clean_rewrite,
    entities,
    format_history,
    mentions,
    resolve,
)
from assistant.rag.retrieval import Retriever, Source  # noqa: E402
from evals.cases import BUILTIN, Case, load_cases  # noqa: E402
from evals.runner import run_case  # noqa: E402
from evals.scorers import contains  # noqa: E402

PROMPT = ROOT / "prompts" / "condense.yaml"


class Replies:
    """The condense model's replies, cached on disk by prompt file and input."""

    def __init__(self, path: Path, llm_name: str | None, models_dir: Path) -> None:
        self.path, self.llm_name, self.models_dir = path, llm_name, models_dir
        self.cache: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        self.prompt = hashlib.sha1(PROMPT.read_bytes()).hexdigest()[:12]
        self.chain: Runnable | None = None
        self.calls = 0
        self.seconds: list[float] = []

    def __call__(self, history: str, question: str) -> str:
        key = f"{self.llm_name}|{self.prompt}|{history}|{question}"
        if key not in self.cache:
            if self.chain is None:
                llm = load_llm(str(self.llm_name), ModelOptions(models_dir=self.models_dir))
                self.chain = text_chain("condense", llm)
            started = time.perf_counter()
            self.cache[key] = self.chain.invoke({"history": history, "question": question})
            self.seconds.append(time.perf_counter() - started)
            self.path.write_text(json.dumps(self.cache, indent=0, ensure_ascii=False))
        self.calls += 1
        return self.cache[key]


def carried(query: str, case: Case) -> bool:
    """The rewrite keeps the subject (a switch: brings in nothing of the history)."""
    if case.kind == "switch":
        old = [n for q, a in case.history for n in entities(q) + entities(a)]
        return not any(mentions(query, n) and not mentions(case.question, n) for n in old)
    return any(mentions(query, n) for n in case.carry)


def scores(retriever: Retriever, min_relevance: float, case: Case, query: str) -> list[float]:
    def passages(also: list[str]) -> list[Source]:
        return [s for s in retriever.search(query, also=also) if s.score >= min_relevance]

    fused = passages(follow_up_wordings(case.question, list(case.history)))
    alone = passages([])

    def context_hit(found: list[Source]) -> float:
        return float(any(contains(s.text, a) for s in found for a in case.answers))

    hit = float(any(Path(s.source).name in case.sources for s in fused))
    return [float(carried(query, case)), hit, context_hit(fused), context_hit(alone)]


def variants(replies: Replies | None) -> list[tuple[str, Callable[[Case], str]]]:
    rows: list[tuple[str, Callable[[Case], str]]] = [("as asked", lambda c: c.question)]
    if replies is not None:
        def condense(c: Case) -> str:
            reply = replies(format_history(c.history), c.question)
            return clean_rewrite(reply, c.question) or c.question

        rows += [("condense (today)", condense),
                 ("resolve", lambda c: resolve(c.question, c.history, replies))]
    rows.append(("resolve, no model", lambda c: resolve(c.question, c.history)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/followups-bench"))
    parser.add_argument("--llm", help="condense model, e.g. llamacpp:qwen2.5-coder-1.5b")
    parser.add_argument("--models-dir", type=Path,
                        default=Path.home() / ".local/share/docs-assistant/models")
    parser.add_argument("--show", action="store_true", help="print every rewrite")
    parser.add_argument("--answers", action="store_true",
                        help="answer every case with --llm for each rewrite")
    args = parser.parse_args()

    path, corpus = BUILTIN["followups"]
    cases, _ = load_cases(path)
    settings = Settings(data_dir=args.data_dir / "kb", llm="fake")
    assistant = Assistant(settings)
    print(f"ingest: {assistant.ingest(corpus).summary()}", flush=True)
    retriever = Retriever(store=assistant.store, embeddings=assistant.embeddings, k=settings.k,
                          mode=settings.retrieval, depth=settings.fusion_depth,
                          rrf_k=settings.rrf_k, lexical_weight=settings.lexical_weight)
    replies = Replies(args.data_dir / "condense-replies.json", args.llm, args.models_dir) \
        if args.llm else None

    header = ["rewrite", "split", "cases", "carry", "hit@4", "context hit@4",
              "context hit@4, rewrite alone", "model calls"]
    rows = []
    for name, rewrite in variants(replies):
        for split in ("dev", "test"):
            chosen = [c for c in cases if c.split == split]
            before = replies.calls if replies else 0
            totals = [0.0, 0.0, 0.0, 0.0]
            for case in chosen:
                query = rewrite(case)
                got = scores(retriever, settings.min_relevance, case, query)
                totals = [t + g for t, g in zip(totals, got, strict=True)]
                if args.show:
                    print(f"{name:18} {split:4} {'ok ' if got[0] else 'BAD'} "
                          f"{'hit' if got[2] else '---'} {case.id}: {query}")
            calls = (replies.calls - before) if replies else 0
            rows.append([name, split, str(len(chosen)),
                         *(f"{int(t)}/{len(chosen)}" for t in totals), str(calls)])
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" for _ in header) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if replies and replies.seconds:
        median = sorted(replies.seconds)[len(replies.seconds) // 2]
        print(f"{len(replies.seconds)} new condense calls, median {median:.1f} s each")
    if args.answers and replies is not None:
        answers(settings, cases, replies, args.show)


def _fixed(query: str) -> Callable[[str, object], str]:
    return lambda question, history: query


def answers(settings: Settings, cases: list[Case], replies: Replies, show: bool) -> None:
    """Each case answered once per rewrite by the real chain, the rewrite swapped in."""
    s = settings
    llm = load_llm(str(replies.llm_name), ModelOptions(
        models_dir=replies.models_dir, max_tokens=s.max_answer_tokens,
        temperature=s.temperature, n_ctx=s.n_ctx, threads=s.threads))
    assistant = Assistant(s.model_copy(update={"llm": replies.llm_name}), llm=llm)
    replies.chain = text_chain("condense", llm)  # one model instance for both
    chain = assistant.chain
    rewrites = [(name, rewrite) for name, rewrite in variants(replies) if name != "as asked"]
    results: dict[tuple[str, str], list[tuple[bool, bool, float]]] = {}
    for n, case in enumerate(cases):
        for name, rewrite in rewrites[n % len(rewrites):] + rewrites[:n % len(rewrites)]:
            chain.standalone = _fixed(rewrite(case))  # type: ignore[method-assign,assignment]
            outcome = run_case(assistant, case, retrieval_only=False)
            seconds = float(outcome.scores.get("latency_s") or 0.0)
            results.setdefault((name, case.split), []).append(
                (outcome.passed, outcome.refused, seconds))
            if show:
                print(f"{name:18} {case.split:4} {'PASS' if outcome.passed else 'fail'} "
                      f"{case.id}: {' '.join(outcome.answer.split())[:140]}", flush=True)
    print("| rewrite | split | cases | answered right | refused | median s per answer |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (name, split), got in results.items():
        times = sorted(t for _, _, t in got)
        print(f"| {name} | {split} | {len(got)} | {sum(p for p, _, _ in got)}/{len(got)} | "
              f"{sum(r for _, r, _ in got)}/{len(got)} | {times[len(times) // 2]:.1f} |")


if __name__ == "__main__":
    main()
