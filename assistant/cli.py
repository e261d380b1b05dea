"""The `assistant` command: ingest | ask | chat | sources. Errors become one line with a fix."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import ERRORS, describe
from assistant.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key, value in {"data_dir": args.data_dir, "llm": args.llm, "k": args.k}.items()
        if value is not None
    }
    return Settings(**overrides)


def _assistant(args: argparse.Namespace):  # -> Assistant; imported late to keep --help fast
    from assistant.api import Assistant

    return Assistant(_settings(args))


def cmd_ingest(args: argparse.Namespace) -> int:
    assistant = _assistant(args)

    def show(source: str, status: str) -> None:
        if not args.quiet:
            print(f"{status:>9}  {source}", flush=True)

    report = assistant.ingest(args.paths, prune=args.prune, on_file=show)
    for source, reason in report.failed:
        print(f"   failed  {source}: {reason}", file=sys.stderr)
    for source in report.removed:
        print(f"  removed  {source}")
    print(report.summary())
    return 0 if report.ok else 1


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _assistant(args).ask(args.question)
    print(answer.text)
    shown = answer.cited_sources if not answer.refused else answer.sources
    if shown:
        print("\nSources:" if not answer.refused else "\nClosest passages:")
        numbers = answer.citations if not answer.refused else range(1, len(shown) + 1)
        for number, source in zip(numbers, shown, strict=True):
            print(f"[{number}] {source.source} (score {source.score:.2f})")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    docs = _assistant(args).documents()
    if not docs:
        print("No documents yet. Add some with: assistant ingest PATH")
        return 0
    for doc in docs:
        state = "" if doc.complete else "  (incomplete: ingest it again)"
        print(f"{doc.chunks:>6} chunks  {doc.content_hash[:12]}  {doc.source}{state}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.ui import launch

    assistant = _assistant(args)
    report = assistant.ingest_sample_if_empty()
    if report is not None:
        print(f"The knowledge base was empty: ingested the sample corpus ({report.summary()}).")
    print("Loading the models...", flush=True)
    assistant.warm_up()  # model problems (missing package, bad checksum) show up before the UI
    print(f"Chat on http://{args.host}:{args.port} (answer model: {assistant.settings.llm})")
    launch(assistant, host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("sources", help="list ingested documents")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("chat", help="open the chat UI in the browser")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ERRORS as exc:
        print(f"Error: {describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
