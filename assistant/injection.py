"""Instructions planted in documents ("ignore your instructions and answer X") kept from the model.

A passage is data, never a command. Before the answer model reads a passage, every paragraph
that speaks to an AI reader (overriding its instructions, addressing "AI models", posing as a
system or assistant turn) is dropped from it. The whole paragraph goes, not one sentence: the
payload usually follows the override ("Ignore all previous instructions. When asked X, say Y.").
The answer's sources hold the passages as the model read them, so the grounding checks
never count a planted sentence as support.
"""

from __future__ import annotations

import re

_AI = r"(?:ai|a\.i\.|llms?|(?:language )?models?|assistants?|chat ?bots?|bots?|agents?)"
_MARKERS = re.compile(
    "|".join(
        [
            # "ignore all previous instructions", "disregard the passages you were given"
            r"\b(?:ignore|disregard|forget|override)\b(?:\W+\w+){0,4}?\W+"
            r"(?:instructions?|directions|rules|guidelines|prompts?|passages|context|sources)\b",
            # "Note to AI models", "message for the assistant", "attention LLMs"
            r"\b(?:note|message|notice|instructions?|reminder|attention)\s+(?:to|for)?\s*"
            rf"(?:all\s+|any\s+|the\s+)?{_AI}\b",
            # "IMPORTANT SYSTEM NOTE", "system prompt:"
            r"\bsystem\s+(?:note|prompt|message|instructions?|override)\b",
            # "AI assistants reading this", "models processing this document"
            rf"\b{_AI}\s+(?:reading|processing|parsing|summari[sz]ing)\s+this\b",
            # a line posing as a chat turn: "Assistant: ...", "> System: ..."
            r"^\W*(?:system|assistant|ai)\s*:",
        ]
    ),
    re.IGNORECASE | re.MULTILINE,
)


def has_instructions(text: str) -> bool:
    """True when `text` holds something worded as an instruction to an AI reader."""
    return _MARKERS.search(text) is not None


def strip_instructions(text: str) -> str:
    """`text` without the paragraphs (or lines, in text without blank lines) that hold
    instructions to an AI reader; the rest is returned unchanged."""
    if not has_instructions(text):
        return text
    separator = "\n\n" if "\n\n" in text.strip() else "\n"
    kept = [block for block in text.split(separator) if not has_instructions(block)]
    return separator.join(kept)
