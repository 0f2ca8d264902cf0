"""PDF (``application/pdf``) reader: pypdfium2 renders each selected page at the device
resolution, a band of rows at a time.

Every band is one ``FPDF_RenderPageBitmap`` call into a bitmap the size of the band,
with the page placed at its device position (PDFium clips to the bitmap), so a page is
never held as a whole bitmap and the document is read from its file, never loaded into
memory.  ``page-ranges`` (RFC 8011 §5.2.7) select pages before anything is rendered.
PDFium is not thread-safe: every call runs under :data:`hal.pdfium.PDFIUM_LOCK` (shared
with the emulated printer, which renders PDF it receives).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firmware.pipeline.layout import Placement, place, rotation_for
from firmware.pipeline.page import U8, DevicePage, Page, Space, blank
from firmware.pipeline.readers.base import DocumentError, Reader, RenderContext
from hal.pdfium import PDFIUM_LOCK


class PdfPage(Page):
    def __init__(self, device: DevicePage, page: Any, placement: Placement,
                 color: bool) -> None:
        super().__init__(device)
        self.page = page
        self.placement = placement
        self.space = Space.RGB if color else Space.GRAY

    def render(self, y0: int, y1: int, x0: int, x1: int) -> U8:
        import numpy as np
        import pypdfium2 as pdfium
        import pypdfium2.raw as c

        p = self.placement
        width, height = x1 - x0, y1 - y0
        bx0, by0, bx1, by1 = p.device_box
        if bx1 <= x0 or bx0 >= x1 or by1 <= y0 or by0 >= y1:
            return blank(self.space, height, width)
        gray = self.space is Space.GRAY
        fmt = c.FPDFBitmap_Gray if gray else c.FPDFBitmap_BGR
        flags = c.FPDF_ANNOT | c.FPDF_PRINTING | (0 if gray else c.FPDF_REVERSE_BYTE_ORDER)
        with PDFIUM_LOCK:
            bitmap = pdfium.PdfBitmap.new_native(width, height, fmt, rev_byteorder=not gray)
            try:
                bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
                c.FPDF_RenderPageBitmap(
                    bitmap, self.page, round(bx0) - x0, round(by0) - y0,
                    round(bx1 - bx0), round(by1 - by0), p.rotation // 90, flags)
                array = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
            finally:
                bitmap.close()
        return array.reshape(height, width) if gray else array.reshape(height, width, 3)

    def close(self) -> None:
        with PDFIUM_LOCK:
            self.page.close()


class PdfReader(Reader):
    formats = ("application/pdf",)

    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec("pypdfium2") is not None

    def pages(self, path: Path, ctx: RenderContext) -> Iterator[Page]:
        import pypdfium2 as pdfium

        try:
            with PDFIUM_LOCK:
                pdf = pdfium.PdfDocument(str(path), password=_password_text(ctx.password))
        except pdfium.PdfiumError as exc:
            raise DocumentError(f"unreadable PDF: {exc}") from None
        try:
            with PDFIUM_LOCK:
                count = len(pdf)
            color = ctx.opts.wants_color(ctx.caps)
            for index in range(count):
                if not ctx.opts.page_selected(index + 1):
                    continue
                with PDFIUM_LOCK:
                    page = pdf[index]
                    width, height = page.get_size()
                content = (round(width * 2540 / 72), round(height * 2540 / 72))
                device = ctx.device_page(content)
                res = device.resolution
                turn = rotation_for(ctx.opts, width, height, device)
                if turn in (90, 270):
                    width, height = height, width
                placement = place(device, width, height, res / 72, res / 72,
                                  ctx.opts.scaling, rotation=turn)
                rendered = PdfPage(device, page, placement, color)
                try:
                    yield rendered
                finally:
                    rendered.close()
        finally:
            with PDFIUM_LOCK:
                pdf.close()


def _password_text(password: bytes | None) -> str | None:
    """pypdfium2 takes the password as text and hands PDFium its UTF-8; PDFium tries
    that and its Latin-1 reading, so octets that are not UTF-8 are read as Latin-1."""
    if password is None:
        return None
    try:
        return password.decode("utf-8")
    except UnicodeDecodeError:
        return password.decode("latin-1")
