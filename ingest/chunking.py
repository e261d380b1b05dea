"""Split pages into overlapping chunks that keep paragraphs and sentences together."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def split(pages: list[Document], size: int, overlap: int) -> list[Document]:
    """Chunks of at most `size` characters; each keeps its page's metadata and `start_index`."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=min(overlap, size // 2),
        separators=SEPARATORS,
        keep_separator="end",
        add_start_index=True,
    )
    return splitter.split_documents(pages)
