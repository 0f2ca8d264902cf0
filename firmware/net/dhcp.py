"""Getting an address: dhcpcd as our child (``dhcp``), or ``ip`` once (``static``).

DHCP (RFC 2131) with the IPv4 link-local fallback of RFC 3927 is the OS's job: we run
``dhcpcd -f OURCONF -c OURHOOK -4 -B IFACE...`` in the foreground as a child process.
``-c`` replaces dhcpcd-run-hooks with our hook, so none of the distribution's hooks runs:
resolv.conf, the host name, NTP and the rest of the machine are never touched.  The hook
is a few lines of stdlib Python that forwards dhcpcd's ``reason`` and lease variables to
the daemon over the admin socket (command ``dhcp-event``); the daemon logs the lease and
polls the addresses at once.  dhcpcd itself still writes its lease file
(``/var/lib/dhcpcd/IFACE.lease``) and applies the address and routes: that is its job.

The child gets ``PR_SET_PDEATHSIG``: if the daemon dies without stopping it, the kernel
ends dhcpcd too (``persistent`` keeps the address, so a restart does not drop clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.net.settings import NetworkSettings

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1

#: dhcpcd's hook variables we forward (dhcpcd-run-hooks(8)).
HOOK_KEYS = ("reason", "interface", "protocol", "ifcarrier", "new_ip_address",
             "new_subnet_cidr", "new_routers", "new_domain_name_servers",
             "new_dhcp_lease_time", "new_dhcp_server_identifier", "old_ip_address")

HOOK_TEMPLATE = '''#!{python} -IS
"""dhcpcd hook written by printbridge: reports lease changes to the daemon.

