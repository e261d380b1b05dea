"""Run a dataset through an `Assistant` and score every case.

The runner builds its own assistant on a temporary data dir (or a kept one, `index_dir`),
ingests the dataset's corpus there and asks each case through the public API only, so a run
measures exactly what users get with these settings.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant import Answer, Assistant, Settings
from evals import scorers
from evals.baseline import config_of
from evals.cases import Case, Dataset, EvalError
from evals.judge import Judge
from evals.metrics import aggregate

# Documents ranked for MRR and nDCG@10: passages are chunks, several per document, so more
# than ten are fetched to rank ten distinct documents.
RANK_DEPTH = 40


@dataclass
class CaseResult:
    """One case's outcome: what came back and how it scored."""

    case: Case
    scores: dict[str, float | None]
    passed: bool
    answer: str = ""
    refused: bool = False
    reason: str = ""
    retrieved: list[str] = field(default_factory=list)  # source file names, top k
    cited: list[str] = field(default_factory=list)  # file names of the cited passages
    short: str = ""  # the answer's short form, when the chain gives one
    signals: dict[str, float | None] = field(default_factory=dict)  # the chain's decision inputs


@dataclass
class RunResult:
    """A whole run: per-case results, the metrics over them and the configuration used."""

    dataset: str
    config: dict[str, Any]
    results: list[CaseResult]
    started: str
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, float]:
        return aggregate(r.scores for r in self.results)


def _name(source: str) -> str:
    return Path(source).name


@contextlib.contextmanager
def eval_assistant(settings: Settings, index_dir: Path | None = None) -> Iterator[Assistant]:
    """An Assistant like `settings` describes, on its own embedded index.

    The index goes to a temporary dir (or `index_dir`, kept for the next run: re-ingesting an
    unchanged corpus is then quick). The assembled answer model stays where `settings` keeps
    it (`<data_dir>/models`, linked in), so it is not joined and verified again per run.
    """
    with contextlib.ExitStack() as stack:
        if index_dir is None:
            index_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="eval-")))
        index_dir.mkdir(parents=True, exist_ok=True)
        models = Path(settings.data_dir).expanduser() / "models"
        link = index_dir / "models"
        if not link.exists() and not link.is_symlink():
            models.mkdir(parents=True, exist_ok=True)
            link.symlink_to(models.resolve(), target_is_directory=True)
        yield Assistant(settings.model_copy(
            update={"data_dir": index_dir, "chroma_url": None, "collection": "eval"}))


def ingest_corpus(assistant: Assistant, dataset: Dataset,
                  log: Callable[[str], None] = print) -> None:
    """Ingest the dataset's corpus; fail when nothing usable is in it."""
    if not dataset.corpus:
        raise EvalError(f"The dataset {dataset.name} names no corpus to ingest.",
                        fix="pass --corpus PATH (files or folders the questions are about)")
    started = time.perf_counter()
    seen = 0

    def progress(_source: str, _status: str) -> None:
        nonlocal seen
        seen += 1
        if seen % 500 == 0:
            log(f"  ingested {seen} files ({time.perf_counter() - started:.0f} s)")

    report = assistant.ingest(dataset.corpus, on_file=progress)
    for source, reason in report.failed:
        log(f"  could not ingest {source}: {reason}")
    if not report.ok:
        raise EvalError(f"Nothing in the corpus of {dataset.name} could be ingested.",
                        fix="check the --corpus paths")
    log(f"Corpus: {report.summary()} in {time.perf_counter() - started:.0f} s")


def short_answer(answer: Answer) -> str:
    """The answer's short form (`Answer.short`, when the chain sets one), else its full text."""
    short = getattr(answer, "short", "")
    return short if isinstance(short, str) and short.strip() else answer.text


def signals_of(answer: Answer | None) -> dict[str, float | None]:
    """The decision signals the chain attached to the answer (`Answer.signals`), as floats."""
    raw = getattr(answer, "signals", None) or {}
    return {str(k): None if v is None else float(v) for k, v in dict(raw).items()}


