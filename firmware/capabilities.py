"""What a printer can do, as the driver declares it.

The IPP printer attributes, the DNS-SD TXT keys and the SNMP tables are all computed from
this, so the printer never claims what its driver cannot deliver.  Each driver of the
document pipeline (:mod:`firmware.pipeline.drivers`) declares its own; the pipeline fills
in ``formats`` (what its readers print plus what the printer takes as it is).  The
defaults below are a PCL laser's, for a printer model built without a pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The sheet sizes an office printer takes (PWG 5101.1 names).
OFFICE_MEDIA = (
    "iso_a4_210x297mm",
    "na_letter_8.5x11in",
    "na_legal_8.5x14in",
    "iso_a5_148x210mm",
    "na_executive_7.25x10.5in",
    "iso_b5_176x250mm",
    "na_number-10_4.125x9.5in",
    "iso_dl_110x220mm",
)


@dataclass(slots=True)
class Capabilities:
    #: Document formats the pipeline accepts (document-format-supported).
    formats: list[str] = field(
        default_factory=lambda: [
            "application/pdf",
            "image/jpeg",
            "image/pwg-raster",
            "image/urf",
            "application/octet-stream",
        ]
    )
    #: Printer languages spoken over the cable (for the device ID and SNMP interpreters).
    languages: list[str] = field(default_factory=lambda: ["PCL"])
    resolutions: list[int] = field(default_factory=lambda: [300, 600])  # dpi, square
    default_resolution: int = 600
    color: bool = False
    duplex: bool = False
    media: list[str] = field(default_factory=lambda: list(OFFICE_MEDIA))
    default_media: str = "iso_a4_210x297mm"
    media_sources: list[str] = field(default_factory=lambda: ["main"])
    media_types: list[str] = field(default_factory=lambda: ["stationery"])
    #: Margins in 1/100 mm (bottom, left, right, top): a laser cannot print to the edge.
    margins: tuple[int, int, int, int] = (423, 423, 423, 423)
    #: Pages per minute, for the IPP pages-per-minute attribute.
    ppm: int = 20
    #: Colour pages per minute (pages-per-minute-color, RFC 8011 §5.4.37); 0: as ppm.
    ppm_color: int = 0
    max_copies: int = 99

    @property
    def color_modes(self) -> list[str]:
        return ["monochrome", "color"] if self.color else ["monochrome"]

    @property
    def sides(self) -> list[str]:
        if self.duplex:
            return ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]
        return ["one-sided"]

    @property
    def raster_types(self) -> list[str]:
        """pwg-raster-document-type-supported (PWG 5102.4)."""
        return ["black_1", "sgray_8", "srgb_8"] if self.color else ["black_1", "sgray_8"]

    @property
    def urf(self) -> list[str]:
        """urf-supported keywords (Apple Raster): colour spaces, resolutions, duplex."""
        values = ["V1.4", "CP1", "W8"]
        if self.color:
            values.append("SRGB24")
        values.append("RS" + "-".join(str(r) for r in self.resolutions))
        if self.duplex:
            values.append("DM1")
        return values
