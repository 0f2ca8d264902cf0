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

Everything the interpreter knows about the language is its own, written from the manuals
(:data:`PAGE_SIZES`, the logical page, :func:`unpackbits_row`, :func:`undelta_row`): it
takes nothing from the firmware's PCL drivers, so a driver that sends a wrong code or
encodes a row wrongly prints wrongly here too, and the round-trip tests see it.  The
emulated DeskJet (``pcl3``) reads the same commands: PCL 3 selects paper with the PCL 5
Page Size command and its codes, and its raster is the PCL 5 raster with colour planes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hal.emulator.base import Canvas, Interpreter
from hal.options import truthy


# -- the page (HP PCL 5 Printer Language Technical Reference Manual, Part I)
@dataclass(frozen=True, slots=True)
class PageSize:
    """One value of the Page Size command, ``ESC&l#A``."""

    code: int
    #: The size as the manual names it.
    name: str
    #: The same size's PWG 5101.1 self-describing name (what a board profile, IPP and
    #: the tests call it).
    media: str
    #: The physical page, portrait, in 1/100 mm: the manual's inches or millimetres,
    #: rounded to 1/100 mm as IPP's media-size gives them.
    width: int
    length: int
    #: The portrait logical page's left edge from the left edge of the sheet, in dots of
    #: 1/300 inch, from the manual's logical page table (the logical page is as far in
    #: from the right edge: ``width - 2 * offset`` wide).
    offset: int


def _inch(value: float) -> int:
    return round(value * 2540)


def _mm(value: float) -> int:
    return round(value * 100)


#: ``ESC&l#A`` codes, from PCL 5 TRM Part I: the codes and their sizes from chapter 5
#: "Page Control Commands", Page Size Command (1, 2, 3, 6, 26, 27 paper; 80, 81, 90, 91,
#: 100 envelopes; "other values ignored"), plus 25 A5 and 45 JIS B5, which later
#: LaserJets take (the command as the PCL 5 Comparison Guide lists it).  Offsets: the
#: logical page dimensions of chapter 2 "The Page" (75 dots for the US sizes, 71 for the
#: ISO ones); A5 and JIS B5 are not in that table and take the ISO sizes' 71.
PAGE_SIZES: dict[int, PageSize] = {p.code: p for p in (
    PageSize(1, "Executive", "na_executive_7.25x10.5in", _inch(7.25), _inch(10.5), 75),
    PageSize(2, "Letter", "na_letter_8.5x11in", _inch(8.5), _inch(11), 75),
    PageSize(3, "Legal", "na_legal_8.5x14in", _inch(8.5), _inch(14), 75),
    PageSize(6, "Ledger", "na_ledger_11x17in", _inch(11), _inch(17), 75),
    PageSize(25, "A5", "iso_a5_148x210mm", _mm(148), _mm(210), 71),
    PageSize(26, "A4", "iso_a4_210x297mm", _mm(210), _mm(297), 71),
    PageSize(27, "A3", "iso_a3_297x420mm", _mm(297), _mm(420), 71),
    PageSize(45, "JIS B5", "jis_b5_182x257mm", _mm(182), _mm(257), 71),
    PageSize(80, "Monarch", "na_monarch_3.875x7.5in", _inch(3.875), _inch(7.5), 75),
    PageSize(81, "Com-10", "na_number-10_4.125x9.5in", _inch(4.125), _inch(9.5), 75),
    PageSize(90, "International DL", "iso_dl_110x220mm", _mm(110), _mm(220), 71),
    PageSize(91, "International C5", "iso_c5_162x229mm", _mm(162), _mm(229), 71),
    PageSize(100, "International B5", "iso_b5_176x250mm", _mm(176), _mm(250), 71),
)}
#: The top margin after ``ESC E`` or a Page Size command, inch: 1/2 inch (3 lines at
#: 6 lines per inch, the Top Margin command's default).
DEFAULT_TOP_MARGIN_IN = 0.5

_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)$")


