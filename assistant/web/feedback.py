"""Thumbs up/down on answers, appended to `<data_dir>/feedback.jsonl` as eval cases.

Each line is a case in the evals format (`id`, `question`, `answers`, `all`, `unanswerable`,
`history`, `sources`) plus what was rated (`rating`, `comment`, `answer`, `refused`, `model`,
`created`). A liked answer becomes its own accepted answer (or, for a liked refusal, an
`unanswerable` case); a disliked one keeps `answers` empty for a person to fill in. A comment
added later is appended as a new line with the same `id`: `read` keeps the last line per id.
`to_cases` keeps the liked ones with the case fields only, ready for an evals dataset:

    python -m assistant.web.feedback ~/.local/share/docs-assistant/feedback.jsonl > cases.jsonl
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FILE_NAME = "feedback.jsonl"
CASE_FIELDS = ("id", "question", "answers", "all", "unanswerable", "history", "sources")


def make_record(turn: dict[str, Any], rating: str, comment: str = "") -> dict[str, Any]:
    """The feedback line for one answered `turn` (question, answer, refused, sources, history,
    model, as the chat UI keeps them)."""
    question, answer = str(turn["question"]), str(turn["answer"])
    refused = bool(turn.get("refused"))
    liked = rating == "up"
    digest = hashlib.sha256(f"{question}\n{answer}\n{turn.get('created', '')}".encode())
    return {
        "id": f"feedback-{digest.hexdigest()[:12]}",
        "question": question,
        "answers": [answer] if liked and not refused else [],
        "all": False,
        "unanswerable": liked and refused,
        "history": [list(pair) for pair in turn.get("history", [])],
        "sources": list(turn.get("sources", [])),
        "rating": rating,
        "comment": comment.strip(),
        "answer": answer,
        "refused": refused,
        "model": turn.get("model", ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def append(path: Path, record: dict[str, Any]) -> None:
    """Add one line; appends keep concurrent writers from clobbering each other's lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def read(path: Path) -> list[dict[str, Any]]:
    """The feedback records in `path`, the latest line for each id, in first-seen order."""
    if not path.exists():
        return []
    latest: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            latest[record["id"]] = record
    return list(latest.values())


def to_cases(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Eval cases from the liked answers (a disliked one needs a person to write the answer)."""
    return [{key: r[key] for key in CASE_FIELDS} for r in records
            if r.get("rating") == "up" and (r["answers"] or r["unanswerable"])]


if __name__ == "__main__":
    for case in to_cases(read(Path(sys.argv[1]))):
        print(json.dumps(case, ensure_ascii=False))
