"""The page's event handlers: one `Page` per app, holding the assistant and what the handlers
share (the settings variants, the feedback file, the uploads folder).

Each method is the handler of one event of `assistant.web.app`, taking and returning component
values. This module imports gradio, so only `build_app` imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import ERRORS
from assistant.uploads import uploads_folder
from assistant.web import documents, feedback
from assistant.web.chat import RETRIEVAL_MODES, Variants, plain_messages, respond, turn_record
from assistant.web.format import format_error, header_line, history_pairs, neutralise

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

_TRACKER = gr.Progress()  # gradio finds a progress parameter by its default value


class Page:
    """The handlers of one page, all reading the same `assistant`."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.variants = Variants(assistant)
        self.feedback_file = Path(self.settings.data_dir) / feedback.FILE_NAME
        self.root = uploads_folder(self.settings)
        self.max_k = max(20, self.settings.k)  # the passages slider's range
        self.inbox = Path(gr.utils.get_upload_folder())  # where gradio puts the files it receives

    # -- the header and the documents view --------------------------------------------------------
    def header(self, model: str) -> str:
        try:
            return header_line(model, len(self.assistant.documents()))
        except ERRORS as exc:  # e.g. an unreachable Chroma server: say so, still show the chat
            return format_error(exc)

    def documents_view(self, scope: Sequence[str] | None, model: str) -> tuple[Any, ...]:
        """The documents table, the two pickers' choices (scope keeps what is still there) and
        the header."""
        try:
            docs = self.assistant.documents()
        except ERRORS as exc:
            return format_error(exc), gr.update(), gr.update(), self.header(model)
        choices = documents.choices(docs, self.root)
        known = {value for _, value in choices}
        return (documents.documents_table(docs, self.root),
                gr.update(choices=choices, value=[]),
                gr.update(choices=choices, value=[v for v in scope or [] if v in known]),
                self.header(model))

    # -- the chat ---------------------------------------------------------------------------------
    def chat(self, question: str, value: list[Any], turns: dict[str, Any], scope: list[str],
             model: str, k: float, retrieval: str) -> Iterator[tuple[Any, ...]]:
        question = question.strip()
        messages = plain_messages(value)
        if not question:
            yield "", messages, turns
            return
        history = history_pairs(messages)
        messages += [{"role": "user", "content": neutralise(question)},
                     {"role": "assistant", "content": ""}]
        # the box stays locked while the answer is written (unlocked by the next step)
        yield gr.update(value="", interactive=False), messages, turns
        try:
            helper = self.variants.get(model, int(k), retrieval)
        except ERRORS as exc:
            messages[-1]["content"] = format_error(exc)
            yield gr.update(), messages, turns
            return
        # closed with this handler (a closed page): the answer stops and frees its slot
        with closing(respond(helper, question, history, scope)) as steps:
            for text, answer in steps:
                messages[-1]["content"] = text
                if answer is not None:
                    turn = turn_record(question, history, answer, model, scope or [])
                    turns = {**turns, str(len(messages) - 1): turn}
                yield gr.update(), messages, turns

    # gradio passes the like event to the parameter annotated gr.LikeData (resolved at run time)
    def rate(self, turns: dict[str, Any], data: gr.LikeData) -> tuple[Any, ...]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = turns.get(str(index))
        if turn is None:  # an error message, or a turn still being answered
            return gr.update(visible=False), None, "Only finished answers can be rated."
        if data.liked not in (True, False):  # a rating taken back: the saved line stays
            return gr.update(visible=False), None, ""
        record = feedback.make_record(turn, "up" if data.liked else "down")
        feedback.append(self.feedback_file, record)
        return (gr.update(visible=True), record,
                "Thanks, your rating is saved. Add a comment if you like:")

    def comment(self, text: str, record: dict[str, Any] | None) -> tuple[Any, ...]:
        if record and text.strip():
            feedback.append(self.feedback_file, {**record, "comment": text.strip()})
            return "", gr.update(visible=False), None, "Thanks, your comment is saved."
        return "", gr.update(visible=False), None, ""

    # -- the session the browser keeps ------------------------------------------------------------
    def restore(self, saved: dict[str, Any] | None) -> tuple[Any, ...]:
        """The session as the browser kept it: the chat and the settings chosen (if valid)."""
        saved = saved if isinstance(saved, dict) else {}
        chosen = saved.get("settings") or {}
        s = self.settings
        model = str(chosen["model"]) if chosen.get("model") in self.variants.models else s.llm
        k = chosen.get("k")
        k = k if isinstance(k, int) and 1 <= k <= self.max_k else s.k or 4
        mode = chosen.get("retrieval")
        mode = mode if mode in RETRIEVAL_MODES else s.retrieval
        return (saved.get("messages", []), saved.get("turns", {}), model, k, mode,
                *self.documents_view([], model))

    @staticmethod
    def keep(messages: list[Any], turns: dict[str, Any], model: str, k: float,
             retrieval: str) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "turns": turns,
                "settings": {"model": model, "k": int(k), "retrieval": retrieval}}

    # -- the documents tab ------------------------------------------------------------------------
    def upload(self, selected: list[str] | None, files: list[str] | None, scope: list[str],
               model: str, progress: gr.Progress = _TRACKER) -> tuple[Any, ...]:
        return self._step("upload", selected, files, scope, model, progress)

    def remove(self, selected: list[str] | None, files: list[str] | None, scope: list[str],
               model: str, progress: gr.Progress = _TRACKER) -> tuple[Any, ...]:
        return self._step("remove", selected, files, scope, model, progress)

    def reingest(self, selected: list[str] | None, files: list[str] | None, scope: list[str],
                 model: str, progress: gr.Progress = _TRACKER) -> tuple[Any, ...]:
        return self._step("reingest", selected, files, scope, model, progress)

    def _step(self, action: str, selected: list[str] | None, files: list[str] | None,
              scope: list[str], model: str, progress: gr.Progress) -> tuple[Any, ...]:
        """One documents action; the upload box is emptied, the results and the view shown."""
        def tick(done: int, total: int, what: str) -> None:
            progress((done, total), desc=what, unit="files")

        try:
            if action == "upload":
                rows = documents.upload(self.assistant, files or [], tick, self.inbox)
            elif action == "remove":
                rows = documents.remove(self.assistant, selected or [])
            else:
                rows = documents.reingest(self.assistant, selected or [], tick)
            result = documents.results_table(rows, self.root)
        except ERRORS as exc:
            result = format_error(exc)
        except Exception as exc:  # shown on the page, not as gradio's bare "Error"
            log.exception("%s failed", action)
            result = format_error(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return (None, result, *self.documents_view(scope, model))
