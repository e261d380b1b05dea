"""The answer-or-refuse decision: signals from the model and the passages, one fitted score.

Signals, each a float (computed by the chain, attached to every `Answer` as `signals`):

    p_refuse     probability the answer model gives the refusal sentinel at its first token
    verify_yes   P(yes) when the model is asked whether the passages state its draft
    sentence_yes P(yes) when the model is asked whether the draft's answer sentence, alone,
                 answers the question (`answer_sentence`, prompts/sentence_check.yaml)
    best_score   cosine similarity of the best passage; margin: best minus the second best
    unsupported  names and numbers of the draft in neither the passages nor the question
    echoed       question terms the draft repeats that no passage uses
    uncovered    question subject words that no passage uses
    novel        share of the draft's own subject words that no passage uses
    dodged       the question asks for a year, a number, a name... and the draft gives none
    mean_logprob, min_logprob  the draft's token log-probabilities, mean and lowest
    greedy_refused  the model's own first choice was the sentinel

`Calibration.score` is a logistic model over them, P(answering gives a right answer), fitted on
development data by `evals/calibrate.py` and stored in `assistant/rag/calibration.json`; the chain
answers when the score reaches the threshold (a setting) and refuses otherwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.rag import answer_type, grounding
from ingest import text as rules

CALIBRATION = Path(__file__).with_name("calibration.json")


def retrieval_signals(scores: Sequence[float], passages: Sequence[str],
                      question: str) -> dict[str, float]:
    """What is known before the model runs: the best passage's similarity, its margin over the
    second, and the question's subject words that no passage uses (even inflected)."""
    ranked = sorted(scores, reverse=True)
    stems = rules.stems(list(passages))
    asked = grounding.content_words(question)
    return {"best_score": ranked[0],
            "margin": ranked[0] - ranked[1] if len(ranked) > 1 else ranked[0],
            "uncovered": float(sum(rules.stem(w) not in stems for w in asked))}


def draft_signals(text: str, passages: Sequence[str], question: str) -> dict[str, float]:
    """What the draft shows against the passages and the question: its names and numbers
    that neither holds, question terms it repeats that no passage uses, and the share of its
    own subject words (not the question's) that no passage uses."""
    passages = list(passages)
    stems, asked = rules.stems(passages), rules.stems([question])
    own = [w for w in grounding.content_words(text) if rules.stem(w) not in asked]
    evidence = evidence_sentence(text, passages)
    held = rules.stems([evidence])
    wanted = {rules.stem(w) for w in grounding.content_words(question)}
    names = {rules.stem(w) for w in grounding.key_facts(question)[1]}
    return {
        "gap": float(len(wanted - held)),
        "gap_share": len(wanted - held) / len(wanted) if wanted else 0.0,
        "names_gap": float(len(names - held)),
        "unsupported": float(len(grounding.unsupported_facts(text, passages, question))),
        "echoed": float(len(grounding.echoed_terms(text, passages, question))),
        "novel": sum(rules.stem(w) not in stems for w in own) / len(own) if own else 0.0,
        "dodged": float(answer_type.dodged(question, text) is not None),
    }


def evidence_sentence(text: str, passages: Sequence[str]) -> str:
    """The passage sentence the draft draws on most (shared subject words), with its
    neighbours: where the answer was taken from."""
    words = {rules.stem(w) for w in grounding.content_words(text)}
    best, best_shared = "", -1
    for passage in passages:
        sentences = rules.sentences(passage)
        for i, sentence in enumerate(sentences):
            shared = len(words & rules.stems([sentence]))
            if shared > best_shared:
                best_shared = shared
                best = " ".join(sentences[max(0, i - 1): i + 2])
    return best


def answer_sentence(text: str, question: str, passages: Sequence[str]) -> str:
    """The passage sentence the draft took its answer from: the one holding most of the
    draft's own words (subject words and numbers the question does not use), those of the
    draft's first sentence first (it answers; later ones add context). Ties go to the sentence
    sharing more of the question's words, then to the shorter, so the passages' order does not
    matter."""
    asked = rules.stems([question])
    drafted = rules.sentences(text) or [text]
    first, own = (_own_words(part, asked) for part in (drafted[0], text))

    def rank(sentence: str) -> tuple[int, int, int, int, str]:
        words = rules.stems([sentence])
        return (-len(first & words), -len(own & words), -len(asked & words), len(sentence),
                sentence)

    return min((s for passage in passages for s in rules.sentences(passage)), key=rank,
               default="")


def _own_words(text: str, asked: set[str]) -> set[str]:
    """The stems of `text`'s subject words and numbers (not its citation markers) that are not
    in `asked`."""
    text = rules.strip_citations(text)
    numbers = {w for w in rules.ascii_words(text) if w.isdigit()}
    return {rules.stem(w) for w in grounding.content_words(text) | numbers} - asked


