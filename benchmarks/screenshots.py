"""Screenshots of the chat UI for the docs: `python benchmarks/screenshots.py [--default-model]`.

Runs the app on the sample corpus (in a temporary data dir) and photographs it in headless
Chromium (apt-get install chromium; pip install playwright). By default with the fake model and
bag-of-words embeddings: chat.png (an answer with its source opened, the supporting sentence
highlighted, the scope and settings beside it), refused.png, documents.png (an upload's per-file
results and the documents list). With `--default-model`, the real default models:
chat-default-model.png (an answer, then a refusal).
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.api import SAMPLE_DIR  # noqa: E402
from assistant.web.app import launch  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def ask(page: Page, question: str, reply: int, wait_for: str) -> None:
    box = page.locator("#da-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator('#da-chat [data-testid="bot"]').nth(reply)).to_contain_text(
        wait_for, timeout=90_000  # the default model takes a few seconds
    )
    expect(box).to_be_editable()  # the turn is over: no progress indicator left
    page.wait_for_timeout(300)


def serve(settings: Settings, shoot: Callable[[Page, str], None], ingest: bool = True) -> None:
    assistant = Assistant(settings)
    if ingest:
        assistant.ingest([SAMPLE_DIR])
    assistant.warm_up()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = launch(assistant, port=port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            shoot(page, f"http://127.0.0.1:{port}/")
            browser.close()
    finally:
        app.close()


def fake_shots(out: Path, data_dir: Path) -> None:
    uploads = data_dir / "to-upload"
    uploads.mkdir()
    (uploads / "us-chip-export-controls.txt").write_text(
        (SAMPLE_DIR / "us-chip-export-controls.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (uploads / "meeting-notes.md").write_text(
        "# Meeting notes\n\nThe supplier review moved to June. The laptop budget was approved; "
        "orders go out next week.\n", encoding="utf-8")
    (uploads / "scan.pdf").write_bytes(b"%PDF-1.4 broken")

    def shoot(page: Page, url: str) -> None:
        page.get_by_role("tab", name="Documents").click()
        page.locator("#da-upload input[type=file]").set_input_files(sorted(uploads.iterdir()))
        expect(page.locator("#da-results")).to_contain_text("failed", timeout=60_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "documents.png"))
        page.get_by_role("tab", name="Chat").click()
        ask(page, "What did Jensen Huang say about the export controls?", 0, "Sources")
        page.locator("#da-chat .da-sources summary").first.click()
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "chat.png"))
        page.locator("#da-new-chat").click()
        expect(page.locator('#da-chat [data-testid="bot"]')).to_have_count(0)
        ask(page, "Lasagna recipes?", 0, "Not in your documents")
        page.screenshot(path=str(out / "refused.png"))

    serve(Settings(data_dir=data_dir / "kb", llm="fake", embedding="fake"), shoot, ingest=False)


def default_model_shot(out: Path, data_dir: Path) -> None:
    def shoot(page: Page, url: str) -> None:
        page.set_viewport_size({"width": 1200, "height": 1150})
        ask(page, "What did Jensen Huang call the export controls?", 0, "Sources")
        page.locator("#da-chat .da-sources summary").first.click()
        ask(page, "What is the name of TSMC's CEO?", 1, "Not in your documents")
        page.screenshot(path=str(out / "chat-default-model.png"), full_page=True)

    serve(Settings(data_dir=data_dir), shoot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path,
                        default=Path(__file__).resolve().parent.parent / "docs")
    parser.add_argument("--default-model", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        shots = default_model_shot if args.default_model else fake_shots
        shots(args.out, Path(data_dir))
    print(f"wrote screenshots to {args.out}")


if __name__ == "__main__":
    main()
