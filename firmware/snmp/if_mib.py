"""IF-MIB (RFC 2863): ifNumber, ifTable and ifXTable for the host's real interfaces.

Interfaces and their counters come from the kernel of the network namespace the daemon
runs in: names and indexes from ``if_nameindex(3)``, counters from ``/proc/net/dev``,
the rest from ``/sys/class/net``.  A reading is reused for at most :data:`FRESH` seconds
so one walk does not reread the files for every cell.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from firmware.snmp import mib
from firmware.snmp.mib import MIB_2, Column, Entry, scalar, table

INTERFACES: mib.OID = (*MIB_2, 2)
IF_ENTRY: mib.OID = (*INTERFACES, 2, 1)
IFX_ENTRY: mib.OID = (*MIB_2, 31, 1, 1, 1)

#: Seconds an interface reading stays current.
FRESH = 1.0

SYS_NET = Path("/sys/class/net")
PROC_NET_DEV = Path("/proc/net/dev")

# IANAifType (IANAifType-MIB) by ARPHRD_* link type.
IF_TYPE_OTHER = 1
IF_TYPE_ETHERNET = 6
IF_TYPE_PPP = 23
IF_TYPE_LOOPBACK = 24
IF_TYPE_TUNNEL = 131
IF_TYPE_WIFI = 71
ARPHRD_IF_TYPE = {1: IF_TYPE_ETHERNET, 512: IF_TYPE_PPP, 772: IF_TYPE_LOOPBACK,
                  768: IF_TYPE_TUNNEL, 776: IF_TYPE_TUNNEL, 778: IF_TYPE_TUNNEL,
                  65534: IF_TYPE_TUNNEL}

# ifOperStatus (RFC 2863 §3.1.12) by /sys/class/net/*/operstate.
OPER_STATUS = {"up": 1, "down": 2, "testing": 3, "unknown": 4, "dormant": 5,
               "notpresent": 6, "lowerlayerdown": 7}

IFF_UP = 0x1
IFF_PROMISC = 0x100


@dataclass(slots=True)
class Interface:
    index: int
    name: str
    if_type: int = IF_TYPE_OTHER
    mtu: int = 0
    mac: bytes = b""
    flags: int = 0
    oper: int = 4
    speed_mbps: int = 0
    alias: str = ""
    connector: bool = False
    carrier: bool = False
    #: /proc/net/dev columns: rx bytes packets errs drop fifo frame compressed multicast,
    #: then tx bytes packets errs drop fifo colls carrier compressed.
    stats: list[int] = field(default_factory=lambda: [0] * 16)

    @property
    def admin_status(self) -> int:
        return 1 if self.flags & IFF_UP else 2

    @property
    def oper_status(self) -> int:
        # Loopback and tunnels report "unknown" while perfectly up (RFC 2863 §3.1.13).
        if self.oper == 4 and self.flags & IFF_UP and self.carrier:
            return 1
        return self.oper


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text().strip()
    except OSError:  # EINVAL for speed on virtual links, ENOENT elsewhere
        return default


def _int(text: str, default: int = 0, base: int = 10) -> int:
    try:
        return int(text, base)
    except ValueError:
        return default


def read_interfaces() -> dict[int, Interface]:
    """One reading of every interface, by ifIndex (the kernel's interface index)."""
    counters: dict[str, list[int]] = {}
    try:
        for line in PROC_NET_DEV.read_text().splitlines()[2:]:
            name, _, numbers = line.partition(":")
            counters[name.strip()] = [_int(n) for n in numbers.split()][:16]
    except OSError:
        pass
    found: dict[int, Interface] = {}
    for index, name in socket.if_nameindex():
        base = SYS_NET / name
        arphrd = _int(_read(base / "type"), 0)
        if_type = ARPHRD_IF_TYPE.get(arphrd, IF_TYPE_OTHER)
        if if_type == IF_TYPE_ETHERNET and ((base / "wireless").exists()
                                            or (base / "phy80211").exists()):
            if_type = IF_TYPE_WIFI
        mac = bytes.fromhex(_read(base / "address").replace(":", "")) if arphrd != 772 else b""
        if not any(mac):
            mac = b""
        found[index] = Interface(
            index=index,
            name=name,
            if_type=if_type,
            mtu=_int(_read(base / "mtu")),
            mac=mac,
            flags=_int(_read(base / "flags", "0"), 0, 16),
            oper=OPER_STATUS.get(_read(base / "operstate", "unknown"), 4),
            speed_mbps=max(0, _int(_read(base / "speed"), 0)),
            alias=_read(base / "ifalias"),
            connector=(base / "device").exists(),
            carrier=_read(base / "carrier") == "1",
            stats=(counters.get(name, []) + [0] * 16)[:16],
        )
    return found


class IfMib:
    def __init__(self) -> None:
        self._reading: dict[int, Interface] = {}
        self._read_at = float("-inf")

    def interfaces(self) -> dict[int, Interface]:
        now = time.monotonic()
        if now - self._read_at > FRESH:
            self._reading = read_interfaces()
            self._read_at = now
        return self._reading

    def interface(self, index: int) -> Interface:
        return self.interfaces()[index]

    def layout(self) -> Hashable:
        return tuple(self.interfaces())

    def entries(self) -> Iterator[Entry]:
        yield scalar((*INTERFACES, 1), lambda: mib.integer(len(self.interfaces())))
        rows = [((index,), index) for index in sorted(self.interfaces())]
        yield from table(IF_ENTRY, self._if_columns(), rows)
        yield from table(IFX_ENTRY, self._ifx_columns(), rows)

    def _if_columns(self) -> list[Column[int]]:
        i = self.interface

        def counter(sub: int, name: str, stat: int) -> Column[int]:
            return Column(sub, name, lambda x: mib.counter(i(x).stats[stat]))

        return [
            Column(1, "ifIndex", lambda x: mib.integer(i(x).index)),
            Column(2, "ifDescr", lambda x: mib.octets(i(x).name)),
            Column(3, "ifType", lambda x: mib.integer(i(x).if_type)),
            Column(4, "ifMtu", lambda x: mib.integer(i(x).mtu)),
            Column(5, "ifSpeed", lambda x: mib.gauge(i(x).speed_mbps * 1_000_000)),
            Column(6, "ifPhysAddress", lambda x: mib.octets(i(x).mac)),
            Column(7, "ifAdminStatus", lambda x: mib.integer(i(x).admin_status)),
            Column(8, "ifOperStatus", lambda x: mib.integer(i(x).oper_status)),
            Column(9, "ifLastChange", lambda x: mib.ticks(0)),
            counter(10, "ifInOctets", 0),
            Column(11, "ifInUcastPkts",
                   lambda x: mib.counter(max(0, i(x).stats[1] - i(x).stats[7]))),
            counter(13, "ifInDiscards", 3),
            counter(14, "ifInErrors", 2),
            counter(16, "ifOutOctets", 8),
            counter(17, "ifOutUcastPkts", 9),
            counter(19, "ifOutDiscards", 11),
            counter(20, "ifOutErrors", 10),
        ]

    def _ifx_columns(self) -> list[Column[int]]:
        i = self.interface
        return [
            Column(1, "ifName", lambda x: mib.octets(i(x).name)),
            Column(2, "ifInMulticastPkts", lambda x: mib.counter(i(x).stats[7])),
            Column(6, "ifHCInOctets", lambda x: mib.counter64(i(x).stats[0])),
            Column(7, "ifHCInUcastPkts",
                   lambda x: mib.counter64(max(0, i(x).stats[1] - i(x).stats[7]))),
            Column(8, "ifHCInMulticastPkts", lambda x: mib.counter64(i(x).stats[7])),
            Column(10, "ifHCOutOctets", lambda x: mib.counter64(i(x).stats[8])),
            Column(11, "ifHCOutUcastPkts", lambda x: mib.counter64(i(x).stats[9])),
            Column(15, "ifHighSpeed", lambda x: mib.gauge(i(x).speed_mbps)),
            Column(16, "ifPromiscuousMode", lambda x: mib.truth(bool(i(x).flags & IFF_PROMISC))),
            Column(17, "ifConnectorPresent", lambda x: mib.truth(i(x).connector)),
            Column(18, "ifAlias", lambda x: mib.octets(i(x).alias, 64)),
            Column(19, "ifCounterDiscontinuityTime", lambda x: mib.ticks(0)),
        ]
