"""Slides (pptx, odp), text documents, e-books, mail and RTF (`ingest/formats/`): files written
by each format's own writer, read back into exact pages and metadata; damaged files give one
clear failure; a folder of them answers through the assistant, re-ingests as unchanged, and a
mail's removal takes its attachments' chunks with it."""

from __future__ import annotations

import io
import mailbox
import warnings
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from ebooklib import epub
from odf.draw import Frame, Page, TextBox
from odf.opendocument import OpenDocumentPresentation, OpenDocumentText
from odf.presentation import Notes
from odf.style import MasterPage, PageLayout
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, P
from pptx import Presentation
from pptx.util import Inches

from assistant import Assistant, Settings
from ingest.loaders import UnreadableFileError, load_file, skip_reason

DOCX_MIME = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
MAIL_META = {"from": "Ana Lima <ana@example.org>", "date": "Tue, 03 Mar 2026 09:15:00 +0000",
             "subject": "Q1 report"}
MAIL_HEAD = ("From: Ana Lima <ana@example.org>\nTo: team@example.org\n"
             "Date: Tue, 03 Mar 2026 09:15:00 +0000\nSubject: Q1 report\n\n")

# A WordPad (Riched20) document: a font table, a bold heading, an escaped accent and braces.
RTF = rb"""{\rtf1\ansi\ansicpg1252\deff0\nouicompat{\fonttbl{\f0\fnil\fcharset0 Calibri;}}
{\*\generator Riched20 10.0.19041}\viewkind4\uc1
\pard\sa200\sl276\slmult1\b\f0\fs22\lang9 Minutes of the board\b0\par
The caf\'e9 on the ground floor opens at 7:30 on weekdays.\par
Budget: \{approved\} by the board on 12 May.\par
}
"""


def pages(name: str, data: bytes, **kwargs: float) -> list[tuple[str, dict[str, object]]]:
    return [(p.page_content, p.metadata) for p in load_file(Path(name), data, **kwargs)]


