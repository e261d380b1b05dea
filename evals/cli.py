"""`assistant eval` / `python -m evals`: run datasets, gate on their baselines, write reports.

Exit status: 0 when every dataset is within tolerance of its baseline (or the baseline was
updated), 1 on a regression or when there is no baseline to compare with.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from assistant import Assistant, Settings
from evals import report
from evals.adapters import load_beir, load_news, load_squad
from evals.baseline import BASELINES_DIR, BaselineFile
from evals.cases import BUILTIN, DEFAULT_DATASET, SPLITS, Dataset, EvalError, load_cases
from evals.gate import compare_run
from evals.judge import Judge
from evals.runner import CaseResult, RunResult, dump_line, eval_assistant, ingest_corpus, run

DEFAULT_DATASETS = [DEFAULT_DATASET, "injection"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The eval options (shared by `assistant eval` and `python -m evals`)."""
    parser.description = (
        "Run eval datasets with the configured models, compare every metric with the committed "
        "baseline and exit 1 on a regression.")
    parser.add_argument(
        "--dataset", action="append", metavar="NAME|PATH|beir:PATH|squad:PATH|news:PATH",
        help=f"what to run (repeatable): a bundled set ({', '.join(BUILTIN)}), a .jsonl/.yaml "
        "case file, a BEIR folder, a SQuAD-style folder or a MultiHop-RAG news folder; "
        f"default: {' and '.join(DEFAULT_DATASETS)}")
    parser.add_argument("--corpus", action="append", type=Path, metavar="PATH",
                        help="files or folders a case file's questions are about (repeatable)")
    parser.add_argument("--baseline", type=Path, metavar="PATH",
                        help="baseline file (default: evals/baselines/<dataset>.json)")
    parser.add_argument("--update-baseline", action="store_true",
                        help="record this run as the baseline for its configuration")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="run an evenly spread subset of N cases")
    parser.add_argument("--split", choices=SPLITS,
                        help="answer datasets: only the dev or the test half of the cases "
                        "(fixed by a hash of the case id; default: all)")
    parser.add_argument("--dump", type=Path, metavar="PATH",
                        help="write one JSON line per case (id, split, answerable, matched, "
                        "refused, reason, the answer's signals) to PATH")
    parser.add_argument("--max-docs", type=int, metavar="N",
                        help="BEIR: ingest only the judged documents of the cases plus N others")
    parser.add_argument("--tolerance", type=float, metavar="X",
                        help="allowed drop of rate metrics (default 0.05)")
    parser.add_argument("--report", type=Path, metavar="DIR",
                        help="where the HTML report goes (default: <data dir>/eval-reports)")
    parser.add_argument("--keep-index", type=Path, metavar="DIR",
                        help="keep the ingested corpus in DIR and reuse it next time")
    parser.add_argument("--judge", metavar="MODEL",
                        help="also score answers with this LLM judge, e.g. openai:gpt-4o-mini")


def register(commands: argparse._SubParsersAction) -> None:
    """`assistant eval`: this package's command, found through the `docs_assistant.commands`
    entry point so that `assistant` never imports `evals`."""
    parser = commands.add_parser(
        "eval", help="run the evals and compare with the committed baseline")
    add_arguments(parser)
    parser.set_defaults(func=lambda args: evaluate(args, _settings(args)))


def _settings(args: argparse.Namespace) -> Settings:
    """Settings with the global options `--data-dir`, `--llm` and `-k` that were given."""
    return Settings.from_options(data_dir=args.data_dir, llm=args.llm, k=args.k)


def load_dataset(spec: str, args: argparse.Namespace, workdir: Path) -> Dataset:
    """A dataset from its name, its file or a `beir:`/`squad:`/`news:` folder (written into
    `workdir`), cut to `--split` and then `--limit`."""
    kind, _, rest = spec.partition(":")
    if kind in ("beir", "squad", "news") and rest:
        root = Path(rest).expanduser()
        if not root.is_dir():
            raise EvalError(f"No benchmark folder at {root}.", fix=f"pass {kind}:PATH to a folder")
        # a restricted corpus gets its own folder: ingest takes every file in the folder
        docs = f"-docs{args.max_docs}" if kind == "beir" and args.max_docs is not None else ""
        corpus = workdir / f"{kind}-{root.name}{docs}-corpus"
        if kind == "beir":
            if args.split:
                raise EvalError("--split applies to answer datasets, not BEIR folders.",
                                fix="leave out --split, or use --limit for a smaller run")
            return load_beir(root, corpus, limit=args.limit, max_docs=args.max_docs)
        loader = load_squad if kind == "squad" else load_news
        return loader(root, corpus).only(args.split).limited(args.limit)
    if spec in BUILTIN:
        path, corpus_paths = BUILTIN[spec]
        cases, _ = load_cases(path)
        dataset = Dataset(spec, cases, args.corpus or corpus_paths)
    else:
        path = Path(spec).expanduser()
        cases, corpus_paths = load_cases(path)
        dataset = Dataset(path.stem, cases, args.corpus or corpus_paths)
    return dataset.only(args.split).limited(args.limit)


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    """Run every requested dataset; 0 when all pass their gates."""
    specs = args.dataset or DEFAULT_DATASETS
    if args.baseline and len(specs) > 1:
        raise EvalError("--baseline names one file but several datasets are run.",
                        fix="pass a single --dataset with --baseline")
    judge = Judge(Assistant(settings.model_copy(update={"llm": args.judge})).llm) \
        if args.judge else None
    failures = 0
    with contextlib.ExitStack() as stack:
        keep = args.keep_index.expanduser() if args.keep_index else None
        workdir = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="eval-")))
        dump = stack.enter_context(_open_dump(args.dump))
        for spec in specs:
            dataset = load_dataset(spec, args, workdir)
            index = keep / dataset.name if keep else None
            model = "retrieval only" if dataset.retrieval_only else f"llm={settings.llm}"
            print(f"== {dataset.name}: {len(dataset.cases)} cases, {model}, k={settings.k}",
                  flush=True)
            with eval_assistant(settings, index) as assistant:
                ingest_corpus(assistant, dataset)
                result = run(assistant, dataset, judge,
                             on_case=_progress(len(dataset.cases), dataset.name, dump))
            failures += not gate(result, args, settings)
    return 1 if failures else 0


