"""PDF libraries on ruled tables: cells recovered in their column, and time per page.

    python benchmarks/pdf_tables.py

Tables: the four of the table-QA PDFs (`evals/datasets/tables/*.pdf`, written by fpdf2 with
drawn cell borders; 35 rows, 183 cells). pypdf and pypdfium2 give text only: a table is a run
of words, so no cell is recovered; the column counts rows that at least come out as one line.
Time: a table page, and a prose page (the sample article set in Helvetica by fpdf2). Then the
loader itself: cells recovered as "header: value", and time per page, prose pages with a rule,
an underline and a box included (none of them a table).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.datasets import build_tables as b  # noqa: E402
from ingest.formats.tables import clean  # noqa: E402

PDFS = {"planets.pdf": [b.PLANETS], "mountains.pdf": [b.MOUNTAINS],
        "finals.pdf": [b.WORLD_CUP, b.EURO]}


def prose_pdf(pages: int = 5) -> bytes:
    from fpdf import FPDF

    text = next((ROOT / "data" / "sample").glob("*.txt")).read_text(encoding="utf-8")
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 5, text[:3000].encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def ruled_prose_pdf(pages: int = 5) -> bytes:
    """The prose pages with what is no table on each: a rule under a heading, an underlined
    word, a box around a note."""
    from fpdf import FPDF

    text = next((ROOT / "data" / "sample").glob("*.txt")).read_text(encoding="utf-8")
    text = text[:2400].encode("latin-1", "replace").decode("latin-1")
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=14)
        pdf.cell(0, 8, "Export controls", new_x="LMARGIN", new_y="NEXT")
        pdf.line(10, 20, 200, 20)
        pdf.ln(4)
        pdf.set_font("Helvetica", style="U", size=10)
        pdf.write(5, "Summary:")
        pdf.set_font("Helvetica", size=10)
        pdf.write(5, " " + text)
        pdf.ln(8)
        pdf.multi_cell(0, 5, "Note: figures as reported by Reuters.", border=1)
    return bytes(pdf.output())


def loader_cells(data: bytes, expected: list[list[list[str]]]) -> int:
    """Cells the loader (`ingest.formats.pdf.load`) gives as "header: value" on their row's
    line, header cells counted when their name is there."""
    from ingest.formats import pdf

    pages = [p for p in pdf.load(Path("t.pdf"), data, 100_000) if "table" in p.metadata]
    right = 0
    for number, table in enumerate(expected, start=1):
        lines = [line for p in pages if p.metadata["table"] == number
                 for line in p.page_content.splitlines()]
        header = table[0]
        right += sum(any(f"{h}: " in line for line in lines) for h in header)
        for row in table[1:]:
            line = next((x for x in lines if x.startswith(f"{header[0]}: {row[0]};")), "")
            right += sum(f"{h}: {v}" in line for h, v in zip(header, row, strict=True))
    return right


def loader(data: bytes) -> object:
    from ingest.formats import pdf

    return pdf.load(Path("t.pdf"), data, 1000)


def plumber(data: bytes) -> list[list[list[str | None]]]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        found = [t for page in pdf.pages for t in page.find_tables()]
        for page in pdf.pages:
            page.extract_text()
        return [t.extract() for t in found]


def pypdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def pdfium_text(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def ms_per_page(read: Callable[[bytes], object], data: bytes, pages: int, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        read(data)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / pages


def main() -> None:
    folder = ROOT / "evals" / "datasets" / "tables"
    rows_on_a_line, total_cells, total_rows, right = {"pypdf": 0, "pypdfium2": 0}, 0, 0, 0
    texts = {"pypdf": pypdf_text, "pypdfium2": pdfium_text}
    for name, expected in PDFS.items():
        data = (folder / name).read_bytes()
        for table, got in zip(expected, plumber(data), strict=True):
            for want, row in zip(table, got, strict=True):
                right += sum(w == clean(g) for w, g in zip(want, row, strict=True))
                total_cells, total_rows = total_cells + len(want), total_rows + 1
        for lib, read in texts.items():
            lines = {" ".join(line.split()) for line in read(data).splitlines()}
            rows_on_a_line[lib] += sum(" ".join(" ".join(r).split()) in lines
                                       for table in expected for r in table)
    table_page, prose = (folder / "planets.pdf").read_bytes(), prose_pdf()
    print("| library | cells recovered in their column | rows on one line | ms per table page "
          "| ms per prose page |\n| --- | --- | --- | --- | --- |")
    for lib, read in [("pdfplumber", plumber), *texts.items()]:
        got = f"{right}/{total_cells}" if lib == "pdfplumber" else f"0/{total_cells}"
        lines = "-" if lib == "pdfplumber" else f"{rows_on_a_line[lib]}/{total_rows}"
        print(f"| {lib} | {got} | {lines} | {ms_per_page(read, table_page, 1):.0f} "
              f"| {ms_per_page(read, prose, 5):.0f} |")
    cells = sum(loader_cells((folder / name).read_bytes(), expected)
                for name, expected in PDFS.items())
    print("\nThe loader (`ingest.formats.pdf.load`: pypdfium2, pdfplumber for pages that draw a "
          "grid):\n\n| cells recovered | ms per table page | ms per prose page "
          "| ms per prose page with a rule, an underline and a box |\n| --- | --- | --- | --- |")
    print(f"| {cells}/{total_cells} | {ms_per_page(loader, table_page, 1):.0f} "
          f"| {ms_per_page(loader, prose, 5):.0f} "
          f"| {ms_per_page(loader, ruled_prose_pdf(), 5):.0f} |")


if __name__ == "__main__":
    main()
