"""Screenshots of the chat UI for the docs: `python benchmarks/screenshots.py [OUT_DIR]`.

Runs the app with the fake model and bag-of-words embeddings on the sample corpus (in a
temporary data dir) and photographs it in headless Chromium (apt-get install chromium;
pip install playwright). Writes chat.png (an answer with its sources) and refused.png.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.api import SAMPLE_DIR  # noqa: E402
from assistant.ui import launch  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def ask(page, question: str, reply: int, wait_for: str) -> None:
    box = page.locator("textarea").first
    box.fill(question)
    box.press("Enter")
    expect(page.locator('#da-chat [data-testid="bot"]').nth(reply)).to_contain_text(
        wait_for, timeout=30_000
    )
    expect(box).to_be_editable()  # the turn is over: no progress indicator left
    page.wait_for_timeout(300)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        assistant = Assistant(Settings(data_dir=Path(data_dir), llm="fake", embedding="fake"))
        assistant.ingest([SAMPLE_DIR])
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = launch(assistant, port=port, block=False)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1000, "height": 720})
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
                ask(page, "What did Jensen Huang say about the export controls?", 0, "Sources")
                page.locator("#da-chat .da-sources summary").first.click()
                page.screenshot(path=str(out / "chat.png"))
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load")  # a new conversation
                ask(page, "Lasagna recipes?", 0, "Not in your documents")
                page.screenshot(path=str(out / "refused.png"))
                browser.close()
        finally:
            app.close()
    print(f"wrote {out / 'chat.png'} and {out / 'refused.png'}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "docs"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