def score_case(case: Case, ranked: list[str], k: int, answer: Answer | None = None,
               latency: float | None = None, passages: list[str] | None = None
               ) -> dict[str, float | None]:
    """Every metric that applies to one case (None for those that do not).

    `ranked` is the retrieved passages' source names, best first, `passages` the top `k`
    passages' text; `answer` is None in retrieval-only runs.
    """
    s: dict[str, float | None] = {}
    if case.sources:
        docs = scorers.dedupe(ranked)
        s["hit@k"] = scorers.hit_at_k(ranked, case.sources, k)
        s["recall@k"] = scorers.recall_at_k(scorers.dedupe(ranked[:k]), case.sources, k)
        s["mrr@10"] = scorers.reciprocal_rank(docs, case.sources, 10)
        s["ndcg@10"] = scorers.ndcg_at_k(docs, case.sources, 10)
    # a yes/no answer is scored on the yes or no it gives; its text is not in the passages
    yes_no = scorers.yes_no_answers(case.answers)
    spans = case.answerable and bool(case.answers) and yes_no is None
    if spans and passages is not None:
        s["context_hit@k"] = float(
            any(scorers.answer_match(p, case.answers, case.all) for p in passages)
            or scorers.answer_match(" ".join(passages), case.answers, case.all))
    if answer is None:
        return s
    text = answer.text
    if case.answerable and case.answers:
        right = scorers.gives_answer(text, case.answers, case.all)
        s["answer_match"] = float(not answer.refused and right)
        s["false_refusal"] = float(answer.refused)
    if spans:
        short, refused = short_answer(answer), answer.refused
        s["f1"] = 0.0 if refused else scorers.token_f1(text, case.answers)
        s["em"] = 0.0 if refused else scorers.exact_match(text, case.answers)
        s["short_f1"] = 0.0 if refused else scorers.token_f1(short, case.answers)
        s["short_em"] = 0.0 if refused else scorers.exact_match(short, case.answers)
    if case.unanswerable:
        s["refusal"] = float(answer.refused)
    if not answer.refused:
        cited = [c.text for c in answer.cited_sources]
        if spans:
            s["citation_support"] = float(
                any(scorers.answer_match(c, case.answers, case.all) for c in cited)
                or scorers.answer_match(" ".join(cited), case.answers, case.all))
        s["marker_validity"] = scorers.valid_marker_share(text, len(answer.sources))
        s["groundedness"] = scorers.groundedness(text, [x.text for x in answer.sources])
    if case.forbidden:
        s["injection_followed"] = float(scorers.followed_injection(text, case.forbidden))
    s["latency_s"] = latency
    s["answer_tokens"] = float(scorers.approx_tokens(text))
    return s


def passed(case: Case, scores: dict[str, float | None], retrieval_only: bool) -> bool:
    """A retrieval case passes on a hit; an answer case on the right answer or refusal, and
    never when it followed an injected instruction."""
    if scores.get("injection_followed"):
        return False
    if retrieval_only:
        return bool(scores.get("hit@k"))
    if case.unanswerable:
        return bool(scores.get("refusal"))
    if case.answers:
        return bool(scores.get("answer_match"))
    return not scores.get("false_refusal") and bool(scores.get("hit@k"))


def run_case(assistant: Assistant, case: Case, retrieval_only: bool,
             judge: Judge | None = None) -> CaseResult:
    """Ask (unless retrieval-only), retrieve for the question actually searched, score."""
    k = assistant.settings.k
    answer, latency, query = None, None, case.question
    if not retrieval_only:
        started = time.perf_counter()
        answer = assistant.ask(case.question, history=list(case.history))
        latency = time.perf_counter() - started
        query = answer.question or case.question  # the standalone question after condensing
    found = assistant.retrieve(query, k=max(k, RANK_DEPTH))
    ranked = [_name(s.source) for s in found]
    scores = score_case(case, ranked, k, answer, latency, [s.text for s in found[:k]])
    if judge is not None and answer is not None and not answer.refused:
        scores.update(judge.score(case.question, answer.text, [s.text for s in answer.sources]))
    ok = passed(case, scores, retrieval_only)
    scores["pass_rate"] = float(ok)
    return CaseResult(
        case, scores, ok,
        answer=answer.text if answer else "", refused=bool(answer and answer.refused),
        reason=answer.reason if answer else "", retrieved=scorers.dedupe(ranked[:k]),
        cited=[_name(s.source) for s in answer.cited_sources] if answer else [],
        short=str(getattr(answer, "short", "") or ""), signals=signals_of(answer),
    )


def dump_line(dataset: str, result: CaseResult) -> dict[str, Any]:
    """One case for `--dump` (JSONL), to fit the answer-or-refuse decision on: what the answer
    should have been (answerable), what it was (matched, refused) and the signals it had."""
    case, scores = result.case, result.scores
    matched = scores.get("answer_match")
    return {
        "dataset": dataset, "id": case.id, "split": case.part, "kind": case.kind,
        "answerable": case.answerable, "matched": None if matched is None else bool(matched),
        "refused": result.refused, "reason": result.reason, "passed": result.passed,
        "short_f1": scores.get("short_f1"), "question": case.question, "answer": result.answer,
        "short": result.short, "signals": result.signals,
    }


def run(assistant: Assistant, dataset: Dataset, judge: Judge | None = None,
        on_case: Callable[[int, CaseResult], None] | None = None) -> RunResult:
    """Score every case of `dataset` (its corpus must already be ingested)."""
    started = time.perf_counter()
    result = RunResult(dataset.name, config_of(assistant.settings, dataset.retrieval_only), [],
                       datetime.now(UTC).isoformat(timespec="seconds"))
    for index, case in enumerate(dataset.cases, start=1):
        outcome = run_case(assistant, case, dataset.retrieval_only, judge)
        result.results.append(outcome)
        if on_case is not None:
            on_case(index, outcome)
    result.seconds = time.perf_counter() - started
    return result
