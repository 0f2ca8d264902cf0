"""The network subsystem as the daemon sees it: start after HTTP, stop before it.

Order at start: watch the addresses, get one (dhcpcd or ``ip`` as configured; nothing in
``watch`` mode), then advertise — the advertiser waits for a usable address by itself and
follows every change.  At stop: goodbyes first (while the address still works), then
dhcpcd (``persistent``: the address stays for the next start).

Admin socket commands (``firmware.admin``): ``dhcp-event`` from our dhcpcd hook, and
``net-status`` (addresses, lease, DNS-SD names) for ``printbridge`` and the tests.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from firmware.net.addresses import AddressWatcher
from firmware.net.dhcp import DhcpClient, apply_static
from firmware.net.dnssd import Advertiser
from firmware.net.names import NameStore, host_label
from firmware.net.settings import NetworkSettings, parse_settings

if TYPE_CHECKING:
    from firmware.admin import AdminServer
    from firmware.system import System

log = logging.getLogger(__name__)


class Network:
    def __init__(self, system: System, settings: NetworkSettings) -> None:
        self.system = system
        self.settings = settings
        self.work_dir = system.config.state_dir / "net"
        self.watcher = AddressWatcher(settings.interfaces, settings.poll_interval)
        self.store = NameStore(self.work_dir / "names.json")
        self.advertiser = (Advertiser(system, settings, self.watcher, self.store)
                           if settings.dnssd else None)
        hostname = self.advertiser.hostname if self.advertiser else host_label(
            settings.hostname or "printbridge")
        self.dhcp = (DhcpClient(settings, hostname, self.work_dir, system.config.socket_path)
                     if settings.mode == "dhcp" else None)

    async def start(self) -> None:
        await self.watcher.start()
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


async def start_network(system: System, admin: AdminServer | None = None) -> Network:
    """Build the network subsystem from ``config.network`` and start it."""
    network = Network(system, parse_settings(system.config.network))
    if admin is not None:
        admin.handlers["dhcp-event"] = network.dhcp_event
        admin.handlers["net-status"] = network.net_status
    await network.start()
    return network
