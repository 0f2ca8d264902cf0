"""PCL raster graphics shared by the PCL 5 and PCL 3 drivers (and their interpreter).

HP PCL 5 Printer Language Technical Reference Manual (part I), chapters "Page Control"
and "Raster Graphics"; the PCL 3 (DeskJet) subset is the same raster model with colour
planes (``ESC*r#U``, ``ESC*b#V``).  Page geometry as both the drivers and the emulated
printer use it: ``ESC&l0E`` puts the top margin at the top of the sheet, and in portrait
the logical page (X = 0) begins :func:`logical_offset` from the left edge of the sheet,
as on HP LaserJets.  Cursor positions are in PCL units set by ``ESC&u#D``; the
drivers set units equal to the raster resolution.
"""

from __future__ import annotations

from firmware.pipeline.drivers.base import Output
from firmware.pipeline.page import U8

ESC = b"\x1b"
UEL = b"\x1b%-12345X"
FF = b"\x0c"

#: Left edge of the portrait logical page from the sheet edge, in 1/300 inch (PCL 5 TRM
#: Part I, chapter 2 "The Page", the logical page table): 1/4 inch on the US sizes, 71 dots
#: (6 mm) on the ISO and JIS ones.
LOGICAL_OFFSET_US = 75
LOGICAL_OFFSET_ISO = 71

#: PWG media -> ESC&l#A page size code (PCL 5 Technical Reference, Page Size command).
PAGE_SIZES: dict[str, int] = {
    "na_executive_7.25x10.5in": 1,
    "na_letter_8.5x11in": 2,
    "na_legal_8.5x14in": 3,
    "na_ledger_11x17in": 6,
    "iso_a5_148x210mm": 25,
    "iso_a4_210x297mm": 26,
    "iso_a3_297x420mm": 27,
    "jis_b5_182x257mm": 45,
    "na_monarch_3.875x7.5in": 80,
    "na_number-10_4.125x9.5in": 81,
    "iso_dl_110x220mm": 90,
    "iso_c5_162x229mm": 91,
    "iso_b5_176x250mm": 100,
}
#: Page sizes by code, for the interpreter.
MEDIA_BY_CODE: dict[int, str] = {code: media for media, code in PAGE_SIZES.items()}

#: Extra bytes a row pays to change compression method ("3m" in ESC*b3m#W).
MODE_SWITCH_COST = 2


def logical_offset(resolution: int, media: str = "") -> int:
    """Pixels at ``resolution`` from the sheet's left edge to X = 0 of the logical page."""
    dots = LOGICAL_OFFSET_ISO if media.startswith(("iso_", "jis_")) else LOGICAL_OFFSET_US
    return round(dots * resolution / 300)


class PclRasterWriter:
    """Rows of one raster page in PCL compression method 2 or 3, whichever is smaller
    per row; runs of blank rows become ``ESC*b#Y`` (Y offset, which also clears the seed
    row, HP PCL 5 TRM "Raster Y Offset")."""

    def __init__(self, out: Output, planes: int, width_bytes: int) -> None:
        self.out = out
        self.planes = planes
        self.width_bytes = width_bytes
        self.mode = 0  # ESC E and ESC*rC leave method 0
        import numpy as np  # here, not at the top: see firmware.pipeline.page

        self.seeds = np.zeros((planes, width_bytes), dtype=np.uint8)
        self.skip = 0

    def write(self, lines: U8) -> None:
        """``lines``: ``(planes, rows, width_bytes)`` packed ink bits."""
        import numpy as np

        from firmware.pipeline.compression import delta_rows, packbits_rows

        planes, rows, _ = lines.shape
        blank = ~lines.any(axis=(0, 2))
        enc2 = [packbits_rows(lines[p], trim=True) for p in range(planes)]
        enc3 = [delta_rows(lines[p], self.seeds[p]) for p in range(planes)]
        cost2 = sum(e[1] for e in enc2)
        cost3 = sum(e[1] for e in enc3)
        blobs2 = [(e[0].tobytes(), np.concatenate([[0], np.cumsum(e[1])]).tolist())
                  for e in enc2]
        blobs3 = [(e[0].tobytes(), np.concatenate([[0], np.cumsum(e[1])]).tolist())
                  for e in enc3]
        cost2_l, cost3_l, blank_l = cost2.tolist(), cost3.tolist(), blank.tolist()
        parts: list[bytes] = []
        mode = self.mode
        last = planes - 1
        for r in range(rows):
            if blank_l[r]:
                self.skip += 1
                continue
            if self.skip:
                parts.append(b"\x1b*b%dY" % self.skip)
                self.skip = 0
            c2 = cost2_l[r] + (0 if mode == 2 else MODE_SWITCH_COST)
            c3 = cost3_l[r] + (0 if mode == 3 else MODE_SWITCH_COST)
            use = 3 if c3 < c2 else 2
            blobs = blobs3 if use == 3 else blobs2
            for p in range(planes):
                blob, offs = blobs[p]
                data = blob[offs[r]:offs[r + 1]]
                term = b"W" if p == last else b"V"
                if p == 0 and use != mode:
                    parts.append(b"\x1b*b%dm%d" % (use, len(data)) + term + data)
                    mode = use
                else:
                    parts.append(b"\x1b*b%d" % len(data) + term + data)
        self.mode = mode
        self.seeds = np.ascontiguousarray(lines[:, -1, :])
        self.out.write(b"".join(parts))

    def end(self) -> None:
        """End of the page's raster: the trailing blank rows need not be sent."""
        self.skip = 0
