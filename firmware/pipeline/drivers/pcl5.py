"""PCL 5 raster driver for LaserJet-class monochrome printers.

HP PCL 5 Printer Language Technical Reference Manual: the job is wrapped in the
Universal Exit Language / PJL ``ENTER LANGUAGE=PCL`` (HP PJL Technical Reference
§"Universal Exit Language"), reset with ``ESC E``; each page selects its size
(``ESC&l#A``), top margin 0 (``ESC&l0E``), duplex binding (``ESC&l#S``: 0 simplex,
1 long edge, 2 short edge), raster resolution (``ESC*t#R``) and width (``ESC*r#S``),
positions the cursor (``ESC*p#X``/``#Y`` in units of ``ESC&u#D``), starts raster graphics
at the cursor (``ESC*r1A``), sends rows with compression method 2 (TIFF PackBits) or 3
(delta row) chosen per row, ends graphics (``ESC*rC``) and ejects with a form feed.
"""

from __future__ import annotations

from collections.abc import Mapping

from firmware.capabilities import OFFICE_MEDIA, Capabilities
from firmware.pipeline.drivers.base import Driver, Output, RasterMode
from firmware.pipeline.drivers.pclraster import (
    FF,
    PAGE_SIZES,
    UEL,
    PclRasterWriter,
    logical_offset,
)
from firmware.pipeline.page import U8, JobSetup, PageSetup

DUPLEX_CODES = {"one-sided": 0, "two-sided-long-edge": 1, "two-sided-short-edge": 2}


class PclDriverBase(Driver):
    """What PCL 5 and PCL 3 share: page setup, positioning, raster rows."""

    def __init__(self, options: Mapping[str, str] | None = None, device_id: str = "") -> None:
        super().__init__(options, device_id)
        self.writer: PclRasterWriter | None = None
        self._media: str | None = None
        self._row = 0

    def page_prologue(self, page: PageSetup) -> bytes:
        dev = page.device
        parts = []
        if dev.media != self._media:
            parts.append(b"\x1b&l%dA\x1b&l0E" % PAGE_SIZES.get(dev.media, 26))
            self._media = dev.media
        left, top, _, _ = dev.printable
        x = left - logical_offset(dev.resolution, dev.media)
        parts.append(b"\x1b*t%dR\x1b*r%dS\x1b*p%dx%dY\x1b*r1A"
                     % (dev.resolution, dev.printable_width, x, top))
        return b"".join(parts)

    def start_page(self, page: PageSetup) -> None:
        self.page = page
        self.out.write(self.page_prologue(page))
        planes = self.raster_mode(page.color)
        assert planes is not None
        self.writer = PclRasterWriter(self.out, planes.planes,
                                      page.device.printable_width // 8)
        self._row = 0

    def write_lines(self, y: int, lines: U8) -> None:
        assert self.writer is not None
        if y > self._row:  # rows the pipeline did not send are blank
            self.writer.skip += y - self._row
        self.writer.write(lines)
        self._row = y + lines.shape[1]

    def end_page(self) -> None:
        if self.writer is not None:
            self.writer.end()
        self.out.write(b"\x1b*rC" + FF)


class Pcl5Driver(PclDriverBase):
    name = "pcl5"
    description = "HP PCL 5 raster (LaserJet-class monochrome laser)"
    commands = ("PCL", "PCL5", "PCL5E", "PCL5C", "PCL6", "PCLXL", "PCL 5", "PCL 5E")
    languages = ("PCL",)
    native_formats = ("application/vnd.hp-PCL",)
    #: Lasers render clustered dots stably, and they compress far better than dispersed
    #: ones (about a quarter of the bytes on a mixed page).
    screen = "clustered"

    def make_capabilities(self) -> Capabilities:
        return Capabilities(
            languages=list(self.languages),
            resolutions=[300, 600],
            default_resolution=600,
            color=False,
            duplex=self.duplex,
            media=list(OFFICE_MEDIA),
            default_media=self.options.get("default_media", "iso_a4_210x297mm"),
            # A laser cannot print within ~4.2 mm of an edge; left and right follow the
            # PCL logical page (1/4 inch).
            margins=(423, 635, 635, 423),
            ppm=20,
        )

    def raster_mode(self, color: bool) -> RasterMode:
        return RasterMode.K1

    def start_job(self, job: JobSetup, out: Output) -> None:
        super().start_job(job, out)
        duplex = DUPLEX_CODES.get(job.sides, 0) if self.capabilities.duplex else None
        out.write(UEL + b"@PJL JOB\r\n@PJL ENTER LANGUAGE=PCL\r\n\x1bE"
                  + b"\x1b&u%dD\x1b&l0O" % job.resolution
                  + (b"\x1b&l%dS" % duplex if duplex is not None else b""))

    def end_job(self) -> None:
        self.out.write(b"\x1bE" + UEL + b"@PJL EOJ\r\n" + UEL)
