"""The heading path at a point of a document, for the `section` metadata of its chunks."""

from __future__ import annotations

from langchain_core.documents import Document


class Outline:
    """Headings seen so far, nested by level: "Results > 2023" under an h1 and an h2."""

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> None:
        """A heading of `level` (1 = top) closes the headings at its level and below."""
        self._open = [(lv, t) for lv, t in self._open if lv < level]
        if text:
            self._open.append((level, text))

    @property
    def path(self) -> str:
        return " > ".join(text for _, text in self._open)

    def metadata(self) -> dict[str, object]:
        return {"section": self.path} if self._open else {}


def prose(lines: list[str], outline: Outline, metadata: dict[str, object]) -> list[Document]:
    """The lines of one section as a page (none when they are blank)."""
    text = "\n".join(lines)
    if not text.strip():
        return []
    return [Document(page_content=text, metadata={**metadata, **outline.metadata()})]
