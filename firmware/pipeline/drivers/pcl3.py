"""PCL 3 raster driver for HP DeskJet-class colour inkjets.

HP PCL 3 (DeskJet 500C/550C family, as in HP's "PCL 3 Technical Reference" and the
DeskJet Developer's Guide): after ``ESC E`` the job sets the number of planes per row
(``ESC*r#U``: 1 = black only, -4 = KCMY), print quality (``ESC*o#M``: -1 draft,
0 normal, 1 presentation) and resolution; rows carry one plane per ``ESC*b#V`` and the
last plane with ``ESC*b#W``, each compressed with method 2 or 3 against its own seed row.
Page geometry, positioning and compression are shared with PCL 5
(:mod:`firmware.pipeline.drivers.pclraster`).
"""

from __future__ import annotations

from firmware.capabilities import OFFICE_MEDIA, Capabilities
from firmware.pipeline.drivers.base import Output, RasterMode
from firmware.pipeline.drivers.pcl5 import PclDriverBase
from firmware.pipeline.page import JobSetup

QUALITY = {3: -1, 4: 0, 5: 1}


class Pcl3Driver(PclDriverBase):
    name = "pcl3"
    description = "HP PCL 3 colour raster (DeskJet-class inkjet)"
    commands = ("PCL3GUI", "PCL3", "PCL3C", "PCLC")
    languages = ("PCL",)
    native_formats = ("application/vnd.hp-PCL",)

    def make_capabilities(self) -> Capabilities:
        return Capabilities(
            languages=list(self.languages),
            resolutions=[300, 600],
            default_resolution=300,
            color=True,
            duplex=False,
            media=[m for m in OFFICE_MEDIA if m != "iso_b5_176x250mm"],
            default_media=self.options.get("default_media", "iso_a4_210x297mm"),
            # DeskJet hardware margins (HWMargins 18 36 18 36 pt in CUPS's sample.drv):
            # the bottom is wide, the paper is held there while the last rows print.
            margins=(1270, 635, 635, 300),
            ppm=8,
        )

    def raster_mode(self, color: bool) -> RasterMode:
        return RasterMode.KCMY1 if color else RasterMode.K1

    def start_job(self, job: JobSetup, out: Output) -> None:
        super().start_job(job, out)
        out.write(b"\x1bE\x1b&u%dD\x1b&l0O\x1b*o%dM\x1b*r%dU"
                  % (job.resolution, QUALITY.get(job.quality, 0), -4 if job.color else 1))

    def end_job(self) -> None:
        self.out.write(b"\x1bE")