def page_size_for(media: str) -> PageSize:
    """The paper the printer is loaded with, by PWG name: a size of :data:`PAGE_SIZES`,
    else one made from the name's dimensions (PWG 5101.1 self-describing names end in
    ``_WxHmm`` or ``_WxHin``), with the US sizes' offset and no code."""
    for size in PAGE_SIZES.values():
        if size.media == media:
            return size
    match = _PWG_SIZE.search(media)
    if match is None:
        raise ValueError(f"emulated printer: {media!r} is not a PWG media name")
    convert = _mm if match.group(3) == "mm" else _inch
    return PageSize(0, media, media, convert(float(match.group(1))),
                    convert(float(match.group(2))), 75)


def logical_offset(size: PageSize, res: int) -> int:
    """Pixels at ``res`` from the sheet's left edge to X = 0 of the logical page."""
    return round(size.offset * res / 300)


# -- raster compression (PCL 5 TRM Part I, chapter 15 "Raster Graphics", Set Compression
# Method: 0 unencoded, 1 run-length, 2 TIFF PackBits, 3 delta row)
def unpackbits_row(data: bytes, width: int) -> bytes:
    """Method 2, TIFF PackBits: a control byte 0..127 is followed by that many plus one
    literal bytes, -1..-127 (255..129) by one byte repeated 1 - n times, and -128 (128)
    does nothing.  The row is ``width`` bytes: zero-filled when short, truncated when
    long."""
    out = bytearray()
    i = 0
    while i < len(data) and len(out) < width:
        control = data[i] - 256 if data[i] > 127 else data[i]
        i += 1
        if control >= 0:
            out += data[i:i + control + 1]
            i += control + 1
        elif control > -128:
            if i < len(data):
                out += data[i:i + 1] * (1 - control)
            i += 1
    return bytes(out[:width]) + bytes(max(0, width - len(out)))


def undelta_row(data: bytes, seed: bytearray) -> bytearray:
    """Method 3, delta row: the row is the seed row (the previous row of the plane) with
    some bytes replaced.  Each command byte holds the number of replacement bytes that
    follow, less one (bits 7-5: 1 to 8), and their offset (bits 4-0) counted from the
    byte after the previous replacement; an offset of 31 continues in the next byte,
    and in every next byte while it is 255.  Bytes past the row's end are dropped."""
    i = col = 0
    while i < len(data):
        command = data[i]
        i += 1
        count = (command >> 5) + 1
        offset = command & 0x1F
        if offset == 31:
            while i < len(data):
                offset += data[i]
                i += 1
                if data[i - 1] != 255:
                    break
        col += offset
        replacement = data[i:i + count]
        i += count
        stop = min(len(seed), col + len(replacement))
        if col < stop:
            seed[col:stop] = replacement[:stop - col]
        col += len(replacement)
    return seed


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


class PclInterpreter(Interpreter):
    language = "pcl"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None, color: bool = False) -> None:
        super().__init__(job_dir, eject_ok, options)
        self.duplexer = truthy(self.options.get("duplex"))
        self.default_size = page_size_for(self.options.get("media", "iso_a4_210x297mm"))
        #: The page size of every page ejected, as the job selected it (for tests and
        #: for a person reading the log: a driver that sends the wrong code shows here).
        self.page_sizes: list[PageSize] = []
        self.color = color
        self.canvas: Canvas | None = None
        self.back = False
        self.last_res = 300
        self._reset()

    def _reset(self) -> None:
        self.size = self.default_size
        self.units = 300
        self.res = 75
        self.mode = 0
        self.nplanes = 1
        self.raster_width: int | None = None
        self.duplex = 0
        self.top_margin = DEFAULT_TOP_MARGIN_IN
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
        size = self.size
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
        offset = logical_offset(self.size, self.res)
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
        ejected = self.pages
        self.emit_page(canvas, pos, new_sheet)
        if self.pages > ejected:
            self.page_sizes.append(self.size)
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
            self.size = PAGE_SIZES.get(int(value), self.size)
        elif key == b"&lS":
            self.duplex = int(value) if int(value) in (0, 1, 2) else 0
            self.back = False
        elif key == b"&lE":
            self.top_margin = max(0.0, value) / 6
