"""PCL interpreter of the emulated printer: PCL 5 (LaserJet) and PCL 3 (DeskJet) raster.

Follows the HP PCL 5 Printer Language Technical Reference Manual for what a raster job
uses: escape sequence syntax (two-character ``ESC x`` and parameterized
``ESC ! g value p ... P``, combined parameters), Universal Exit Language and PJL lines
(skipped), ``ESC E`` reset, form feed, page size (``ESC&l#A``), duplex (``ESC&l#S``,
when the emulated printer has a duplexer), top margin (``ESC&l#E``), units
(``ESC&u#D``), cursor position (``ESC*p#X``/``#Y``), raster resolution, width, planes,
start/end (``ESC*t#R``, ``ESC*r#S``, ``ESC*r#U``, ``ESC*r#A``, ``ESC*rB``/``C``),
compression methods 0-3 (``ESC*b#M``), transfer (``ESC*b#V``/``#W``) and Y offset
(``ESC*b#Y``).  Text is skipped (no fonts): only raster marks a page, but a form feed
always ejects one.  Data-carrying commands it does not use (fonts, patterns,
transparent data) are skipped by their byte count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from firmware.media import parse_media
from firmware.pipeline.compression import undelta_row, unpackbits_row
from firmware.pipeline.drivers.pclraster import LOGICAL_OFFSET_IN, MEDIA_BY_CODE
from hal.emulator.base import Canvas, Interpreter

_SEQ = re.compile(
    rb"\x1b([!-/])([`-~])((?:[+-]?[0-9]*(?:\.[0-9]*)?[`-~])*[+-]?[0-9]*(?:\.[0-9]*)?[@-^])",
    re.S)
_PREFIX = re.compile(
    rb"\x1b(?:[!-/](?:[`-~](?:[+-]?[0-9]*(?:\.[0-9]*)?(?:[`-~][+-]?[0-9]*(?:\.[0-9]*)?)*)?)?)?",
    re.S)
_PARAM = re.compile(rb"([+-]?[0-9]*(?:\.[0-9]*)?)([`-~@-^])")
_UEL = b"\x1b%-12345X"
_PCT = re.compile(rb"\x1b%(-?[0-9]*)([A-Za-z])")
_STOP = re.compile(rb"[\x1b\x0c]")

#: Commands followed by data (value = byte count): skipped unless interpreted.
_DATA = {(b"*", b"b", b"W"), (b"*", b"b", b"V"), (b"(", b"s", b"W"), (b")", b"s", b"W"),
         (b"*", b"c", b"W"), (b"*", b"v", b"W"), (b"&", b"p", b"X"), (b"*", b"m", b"W"),
         (b"*", b"l", b"W"), (b"(", b"f", b"W"), (b"*", b"i", b"W")}
#: Rows decoded before they are drawn onto the page.
BLOCK_ROWS = 256


def _truthy(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class PclInterpreter(Interpreter):
    language = "pcl"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None, color: bool = False) -> None:
        super().__init__(job_dir, eject_ok, options)
        self.duplexer = _truthy(self.options.get("duplex"))
        self.default_media = self.options.get("media", "iso_a4_210x297mm")
        self.color = color
        self.canvas: Canvas | None = None
        self.back = False
        self.last_res = 300
        self._reset()

    def _reset(self) -> None:
        self.media = self.default_media
        self.units = 300
        self.res = 75
        self.mode = 0
        self.nplanes = 1
        self.raster_width: int | None = None
        self.duplex = 0
        self.top_margin = 0.5  # inch (3 lines at 6 lpi)
        self.cx = 0.0  # cursor, PCL units from the logical page origin
        self.cy = 0.0
        self.raster = False
        self.seeds: list[bytearray] = []
        self.plane_rows: list[bytes] = []
        self.block: list[list[bytes]] = []
        self.block_y = 0
        self.rx = self.ry = self.row = 0

    # -- geometry
    def _new_canvas(self) -> Canvas:
        size = parse_media(self.media)
        res = self.res if self.raster else self.last_res
        return Canvas(round(size.width * res / 2540), round(size.length * res / 2540), res,
                      4 if self.color else 1)

    def _px(self, units: float, res: int) -> int:
        return round(units * res / self.units)

    # -- raster
    def _row_bytes(self) -> int:
        canvas = self.canvas
        width = self.raster_width
        if width is None and canvas is not None:
            width = max(8, canvas.width - self.rx)
        return ((width or 2400) + 7) // 8

    def _start_raster(self, at_cursor: bool) -> None:
        self._flush()
        self.raster = True
        if self.canvas is None:
            self.canvas = self._new_canvas()
        self.last_res = self.res
        offset = round(LOGICAL_OFFSET_IN * self.res)
        self.rx = offset + (self._px(self.cx, self.res) if at_cursor else 0)
        self.ry = round(self.top_margin * self.res) + self._px(self.cy, self.res)
        self.row = 0
        wb = self._row_bytes()
        self.seeds = [bytearray(wb) for _ in range(abs(self.nplanes))]
        self.plane_rows = []
        self.block = []
        self.block_y = self.ry

    def _decode(self, data: bytes, plane: int) -> bytes:
        wb = self._row_bytes()
        if plane >= len(self.seeds):
            self.seeds.extend(bytearray(wb) for _ in range(plane + 1 - len(self.seeds)))
        seed = self.seeds[plane]
        if self.mode == 0:
            row = data[:wb] + bytes(max(0, wb - len(data)))
        elif self.mode == 1:
            out = bytearray()
            for i in range(0, len(data) - 1, 2):
                out += bytes((data[i + 1],)) * (data[i] + 1)
            row = bytes(out[:wb]) + bytes(max(0, wb - len(out)))
        elif self.mode == 2:
            row = unpackbits_row(data, wb)
        elif self.mode == 3:
            row = bytes(undelta_row(data, seed))
        else:
            row = bytes(wb)  # methods 4, 5, 9 are not used by the drivers
        self.seeds[plane] = bytearray(row)
        return row

    def _transfer(self, data: bytes, last: bool) -> None:
        if not self.raster:
            self._start_raster(at_cursor=False)
        self.plane_rows.append(self._decode(data, len(self.plane_rows)))
        if not last:
            return
        if not self.block:
            self.block_y = self.ry + self.row
        self.block.append(self.plane_rows)
        self.plane_rows = []
        self.row += 1
        if len(self.block) >= BLOCK_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Draw the decoded rows onto the page."""
        if not self.block or self.canvas is None:
            self.block = []
            return
        wb = self._row_bytes()
        count = max(len(r) for r in self.block)
        n = abs(self.nplanes)
        first = {1: 0, 3: 1, 4: 0}.get(n, 0)
        for p in range(count):
            data = b"".join(r[p] if p < len(r) else bytes(wb) for r in self.block)
            rows = np.frombuffer(data, dtype=np.uint8).reshape(len(self.block), wb)
            self.canvas.put(first + p, self.block_y, self.rx, rows, self.raster_width)
        self.block = []

    def _end_raster(self) -> None:
        self._flush()
        self.raster = False

    # -- pages
    def _eject(self, pos: int) -> None:
        self._flush()
        new_sheet = not (self.duplexer and self.duplex and self.back)
        canvas = self.canvas if self.canvas is not None else self._new_canvas()
        self.emit_page(canvas, pos, new_sheet)
        self.canvas = None
        self.raster = False
        self.cy = 0.0
        self.back = bool(self.duplexer and self.duplex and not self.back)

    def _marked(self) -> bool:
        self._flush()
        return self.canvas is not None and self.canvas.marked

    def finish(self) -> None:
        if self._marked():
            self._eject(-1)

    # -- parsing
    def step(self, buf: bytes, pos: int) -> int | None:
        b = buf[pos]
        if b == 0x0C:
            self._eject(pos)
            return pos + 1
        if b != 0x1B:
            found = _STOP.search(buf, pos)
            return found.start() if found else len(buf)
        if pos + 1 >= len(buf):
            return None
        c = buf[pos + 1]
        if c == 0x25:  # '%': UEL or HP-GL/2 switches
            if buf.startswith(_UEL, pos):
                return pos + len(_UEL)
            m = _PCT.match(buf, pos)
            if m:
                return m.end()
            if len(buf) - pos < len(_UEL) and _UEL.startswith(buf[pos:]):
                return None
            return pos + 1
        if 0x21 <= c <= 0x2F:
            m = _SEQ.match(buf, pos)
            if m is None:
                if _PREFIX.fullmatch(buf, pos):
                    return None  # the sequence continues in the next chunk
                return pos + 1  # not a valid sequence: skip the ESC
            return self._parameterized(buf, pos, m)
        if 0x30 <= c <= 0x7E:
            if c == 0x45:  # ESC E
                if self._marked():
                    self._eject(pos)
                self._reset()
                self.back = False
            return pos + 2
        return pos + 1

    def _parameterized(self, buf: bytes, pos: int, m: re.Match[bytes]) -> int | None:
        kind, group = m.group(1), m.group(2)
        params = _PARAM.findall(m.group(3))
        end = m.end()
        last_key = (kind, group, params[-1][1].upper()) if params else None
        data = b""
        if last_key in _DATA:
            try:
                count = int(float(params[-1][0] or b"0"))
            except ValueError:
                count = 0
            count = max(0, count)
            if end + count > len(buf):
                return None
            data = buf[end:end + count]
        # Commands that eject a marked page run before anything else changes.
        for _value, param in params:
            key = (kind, group, param.upper())
            if key in ((b"&", b"l", b"A"), (b"&", b"l", b"S")) and self._marked():
                self._eject(pos)
                break
        for i, (value, param) in enumerate(params):
            self._command(kind, group, param.upper(), value, data if i == len(params) - 1
                          else b"")
        return end + len(data)

    def _command(self, kind: bytes, group: bytes, param: bytes, raw: bytes,
                 data: bytes) -> None:
        try:
            value = float(raw) if raw not in (b"", b"+", b"-", b".") else 0.0
        except ValueError:
            value = 0.0
        relative = raw[:1] in (b"+", b"-")
        key = kind + group + param
        if key == b"*bW":
            self._transfer(data, last=True)
        elif key == b"*bV":
            self._transfer(data, last=False)
        elif key == b"*bM":
            self.mode = int(value)
        elif key == b"*bY":
            self._flush()
            self.row += int(value)
            self.seeds = [bytearray(len(s)) for s in self.seeds]
        elif key == b"*rA":
            self._start_raster(at_cursor=int(value) == 1)
        elif key in (b"*rB", b"*rC"):
            self._end_raster()
            if param == b"C":
                self.mode = 0
        elif key == b"*rS":
            self.raster_width = max(1, int(value))
        elif key == b"*rU":
            self.nplanes = int(value) if int(value) in (1, 3, 4, -3, -4) else 1
        elif key == b"*tR":
            self.res = int(value) if int(value) in (75, 100, 150, 200, 300, 600, 1200) else 300
        elif key == b"&uD":
            self.units = int(value) if value > 0 else 300
        elif key == b"*pX":
            self.cx = self.cx + value if relative else value
        elif key == b"*pY":
            self.cy = self.cy + value if relative else value
        elif key == b"&lA":
            self.media = MEDIA_BY_CODE.get(int(value), self.media)
        elif key == b"&lS":
            self.duplex = int(value) if int(value) in (0, 1, 2) else 0
            self.back = False
        elif key == b"&lE":
            self.top_margin = max(0.0, value) / 6
