"""Pass-through: documents the printer understands natively go to it unchanged.

PDF and PostScript to PostScript/PDF printers, ``application/vnd.hp-PCL`` to PCL
printers, and ``application/octet-stream`` (raw: whatever the client prepared for this
printer) always.  The formats come from the printer's IEEE 1284 device ID ``CMD:`` list
(the IEEE Std 1284 Device ID) and from the raster driver's own language.  The
``raw`` driver is pass-through alone, for printers whose language has no driver here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from firmware.capabilities import Capabilities
from firmware.pipeline.drivers.base import Driver, RasterMode
from firmware.pipeline.page import U8, PageSetup

CHUNK = 256 * 1024
RAW = "application/octet-stream"

#: Native format -> CMD: tokens that say the printer reads it.
NATIVE: dict[str, tuple[str, ...]] = {
    "application/pdf": ("PDF",),
    "application/postscript": ("POSTSCRIPT", "PS", "PS2", "PS3", "POSTSCRIPT2",
                               "POSTSCRIPT3", "BR-SCRIPT", "BR-SCRIPT3", "KPDL"),
    "application/vnd.hp-PCL": ("PCL", "PCL5", "PCL5E", "PCL5C", "PCL3", "PCL3GUI"),
}


def parse_device_id(device_id: str) -> dict[str, str]:
    """``KEY:value;`` pairs of an IEEE 1284 device ID, keys upper case and long names
    (MANUFACTURER, MODEL, COMMAND SET) folded to MFG, MDL, CMD."""
    fields: dict[str, str] = {}
    aliases = {"MANUFACTURER": "MFG", "MODEL": "MDL", "COMMAND SET": "CMD",
               "COMMANDSET": "CMD", "CLASS": "CLS", "DESCRIPTION": "DES"}
    for item in device_id.split(";"):
        if ":" not in item:
            continue
        key, value = item.split(":", 1)
        key = key.strip().upper()
        fields[aliases.get(key, key)] = value.strip()
    return fields


def command_set(device_id: str) -> list[str]:
    """The ``CMD:`` tokens, upper case."""
    cmd = parse_device_id(device_id).get("CMD", "")
    return [t.strip().upper() for t in cmd.split(",") if t.strip()]


def passthrough_formats(device_id: str, driver: Driver | None = None) -> list[str]:
    """Formats sent unchanged: what the device ID and the driver's language read, then
    raw."""
    tokens = set(command_set(device_id))
    found = [fmt for fmt, names in NATIVE.items() if tokens & set(names)]
    if driver is not None:
        found += [fmt for fmt in driver.native_formats if fmt not in found]
    return [*found, RAW]


def stream_file(path: Path, chunk: int = CHUNK) -> Iterator[bytes]:
    """A spooled document a chunk at a time."""
    with open(path, "rb") as fh:
        while data := fh.read(chunk):
            yield data


class RawDriver(Driver):
    """No raster language: only the pass-through formats print."""

    name = "raw"
    description = "Pass-through only (the printer's own formats and raw data)"

    def __init__(self, options: Mapping[str, str] | None = None, device_id: str = "") -> None:
        super().__init__(options, device_id)

    def make_capabilities(self) -> Capabilities:
        return Capabilities(languages=[t for t in command_set(self.device_id)] or ["RAW"],
                            duplex=self.duplex)

    def raster_mode(self, color: bool) -> RasterMode | None:
        return None

    def start_page(self, page: PageSetup) -> None:
        raise NotImplementedError("the raw driver prints no raster")

    def write_lines(self, y: int, lines: U8) -> None:
        raise NotImplementedError("the raw driver prints no raster")

    def end_page(self) -> None:
        raise NotImplementedError("the raw driver prints no raster")
