"""PNG writing straight from packed ink planes, a block of rows at a time.

Pillow keeps one-bit images at a byte per pixel (35 MB for an A4 page at 600 dpi), so
the emulator writes its pages itself: PNG (ISO/IEC 15948, W3C PNG 2nd ed.) greyscale at
bit depth 1 for black-only pages (§11.2.2 IHDR), or a 16-entry palette at bit depth 4
(PLTE, §11.2.3) whose index is the K, C, M, Y bits of the pixel; filter type 0 per row
(§9), one zlib stream (§10), ``pHYs`` for the resolution (§11.3.5.3).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
SIGNATURE = b"\x89PNG\r\n\x1a\n"
BLOCK = 256


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _rows_mono(plane: U8) -> Iterator[bytes]:
    """Ink 1 = black -> PNG grey 0 = black: the bits inverted, a filter byte per row."""
    for y in range(0, plane.shape[0], BLOCK):
        block = np.invert(plane[y:y + BLOCK])
        framed = np.zeros((block.shape[0], block.shape[1] + 1), dtype=np.uint8)
        framed[:, 1:] = block
        yield framed.tobytes()


def _rows_palette(planes: U8, width: int) -> Iterator[bytes]:
    """Four planes -> 4-bit palette indices K<<3 | C<<2 | M<<1 | Y, two per byte."""
    count = planes.shape[0]
    for y in range(0, planes.shape[1], BLOCK):
        index = np.zeros((min(BLOCK, planes.shape[1] - y), planes.shape[2] * 8),
                         dtype=np.uint8)
        for p in range(min(count, 4)):
            index |= np.unpackbits(planes[p, y:y + BLOCK], axis=1) << np.uint8(3 - p)
        index = index[:, :width]
        if width % 2:
            index = np.pad(index, ((0, 0), (0, 1)))
        packed = (index[:, 0::2] << np.uint8(4)) | index[:, 1::2]
        framed = np.zeros((packed.shape[0], packed.shape[1] + 1), dtype=np.uint8)
        framed[:, 1:] = packed
        yield framed.tobytes()


def write_png(path: Path, planes: U8, width: int, resolution: int,
              palette: list[tuple[int, int, int]] | None = None) -> None:
    """Write packed planes ``(planes, height, bytes)``: one plane as 1-bit grey, more as
    a 4-bit palette (``palette`` gives the 16 colours)."""
    height = planes.shape[1]
    color = planes.shape[0] > 1 and palette is not None
    depth, kind = (4, 3) if color else (1, 0)
    ppm = round(resolution / 0.0254)
    parts = [SIGNATURE,
             _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, kind, 0, 0, 0)),
             _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))]
    if color:
        assert palette is not None
        parts.append(_chunk(b"PLTE", b"".join(bytes(rgb) for rgb in palette)))
    compressor = zlib.compressobj(1)
    rows = _rows_palette(planes, width) if color else _rows_mono(planes[0])
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(b"".join(parts))
        data = bytearray()
        for block in rows:
            data += compressor.compress(block)
            if len(data) > 1 << 20:
                fh.write(_chunk(b"IDAT", bytes(data)))
                data.clear()
        data += compressor.flush()
        fh.write(_chunk(b"IDAT", bytes(data)))
        fh.write(_chunk(b"IEND", b""))
    tmp.replace(path)
