"""HTML: the main text of a page, without scripts, styles, navigation or forms."""

from __future__ import annotations

from pathlib import Path

from langchain_core.documents import Document

from ingest.formats.base import decode


def load(path: Path, data: bytes, size: int) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript",
                     "form", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    # a page that marks its main content says where the article is; else take the whole body
    body = soup.find("main") or soup.find("article") or soup.body or soup
    lines = (line.strip() for line in body.get_text("\n").splitlines())
    meta = {"title": title} if title else {}
    return [Document(page_content="\n".join(line for line in lines if line), metadata=meta)]
