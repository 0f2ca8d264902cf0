"""ESC/POS raster driver for 58 and 80 mm thermal receipt printers.

EPSON ESC/POS Application Programming Guide / Command Reference: ``ESC @`` initialises;
``GS v 0 m xL xH yL yH d...`` prints a raster bit image ``x`` bytes wide and ``y`` dots
high (1 = black, MSB left); ``ESC J n`` feeds ``n`` dots; ``GS V 66 n`` feeds to the
cutter and cuts (partial cut).  A "page" is a receipt: trailing blank rows are not fed
(a roll has no page length), blank runs inside the page become feeds, and every page
ends with a cut.  Options: ``roll_width`` 58 or 80 (mm; printable 48 or 72 mm).
"""

from __future__ import annotations

from firmware.capabilities import Capabilities
from firmware.pipeline.drivers.base import Driver, Output, RasterMode
from firmware.pipeline.page import U8, JobSetup, PageSetup

#: roll width (mm) -> printable width (mm) at 8 dots/mm.
ROLLS = {58: 48, 80: 72}
#: Tallest raster image one GS v 0 command carries here.
MAX_BLOCK_ROWS = 255
#: Dots fed after the last printed row before the cut (3 mm).
TAIL_FEED = 24


class EscPosDriver(Driver):
    name = "escpos"
    description = "Epson ESC/POS raster (thermal receipt printer, 58/80 mm)"
    commands = ("ESC/POS", "ESCPOS", "ESC/POS-RASTER")
    languages = ("ESCPOS",)

    def __init__(self, options: dict[str, str] | None = None, device_id: str = "") -> None:
        super().__init__(options, device_id)
        self._row = 0
        self._printed = False

    @property
    def roll(self) -> int:
        width = int(self.options.get("roll_width", "80"))
        return width if width in ROLLS else 80

    @property
    def media(self) -> str:
        return f"om_receipt-{self.roll}_{self.roll}x297mm"

    def make_capabilities(self) -> Capabilities:
        # Side margins such that the printable width is exactly the head's dots at
        # 203 dpi (8 dots/mm is 203.2 dpi: a plain millimetre margin loses a byte).
        res = 203
        sheet = round(self.roll * 100 * res / 2540)
        side = int((sheet - ROLLS[self.roll] * 8) / 2 * 2540 / res)
        return Capabilities(
            languages=list(self.languages),
            resolutions=[res],
            default_resolution=res,
            color=False,
            duplex=False,
            media=[self.media],
            default_media=self.media,
            media_types=["continuous"],
            margins=(0, side, side, 0),
            ppm=30,
        )

    def raster_mode(self, color: bool) -> RasterMode:
        return RasterMode.K1

    def start_job(self, job: JobSetup, out: Output) -> None:
        super().start_job(job, out)
        out.write(b"\x1b@")

    def start_page(self, page: PageSetup) -> None:
        self.page = page
        self._row = 0
        self._printed = False

    def _feed(self, dots: int) -> bytes:
        parts = []
        while dots > 0:
            step = min(255, dots)
            parts.append(b"\x1bJ" + bytes((step,)))
            dots -= step
        return b"".join(parts)

    def write_lines(self, y: int, lines: U8) -> None:
        import numpy as np  # here, not at the top: see firmware.pipeline.page

        plane = lines[0]
        width = plane.shape[1]
        inked = plane.any(axis=1)
        if not inked.any():
            return
        # Runs of inked rows (blank rows between them become feeds).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inked.astype(np.int8), [0]])))
        parts: list[bytes] = []
        for start, stop in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            row = y + start
            if row > self._row:
                parts.append(self._feed(row - self._row))
            for block in range(start, stop, MAX_BLOCK_ROWS):
                n = min(MAX_BLOCK_ROWS, stop - block)
                parts.append(b"\x1dv0\x00" + bytes((width & 0xFF, width >> 8, n & 0xFF, n >> 8))
                             + plane[block:block + n].tobytes())
            self._row = y + stop
        self._printed = True
        self.out.write(b"".join(parts))

    def end_page(self) -> None:
        self.out.write(self._feed(TAIL_FEED) + b"\x1dVB\x00")

    def end_job(self) -> None:
        self.out.write(b"\x1b@")
