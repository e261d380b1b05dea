"""Tables that keep their meaning: the renderer's exact output, and each format's loader on a real
file written by its real writer (fpdf2, python-docx, openpyxl, odfpy, hand-written HTML)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import docx
import openpyxl
import pytest

from evals.cases import BUILTIN, load_cases, split_of
from ingest.formats import pdf, tables
from ingest.formats.tables import MARKDOWN, PAIRS, header_names, looks_like_header, render
from ingest.loaders import BINARY_SUFFIXES, ZIP_FORMATS, UnreadableFileError, load_file

CENSUS = [["State", "2010", "2020"], ["Texas", "25,145,561", "29,145,505"],
          ["Ohio", "11,536,504", "11,799,448"]]


def _texts(pages) -> list[str]:
    return [p.page_content for p in pages]


# -- the renderer -------------------------------------------------------------------------------

def test_pairs_give_every_row_its_headers() -> None:
    [page] = render(CENSUS, 600, title="US census", metadata={"table": 3})
    assert page.page_content == ("US census\n"
                                 "State: Texas; 2010: 25,145,561; 2020: 29,145,505\n"
                                 "State: Ohio; 2010: 11,536,504; 2020: 11,799,448")
    assert page.metadata == {"table": 3, "first_row": 1, "last_row": 2}


def test_markdown_rows_under_the_header_row() -> None:
    [page] = render(CENSUS, 600, style=MARKDOWN)
    assert page.page_content == ("| State | 2010 | 2020 |\n| --- | --- | --- |\n"
                                 "| Texas | 25,145,561 | 29,145,505 |\n"
                                 "| Ohio | 11,536,504 | 11,799,448 |")


def test_a_table_spanning_pages_repeats_its_header_on_each() -> None:
    rows = [["Year", "Winner"]] + [[str(2000 + i), f"Team {i}"] for i in range(6)]
    pages = render(rows, 60, title="Finals", style=MARKDOWN)
    assert _texts(pages) == [
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2000 | Team 0 |",
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2001 | Team 1 |",
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2002 | Team 2 |",
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2003 | Team 3 |",
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2004 | Team 4 |",
        "Finals\n| Year | Winner |\n| --- | --- |\n| 2005 | Team 5 |",
    ]
    pairs = render(rows, 70, title="Finals", style=PAIRS)
    assert _texts(pairs) == ["Finals\nYear: 2000; Winner: Team 0\nYear: 2001; Winner: Team 1",
                             "Finals\nYear: 2002; Winner: Team 2\nYear: 2003; Winner: Team 3",
                             "Finals\nYear: 2004; Winner: Team 4\nYear: 2005; Winner: Team 5"]
    assert [(p.metadata["first_row"], p.metadata["last_row"]) for p in pairs] == [
        (1, 2), (3, 4), (5, 6)]


def test_multi_row_headers_with_merged_and_empty_cells_are_joined() -> None:
    rows = [["", "Population", None, "Area"],      # None: covered by "Population" on its left
            ["", "2010", "2020", "Area"],          # "Area" merged down: kept once
            ["Japan", "128,057,352", "126,146,099", "377,975"]]
    assert header_names(rows[:2], 4) == ["column 1", "Population 2010", "Population 2020", "Area"]
    [page] = render(rows, 600, header_rows=2)
    assert page.page_content == ("column 1: Japan; Population 2010: 128,057,352; "
                                 "Population 2020: 126,146,099; Area: 377,975")


def test_whitespace_in_cells_empty_cells_and_empty_rows() -> None:
    rows = [[" Name ", "Born\n(year)"], ["", ""], ["Ada  Lovelace", ""], [None, "1906"]]
    assert _texts(render(rows, 600)) == ["Name: Ada Lovelace\nBorn (year): 1906"]
    assert _texts(render([["", " "], [None]], 600)) == []


def test_a_table_without_a_header_row_gets_numbered_columns() -> None:
    assert _texts(render([["1", "2"], ["3", "4"]], 600)) == [
        "column 1: 1; column 2: 2\ncolumn 1: 3; column 2: 4"]
    assert _texts(render([["Name", "Age"]], 600)) == ["column 1: Name; column 2: Age"]


@pytest.mark.parametrize(
    ("row", "below", "header"),
    [
        (["State", "2010", "2020"], ["Texas", "25,145,561", "29,145,505"], True),  # years
        (["Name", "Age"], ["Ada", "36"], True),
        (["1", "2"], ["3", "4"], False),                    # numbers shaped like the row below
        (["Name", "", ""], ["Ada", "36", "London"], False),  # mostly empty
        (["a", "b"], ["a", "b"], False),                    # the same as the next row
        (["Name", "Age"], None, True),
    ],
)
def test_looks_like_header(row: list[str], below: list[str] | None, header: bool) -> None:
    assert looks_like_header(row, below) is header


def test_markdown_cells_escape_the_bar() -> None:
    [page] = render([["a", "b"], ["x|y", "z"]], 600, style=MARKDOWN)
    assert page.page_content.splitlines()[-1] == "| x\\|y | z |"


def test_the_default_style_is_pairs() -> None:
    assert tables.STYLE == PAIRS


# -- PDF (fpdf2 draws the cell borders; pdfplumber finds them) ------------------------------------

def make_pdf(pages: list[tuple[str, list[list[str]]]]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for intro, rows in pages:
        pdf.add_page()
        pdf.multi_cell(0, 5, intro)
        pdf.ln(4)
        if rows:
            with pdf.table(text_align="LEFT") as table:
                for cells in rows:
                    row = table.row()
                    for cell in cells:
                        row.cell(cell)
    return bytes(pdf.output())


def test_pdf_tables_keep_their_headers_page_and_number() -> None:
    data = make_pdf([("Census counts by state.", CENSUS), ("No table on this page.", []),
                     ("Finals.", [["Year", "Winner"], ["2014", "Germany"]])])
    pages = load_file(Path("report.pdf"), data)
    # the line above a table is its caption, the title of each of its pages
    assert [(p.page_content, p.metadata) for p in pages] == [
        ("Census counts by state.", {"page": 1}),
        ("Census counts by state.\nState: Texas; 2010: 25,145,561; 2020: 29,145,505\n"
         "State: Ohio; 2010: 11,536,504; 2020: 11,799,448",
         {"page": 1, "table": 1, "first_row": 1, "last_row": 2}),
        ("No table on this page.", {"page": 2}),
        ("Finals.", {"page": 3}),
        ("Finals.\nYear: 2014; Winner: Germany",
         {"page": 3, "table": 2, "first_row": 1, "last_row": 1}),
    ]


def test_pdf_table_rows_spanning_chunks_each_hold_header_and_value() -> None:
    rows = [["Planet", "Diameter (km)"]] + [[f"Planet {i}", f"{1000 + i}"] for i in range(30)]
    pages = load_file(Path("planets.pdf"), make_pdf([("Sizes.", rows)]), size=120)
    table_pages = [p for p in pages if "table" in p.metadata]
    assert len(table_pages) > 3
    for page in table_pages:
        assert page.page_content.startswith("Sizes.\nPlanet: Planet ")
        assert all(re.fullmatch(r"Planet: Planet \d+; Diameter \(km\): 10\d\d", line)
                   for line in page.page_content.splitlines()[1:])
    assert "Diameter" not in pages[0].page_content  # the cells are not in the page's text too


def make_ruled_prose_pdf() -> bytes:
    """A page of prose with what is no table: a rule under the heading, an underlined word,
    a box around a note, a vertical bar beside a quote."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 8, "Annual report", new_x="LMARGIN", new_y="NEXT")
    pdf.line(10, 20, 200, 20)
    pdf.ln(6)
    pdf.set_font("Helvetica", size=10)
    pdf.write(5, "Sales grew in every region. ")
    pdf.set_font("Helvetica", style="U", size=10)
    pdf.write(5, "Exports")
    pdf.set_font("Helvetica", size=10)
    pdf.write(5, " doubled.")
    pdf.ln(10)
    pdf.multi_cell(0, 5, "Note: figures are unaudited.", border=1)
    pdf.ln(4)
    pdf.line(12, 60, 12, 80)
    pdf.set_x(15)
    pdf.multi_cell(0, 5, "We will open two stores next year.")
    return bytes(pdf.output())


