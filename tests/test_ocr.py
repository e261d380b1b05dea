"""OCR of scanned pages and image files, offline (the network guard of conftest.py is on for
every test here): real page images rendered from text with a TrueType font."""

from __future__ import annotations

import difflib
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from langchain_core.documents import Document
from PIL import Image
from pypdf import PdfWriter

from assistant import Assistant, Settings
from evals.cases import BUILTIN, DEFAULT_DATASET, load_cases
from evals.scorers import answer_match
from ingest.formats import ocr
from ingest.formats.base import NoTextError
from ingest.loaders import BINARY_SUFFIXES, UnreadableFileError, load_file, skip_reason
from tests.conftest import SAMPLE
from tests.scans import page_images, png, scanned_pdf

ARTICLE = (SAMPLE / "us-chip-export-controls.txt").read_text()
HUANG = ARTICLE.split("\n")[3]  # "Jensen Huang, CEO of US semiconductor firm Nvidia, said..."


def flat(text: str) -> str:
    return " ".join(text.split())


def characters_right(got: str, want: str) -> float:
    return difflib.SequenceMatcher(None, flat(want), flat(got), autojunk=False).ratio()


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if rapidocr-onnxruntime were not installed: its import fails."""
    ocr.engine.cache_clear()
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    yield
    ocr.engine.cache_clear()


def text_pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, text=text)
    return bytes(pdf.output())


def joined(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for data in pdfs:
        writer.append(io.BytesIO(data))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_scanned_page_is_read_and_marked_and_text_pages_are_kept() -> None:
    data = joined(text_pdf("A typed cover page about chip exports."), scanned_pdf(HUANG))
    cover, scan = load_file(Path("mixed.pdf"), data)
    assert cover.metadata == {"page": 1}  # a text layer: no OCR
    assert scan.metadata == {"page": 2, "ocr": True}
    assert flat(scan.page_content) == HUANG  # every character right, on three lines
    assert scan.page_content.count("\n") == 2


def test_a_scanned_page_given_as_several_documents_becomes_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loader may give a page as several documents (text, then tables): a scan's become one,
    rendered at `DPI` (the 200 dpi A4 scan back at 1655 x 2338 pixels)."""
    monkeypatch.setattr(ocr, "read_image", lambda image: f"read {image.size}")
    data = joined(scanned_pdf("A scanned line."), text_pdf("A typed page, long enough."))
    pages = [Document(page_content="", metadata={"page": 1}),
             Document(page_content=" ", metadata={"page": 1, "table": 1}),
             Document(page_content="A typed page, long enough.", metadata={"page": 2})]
    assert [(p.page_content, p.metadata) for p in ocr.fill_empty_pages(data, pages)] == [
        ("read (1655, 2338)", {"page": 1, "ocr": True}),
        ("A typed page, long enough.", {"page": 2}),
    ]


def test_an_image_file_is_read_by_ocr() -> None:
    [image] = page_images("Nvidia noted a $5.5 billion write-down in April.")
    [page] = load_file(Path("note.PNG"), png(image))
    assert page.metadata == {"page": 1, "ocr": True}
    assert flat(page.page_content) == "Nvidia noted a $5.5 billion write-down in April."


def test_image_suffixes_are_read_not_skipped() -> None:
    for suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"):
        assert suffix not in BINARY_SUFFIXES and skip_reason(Path(f"a{suffix}")) is None
    assert skip_reason(Path("a.gif")) == "binary file (.gif)"  # no OCR for GIFs


PHOTO = "no text found in the image (OCR read none: a photo?)"


def test_a_photo_without_text_has_no_text_with_its_reason() -> None:
    photo = Image.linear_gradient("L").resize((640, 480))
    with pytest.raises(NoTextError) as err:
        load_file(Path("sky.jpg"), png(photo))
    assert str(err.value) == PHOTO


