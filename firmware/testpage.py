"""The printer's test page: a one-page self-portrait, in a format its pipeline accepts.

What the web page's Test page and the board's button print (through
:meth:`firmware.system.System.print_test_page`).
"""

from __future__ import annotations

import datetime
import io
import time

from firmware.printer import Printer


def clock(timestamp: float | None) -> str:
    """A moment as the printer writes it for people (test page, web pages); "" for none."""
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def test_page(printer: Printer) -> tuple[bytes, str]:
    """A one-page self-portrait of the printer, in a format its pipeline accepts."""
    lines = [
        "Printbridge test page", "",
        f"Printer: {printer.name}", f"Model: {printer.identity.make_and_model}",
        f"Location: {printer.identity.location}", f"Port: {printer.port_uri}",
        f"State: {printer.state.keyword} ({', '.join(printer.reasons)})",
        f"Pages printed: {printer.counters.impressions}", f"Time: {clock(time.time())}",
    ]
    if "image/jpeg" in printer.capabilities.formats:
        from PIL import Image, ImageDraw  # here: Pillow is not idle weight

        image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            draw.text((120, 150 + i * 40), line, fill=0)
        draw.rectangle((100, 100, 1140, 1654), outline=0, width=4)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        return out.getvalue(), "image/jpeg"
    return ("\r\n".join(lines) + "\f").encode(), "application/octet-stream"
