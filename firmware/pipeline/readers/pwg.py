"""PWG Raster (``image/pwg-raster``, PWG 5102.4-2012) reader, and a writer for tests
and benchmarks.

A stream is the sync word ``RaS2`` then, per page, a 1796-byte big-endian header
(PWG 5102.4 §4.3: the CUPS raster v2 layout) and the page's compressed line groups.
Every colour space and depth IPP Everywhere clients send is read: ``black_1`` (and
Black 8/16), ``sgray_8``/``sgray_16``, ``srgb_8``/``srgb_16`` (also RGB and AdobeRGB),
``cmyk_8``/``cmyk_16``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
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

SYNC = b"RaS2"
HEADER_SIZE = 1796

#: PWG 5102.4 §4.3 ColorSpace values (cups_cspace_t numbering).
CS_RGB, CS_BLACK, CS_CMYK, CS_SGRAY, CS_SRGB, CS_ADOBE_RGB, CS_W = 1, 3, 6, 18, 19, 20, 0


@dataclass(slots=True, frozen=True)
class PwgHeader:
    """The page header fields the pipeline uses (offsets per PWG 5102.4 §4.3)."""

    media_type: str
    duplex: bool
    resolution: tuple[int, int]  # HWResolution
    num_copies: int
    orientation: int
    page_size: tuple[int, int]  # points
    tumble: bool
    width: int
    height: int
    bits_per_color: int
    bits_per_pixel: int
    bytes_per_line: int
    color_order: int
    color_space: int
    num_colors: int
    total_page_count: int
    print_quality: int
    page_size_name: str

    @classmethod
    def parse(cls, data: bytes) -> PwgHeader:
        if len(data) < HEADER_SIZE:
            raise DocumentError("PWG raster page header is truncated")

        def u32(off: int) -> int:
            return int(struct.unpack_from(">I", data, off)[0])

        def text(off: int) -> str:
            return data[off:off + 64].split(b"\0")[0].decode("ascii", "replace")

        return cls(
            media_type=text(128), duplex=bool(u32(272)),
            resolution=(u32(276), u32(280)), num_copies=u32(340), orientation=u32(344),
            page_size=(u32(352), u32(356)), tumble=bool(u32(368)), width=u32(372),
            height=u32(376), bits_per_color=u32(384), bits_per_pixel=u32(388),
            bytes_per_line=u32(392), color_order=u32(396), color_space=u32(400),
            num_colors=u32(420), total_page_count=u32(452), print_quality=u32(484),
            page_size_name=text(1732),
        )

    def layout(self) -> tuple[Space, int, bool]:
        """(pipeline space, channels, invert) for this header; DocumentError if the
        combination is not one PWG 5102.4 allows."""
        bits, cs = self.bits_per_color, self.color_space
        if self.color_order != 0:
            raise DocumentError("PWG raster must be chunky (ColorOrder 0)")
        if bits not in (1, 8, 16):
            raise DocumentError(f"unsupported BitsPerColor {bits}")
        if cs == CS_BLACK:
            space, channels, invert = (Space.BITS if bits == 1 else Space.GRAY), 1, bits != 1
        elif cs in (CS_SGRAY, CS_W):
            space, channels, invert = (Space.BITS if bits == 1 else Space.GRAY), 1, bits == 1
        elif cs in (CS_SRGB, CS_RGB, CS_ADOBE_RGB) and bits != 1:
            space, channels, invert = Space.RGB, 3, False
        elif cs == CS_CMYK and bits != 1:
            space, channels, invert = Space.CMYK, 4, False
        else:
            raise DocumentError(f"unsupported ColorSpace {cs} at {bits} bits")
        if self.bits_per_pixel != bits * channels:
            raise DocumentError("BitsPerPixel does not match ColorSpace and BitsPerColor")
        if not (0 < self.width <= MAX_SIDE and 0 < self.height <= MAX_SIDE):
            raise DocumentError(f"unsupported page size {self.width}x{self.height}")
        if self.bytes_per_line != (self.width * self.bits_per_pixel + 7) // 8:
            raise DocumentError("BytesPerLine does not match Width and BitsPerPixel")
        if not all(0 < r <= 10000 for r in self.resolution):
            raise DocumentError(f"unsupported resolution {self.resolution}")
        return space, channels, invert

    @property
    def white(self) -> int:
        return 0 if self.color_space in (CS_BLACK, CS_CMYK) else 0xFF


class PwgReader(Reader):
    formats = ("image/pwg-raster",)

    def pages(self, path: Path, ctx: RenderContext) -> Iterator[Page]:
        from firmware.pipeline.readers.raster import raster_pages  # numpy: when needed

        with open(path, "rb") as fh:
            sync = fh.read(4)
            if not sync:
                return  # an empty document prints nothing
            if sync != SYNC:
                raise DocumentError("not a PWG raster stream (no RaS2 sync word)")
            yield from raster_pages(fh, b"", ctx, _next_pwg_page)


def _next_pwg_page(fh: BinaryIO, pending: bytes) -> tuple[RasterSpec, bytes] | None:
    data = pending + fh.read(max(0, HEADER_SIZE - len(pending)))
    if not data:
        return None
    header = PwgHeader.parse(data[:HEADER_SIZE])
    space, channels, invert = header.layout()
    xdpi, ydpi = header.resolution
    pw, ph = header.page_size
    size = ((round(pw * 2540 / 72), round(ph * 2540 / 72)) if pw and ph else
            (round(header.width * 2540 / xdpi), round(header.height * 2540 / ydpi)))
    spec = RasterSpec(header.width, header.height, xdpi, ydpi, header.bits_per_color,
                      channels, space, invert, header.bytes_per_line,
                      max(1, header.bits_per_pixel // 8), header.white, size)
    return spec, data[HEADER_SIZE:]


# -- writing (tests, benchmarks) ----------------------------------------------------------

def encode_lines(pixels: U8, bytes_per_pixel: int, white: int) -> bytes:
    """Line groups (repeat byte + packets) for a page of packed rows ``(H, bytes)``."""
    import numpy as np

    from firmware.pipeline.compression import run_encode, split_rows

    height = pixels.shape[0]
    if height == 0:
        return b""
    same = np.zeros(height, dtype=bool)
    same[1:] = np.all(pixels[1:] == pixels[:-1], axis=1)
    starts = np.flatnonzero(~same)
    lengths = np.diff(np.append(starts, height))
    leaders, counts = [], []
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        for k in range(0, length, 256):
            leaders.append(start + k)
            counts.append(min(256, length - k))
    rows = pixels[leaders]
    if bytes_per_pixel > 1:
        rows = rows.reshape(len(leaders), -1, bytes_per_pixel)
    data, lens = run_encode(rows, style="pwg")
    coded = split_rows(data, lens)
    return b"".join(bytes((c - 1,)) + row for c, row in zip(counts, coded, strict=True))


def header_bytes(*, width: int, height: int, resolution: int, color_space: int,
                 bits_per_color: int, channels: int, page_size_name: str = "",
                 page_size: tuple[int, int] | None = None, total_pages: int = 0,
                 duplex: bool = False, tumble: bool = False) -> bytes:
    """A PWG 5102.4 page header (fields not given are zero)."""
    h = bytearray(HEADER_SIZE)
    bpp = bits_per_color * channels
    if page_size is None:
        page_size = (round(width * 72 / resolution), round(height * 72 / resolution))

    def put(off: int, value: int) -> None:
        struct.pack_into(">I", h, off, value)

    h[0:9] = b"PwgRaster"
    put(272, int(duplex))
    put(276, resolution)
    put(280, resolution)
    put(340, 1)
    put(352, page_size[0])
    put(356, page_size[1])
    put(368, int(tumble))
    put(372, width)
    put(376, height)
    put(384, bits_per_color)
    put(388, bpp)
    put(392, (width * bpp + 7) // 8)
    put(400, color_space)
    put(420, channels)
    put(452, total_pages)
    name = page_size_name.encode()[:63]
    h[1732:1732 + len(name)] = name
    return bytes(h)


def write_pwg(path: Path, pages: list[U8], resolution: int, *, raster_type: str = "sgray_8",
              page_size_name: str = "", page_size: tuple[int, int] | None = None) -> Path:
    """Write ``pages`` (grey ``(H, W)``, RGB/CMYK ``(H, W, C)``, or for ``black_1`` 0/1
    ink ``(H, W)``) as a PWG raster file."""
    import numpy as np

    spec = {"black_1": (CS_BLACK, 1, 1), "sgray_8": (CS_SGRAY, 8, 1),
            "srgb_8": (CS_SRGB, 8, 3), "srgb_16": (CS_SRGB, 16, 3),
            "cmyk_8": (CS_CMYK, 8, 4), "sgray_16": (CS_SGRAY, 16, 1)}
    cs, bits, channels = spec[raster_type]
    with open(path, "wb") as fh:
        fh.write(SYNC)
        for page in pages:
            height, width = page.shape[:2]
            if bits == 1:
                packed = np.packbits(page.astype(bool), axis=1)
            elif bits == 16:
                wide = page.astype(np.uint16) * 257
                packed = wide.astype(">u2").view(np.uint8).reshape(height, -1)
            else:
                packed = page.reshape(height, -1)
            fh.write(header_bytes(width=width, height=height, resolution=resolution,
                                  color_space=cs, bits_per_color=bits, channels=channels,
                                  page_size_name=page_size_name, page_size=page_size,
                                  total_pages=len(pages)))
            fh.write(encode_lines(np.ascontiguousarray(packed), max(1, bits * channels // 8),
                                  0 if cs in (CS_BLACK, CS_CMYK) else 255))
    return path
