"""markitdown against our loaders on the table-QA files: can a chunk answer alone?

    python -m venv /tmp/md && /tmp/md/bin/pip install 'markitdown[docx,xlsx,pdf]'
    python benchmarks/markitdown_tables.py --markitdown-python /tmp/md/bin/python

markitdown (and its model-based file sniffer, magika, with onnxruntime) lives in a venv of its
own, so that it never enters this project's dependencies; this script asks that venv's Python
to convert the 9 files of `evals/datasets/tables/` and splits its Markdown with our chunker
(600 / 80 characters). For each of the 51 table-QA questions: is the accepted answer in a chunk
that also says which column it is in (a Markdown header row in that chunk, or, for our loaders,
the answer's "header: value" line)? Also the time to convert each file.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.documents import Document  # noqa: E402

from ingest import loaders  # noqa: E402
from ingest.chunking import split  # noqa: E402

TABLES = ROOT / "evals" / "datasets" / "tables"
CASES = ROOT / "evals" / "datasets" / "tables.jsonl"
CONVERT = """
import json, sys, time
from pathlib import Path
from markitdown import MarkItDown
md, out = MarkItDown(enable_plugins=False), {}
for p in sorted(Path(sys.argv[1]).iterdir()):
    if p.suffix in (".pdf", ".docx", ".xlsx", ".html"):
        started = time.perf_counter()
        text = md.convert(str(p)).text_content
        out[p.name] = {"text": text, "ms": round((time.perf_counter() - started) * 1000)}
json.dump(out, open(sys.argv[2], "w"))
"""
_MARKDOWN_RULE = re.compile(r"^\|[\s:|-]+\|$")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(",", "").split())


def says_column(chunk: str, answers: list[str]) -> bool:
    """The chunk holds an answer and tells its column: a Markdown header row above its rows, or
    the answer on a "header: value; ..." line."""
    if not any(_norm(a) in _norm(chunk) for a in answers):
        return False
    lines = chunk.split("\n")
    return any(_MARKDOWN_RULE.match(line) for line in lines) or any(
        ": " in line and any(_norm(a) in _norm(line) for a in answers) for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markitdown-python", required=True, type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "md.json"
        subprocess.run([str(args.markitdown_python), "-c", CONVERT, str(TABLES), str(out)],
                       check=True)
        converted = json.loads(out.read_text())
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    print("| file | markitdown ms | questions answerable from one chunk: markitdown | ours |")
    print("| --- | ---: | ---: | ---: |")
    totals = [0, 0, 0]
    for name, result in converted.items():
        theirs = split([Document(page_content=result["text"])], 600, 80)
        path = TABLES / name
        ours = split(loaders.load_file(path, path.read_bytes()), 600, 80)
        asked = [c for c in cases if c["sources"] == [name]]
        a = sum(any(says_column(ch.page_content, c["answers"]) for ch in theirs) for c in asked)
        b = sum(any(says_column(ch.page_content, c["answers"]) for ch in ours) for c in asked)
        totals = [totals[0] + a, totals[1] + b, totals[2] + len(asked)]
        print(f"| {name} | {result['ms']} | {a}/{len(asked)} | {b}/{len(asked)} |")
    print(f"| all | | {totals[0]}/{totals[2]} | {totals[1]}/{totals[2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
