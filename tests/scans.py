"""Scanned pages made from text: rendered with a real TrueType font into A4 greyscale images,
saved as a PDF with no text layer (Pillow writes each image as a page) or as PNG files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONTS = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
         Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")]
A4 = (8.27, 11.69)  # inches


def font(pixels: int) -> Any:
    """DejaVu or Liberation Serif when the system has them, else the TrueType font that ships
    inside Pillow (Aileron)."""
    for path in FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), pixels)
    return ImageFont.load_default(pixels)


def wrap(text: str, face: Any, width: int) -> list[str]:
    """Lines that fit `width` pixels, a blank line after each paragraph."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            longer = f"{line} {word}".strip()
            if line and face.getlength(longer) > width:
                lines.append(line)
                line = word
            else:
                line = longer
        lines += [line, ""]
    return lines


def page_images(text: str, dpi: int = 200, points: float = 11) -> list[Image.Image]:
    """`text` set in `points`-point type on A4 pages with 1-inch margins, as `dpi` images."""
    width, height = round(A4[0] * dpi), round(A4[1] * dpi)
    face = font(round(points * dpi / 72))
    step = round(points * 1.4 * dpi / 72)
    lines = wrap(text, face, width - 2 * dpi)
    per_page = (height - 2 * dpi) // step
    pages = []
    for first in range(0, len(lines), per_page):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(lines[first:first + per_page]):
            draw.text((dpi, dpi + row * step), line, font=face, fill=0)
        pages.append(image)
    return pages


def scanned_pdf(text: str, dpi: int = 200) -> bytes:
    """A PDF of `text` as scanned page images only (JPEG-compressed greyscale, no text)."""
    first, *rest = page_images(text, dpi)
    buffer = io.BytesIO()
    first.save(buffer, "PDF", resolution=dpi, save_all=True, append_images=rest, quality=75)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
