"""Bands in the driver's raster mode: colour conversion and halftoning of what a page
renders (8-bit grey or RGB, one-bit K or KCMY planes, as :class:`RasterMode` says).

The numpy half of :mod:`firmware.pipeline`: imported when the first page is converted,
so that a daemon which only passes documents through never loads numpy.
"""

from __future__ import annotations

import numpy as np

from firmware.pipeline import halftone
from firmware.pipeline.drivers.base import RasterMode
from firmware.pipeline.page import U8, Space


def as_gray(band: U8, space: Space) -> U8:
    if space is Space.GRAY:
        return band
    if space is Space.BITS:
        return (np.uint8(1) - np.unpackbits(band, axis=1)) * np.uint8(255)
    if space is Space.RGB:
        return halftone.rgb_to_gray(band)
    return halftone.rgb_to_gray(halftone.cmyk_to_rgb(band))


def as_rgb(band: U8, space: Space) -> U8:
    if space is Space.RGB:
        return band
    if space is Space.CMYK:
        return halftone.cmyk_to_rgb(band)
    return halftone.gray_to_rgb(as_gray(band, space))


def to_driver(band: U8, space: Space, mode: RasterMode, y0: int,
              screen: str = halftone.BLUE_NOISE) -> U8:
    """One band in the driver's raster mode; ``y0`` is the band's first row on the
    sheet (the halftone is anchored to the sheet, so bands join seamlessly)."""
    if mode is RasterMode.GRAY8:
        return as_gray(band, space)
    if mode is RasterMode.RGB8:
        return as_rgb(band, space)
    if mode is RasterMode.K1:
        if space is Space.BITS:
            return band[None]  # already one-bit, packed
        return halftone.dither_gray(as_gray(band, space), y0, screen=screen)[None]
    # KCMY1
    rows = band.shape[0]
    width = band.shape[1] * 8 if space is Space.BITS else band.shape[1]
    empty = np.zeros((rows, (width + 7) // 8), dtype=np.uint8)
    if space is Space.BITS:
        return np.stack([band, empty, empty, empty])
    if space is Space.GRAY:
        return np.stack([halftone.dither_ink(np.invert(band), y0, 0), empty, empty, empty])
    if space is Space.RGB:
        k, c, m, y = halftone.rgb_to_kcmy(band)
    else:
        k, c, m, y = band[..., 3], band[..., 0], band[..., 1], band[..., 2]
    return halftone.dither_kcmy(k, c, m, y, y0)
