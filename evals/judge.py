"""Optional LLM-as-judge: faithfulness and relevance scores from a model you configure.

Off by default and never used in CI: every other metric is computed without a model. With
`--judge MODEL` (any name the assistant accepts, e.g. `openai:gpt-4o-mini`), each answered
case gets two scores on a 1-5 scale, mapped to 0-1. A reply without both scores counts as
no score (None), never as a zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel

PROMPT = """You grade answers of a document question-answering system.

Passages the system read:
{passages}

Question: {question}
Answer: {answer}

Rate on a scale of 1 to 5:
- faithfulness: is every statement of the answer supported by the passages? (5 = fully)
- relevance: does the answer address the question? (5 = fully)
Reply with exactly two lines:
faithfulness: <1-5>
relevance: <1-5>"""

_SCORE = re.compile(r"(faithfulness|relevance)\s*[:=]\s*([1-5])", re.IGNORECASE)


def parse_scores(reply: str) -> dict[str, float | None]:
    """{"judge_faithfulness": 0-1, "judge_relevance": 0-1} from the judge's reply."""
    found = {name.lower(): int(value) for name, value in _SCORE.findall(reply)}
    return {f"judge_{name}": (found[name] - 1) / 4 if name in found else None
            for name in ("faithfulness", "relevance")}


class Judge:
    """Grades one answer at a time with a chat model."""

    def __init__(self, llm: BaseChatModel) -> None:
        self.llm = llm

    def score(self, question: str, answer: str, passages: Sequence[str]) -> dict[str, float | None]:
        numbered = "\n".join(f"[{i}] {' '.join(p.split())}" for i, p in enumerate(passages, 1))
        reply = self.llm.invoke(PROMPT.format(passages=numbered, question=question,
                                              answer=answer))
        return parse_scores(str(reply.content))
