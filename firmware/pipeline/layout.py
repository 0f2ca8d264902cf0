"""Where a document page lands on the sheet: media, rotation and scaling.

PWG 5100.13 (IPP JPS3) ``print-scaling``: *none* keeps the page at its own size centred on
the media; *fit* scales it to the printable area keeping its aspect; *fill* scales it to
cover the printable area, cropping; *auto-fit* is *none* when the page fits the media
and *fit* otherwise; *auto* is *fit* for images and *auto-fit* for documents.
RFC 8011 §5.2.10 ``orientation-requested``: landscape (4) turns the content 90°
counter-clockwise on the medium, reverse-landscape (5) 90° clockwise, reverse-portrait
(6) 180°; without it, a landscape page on portrait media is turned as landscape.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.capabilities import Capabilities
from firmware.media import find_media, parse_media
from firmware.pipeline.options import JobOptions
from firmware.pipeline.page import DevicePage

#: Tolerance (1/100 mm) when matching a document's page size to media.
SIZE_TOLERANCE = 200

#: orientation-requested -> clockwise rotation in degrees applied to the content.
ROTATION = {3: 0, 4: 270, 5: 90, 6: 180}


@dataclass(slots=True, frozen=True)
class Placement:
    """Content (``width`` x ``height`` in its own units, after rotation) on the device
    page: ``scale`` device pixels per unit, top-left corner at (``x``, ``y``)."""

    rotation: int  # degrees clockwise, 0/90/180/270
    scale_x: float
    scale_y: float
    x: float
    y: float
    width: float
    height: float

    @property
    def device_box(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x + self.width * self.scale_x,
                self.y + self.height * self.scale_y)


def device_page(caps: Capabilities, opts: JobOptions, resolution: int,
                content_hmm: tuple[int, int] | None = None) -> DevicePage:
    """The sheet for a page: the requested media, else the media matching the page's own
    size (either orientation), else the printer's default."""
    media = opts.media if opts.media in caps.media else None
    if media is None and content_hmm is not None:
        media = find_media(content_hmm[0], content_hmm[1], caps.media, SIZE_TOLERANCE)
    if media is None:
        media = caps.default_media
    size = parse_media(media)
    return DevicePage.make(media, (size.width, size.length), resolution, caps.margins)


def rotation_for(opts: JobOptions, content_w: float, content_h: float,
                 device: DevicePage) -> int:
    if opts.orientation is not None:
        return ROTATION[opts.orientation]
    content_landscape = content_w > content_h * 1.02
    media_landscape = device.width > device.height
    return 270 if content_landscape != media_landscape else 0


def place(device: DevicePage, width: float, height: float, unit_px_x: float,
          unit_px_y: float, scaling: str, *, image: bool = False, rotation: int = 0,
          snap: bool = False) -> Placement:
    """Place content of ``width`` x ``height`` units (already rotated) whose natural size
    is ``unit_px`` device pixels per unit."""
    left, top, right, bottom = device.printable
    area_w, area_h = right - left, bottom - top
    nat_w, nat_h = width * unit_px_x, height * unit_px_y
    mode = scaling
    if mode == "auto":
        mode = "fit" if image else "auto-fit"
    if mode == "auto-fit":
        fits = nat_w <= device.width * 1.01 + 1 and nat_h <= device.height * 1.01 + 1
        mode = "none" if fits else "fit"
    if mode == "none":
        sx, sy = unit_px_x, unit_px_y
        x, y = (device.width - nat_w) / 2, (device.height - nat_h) / 2
    else:
        factor_w, factor_h = area_w / max(nat_w, 1e-9), area_h / max(nat_h, 1e-9)
        factor = min(factor_w, factor_h) if mode == "fit" else max(factor_w, factor_h)
        sx, sy = unit_px_x * factor, unit_px_y * factor
        x = left + (area_w - width * sx) / 2
        y = top + (area_h - height * sy) / 2
    if snap:
        x, y = float(round(x)), float(round(y))
    return Placement(rotation, sx, sy, x, y, width, height)
