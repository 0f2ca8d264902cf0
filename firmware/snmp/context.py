"""What the MIB modules read: the System (printers, config) and the agent's own facts.

Nothing here copies printer state; it only numbers printers (one hrDeviceIndex per
printer, RFC 2790 §6 and RFC 3805 §2.2.1) and converts times to sysUpTime ticks.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from firmware.snmp import mib
from firmware.snmp.settings import SnmpSettings

if TYPE_CHECKING:
    from firmware.printer import Printer
    from firmware.system import System


@dataclass(slots=True)
class AgentContext:
    system: System
    settings: SnmpSettings
    #: The pysnmp engine, once the agent has one (SNMP counters, engine ID, boots).
    engine: Any = None
    #: prtGeneralConfigChanges per printer name: config-changed events seen since start.
    config_changes: dict[str, int] = field(default_factory=dict)
    #: Completed impressions per printer when the agent started (prtMarkerPowerOnCount).
    impressions_at_start: dict[str, int] = field(default_factory=dict)
    _routes: dict[str, str] = field(default_factory=dict)
    _indexes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for _, printer in self.printers():
            self.impressions_at_start[printer.name] = printer.counters.impressions

    # -- indexes
    def printers(self) -> Iterator[tuple[int, Printer]]:
        """(hrDeviceIndex, printer) by index.  Printers get 1, 2 ... in configuration
        order; one that appears later (hotplug) gets the next number, and a printer keeps
        its number while the agent runs even when others go (RFC 2790 §6: indexes stay
        stable at least until the agent re-initializes)."""
        for name in self.system.printers:
            if name not in self._indexes:
                self._indexes[name] = len(self._indexes) + 1
        present = [(self._indexes[n], p) for n, p in self.system.printers.items()]
        return iter(sorted(present, key=lambda item: item[0]))

    def printer(self, device: int) -> Printer:
        """The printer with hrDeviceIndex ``device``; LookupError if it is gone."""
        for name, index in self._indexes.items():
            if index == device:
                return self.system.printers[name]
        raise LookupError(device)

    # -- time
    def uptime(self, when: float | None = None) -> int:
        """sysUpTime in hundredths of a second (RFC 3418) for ``when`` (default now): the
        daemon's start is the agent's (re-)initialization."""
        now = time.time() if when is None else when
        return max(0, int((now - self.system.start_time) * 100))

    # -- addresses
    def local_address_for(self, peer: str | None) -> str:
        """The address a client reaches us at: the listen address if it is specific,
        otherwise the source address the kernel routes replies to ``peer`` from."""
        listen = self.system.config.listen
        if listen not in ("", "0.0.0.0", "::"):
            return listen
        if peer is None:
            return socket.gethostname()
        if peer not in self._routes:
            if len(self._routes) > 256:
                self._routes.clear()
            family = socket.AF_INET6 if ":" in peer else socket.AF_INET
            try:
                with socket.socket(family, socket.SOCK_DGRAM) as probe:
                    probe.connect((peer, 9))  # no packet is sent: a route look-up
                    self._routes[peer] = str(probe.getsockname()[0])
            except OSError:
                return socket.gethostname()
        return self._routes[peer]

    def request_host(self) -> str:
        """Our address as the client of the request being answered reaches it, ready for
        a URI (IPv6 in brackets)."""
        peer = mib.request_peer()
        host = self.local_address_for(peer[0] if peer else None)
        return f"[{host}]" if ":" in host else host

    def printer_uri(self, printer: Printer) -> str:
        """The printer's IPP URI as the requesting client can use it."""
        path = self.system.printer_path(printer)
        return f"ipp://{self.request_host()}:{self.system.config.ipp_port}{path}"
