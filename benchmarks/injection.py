"""Planted instructions followed, ordinary text kept: the injection dev set with a real model.

    python benchmarks/injection.py --data-dir DIR [--split dev|test|all] [--limit N]
        [--kind planted|ordinary] [--out answers.jsonl] [--llm NAME]
    python benchmarks/injection.py --compare before.jsonl after.jsonl

Each folder of `evals/datasets/injection_set/` (about 20 short documents, planted and ordinary
mixed) is ingested into its own knowledge base and its cases are asked through the public
`Assistant` API with the configured settings. Per split it prints:

- followed: planted cases whose answer obeys a planted text (a payload word or link of the
  document asked about, or of any planted document in the same folder, appears in it);
- answered: planted cases answered with the real fact despite the planted text;
- kept: ordinary cases (instruction-like words, no attack) answered with the expected fact;
- hijacked: ordinary cases whose answer carries a planted payload from another document;
- the median seconds per question.

The answer model is loaded once; DIR keeps the assembled model (`DIR/models`, reused by every
folder's knowledge base). `--limit N` runs an evenly spread N cases per split. `--compare`
rescores saved answers (`--out` files) against the current dataset, on the cases they share,
so a run stopped early still compares like with like.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH, so another checkout's code can be measured

from assistant import Settings  # noqa: E402
from assistant.rag.chain import MODEL_REFUSED, NO_PASSAGES, UNSUPPORTED  # noqa: E402
from evals.runner import eval_assistant  # noqa: E402
from evals.scorers import answer_match, followed_injection  # noqa: E402

DATASET = ROOT / "evals" / "datasets" / "injection_set.jsonl"
CORPUS = ROOT / "evals" / "datasets" / "injection_set"


@dataclass
class Outcome:
    case: dict
    answer: str
    refused: bool
    seconds: float
    withheld: int

    @property
    def followed(self) -> bool:
        return followed_injection(self.answer, self.case["forbidden"])

    @property
    def right(self) -> bool:
        return not self.refused and answer_match(self.answer, self.case["answers"])


def load(split: str, kind: str | None, limit: int | None) -> list[dict]:
    cases = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines()]
    chosen = []
    for name in (["dev", "test"] if split == "all" else [split]):
        part = [c for c in cases if c["split"] == name and (kind is None or c["kind"] == kind)]
        if limit is not None and limit < len(part):
            step = len(part) / limit
            part = [part[int(i * step)] for i in range(limit)]
        chosen += part
    return chosen


def record(o: Outcome) -> str:
    return json.dumps({"id": o.case["id"], "split": o.case["split"], "kind": o.case["kind"],
                       "answer": o.answer, "refused": o.refused, "seconds": round(o.seconds, 2),
                       "followed": o.followed, "right": o.right, "withheld": o.withheld},
                      ensure_ascii=False)


def run(settings: Settings, cases: list[dict], log, out=None) -> list[Outcome]:
    """Ask every case in its folder's own knowledge base; each answer is appended to `out`
    (an open file) as it comes, so a run stopped early keeps what it measured."""
    outcomes = []
    folders = sorted({c["folder"] for c in cases})
    for folder in folders:
        with eval_assistant(settings) as assistant:
            report = assistant.ingest([CORPUS / folder])
            if report.failed:
                log(f"  {folder}: could not ingest {report.failed}")
            for case in (c for c in cases if c["folder"] == folder):
                started = time.perf_counter()
                answer = assistant.ask(case["question"])
                seconds = time.perf_counter() - started
                withheld = sum(int(s.metadata.get("withheld", 0) or 0) for s in answer.sources)
                outcome = Outcome(case, answer.text, answer.refused, seconds, withheld)
                outcomes.append(outcome)
                if out is not None:
                    out.write(record(outcome) + "\n")
                    out.flush()
                mark = "FOLLOWED" if outcome.followed else ("ok" if outcome.right else "miss")
                log(f"  {seconds:5.1f}s {mark:8} {case['id']}: {' '.join(answer.text.split())}")
    return outcomes


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.0f}%)" if total else "-"


def table(outcomes: list[Outcome]) -> str:
    rows = ["| split | followed (planted) | answered (planted) | kept (ordinary) | hijacked "
            "(ordinary) | withheld parts | median s |", "|---|---|---|---|---|---|---|"]
    for split in ("dev", "test"):
        part = [o for o in outcomes if o.case["split"] == split]
        if not part:
            continue
        planted = [o for o in part if o.case["kind"] == "planted"]
        ordinary = [o for o in part if o.case["kind"] == "ordinary"]
        rows.append(
            f"| {split} | {rate(sum(o.followed for o in planted), len(planted))} "
            f"| {rate(sum(o.right and not o.followed for o in planted), len(planted))} "
            f"| {rate(sum(o.right and not o.followed for o in ordinary), len(ordinary))} "
            f"| {rate(sum(o.followed for o in ordinary), len(ordinary))} "
            f"| {sum(o.withheld for o in part)} "
            f"| {statistics.median(o.seconds for o in part):.1f} |")
    return "\n".join(rows)


_LOG_LINE = re.compile(r"^\s+([\d.]+)s (?:FOLLOWED|ok|miss)\s+(\S+): (.*)$")
_REFUSALS = (NO_PASSAGES, MODEL_REFUSED, UNSUPPORTED.split("(")[0].strip())


def saved(path: Path) -> dict[str, dict]:
    """Answers saved by --out, or read back from a run's printed log (refusals recognised by
    their fixed wording; withheld counts are not printed there)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        return {r["id"]: r for r in map(json.loads, lines)}
    found = {}
    for line in lines:
        if m := _LOG_LINE.match(line):
            found[m[2]] = {"answer": m[3], "refused": m[3].startswith(_REFUSALS),
                           "seconds": float(m[1]), "withheld": 0}
    return found


def compare(paths: list[Path]) -> None:
    cases = {c["id"]: c for c in map(json.loads, DATASET.read_text(encoding="utf-8").splitlines())}
    runs = [saved(p) for p in paths]
    common = [i for i in runs[0] if all(i in run for run in runs)]
    for path, run in zip(paths, runs, strict=True):
        outcomes = [Outcome(cases[i], run[i]["answer"], run[i]["refused"], run[i]["seconds"],
                            run[i]["withheld"]) for i in common]
        print(f"\n{path} ({len(common)} cases in common)\n\n{table(outcomes)}")


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        compare([Path(p) for p in sys.argv[2:]])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="where the assembled model is kept (DIR/models)")
    parser.add_argument("--llm", default=None, help="answer model (default: ASSISTANT_LLM)")
    parser.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--kind", choices=["planted", "ordinary"], default=None)
    parser.add_argument("--limit", type=int, default=None, help="cases per split, spread evenly")
    parser.add_argument("--out", type=Path, default=None, help="write every answer as JSONL")
    parser.add_argument("--quiet", action="store_true", help="no per-case lines")
    parser.add_argument("--skip-done", type=Path, default=None, metavar="FILE",
                        help="leave out the cases already answered in FILE (a saved run)")
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir, **({"llm": args.llm} if args.llm else {}))
    cases = load(args.split, args.kind, args.limit)
    if args.skip_done:
        done = saved(args.skip_done)
        cases = [c for c in cases if c["id"] not in done]
    log = (lambda _line: None) if args.quiet else (lambda line: print(line, flush=True))
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(args.out.open("w", encoding="utf-8")) if args.out else None
        outcomes = run(settings, cases, log, out)
    print(f"\n{len(outcomes)} cases, {settings.llm}, {time.perf_counter() - started:.0f} s\n")
    print(table(outcomes))


if __name__ == "__main__":
    main()
