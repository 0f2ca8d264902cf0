"""The usable addresses of the configured interfaces, and their changes.

netifaces (the maintained ``netifaces-plus`` fork) only polls, so :class:`AddressWatcher`
reads the addresses every ``interval`` seconds and at once when poked (dhcpcd's hook pokes
it when a lease arrives).  A poll costs a few microseconds per interface.

What counts as usable:

* IPv4: every address but 0.0.0.0, and loopback only on a loopback interface.  RFC 3927
  §1.9: a host SHOULD NOT use an IPv4 link-local address (169.254/16) on an interface that
  also has a routable one, so while both are configured (dhcpcd drops the link-local one
  shortly after a lease arrives) only the routable address is reported.
* IPv6: link-local addresses (fe80::/10, RFC 4291 §2.5.6), without their ``%scope``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import netifaces

from firmware.aio import wait_event

log = logging.getLogger(__name__)

LINK_LOCAL_V4 = ipaddress.IPv4Network("169.254.0.0/16")


@dataclass(frozen=True, slots=True)
class InterfaceAddresses:
    """One interface's usable addresses."""

    name: str
    ipv4: tuple[str, ...] = ()
    ipv6_link_local: tuple[str, ...] = ()

    @property
    def link_local_only(self) -> bool:
        """Only RFC 3927 addresses (the DHCP server has not answered yet)."""
        return bool(self.ipv4) and all(is_link_local_v4(a) for a in self.ipv4)


#: Every configured interface's addresses, in configuration order.
Snapshot = tuple[InterfaceAddresses, ...]


def is_link_local_v4(address: str) -> bool:
    return ipaddress.IPv4Address(address) in LINK_LOCAL_V4


def usable_ipv4(interface: str, addresses: Sequence[str]) -> tuple[str, ...]:
    """Filter one interface's IPv4 addresses as described in the module docstring."""
    loopback = interface == "lo"
    out = []
    for text in addresses:
        try:
            addr = ipaddress.IPv4Address(text)
        except ValueError:
            continue
        if addr.is_unspecified or (addr.is_loopback and not loopback):
            continue
        out.append(str(addr))
    routable = [a for a in out if not is_link_local_v4(a)]
    return tuple(routable or out)


def read_interface(name: str) -> InterfaceAddresses:
    """The usable addresses of one interface (none if it does not exist)."""
    try:
        info = netifaces.ifaddresses(name)
    except ValueError:  # no such interface (yet)
        return InterfaceAddresses(name)
    ipv4 = usable_ipv4(name, [a.get("addr", "") for a in info.get(netifaces.AF_INET, [])])
    ipv6 = []
    for entry in info.get(netifaces.AF_INET6, []):
        text = entry.get("addr", "").split("%", 1)[0]
        try:
            if ipaddress.IPv6Address(text).is_link_local:
                ipv6.append(text)
        except ValueError:
            continue
    return InterfaceAddresses(name, ipv4, tuple(ipv6))


def read_snapshot(interfaces: Sequence[str]) -> Snapshot:
    """The addresses of ``interfaces``; empty: every interface except loopback."""
    names = list(interfaces) or [i for i in netifaces.interfaces() if i != "lo"]
    return tuple(read_interface(name) for name in names)


def describe(snapshot: Snapshot) -> str:
    parts = []
    for iface in snapshot:
        addrs = [*iface.ipv4, *iface.ipv6_link_local]
        parts.append(f"{iface.name}: {', '.join(addrs) or 'no address'}")
    return "; ".join(parts) or "no interface"


Listener = Callable[[Snapshot], None]


class AddressWatcher:
    """Polls the interfaces and tells listeners when their usable addresses change."""

    def __init__(self, interfaces: Sequence[str], interval: float = 1.0) -> None:
        self.interfaces = list(interfaces)
        self.interval = interval
        self.snapshot: Snapshot = read_snapshot(self.interfaces)
        self._listeners: list[Listener] = []
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def ipv4(self) -> list[str]:
        return [a for iface in self.snapshot for a in iface.ipv4]

    @property
    def ipv6_link_local(self) -> list[str]:
        return [a for iface in self.snapshot for a in iface.ipv6_link_local]

    async def start(self) -> None:
        log.info("network: watching %s", describe(self.snapshot))
        self._task = asyncio.create_task(self._run(), name="address-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def poke(self) -> None:
        """Poll now (an address is known to have changed)."""
        self._poke.set()

    def poll(self) -> bool:
        """Read the addresses once; True (and listeners told) if they changed."""
        current = read_snapshot(self.interfaces)
        if current == self.snapshot:
            return False
        log.info("network: addresses changed: %s (was %s)", describe(current),
                 describe(self.snapshot))
        self.snapshot = current
        for listener in list(self._listeners):
            try:
                listener(current)
            except Exception:
                log.exception("address listener failed")
        return True

    async def _run(self) -> None:
        while True:
            await wait_event(self._poke, self.interval)
            self._poke.clear()
            self.poll()
