"""How often the answer-type check wrongly fails a gold answer, and how often it catches a dodge.

    python benchmarks/answer_types.py [--failures dev|test] [--kind KIND]

Over the gold answers of the SQuAD 2.0 two-article set (answerable questions), the MultiHop-RAG
news set (non-null questions, ../shared/bench) and evals/datasets/sample_article.jsonl, each
question gets `expected(question)`; for the typed ones it prints, on the dev and test halves
(sha1 of the case id: first byte even -> dev):

- typed: share of questions with an answer type (coverage);
- false alarm: gold answers that fail their own type check, written alone ("Rollo [1].") and
  as the sentence of the paragraph that holds them (when one does);
- caught: plausible wrong answers that fail the check: the gold answer (alone) of the next
  question on the same paragraph (SQuAD) or set that asks for another kind (the wrong fact
  picked); the gold answer's sentence with the answer replaced by "it" (the slot dodged,
  everything else kept); the first sentence of the gold paragraph / evidence that does not
  hold the gold answer; and the one sharing the most words with the question.

No model is loaded; it runs in a second. `--failures` lists one half's false alarms and
uncaught wrong answers (the rules were tuned on dev only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH, so another checkout's code can be measured

from assistant.rag.answer_type import KINDS, expected, satisfies  # noqa: E402
from ingest.text import ascii_words, sentences  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"
SAMPLE = ROOT / "evals" / "datasets" / "sample_article.jsonl"
ARTICLE = ROOT / "data" / "sample" / "us-chip-export-controls.txt"


@dataclass
class Item:
    dataset: str
    id: str
    question: str
    gold: str
    golds: list[str]
    context: list[str]  # the sentences of the gold paragraph / evidence
    group: str  # the paragraph (SQuAD) or document set the question is about
    other: str | None = None  # the gold answer of a question of another kind in its group

    @property
    def split(self) -> str:
        return "dev" if hashlib.sha1(self.id.encode()).digest()[0] % 2 == 0 else "test"

    def _holds(self, sentence: str) -> bool:
        return any(re.search(rf"(?<!\w){re.escape(g)}(?!\w)", sentence, re.IGNORECASE)
                   for g in self.golds)

    @property
    def source(self) -> str | None:
        return next((s for s in self.context if self._holds(s)), None)

    @property
    def blanked(self) -> str | None:
        """Its sentence with the gold answer taken out: the slot dodged, the rest kept."""
        if not self.source:
            return None
        return re.sub("|".join(rf"(?<!\w){re.escape(g)}(?!\w)" for g in self.golds), "it",
                      self.source, flags=re.IGNORECASE)

    @property
    def first_other(self) -> str | None:
        return next((s for s in self.context if not self._holds(s)), None)

    @property
    def closest_other(self) -> str | None:
        asked = {w for w in ascii_words(self.question) if len(w) > 3}
        others = [s for s in self.context if not self._holds(s)]
        if not others:
            return None
        return max(others, key=lambda s: len(asked & set(ascii_words(s))))


def jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as rows:
        yield from (json.loads(line) for line in rows if line.strip())


def squad() -> Iterator[Item]:
    folder = BENCH / "squad2_two_articles"
    paragraphs = {p["paragraph_id"]: p["text"] for p in jsonl(folder / "paragraphs.jsonl")}
    for q in jsonl(folder / "questions.jsonl"):
        if not q["is_impossible"]:
            yield Item("SQuAD 2.0", q["id"], q["question"], q["answers"][0], q["answers"],
                       sentences(paragraphs[q["paragraph_id"]], lines=True), q["paragraph_id"])


def multihop() -> Iterator[Item]:
    folder = BENCH / "multihop_news"
    facts = {f["fact_id"]: f["fact"] for f in jsonl(folder / "evidence_facts.jsonl")}
    for q in jsonl(folder / "questions.jsonl"):
        if q["question_type"] != "null_query":
            context = [s for f in q["evidence_fact_ids"] for s in sentences(facts[f], lines=True)]
            yield Item("MultiHop news", q["id"], q["question"], q["answer"], [q["answer"]],
                       context, "news")


def sample() -> Iterator[Item]:
    article = sentences(ARTICLE.read_text(encoding="utf-8"), lines=True)
    for case in jsonl(SAMPLE):
        if not case["unanswerable"]:
            gold = ", ".join(case["answers"]) if case["all"] else case["answers"][0]
            yield Item("sample article", case["id"], case["question"], gold, case["answers"],
                       article, "article")


def pair(items: list[Item]) -> list[Item]:
    """Give each item `other`: the gold answer of the next question in its group (wrapping
    round) that asks for another kind, the answer a model gives when it picks the wrong fact."""
    for n, item in enumerate(items):
        group = [i for i in items[n + 1:] + items[:n] if i.group == item.group]
        kind = expected(item.question)
        item.other = next((i.gold for i in group if expected(i.question) != kind), None)
    return items


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.1f}%)" if total else "-"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)) + " |"

    return "\n".join([f"## {title}", line(header), line(["-" * w for w in widths]),
                      *(line(r) for r in rows)])


def scores(items: list[Item]) -> list[str]:
    typed = [(i, k) for i in items if (k := expected(i.question))]
    alone = sum(not satisfies(f"{i.gold} [1].", k, i.question) for i, k in typed)
    with_source = [(i, k) for i, k in typed if i.source]
    in_source = sum(not satisfies(i.source or "", k, i.question) for i, k in with_source)
    blanked = [(i, k) for i, k in with_source]
    others = [(i, k) for i, k in typed if i.other]
    firsts = [(i, k) for i, k in typed if i.first_other]
    closest = [(i, k) for i, k in typed if i.closest_other]
    return [
        rate(len(typed), len(items)), rate(alone, len(typed)), rate(in_source, len(with_source)),
        rate(sum(not satisfies(f"{i.other} [1].", k, i.question) for i, k in others),
             len(others)),
        rate(sum(not satisfies(i.blanked or "", k, i.question) for i, k in blanked),
             len(blanked)),
        rate(sum(not satisfies(i.first_other or "", k, i.question) for i, k in firsts),
             len(firsts)),
        rate(sum(not satisfies(i.closest_other or "", k, i.question) for i, k in closest),
             len(closest)),
    ]


HEADER = ["typed", "false alarm: alone", "false alarm: its sentence",
          "caught: another kind's answer", "caught: answer taken out", "caught: first other",
          "caught: closest other"]


def failures(items: list[Item], split: str, only: str | None) -> None:
    for i in items:
        kind = expected(i.question)
        if i.split != split or kind is None or (only and kind != only):
            continue
        if not satisfies(f"{i.gold} [1].", kind, i.question):
            print(f"FALSE ALARM {kind:6} {i.dataset}: {i.question!r} -> {i.gold!r}")
        if i.source and not satisfies(i.source, kind, i.question):
            print(f"FALSE ALARM {kind:6} (sentence) {i.question!r} -> {i.source!r}")
        other = f"{i.other} [1]." if i.other else None
        for label, wrong in (("other", other), ("blanked", i.blanked),
                             ("closest", i.closest_other)):
            if wrong and satisfies(wrong, kind, i.question):
                print(f"PASSED {label} {kind:6} {i.dataset}: {i.question!r} -> {wrong[:160]!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", choices=["dev", "test"], help="list one half's misses")
    parser.add_argument("--kind", choices=KINDS, help="with --failures: only this kind")
    args = parser.parse_args(argv)
    items = pair([*squad(), *multihop(), *sample()])
    if args.failures:
        failures(items, args.failures, args.kind)
        return 0
    rows = []
    for dataset in dict.fromkeys(i.dataset for i in items):
        for split in ("dev", "test"):
            chosen = [i for i in items if i.dataset == dataset and i.split == split]
            rows.append([dataset, split, *scores(chosen)])
    for split in ("dev", "test"):
        rows.append(["all", split, *scores([i for i in items if i.split == split])])
    print(table("Answer types on gold answers", ["set", "split", *HEADER], rows))
    kinds = []
    for kind in KINDS:
        for split in ("dev", "test"):
            chosen = [i for i in items if i.split == split and expected(i.question) == kind]
            kinds.append([kind, split, str(len(chosen)), *scores(chosen)[1:]])
    print()
    print(table("By kind", ["kind", "split", "questions", *HEADER[1:]], kinds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