def make_pptx() -> bytes:
    deck = Presentation()
    first = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    first.shapes.title.text = "Quarterly results"
    first.placeholders[1].text_frame.text = "Revenue grew 12% in the third quarter\nMargins held"
    first.notes_slide.notes_text_frame.text = "Mention the new Oslo office."
    second = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    second.shapes.title.text = "Headcount"
    table = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for r, row in enumerate([("Team", "People"), ("Sales", "14"), ("Support", "9")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    third = deck.slides.add_slide(deck.slide_layouts[6])  # blank: a text box, no title
    box = third.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = "Questions welcome"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _odp_frame(parent: object, lines: list[str], role: str = "") -> None:
    """A text frame on a slide; `role` is its presentation:class (title, outline, notes)."""
    frame = Frame(width="20cm", height="3cm", x="1cm", y="1cm")
    if role:
        frame.setAttrNS("urn:oasis:names:tc:opendocument:xmlns:presentation:1.0", "class", role)
    parent.addElement(frame)  # type: ignore[attr-defined]
    box = TextBox()
    frame.addElement(box)
    for line in lines:
        box.addElement(P(text=line))


def make_odp() -> bytes:
    deck = OpenDocumentPresentation()
    layout = PageLayout(name="Layout")
    deck.automaticstyles.addElement(layout)
    master = MasterPage(name="Master", pagelayoutname=layout)
    deck.masterstyles.addElement(master)
    first = Page(name="roadmap", masterpagename=master)
    deck.presentation.addElement(first)
    _odp_frame(first, ["Roadmap"], "title")
    _odp_frame(first, ["The beta ships in June", "Two hires in support"], "outline")
    notes = Notes()
    first.addElement(notes)
    _odp_frame(notes, ["Say the date twice."], "notes")
    second = Page(name="thanks", masterpagename=master)
    deck.presentation.addElement(second)
    _odp_frame(second, ["Thank you"])
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _odt_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(name="Spend")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for row in rows:
        element = TableRow()
        for value in row:
            cell = TableCell()
            cell.addElement(P(text=value))
            element.addElement(cell)
        table.addElement(element)
    return table


def make_odt() -> bytes:
    document = OpenDocumentText()
    body = document.text
    body.addElement(P(text="Prepared by the finance team."))
    body.addElement(H(outlinelevel=1, text="Budget"))
    body.addElement(P(text="The travel budget for 2025 is 42,000 euros."))
    body.addElement(H(outlinelevel=2, text="Rules"))
    items = List()
    item = ListItem()
    item.addElement(P(text="Trains before planes under 600 km."))
    items.addElement(item)
    body.addElement(items)
    body.addElement(_odt_table([("Year", "Spend"), ("2024", "31,500")]))
    body.addElement(H(outlinelevel=1, text="Staff"))
    body.addElement(P(text="Nine people travel regularly."))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_epub(toc: bool = True, ncx: bool = True) -> bytes:
    book = epub.EpubBook()
    book.set_identifier("field-notes-1")
    book.set_title("Field notes")
    book.set_language("en")
    first = epub.EpubHtml(title="Arrival", file_name="arrival.xhtml", lang="en")
    first.content = ("<html><head><style>p { color: red }</style></head><body><h1>Arrival</h1>"
                     "<p>We reached Tromsø on 3 March.</p><script>track()</script></body></html>")
    second = epub.EpubHtml(title="The glacier", file_name="glacier.xhtml", lang="en")
    second.content = "<h2>Ice</h2><p>The glacier retreated 40 metres since 2010.</p>"
    for chapter in (first, second):
        book.add_item(chapter)
    if toc:
        book.toc = [epub.Link("arrival.xhtml", "Arrival", "arrival"),
                    (epub.Section("Part two"), [second])]
    if ncx:
        book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", first, second]
    out = io.BytesIO()
    epub.write_epub(out, book, {"raise_exceptions": True})
    return out.getvalue()


def make_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# a truncated PNG: images are read by OCR, so it is tried and reported as damaged
BAD_LOGO = "logo.png: corrupt or unsupported image (Truncated File Read)"


def make_mail(report: bytes | None = None) -> EmailMessage:
    """A message with a text, a DOCX and a PNG attachment (`report` replaces the DOCX)."""
    message = EmailMessage()
    message["From"] = "Ana Lima <ana@example.org>"
    message["To"] = "team@example.org"
    message["Date"] = "Tue, 03 Mar 2026 09:15:00 +0000"
    message["Subject"] = "Q1 report"
    message.set_content("Hi all,\nthe Q1 report is attached.\n")
    message.add_attachment(b"The warehouse in Porto holds 1,200 pallets.\n", maintype="text",
                           subtype="plain", filename="notes.txt")
    message.add_attachment(report or make_docx("Revenue in Q1 was 3.4 million euros."),
                           maintype=DOCX_MIME[0], subtype=DOCX_MIME[1], filename="report.docx")
    message.add_attachment(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", maintype="image",
                           subtype="png", filename="logo.png")
    return message


def make_html_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "news@example.org"
    message["Subject"] = "Opening hours"
    message.set_content("<html><body><p>The library opens at nine.</p>"
                        "<script>track()</script></body></html>", subtype="html")
    return message


def make_parking_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "facilities@example.org"
    message["Subject"] = "Parking"
    message.set_content("Visitors park on level -2.")
    message.add_attachment(b"Gate B is next to the loading dock.", maintype="text",
                           subtype="plain", filename="map.txt")
    return message


def make_mbox(path: Path) -> bytes:
    box = mailbox.mbox(path)
    box.add(make_parking_mail())
    box.add(make_html_mail())
    box.close()
    return path.read_bytes()


# -- pages and metadata ---------------------------------------------------------------------------


def test_a_pptx_gives_a_page_per_slide_with_its_title_table_and_notes() -> None:
    assert pages("deck.pptx", make_pptx()) == [
        ("Quarterly results\nRevenue grew 12% in the third quarter\nMargins held\n"
         "Notes: Mention the new Oslo office.", {"slide": 1, "section": "Quarterly results"}),
        ("Headcount\nTeam | People\nSales | 14\nSupport | 9",
         {"slide": 2, "section": "Headcount"}),
        ("Questions welcome", {"slide": 3}),
    ]


def test_an_odp_gives_a_page_per_slide_as_a_pptx_does() -> None:
    assert pages("roadmap.odp", make_odp()) == [
        ("Roadmap\nThe beta ships in June\nTwo hires in support\nNotes: Say the date twice.",
         {"slide": 1, "section": "Roadmap"}),
        ("Thank you", {"slide": 2}),
    ]


def test_an_odt_gives_a_page_per_heading_with_its_heading_path() -> None:
    assert pages("plan.odt", make_odt()) == [
        ("Prepared by the finance team.", {}),
        ("Budget\nThe travel budget for 2025 is 42,000 euros.", {"section": "Budget"}),
        ("Rules\nTrains before planes under 600 km.\nYear | Spend\n2024 | 31,500",
         {"section": "Budget > Rules"}),
        ("Staff\nNine people travel regularly.", {"section": "Staff"}),
    ]


def test_an_epub_gives_a_page_per_chapter_in_spine_order_titled_from_its_toc() -> None:
    data = make_epub()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ebooklib's warnings about its future defaults too
        read = pages("notes.epub", data)
    assert read == [  # the navigation page is left out; the style and the script are dropped
        ("Arrival\nWe reached Tromsø on 3 March.", {"chapter": 1, "section": "Arrival"}),
        ("Ice\nThe glacier retreated 40 metres since 2010.",
         {"chapter": 2, "section": "Part two > The glacier"}),
    ]


def test_an_epub_without_an_ncx_is_titled_from_its_nav_page() -> None:
    assert [meta for _, meta in pages("notes.epub", make_epub(ncx=False))] == [
        {"chapter": 1, "section": "Arrival"},
        {"chapter": 2, "section": "Part two > The glacier"},
    ]


def test_an_epub_chapter_without_a_toc_entry_is_titled_by_its_first_heading() -> None:
    assert [meta for _, meta in pages("notes.epub", make_epub(toc=False))] == [
        {"chapter": 1, "section": "Arrival"}, {"chapter": 2, "section": "Ice"}]


def test_an_eml_gives_its_headers_and_body_then_each_attachment_read_as_a_file() -> None:
    attached = {**MAIL_META, "file_name": "mail.eml > {}"}
    assert pages("mail.eml", make_mail().as_bytes()) == [
        (MAIL_HEAD + "Hi all,\nthe Q1 report is attached.",
         {**MAIL_META, "unread_attachments": BAD_LOGO}),
        ("The warehouse in Porto holds 1,200 pallets.\n",
         {**attached, "attachment": "notes.txt", "file_name": "mail.eml > notes.txt"}),
        ("Revenue in Q1 was 3.4 million euros.",
         {**attached, "attachment": "report.docx", "file_name": "mail.eml > report.docx"}),
    ]


def test_an_html_only_mail_body_is_read_as_html() -> None:
    assert pages("news.eml", make_html_mail().as_bytes()) == [
        ("From: news@example.org\nSubject: Opening hours\n\nThe library opens at nine.",
         {"from": "news@example.org", "subject": "Opening hours"}),
    ]


def test_an_mbox_gives_a_page_per_message_numbered(tmp_path: Path) -> None:
    read = pages("inbox.mbox", make_mbox(tmp_path / "inbox.mbox"))
    assert read[:2] == [
        ("From: facilities@example.org\nSubject: Parking\n\nVisitors park on level -2.",
         {"message": 1, "from": "facilities@example.org", "subject": "Parking"}),
        ("Gate B is next to the loading dock.",
         {"message": 1, "from": "facilities@example.org", "subject": "Parking",
          "attachment": "map.txt", "file_name": "inbox.mbox > map.txt"}),
    ]
    assert read[2:] == [
        ("From: news@example.org\nSubject: Opening hours\n\nThe library opens at nine.",
         {"message": 2, "from": "news@example.org", "subject": "Opening hours"}),
    ]


def test_an_mbox_message_without_headers_is_still_read() -> None:
    data = (b"From a@example.org Tue Mar  3 09:15:00 2026\nSubject: one\n\nfirst\n\n"
            b"From b@example.org Tue Mar  3 09:16:00 2026\n\nsecond, no headers\n")
    assert pages("inbox.mbox", data) == [
        ("Subject: one\n\nfirst", {"message": 1, "subject": "one"}),
        ("second, no headers", {"message": 2}),
    ]


def test_a_mail_attached_to_a_mail_is_read_without_its_own_attachments() -> None:
    outer = EmailMessage()
    outer["From"] = "bo@example.org"
    outer["Subject"] = "Fwd: Q1 report"
    outer.set_content("See below.")
    outer.add_attachment(make_mail())  # message/rfc822
    read = pages("fwd.eml", outer.as_bytes())
    assert [text for text, _ in read] == [
        "From: bo@example.org\nSubject: Fwd: Q1 report\n\nSee below.",
        MAIL_HEAD + "Hi all,\nthe Q1 report is attached.",
    ]
    nested = read[1][1]
    assert nested["attachment"] == "attachment-1.eml"
    assert nested["file_name"] == "fwd.eml > attachment-1.eml"
    assert nested["unread_attachments"] == "; ".join(
        f"{name}: not read: an attachment of an attached mail"
        for name in ("notes.txt", "report.docx", "logo.png"))


def test_a_damaged_attachment_is_listed_and_the_mail_still_reads() -> None:
    read = pages("mail.eml", make_mail(report=b"PK\x03\x04 not really a docx").as_bytes())
    assert [meta.get("attachment") for _, meta in read] == [None, "notes.txt"]
    assert read[0][1]["unread_attachments"].startswith("report.docx: corrupt DOCX (")
    assert read[0][1]["unread_attachments"].endswith("; " + BAD_LOGO)


def test_an_rtf_gives_its_text() -> None:
    assert pages("minutes.rtf", RTF) == [
        ("Minutes of the board\nThe café on the ground floor opens at 7:30 on weekdays.\n"
         "Budget: {approved} by the board on 12 May.", {}),
    ]


def test_an_outlook_msg_is_skipped_with_what_to_do() -> None:
    assert skip_reason(Path("mail.msg"), b"\xd0\xcf\x11\xe0\x00\x00") == \
        "Outlook .msg: save as .eml"


# -- damaged files ---------------------------------------------------------------------------------


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("deck.pptx", _half(make_pptx()), "corrupt PPTX ("),
    ("plan.odt", _half(make_odt()), "corrupt ODT ("),
    ("roadmap.odp", _half(make_odp()), "corrupt ODP ("),
    ("notes.epub", _half(make_epub()), "corrupt EPUB ("),
    ("deck.pptx", b"PK\x03\x04" + b"\x00" * 64, "corrupt PPTX ("),
    ("minutes.rtf", _half(RTF), "corrupt RTF (unbalanced braces: cut short or damaged)"),
    ("minutes.rtf", b"\x89PNG\r\n\x1a\n\x00\x00", "not an RTF file (it does not start with"),
    ("mail.eml", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file, not mail"),
    ("mail.eml", b"just a note, no headers\n", "not a mail message (no From, To, Date or"),
    ("inbox.mbox", b"Subject: hi\n\nno separator line\n", "not an mbox file (it does not"),
])
def test_a_damaged_file_gives_one_clear_failure(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError) as caught:
        load_file(Path(name), data)
    assert str(caught.value).startswith(reason)


def _with_member(archive: bytes, member: str, content: bytes) -> bytes:
    """A copy of a zip archive with one member replaced or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != member:
                dst.writestr(item, src.read(item.filename))
        dst.writestr(member, content)
    return out.getvalue()


ODF_ENCRYPTED = (b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                 b'manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" '
                 b'manifest:media-type="text/xml"><manifest:encryption-data/>'
                 b'</manifest:file-entry></manifest:manifest>')
EPUB_DRM = (b'<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            b'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
            b'<enc:CipherReference URI="EPUB/arrival.xhtml"/></enc:CipherData></enc:EncryptedData>'
            b'</encryption>')
EPUB_FONTS = EPUB_DRM.replace(b"EPUB/arrival.xhtml", b"EPUB/fonts/serif.otf")


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("plan.odt", _with_member(make_odt(), "META-INF/manifest.xml", ODF_ENCRYPTED),
     "password-protected ODT; save it without a password first"),
    ("roadmap.odp", _with_member(make_odp(), "META-INF/manifest.xml", ODF_ENCRYPTED),
     "password-protected ODP; save it without a password first"),
    ("notes.epub", _with_member(make_epub(), "META-INF/encryption.xml", EPUB_DRM),
     "encrypted EPUB (DRM); only DRM-free books can be read"),
    ("deck.pptx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
     "password-protected PPTX, or an old .ppt renamed (an OLE file, not a zip): remove the "
     "password or save it as .pptx"),
])
def test_a_locked_file_is_refused_with_what_to_do(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError) as caught:
        load_file(Path(name), data)
    assert str(caught.value) == reason


def test_an_epub_with_obfuscated_fonts_only_is_read() -> None:
    data = _with_member(make_epub(), "META-INF/encryption.xml", EPUB_FONTS)
    assert [meta for _, meta in pages("notes.epub", data)] == [
        {"chapter": 1, "section": "Arrival"},
        {"chapter": 2, "section": "Part two > The glacier"},
    ]


@pytest.mark.parametrize(("name", "make"), [
    ("deck.pptx", make_pptx), ("roadmap.odp", make_odp), ("plan.odt", make_odt),
    ("notes.epub", make_epub),
])
def test_a_zipped_format_is_checked_for_its_unpacked_size_first(
    name: str, make: Callable[[], bytes]
) -> None:
    limit = r"^unpacks to [\d.]+ MB \(the limit is 0.000999 MB"
    with pytest.raises(UnreadableFileError, match=limit):
        load_file(Path(name), make(), max_unpacked_mb=0.001)


# python-docx's default template unpacks to 0.788 MB: over a 0.5 MB limit, under the default 50
TOO_LARGE_REPORT = ("report.docx: unpacks to 0.788 MB (the limit is 0.5 MB, set "
                    "ASSISTANT_MAX_FILE_MB to raise it)")


def test_a_mails_zipped_attachment_is_checked_against_the_callers_unpacked_limit() -> None:
    data = make_mail().as_bytes()
    [mail, *attached] = pages("mail.eml", data, max_unpacked_mb=0.5)
    assert [m["attachment"] for _, m in attached] == ["notes.txt"]
    assert mail[1]["unread_attachments"] == f"{TOO_LARGE_REPORT}; {BAD_LOGO}"
    assert [m["attachment"] for _, m in pages("mail.eml", data)[1:]] == [
        "notes.txt", "report.docx"]


# -- through the assistant -------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "deck.pptx").write_bytes(make_pptx())
    (root / "roadmap.odp").write_bytes(make_odp())
    (root / "plan.odt").write_bytes(make_odt())
    (root / "notes.epub").write_bytes(make_epub())
    (root / "mail.eml").write_bytes(make_mail().as_bytes())
    make_mbox(root / "inbox.mbox")
    (root / "minutes.rtf").write_bytes(RTF)
    (root / "old.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return root


QUESTIONS = [  # (question, file, a fact of the passage the fake model quotes)
    ("How many people work in Support headcount?", "deck.pptx", "Support | 9"),
    ("When does the beta ship?", "roadmap.odp", "beta ships in June"),
    ("What is the travel budget for 2025?", "plan.odt", "42,000 euros"),
    ("How far did the glacier retreat since 2010?", "notes.epub", "40 metres"),
    ("How many pallets does the warehouse in Porto hold?", "mail.eml", "1,200 pallets"),
    ("What was the revenue in Q1 in million euros?", "mail.eml", "3.4 million euros"),
    ("When does the library open?", "inbox.mbox", "opens at nine"),
    ("Where is gate B, next to the loading dock?", "inbox.mbox", "loading dock"),
    ("When does the café on the ground floor open?", "minutes.rtf", "7:30"),
]


def test_a_folder_of_these_formats_answers_from_each_file(folder: Path, settings: Settings) -> None:
    assistant = Assistant(settings)
    report = assistant.ingest([folder])
    assert sorted(Path(s).name for s in report.added) == sorted(
        ["deck.pptx", "roadmap.odp", "plan.odt", "notes.epub", "mail.eml", "inbox.mbox",
         "minutes.rtf"])
    assert report.failed == []
    assert report.skipped == [(str(folder / "old.msg"), "Outlook .msg: save as .eml")]
    for question, name, fact in QUESTIONS:
        answer = assistant.ask(question)
        assert fact in answer.text, (question, answer.text)
        assert Path(answer.cited_sources[0].source).name == name
    porto = assistant.ask("How many pallets does the warehouse in Porto hold?").cited_sources[0]
    assert porto.metadata["attachment"] == "notes.txt"
    assert porto.metadata["file_name"] == "mail.eml > notes.txt"
    revenue = assistant.ask("What was the revenue in Q1 in million euros?").cited_sources[0]
    assert revenue.metadata["attachment"] == "report.docx"


def test_reingest_is_unchanged_and_removing_a_mail_removes_its_attachments(
    folder: Path, settings: Settings
) -> None:
    assistant = Assistant(settings)
    first = assistant.ingest([folder])
    again = assistant.ingest([folder])
    assert (again.added, again.updated, again.chunks) == ([], [], 0)
    assert sorted(again.unchanged) == sorted(first.added)
    mail = str(folder / "mail.eml")
    attachments = [s for s in assistant.retrieve("Porto warehouse pallets revenue", k=50)
                   if s.source == mail and "attachment" in s.metadata]
    assert {s.metadata["attachment"] for s in attachments} == {"notes.txt", "report.docx"}
    assistant.remove(mail)
    assert mail not in {d.source for d in assistant.documents()}
    assert [s for s in assistant.retrieve("Porto warehouse pallets revenue", k=50)
            if s.source == mail] == []


def test_a_mails_attachments_count_toward_the_file_size_limit(
    tmp_path: Path, settings: Settings
) -> None:
    message = make_html_mail()
    message.add_attachment(b"x" * 40_000, maintype="text", subtype="plain", filename="big.txt")
    mail = tmp_path / "big.eml"
    mail.write_bytes(message.as_bytes())  # 40 KB of text, base64-encoded: about 54 KB
    report = Assistant(settings.model_copy(update={"max_file_mb": 0.05})).ingest([mail])
    assert report.added == []
    assert [(source, reason.split(";")[0]) for source, reason in report.failed] == [
        (str(mail), "too large (0.0521 MB")]


def test_a_mails_zipped_attachment_is_checked_against_the_users_file_limit(
    tmp_path: Path, settings: Settings
) -> None:
    mail = tmp_path / "mail.eml"
    mail.write_bytes(make_mail().as_bytes())  # about 50 KB: under the limit itself
    assistant = Assistant(settings.model_copy(update={"max_file_mb": 0.5}))
    assert assistant.ingest([mail]).added == [str(mail)]
    [page] = [s for s in assistant.retrieve("Q1 report attached", k=10) if "attachment" not in
              s.metadata]
    assert page.metadata["unread_attachments"] == f"{TOO_LARGE_REPORT}; {BAD_LOGO}"


def test_a_changed_or_pruned_mail_leaves_none_of_its_old_attachments(
    folder: Path, settings: Settings
) -> None:
    assistant = Assistant(settings)
    assistant.ingest([folder])
    mail, mbox = folder / "mail.eml", folder / "inbox.mbox"
    mail.write_bytes(make_mail(report=make_docx("Revenue in Q1 was 2.9 million euros.")).as_bytes())
    changed = assistant.ingest([folder])
    assert (changed.updated, changed.failed) == ([str(mail)], [])
    revenue = [s.text for s in assistant.retrieve("Revenue in Q1 million euros", k=50)
               if s.metadata.get("attachment") == "report.docx"]
    assert revenue == ["Revenue in Q1 was 2.9 million euros."]
    mbox.unlink()
    pruned = assistant.ingest([folder], prune=True)
    assert pruned.removed == [str(mbox)]
    assert [s for s in assistant.retrieve("Gate B loading dock", k=50)
            if s.source == str(mbox)] == []
