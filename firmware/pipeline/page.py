"""Pages and bands: how a document page reaches a driver without the document in memory.

A reader turns a document into :class:`Page` objects one at a time.  A page is already
*placed* on the device page (media size, resolution, rotation, scaling decided by
:mod:`firmware.pipeline.layout`), and renders any band of device rows on demand, in
ascending order: the pipeline asks for a band of lines at a time (PAPPL streams lines the
same way), converts its colours, halftones it and hands it to the driver.

Device coordinates are pixels of the whole physical sheet at the device resolution,
origin top-left; the driver only ever receives the printable rectangle.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: A band of pixels.  numpy itself is imported by what converts, not by what merely
#: describes pages and drivers: a daemon that passes documents through never loads it.
U8: TypeAlias = "NDArray[np.uint8]"

#: Bytes of source pixels a band aims at; bands are never taller than this allows.
BAND_BYTES = 2 * 1024 * 1024


class Space(enum.Enum):
    """What a page's bands hold (the PWG 5102.4 §4.3 ColorSpace field, as the pipeline keeps it).

    ``BITS``: packed one-bit rows, MSB first, 1 = black (as PWG ``black_1`` and the
    drivers' one-bit planes).  ``GRAY``: 0 = black .. 255 = white.  ``RGB``: sRGB,
    3 bytes.  ``CMYK``: 0 = no ink.
    """

    BITS = "bits"
    GRAY = "gray"
    RGB = "rgb"
    CMYK = "cmyk"

    @property
    def channels(self) -> int:
        return {Space.BITS: 1, Space.GRAY: 1, Space.RGB: 3, Space.CMYK: 4}[self]

    @property
    def white(self) -> int:
        return 0 if self in (Space.BITS, Space.CMYK) else 255


def blank(space: Space, rows: int, width: int) -> U8:
    """A white band of ``space`` (``width`` in pixels)."""
    import numpy as np

    if space is Space.BITS:
        return np.zeros((rows, (width + 7) // 8), dtype=np.uint8)
    shape: tuple[int, ...] = (rows, width) if space.channels == 1 else (
        rows, width, space.channels)
    return np.full(shape, space.white, dtype=np.uint8)


@dataclass(slots=True, frozen=True)
class DevicePage:
    """The sheet side a page is printed on, in device pixels."""

    media: str  # PWG 5101.1 self-describing name
    size: tuple[int, int]  # media width, length in 1/100 mm
    resolution: int  # dpi, square
    width: int  # pixels of the whole sheet
    height: int
    #: Printable rectangle: left, top, right, bottom (exclusive) in pixels.
    printable: tuple[int, int, int, int]

    @property
    def printable_width(self) -> int:
        return self.printable[2] - self.printable[0]

    @property
    def printable_height(self) -> int:
        return self.printable[3] - self.printable[1]

    @classmethod
    def make(cls, media: str, size: tuple[int, int], resolution: int,
             margins: tuple[int, int, int, int]) -> DevicePage:
        """``margins`` in 1/100 mm, IPP order (bottom, left, right, top)."""
        def px(hmm: int) -> int:
            return round(hmm * resolution / 2540)

        width, height = px(size[0]), px(size[1])
        bottom, left, right, top = (px(m) for m in margins)
        # Whole bytes of one-bit raster: round the printable width down to 8 pixels.
        right_edge = left + max(8, ((width - left - right) // 8) * 8)
        return cls(media, size, resolution, width, height,
                   (left, top, min(width, right_edge), max(top + 1, height - bottom)))


@dataclass(slots=True)
class PageSetup:
    """What a driver's ``start_page`` gets (PAPPL's pappl_pr_options_t for one page)."""

    device: DevicePage
    number: int  # 1-based page number in the job's output (copies included)
    color: bool
    #: "one-sided", "two-sided-long-edge" or "two-sided-short-edge"
    sides: str = "one-sided"
    back_side: bool = False
    blank: bool = False  # a pad page so the next document starts on a new sheet
    quality: int = 4  # print-quality enum: 3 draft, 4 normal, 5 high


@dataclass(slots=True)
class JobSetup:
    """What a driver's ``start_job`` gets."""

    name: str = ""
    sides: str = "one-sided"
    color: bool = False
    resolution: int = 300
    quality: int = 4
    copies: int = 1
    extra: dict[str, str] = field(default_factory=dict)


class Page(abc.ABC):
    """One document page placed on a :class:`DevicePage`."""

    #: What :meth:`render` returns.
    space: Space = Space.GRAY

    def __init__(self, device: DevicePage) -> None:
        self.device = device

    @abc.abstractmethod
    def render(self, y0: int, y1: int, x0: int, x1: int) -> U8:
        """Device rows ``y0 .. y1 - 1``, columns ``x0 .. x1 - 1`` in :attr:`space`.

        Calls come with ascending ``y0``; a page may drop what lies above ``y0``.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the page holds (decoders, bitmaps)."""

    def band_rows(self, width: int) -> int:
        """How many rows a band of this page should have."""
        per_row = max(1, width // 8 if self.space is Space.BITS else
                      width * self.space.channels)
        return int(max(16, min(1024, BAND_BYTES // per_row)))

    def bands(self) -> Iterator[tuple[int, U8]]:
        """The printable area, a band at a time: (row offset in the printable area, band)."""
        left, top, right, bottom = self.device.printable
        rows = self.band_rows(right - left)
        for y in range(top, bottom, rows):
            yield y - top, self.render(y, min(bottom, y + rows), left, right)
