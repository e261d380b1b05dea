"""`section` metadata: Markdown headings and PDF outlines, kept through chunking and storage,
shown in the chat UI's sources and the API's."""

from __future__ import annotations

import html
from pathlib import Path

from fpdf import FPDF

from assistant import Assistant, Settings
from assistant.http.wire import sources_json
from assistant.rag.chain import Answer
from assistant.rag.retrieval import Source
from assistant.web.format import source_label
from ingest.chunking import split
from ingest.formats.sections import section_path
from ingest.loaders import load_file

GUIDE = """Intro line before any heading.

# Guide

## Install
Run pip install x.
```
# a comment in code, not a heading
```
### On Linux ###
Use apt.
## Use
Run it daily.
# Other
"""


def test_markdown_gives_one_page_per_heading_with_its_path() -> None:
    pages = load_file(Path("guide.md"), GUIDE.encode())
    assert [(p.metadata, p.page_content) for p in pages] == [
        ({}, "Intro line before any heading.\n\n"),
        ({"section": "Guide > Install"},
         "# Guide\n\n## Install\nRun pip install x.\n```\n# a comment in code, not a heading\n"
         "```\n"),
        ({"section": "Guide > Install > On Linux"}, "### On Linux ###\nUse apt.\n"),
        ({"section": "Guide > Use"}, "## Use\nRun it daily.\n"),
        ({"section": "Other"}, "# Other\n"),
    ]
    assert "".join(p.page_content for p in pages) == GUIDE  # the text is kept as it was


def test_markdown_without_headings_is_one_page_as_before() -> None:
    [page] = load_file(Path("notes.markdown"), b"Just notes.\n#hashtag is no heading\n")
    assert page.metadata == {} and page.page_content == "Just notes.\n#hashtag is no heading\n"


def test_a_section_survives_chunking() -> None:
    text = "# Budget\n\n" + "The chips line costs twelve dollars. " * 20
    pages = load_file(Path("b.md"), text.encode())
    chunks = split(pages, 200, 20)
    assert len(chunks) > 3
    assert {c.metadata["section"] for c in chunks} == {"Budget"}


def test_section_path_collapses_spaces_and_drops_empty_titles() -> None:
    assert section_path(["Part  One", " ", "Chapter\n2"]) == "Part One > Chapter 2"


def outlined_pdf() -> bytes:
    """Four pages: Part One (p1) > Chapter 1 (p2), Chapter 2 and Chapter 3 (both p3);
    Part Two (p4)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for sections, body in [
        ([("Part One", 0)], "The part begins."),
        ([("Chapter 1", 1)], "Chapter one text."),
        ([("Chapter 2", 1), ("Chapter 3", 1)], "Two chapters on one page."),
        ([("Part Two", 0)], "The second part."),
    ]:
        pdf.add_page()
        for name, level in sections:
            pdf.start_section(name, level)
            pdf.cell(text=name)
            pdf.ln()
        pdf.cell(text=body)
    return bytes(pdf.output())


def test_a_pdf_outline_gives_each_page_the_entry_that_covers_it() -> None:
    pages = load_file(Path("book.pdf"), outlined_pdf())
    assert [(p.metadata["page"], p.metadata.get("section")) for p in pages] == [
        (1, "Part One"),
        (2, "Part One > Chapter 1"),
        (3, "Part One > Chapter 3"),  # the last entry that starts on the page
        (4, "Part Two"),
    ]


def test_a_pdf_without_an_outline_has_no_section() -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="No bookmarks here.")
    [page] = load_file(Path("plain.pdf"), bytes(pdf.output()))
    assert page.metadata == {"page": 1}


def test_sections_are_stored_and_reach_the_sources(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    (docs / "book.pdf").write_bytes(outlined_pdf())
    assistant = Assistant(Settings(data_dir=tmp_path / "kb", llm="fake", embedding="fake"))
    assert assistant.ingest([docs]).failed == []

    [linux] = assistant.retrieve("apt", k=1)
    assert (Path(linux.source).name, linux.metadata["section"]) == (
        "guide.md", "Guide > Install > On Linux")
    [second] = assistant.retrieve("second part", k=1, sources=["*.pdf"])
    assert (second.metadata["page"], second.metadata["section"]) == (4, "Part Two")
    answer = assistant.ask("What does the guide use on Linux?")
    assert [s.metadata.get("section") for s in answer.sources][:1] == [
        "Guide > Install > On Linux"]


def test_the_chat_ui_shows_the_section_next_to_the_file_name() -> None:
    source = Source("/docs/book.pdf", "text", 0.5, {"page": 3, "section": "Part <b>One</b>"})
    label = source_label(1, source)
    assert html.unescape(label) == "[1] book.pdf · Part <b>One</b> · page 3 · score 0.50"
    assert "<b>" not in label  # neutralised like every document text
    plain = source_label(2, Source("/docs/a.txt", "text", 0.25, {}))
    assert html.unescape(plain) == "[2] a.txt · score 0.25"


def test_the_api_sources_carry_the_section() -> None:
    answer = Answer("Apt [1].", [Source("/d/guide.md", "Use apt.", 0.5, {"section": "Guide"}),
                                 Source("/d/a.txt", "Other.", 0.25, {})], citations=[1])
    assert [(s["section"], s["metadata"].get("section")) for s in sources_json(answer)] == [
        ("Guide", "Guide"), (None, None)]


def test_an_attachment_is_labelled_with_its_mail() -> None:
    meta = {"attachment": "report.docx", "file_name": "mail.eml > report.docx"}
    assert html.unescape(source_label(1, Source("/inbox/mail.eml", "Revenue.", 0.5, meta))) == (
        "[1] mail.eml > report.docx · score 0.50")
