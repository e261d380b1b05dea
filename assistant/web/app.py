"""The chat UI: a Gradio page over `Assistant` with a chat tab and a documents tab.

The chat streams answers with their cited sources, can be scoped to some documents and
answered with another model, number of passages or retrieval mode (settings per browser
session), keeps its history in the browser across reloads, and takes thumbs up/down with a
comment into `<data_dir>/feedback.jsonl`. The documents tab uploads files or zips, lists,
removes and re-ingests documents. All document text is escaped as `assistant.web.format`
explains. Gradio is imported only by `build_app` and `launch`, so importing this module is cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import ERRORS
from assistant.origin import HostPolicy, SameOrigin, plain_text
from assistant.uploads import Limits
from assistant.web.auth import Credentials, LoginThrottle, ThrottledLogin, check_exposure
from assistant.web.chat import RETRIEVAL_MODES
from assistant.web.format import ERROR_LABEL, REFUSED_LABEL, SOURCES_MARK

if TYPE_CHECKING:
    import gradio as gr

    from assistant.api import Assistant
    from assistant.web.page import Page


__all__ = ["ERROR_LABEL", "REFUSED_LABEL", "SOURCES_MARK", "build_app", "launch"]

STORAGE_KEY = "docs-assistant-chat"
QUESTIONS, WRITES = "questions", "writes"  # the event queues (gradio concurrency ids)
CSS = """
.da-label { display: inline-block; padding: .1em .6em; border-radius: 999px; font-weight: 600;
            font-size: .85em; }