@contextlib.contextmanager
def _open_dump(path: Path | None) -> Iterator[TextIO | None]:
    """The `--dump` file, emptied at the start of the run (None without `--dump`)."""
    if path is None:
        yield None
        return
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _progress(total: int, dataset: str = "",
              dump: TextIO | None = None) -> Callable[[int, CaseResult], None]:
    """Print every case of a small run; of a large one, failures and every 25th case. Each
    case goes to the dump as it finishes, so a long run stopped early keeps what it did."""
    every = 1 if total <= 100 else 25

    def show(index: int, result: CaseResult) -> None:
        if index % every == 0 or not result.passed:
            print(report.case_line(index, total, result), flush=True)
        if dump is not None:
            dump.write(json.dumps(dump_line(dataset, result), ensure_ascii=False) + "\n")
            dump.flush()

    return show


def gate(result: RunResult, args: argparse.Namespace, settings: Settings) -> bool:
    """Compare with the baseline, print and write the report; True when the gate passes."""
    path = args.baseline or BASELINES_DIR / f"{result.dataset}.json"
    baselines = BaselineFile.load(path)
    entry, exact = baselines.find(result.config)
    where = str(path) if entry is None else path.name
    comparison = compare_run(result, entry, exact, where, args.tolerance)

    print(comparison.note)
    print(report.table(comparison.changes))
    passes = sum(r.passed for r in result.results)
    print(f"{passes}/{len(result.results)} cases passed in {result.seconds:.0f} s.")
    if report.outcomes(result):
        print(f"  {report.outcomes(result)}")
    for r in comparison.flipped:
        print(f"  pass -> FAIL  {r.case.id}: {r.case.question!r} -> {' '.join(r.answer.split())!r}")
    for r in comparison.fixed:
        print(f"  fail -> pass  {r.case.id}")
    if comparison.new:
        # a whole benchmark against a baseline of a --limit run would list hundreds of ids
        more = len(comparison.new) - 10
        print(f"  not in the baseline: {', '.join(comparison.new[:10])}"
              + (f" and {more} more" if more > 0 else ""))

    if args.update_baseline:
        baselines.record(result.config, result.started,
                         {r.case.id: (r.passed, r.scores) for r in result.results})
        baselines.save()
        verdict, ok = f"baseline updated ({path})", True
    elif not comparison.has_baseline:
        verdict, ok = "NO BASELINE: record one with --update-baseline", False
    elif comparison.regressed:
        verdict, ok = f"REGRESSION in {', '.join(c.metric for c in comparison.regressed)}", False
    else:
        verdict, ok = "pass: no metric regressed", True
    history = baselines.history_for(entry.config if entry else result.config)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = args.report or Path(settings.data_dir).expanduser() / "eval-reports"
    written = report.write_html(folder / f"{result.dataset}-{stamp}.html", result,
                                comparison.changes, verdict, comparison.note, history)
    print(f"{result.dataset}: {verdict}. Report: {written}")
    return ok


def main(argv: list[str] | None = None) -> int:
    """`python -m evals`: the options of `assistant eval`, plus --data-dir, --llm and -k."""
    import sys

    from assistant.errors import ERRORS, describe

    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="settings data dir (for the model files)")
    parser.add_argument("--llm", help="answer model, e.g. llamacpp:qwen2.5-coder-1.5b, fake")
    parser.add_argument("-k", type=int, help="passages retrieved per question")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return evaluate(args, _settings(args))
    except ERRORS as exc:
        print(f"Error: {describe(exc)}", file=sys.stderr)
        return 1
