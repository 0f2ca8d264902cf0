"""The network subsystem as the daemon sees it: start after HTTP, stop before it.

Order at start: watch the addresses, get one (dhcpcd or ``ip`` as configured; nothing in
``watch`` mode), then advertise — the advertiser waits for a usable address by itself and
follows every change.  At stop: goodbyes first (while the address still works), then
dhcpcd (``persistent``: the address stays for the next start).

Admin socket commands (``firmware.admin``): ``dhcp-event`` from our dhcpcd hook, and
``net-status`` (addresses, lease, DNS-SD names) for ``printbridge`` and the tests.

The TLS certificate follows the network (RFC 6125 §6.4: a client checks the name it
connected to): whenever the addresses change or DNS-SD claims a host name (at start, or
a new one after a conflict, RFC 6762 §9), :meth:`Network.refresh_tls` has it re-issued
for that ``.local`` name and every address the printer serves.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from firmware.net.addresses import AddressWatcher
from firmware.net.dhcp import DhcpClient, apply_static
from firmware.net.dnssd import Advertiser
from firmware.net.names import NameStore, host_label
from firmware.net.settings import NetworkSettings, parse_settings

if TYPE_CHECKING:
    from firmware.admin import AdminServer
    from firmware.system import System
    from firmware.tls import ServerTls

log = logging.getLogger(__name__)


WILDCARDS = ("", "0.0.0.0", "::")


def expected_hostname(system: System) -> str:
    """The host name label DNS-SD will try first: the configured one (or the OS host
    name), or the one it moved to after a conflict and kept (:class:`NameStore`)."""
    try:
        settings = parse_settings(system.config.network)
    except ValueError:
        settings = NetworkSettings(dnssd=False)  # the network start will say what is wrong
    base = host_label(settings.hostname or socket.gethostname())
    if not settings.dnssd:
        return base
    return NameStore(system.config.state_dir / "net" / "names.json").host(base)


class Network:
    def __init__(self, system: System, settings: NetworkSettings,
                 tls: ServerTls | None = None) -> None:
        self.system = system
        self.settings = settings
        self.tls = tls
        self.work_dir = system.config.state_dir / "net"
        self.watcher = AddressWatcher(settings.interfaces, settings.poll_interval)
        self.store = NameStore(self.work_dir / "names.json")
        self.advertiser = (Advertiser(system, settings, self.watcher, self.store)
                           if settings.dnssd else None)
        hostname = self.advertiser.hostname if self.advertiser else host_label(
            settings.hostname or "printbridge")
        self.dhcp = (DhcpClient(settings, hostname, self.work_dir, system.config.socket_path)
                     if settings.mode == "dhcp" else None)
        self.watcher.subscribe(lambda snapshot: self.refresh_tls())
        if self.advertiser is not None:
            self.advertiser.on_hostname = self.refresh_tls

    def served_addresses(self) -> list[str]:
        """The addresses the printer serves at: the listen address if it is one, else
        the usable IPv4 addresses of the interfaces, and their IPv6 link-local ones when
        the servers listen on IPv6 too (``::``)."""
        listen = self.system.config.listen
        if listen not in WILDCARDS:
            return [listen]
        v6 = self.watcher.ipv6_link_local if listen == "::" else []
        return [*self.watcher.ipv4, *v6]

    def refresh_tls(self) -> None:
        """Re-issue the TLS certificate if the host name or the addresses changed."""
        if self.tls is None:
            return
        hostname = (self.advertiser.hostname if self.advertiser
                    else expected_hostname(self.system))
        self.tls.update(hostname, self.served_addresses())

    async def start(self) -> None:
        await self.watcher.start()
        self.refresh_tls()
        if self.settings.mode == "static":
            try:
                await apply_static(self.settings)
            except (OSError, RuntimeError) as exc:
                log.error("network: static configuration failed: %s", exc)
            self.watcher.poke()
        if self.dhcp is not None:
            try:
                await self.dhcp.start()
            except OSError as exc:
                log.error("dhcp: could not start %s: %s", self.settings.dhcpcd, exc)
                self.dhcp.proc = None
        if self.advertiser is not None:
            await self.advertiser.start()
        else:
            log.info("dnssd: off ([network] dnssd = no)")

    async def stop(self) -> None:
        if self.advertiser is not None:
            await self.advertiser.stop()
        if self.dhcp is not None:
            await self.dhcp.stop()
        await self.watcher.stop()

    # -- admin socket commands
    async def dhcp_event(self, request: dict[str, Any]) -> dict[str, Any]:
        event = request.get("event")
        if not isinstance(event, dict) or self.dhcp is None:
            raise ValueError("dhcp-event: no DHCP client running")
        self.dhcp.handle_event({str(k): str(v) for k, v in event.items()})
        self.watcher.poke()
        return {"ok": True}

    async def net_status(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "network": self.status()}

    def status(self) -> dict[str, Any]:
        return {
            "mode": self.settings.mode,
            "interfaces": [
                {"name": i.name, "ipv4": list(i.ipv4), "ipv6_link_local": list(i.ipv6_link_local)}
                for i in self.watcher.snapshot
            ],
            "leases": ({name: lease.as_dict() for name, lease in self.dhcp.leases.items()}
                       if self.dhcp else {}),
            "dnssd": self.advertiser.status() if self.advertiser else {"state": "off"},
        }


async def start_network(system: System, admin: AdminServer | None = None,
                        tls: ServerTls | None = None) -> Network:
    """Build the network subsystem from ``config.network`` and start it; ``tls`` is the
    HTTP server's certificate manager, kept in line with the names and addresses."""
    network = Network(system, parse_settings(system.config.network), tls)
    if admin is not None:
        admin.handlers["dhcp-event"] = network.dhcp_event
        admin.handlers["net-status"] = network.net_status
    await network.start()
    return network
