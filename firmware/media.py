"""PWG 5101.1 self-describing media names and their sizes.

A media name such as ``iso_a4_210x297mm`` or ``na_letter_8.5x11in`` carries its own
dimensions; IPP's media-col wants them in hundredths of a millimetre (PWG 5100.3 §3.13).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)$")


@dataclass(slots=True, frozen=True)
class MediaSize:
    name: str
    width: int  # 1/100 mm
    length: int  # 1/100 mm

    @property
    def width_points(self) -> float:
        return self.width * 72 / 2540

    @property
    def length_points(self) -> float:
        return self.length * 72 / 2540


def parse_media(name: str) -> MediaSize:
    """Dimensions of a PWG self-describing media name; ``ValueError`` if it has none."""
    match = _SIZE.search(name)
    if not match:
        raise ValueError(f"not a PWG self-describing media name: {name!r}")
    scale = 100.0 if match.group(3) == "mm" else 2540.0
    width, length = float(match.group(1)), float(match.group(2))
    return MediaSize(name, round(width * scale), round(length * scale))


def find_media(width: int, length: int, names: list[str], tolerance: int = 100) -> str | None:
    """The media name among ``names`` whose size matches (either orientation), if any."""
    for name in names:
        size = parse_media(name)
        if (abs(size.width - width) <= tolerance and abs(size.length - length) <= tolerance) or (
            abs(size.width - length) <= tolerance and abs(size.length - width) <= tolerance
        ):
            return name
    return None
