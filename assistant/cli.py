"""The `assistant` command: ingest | remove | ask | sources | doctor | chat | serve | eval;
errors as one line with a fix. Paths and reasons are printed through `display_name`, so a file
name cannot forge a line or reorder one (control and bidi characters appear as escapes)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from assistant.errors import ERRORS, describe
from assistant.settings import Settings
from ingest.names import display_name

COMMANDS = "docs_assistant.commands"
"""Entry-point group of commands other packages add (`evals` adds `eval`): each entry point is
`register(subparsers)`, which adds one parser whose `func(args)` runs the command (the global
options `--data-dir`, `--llm` and `-k` are on `args`)."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_options(data_dir=args.data_dir, llm=args.llm, k=args.k)


def _assistant(args: argparse.Namespace):  # -> Assistant; imported late to keep --help fast
    from assistant.api import Assistant

    return Assistant(_settings(args))


def _waiting(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.progress import ProgressBar

    assistant = _assistant(args)
    # the bar goes to a terminal only: logs and pipes get the plain lines
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None

    def show(source: str, status: str) -> None:
        if args.quiet:
            return
        if bar:
            bar.echo(f"{status:>9}  {display_name(source)}")
        else:
            print(f"{status:>9}  {display_name(source)}", flush=True)

    try:
        report = assistant.ingest(args.paths, prune=args.prune, on_file=show,
                                  on_progress=bar.update if bar else None,
                                  include=args.include, exclude=args.exclude,
                                  wait=not args.no_wait, on_wait=_waiting)
    finally:
        if bar:
            bar.close()
    for source, reason in report.failed:
        print(f"   failed  {display_name(source)}: {display_name(reason)}", file=sys.stderr)
    if not args.quiet:
        for source, reason in report.skipped:
            print(f"  skipped  {display_name(source)} ({display_name(reason)})")
    for source in report.removed:
        print(f"  removed  {display_name(source)}")
    print(report.summary())
    return 0 if report.ok else 1


def cmd_remove(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    for path in args.paths:
        removed = assistant.remove(path, wait=not args.no_wait, on_wait=_waiting)
        print(f"  removed  {display_name(removed)}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _assistant(args).ask(args.question, sources=args.source)
    print(answer.text)
    shown = answer.cited_sources if not answer.refused else answer.sources
    if shown:
        print("\nSources:" if not answer.refused else "\nClosest passages:")
        numbers = answer.citations if not answer.refused else range(1, len(shown) + 1)
        for number, source in zip(numbers, shown, strict=True):
            print(f"[{number}] {display_name(source.source)} (score {source.score:.2f})")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    docs = _assistant(args).documents()
    if not docs:
        print("No documents yet. Add some with: assistant ingest PATH")
        return 0
    for doc in docs:
        state = "" if doc.complete else "  (incomplete: ingest it again)"
        print(f"{doc.chunks:>6} chunks  {doc.content_hash[:12]}  {display_name(doc.source)}{state}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    checkup = _assistant(args).doctor(repair=args.repair, wait=not args.no_wait,
                                      on_wait=_waiting)
    for line in checkup.lines():
        print(line)
    return 0 if checkup.healthy else 1


def _chat_auth(args: argparse.Namespace) -> list[tuple[str, str]]:
    from assistant.web.auth import check_exposure, parse_auth, read_auth_file

    pairs = [parse_auth(value) for value in args.auth or []]
    if args.auth_file is not None:
        pairs += read_auth_file(args.auth_file)
    check_exposure(args.host, pairs)  # before any model loads: a refusal comes at once
    return pairs


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.web.app import launch

    auth = _chat_auth(args)
    assistant = _assistant(args)
    report = assistant.ingest_sample_if_empty()
    if report is not None:
        print(f"The knowledge base was empty: ingested the sample corpus ({report.summary()}).")
    print("Loading the models...", flush=True)
    assistant.warm_up()  # model problems (missing package, bad checksum) show up before the UI
    print(f"Chat on http://{args.host}:{args.port} (answer model: {assistant.settings.llm})")
    launch(assistant, host=args.host, port=args.port, auth=auth)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.http.server import check_bind, serve
    from assistant.http.wire import MODEL_ALIAS
    from assistant.origin import TOKEN_FILE, resolve_api_key

    settings = _settings(args)
    key = resolve_api_key(args.api_key, settings)
    check_bind(args.host, key)  # before any model loads
    from assistant.api import Assistant

    assistant = Assistant(settings)
    print("Loading the models...", flush=True)
    assistant.warm_up()
    print(f"OpenAI-compatible API on http://{args.host}:{args.port}/v1 "
          f"(model '{settings.llm}' or '{MODEL_ALIAS}'); Ctrl-C stops it", flush=True)
    if not key:
        token_file = shlex.quote(str(Path(settings.data_dir) / TOKEN_FILE))
        print(f'Uploads and removals need the local token: -H "Authorization: Bearer $(cat '
              f'{token_file})"', flush=True)
    serve(assistant, host=args.host, port=args.port, api_key=key)
    return 0


_NO_WAIT = "fail at once if another process is writing to the knowledge base (default: wait)"


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant", description="Ask questions about your own documents."
    )
    parser.add_argument("--data-dir", type=Path, help="where the index lives (ASSISTANT_DATA_DIR)")
    parser.add_argument("--llm", help="answer model, e.g. llamacpp:qwen2.5-coder-1.5b, fake")
    parser.add_argument("-k", type=int, help="passages retrieved per question")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update files and folders")
    p.add_argument("paths", nargs="+")
    p.add_argument("--prune", action="store_true", help="remove documents whose files are gone")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only the summary and failures (no progress bar)")
    p.add_argument("--include", action="append", default=[], metavar="GLOB",
                   help="in folders, read only files matching GLOB, e.g. '*.md' (repeatable)")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="in folders, leave out files and folders matching GLOB (repeatable)")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("remove", help="remove documents from the knowledge base")
    p.add_argument("paths", nargs="+", metavar="PATH", help="as listed by 'assistant sources'")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--source", action="append", metavar="PATTERN",
                   help="only from documents matching this path, file name or glob (repeatable)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("sources", help="list ingested documents")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("doctor", help="check the knowledge base for damaged or missing chunks")
    p.add_argument("--repair", action="store_true",
                   help="delete unreadable chunks and re-ingest their documents")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("chat", help="open the chat UI in the browser")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", action="append", metavar="USER:PASSWORD",
                   help="require this login (repeatable); needed beyond localhost")
    p.add_argument("--auth-file", type=Path, metavar="FILE",
                   help="require a login from FILE, one user:password per line")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("serve", help="serve an OpenAI-compatible HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8200)
    p.add_argument("--api-key", help="required beyond localhost (ASSISTANT_API_KEY)")
    p.set_defaults(func=cmd_serve)

    _add_plugins(sub, argv)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names, skipping the global options and their values."""
    tokens = iter(argv)
    for token in tokens:
        if token in ("--data-dir", "--llm", "-k"):
            next(tokens, None)
        elif not token.startswith("-"):
            return token
    return None


def _add_plugins(sub: argparse._SubParsersAction, argv: Sequence[str] | None) -> None:
    """Commands of other packages, imported only when named (or to list them in --help)."""
    wanted = _command(sys.argv[1:] if argv is None else argv)
    if wanted in sub.choices:
        return  # a built-in command: no plugin is imported
    for entry in entry_points(group=COMMANDS):
        entry.load()(sub)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = build_parser(argv).parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ERRORS as exc:
        print(f"Error: {display_name(describe(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
