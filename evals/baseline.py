"""Committed baselines: per dataset one JSON file, inside it one entry per configuration.

An entry keeps every case's scores and pass/fail, so a `--limit` run is compared with the
baseline's values on the same cases. `history` keeps the metrics of every recorded baseline
for the report's chart. A configuration with no entry of its own is compared with the
reference entry (the default settings): a run with a weaker model or k=0 then fails the gate
instead of passing for lack of a baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from assistant import Settings
from evals.cases import EvalError
from evals.metrics import Scores, aggregate

BASELINES_DIR = Path(__file__).resolve().parent / "baselines"

# Settings that change where things live, how fast they run or what the server accepts, not
# what the answers are. Secrets are left out too, whatever their name.
_NOT_CONFIG = {"data_dir", "chroma_url", "collection", "openai_base_url", "ollama_base_url",
               "threads", "prompt_cache_mb", "max_request_bytes", "upload_max_mb",
               "upload_max_files"}


# Settings that only shape answers: left out of retrieval-only runs' configuration.
ANSWER_ONLY = {"llm", "max_answer_tokens", "temperature", "n_ctx", "context_tokens",
               "min_relevance"}


def config_of(settings: Settings, retrieval_only: bool = False) -> dict[str, Any]:
    """The settings that can change a run's results (new settings count automatically)."""
    return {k: _plain(v) for k, v in sorted(settings.model_dump().items())
            if k not in _NOT_CONFIG and "api_key" not in k and not isinstance(v, SecretStr)
            and not (retrieval_only and k in ANSWER_ONLY)}


def default_config() -> dict[str, Any]:
    """The configuration of plain `Settings()` without environment or .env file."""
    defaults = {name: field.get_default(call_default_factory=True)
                for name, field in Settings.model_fields.items()}
    return config_of(Settings.model_construct(**defaults))


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def differences(config: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """"name: this vs other" for every setting that differs."""
    defaults = default_config()
    return [f"{k}: {config.get(k, defaults.get(k))!r} vs {other.get(k, defaults.get(k))!r}"
            for k in sorted(set(config) | set(other))
            if config.get(k, defaults.get(k)) != other.get(k, defaults.get(k))]


def same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal, counting a setting one side lacks as its default: a setting added since a
    baseline was recorded, left at its default, does not orphan that baseline."""
    return not differences(a, b)


@dataclass
class CaseRecord:
    passed: bool
    scores: dict[str, float | None]


@dataclass
class Entry:
    """The recorded results of one configuration."""

    config: dict[str, Any]
    recorded: str
    cases: dict[str, CaseRecord]

    def metrics(self, ids: set[str] | None = None) -> dict[str, float]:
        """The metrics over all recorded cases, or over those of `ids`."""
        return aggregate(r.scores for i, r in self.cases.items() if ids is None or i in ids)


class BaselineFile:
    """One dataset's baselines: entries by configuration plus the metrics history."""

    def __init__(self, path: Path, entries: list[Entry], history: list[dict[str, Any]]) -> None:
        self.path = path
        self.entries = entries
        self.history = history

    @classmethod
    def load(cls, path: Path) -> BaselineFile:
        if not path.exists():
            return cls(path, [], [])
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            entries = [
                Entry(e["config"], e["recorded"],
                      {i: CaseRecord(bool(c["passed"]), dict(c["scores"]))
                       for i, c in e["cases"].items()})
                for e in doc.get("entries", [])
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EvalError(f"The baseline {path} is not readable ({exc}).",
                            fix="restore it from git, or delete it and run --update-baseline"
                            ) from exc
        return cls(path, entries, list(doc.get("history", [])))

    def find(self, config: dict[str, Any]) -> tuple[Entry | None, bool]:
        """The entry for `config`, else the reference entry; the flag says if it was exact."""
        for entry in self.entries:
            if same_config(entry.config, config):
                return entry, True
        reference = {k: v for k, v in default_config().items() if k in config}
        for entry in self.entries:
            if same_config(entry.config, reference):
                return entry, False
        return (self.entries[0], False) if self.entries else (None, False)

    def record(self, config: dict[str, Any], recorded: str,
               cases: dict[str, tuple[bool, Scores]]) -> Entry:
        """Store a run's cases for `config`, keeping recorded cases the run did not include."""
        entry, exact = self.find(config)
        if entry is None or not exact:
            entry = Entry(config, recorded, {})
            self.entries.append(entry)
        entry.recorded = recorded
        for case_id, (passed, scores) in cases.items():
            entry.cases[case_id] = CaseRecord(passed, dict(scores))
        self.history.append({"recorded": recorded, "config": config, "metrics": entry.metrics()})
        return entry

    def history_for(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        return [h for h in self.history if same_config(h.get("config") or {}, config)]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "entries": [
                {"config": e.config, "recorded": e.recorded,
                 "metrics": {k: round(v, 4) for k, v in e.metrics().items()},
                 "cases": {i: {"passed": c.passed, "scores": c.scores}
                           for i, c in sorted(e.cases.items())}}
                for e in self.entries
            ],
            "history": self.history,
        }
        self.path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
