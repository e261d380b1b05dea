"""Eval cases and datasets: loading JSONL or YAML case files, strictly, naming the bad line.

A case file holds one case per line (`.jsonl`) or a YAML document (`.yaml`/`.yml`) that is
either a list of cases or a mapping with `cases:` and an optional `corpus:` (paths to ingest,
relative to the file). Adapters for public benchmarks (BEIR, SQuAD) live in `evals.adapters`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import FixableError

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"

SPLITS = ("dev", "test")
_FIELDS = {"id", "question", "answers", "all", "unanswerable", "history", "sources", "forbidden",
           "kind", "folder", "split", "carry"}


class EvalError(FixableError):
    """A dataset, baseline or eval option that cannot be used."""


def split_of(case_id: str) -> str:
    """dev or test, fixed by the id's hash (about half each): fit on dev, report on test."""
    return "dev" if hashlib.sha256(case_id.encode()).digest()[0] % 2 == 0 else "test"


@dataclass(frozen=True)
class Case:
    """One question with what counts as a right answer.

    `answers` are accepted strings (any one suffices, or every one when `all`); `sources` are
    the file names that hold the answer; `forbidden` are strings an answer must never contain
    (what an injected instruction asks for); `history` is earlier (question, answer) turns.
    `kind`, `folder` and `split` are free labels a dataset may use (the injection set: planted
    or ordinary, the corpus subfolder it is asked in, dev or test). `carry`: names from the
    history a follow-up's rewrite must keep, any one of them (the follow-up set).
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    all: bool = False
    unanswerable: bool = False
    history: tuple[tuple[str, str], ...] = ()
    sources: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    kind: str = ""
    folder: str = ""
    split: str = ""
    carry: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return not self.unanswerable

    @property
    def part(self) -> str:
        """The case's split: the one its file names, else the one its id hashes to."""
        return self.split or split_of(self.id)


@dataclass
class Dataset:
    """Cases plus the corpus they are asked about.

    `retrieval_only` datasets (BEIR) are scored on retrieval alone: no answer model runs.
    `corpus` lists files or folders to ingest.
    """

    name: str
    cases: list[Case]
    corpus: list[Path] = field(default_factory=list)
    retrieval_only: bool = False

    def limited(self, limit: int | None) -> Dataset:
        """An evenly spread subset of `limit` cases (all when None), in the original order.

        Spread rather than the first N, so that a small run still mixes kinds of cases.
        """
        if limit is None or limit >= len(self.cases):
            return self
        if limit < 1:
            raise EvalError(f"--limit must be at least 1, not {limit}.",
                            fix="pass --limit 1 or more")
        step = len(self.cases) / limit
        picked = [self.cases[int(i * step)] for i in range(limit)]
        return Dataset(self.name, picked, self.corpus, self.retrieval_only)

    def only(self, split: str | None) -> Dataset:
        """The cases of one split (`dev` or `test`, see `Case.part`); all when None."""
        if split is None:
            return self
        if split not in SPLITS:
            raise EvalError(f"Unknown split {split!r}.", fix="pass --split dev or --split test")
        return Dataset(self.name, [c for c in self.cases if c.part == split], self.corpus,
                       self.retrieval_only)


def case_from_dict(raw: Any, where: str) -> Case:
    """Validate one case; `where` names the file and line in errors."""
    if not isinstance(raw, dict):
        raise EvalError(f"{where}: a case must be an object, got {type(raw).__name__}.",
                        fix="write each case as {\"id\": ..., \"question\": ...}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise EvalError(f"{where}: unknown field(s) {', '.join(unknown)}.",
                        fix=f"use only {', '.join(sorted(_FIELDS))}")
    for name in ("id", "question"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise EvalError(f"{where}: '{name}' must be a non-empty string.",
                            fix=f"add a \"{name}\" to the case")
    strings = {name: _strings(raw, name, where)
               for name in ("answers", "sources", "forbidden", "carry")}
    history = raw.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(turn, list | tuple) and len(turn) == 2 and all(isinstance(t, str) for t in turn)
        for turn in history
    ):
        raise EvalError(f"{where}: 'history' must be a list of [question, answer] pairs.",
                        fix="write it as [[\"earlier q\", \"earlier a\"], ...]")
    unanswerable = bool(raw.get("unanswerable", False))
    if not unanswerable and not strings["answers"] and not strings["sources"]:
        raise EvalError(f"{where}: case '{raw['id']}' has no answers or sources to score.",
                        fix="list accepted answers, expected sources, or set unanswerable: true")
    return Case(
        id=raw["id"], question=raw["question"], answers=strings["answers"],
        all=bool(raw.get("all", False)), unanswerable=unanswerable,
        history=tuple((q, a) for q, a in history), sources=strings["sources"],
        forbidden=strings["forbidden"],
        kind=_label(raw, "kind", where), folder=_label(raw, "folder", where),
        split=_label(raw, "split", where), carry=strings["carry"],
    )


def _label(raw: dict[str, Any], name: str, where: str) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str):
        raise EvalError(f"{where}: '{name}' must be a string.",
                        fix=f"write it as \"{name}\": \"...\"")
    return value


def _strings(raw: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = raw.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise EvalError(f"{where}: '{name}' must be a list of non-empty strings.",
                        fix=f"write it as \"{name}\": [\"...\"]")
    return tuple(value)


def load_cases(path: Path) -> tuple[list[Case], list[Path]]:
    """Cases from a JSONL or YAML file, and the corpus the YAML form may name."""
    if not path.is_file():
        raise EvalError(f"No dataset file at {path}.", fix="pass --dataset with an existing file")
    text = path.read_text(encoding="utf-8")
    corpus: list[Path] = []
    if path.suffix in (".yaml", ".yml"):
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise EvalError(f"{path}: not valid YAML ({exc}).", fix="fix the YAML syntax") from exc
        if isinstance(doc, dict):
            corpus = [(path.parent / p).resolve() for p in doc.get("corpus") or []]
            doc = doc.get("cases")
        if not isinstance(doc, list):
            raise EvalError(f"{path}: expected a list of cases or a mapping with 'cases'.",
                            fix="put the cases under a top-level 'cases:' key")
        cases = [case_from_dict(raw, f"{path}, case {i}") for i, raw in enumerate(doc, start=1)]
    else:
        cases = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalError(f"{path}, line {number}: not valid JSON ({exc.msg}).",
                                fix="write one JSON object per line") from exc
            cases.append(case_from_dict(raw, f"{path}, line {number}"))
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise EvalError(f"{path}: duplicate case id(s) {', '.join(duplicates)}.",
                        fix="give every case its own id")
    if not cases:
        raise EvalError(f"{path} holds no cases.", fix="add at least one case")
    return cases, corpus


# The bundled datasets, by name: the case file and the corpus to ingest for it.
BUILTIN: dict[str, tuple[Path, list[Path]]] = {
    "sample_article": (DATASETS_DIR / "sample_article.jsonl", [SAMPLE_DIR]),
    "injection": (DATASETS_DIR / "injection.jsonl", [SAMPLE_DIR, DATASETS_DIR / "injection"]),
    "followups": (DATASETS_DIR / "followups.jsonl", [SAMPLE_DIR, DATASETS_DIR / "followups"]),
    "tables": (DATASETS_DIR / "tables.jsonl", [SAMPLE_DIR, DATASETS_DIR / "tables"]),
}
DEFAULT_DATASET = "sample_article"
