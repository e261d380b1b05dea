"""PDF libraries on ruled tables: cells recovered in their column, and time per page.

    python benchmarks/pdf_tables.py

Tables: the four of the table-QA PDFs (`evals/datasets/tables/*.pdf`, written by fpdf2 with
drawn cell borders; 35 rows, 183 cells). pypdf and pypdfium2 give text only: a table is a run
of words, so no cell is recovered; the column counts rows that at least come out as one line.
Time: a table page, and a prose page (the sample article set in Helvetica by fpdf2).
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


if __name__ == "__main__":
    main()
