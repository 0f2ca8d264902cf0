"""Printer drivers: one file per printer language, chosen from the IEEE 1284 device ID.

``select_driver(device_id, override, options)`` picks by the ``CMD:`` list (first match
in :data:`PREFERENCE`), unless the configuration names a driver (``driver = pcl5``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from firmware.pipeline.drivers.base import Driver, Output, RasterMode
from firmware.pipeline.drivers.escp2 import EscP2Driver
from firmware.pipeline.drivers.escpos import EscPosDriver
from firmware.pipeline.drivers.passthrough import (
    RawDriver,
    command_set,
    parse_device_id,
    passthrough_formats,
)
from firmware.pipeline.drivers.pcl3 import Pcl3Driver
from firmware.pipeline.drivers.pcl5 import Pcl5Driver
from firmware.pipeline.drivers.ps import PsDriver

log = logging.getLogger(__name__)

DRIVERS: dict[str, type[Driver]] = {
    d.name: d for d in (Pcl5Driver, Pcl3Driver, EscP2Driver, EscPosDriver, PsDriver, RawDriver)
}
#: Which language wins when a printer speaks several: receipt printers first (their
#: paper is special), then PCL 3 colour, PCL 5 (cheapest to produce on the board),
#: PostScript, ESC/P2.
PREFERENCE: tuple[type[Driver], ...] = (EscPosDriver, Pcl3Driver, Pcl5Driver, PsDriver,
                                        EscP2Driver)
#: Models that answer plain "PCL" but are inkjets (PCL 3).
INKJET_MODEL = re.compile(r"deskjet|officejet|photosmart|envy|inkjet|business inkjet", re.I)

DEFAULT_DRIVER = Pcl5Driver


def driver_class_for(device_id: str) -> type[Driver]:
    tokens = set(command_set(device_id))
    model = parse_device_id(device_id).get("MDL", "")
    if "PCL" in tokens and INKJET_MODEL.search(model):
        return Pcl3Driver
    for cls in PREFERENCE:
        if tokens & set(cls.commands):
            return cls
    return DEFAULT_DRIVER


def select_driver(device_id: str, override: str = "auto",
                  options: Mapping[str, str] | None = None) -> Driver:
    """The driver for a printer: ``override`` if it names one, else by device ID."""
    name = (override or "auto").strip().lower()
    if name != "auto":
        if name not in DRIVERS:
            raise ValueError(f"unknown driver {override!r}; known: {', '.join(sorted(DRIVERS))}")
        cls = DRIVERS[name]
    else:
        cls = driver_class_for(device_id)
        if not command_set(device_id):
            log.info("no CMD: in device ID %r; using the %s driver", device_id, cls.name)
    return cls(options, device_id)


__all__ = ["DRIVERS", "Driver", "Output", "RasterMode", "driver_class_for",
           "passthrough_formats", "select_driver"]
