"""Write the table-QA corpus (`tables/`: PDF, DOCX, XLSX and HTML files made by their real
writers) and its cases (`tables.jsonl`) from public facts anyone can check: NASA's planetary
fact sheet, the eight-thousanders, FIFA World Cup and UEFA Euro finals, the Tokyo 2020 and
Paris 2024 medal tables, the longest rivers, the US decennial census, the elements and the SI
base units, the tallest buildings, Python's release dates and well-known programming languages.

    python evals/datasets/build_tables.py    # rewrites tables/ and tables.jsonl

Every question needs a row and a column of one table ("What was the population of Texas in
2020?"). `split` is `evals.cases.split_of(id)`: dev to choose the rendering, test to report.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from evals.cases import split_of

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "tables"
WHEN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

PLANETS = [
    ["Planet", "Diameter (km)", "Distance from Sun (million km)", "Orbital period (days)",
     "Mean temperature (C)"],
    ["Mercury", "4,879", "57.9", "88.0", "167"],
    ["Venus", "12,104", "108.2", "224.7", "464"],
    ["Earth", "12,756", "149.6", "365.2", "15"],
    ["Mars", "6,792", "228.0", "687.0", "-65"],
    ["Jupiter", "142,984", "778.5", "4,331", "-110"],
    ["Saturn", "120,536", "1,432.0", "10,747", "-140"],
    ["Uranus", "51,118", "2,867.0", "30,589", "-195"],
    ["Neptune", "49,528", "4,515.0", "59,800", "-200"],
]
MOUNTAINS = [
    ["Rank", "Mountain", "Height (m)", "First ascent", "Country"],
    ["1", "Mount Everest", "8,849", "1953", "Nepal, China"],
    ["2", "K2", "8,611", "1954", "Pakistan, China"],
    ["3", "Kangchenjunga", "8,586", "1955", "Nepal, India"],
    ["4", "Lhotse", "8,516", "1956", "Nepal, China"],
    ["5", "Makalu", "8,485", "1955", "Nepal, China"],
    ["6", "Cho Oyu", "8,188", "1954", "Nepal, China"],
    ["7", "Dhaulagiri I", "8,167", "1960", "Nepal"],
    ["8", "Manaslu", "8,163", "1956", "Nepal"],
    ["9", "Nanga Parbat", "8,126", "1953", "Pakistan"],
    ["10", "Annapurna I", "8,091", "1950", "Nepal"],
]
WORLD_CUP = [
    ["Year", "Host", "Winner", "Score", "Runner-up", "Venue"],
    ["2022", "Qatar", "Argentina", "3-3 (4-2 on penalties)", "France", "Lusail Stadium, Lusail"],
    ["2018", "Russia", "France", "4-2", "Croatia", "Luzhniki Stadium, Moscow"],
    ["2014", "Brazil", "Germany", "1-0 (after extra time)", "Argentina",
     "Maracana, Rio de Janeiro"],
    ["2010", "South Africa", "Spain", "1-0 (after extra time)", "Netherlands",
     "Soccer City, Johannesburg"],
    ["2006", "Germany", "Italy", "1-1 (5-3 on penalties)", "France", "Olympiastadion, Berlin"],
    ["2002", "South Korea and Japan", "Brazil", "2-0", "Germany",
     "International Stadium, Yokohama"],
    ["1998", "France", "France", "3-0", "Brazil", "Stade de France, Saint-Denis"],
]
EURO = [
    ["Year", "Winner", "Score", "Runner-up", "Venue"],
    ["2024", "Spain", "2-1", "England", "Olympiastadion, Berlin"],
    ["2020", "Italy", "1-1 (3-2 on penalties)", "England", "Wembley Stadium, London"],
    ["2016", "Portugal", "1-0 (after extra time)", "France", "Stade de France, Saint-Denis"],
    ["2012", "Spain", "4-0", "Italy", "Olympic Stadium, Kyiv"],
    ["2008", "Spain", "1-0", "Germany", "Ernst Happel Stadium, Vienna"],
    ["2004", "Greece", "1-0", "Portugal", "Estadio da Luz, Lisbon"],
]
MEDALS = ["Rank", "Nation", "Gold", "Silver", "Bronze", "Total"]
TOKYO = [MEDALS] + [r.split(",") for r in [
    "1,United States,39,41,33,113", "2,China,38,32,19,89", "3,Japan,27,14,17,58",
    "4,Great Britain,22,21,22,65", "5,ROC,20,28,23,71", "6,Australia,17,7,22,46",
    "7,Netherlands,10,12,14,36", "8,France,10,12,11,33", "9,Germany,10,11,16,37",
    "10,Italy,10,10,20,40"]]
PARIS = [MEDALS] + [r.split(",") for r in [
    "1,United States,40,44,42,126", "2,China,40,27,24,91", "3,Japan,20,12,13,45",
    "4,Australia,18,19,16,53", "5,France,16,26,22,64", "6,Netherlands,15,7,12,34",
    "7,Great Britain,14,22,29,65", "8,South Korea,13,9,10,32", "9,Italy,12,13,15,40",
    "10,Germany,12,13,8,33"]]
RIVERS = [
    ["River", "Length (km)", "Outflow", "Continent"],
    ["Nile", "6,650", "Mediterranean Sea", "Africa"],
    ["Amazon", "6,400", "Atlantic Ocean", "South America"],
    ["Yangtze", "6,300", "East China Sea", "Asia"],
    ["Mississippi-Missouri", "6,275", "Gulf of Mexico", "North America"],
    ["Yenisei", "5,539", "Kara Sea", "Asia"],
    ["Yellow River", "5,464", "Bohai Sea", "Asia"],
    ["Ob-Irtysh", "5,410", "Gulf of Ob", "Asia"],
    ["Parana", "4,880", "Rio de la Plata", "South America"],
    ["Congo", "4,700", "Atlantic Ocean", "Africa"],
    ["Amur", "4,444", "Sea of Okhotsk", "Asia"],
]
CENSUS: list[list[object]] = [
    ["State", 2000, 2010, 2020],
    ["California", 33871648, 37253956, 39538223],
    ["Texas", 20851820, 25145561, 29145505],
    ["Florida", 15982378, 18801310, 21538187],
    ["New York", 18976457, 19378102, 20201249],
    ["Pennsylvania", 12281054, 12702379, 13002700],
    ["Illinois", 12419293, 12830632, 12812508],
    ["Ohio", 11353140, 11536504, 11799448],
]
ELEMENTS: list[list[object]] = [
    ["Element", "Symbol", "Atomic number", "Atomic weight", "Melting point (C)"],
    ["Hydrogen", "H", 1, 1.008, -259.16], ["Helium", "He", 2, 4.0026, None],
    ["Lithium", "Li", 3, 6.94, 180.5], ["Carbon", "C", 6, 12.011, None],
    ["Nitrogen", "N", 7, 14.007, -210.0], ["Oxygen", "O", 8, 15.999, -218.79],
    ["Sodium", "Na", 11, 22.99, 97.79], ["Iron", "Fe", 26, 55.845, 1538],
    ["Copper", "Cu", 29, 63.546, 1084.62], ["Silver", "Ag", 47, 107.87, 961.78],
    ["Gold", "Au", 79, 196.97, 1064.18], ["Lead", "Pb", 82, 207.2, 327.46],
    ["Uranium", "U", 92, 238.03, 1132.2],
]
SI_UNITS: list[list[object]] = [
    ["Quantity", "Unit", "Symbol"],
    ["time", "second", "s"], ["length", "metre", "m"], ["mass", "kilogram", "kg"],
    ["electric current", "ampere", "A"], ["thermodynamic temperature", "kelvin", "K"],
    ["amount of substance", "mole", "mol"], ["luminous intensity", "candela", "cd"],
]
BUILDINGS = [
    ["Rank", "Building", "City", "Country", "Height (m)", "Floors", "Completed"],
    ["1", "Burj Khalifa", "Dubai", "United Arab Emirates", "828", "163", "2010"],
    ["2", "Merdeka 118", "Kuala Lumpur", "Malaysia", "678.9", "118", "2023"],
    ["3", "Shanghai Tower", "Shanghai", "China", "632", "128", "2015"],
    ["4", "Abraj Al-Bait Clock Tower", "Mecca", "Saudi Arabia", "601", "120", "2012"],
    ["5", "Ping An International Finance Centre", "Shenzhen", "China", "599.1", "115", "2017"],
    ["6", "Lotte World Tower", "Seoul", "South Korea", "554.5", "123", "2017"],
    ["7", "One World Trade Center", "New York City", "United States", "541.3", "94", "2014"],
    ["8", "Guangzhou CTF Finance Centre", "Guangzhou", "China", "530", "111", "2016"],
    ["9", "Tianjin CTF Finance Centre", "Tianjin", "China", "530", "97", "2019"],
]
PYTHON = [
    ["Version", "Released", "End of life", "Release schedule"],
    ["3.13", "2024-10-07", "2029-10", "PEP 719"], ["3.12", "2023-10-02", "2028-10", "PEP 693"],
    ["3.11", "2022-10-24", "2027-10", "PEP 664"], ["3.10", "2021-10-04", "2026-10", "PEP 619"],
    ["3.9", "2020-10-05", "2025-10", "PEP 596"], ["3.8", "2019-10-14", "2024-10-07", "PEP 569"],
    ["3.7", "2018-06-27", "2023-06-27", "PEP 537"], ["3.6", "2016-12-23", "2021-12-23", "PEP 494"],
]
LANGUAGES = [
    ["Language", "First appeared", "Designed by"],
    ["C", "1972", "Dennis Ritchie"], ["C++", "1985", "Bjarne Stroustrup"],
    ["Perl", "1987", "Larry Wall"], ["Python", "1991", "Guido van Rossum"],
    ["Java", "1995", "James Gosling"], ["JavaScript", "1995", "Brendan Eich"],
    ["Ruby", "1995", "Yukihiro Matsumoto"], ["PHP", "1995", "Rasmus Lerdorf"],
    ["Go", "2009", "Robert Griesemer, Rob Pike and Ken Thompson"],
]

# (id, question, accepted answers, file)
CASES = [
    ("planet-jupiter-diameter", "What is the diameter of Jupiter in km?", ["142,984"],
     "planets.pdf"),
    ("planet-mars-period", "How many days does Mars take to orbit the Sun?", ["687"],
     "planets.pdf"),
    ("planet-venus-temperature", "What is the mean temperature of Venus?", ["464", "464°C"],
     "planets.pdf"),
    ("planet-saturn-distance", "How far is Saturn from the Sun, in million km?", ["1,432"],
     "planets.pdf"),
    ("planet-uranus-period", "What is the orbital period of Uranus in days?", ["30,589"],
     "planets.pdf"),
    ("mountain-k2-height", "How high is K2 in metres?", ["8,611"], "mountains.pdf"),
    ("mountain-makalu-ascent", "In what year was Makalu first climbed?", ["1955"],
     "mountains.pdf"),
    ("mountain-annapurna-height", "What is the height of Annapurna I?", ["8,091"],
     "mountains.pdf"),
    ("mountain-dhaulagiri-ascent", "When was the first ascent of Dhaulagiri I?", ["1960"],
     "mountains.pdf"),
    ("cup-2014-winner", "Who won the 2014 World Cup final?", ["Germany"], "finals.pdf"),
    ("cup-2010-runner-up", "Who was the runner-up of the 2010 World Cup final?",
     ["Netherlands"], "finals.pdf"),
    ("cup-2018-score", "What was the score of the 2018 World Cup final?", ["4-2"], "finals.pdf"),
    ("cup-2006-venue", "In which stadium was the 2006 World Cup final played?",
     ["Olympiastadion"], "finals.pdf"),
    ("euro-2016-winner", "Who won the Euro 2016 final?", ["Portugal"], "finals.pdf"),
    ("euro-2008-venue", "In which city was the Euro 2008 final played?", ["Vienna"],
     "finals.pdf"),
    ("euro-2012-score", "What was the score of the Euro 2012 final?", ["4-0"], "finals.pdf"),
    ("tokyo-japan-gold", "How many gold medals did Japan win at Tokyo 2020?", ["27"],
     "olympics.docx"),
    ("tokyo-britain-total", "How many medals in total did Great Britain win at Tokyo 2020?",
     ["65"], "olympics.docx"),
    ("tokyo-roc-silver", "How many silver medals did the ROC win at Tokyo 2020?", ["28"],
     "olympics.docx"),
    ("paris-france-silver", "How many silver medals did France win at Paris 2024?", ["26"],
     "olympics.docx"),
    ("paris-australia-gold", "How many gold medals did Australia win at Paris 2024?", ["18"],
     "olympics.docx"),
    ("paris-korea-total", "How many medals in total did South Korea win at Paris 2024?",
     ["32"], "olympics.docx"),
    ("river-yenisei-length", "How long is the Yenisei in km?", ["5,539"], "rivers.docx"),
    ("river-amur-outflow", "Into which sea does the Amur flow?", ["Okhotsk"], "rivers.docx"),
    ("river-parana-length", "How long is the Parana in km?", ["4,880"], "rivers.docx"),
    ("river-yellow-outflow", "Into which sea does the Yellow River flow?", ["Bohai"],
     "rivers.docx"),
    ("census-texas-2020", "What was the population of Texas in 2020?", ["29,145,505"],
     "census.xlsx"),
    ("census-new-york-2000", "What was the population of New York in 2000?", ["18,976,457"],
     "census.xlsx"),
    ("census-florida-2010", "What was the population of Florida in 2010?", ["18,801,310"],
     "census.xlsx"),
    ("census-illinois-2020", "What was the population of Illinois in 2020?", ["12,812,508"],
     "census.xlsx"),
    ("census-ohio-2010", "What was the population of Ohio in 2010?", ["11,536,504"],
     "census.xlsx"),
    ("element-copper-weight", "What is the atomic weight of copper?", ["63.546"],
     "elements.xlsx"),
    ("element-gold-melting", "What is the melting point of gold?", ["1064.18", "1064.18°C"],
     "elements.xlsx"),
    ("element-silver-number", "What is the atomic number of silver?", ["47"], "elements.xlsx"),
    ("element-sodium-melting", "What is the melting point of sodium?", ["97.79", "97.79°C"],
     "elements.xlsx"),
    ("element-lead-symbol", "What is the chemical symbol of lead?", ["Pb"], "elements.xlsx"),
    ("si-luminous-intensity", "What is the SI base unit of luminous intensity?", ["candela"],
     "elements.xlsx"),
    ("si-substance-symbol", "What is the symbol of the SI base unit of amount of substance?",
     ["mol"], "elements.xlsx"),
    ("si-electric-current", "What is the SI base unit of electric current?", ["ampere"],
     "elements.xlsx"),
    ("building-shanghai-height", "How tall is the Shanghai Tower in metres?", ["632"],
     "buildings.html"),
    ("building-lotte-completed", "In what year was the Lotte World Tower completed?", ["2017"],
     "buildings.html"),
    ("building-merdeka-city", "In which city is Merdeka 118?", ["Kuala Lumpur"],
     "buildings.html"),
    ("building-wtc-height", "How tall is One World Trade Center in metres?", ["541.3"],
     "buildings.html"),
    ("building-abraj-floors", "How many floors does the Abraj Al-Bait Clock Tower have?",
     ["120"], "buildings.html"),
    ("python-311-released", "When was Python 3.11 released?",
     ["2022-10-24", "October 24, 2022", "24 October 2022"], "software.html"),
    ("python-38-end", "When did Python 3.8 reach its end of life?",
     ["2024-10-07", "October 7, 2024", "7 October 2024"], "software.html"),
    ("python-36-pep", "Which PEP is the release schedule of Python 3.6?", ["494"],
     "software.html"),
    ("python-310-released", "When was Python 3.10 released?",
     ["2021-10-04", "October 4, 2021", "4 October 2021"], "software.html"),
    ("language-perl-year", "In what year did Perl first appear?", ["1987"], "software.html"),
    ("language-php-designer", "Who designed PHP?", ["Rasmus Lerdorf", "Lerdorf"],
     "software.html"),
    ("language-ruby-year", "In what year did Ruby first appear?", ["1995"], "software.html"),
]


def write_pdf(path: Path, title: str, pages: list[tuple[str, str, list[list[str]]]]) -> None:
    """One page per (intro, caption, table): the table drawn with its cell borders."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(WHEN)
    pdf.set_title(title)
    for intro, caption, rows in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, intro)
        pdf.ln(4)
        pdf.cell(0, 6, caption)
        pdf.ln(8)
        with pdf.table(text_align="LEFT", line_height=6) as table:
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(cell)
        pdf.ln(4)
        pdf.multi_cell(0, 5, "Source: public records; see the project's tables.SOURCES.md.")
    pdf.output(str(path))


