"""Run-length raster streams (PWG 5102.4 and Apple URF): line decoding and placement.

Both formats code a page as *line groups*: a line-repeat byte (the line is used
``n + 1`` times) and packets of pixels until the line is full (PWG 5102.4, page data):
0..127 repeat the next pixel ``n + 1`` times, 129..255 copy ``257 - n`` literal pixels,
128 fills the rest of the line with white.  Pixels narrower than a byte (1-bit black)
are packed and the packets count bytes.  The decoder walks packets (Python per packet,
``bytes`` operations per pixel run) and reads the file a buffer at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np

from firmware.pipeline.layout import Placement, place
from firmware.pipeline.page import U8, DevicePage, Page, Space, blank
from firmware.pipeline.readers.base import DocumentError, RasterSpec, RenderContext

READ_SIZE = 1 << 20


class LineDecoder:
    """Decodes the line groups of one page from a buffered file."""

    def __init__(self, fh: BinaryIO, bytes_per_line: int, bytes_per_pixel: int,
                 white: int, buffer: bytes = b"") -> None:
        self.fh = fh
        self.bpl = bytes_per_line
        self.bpp = max(1, bytes_per_pixel)
        self.white_line = bytes([white]) * bytes_per_line
        self.buf = buffer
        self.pos = 0
        self.eof = False

    def _ensure(self, need: int) -> None:
        if len(self.buf) - self.pos >= need or self.eof:
            return
        rest = self.buf[self.pos:]
        more = self.fh.read(max(READ_SIZE, need))
        if not more:
            self.eof = True
        self.buf = rest + more
        self.pos = 0

    def leftover(self) -> bytes:
        """Bytes read past the page (the next page header starts there)."""
        return self.buf[self.pos:]

    def line_group(self) -> tuple[bytes, int]:
        """The next line and how many rows it covers."""
        # A coded line is at most one header per pixel plus the pixels.
        self._ensure(2 * self.bpl + 2 * (self.bpl // self.bpp) + 8)
        buf, pos, bpl, bpp = self.buf, self.pos, self.bpl, self.bpp
        if pos >= len(buf):
            raise DocumentError("raster data ends in the middle of a page")
        repeat = buf[pos] + 1
        pos += 1
        pieces: list[bytes] = []
        filled = 0
        end = len(buf)
        try:
            while filled < bpl:
                code = buf[pos]
                pos += 1
                if code < 128:
                    piece = buf[pos:pos + bpp]
                    pos += bpp
                    count = code + 1
                    pieces.append(piece * count)
                    filled += count * bpp
                elif code > 128:
                    n = (257 - code) * bpp
                    pieces.append(buf[pos:pos + n])
                    pos += n
                    filled += n
                else:
                    pieces.append(self.white_line[:bpl - filled])
                    filled = bpl
        except IndexError:
            raise DocumentError("raster data ends in the middle of a line") from None
        if pos > end:
            raise DocumentError("raster data ends in the middle of a line")
        self.pos = pos
        line = b"".join(pieces)
        if len(line) != bpl:
            if len(line) < bpl:
                raise DocumentError("raster line shorter than its header says")
            line = line[:bpl]
        return line, repeat


class RowStream:
    """The rows of one page on demand, ascending, decoded as far as asked."""

    def __init__(self, decoder: LineDecoder, height: int) -> None:
        self.decoder = decoder
        self.height = height
        self.bpl = decoder.bpl
        self.decoded = 0  # rows decoded so far
        self.first = 0  # row index of self.rows[0]
        self.rows: U8 = np.zeros((0, self.bpl), dtype=np.uint8)
        self.finished = False

    def _decode_to(self, stop: int) -> None:
        pieces: list[bytes] = []
        count = 0
        target = min(stop, self.height)
        while self.decoded + count < target:
            line, repeat = self.decoder.line_group()
            repeat = min(repeat, self.height - self.decoded - count)
            pieces.append(line * repeat)
            count += repeat
        if count:
            block = np.frombuffer(b"".join(pieces), dtype=np.uint8).reshape(count, self.bpl)
            self.rows = np.concatenate([self.rows, block]) if self.rows.size else block
            self.decoded += count

    def get(self, lo: int, hi: int) -> U8:
        """Rows ``lo .. hi - 1`` (clamped to the page); drops rows above ``lo``."""
        if self.finished:
            raise RuntimeError("the page was closed; pages are read in order")
        lo, hi = max(0, lo), min(self.height, hi)
        if lo > self.first:
            drop = min(lo - self.first, self.rows.shape[0])
            self.rows = self.rows[drop:]
            self.first += drop
        if hi > self.decoded:
            self._decode_to(hi)
        if hi <= lo:
            return np.zeros((0, self.bpl), dtype=np.uint8)
        return self.rows[lo - self.first:hi - self.first]

    def finish(self) -> None:
        """Decode (and drop) the rest of the page so the stream reaches the next one."""
        while self.decoded < self.height:
            _line, repeat = self.decoder.line_group()
            self.decoded += repeat
        self.finished = True
        self.rows = np.zeros((0, self.bpl), dtype=np.uint8)


def to_pixels(rows: U8, width: int, bits: int, channels: int, space: Space,
              invert: bool) -> U8:
    """Decoded bytes -> the pipeline's pixel layout for ``space``.

    ``bits`` per colour 1, 8 or 16 (16-bit keeps the most significant byte; PWG samples
    are big-endian).  ``invert`` flips luminance/ink sense (PWG Black 8-bit, sGray 1-bit).
    One-bit rows stay packed (the padding bits after ``width`` cleared).
    """
    n = rows.shape[0]
    if bits == 1:
        out = np.invert(rows) if invert else rows.copy()
        if width % 8:
            out[:, -1] &= np.uint8((0xFF << (8 - width % 8)) & 0xFF)
        return out
    if bits == 16:
        rows = rows.reshape(n, -1, 2)[:, :, 0]
    pix = rows.reshape(n, width, channels) if channels > 1 else rows.reshape(n, width)
    if invert:
        pix = np.invert(pix)
    if space is Space.GRAY and channels > 1:
        raise DocumentError("grey raster with more than one channel")
    return np.ascontiguousarray(pix)


class RasterPage(Page):
    """A decoded raster placed on the device page by nearest-neighbour sampling (the
    identity when the raster is at the device resolution, the common case)."""

    def __init__(self, device: DevicePage, stream: RowStream, width: int, bits: int,
                 channels: int, space: Space, invert: bool, placement: Placement) -> None:
        super().__init__(device)
        self.stream = stream
        self.src_width = width
        self.bits = bits
        self.channels = channels
        self.space = space
        self.invert = invert
        self.placement = placement

    def _source_index(self, lo: int, hi: int, origin: float, scale: float,
                      size: int) -> tuple[np.ndarray, np.ndarray]:
        dev = np.arange(lo, hi, dtype=np.float64) + 0.5
        src = np.floor((dev - origin) / scale).astype(np.int64)
        valid = (src >= 0) & (src < size)
        return src, valid

    def render(self, y0: int, y1: int, x0: int, x1: int) -> U8:
        if self.space is Space.BITS:
            return self._render_bits(y0, y1, x0, x1)
        p = self.placement
        out = blank(self.space, y1 - y0, x1 - x0)
        sy, vy = self._source_index(y0, y1, p.y, p.scale_y, self.stream.height)
        sx, vx = self._source_index(x0, x1, p.x, p.scale_x, self.src_width)
        if not vy.any() or not vx.any():
            return out
        lo, hi = int(sy[vy].min()), int(sy[vy].max()) + 1
        rows = self.stream.get(lo, hi)
        pix = to_pixels(rows, self.src_width, self.bits, self.channels, self.space,
                        self.invert)
        ry = np.flatnonzero(vy)
        rx = np.flatnonzero(vx)
        xs = sx[vx]
        contiguous = xs.size > 0 and int(xs[-1] - xs[0]) == xs.size - 1
        picked = pix[sy[vy] - lo]
        picked = picked[:, int(xs[0]):int(xs[-1]) + 1] if contiguous else picked[:, xs]
        out[int(ry[0]):int(ry[-1]) + 1, int(rx[0]):int(rx[-1]) + 1] = picked
        return out

    def _render_bits(self, y0: int, y1: int, x0: int, x1: int) -> U8:
        """One-bit rows kept packed: rows picked as for any raster; at the raster's own
        resolution the columns are one vectorised bit shift, else unpack, pick, pack."""
        p = self.placement
        out = blank(Space.BITS, y1 - y0, x1 - x0)
        sy, vy = self._source_index(y0, y1, p.y, p.scale_y, self.stream.height)
        if not vy.any():
            return out
        lo, hi = int(sy[vy].min()), int(sy[vy].max()) + 1
        rows = to_pixels(self.stream.get(lo, hi), self.src_width, 1, 1, Space.BITS,
                         self.invert)[sy[vy] - lo]
        ry = np.flatnonzero(vy)
        if p.scale_x == 1 and float(p.x).is_integer():
            picked = shift_bits(rows, x0 - int(p.x), out.shape[1])
        else:
            sx, vx = self._source_index(x0, x1, p.x, p.scale_x, self.src_width)
            bits = np.unpackbits(rows, axis=1, count=self.src_width)
            wide = np.zeros((rows.shape[0], x1 - x0), dtype=np.uint8)
            wide[:, vx] = bits[:, sx[vx]]
            picked = np.packbits(wide, axis=1)
        out[int(ry[0]):int(ry[-1]) + 1] = picked
        return out

    def close(self) -> None:
        self.stream.finish()


def shift_bits(rows: U8, start: int, nbytes: int) -> U8:
    """Packed rows re-cut to begin at bit ``start`` (negative: white first), ``nbytes``
    bytes wide; bits outside ``rows`` are 0.  Two shifted views ORed: no unpacking."""
    lead = (7 - start) // 8 if start < 0 else 0  # whole bytes of white before
    start += 8 * lead
    q, r = divmod(start, 8)
    padded = np.zeros((rows.shape[0], max(lead + rows.shape[1], q) + nbytes + 2),
                      dtype=np.uint8)
    padded[:, lead:lead + rows.shape[1]] = rows
    a = padded[:, q:q + nbytes]
    if r == 0:
        return np.ascontiguousarray(a)
    b = padded[:, q + 1:q + 1 + nbytes]
    return ((a << np.uint8(r)) | (b >> np.uint8(8 - r))).astype(np.uint8)


def raster_pages(fh: BinaryIO, pending: bytes, ctx: RenderContext,
                 next_page: Callable[[BinaryIO, bytes], tuple[RasterSpec, bytes] | None],
                 ) -> Iterator[Page]:
    """Pages of a PWG or URF stream: ``next_page(fh, pending)`` parses a page header."""
    number = 0
    last = ctx.opts.last_selected()
    while True:
        found = next_page(fh, pending)
        if found is None:
            return
        spec, pending = found
        number += 1
        if last is not None and number > last:
            return
        decoder = LineDecoder(fh, spec.bytes_per_line, spec.bytes_per_pixel, spec.white,
                              pending)
        stream = RowStream(decoder, spec.height)
        if ctx.opts.page_selected(number):
            device = ctx.device_page(spec.size_hmm, spec.xdpi)
            res = device.resolution
            placement = place(device, spec.width, spec.height, res / spec.xdpi,
                              res / spec.ydpi, ctx.opts.scaling, snap=True)
            page = RasterPage(device, stream, spec.width, spec.bits, spec.channels,
                              spec.space, spec.invert, placement)
            yield page
            page.close()  # decodes what the consumer did not ask for
        else:
            stream.finish()
        pending = decoder.leftover()
