"""Apple Raster (``image/urf``, "UNIRAST") reader, and a writer for tests.

The format AirPrint sends (documented by its implementations: CUPS ``urftopdf`` in
cups-filters and libcupsfilters): the file header ``UNIRAST\\0`` and a big-endian page
count, then per page a 32-byte header — bits per pixel, colour space, duplex, quality,
8 reserved bytes, width, height, resolution (dpi), 8 reserved bytes — and line groups
coded exactly as PWG raster's (a line-repeat byte, packets of pixels, 128 = white to
the end of the line).  Colour spaces: 0 sGray, 1 sRGB, 3 AdobeRGB, 4 DeviceGray,
5 DeviceRGB, 6 DeviceCMYK; 8 or 16 bits per colour.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from firmware.pipeline.page import U8, Page, Space
from firmware.pipeline.readers.base import (
    MAX_SIDE,
    DocumentError,
    RasterSpec,
    Reader,
    RenderContext,
)
from firmware.pipeline.readers.pwg import encode_lines

MAGIC = b"UNIRAST\0"
PAGE_HEADER = 32

URF_SGRAY, URF_SRGB, URF_ADOBE_RGB, URF_GRAY, URF_RGB, URF_CMYK = 0, 1, 3, 4, 5, 6


def _next_urf_page(fh: BinaryIO, pending: bytes) -> tuple[RasterSpec, bytes] | None:
    data = pending + fh.read(max(0, PAGE_HEADER - len(pending)))
    if not data:
        return None
    if len(data) < PAGE_HEADER:
        raise DocumentError("URF page header is truncated")
    bpp, cs, _duplex, _quality = data[0], data[1], data[2], data[3]
    width, height, dpi = struct.unpack_from(">III", data, 12)
    if cs in (URF_SGRAY, URF_GRAY):
        space, channels = Space.GRAY, 1
    elif cs in (URF_SRGB, URF_ADOBE_RGB, URF_RGB):
        space, channels = Space.RGB, 3
    elif cs == URF_CMYK:
        space, channels = Space.CMYK, 4
    else:
        raise DocumentError(f"unsupported URF colour space {cs}")
    if bpp not in (8 * channels, 16 * channels):
        raise DocumentError(f"unsupported URF depth {bpp} for colour space {cs}")
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and 0 < dpi <= 10000):
        raise DocumentError(f"unsupported URF page {width}x{height} at {dpi} dpi")
    bits = bpp // channels
    spec = RasterSpec(width, height, dpi, dpi, bits, channels, space, False,
                      width * bpp // 8, bpp // 8, 0 if space is Space.CMYK else 0xFF,
                      (round(width * 2540 / dpi), round(height * 2540 / dpi)))
    return spec, data[PAGE_HEADER:]


class UrfReader(Reader):
    formats = ("image/urf",)

    def pages(self, path: Path, ctx: RenderContext) -> Iterator[Page]:
        from firmware.pipeline.readers.raster import raster_pages  # numpy: when needed

        with open(path, "rb") as fh:
            head = fh.read(12)
            if not head:
                return
            if not head.startswith(b"UNIRAST") or len(head) < 12:
                raise DocumentError("not an Apple raster stream (no UNIRAST header)")
            yield from raster_pages(fh, b"", ctx, _next_urf_page)


def write_urf(path: Path, pages: list[U8], resolution: int, *, color: bool = False,
              quality: int = 4) -> Path:
    """Write grey ``(H, W)`` or sRGB ``(H, W, 3)`` pages as Apple raster."""
    import numpy as np

    with open(path, "wb") as fh:
        fh.write(MAGIC + struct.pack(">I", len(pages)))
        for page in pages:
            height, width = page.shape[:2]
            channels = 3 if color else 1
            header = bytearray(PAGE_HEADER)
            header[0] = 8 * channels
            header[1] = URF_SRGB if color else URF_SGRAY
            header[2] = 1
            header[3] = quality
            struct.pack_into(">III", header, 12, width, height, resolution)
            fh.write(header)
            rows = np.ascontiguousarray(page.reshape(height, width * channels))
            fh.write(encode_lines(rows, channels, 255))
    return path