.da-refused { background: #fef3c7; color: #92400e; }
.da-error { background: #fee2e2; color: #991b1b; }
.da-busy { background: #e0e7ff; color: #3730a3; }
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
@dataclass
class ChatTab:
    chatbot: gr.Chatbot
    box: gr.Textbox
    new_chat: gr.Button
    note: gr.Markdown
    comment_row: gr.Row
    comment_box: gr.Textbox
    comment_btn: gr.Button
    scope: gr.Dropdown
    model: gr.Dropdown
    k: gr.Slider
    retrieval: gr.Radio


@dataclass
class DocumentsTab:
    upload: gr.File
    results: gr.HTML
    docs: gr.HTML
    selected: gr.Dropdown
    reingest: gr.Button
    remove: gr.Button


@dataclass
class Session:
    """What the page keeps per browser: the saved chat and settings, the turns, the feedback
    record a comment would add to, and the header."""

    saved: gr.BrowserState
    turns: gr.State
    pending: gr.State
    head: gr.Markdown


def build_app(assistant: Assistant) -> gr.Blocks:
    """The page: a header line, then a chat tab (chat, scope, settings) and a documents tab."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported
    import gradio as gr

    from assistant.web.page import Page

    try:  # open the index now: two first requests at once would each open it, and Chroma's
        assistant.store.count()  # client cannot be created twice concurrently
    except ERRORS:
        pass  # e.g. an unreachable Chroma server: the header says so on each page load
    page = Page(assistant)
    with gr.Blocks(title="Docs assistant", analytics_enabled=False, fill_height=True) as app:
        session = Session(
            saved=gr.BrowserState({"messages": [], "turns": {}}, storage_key=STORAGE_KEY),
            turns=gr.State({}), pending=gr.State(None), head=gr.Markdown(elem_id="da-header"))
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="da-chat-tab"):
                chat = _chat_tab(page)
            with gr.Tab("Documents", id="documents", elem_id="da-documents-tab"):
                docs = _documents_tab()
        _wire(app, page, session, chat, docs)
    return app


def _chat_tab(page: Page) -> ChatTab:
    import gradio as gr

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
                new_chat = gr.Button("New chat", scale=0, min_width=110, elem_id="da-new-chat")
            note = gr.Markdown(elem_id="da-feedback-note")
            with gr.Row(visible=False) as comment_row:
                comment_box = gr.Textbox(show_label=False, scale=5,
                                         placeholder="What was right or wrong?",
                                         elem_id="da-comment")
                comment_btn = gr.Button("Save comment", scale=0, min_width=130,
                                        elem_id="da-comment-save")
        with gr.Column(scale=1, min_width=260):
            scope = gr.Dropdown(label="Ask about", multiselect=True, choices=[], value=[],
                                info="Only these documents (leave empty for all)",
                                elem_id="da-scope")
            gr.Markdown("**Settings**")
            s = page.settings
            with gr.Group(elem_id="da-settings"):
                model = gr.Dropdown(label="Answer model", choices=page.variants.models,
                                    value=s.llm, elem_id="da-model")
                k = gr.Slider(1, page.max_k, value=s.k or 4, step=1,
                              label="Passages per question", elem_id="da-k")
                retrieval = gr.Radio(RETRIEVAL_MODES, value=s.retrieval, label="Retrieval",
                                     elem_id="da-retrieval")
            gr.Markdown("Hybrid mixes keyword (BM25) and meaning (vector) search. "
                        "Another model is loaded on its first question.")
    return ChatTab(chatbot, box, new_chat, note, comment_row, comment_box, comment_btn, scope,
                   model, k, retrieval)


def _documents_tab() -> DocumentsTab:
    import gradio as gr

    upload = gr.File(label="Add files or a .zip", file_count="multiple", type="filepath",
                     height=150, elem_id="da-upload")
    results = gr.HTML(elem_id="da-results")
    docs = gr.HTML(elem_id="da-docs")
    with gr.Row():
        selected = gr.Dropdown(label="Selected documents", multiselect=True, choices=[],
                               value=[], scale=4, elem_id="da-selected")
        reingest = gr.Button("Re-ingest", scale=0, elem_id="da-reingest")
        remove = gr.Button("Remove", variant="stop", scale=0, elem_id="da-remove")
    return DocumentsTab(upload, results, docs, selected, reingest, remove)


def _wire(app: gr.Blocks, page: Page, session: Session, chat: ChatTab,
          docs: DocumentsTab) -> None:
    """The page's events, each handled by a `Page` method."""
    import gradio as gr

    c, keep = chat, page.keep
    view = [docs.docs, docs.selected, c.scope, session.head]
    settings = [c.model, c.k, c.retrieval]
    app.load(page.restore, session.saved, [c.chatbot, session.turns, *settings, *view])
    # Questions run side by side up to the model's slots (each also holds one of
    # `assistant.capacity`'s, shared with `assistant serve`); writes to the index queue apart,
    # one at a time, so an upload never waits for an answer nor an answer for an upload.
    answered = c.box.submit(page.chat, [c.box, c.chatbot, session.turns, c.scope, *settings],
                            [c.box, c.chatbot, session.turns], concurrency_id=QUESTIONS,
                            concurrency_limit=page.assistant.capacity.slots)
    # the browser keeps the conversation and the settings, read back on reload
    kept = [c.chatbot, session.turns, *settings]
    # (in the same step as the change it records: a reload right after must not miss it)
    answered.then(lambda *v: (gr.update(interactive=True), keep(*v)), kept,
                  [c.box, session.saved])
    # the chatbot's own clear (trash) button starts a new chat too
    gr.on([c.new_chat.click, c.chatbot.clear], lambda *v: ([], {}, "", keep([], {}, *v)),
          settings, [c.chatbot, session.turns, c.note, session.saved])
    gr.on([c.model.change, c.k.change, c.retrieval.change], keep, kept, session.saved,
          trigger_mode="always_last")  # a dragged slider: only its last value
    c.chatbot.like(page.rate, [session.turns], [c.comment_row, session.pending, c.note])
    gr.on([c.comment_btn.click, c.comment_box.submit], page.comment,
          [c.comment_box, session.pending], [c.comment_box, c.comment_row, session.pending, c.note])
    c.model.change(page.header, c.model, session.head)
    inputs = [docs.selected, docs.upload, c.scope, c.model]
    outputs = [docs.upload, docs.results, *view]
    # api names as they were: run, run_1, run_2
    for event, handler in [(docs.upload.upload, page.upload), (docs.remove.click, page.remove),
                           (docs.reingest.click, page.reingest)]:
        event(handler, inputs, outputs, concurrency_id=WRITES, concurrency_limit=1,
              api_name="run")


def launch(
    assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True,
    auth: Credentials | None = None, throttle: LoginThrottle | None = None,
) -> gr.Blocks:
    """Serve the chat on host:port; blocks until interrupted unless `block` is False.

    Anything but a loopback `host` needs `auth` ((user, password) pairs), whose sign-ins
    `throttle` slows down (see `assistant.web.auth`); the page answers only its own origin
    (`assistant.origin`)."""
    check_exposure(host, auth)
    policy = HostPolicy.for_bind(host, assistant.settings.allowed_hosts)
    import gradio as gr
    from starlette.middleware import Middleware

    # Inside gradio's own middleware (CORS, compression), around every route it serves.
    middleware = [Middleware(SameOrigin, policy=policy, render=plain_text)]
    if auth:
        middleware.append(Middleware(ThrottledLogin, throttle=throttle or LoginThrottle()))
    app = build_app(assistant)
    # the events without a group of their own (page load, saving the chat, ratings, new chat)
    # are quick: none waits for another's
    app.queue(default_concurrency_limit=None)
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
        max_file_size=Limits.of(assistant.settings).max_bytes,
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
