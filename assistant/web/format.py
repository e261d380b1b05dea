"""Chat messages as HTML/markdown for the UI: answers, their sources, refusals and errors.

Text that comes from documents (passages, file names and answers, which quote them) is passed
through `neutralise`: every ASCII punctuation mark becomes an HTML entity, so it reads the same
but can form no HTML tag, markdown image, link or emphasis. The only markup in a message is the
fixed markup written here (labels, `<details>`, `<mark>` around a neutralised sentence).
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from assistant.errors import describe
from assistant.rag.chain import Answer
from assistant.rag.retrieval import Source
from ingest.names import display_name
from ingest.text import FACTLESS, ascii_words, sentences

REFUSED_LABEL = '<span class="da-label da-refused">Not in your documents</span>'
ERROR_LABEL = '<span class="da-label da-error">Error</span>'
BUSY_LABEL = '<span class="da-label da-busy">Busy</span>'
SOURCES_MARK = '<div class="da-sources">'  # can never occur in neutralised text
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}


def neutralise(text: str) -> str:
    """`text` as inert markdown/HTML: punctuation as entities, lines stripped, no blank runs."""
    lines = [line.strip() for line in text.strip().splitlines()]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return joined.translate(_ENTITIES)


def _one_line(text: str) -> str:
    return neutralise(" ".join(text.split()))


def source_name(source: Source | str) -> str:
    """A document's file name (its full path when it has no name)."""
    path = source.source if isinstance(source, Source) else source
    return PurePath(path).name or path


def source_label(number: int, source: Source) -> str:
    """`[1] report.pdf · Part > Chapter · page 3 · score 0.52`, neutralised, the name's and
    the section's invisible characters escaped."""
    # a mail's attachment is named after its mail: "mail.eml > report.pdf"
    name = str(source.metadata["file_name"]) if source.metadata.get("attachment") \
        else source_name(source)
    parts = [f"[{number}] {display_name(name)}"]
    if source.metadata.get("section"):
        parts.append(display_name(str(source.metadata["section"])))
    if source.metadata.get("page") is not None:
        parts.append(f"page {source.metadata['page']}")
    parts.append(f"score {source.score:.2f}")
    return _one_line(" · ".join(parts))


def _words(text: str) -> set[str]:
    """Words that can show a sentence supports a claim: 3 letters or more, not factless."""
    return {w for w in ascii_words(text) if len(w) >= 3} - FACTLESS


def citing_text(answer: str, number: int) -> str:
    """The sentences of `answer` that cite `[number]` (the whole answer when none does)."""
    marker = f"[{number}]"
    citing = [s for s in sentences(answer, markers="follow") if marker in s]
    return " ".join(citing) or answer


def highlight(passage: str, claim: str) -> str:
    """`passage` neutralised, with the sentence that shares most words with `claim` marked."""
    parts = sentences(" ".join(passage.split()), markers="follow")
    wanted = _words(claim)
    overlaps = [len(_words(s) & wanted) for s in parts]
    best = max(range(len(parts)), key=overlaps.__getitem__) if parts else 0
    if not parts or overlaps[best] == 0:
        return _one_line(passage)
    return " ".join(
        f"<mark>{neutralise(s)}</mark>" if i == best else neutralise(s)
        for i, s in enumerate(parts)
    )


def withheld_note(source: Source) -> str:
    """What the source panel says when sentences of a passage were kept from the model."""
    count = int(source.metadata.get("withheld", 0))
    if not count:
        return ""
    what = "1 sentence" if count == 1 else f"{count} sentences"
    return f"{what} withheld: it read as an instruction to an AI"


def format_sources(
    heading: str, numbered: Sequence[tuple[int, Source]], answer: str | None = None
) -> str:
    """An HTML block: a heading, then one collapsible passage per source (no blank lines);
    with `answer`, each passage's sentence that supports what cites it is highlighted."""
    if not numbered:
        return ""
    items = []
    for n, s in numbered:
        text = highlight(s.text, citing_text(answer, n)) if answer else _one_line(s.text)
        note = withheld_note(s)
        note = f" · <em>{html.escape(note)}</em>" if note else ""
        items.append(f"<details><summary>{source_label(n, s)}{note}</summary>"
                     f"<blockquote>{text}</blockquote></details>")
    return "\n".join([SOURCES_MARK, f"<p><strong>{html.escape(heading)}</strong></p>", *items,
                      "</div>"])


def format_answer(answer: Answer) -> str:
    """The final chat message: the answer, then its cited sources (or the closest passages)."""
    if answer.refused:
        body = f"{REFUSED_LABEL}\n\n{neutralise(answer.text)}"
        block = format_sources("Closest passages", list(enumerate(answer.sources, start=1)))
    else:
        body = neutralise(answer.text)
        block = format_sources(
            "Sources", list(zip(answer.citations, answer.cited_sources, strict=True)), answer.text
        )
    return f"{body}\n\n{block}" if block else body


def format_error(exc: BaseException) -> str:
    return f"{ERROR_LABEL} {neutralise(display_name(describe(exc)))}"


def format_waiting() -> str:
    """While a question waits in line for an answer slot."""
    return f"{BUSY_LABEL} Waiting for a free answer slot…"


def format_busy(seconds: int, retry: int, retries: int) -> str:
    """While a question that found every answer slot taken waits to be asked again."""
    return (f"{BUSY_LABEL} All answer slots are taken; retrying in {seconds} s… "
            f"(retry {retry} of {retries})")


def header_line(model: str, documents: int) -> str:
    plural = "" if documents == 1 else "s"
    return f"Answer model: **{neutralise(model)}** · {documents} document{plural}"


def message_text(content: Any) -> str:
    """The text of a Gradio message's content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, list | tuple):
        return "\n".join(message_text(part) for part in content)
    return ""


def answer_from_message(message: str) -> str:
    """The plain answer text of a message made by `format_answer`: no label, no sources."""
    body = message.split(SOURCES_MARK, 1)[0].strip()
    body = body.removeprefix(REFUSED_LABEL).strip()
    return html.unescape(body)


def history_pairs(messages: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from Gradio's message history; failed turns are left out."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for message in messages:
        text = message_text(message.get("content", ""))
        if message.get("role") == "user":
            question = html.unescape(text)  # shown neutralised, like everything else
        elif message.get("role") == "assistant" and question is not None:
            if text and not text.startswith((ERROR_LABEL, BUSY_LABEL)):
                pairs.append((question, answer_from_message(text)))
            question = None
    return pairs
