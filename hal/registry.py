"""Port drivers found by URI scheme, so a new kind of port is one new file."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from urllib.parse import urlsplit

from hal.port import Port

_DRIVERS: dict[str, type[Port]] = {}

#: Built-in driver modules, imported lazily so a board without pyusb still starts.
_BUILTIN: dict[str, str] = {
    "emulated": "hal.emulated",
    "file": "hal.file",
    "usb": "hal.usb",
    "usblp": "hal.usblp",
    "parallel": "hal.parallel",
    "serial": "hal.serial",
}


def register(cls: type[Port]) -> type[Port]:
    """Class decorator: make ``cls`` serve URIs of ``cls.scheme``."""
    _DRIVERS[cls.scheme] = cls
    return cls


def scheme_of(uri: str) -> str:
    return urlsplit(uri).scheme or uri.rstrip(":")


def driver_for(uri: str) -> type[Port]:
    scheme = scheme_of(uri)
    if scheme not in _DRIVERS and scheme in _BUILTIN:
        importlib.import_module(_BUILTIN[scheme])
    try:
        return _DRIVERS[scheme]
    except KeyError:
        raise ValueError(f"no printer port driver for {scheme!r} (URI {uri!r})") from None


def create_port(uri: str, options: Mapping[str, str] | None = None) -> Port:
    """Instantiate (but do not open) the port named by ``uri``.

    ``options`` are the printer's settings from the board profile and config file
    (baud rate, emulator speed ...); each driver reads the keys it knows.
    """
    return driver_for(uri)(uri, options or {})


def schemes() -> list[str]:
    return sorted(set(_DRIVERS) | set(_BUILTIN))