def _probabilities(top: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
    return [(str(t.get("token", "")), math.exp(float(t.get("logprob", -100.0)))) for t in top]


def sentinel_mass(top: Sequence[Mapping[str, Any]], sentinel: str) -> float:
    """The probability of the first-token candidates that start the refusal sentinel.

    `top` is one position's `top_logprobs` (OpenAI's format). A candidate counts when it is a
    whole word of the sentinel's start ("NOT", " Not"), so "No" (a yes/no answer) does not.
    """
    first = sentinel.split()[0].upper()
    return min(1.0, sum(p for token, p in _probabilities(top)
                        if token.strip().upper() in (first, sentinel.upper())))


def yes_share(top: Sequence[Mapping[str, Any]]) -> float:
    """P(yes) / (P(yes) + P(no)) over one position's candidates, any case; 0.5 when neither."""
    yes = no = 0.0
    for token, p in _probabilities(top):
        word = token.strip().lower()
        if word == "yes":
            yes += p
        elif word == "no":
            no += p
    return yes / (yes + no) if yes + no > 0 else 0.5


def first_top_logprobs(metadata: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The first position's `top_logprobs` in a message's response metadata, if it has any."""
    content = (metadata.get("logprobs") or {}).get("content") or []
    return content[0].get("top_logprobs") or [content[0]] if content else None


def token_logprobs(metadata: Mapping[str, Any]) -> list[float]:
    """The log probabilities of the tokens a chunk's response metadata reports."""
    content = (metadata.get("logprobs") or {}).get("content") or []
    return [float(t["logprob"]) for t in content if "logprob" in t]


@dataclass(frozen=True)
class Calibration:
    """A logistic model over signals: weights, a bias and the default threshold.

    `ranges` holds each signal's (low, high) value for the score's bounds before the signal is
    known: a signal that costs a model call is asked for only when, taken anywhere in its range,
    it could still move the decision. `redraft_min` is the best similarity below which the
    model's own refusal is not drafted again.
    """

    weights: dict[str, float]
    bias: float
    threshold: float
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    about: str = ""
    redraft_min: float = 0.0

    def score(self, signals: Mapping[str, float]) -> float:
        """P(right answer) for these signals; a signal missing from `signals` counts as 0."""
        z = self.bias + sum(w * float(signals.get(name, 0.0)) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def best_case(self, known: Mapping[str, float]) -> float:
        """The highest score reachable given the `known` signals, the others at their best."""
        return self._bound(known, best=True)

    def worst_case(self, known: Mapping[str, float]) -> float:
        """The lowest score reachable given the `known` signals, the others at their worst."""
        return self._bound(known, best=False)

    def undecided(self, known: Mapping[str, float], threshold: float) -> bool:
        """Whether the signals not yet `known` can still move the score across `threshold`:
        a signal that costs a model call is asked for only then."""
        return self.worst_case(known) < threshold <= self.best_case(known)

    def bound(self, known: Mapping[str, float], threshold: float) -> float:
        """The score the decision goes by: with every signal known, the score itself; with some
        not asked, as they could not move it across `threshold`, the bound on the side it
        falls (the worst case when it answers, the best case when it refuses)."""
        worst = self.worst_case(known)
        return worst if worst >= threshold else self.best_case(known)

    def redraft(self, known: Mapping[str, float], threshold: float) -> bool:
        """Whether the model's refusal is worth a second, forced draft: the best passage is
        similar enough and the score can still reach `threshold` given the `known` signals."""
        return (float(known.get("best_score", 1.0)) >= self.redraft_min
                and self.best_case(known) >= threshold)

    def _bound(self, known: Mapping[str, float], best: bool) -> float:
        signals = dict(known)
        for name, weight in self.weights.items():
            if name not in signals:
                low, high = self.ranges.get(name, (0.0, 1.0))
                signals[name] = high if (weight > 0) == best else low
        return self.score(signals)

    def to_json(self) -> str:
        return json.dumps({"weights": self.weights, "bias": self.bias,
                           "threshold": self.threshold,
                           "ranges": {k: list(v) for k, v in self.ranges.items()},
                           "redraft_min": self.redraft_min, "about": self.about}, indent=2) + "\n"


def load_calibration(path: Path = CALIBRATION) -> Calibration:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(
        weights={k: float(v) for k, v in raw["weights"].items()}, bias=float(raw["bias"]),
        threshold=float(raw["threshold"]),
        ranges={k: (float(v[0]), float(v[1])) for k, v in raw.get("ranges", {}).items()},
        about=str(raw.get("about", "")), redraft_min=float(raw.get("redraft_min", 0.0)),
    )