def write_docx(path: Path, parts: list[tuple[int, str, list[list[str]] | None]]) -> None:
    """Headings (level > 0), paragraphs (level 0) and tables, in order; header rows marked."""
    import docx
    from docx.oxml import OxmlElement

    document = docx.Document()
    document.core_properties.created = document.core_properties.modified = WHEN
    for level, text, rows in parts:
        if level:
            document.add_heading(text, level=level)
        elif text:
            document.add_paragraph(text)
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell
            # Word's "repeat as header row" on the first row
            table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    document.save(str(path))


def write_xlsx(path: Path, sheets: list[tuple[str, str, list[list[object]]]]) -> None:
    """One sheet per (name, title row, rows); the title above the header, as people do."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = WHEN.replace(tzinfo=None)
    for name, title, rows in sheets:
        sheet = book.create_sheet(name)
        if title:
            sheet.append([title])
        for row in rows:
            sheet.append(row)
    book.save(str(path))


def html_table(rows: list[list[str]], caption: str = "", th: bool = True) -> str:
    """A table whose first row is `<th>` cells in a `<thead>` (or plain `<td>`s)."""
    cell = "th" if th else "td"
    head = "".join(f"<{cell}>{c}</{cell}>" for c in rows[0])
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows[1:])
    caption = f"<caption>{caption}</caption>" if caption else ""
    if th:
        return f"<table>{caption}<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody></table>"
    return f"<table>{caption}<tr>{head}</tr>\n{body}</table>"


def write_html(path: Path, title: str, body: str) -> None:
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/lists'>Lists</a></nav><main>{body}</main>"
        "<footer>Compiled from public records.</footer></body></html>\n", encoding="utf-8")


def write_corpus() -> None:
    CORPUS.mkdir(exist_ok=True)
    write_pdf(CORPUS / "planets.pdf", "The planets", [(
        "The eight planets of the Solar System, from NASA's planetary fact sheet. Distances are "
        "mean distances from the Sun; temperatures are mean surface (or cloud top) values.",
        "Table 1: Planetary data", PLANETS)])
    write_pdf(CORPUS / "mountains.pdf", "The highest mountains", [(
        "The ten highest mountains on Earth, all in the Himalaya and the Karakoram, with the year "
        "each was first climbed.", "Table 1: The ten highest mountains", MOUNTAINS)])
    write_pdf(CORPUS / "finals.pdf", "Football finals", [
        ("The last seven FIFA World Cup finals.", "Table 1: FIFA World Cup finals", WORLD_CUP),
        ("The last six UEFA European Championship finals.", "Table 2: UEFA Euro finals", EURO)])
    write_docx(CORPUS / "olympics.docx", [
        (1, "Summer Olympics medal tables", None),
        (0, "The ten nations at the top of the medal table, ranked by gold medals.", None),
        (2, "Tokyo 2020", TOKYO), (2, "Paris 2024", PARIS)])
    write_docx(CORPUS / "rivers.docx", [
        (1, "The longest rivers", None),
        (0, "Lengths of the ten longest river systems and where they flow out.", RIVERS)])
    write_xlsx(CORPUS / "census.xlsx", [
        ("States", "US resident population by state, decennial census", CENSUS)])
    write_xlsx(CORPUS / "elements.xlsx", [
        ("Elements", "", ELEMENTS), ("SI base units", "", SI_UNITS)])
    write_html(CORPUS / "buildings.html", "Tallest buildings",
               "<h1>Tallest buildings in the world</h1><p>Completed buildings, by height to "
               "their architectural top.</p>"
               + html_table(BUILDINGS, "The nine tallest completed buildings"))
    write_html(CORPUS / "software.html", "Software facts",
               "<h1>Software facts</h1><h2>Python releases</h2><p>Each Python version gets "
               "five years of bug and security fixes.</p>" + html_table(PYTHON)
               + "<h2>Programming languages</h2><p>When some well-known languages first "
               "appeared, and who designed them.</p>" + html_table(LANGUAGES, th=False))


def write_cases() -> None:
    lines = [json.dumps({"id": id_, "question": question, "answers": answers,
                         "sources": [source], "kind": Path(source).suffix[1:],
                         "split": split_of(id_)}, ensure_ascii=False)
             for id_, question, answers, source in CASES]
    (HERE / "tables.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_corpus()
    write_cases()