def test_a_photo_without_text_is_skipped_not_failed(tmp_path: Path, settings: Settings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sky.png").write_bytes(png(Image.linear_gradient("L").resize((640, 480))))
    (docs / "notes.txt").write_text("The sky was clear all week.")
    report = Assistant(settings).ingest([docs])
    assert (report.added, report.failed) == ([str(docs / "notes.txt")], [])
    assert report.skipped == [(str(docs / "sky.png"), PHOTO)]


def test_a_corrupt_image_fails_with_its_reason() -> None:
    with pytest.raises(UnreadableFileError) as err:
        load_file(Path("broken.png"), b"\x89PNG\r\n\x1a\n" + bytes(40))
    assert str(err.value).startswith("corrupt or unsupported image (")


def test_a_text_pdf_never_loads_the_engine(no_engine: None) -> None:
    [page] = load_file(Path("typed.pdf"), text_pdf("Typed text, no scan."))
    assert page.metadata == {"page": 1} and page.page_content == "Typed text, no scan."


def test_without_an_engine_the_file_is_reported_with_the_fix(no_engine: None) -> None:
    with pytest.raises(ocr.NoOcrEngineError) as err:
        load_file(Path("scan.pdf"), scanned_pdf("A scanned line."))
    assert str(err.value) == (
        "no text layer, and no OCR engine to read it (pip install rapidocr-onnxruntime)")
    assert err.value.fix == "pip install rapidocr-onnxruntime"


def test_without_an_engine_an_ingest_reports_the_file_and_goes_on(
    no_engine: None, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "scan.png").write_bytes(png(page_images("A scanned line.")[0]))
    (docs / "notes.txt").write_text("Typed notes.")
    assistant = Assistant(Settings(data_dir=tmp_path / "kb", llm="fake", embedding="fake"))
    report = assistant.ingest([docs])
    assert [Path(s).name for s in report.added] == ["notes.txt"]
    assert [(Path(s).name, why) for s, why in report.failed] == [
        ("scan.png", "no text layer, and no OCR engine to read it "
                     "(pip install rapidocr-onnxruntime)")]


def test_paragraphs_are_kept_from_the_gaps_between_lines() -> None:
    def box(top: float) -> list[list[float]]:
        return [[0, top], [100, top], [100, top + 30], [0, top + 30]]

    lines = [(box(0), "one"), (box(40), "two"), (box(120), "three"), (box(160), "four")]
    assert ocr.join_lines(lines) == "one\ntwo\n\nthree\nfour"
    assert ocr.join_lines([]) == ""


def test_the_o_of_a_number_is_read_as_a_zero() -> None:
    assert ocr.zeros("invest 2oo billion, 1O0 and 3o; 2of 5, a 10 or go") == (
        "invest 200 billion, 100 and 30; 2of 5, a 10 or go")


@pytest.mark.integration
def test_the_scanned_sample_article_answers_like_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole article as a 4-page scan: its text read back, and every golden case whose
    answer retrieval finds in the text index found in the scan's too (MiniLM, k=4)."""
    read: dict[bytes, str] = {}
    real = ocr.read_image

    def once(image: Image.Image) -> str:  # each page OCR'd once, for the load and the ingest
        key = image.tobytes()
        if key not in read:
            read[key] = real(image)
        return read[key]

    monkeypatch.setattr(ocr, "read_image", once)
    scan = tmp_path / "scan"
    scan.mkdir()
    # a 300 dpi scan, a scanner's default: from a 200 dpi one the engine ran the words of some
    # lines together ("5percentatthestart"), and 2 of the 40 cases lost their passage
    (scan / "article.pdf").write_bytes(scanned_pdf(ARTICLE, dpi=300))
    pages = load_file(scan / "article.pdf", (scan / "article.pdf").read_bytes())
    assert [p.metadata for p in pages] == [{"page": n, "ocr": True} for n in (1, 2, 3, 4)]
    assert characters_right("\n".join(p.page_content for p in pages), ARTICLE) > 0.98
    found = {}
    for side, folder in (("text", SAMPLE), ("scan", scan)):
        assistant = Assistant(Settings(data_dir=tmp_path / f"kb-{side}", llm="fake"))
        assert assistant.ingest([folder]).failed == []
        found[side] = {
            c.id for c in load_cases(BUILTIN[DEFAULT_DATASET][0])[0] if c.answerable
            and any(answer_match(s.text, c.answers, c.all)
                    for s in assistant.retrieve(c.question, k=4))
        }
    assert found["text"] - found["scan"] == set()
