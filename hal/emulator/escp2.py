"""ESC/P2 interpreter of the emulated printer (Epson Stylus-class raster).

EPSON ESC/P Reference Manual, ESC/P2 commands used by raster drivers: ``ESC @``,
``ESC ( G`` (graphics mode), ``ESC ( U`` (unit m/3600 inch), ``ESC ( i``, ``ESC ( K``,
``ESC ( C`` (page length), ``ESC ( c`` (top/bottom margin), ``ESC ( S`` (paper size),
``ESC ( V``/``ESC ( v`` (absolute/relative vertical position, from the top margin),
``ESC ( $`` (absolute horizontal position, from the left margin), ``ESC r`` (colour),
``ESC U`` (direction), ``ESC . c v h m nL nH`` (raster band; c = 1: PackBits run-length),
CR and FF.  Any other ``ESC ( x`` command is skipped by its length; unknown two-byte
escapes are skipped; text is ignored.

ESC/P2 has no page-size codes: ``ESC ( S`` carries the paper's width and length in the
current unit, so the page is what the job says.  Where the print head can reach is the
printer's own: horizontal positions (``ESC ( $``, and a band after CR) count from its
hardware left margin, :data:`LEFT_MARGIN`.  This module keeps that number itself and
takes nothing from the firmware's ESC/P2 driver, so a driver that assumed another margin
would print shifted here, as on a real printer.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hal.emulator.base import Canvas, Interpreter

#: The emulated Stylus's hardware left margin, 1/100 mm: 3 mm, the minimum left margin
#: of cut sheets on Epson Stylus-class inkjets (printable area in the printers'
#: specifications; the EPSON ESC/P Reference Manual's horizontal positions are relative
#: to this margin).  The leftmost dot the head can put on the sheet.
LEFT_MARGIN = 300
#: A4 (210 x 297 mm) at 360 dpi, in dots: the paper until ``ESC ( S`` says otherwise.
DEFAULT_PAPER = (2976, 4209)

#: ESC r colour -> canvas plane (K, C, M, Y).
PLANES = {0: 0, 2: 1, 1: 2, 4: 3, 5: 3, 6: 0}


def rle_length(buf: bytes, pos: int, size: int) -> int | None:
    """Bytes of ESC/P2 run-length data from ``pos`` that decode to ``size`` bytes, or
    None when ``buf`` ends first."""
    produced = 0
    start = pos
    end = len(buf)
    while produced < size:
        if pos >= end:
            return None
        n = buf[pos]
        if n < 128:
            pos += n + 2
            produced += n + 1
        else:
            pos += 2
            produced += 257 - n
    if pos > end:
        return None
    return pos - start


def rle_decode(data: bytes, size: int) -> bytes:
    out = bytearray()
    pos = 0
    while len(out) < size and pos < len(data):
        n = data[pos]
        if n < 128:
            out += data[pos + 1:pos + n + 2]
            pos += n + 2
        else:
            out += bytes((data[pos + 1],)) * (257 - n)
            pos += 2
    return bytes(out[:size]) + bytes(max(0, size - len(out)))


class EscP2Interpreter(Interpreter):
    language = "escp2"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None) -> None:
        super().__init__(job_dir, eject_ok, options)
        self.canvas: Canvas | None = None
        self._reset()

    def _reset(self) -> None:
        self.unit = 10  # 1/360 inch
        self.paper = DEFAULT_PAPER
        self.top = 0
        self.x = 0
        self.y = 0
        self.plane = 0

    @property
    def res(self) -> int:
        return 3600 // max(1, self.unit)

    def _canvas(self) -> Canvas:
        if self.canvas is None:
            self.canvas = Canvas(self.paper[0], self.paper[1], self.res, 4)
        return self.canvas

    def _eject(self, pos: int) -> None:
        self.emit_page(self._canvas(), pos)
        self.canvas = None
        self.y = 0
        self.x = 0

    def finish(self) -> None:
        if self.canvas is not None and self.canvas.marked:
            self._eject(-1)

    def _extended(self, cmd: int, payload: bytes) -> None:
        if cmd == ord("U") and payload:
            self.unit = max(1, payload[0])
        elif cmd == ord("S") and len(payload) >= 8:
            self.paper = struct.unpack_from("<II", payload)
            self.canvas = None
        elif cmd == ord("c") and len(payload) >= 4:
            fmt = "<II" if len(payload) >= 8 else "<HH"
            self.top = struct.unpack_from(fmt, payload)[0]
        elif cmd == ord("V") and len(payload) >= 2:
            self.y = struct.unpack_from("<I" if len(payload) >= 4 else "<H", payload)[0]
        elif cmd == ord("v") and len(payload) >= 2:
            self.y += struct.unpack_from("<i" if len(payload) >= 4 else "<h", payload)[0]
        elif cmd == ord("$") and len(payload) >= 4:
            self.x = struct.unpack_from("<I", payload)[0]

    def _raster(self, comp: int, m: int, dots: int, data: bytes) -> None:
        width_bytes = (dots + 7) // 8
        size = width_bytes * m
        rows = rle_decode(data, size) if comp == 1 else data[:size]
        block = np.frombuffer(rows, dtype=np.uint8).reshape(m, width_bytes)
        canvas = self._canvas()
        left = round(LEFT_MARGIN * self.res / 2540)
        canvas.put(self.plane, self.top + self.y, left + self.x, block, dots)
        self.x += dots

    def step(self, buf: bytes, pos: int) -> int | None:
        b = buf[pos]
        end = len(buf)
        if b == 0x0C:
            self._eject(pos)
            return pos + 1
        if b == 0x0D:
            self.x = 0
            return pos + 1
        if b != 0x1B:
            nxt = [i for i in (buf.find(b"\x1b", pos), buf.find(b"\x0c", pos),
                               buf.find(b"\r", pos)) if i != -1]
            return min(nxt) if nxt else end
        if pos + 1 >= end:
            return None
        c = buf[pos + 1]
        if c == ord("("):
            if pos + 5 > end:
                return None
            length = buf[pos + 3] | buf[pos + 4] << 8
            if pos + 5 + length > end:
                return None
            self._extended(buf[pos + 2], buf[pos + 5:pos + 5 + length])
            return pos + 5 + length
        if c == ord("."):
            if pos + 8 > end:
                return None
            comp, _v, _h, m = buf[pos + 2], buf[pos + 3], buf[pos + 4], buf[pos + 5]
            dots = buf[pos + 6] | buf[pos + 7] << 8
            size = (dots + 7) // 8 * m
            if comp == 1:
                length = rle_length(buf, pos + 8, size)
                if length is None:
                    return None
            else:
                length = size
                if pos + 8 + length > end:
                    return None
            self._raster(comp, m, dots, buf[pos + 8:pos + 8 + length])
            return pos + 8 + length
        if c == ord("@"):
            self._reset()
            return pos + 2
        if c in (ord("r"), ord("U")):
            if pos + 2 >= end:
                return None
            if c == ord("r"):
                self.plane = PLANES.get(buf[pos + 2], 0)
            return pos + 3
        return pos + 2