It replaces dhcpcd-run-hooks: it never writes resolv.conf nor sets the host name.
"""
import json, os, socket
event = {{k: os.environ[k] for k in {keys!r} if k in os.environ}}
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect({socket_path!r})
        sock.sendall(json.dumps({{"command": "dhcp-event", "event": event}}).encode() + b"\\n")
        sock.recv(4096)
except OSError:
    pass  # the daemon is not listening (starting or stopping): the poll will notice
'''

CONF_TEMPLATE = """\
# Written by printbridge for {interfaces}: DHCP (RFC 2131) with IPv4 link-local
# fallback (RFC 3927).  The hook given with -c replaces dhcpcd-run-hooks: resolv.conf
# and the host name are never touched.
clientid
persistent
noipv6rs
ipv4only
option subnet_mask, routers, broadcast_address, domain_name_servers
require dhcp_server_identifier
hostname {hostname}
{extra}"""


#: Hook reasons after which the interface has no DHCP address any more.
LOST = frozenset({"EXPIRE", "NAK", "RELEASE", "STOP", "STOPPED", "NOCARRIER", "DEPARTED",
                  "FAIL"})


@dataclass(slots=True)
class Lease:
    """What dhcpcd last reported for an interface."""

    interface: str
    reason: str
    address: str = ""
    prefix: int = 0
    routers: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    lease_time: int = 0
    server: str = ""
    time: float = field(default_factory=time.time)

    @classmethod
    def from_event(cls, event: dict[str, str]) -> Lease:
        def num(key: str) -> int:
            try:
                return int(event.get(key, "0"))
            except ValueError:
                return 0

        return cls(
            interface=event.get("interface", ""),
            reason=event.get("reason", ""),
            address=event.get("new_ip_address", ""),
            prefix=num("new_subnet_cidr"),
            routers=event.get("new_routers", "").split(),
            dns=event.get("new_domain_name_servers", "").split(),
            lease_time=num("new_dhcp_lease_time"),
            server=event.get("new_dhcp_server_identifier", ""),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"interface": self.interface, "reason": self.reason, "address": self.address,
                "prefix": self.prefix, "routers": self.routers, "dns": self.dns,
                "lease_time": self.lease_time, "server": self.server}


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the daemon goes (Linux prctl(2))."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class DhcpClient:
    """dhcpcd on the configured interfaces, reporting through our hook."""

    def __init__(self, settings: NetworkSettings, hostname: str, work_dir: Path,
                 socket_path: Path) -> None:
        self.settings = settings
        self.hostname = hostname
        self.work_dir = work_dir
        self.socket_path = socket_path
        self.conf_path = work_dir / "dhcpcd.conf"
        self.hook_path = work_dir / "dhcpcd-hook"
        self.leases: dict[str, Lease] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    def write_files(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        extra = []
        if self.settings.dhcp_nodelay:
            extra.append("nodelay")
        if not self.settings.ipv4ll:
            extra.append("noipv4ll")
        self.conf_path.write_text(CONF_TEMPLATE.format(
            interfaces=", ".join(self.settings.interfaces), hostname=self.hostname,
            extra="".join(f"{line}\n" for line in extra)))
        self.hook_path.write_text(HOOK_TEMPLATE.format(
            python=sys.executable, keys=HOOK_KEYS, socket_path=str(self.socket_path)))
        os.chmod(self.hook_path, 0o700)

    @property
    def command(self) -> list[str]:
        return [self.settings.dhcpcd, "-f", str(self.conf_path), "-c", str(self.hook_path),
                "-4", "-B", *self.settings.interfaces]

    async def start(self) -> None:
        self.write_files()
        log.info("dhcp: starting %s", " ".join(self.command))
        self.proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent)
        self._reader = asyncio.create_task(self._log_output(self.proc), name="dhcpcd-output")

    @staticmethod
    async def _log_output(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            log.info("dhcpcd: %s", line.decode(errors="replace").rstrip())
        code = await proc.wait()
        if code not in (0, -signal.SIGTERM):
            log.warning("dhcp: dhcpcd exited with status %d", code)

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.terminate()  # by PID: our child only
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._reader, 2)
            self._reader = None

    def handle_event(self, event: dict[str, str]) -> Lease:
        """A hook call: remember and log what dhcpcd did.  ``leases`` keeps, per
        interface, the address dhcpcd last configured (a lease or a link-local one)."""
        lease = Lease.from_event(event)
        current = self.leases.get(lease.interface)
        if lease.address:
            self.leases[lease.interface] = lease
            kind = "link-local" if lease.reason == "IPV4LL" else "lease"
            log.info("dhcp: %s on %s: %s %s/%d%s", lease.reason, lease.interface, kind,
                     lease.address, lease.prefix,
                     f" from {lease.server} for {lease.lease_time} s" if lease.server else "")
        elif lease.reason == "IPV4LL":  # without an address: the link-local one is gone
            if current is not None and current.reason == "IPV4LL":
                del self.leases[lease.interface]
            log.info("dhcp: link-local address dropped on %s", lease.interface)
        else:
            if current is not None and lease.reason in LOST:
                del self.leases[lease.interface]
            log.info("dhcp: %s on %s", lease.reason, lease.interface)
        return lease


async def _ip(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {out.decode(errors='replace').strip()}")


async def apply_static(settings: NetworkSettings) -> None:
    """``static`` mode: bring the interface up with the configured address and gateway;
    write ``dns`` to ``resolv_conf`` only when servers are configured."""
    iface = settings.interfaces[0]
    address = ipaddress.IPv4Interface(settings.address)
    await _ip("link", "set", "dev", iface, "up")
    await _ip("address", "replace", str(address), "dev", iface)
    if settings.gateway:
        await _ip("route", "replace", "default", "via", settings.gateway, "dev", iface)
    log.info("network: static %s on %s%s", address, iface,
             f" via {settings.gateway}" if settings.gateway else "")
    if settings.dns:
        text = "# Written by printbridge (static network configuration)\n" + "".join(
            f"nameserver {server}\n" for server in settings.dns)
        # In place, not by rename: resolv.conf may be a bind mount (containers, netns).
        settings.resolv_conf.write_text(text)
        log.info("network: DNS servers %s in %s", ", ".join(settings.dns), settings.resolv_conf)
