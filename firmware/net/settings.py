"""The ``[network]`` settings, from the board profile and then ``printbridge.conf``.

Board profiles are TOML (real lists and booleans); the INI file gives strings (``eth0,
wlan0``, ``yes``).  Both end up in ``Config.network``; :func:`parse_settings` turns that
dict into typed settings.  A bad value stops the daemon (rather than silently leaving the
printer off the network); an unknown key is only logged, since other subsystems (the
board's Wi-Fi set-up) keep their settings in ``[network]`` too.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.config import yes_no

log = logging.getLogger(__name__)

MODES = ("dhcp", "static", "watch")
#: [network] keys other subsystems own (the board's Wi-Fi set-up).
OTHERS = frozenset({"wifi"})



@dataclass(slots=True)
class NetworkSettings:
    #: ``dhcp``: run dhcpcd (DHCP with RFC 3927 link-local fallback) on the interfaces;
    #: ``static``: set ``address``/``gateway`` with ``ip``; ``watch``: configure nothing,
    #: only watch the addresses someone else (the OS, the emulator's host) manages.
    mode: str = "dhcp"
    #: The interfaces to use, and the only ones DNS-SD talks on.  Empty in ``watch``
    #: mode: every interface but loopback.
    interfaces: list[str] = field(default_factory=list)
    #: The mDNS host name (a single label; ``.local`` is added).  Empty: the OS host
    #: name.  The OS host name itself is never changed.
    hostname: str = ""
    #: static mode: ``198.51.100.20/24``, the default gateway and DNS servers.
    address: str = ""
    gateway: str = ""
    dns: list[str] = field(default_factory=list)
    #: Where static mode writes ``dns`` (only when ``dns`` is set).
    resolv_conf: Path = Path("/etc/resolv.conf")
    #: Advertise the printers with DNS-SD (mDNS) on the interfaces.
    dnssd: bool = True
    #: dhcp mode: fall back to an RFC 3927 169.254/16 address when no server answers.
    ipv4ll: bool = True
    #: dhcp mode: skip dhcpcd's random 0-10 s initial delay (RFC 2131 §4.4.1 asks for
    #: one to desynchronise a power-up of many clients; a test link has one client).
    dhcp_nodelay: bool = False
    #: The dhcpcd binary.
    dhcpcd: str = "dhcpcd"
    #: Seconds between address polls (dhcpcd's hook also triggers a poll at once).
    poll_interval: float = 1.0


def _list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace(" ", ",").split(",") if v.strip()]


def parse_settings(raw: dict[str, Any]) -> NetworkSettings:
    """Typed settings from ``Config.network``; ``ValueError`` on a bad value (unknown
    keys are logged and skipped: other subsystems keep settings in [network] too)."""
    s = NetworkSettings()
    for key, value in raw.items():
        if key == "mode":
            s.mode = str(value).strip().lower()
            if s.mode not in MODES:
                raise ValueError(f"[network] mode = {value!r}: expected one of {', '.join(MODES)}")
        elif key in ("interfaces", "interface"):
            s.interfaces = _list(value)
        elif key in ("hostname", "address", "gateway", "dhcpcd"):
            setattr(s, key, str(value).strip())
        elif key == "dns":
            s.dns = _list(value)
        elif key == "resolv_conf":
            s.resolv_conf = Path(str(value))
        elif key in ("dnssd", "ipv4ll", "dhcp_nodelay"):
            setattr(s, key, yes_no("network", key, value))
        elif key == "poll_interval":
            s.poll_interval = float(value)
            if not 0.05 <= s.poll_interval <= 60:
                raise ValueError(f"[network] poll_interval = {value!r}: 0.05 to 60 seconds")
        elif key not in OTHERS:
            log.warning("network: ignoring unknown setting [network] %s", key)
    if s.mode in ("dhcp", "static") and not s.interfaces:
        raise ValueError(f"[network] mode = {s.mode} needs interfaces = IFACE")
    if s.mode == "static":
        if len(s.interfaces) != 1:
            raise ValueError("[network] mode = static takes exactly one interface")
        try:
            if "/" not in s.address:
                raise ValueError("no prefix length")
            ipaddress.IPv4Interface(s.address)
        except ValueError as exc:
            raise ValueError(f"[network] address = {s.address!r}: expected e.g. "
                             "198.51.100.20/24") from exc
        for addr in ([s.gateway] if s.gateway else []) + s.dns:
            ipaddress.ip_address(addr)
    return s
