"""Port drivers found by URI scheme, so a new kind of port is one new file."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from hal.port import Port

_DRIVERS: dict[str, type[Port]] = {}

@dataclass(frozen=True, slots=True)
class PortKind:
    """A built-in kind of port: the module that serves its URI scheme, imported lazily
    so a board without pyusb still starts, and whether it can find printers itself."""

    module: str
    discoverable: bool = False


#: Every built-in kind of port, by URI scheme: the one list (discovery derives its own).
PORT_KINDS: dict[str, PortKind] = {
    "emulated": PortKind("hal.emulated"),
    "file": PortKind("hal.file"),
    "usb": PortKind("hal.usb", discoverable=True),
    "usblp": PortKind("hal.usblp", discoverable=True),
    "parallel": PortKind("hal.parallel", discoverable=True),
    "serial": PortKind("hal.serial"),
}
#: The kinds that can enumerate the printers attached (``hal.discovery``), by scheme.
DISCOVERABLE: dict[str, str] = {
    scheme: kind.module for scheme, kind in PORT_KINDS.items() if kind.discoverable}


def register(cls: type[Port]) -> type[Port]:
    """Class decorator: make ``cls`` serve URIs of ``cls.scheme``."""
    _DRIVERS[cls.scheme] = cls
    return cls


def scheme_of(uri: str) -> str:
    return urlsplit(uri).scheme or uri.rstrip(":")


def driver_for(uri: str) -> type[Port]:
    scheme = scheme_of(uri)
    if scheme not in _DRIVERS and scheme in PORT_KINDS:
        importlib.import_module(PORT_KINDS[scheme].module)
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
    return sorted(set(_DRIVERS) | set(PORT_KINDS))
