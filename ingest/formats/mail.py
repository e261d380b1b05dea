"""Mail: `.eml` (one message) and `.mbox` (one page per message, `message` = its number).

A message's page starts with its From, To, Date and Subject lines, then its plain-text body (an
HTML-only body is read as HTML); `subject`, `from` and `date` go in the metadata. Attachments
are read as files of their own by the loader the registry passes in (`attach`), their pages
added after the message's with `attachment` = the attachment's name and `file_name` =
"mail.eml > report.pdf". A mail attached to a mail is read without its own attachments (one
level only); an attachment that cannot be read is listed in the message page's
`unread_attachments`, never fatal to the mail.
"""

from __future__ import annotations

import email
import mimetypes
import re
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path, PurePath
from typing import Any, cast

from langchain_core.documents import Document

from ingest.formats import html
from ingest.formats.base import UnreadableFileError

Attach = Callable[[Path, bytes, int], list[Document]]
HEADERS = ("From", "To", "Date", "Subject")
_MBOX_START = re.compile(rb"\nFrom ")  # what the stdlib's mailbox.mbox splits messages on


def load_eml(path: Path, data: bytes, size: int, attach: Attach | None = None) -> list[Document]:
    _check_text(data)
    message = _parse(data)
    if not any(message[h] for h in HEADERS):
        raise UnreadableFileError("not a mail message (no From, To, Date or Subject header)")
    return _message(message, path.name, size, attach, {})


def load_mbox(path: Path, data: bytes, size: int, attach: Attach | None = None) -> list[Document]:
    if not data.startswith(b"From "):
        raise UnreadableFileError("not an mbox file (it does not start with a 'From ' line)")
    _check_text(data)
    pages: list[Document] = []
    for number, raw in enumerate(_mbox_messages(data), start=1):
        pages += _message(_parse(raw), path.name, size, attach, {"message": number})
    return pages


def _mbox_messages(data: bytes) -> Iterator[bytes]:
    """Each message's bytes, without its 'From ' separator line."""
    starts = [0, *(match.start() + 1 for match in _MBOX_START.finditer(data))]
    for start, end in zip(starts, [*starts[1:], len(data)], strict=True):
        yield data[start:end].partition(b"\n")[2]


def _check_text(data: bytes) -> None:
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file, not mail")


def _parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=policy.default))


def _message(
    message: EmailMessage, name: str, size: int, attach: Attach | None, meta: dict[str, Any]
) -> list[Document]:
    """The message's page, then its attachments' pages."""
    try:
        values = {h: " ".join(str(message[h] or "").split()) for h in HEADERS}
        body = _body(message, size)
    except UnreadableFileError:
        raise
    except Exception as exc:  # the email package raises several types on malformed headers
        raise UnreadableFileError(f"corrupt mail ({exc})") from exc
    meta = {**meta, **{h.lower(): v for h, v in values.items() if v and h != "To"}}
    lines = [f"{h}: {v}" for h, v in values.items() if v]
    page = Document(page_content="\n\n".join(p for p in ("\n".join(lines), body) if p),
                    metadata=meta)
    attached, unread = _attachments(message, name, size, attach, meta)
    if unread:
        page.metadata["unread_attachments"] = "; ".join(unread)
    return [page, *attached]


def _attachments(
    message: EmailMessage, name: str, size: int, attach: Attach | None, meta: dict[str, Any]
) -> tuple[list[Document], list[str]]:
    """The attachments' pages, and "name: reason" for each one that could not be read."""
    pages: list[Document] = []
    unread: list[str] = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        file = _file_name(part, number)
        try:
            read = _attachment(part, file, size, attach)
        except UnreadableFileError as exc:
            unread.append(f"{file}: {exc}")
            continue
        except Exception as exc:  # a malformed part: the mail itself still reads
            unread.append(f"{file}: malformed attachment ({exc})")
            continue
        pages += [Document(page_content=p.page_content,
                           metadata={**meta, **p.metadata, "attachment": file,
                                     "file_name": f"{name} > {file}"})
                  for p in read if p.page_content.strip()]
    return pages, unread


def _body(message: EmailMessage, size: int) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, UnicodeError):  # an unknown or wrong charset
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")  # type: ignore[union-attr]
    if part.get_content_type() == "text/html":
        text = html.load(Path("body.html"), text.encode(), size)[0].page_content
    return text.strip()


def _file_name(part: EmailMessage, number: int) -> str:
    """The attachment's own name without folders, or one made from its number and type."""
    name = PurePath((part.get_filename() or "").replace("\\", "/")).name
    if name:
        return name
    kind = part.get_content_type()
    return f"attachment-{number}" + (".eml" if kind == "message/rfc822"
                                     else mimetypes.guess_extension(kind) or "")


def _attachment(part: EmailMessage, file: str, size: int, attach: Attach | None) -> list[Document]:
    if attach is None:
        raise UnreadableFileError("not read: an attachment of an attached mail")
    if part.get_content_type() == "message/rfc822":
        nested = part.get_content()
        if not isinstance(nested, EmailMessage):
            raise UnreadableFileError("not a mail message")
        return _message(nested, file, size, None, {})
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data.strip():
        raise UnreadableFileError("empty file")
    suffix = PurePath(file).suffix.lower()
    if suffix in LOADERS:  # one level only: its own attachments are not read
        return LOADERS[suffix](Path(file), data, size, None)
    return attach(Path(file), data, size)


LOADERS: dict[str, Callable[[Path, bytes, int, Attach | None], list[Document]]] = {
    ".eml": load_eml, ".mbox": load_mbox}  # by suffix, for a caller that passes `attach`
