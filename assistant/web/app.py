"""The chat UI: a Gradio page over `Assistant` with a chat tab and a documents tab.

The chat streams answers with their cited sources, can be scoped to some documents and
answered with another model, number of passages or retrieval mode (settings per browser
session), keeps its history in the browser across reloads, and takes thumbs up/down with a
comment into `<data_dir>/feedback.jsonl`. The documents tab uploads files or zips, lists,
removes and re-ingests documents. All document text is escaped as `assistant.web.format`
explains. Gradio is imported only by `build_app` and `launch`, so importing this module is cheap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ERRORS
from assistant.origin import HostPolicy, SameOrigin, plain_text
from assistant.web import documents, feedback
from assistant.web.auth import Credentials, LoginThrottle, ThrottledLogin, check_exposure
from assistant.web.chat import RETRIEVAL_MODES, Variants, plain_messages, respond, turn_record
from assistant.web.format import (
    ERROR_LABEL,
    REFUSED_LABEL,
    SOURCES_MARK,
    format_error,
    header_line,
    history_pairs,
    neutralise,
)

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant

log = logging.getLogger(__name__)

__all__ = ["ERROR_LABEL", "REFUSED_LABEL", "SOURCES_MARK", "build_app", "launch"]

STORAGE_KEY = "docs-assistant-chat"
CSS = """
.da-label { display: inline-block; padding: .1em .6em; border-radius: 999px; font-weight: 600;
            font-size: .85em; }
