"""The chat UI: a Gradio `ChatInterface` over `Assistant.stream`, sources under each answer.

Text that comes from documents (passages, file names and answers, which quote them) is passed
through `neutralise`: every ASCII punctuation mark becomes an HTML entity, so it reads the same
but can form no HTML tag, markdown image, link or emphasis. Gradio is imported only by
`build_app` and `launch`, so importing this module stays cheap.
"""

from __future__ import annotations

import html
import logging
import os
import re
import string
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from assistant.chain import Answer
from assistant.errors import ERRORS, describe
from assistant.retrieval import Source

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant

log = logging.getLogger(__name__)

REFUSED_LABEL = '<span class="da-label da-refused">Not in your documents</span>'
ERROR_LABEL = '<span class="da-label da-error">Error</span>'
SOURCES_MARK = '<div class="da-sources">'  # can never occur in neutralised text
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
CSS = """
.da-label { display: inline-block; padding: .1em .6em; border-radius: 999px; font-weight: 600;
            font-size: .85em; }
.da-refused { background: #fef3c7; color: #92400e; }
.da-error { background: #fee2e2; color: #991b1b; }
.da-sources { margin-top: .75em; font-size: .9em; }
.da-sources details { margin: .25em 0; }
.da-sources blockquote { margin: .25em 0 .5em 1em; opacity: .85; }
"""


# -- pure formatting --------------------------------------------------------------------------
def neutralise(text: str) -> str:
    """`text` as inert markdown/HTML: punctuation as entities, lines stripped, no blank runs."""
    lines = [line.strip() for line in text.strip().splitlines()]
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return joined.translate(_ENTITIES)


def _one_line(text: str) -> str:
    return neutralise(" ".join(text.split()))


def source_label(number: int, source: Source) -> str:
    """`[1] report.pdf · page 3 · score 0.52`, neutralised."""
    parts = [f"[{number}] {PurePath(source.source).name or source.source}"]
    if source.metadata.get("page") is not None:
        parts.append(f"page {source.metadata['page']}")
    parts.append(f"score {source.score:.2f}")
    return _one_line(" · ".join(parts))


def format_sources(heading: str, numbered: Sequence[tuple[int, Source]]) -> str:
    """An HTML block: a heading, then one collapsible passage per source (no blank lines)."""
    if not numbered:
        return ""
    items = [
        f"<details><summary>{source_label(n, s)}</summary>"
        f"<blockquote>{_one_line(s.text)}</blockquote></details>"
        for n, s in numbered
    ]
    return "\n".join([SOURCES_MARK, f"<p><strong>{html.escape(heading)}</strong></p>", *items,
                      "</div>"])


def format_answer(answer: Answer) -> str:
    """The final chat message: the answer, then its cited sources (or the closest passages)."""
    if answer.refused:
        body = f"{REFUSED_LABEL}\n\n{neutralise(answer.text)}"
        block = format_sources("Closest passages", list(enumerate(answer.sources, start=1)))
    else:
        body = neutralise(answer.text)
        block = format_sources("Sources", list(zip(answer.citations, answer.cited_sources,
                                                   strict=True)))
    return f"{body}\n\n{block}" if block else body


def format_error(exc: BaseException) -> str:
    return f"{ERROR_LABEL} {neutralise(describe(exc))}"


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
            question = text
        elif message.get("role") == "assistant" and question is not None:
            if not text.startswith(ERROR_LABEL):
                pairs.append((question, answer_from_message(text)))
            question = None
    return pairs


def respond(
    assistant: Assistant, question: str, messages: Sequence[dict[str, Any]]
) -> Iterator[str]:
    """The chat function: the growing answer while it streams, then the formatted answer."""
    try:
        stream = assistant.stream(question, history=history_pairs(messages))
        text = ""
        for piece in stream:
            text += piece
            yield neutralise(text)
        assert stream.answer is not None
        yield format_answer(stream.answer)
    except ERRORS as exc:
        yield format_error(exc)
    except Exception as exc:  # a backend failure should read as a message, not a stack trace
        log.exception("answering failed")
        yield format_error(RuntimeError(f"{type(exc).__name__}: {exc}"))


# -- gradio -----------------------------------------------------------------------------------
def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page: a header line (model, document count) above a streaming chat."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported
    import gradio as gr

    def header() -> str:
        try:
            return header_line(assistant.settings.llm, len(assistant.documents()))
        except ERRORS as exc:  # e.g. an unreachable Chroma server: say so, still show the chat
            return format_error(exc)

    def chat(question: str, messages: list[dict[str, Any]]) -> Iterator[str]:
        yield from respond(assistant, question, messages)

    with gr.Blocks(title="Docs assistant", analytics_enabled=False, fill_height=True) as app:
        gr.Markdown(header, elem_id="da-header")  # a callable: recounted on each page load
        gr.ChatInterface(
            chat,
            chatbot=gr.Chatbot(
                elem_id="da-chat", show_label=False, scale=1, latex_delimiters=[],
                allow_tags=False, feedback_options=None, buttons=["copy", "copy_all"],
                placeholder="Ask a question about your documents.",
            ),
            analytics_enabled=False,
            flagging_mode="never",
            fill_height=True,
        )
    return app


def launch(
    assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True
) -> gr.Blocks:
    """Serve the chat on host:port; blocks until interrupted unless `block` is False."""
    import gradio as gr

    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)  # one answer at a time: local models are not shared
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        # The default fonts are served by gradio itself; pin that so no theme reaches Google.
        theme=gr.themes.Default(
            font=[gr.themes.LocalFont("Source Sans Pro"), "ui-sans-serif", "sans-serif"],
            font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"],
        ),
        css=CSS,
        footer_links=["settings"],
        quiet=not block,
    )
    return app
