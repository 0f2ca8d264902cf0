"""ESC/P2 raster driver for Epson inkjets (Stylus class).

EPSON ESC/P Reference Manual (ESC/P2 chapters): ``ESC @`` initialises, ``ESC ( G``
selects graphics mode, ``ESC ( U`` the unit (m/3600 inch; the drivers use one dot),
``ESC ( i`` microweave, ``ESC ( K`` monochrome/colour, ``ESC ( C`` page length,
``ESC ( c`` top and bottom margins, ``ESC ( S`` paper dimensions (all lengths in the
current unit), ``ESC ( V``/``ESC ( v``
absolute/relative vertical position, ``ESC r`` the colour (0 black, 1 magenta, 2 cyan,
4 yellow) and ``ESC . c v h m nL nH`` one band of raster graphics, ``c = 1`` meaning
run-length compressed (the PackBits code).  Each printed row sends one ``ESC .`` per
inked colour, trimmed of trailing blank bytes, then a carriage return; blank rows
become one relative move.
"""

from __future__ import annotations

import struct

from firmware.capabilities import Capabilities
from firmware.pipeline.drivers.base import Driver, Output, RasterMode
from firmware.pipeline.page import U8, JobSetup, PageSetup

#: ESC r colour numbers for the K, C, M, Y planes.
COLOR_CODES = (0, 2, 1, 4)
#: The printer's hardware left margin (1/100 mm): ESC/P2 horizontal positions count from
#: there, so the printable area starts at it.
LEFT_MARGIN = 300


def esc_paren(cmd: bytes, payload: bytes) -> bytes:
    """``ESC ( cmd nL nH payload``: the extended-command framing of ESC/P2."""
    return b"\x1b(" + cmd + struct.pack("<H", len(payload)) + payload


class EscP2Driver(Driver):
    name = "escp2"
    description = "Epson ESC/P2 raster (Stylus-class inkjet)"
    commands = ("ESCPL2", "ESC/P2", "ESCP2", "ESCP2E", "ESC/P", "ESCP", "ESCPAGE")
    languages = ("ESCP2",)

    def __init__(self, options: dict[str, str] | None = None, device_id: str = "") -> None:
        super().__init__(options, device_id)
        self._row = 0  # next printable row the head is at
        self._color = 0

    def make_capabilities(self) -> Capabilities:
        return Capabilities(
            languages=list(self.languages),
            resolutions=[360, 720],
            default_resolution=360,
            color=True,
            duplex=False,
            media=["iso_a4_210x297mm", "na_letter_8.5x11in", "na_legal_8.5x14in",
                   "iso_a5_148x210mm", "na_index-4x6_4x6in"],
            default_media=self.options.get("default_media", "iso_a4_210x297mm"),
            margins=(300, LEFT_MARGIN, LEFT_MARGIN, 300),
            ppm=6,
        )

    def raster_mode(self, color: bool) -> RasterMode:
        return RasterMode.KCMY1 if color else RasterMode.K1

    @property
    def unit(self) -> int:
        return 3600 // self.job.resolution

    def start_job(self, job: JobSetup, out: Output) -> None:
        super().start_job(job, out)
        out.write(b"\x1b@" + esc_paren(b"G", b"\x01") + esc_paren(b"U", bytes((self.unit,)))
                  + esc_paren(b"i", b"\x00") + esc_paren(b"K", b"\x00" + (
                      b"\x02" if job.color else b"\x01")) + b"\x1bU\x00")

    def start_page(self, page: PageSetup) -> None:
        self.page = page
        dev = page.device
        _, top, _, bottom = dev.printable
        self.out.write(
            esc_paren(b"S", struct.pack("<II", dev.width, dev.height))
            + esc_paren(b"C", struct.pack("<I", dev.height))
            + esc_paren(b"c", struct.pack("<II", top, bottom))
            + esc_paren(b"V", struct.pack("<I", 0)))
        self._row = 0
        self._color = -1

    def write_lines(self, y: int, lines: U8) -> None:
        import numpy as np  # here, not at the top: see firmware.pipeline.page

        from firmware.pipeline.compression import packbits_rows

        planes, rows, width = lines.shape
        dots = self.unit
        nonzero = lines != 0
        # Bytes per row and plane after dropping trailing blank bytes.
        used = np.where(nonzero.any(axis=2),
                        width - np.argmax(nonzero[:, :, ::-1], axis=2), 0)
        coded = []
        for p in range(planes):
            data, lengths = packbits_rows(lines[p], trim=True)
            offs = np.concatenate([[0], np.cumsum(lengths)]).tolist()
            coded.append((data.tobytes(), offs))
        used_l = used.tolist()
        parts: list[bytes] = []
        for r in range(rows):
            inked = [p for p in range(planes) if used_l[p][r]]
            if not inked:
                continue
            row = y + r
            if row != self._row:
                parts.append(esc_paren(b"v", struct.pack("<I", row - self._row)))
                self._row = row
            for p in inked:
                blob, offs = coded[p]
                code = COLOR_CODES[p]
                if code != self._color:
                    parts.append(b"\x1br" + bytes((code,)))
                    self._color = code
                parts.append(b"\x1b.\x01" + bytes((dots, dots, 1))
                             + struct.pack("<H", used_l[p][r] * 8)
                             + blob[offs[r]:offs[r + 1]] + b"\r")
        self.out.write(b"".join(parts))

    def end_page(self) -> None:
        self.out.write(b"\x0c")

    def end_job(self) -> None:
        self.out.write(b"\x1b@")