.da-refused { background: #fef3c7; color: #92400e; }
.da-error { background: #fee2e2; color: #991b1b; }
.da-sources { margin-top: .75em; font-size: .9em; }
.da-sources details { margin: .25em 0; }
.da-sources blockquote { margin: .25em 0 .5em 1em; opacity: .9; }
.da-sources mark { background: #fef08a; color: inherit; padding: 0 .1em; }
.da-table { width: 100%; border-collapse: collapse; font-size: .9em; }
.da-table caption { text-align: left; font-weight: 600; padding: .25em 0; }
.da-table th, .da-table td { text-align: left; padding: .3em .6em;
                             border-bottom: 1px solid var(--border-color-primary); }
.da-ok { color: #166534; font-weight: 600; } .da-bad { color: #991b1b; font-weight: 600; }
.da-same { opacity: .75; }
"""


# -- gradio -------------------------------------------------------------------------------------
def build_app(assistant: Assistant) -> gr.Blocks:
    """The page: a header line, then a chat tab (chat, scope, settings) and a documents tab."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported
    import gradio as gr

    try:  # open the index now: two first requests at once would each open it, and Chroma's
        assistant.store.count()  # client cannot be created twice concurrently
    except ERRORS:
        pass  # e.g. an unreachable Chroma server: the header says so on each page load
    variants = Variants(assistant)
    settings = assistant.settings
    feedback_file = Path(settings.data_dir) / feedback.FILE_NAME
    root = documents.uploads_dir(assistant)
    max_k = max(20, settings.k)  # the passages slider's range

    def header(model: str) -> str:
        try:
            return header_line(model, len(assistant.documents()))
        except ERRORS as exc:  # e.g. an unreachable Chroma server: say so, still show the chat
            return format_error(exc)

    def documents_view(scope: Sequence[str] | None, model: str) -> tuple[Any, ...]:
        try:
            docs = assistant.documents()
        except ERRORS as exc:
            return format_error(exc), gr.update(), gr.update(), header(model)
        choices = documents.choices(docs, root)
        known = {value for _, value in choices}
        return (documents.documents_table(docs, root),
                gr.update(choices=choices, value=[]),
                gr.update(choices=choices, value=[v for v in scope or [] if v in known]),
                header(model))

    def chat(question: str, value: list[Any], turns: dict[str, Any], scope: list[str],
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
            helper = variants.get(model, int(k), retrieval)
        except ERRORS as exc:
            messages[-1]["content"] = format_error(exc)
            yield gr.update(), messages, turns
            return
        for text, answer in respond(helper, question, history, scope):
            messages[-1]["content"] = text
            if answer is not None:
                turn = turn_record(question, history, answer, model, scope or [])
                turns = {**turns, str(len(messages) - 1): turn}
            yield gr.update(), messages, turns

    def rate(turns: dict[str, Any], data: gr.LikeData) -> tuple[Any, ...]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = turns.get(str(index))
        if turn is None:  # an error message, or a turn still being answered
            return gr.update(visible=False), None, "Only finished answers can be rated."
        if data.liked not in (True, False):  # a rating taken back: the saved line stays
            return gr.update(visible=False), None, ""
        record = feedback.make_record(turn, "up" if data.liked else "down")
        feedback.append(feedback_file, record)
        return (gr.update(visible=True), record,
                "Thanks, your rating is saved. Add a comment if you like:")

    # gradio passes the like event to a parameter annotated gr.LikeData; the string annotation
    # cannot be resolved here (gradio is imported locally), so give it the class itself
    rate.__annotations__ = {"turns": dict, "data": gr.LikeData}

    def comment(text: str, record: dict[str, Any] | None) -> tuple[Any, ...]:
        if record and text.strip():
            feedback.append(feedback_file, {**record, "comment": text.strip()})
            return "", gr.update(visible=False), None, "Thanks, your comment is saved."
        return "", gr.update(visible=False), None, ""

    tracker = gr.Progress()  # gradio finds a progress parameter by its default value
    inbox = Path(gr.utils.get_upload_folder())  # where gradio puts the files it receives

    def documents_step(action: str) -> Any:
        def run(selected: list[str] | None, files: list[str] | None, scope: list[str],
                model: str, progress: gr.Progress = tracker) -> tuple[Any, ...]:
            def tick(done: int, total: int, what: str) -> None:
                progress((done, total), desc=what, unit="files")

            try:
                if action == "upload":
                    rows = documents.upload(assistant, files or [], tick, inbox)
                elif action == "remove":
                    rows = documents.remove(assistant, selected or [])
                else:
                    rows = documents.reingest(assistant, selected or [], tick)
                result = documents.results_table(rows, root)
            except ERRORS as exc:
                result = format_error(exc)
            except Exception as exc:  # shown on the page, not as gradio's bare "Error"
                log.exception("%s failed", action)
                result = format_error(RuntimeError(f"{type(exc).__name__}: {exc}"))
            return (None, result, *documents_view(scope, model))
        return run

    def restore(saved: dict[str, Any] | None) -> tuple[Any, ...]:
        """The session as the browser kept it: the chat and the settings chosen (if valid)."""
        saved = saved if isinstance(saved, dict) else {}
        chosen = saved.get("settings") or {}
        model = str(chosen["model"]) if chosen.get("model") in variants.models else settings.llm
        k = chosen.get("k")
        k = k if isinstance(k, int) and 1 <= k <= max_k else settings.k or 4
        mode = chosen.get("retrieval")
        mode = mode if mode in RETRIEVAL_MODES else settings.retrieval
        return (saved.get("messages", []), saved.get("turns", {}), model, k, mode,
                *documents_view([], model))

    def keep(messages: list[Any], turns: dict[str, Any], model: str, k: float,
             retrieval: str) -> dict[str, Any]:
        return {"messages": plain_messages(messages), "turns": turns,
                "settings": {"model": model, "k": int(k), "retrieval": retrieval}}

    with gr.Blocks(title="Docs assistant", analytics_enabled=False, fill_height=True) as app:
        saved = gr.BrowserState({"messages": [], "turns": {}}, storage_key=STORAGE_KEY)
        turns = gr.State({})
        pending = gr.State(None)  # the feedback record a comment would add to
        head = gr.Markdown(elem_id="da-header")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="da-chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="da-chat", show_label=False, height="64vh", min_height=380,
                            latex_delimiters=[], allow_tags=False, buttons=["copy"],
                            feedback_options=["Like", "Dislike"],
                            placeholder="Ask a question about your documents.",
                        )
                        with gr.Row():
                            box = gr.Textbox(show_label=False, scale=5, lines=1, max_lines=6,
                                             placeholder="Ask a question", submit_btn=True,
                                             elem_id="da-question")
                            new_chat = gr.Button("New chat", scale=0, min_width=110,
                                                 elem_id="da-new-chat")
                        note = gr.Markdown(elem_id="da-feedback-note")
                        with gr.Row(visible=False) as comment_row:
                            comment_box = gr.Textbox(show_label=False, scale=5,
                                                     placeholder="What was right or wrong?",
                                                     elem_id="da-comment")
                            comment_btn = gr.Button("Save comment", scale=0, min_width=130,
                                                    elem_id="da-comment-save")
                    with gr.Column(scale=1, min_width=260):
                        scope = gr.Dropdown(
                            label="Ask about", multiselect=True, choices=[], value=[],
                            info="Only these documents (leave empty for all)",
                            elem_id="da-scope",
                        )
                        gr.Markdown("**Settings**")
                        with gr.Group(elem_id="da-settings"):
                            model = gr.Dropdown(label="Answer model", choices=variants.models,
                                                value=settings.llm, elem_id="da-model")
                            k = gr.Slider(1, max_k, value=settings.k or 4, step=1,
                                          label="Passages per question", elem_id="da-k")
                            retrieval = gr.Radio(RETRIEVAL_MODES, value=settings.retrieval,
                                                 label="Retrieval", elem_id="da-retrieval")
                        gr.Markdown("Hybrid mixes keyword (BM25) and meaning (vector) search. "
                                    "Another model is loaded on its first question.")
            with gr.Tab("Documents", id="documents", elem_id="da-documents-tab"):
                upload = gr.File(label="Add files or a .zip", file_count="multiple",
                                 type="filepath", height=150, elem_id="da-upload")
                results = gr.HTML(elem_id="da-results")
                docs = gr.HTML(elem_id="da-docs")
                with gr.Row():
                    selected = gr.Dropdown(label="Selected documents", multiselect=True,
                                           choices=[], value=[], scale=4, elem_id="da-selected")
                    reingest = gr.Button("Re-ingest", scale=0, elem_id="da-reingest")
                    remove = gr.Button("Remove", variant="stop", scale=0, elem_id="da-remove")

        view = [docs, selected, scope, head]
        app.load(restore, saved, [chatbot, turns, model, k, retrieval, *view])
        answered = box.submit(
            chat, [box, chatbot, turns, scope, model, k, retrieval], [box, chatbot, turns],
            concurrency_id="assistant",
        )
        # the browser keeps the conversation and the settings, read back on reload
        kept = [chatbot, turns, model, k, retrieval]
        # (in the same step as the change it records: a reload right after must not miss it)
        answered.then(lambda *v: (gr.update(interactive=True), keep(*v)), kept, [box, saved])
        # the chatbot's own clear (trash) button starts a new chat too
        gr.on([new_chat.click, chatbot.clear],
              lambda *v: ([], {}, "", keep([], {}, *v)), [model, k, retrieval],
              [chatbot, turns, note, saved])
        gr.on([model.change, k.change, retrieval.change], keep, kept, saved,
              trigger_mode="always_last")  # a dragged slider: only its last value
        chatbot.like(rate, [turns], [comment_row, pending, note])
        gr.on([comment_btn.click, comment_box.submit], comment, [comment_box, pending],
              [comment_box, comment_row, pending, note])
        model.change(header, model, head)
        step_inputs = [selected, upload, scope, model]
        step_outputs = [upload, results, *view]
        upload.upload(documents_step("upload"), step_inputs, step_outputs,
                      concurrency_id="assistant")
        remove.click(documents_step("remove"), step_inputs, step_outputs,
                     concurrency_id="assistant")
        reingest.click(documents_step("reingest"), step_inputs, step_outputs,
                       concurrency_id="assistant")
    return app


def launch(
    assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True,
    auth: Credentials | None = None, throttle: LoginThrottle | None = None,
) -> gr.Blocks:
    """Serve the chat on host:port; blocks until interrupted unless `block` is False.

    Anything but a loopback `host` needs `auth` ((user, password) pairs), whose sign-ins
    `throttle` slows down (see `ui_auth`); the page answers only its own origin (`origin`)."""
    check_exposure(host, auth)
    policy = HostPolicy.for_bind(host, assistant.settings.allowed_hosts)
    import gradio as gr
    from starlette.middleware import Middleware

    # Inside gradio's own middleware (CORS, compression), around every route it serves.
    middleware = [Middleware(SameOrigin, policy=policy, render=plain_text)]
    if auth:
        middleware.append(Middleware(ThrottledLogin, throttle=throttle or LoginThrottle()))
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)  # one answer at a time: local models are not shared
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        auth=auth or None,
        auth_message="Docs assistant: sign in with the user and password given to `chat`. "
        "After a few wrong passwords, sign-in pauses for a while, longer each time.",
        app_kwargs={"middleware": middleware},
        ssr_mode=False,  # a Node proxy in front would bypass the middleware
        num_workers=0,  # and so would static file workers
        max_file_size=int(assistant.settings.upload_max_mb * 2**20),
        # The default fonts are served by gradio itself; pin that so no theme reaches Google.
        theme=gr.themes.Default(
            font=[gr.themes.LocalFont("Source Sans Pro"), "ui-sans-serif", "sans-serif"],
            font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"],
        ),
        css=CSS,
        footer_links=[],  # no "use via API" or "settings" links beside our own Settings
        quiet=not block,
    )
    return app
