"""The job template attributes the pipeline honours, read from ``job.attributes``.

RFC 8011 §5.2 (copies, sides, orientation-requested, page-ranges, print-quality,
printer-resolution, media, multiple-document-handling), PWG 5100.7 §6.3 (media-col),
PWG 5100.13 (print-color-mode, print-scaling).  The IPP layer has already checked
every value against the printer's capabilities; this module only interprets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firmware.capabilities import Capabilities
from firmware.media import find_media, parse_media


@dataclass(slots=True)
class JobOptions:
    #: Explicitly requested media (PWG name), or None to follow the document.
    media: str | None = None
    copies: int = 1
    sides: str = "one-sided"
    color_mode: str = "auto"
    #: print-quality enum: 3 draft, 4 normal, 5 high.
    quality: int = 4
    resolution: int | None = None
    #: orientation-requested enum (3 portrait, 4 landscape, 5 reverse-landscape,
    #: 6 reverse-portrait), None when the client did not ask (auto-rotate).
    orientation: int | None = None
    page_ranges: list[tuple[int, int]] = field(default_factory=list)
    scaling: str = "auto"
    collate: bool = True
    name: str = ""

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, Any], caps: Capabilities | None = None,
                        name: str = "") -> JobOptions:
        opts = cls(name=name)
        media = attrs.get("media")
        col = attrs.get("media-col")
        if isinstance(col, Mapping):
            media = col.get("media-size-name") or media
            size = col.get("media-size")
            if not media and isinstance(size, Mapping) and caps is not None:
                media = find_media(int(size.get("x-dimension", 0)),
                                   int(size.get("y-dimension", 0)), caps.media)
        if isinstance(media, str) and _has_size(media):
            opts.media = media
        opts.copies = max(1, int(attrs.get("copies", 1) or 1))
        opts.sides = str(attrs.get("sides", "one-sided"))
        opts.color_mode = str(attrs.get("print-color-mode", "auto"))
        opts.quality = int(attrs.get("print-quality", 4) or 4)
        res = attrs.get("printer-resolution")
        if isinstance(res, list | tuple) and res:
            opts.resolution = int(res[0])
        orientation = attrs.get("orientation-requested")
        opts.orientation = int(orientation) if orientation in (3, 4, 5, 6) else None
        ranges = attrs.get("page-ranges") or []
        opts.page_ranges = [(int(lo), int(hi)) for lo, hi in ranges]
        opts.scaling = str(attrs.get("print-scaling", "auto"))
        opts.collate = attrs.get("multiple-document-handling") != (
            "separate-documents-uncollated-copies")
        return opts

    # -- derived choices
    def wants_color(self, caps: Capabilities) -> bool:
        return caps.color and self.color_mode not in ("monochrome", "process-monochrome",
                                                      "bi-level", "process-bi-level",
                                                      "auto-monochrome")

    def duplex(self, caps: Capabilities) -> str:
        return self.sides if caps.duplex and self.sides in caps.sides else "one-sided"

    def device_resolution(self, caps: Capabilities, document: int | None = None) -> int:
        """printer-resolution if given; else the document's own (a raster's) when the
        printer has it; else by print-quality: draft the lowest, high the highest."""
        supported = sorted(caps.resolutions)
        if self.resolution in supported:
            return int(self.resolution)
        if document in supported:
            return int(document)
        if self.quality <= 3:
            return supported[0]
        if self.quality >= 5:
            return supported[-1]
        return caps.default_resolution if caps.default_resolution in supported else supported[0]

    def page_selected(self, number: int) -> bool:
        """page-ranges (RFC 8011 §5.2.7): is document page ``number`` (1-based) printed?"""
        if not self.page_ranges:
            return True
        return any(lo <= number <= hi for lo, hi in self.page_ranges)

    def last_selected(self) -> int | None:
        """The last page any range selects (None: no limit)."""
        return max(hi for _, hi in self.page_ranges) if self.page_ranges else None


def _has_size(name: str) -> bool:
    try:
        parse_media(name)
    except ValueError:
        return False
    return True
