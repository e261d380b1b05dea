"""ingest.loaders: every supported format turns into text pages; every bad input is refused
with an `UnreadableFileError` whose message says what is wrong with the file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import docx
import pytest

from ingest.loaders import UnreadableFileError, load_file, skip_reason


def make_pdf(pages: list[str]) -> bytes:
    """A minimal but valid PDF: one Helvetica text line per page ("" gives a page without text)."""
    n = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode() if text else b""
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _replace_member(archive: bytes, member: str, content: bytes) -> bytes:
    """A copy of a zip archive with one member's content replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == member else src.read(item.filename))
    return out.getvalue()


def _damage_compressed_data(archive: bytes) -> bytes:
    """Flip bytes inside word/document.xml's deflate stream, keeping the zip structure intact."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        info = zf.getinfo("word/document.xml")
    data = bytearray(archive)
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_len = int.from_bytes(data[header + 28 : header + 30], "little")
    start = header + 30 + name_len + extra_len
    for i in range(start + 2, start + min(info.compress_size, 40)):
        data[i] ^= 0x5A
    return bytes(data)


def _texts(pages) -> list[str]:
    return [p.page_content for p in pages]


# -- supported formats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["notes.txt", "README.md", "setup.cfg", "CHANGELOG", "notes.TXT", "log.rst", "main.py"],
)
def test_text_like_files_are_read_as_utf8(name: str) -> None:
    text = "Ünïcode heading\n\nprice,qty\n4.50,3\n— a dash and 50% off\n"
    pages = load_file(Path(name), text.encode("utf-8"))
    assert _texts(pages) == [text]
    assert pages[0].metadata == {}


def test_markdown_keeps_its_text() -> None:
    md = "# Release notes\n\n* Added **PDF** support\n* Fixed [bug](http://x/1)\n"
    assert _texts(load_file(Path("notes.md"), md.encode())) == [md]


def test_csv_rows_survive_as_text() -> None:
    csv = "city,population\nOslo,709037\nBergen,291940\n"
    [page] = load_file(Path("cities.csv"), csv.encode())
    assert page.page_content == "city,population\nOslo,709037\nBergen,291940"
    assert page.metadata == {"first_row": 1, "last_row": 2}


def test_csv_groups_whole_rows_and_repeats_the_header() -> None:
    rows = [f"{i},Product number {i},{i * 1.5:.2f}" for i in range(1, 41)]
    data = ("id,name,price\n" + "\n".join(rows) + "\n").encode()
    pages = load_file(Path("products.csv"), data, size=120)

    assert len(pages) > 5
    for page in pages:
        header, *body = page.page_content.split("\n")
        assert header == "id,name,price"
        assert len(page.page_content) <= 120
        first, last = page.metadata["first_row"], page.metadata["last_row"]
        assert body == rows[first - 1 : last]  # whole rows, in order
    assert [p.metadata["first_row"] for p in pages][0] == 1
    assert pages[-1].metadata["last_row"] == 40
    assert all(a.metadata["last_row"] + 1 == b.metadata["first_row"]
               for a, b in zip(pages, pages[1:], strict=False))


def test_csv_quoted_fields_semicolons_and_tsv() -> None:
    data = b'name;note\nAda;"likes; semicolons"\nBob;"two\nlines"\n'
    [page] = load_file(Path("people.csv"), data)
    assert page.page_content == 'name;note\nAda;"likes; semicolons"\nBob;"two\nlines"'
    [tsv] = load_file(Path("t.tsv"), b"a\tb\n1\t2\n")
    assert tsv.page_content == "a\tb\n1\t2"


def test_csv_with_only_a_header_keeps_it() -> None:
    assert _texts(load_file(Path("h.csv"), b"id,name\n")) == ["id,name"]


def test_json_list_gives_one_record_per_item_with_keys() -> None:
    data = b'[{"id": 1, "title": "Alpha"}, {"id": 2, "title": "Beta \\u00e9"}]'
    [page] = load_file(Path("items.json"), data)
    assert page.page_content == '{"id": 1, "title": "Alpha"}\n{"id": 2, "title": "Beta \u00e9"}'
    assert page.metadata == {"first_record": 1, "last_record": 2}


def test_json_groups_records_up_to_the_chunk_size() -> None:
    records = [{"id": i, "text": f"record number {i} with some words"} for i in range(30)]
    pages = load_file(Path("big.json"), json.dumps(records).encode(), size=200)
    assert len(pages) > 3
    back = [json.loads(line) for p in pages for line in p.page_content.split("\n")]
    assert back == records  # every record whole, keys kept, in order
    assert all(len(p.page_content) <= 200 for p in pages)


def test_json_object_gives_one_record_per_member() -> None:
    [page] = load_file(Path("config.json"), b'{"name": "demo", "tags": ["a", "b"]}')
    assert page.page_content == '{"name": "demo"}\n{"tags": ["a", "b"]}'


def test_jsonl_one_record_per_line() -> None:
    data = b'{"q": "Who?", "a": "Ada"}\n\n{"q": "When?", "a": 1843}\n'
    [page] = load_file(Path("qa.jsonl"), data)
    assert page.page_content == '{"q": "Who?", "a": "Ada"}\n{"q": "When?", "a": 1843}'


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bad.json", b'{"a": 1,,}', "invalid JSON (line 1: Expecting property name"),
        ("bad.jsonl", b'{"a": 1}\n{"b": \n', "invalid JSON on line 2 (Expecting value)"),
    ],
)
def test_invalid_json_is_unreadable(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError) as err:
        load_file(Path(name), data)
    assert str(err.value).startswith(reason)


def test_html_prefers_the_main_element() -> None:
    html = (b"<html><body><div class='menu'>Home About</div><main><p>The article.</p></main>"
            b"<div>Related links</div></body></html>")
    assert _texts(load_file(Path("a.html"), html)) == ["The article."]


def test_docx_tables_are_read() -> None:
    document = docx.Document()
    document.add_paragraph("Budget")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("item", "cost"), ("chips", "12")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    # issue 15: a table is its own page, each row with its headers (was "item | cost\nchips | 12")
    prose, table = load_file(Path("t.docx"), buffer.getvalue())
    assert prose.page_content == "Budget"
    assert (table.page_content, table.metadata) == (
        "item: chips; cost: 12", {"table": 1, "first_row": 1, "last_row": 1})


@pytest.mark.parametrize(
    ("name", "head", "reason"),
    [
        ("photo.GIF", None, "binary file (.gif)"),
        ("archive.zip", None, "binary file (.zip)"),
        ("program", b"\x7fELF\x02\x01\x01\x00", "binary file"),
        ("notes", b"plain words", None),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00", None),  # a text name: read, then failed
    ],
)
def test_skip_reason(name: str, head: bytes | None, reason: str | None) -> None:
    assert skip_reason(Path(name), head) == reason


def test_utf8_byte_order_mark_is_dropped() -> None:
    assert _texts(load_file(Path("bom.txt"), b"\xef\xbb\xbfHello")) == ["Hello"]


def test_html_keeps_main_text_and_title_but_not_boilerplate() -> None:
    html = b"""<!doctype html><html><head><title>Quarterly report</title>
    <style>body { color: red }</style><script>var tracking = "SCRIPTCODE";</script></head>
    <body>
      <header>SITEHEADER</header>
      <nav><a href="/">NAVHOME</a> <a href="/about">NAVABOUT</a></nav>
      <main><h1>Revenue</h1><p>Revenue grew   to 12 million euros.</p>
      <p>Costs fell.</p></main>
      <aside>SIDEBAR ads</aside><noscript>NOSCRIPT</noscript>
      <footer>FOOTERTEXT (c) 2024</footer>
      <script>document.write("INLINESCRIPT")</script>
    </body></html>"""
    [page] = load_file(Path("report.html"), html)
    assert page.page_content == "Revenue\nRevenue grew   to 12 million euros.\nCosts fell."
    # issue 15: the heading above the text is its `section` (was {"title": ...} alone)
    assert page.metadata == {"title": "Quarterly report", "section": "Revenue"}
    for boilerplate in ["SCRIPTCODE", "INLINESCRIPT", "color", "SITEHEADER", "NAVHOME",
                        "SIDEBAR", "NOSCRIPT", "FOOTERTEXT"]:
        assert boilerplate not in page.page_content


def test_htm_suffix_and_html_without_title() -> None:
    [page] = load_file(Path("page.HTM"), b"<p>Just a <b>fragment</b>.</p>")
    assert page.page_content == "Just a\nfragment\n."
    assert page.metadata == {}


def test_pdf_pages_carry_their_page_numbers() -> None:
    data = make_pdf(["Nvidia market share fell to 50 percent.", "", "Huawei unveiled (a) PC."])
    pages = load_file(Path("report.pdf"), data)
    # the empty second page is dropped, but the numbering stays the PDF's own
    assert [(p.metadata["page"], p.page_content) for p in pages] == [
        (1, "Nvidia market share fell to 50 percent."),
        (3, "Huawei unveiled (a) PC."),
    ]


def test_pdf_suffix_is_case_insensitive() -> None:
    assert _texts(load_file(Path("SCAN.PDF"), make_pdf(["Upper case suffix"]))) == [
        "Upper case suffix"
    ]


def test_docx_paragraphs_become_lines() -> None:
    data = make_docx(["Project Falcon", "", "Budget: 1,200 euros.", "Owner: Ada Lovelace"])
    [page] = load_file(Path("plan.docx"), data)
    assert page.page_content == "Project Falcon\n\nBudget: 1,200 euros.\nOwner: Ada Lovelace"


# -- bad inputs -----------------------------------------------------------------------------------

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.txt", PNG_HEADER + bytes(range(256)), "binary file, not text"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n ", "empty file"),
        ("empty.pdf", b"", "empty file"),
        ("latin1.txt", "Caf\u00e9 cr\u00e8me".encode("latin-1"), "not UTF-8 text (byte 3)"),
        ("cp1252.csv", b"name,price\nWidget,\x8010\n", "not UTF-8 text (byte 18)"),
        ("page.html", b"<p>na\xefve</p>", "not UTF-8 text (byte 5)"),
        ("tags.html", b"<html><script>only()</script></html>", "no text found"),
        ("scan.pdf", make_pdf(["", ""]), "no text found (no text layer, and OCR read none)"),
        ("blank.docx", make_docx(["", "  "]), "no text found"),
    ],
)
def test_bad_input_is_refused_with_its_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError) as err:
        load_file(Path(name), data)
    assert str(err.value).startswith(reason)


GOOD_PDF = make_pdf(["Page one text.", "Page two text."])
GOOD_DOCX = make_docx(["Hello from Word."])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.4\nthis is not a pdf at all", id="garbage"),
        pytest.param(GOOD_PDF[: len(GOOD_PDF) // 2], id="truncated"),
        pytest.param(b"Just some text saved with a .pdf name", id="text-named-pdf"),
        pytest.param(GOOD_PDF.replace(b"/Kids [4 0 R 6 0 R]", b"/Kids 4.5"), id="bad-object"),
        pytest.param(GOOD_PDF.replace(b"/Kids [4 0 R 6 0 R]", b"/Kids [2 0 R]"), id="page-cycle"),
        # pypdf raises LimitReachedError (not a PdfReadError) for these two
        pytest.param(GOOD_PDF.replace(b"xref\n0 8", b"xref\n0 860000000000"), id="huge-xref"),
        pytest.param(
            GOOD_PDF.replace(b"/Type /Catalog", b"/Type /Xatalog").replace(
                b"endstream", b"endstreax", 1
            ),
            id="recovery-loop",
        ),
    ],
)
def test_corrupt_pdf_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match=r"^corrupt PDF \(.+\)$"):
        load_file(Path("broken.pdf"), data)


def test_encrypted_pdf_says_to_decrypt_it() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(GOOD_PDF)).pages:
        writer.add_page(page)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UnreadableFileError, match=r"^encrypted PDF; decrypt it first"):
        load_file(Path("locked.pdf"), buffer.getvalue())


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"PK\x03\x04 not really a zip", id="garbage"),
        pytest.param(GOOD_DOCX[: len(GOOD_DOCX) // 2], id="truncated"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), id="old-binary-doc"),
        pytest.param(_replace_member(GOOD_DOCX, "word/document.xml", b"<w:document"),
                     id="broken-xml"),
        pytest.param(_damage_compressed_data(GOOD_DOCX), id="damaged-deflate-stream"),
    ],
)
def test_corrupt_docx_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match=r"^corrupt DOCX \(.+\)$"):
        load_file(Path("broken.docx"), data)


def test_zip_that_is_not_a_word_document_is_unreadable() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(UnreadableFileError, match=r"^corrupt DOCX \(.*Content_Types"):
        load_file(Path("archive.docx"), buffer.getvalue())


# -- zip-based formats: unpacked size and entry count, checked before parsing ---------------------

WORD_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
            b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
WORD_PARAGRAPH = b"<w:p><w:r><w:t>All work and no play makes Jack a dull boy.</w:t></w:r></w:p>"


def _zip(members: dict[str, bytes], level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def _members(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def docx_bomb() -> bytes:
    """A real Word file (~400 KB) whose document.xml unpacks to 100 MB of paragraphs."""
    paragraphs = WORD_PARAGRAPH * (100 * 2**20 // len(WORD_PARAGRAPH))
    xml = WORD_XML + paragraphs + b"</w:body></w:document>"
    return _zip({**_members(GOOD_DOCX), "word/document.xml": xml}, level=1)


def test_docx_bomb_is_refused_before_parsing(docx_bomb: bytes) -> None:
    import resource

    assert len(docx_bomb) < 2**20  # what the size limit sees
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with pytest.raises(UnreadableFileError) as err:
        load_file(Path("report.docx"), docx_bomb)

    assert str(err.value) == (
        "unpacks to 101 MB (the limit is 50 MB, set ASSISTANT_MAX_FILE_MB to raise it)"
    )
    growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert growth_kb < 50 * 1024  # parsing it takes ~1 GB and minutes
    assert _texts(load_file(Path("plan.docx"), GOOD_DOCX)) == ["Hello from Word."]


def test_unpacked_limit_is_the_callers() -> None:
    # python-docx's template alone unpacks to ~0.8 MB (styles), from 36 KB
    with pytest.raises(UnreadableFileError, match=r"^unpacks to 0\.\d+ MB \(the limit is 0\.5 MB, "
                       r"set ASSISTANT_MAX_FILE_MB to raise it\)$"):
        load_file(Path("plan.docx"), GOOD_DOCX, max_unpacked_mb=0.5)
    assert _texts(load_file(Path("plan.docx"), GOOD_DOCX, max_unpacked_mb=1)) == [
        "Hello from Word."
    ]


def test_docx_with_too_many_entries_is_refused() -> None:
    members = {**_members(GOOD_DOCX), **{f"word/media/{i}.png": b"" for i in range(10_000)}}
    with pytest.raises(UnreadableFileError) as err:
        load_file(Path("album.docx"), _zip(members))
    assert str(err.value) == "holds 10017 entries (the limit is 10000)"


def test_huge_zip_directory_is_refused_before_zipfile_reads_it() -> None:
    """zipfile builds an object per directory entry (500k entries: ~280 MB, ~4 s): the
    directory's size is checked first, from the end record."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:  # 15,000 entries with long names: a 5 MB directory
        for i in range(15_000):
            zf.writestr(f"{i:0300}", b"")
    with pytest.raises(UnreadableFileError) as err:
        load_file(Path("many.docx"), out.getvalue())
    assert str(err.value) == (
        "has a 4.95 MB zip directory (the limit is 3.81 MB, room for 10000 entries)"
    )


def test_a_member_larger_than_its_declared_size_is_cut_off_by_zipfile() -> None:
    """What the check relies on: zipfile never returns more than the size the directory
    declares (past it the CRC check fails), so a lying small size does not get a bomb read."""
    import struct

    xml = WORD_XML + WORD_PARAGRAPH * 100_000 + b"</w:body></w:document>"  # 7.6 MB
    data = bytearray(_replace_member(GOOD_DOCX, "word/document.xml", xml))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/document.xml")
    directory = len(data)
    while True:  # the central directory entry of word/document.xml
        directory = data.rfind(b"PK\x01\x02", 0, directory)
        if data[directory + 46 : directory + 46 + 17] == b"word/document.xml":
            break
    struct.pack_into("<I", data, directory + 24, 1000)  # declared unpacked size
    struct.pack_into("<I", data, info.header_offset + 22, 1000)

    with pytest.raises(UnreadableFileError, match=r"^corrupt DOCX \(Bad CRC-32"):
        load_file(Path("liar.docx"), bytes(data))
