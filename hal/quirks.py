"""Printer quirks: flags read from a data file (``hal/quirks.toml``), never coded per model.

A quirk entry matches a USB vendor/product ID, an IEEE 1284 device ID, or both, and
names flags that change how a port talks to the printer (see the file's header for
what each flag does).  A board can add entries in ``/etc/printbridge/quirks.toml``; a
printer's ``quirks`` option (comma-separated) adds flags by hand.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hal.ieee1284 import DeviceId

UNIDIRECTIONAL = "unidirectional"
RESET_ON_OPEN = "reset-on-open"
NO_STATUS = "no-status"

FLAGS: frozenset[str] = frozenset({UNIDIRECTIONAL, RESET_ON_OPEN, NO_STATUS})

BUILTIN_FILE = Path(__file__).with_name("quirks.toml")
LOCAL_FILE = Path("/etc/printbridge/quirks.toml")


@dataclass(frozen=True, slots=True)
class Quirk:
    name: str
    flags: frozenset[str]
    vendor: int | None = None
    product: int | None = None
    device_id: tuple[tuple[str, re.Pattern[str]], ...] = ()

    def matches(self, vendor: int | None, product: int | None, device_id: DeviceId) -> bool:
        if self.vendor is not None:
            if vendor != self.vendor:
                return False
            if self.product is not None and product != self.product:
                return False
        if self.device_id:
            if not device_id:
                return False
            for key, pattern in self.device_id:
                if not pattern.search(device_id.get(key)):
                    return False
        return True


def _parse_usb(text: str, where: str) -> tuple[int, int | None]:
    parts = text.split(":")
    try:
        if len(parts) == 1:
            return int(parts[0], 16), None
        if len(parts) == 2:
            return int(parts[0], 16), int(parts[1], 16)
    except ValueError:
        pass
    raise ValueError(f"{where}: usb must be 'VVVV:PPPP' or 'VVVV' in hex, not {text!r}")


def parse(data: Mapping[str, object], source: str = "quirks") -> list[Quirk]:
    """Quirk entries from a decoded TOML document; ValueError on anything unknown."""
    entries = data.get("quirk", [])
    if not isinstance(entries, list):
        raise ValueError(f"{source}: [[quirk]] must be an array of tables")
    quirks: list[Quirk] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source} quirk #{number}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: not a table")
        unknown = set(entry) - {"name", "usb", "device_id", "flags"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        flags = entry.get("flags", [])
        if not isinstance(flags, list) or not flags:
            raise ValueError(f"{where}: flags must be a non-empty list")
        bad = set(flags) - FLAGS
        if bad:
            raise ValueError(f"{where}: unknown flags {sorted(bad)}; known: {sorted(FLAGS)}")
        vendor = product = None
        if "usb" in entry:
            vendor, product = _parse_usb(str(entry["usb"]), where)
        patterns: list[tuple[str, re.Pattern[str]]] = []
        for key, regex in dict(entry.get("device_id", {})).items():
            patterns.append((str(key), re.compile(str(regex), re.IGNORECASE)))
        if vendor is None and not patterns:
            raise ValueError(f"{where}: needs usb or device_id to match on")
        quirks.append(Quirk(str(entry.get("name", where)), frozenset(flags), vendor, product,
                            tuple(patterns)))
    return quirks


def load(paths: Iterable[Path] = (BUILTIN_FILE, LOCAL_FILE)) -> list[Quirk]:
    quirks: list[Quirk] = []
    for path in paths:
        if path.is_file():
            with open(path, "rb") as fh:
                quirks.extend(parse(tomllib.load(fh), str(path)))
    return quirks


@functools.cache
def _table() -> tuple[Quirk, ...]:
    return tuple(load())


def flags_from_option(value: str | None) -> frozenset[str]:
    """Flags from a printer's ``quirks`` option (``"unidirectional, no-status"``)."""
    flags = frozenset(f.strip() for f in (value or "").split(",") if f.strip())
    bad = flags - FLAGS
    if bad:
        raise ValueError(f"unknown quirk flags {sorted(bad)}; known: {sorted(FLAGS)}")
    return flags


def quirks_for(
    vendor: int | None = None,
    product: int | None = None,
    device_id: DeviceId | str = "",
    *,
    option: str | None = None,
    table: Iterable[Quirk] | None = None,
) -> frozenset[str]:
    """Every flag that applies to a printer: matching entries plus the ``quirks`` option."""
    did = DeviceId.parse(device_id) if isinstance(device_id, str) else device_id
    flags = set(flags_from_option(option))
    for quirk in _table() if table is None else table:
        if quirk.matches(vendor, product, did):
            flags |= quirk.flags
    return frozenset(flags)
