"""PWG 5101.1 self-describing media names and their sizes, and the paper a printer
has loaded by default where it is (Letter in the US and Canada, A4 elsewhere).

A media name such as ``iso_a4_210x297mm`` or ``na_letter_8.5x11in`` carries its own
dimensions; IPP's media-col wants them in hundredths of a millimetre (PWG 5100.3 §3.13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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


# ------------------------------------------------------------------ the paper a box loads
#: The two sizes a printer is delivered with, depending on where it is.
A4 = "iso_a4_210x297mm"
LETTER = "na_letter_8.5x11in"
#: Countries whose office paper is US Letter (ANSI/ASME Y14.1; CSA Z1.1 in Canada);
#: everywhere else uses ISO 216 A4.
LETTER_COUNTRIES = frozenset({"US", "CA"})
#: Locale variables that name the paper-size category, strongest first (POSIX.1-2017
#: §8.2: LC_ALL overrides LC_PAPER, which overrides LANG).
LOCALE_VARIABLES = ("LC_ALL", "LC_PAPER", "LANG")

_LOCALE = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?:[.@]|$)")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def locale_country(locale: str) -> str:
    """The ISO 3166 country of a POSIX locale name: ``en_US.UTF-8`` -> ``US``,
    ``fr_CA@euro`` -> ``CA``; "" for ``C``, ``POSIX``, ``C.UTF-8`` or nothing."""
    match = _LOCALE.match(locale.strip())
    return match.group(1).upper() if match else ""


def environment_country(environ: Mapping[str, str]) -> str:
    """The country of the paper-size locale category (``LC_PAPER``) in ``environ``:
    the first of LC_ALL, LC_PAPER, LANG that is set (empty ones count as unset)."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return locale_country(value)
    return ""


def check_country(value: str) -> str:
    """A two-letter ISO 3166-1 country code, upper case ("" stays ""); else ValueError."""
    text = value.strip()
    if text and not _COUNTRY.match(text):
        raise ValueError(f"{value!r} is not a two-letter country code such as US, CA, DE")
    return text.upper()


def paper_for(country: str = "", environ: Mapping[str, str] | None = None) -> str:
    """The paper a printer has loaded unless told otherwise: Letter in the US and Canada,
    A4 elsewhere and when the country is unknown.  ``country`` (``[daemon] country``)
    wins; without it the service's locale (``environ``: LC_ALL, LC_PAPER, LANG) says."""
    where = check_country(country) or environment_country(environ or {})
    return LETTER if where in LETTER_COUNTRIES else A4


def parse_media_ready(text: str) -> dict[str, str]:
    """The ``media_ready`` setting: one PWG media name (the first tray), or
    ``SOURCE=MEDIA`` pairs separated by commas, one per tray (``main=na_letter_8.5x11in,
    manual=iso_a5_148x210mm``).  Returns source -> media, the first tray as ""; a
    malformed value raises ValueError.  Whether the printer takes the sizes is for the
    printer model to say (its driver's media)."""
    ready: dict[str, str] = {}
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("no media named")
    for item in items:
        source, _, media = item.rpartition("=")
        source, media = source.strip(), media.strip()
        if not source and "=" in item:
            raise ValueError(f"{item!r}: no tray before '='")
        if not _SIZE.search(media):
            raise ValueError(f"{media!r} is not a PWG media name such as "
                             f"{A4} or {LETTER}")
        if source in ready:
            raise ValueError(f"tray {source!r} named twice" if source else
                             "several media: name each tray (main=MEDIA, manual=MEDIA)")
        ready[source] = media
    return ready
