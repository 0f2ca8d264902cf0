"""Finding attached printers across every kind of port, with stable names.

Each driver that can find printers by itself (``usb``, ``usblp``, ``parallel``) has a
``discover()`` returning :class:`Found` records; :func:`discover` merges them.  A record's
``key`` identifies the *printer*, not the socket it happens to be in, wherever the
hardware lets us:

* USB (pyusb or usblp): ``vid:pid`` plus the serial number (iSerialNumber, else the
  device ID's SN); a printer without one is keyed by its port path (``1-1.4``: bus 1,
  hub port 1, port 4), which stays the same as long as it is plugged into the same socket.
* parallel: the port path (``/dev/lp0``), which is a fixed connector on the board.

The key decides the queue's name and URI, so a printer keeps both across replugs and
reboots.  Serial printers cannot be found (nothing on an RS-232 line identifies a
printer); they are configured by hand.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from hal.ieee1284 import DeviceId
from hal.port import PortStatus
from hal.registry import DISCOVERABLE

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class Found:
    """One attached printer as a driver sees it.

    ``identified`` is False when the driver did not talk to the printer (it is in use by
    one of our own queues, or busy elsewhere): then only ``key``, ``kind`` and ``detail``
    are meaningful.
    """

    key: str
    kind: str
    uri: str = ""
    device_id: str = ""
    status: PortStatus | None = None
    status_byte: int | None = None
    quirks: frozenset[str] = frozenset()
    detail: str = ""
    identified: bool = True
    error: str = ""
    vendor: int | None = None
    product: int | None = None
    #: The serial number and port path the key was made from (USB), when known.
    serial: str = ""
    location: str = ""

    @property
    def ieee1284(self) -> DeviceId:
        return DeviceId.parse(self.device_id)

    @property
    def make_and_model(self) -> str:
        return self.ieee1284.make_and_model


@dataclass(frozen=True, slots=True)
class Selector:
    """Which printer a ``scheme://MAKE/MODEL?serial=...&location=...`` URI names.

    The URI shape is CUPS's (``usb://HP/LaserJet%201020?serial=ABC``).  ``serial`` or
    ``location`` pin one printer; with neither, the first printer of that make and model
    is taken.  An empty make and model (``usb:``) takes the first printer found.
    """

    scheme: str
    make: str = ""
    model: str = ""
    serial: str = ""
    location: str = ""
    interface: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_uri(cls, uri: str) -> Selector:
        parts = urlsplit(uri)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        interface = query.pop("interface", None)
        return cls(
            scheme=parts.scheme or uri.rstrip(":"),
            make=unquote(parts.netloc),
            model=unquote(parts.path.lstrip("/")),
            serial=query.pop("serial", ""),
            location=query.pop("location", ""),
            interface=int(interface) if interface not in (None, "") else None,
            extra=query,
        )

    def to_uri(self) -> str:
        query: dict[str, str] = {}
        if self.serial:
            query["serial"] = self.serial
        elif self.location:
            query["location"] = self.location
        if self.interface:
            query["interface"] = str(self.interface)
        query.update(self.extra)
        uri = f"{self.scheme}://{quote(self.make, safe='')}/{quote(self.model, safe='')}"
        return f"{uri}?{urlencode(query)}" if query else uri

    def matches(self, *, device_id: DeviceId | None, serial: str = "",
                location: str = "") -> bool:
        """True when a printer with these facts is the one the URI names.

        A serial number or port path in the URI is decisive; make and model are compared
        (case-insensitively, as CUPS does) only when the device ID is known.
        """
        if self.serial and self.serial != serial and (
            device_id is None or self.serial != device_id.serial
        ):
            return False
        if self.location and self.location != location:
            return False
        if device_id is not None and (self.make or self.model):
            make, model = device_id.manufacturer, device_id.model
            if self.make and self.make.lower() != make.lower():
                return False
            if self.model and self.model.lower() != model.lower():
                return False
        return True

    @property
    def needs_device_id(self) -> bool:
        """Whether matching must read the device ID (no serial or location to go by)."""
        return bool((self.make or self.model) and not (self.serial or self.location))


def discover(
    kinds: Iterable[str] = DISCOVERABLE,
    *,
    skip_keys: Collection[str] = (),
    options: dict[str, str] | None = None,
) -> list[Found]:
    """Every printer attached now, from the drivers of ``kinds``.

    ``skip_keys`` are printers a caller already drives: they are listed (so the caller
    sees they are still there) but not opened, because a second handle would disturb a
    job in progress.  A driver that fails (no libusb, no permission) is logged and
    skipped; the others still report.
    """
    found: list[Found] = []
    for kind in kinds:
        module_name = DISCOVERABLE.get(kind)
        if module_name is None:
            raise ValueError(f"cannot discover {kind!r} printers; known: {sorted(DISCOVERABLE)}")
        try:
            module = importlib.import_module(module_name)
            found.extend(module.discover(skip_keys=skip_keys, options=options or {}))
        except Exception as exc:  # one broken bus must not hide the others
            log.warning("discovery of %s printers failed: %s", kind, exc)
    return found