@pytest.fixture
def no_pdfplumber(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pdfplumber were not installed: a page that takes it fails to load."""
    monkeypatch.setitem(sys.modules, "pdfplumber", None)


def test_a_prose_page_with_rules_and_an_underline_is_read_without_pdfplumber(
    no_pdfplumber: None,
) -> None:
    [page] = load_file(Path("report.pdf"), make_ruled_prose_pdf())
    assert page.metadata == {"page": 1}
    assert " ".join(page.page_content.split()) == (
        "Annual report Sales grew in every region. Exports doubled. "
        "Note: figures are unaudited. We will open two stores next year.")


def test_only_a_page_whose_lines_form_a_grid_takes_pdfplumber() -> None:
    import pypdfium2

    table = make_pdf([("Finals.", [["Year", "Winner"], ["2014", "Germany"]])])
    one_row = make_pdf([("One row.", [["Year", "Winner"]])])
    grids = [pdf._draws_a_grid(pypdfium2.PdfDocument(data)[0])
             for data in (table, one_row, make_ruled_prose_pdf(), make_pdf([("Text.", [])]))]
    assert grids == [True, False, False, False]


# -- DOCX ---------------------------------------------------------------------------------------

def test_docx_tables_in_document_order_with_sections() -> None:
    document = docx.Document()
    document.add_heading("Results", level=1)
    document.add_paragraph("Counts by state.")
    document.add_heading("2020", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, cells in enumerate(CENSUS):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    document.add_paragraph("After the table.")
    document.add_heading("Method", level=1)
    document.add_paragraph("Decennial census.")
    buffer = io.BytesIO()
    document.save(buffer)
    pages = load_file(Path("report.docx"), buffer.getvalue())
    assert [(p.page_content, p.metadata) for p in pages] == [
        ("Results\nCounts by state.", {"section": "Results"}),
        ("2020", {"section": "Results > 2020"}),
        ("Results > 2020\nState: Texas; 2010: 25,145,561; 2020: 29,145,505\n"
         "State: Ohio; 2010: 11,536,504; 2020: 11,799,448",
         {"section": "Results > 2020", "table": 1, "first_row": 1, "last_row": 2}),
        ("After the table.", {"section": "Results > 2020"}),
        ("Method\nDecennial census.", {"section": "Method"}),
    ]


def test_docx_merged_and_marked_header_rows() -> None:
    from docx.oxml import OxmlElement

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 1).merge(table.cell(0, 2)).text = "Population"
    table.cell(0, 0).text = "Country"
    for c, text in enumerate(["Country", "2010", "2020"]):
        table.cell(1, c).text = text
    for c, text in enumerate(["Japan", "128,057,352", "126,146,099"]):
        table.cell(2, c).text = text
    for row in table.rows[:2]:  # Word's "repeat as header row"
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    buffer = io.BytesIO()
    document.save(buffer)
    [page] = load_file(Path("pop.docx"), buffer.getvalue())
    assert page.page_content == ("Country: Japan; Population 2010: 128,057,352; "
                                 "Population 2020: 126,146,099")


# -- HTML ---------------------------------------------------------------------------------------

HTML = b"""<html><head><title>Facts</title></head><body><nav>Home</nav><main>
<h1>Facts</h1><p>Intro text.</p>
<h2>Population</h2>
<table><caption>Census</caption>
<thead><tr><th rowspan="2">State</th><th colspan="2">Population</th></tr>
<tr><th>2010</th><th>2020</th></tr></thead>
<tbody><tr><td>Texas</td><td>25,145,561</td><td>29,145,505</td></tr>
<tr><td>Ohio</td><td>11,536,504</td><td>11,799,448</td></tr></tbody></table>
<p>After the census.</p>
<h2>Languages</h2>
<table><tr><td>Language</td><td>Designer</td></tr><tr><td>Perl</td><td>Larry Wall</td></tr></table>
</main></body></html>"""


def test_html_tables_with_spans_sections_and_captions() -> None:
    pages = load_file(Path("facts.html"), HTML)
    assert [(p.page_content, p.metadata) for p in pages] == [
        ("Facts\nIntro text.", {"title": "Facts", "section": "Facts"}),
        ("Population", {"title": "Facts", "section": "Facts > Population"}),
        ("Census\nState: Texas; Population 2010: 25,145,561; Population 2020: 29,145,505\n"
         "State: Ohio; Population 2010: 11,536,504; Population 2020: 11,799,448",
         {"title": "Facts", "section": "Facts > Population", "table": 1,
          "first_row": 1, "last_row": 2}),
        ("After the census.", {"title": "Facts", "section": "Facts > Population"}),
        ("Languages", {"title": "Facts", "section": "Facts > Languages"}),
        ("Facts > Languages\nLanguage: Perl; Designer: Larry Wall",  # first row as the header
         {"title": "Facts", "section": "Facts > Languages", "table": 2,
          "first_row": 1, "last_row": 1}),
    ]


def test_html_rowspan_in_the_body_repeats_the_cell_down() -> None:
    html = (b"<table><tr><th>Year</th><th>Event</th><th>City</th></tr>"
            b"<tr><td rowspan='2'>2024</td><td>Olympics</td><td>Paris</td></tr>"
            b"<tr><td>Euro</td><td>Berlin</td></tr></table>")
    assert _texts(load_file(Path("e.html"), html)) == [
        "Year: 2024; Event: Olympics; City: Paris\nYear: 2024; Event: Euro; City: Berlin"]


# -- spreadsheets -------------------------------------------------------------------------------

def make_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "States"
    sheet.append(["US population by state"])  # a title row above the header
    sheet.append(["State", 2010, 2020])
    sheet.append(["Texas", 25145561, 29145505])
    sheet.append([])
    sheet.append(["Ohio", 11536504, 11799448])
    units = book.create_sheet("Units")
    units.append(["Quantity", "Unit"])
    units.append(["luminous intensity", "candela"])
    units.append(["mass", "=\"kilo\"&\"gram\""])  # a formula: no cached value without Excel
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_each_sheet_is_a_table_with_its_name() -> None:
    pages = load_file(Path("census.xlsx"), make_xlsx())
    assert [(p.page_content, p.metadata) for p in pages] == [
        ("States — US population by state\nState: Texas; 2010: 25145561; 2020: 29145505\n"
         "State: Ohio; 2010: 11536504; 2020: 11799448",
         {"sheet": "States", "table": 1, "first_row": 1, "last_row": 2}),
        ("Units\nQuantity: luminous intensity; Unit: candela\nQuantity: mass",
         {"sheet": "Units", "table": 2, "first_row": 1, "last_row": 2}),
    ]


def make_ods() -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Elements")
    for cells in [["Element", "", "Symbol"], ["Copper", "", "Cu"], ["Gold", "", "Au"]]:
        row = TableRow()
        for text in cells:
            cell = TableCell(valuetype="string") if text else TableCell()
            if text:
                cell.addElement(P(text=text))
            row.addElement(cell)
        row.addElement(TableCell(numbercolumnsrepeated=1000))  # the sheet's empty tail
        table.addElement(row)
    table.addElement(TableRow(numberrowsrepeated=100000))
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def test_ods_sheet_with_an_empty_column_and_repeated_empty_tail() -> None:
    [page] = load_file(Path("elements.ods"), make_ods())
    assert page.page_content == ("Elements\nElement: Copper; Symbol: Cu\n"
                                 "Element: Gold; Symbol: Au")
    assert page.metadata == {"sheet": "Elements", "table": 1, "first_row": 1, "last_row": 2}


@pytest.mark.parametrize(("name", "reason"), [("broken.xlsx", "corrupt XLSX"),
                                              ("broken.ods", "corrupt ODS")])
def test_corrupt_spreadsheets_are_unreadable(name: str, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=f"^{reason} "):
        load_file(Path(name), b"PK\x03\x04 not really a zip")


def test_spreadsheets_are_read_not_skipped_and_checked_as_zips() -> None:
    assert {".xlsx", ".ods"} <= ZIP_FORMATS
    assert not {".xlsx", ".ods"} & BINARY_SUFFIXES


# -- the table-QA set ---------------------------------------------------------------------------

def test_table_qa_set_asks_real_tables_of_each_format() -> None:
    path, corpus = BUILTIN["tables"]
    cases, _ = load_cases(path)
    folder = corpus[-1]
    assert len(cases) >= 40
    assert {c.kind for c in cases} == {"pdf", "docx", "xlsx", "html"}
    table_ids = set()
    texts: dict[str, str] = {}
    for case in cases:
        [source] = case.sources
        if source not in texts:
            pages = load_file(folder / source, (folder / source).read_bytes())
            table_ids |= {(source, p.metadata["table"]) for p in pages if "table" in p.metadata}
            texts[source] = "\n".join(p.page_content for p in pages).replace(",", "")
        assert case.part == split_of(case.id)
        assert any(a.replace(",", "") in texts[source] for a in case.answers), case.id
    assert len(table_ids) >= 10
