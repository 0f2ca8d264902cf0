"""SNMPv2-MIB (RFC 3418): the system group and the snmp group, plus the snmpEngine group
of SNMP-FRAMEWORK-MIB (RFC 3411 §5) that SNMPv3 managers read.

The system group describes the print server as a whole; sysUpTime counts from the
daemon's start, the same origin as the printers' prtAlertTime and IPP printer-up-time.
The snmp group's counters are the ones the pysnmp engine keeps while it decodes
messages.
"""

from __future__ import annotations

import platform
import socket
from collections.abc import Hashable, Iterator
from functools import partial

from firmware.snmp import mib
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import MIB_2, Entry, scalar

SYSTEM: mib.OID = (*MIB_2, 1)
SNMP: mib.OID = (*MIB_2, 11)
SNMP_ENGINE: mib.OID = (1, 3, 6, 1, 6, 3, 10, 2, 1)

#: sysObjectID.  Printbridge has no Private Enterprise Number of its own; its management
#: subsystem is pysnmp, whose enterprise (20408) pysnmp agents and engine IDs carry.
SYS_OBJECT_ID: mib.OID = (1, 3, 6, 1, 4, 1, 20408)

#: sysServices (RFC 3418): end-to-end (layer 4) and applications (layer 7): 8 + 64.
SYS_SERVICES = 72

#: RFC 3418 snmpGroup counters that are current (the others are obsolete), by
#: sub-identifier, as pysnmp's ``__SNMPv2-MIB`` names them.
SNMP_COUNTERS: dict[int, str] = {
    1: "snmpInPkts",
    3: "snmpInBadVersions",
    4: "snmpInBadCommunityNames",
    5: "snmpInBadCommunityUses",
    6: "snmpInASNParseErrs",
    31: "snmpSilentDrops",
    32: "snmpProxyDrops",
}


class SnmpV2Mib:
    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def layout(self) -> Hashable:
        return ()

    def descr(self) -> str:
        uname = platform.uname()
        cfg = self.ctx.system.config
        return (f"Printbridge {self.ctx.system.version} network print server, board "
                f"{cfg.board}, {uname.system} {uname.release} {uname.machine}")

    def location(self) -> str:
        if self.ctx.settings.location:
            return self.ctx.settings.location
        return next((p.identity.location for p in self.ctx.system.printers.values()), "")

    def _engine_symbol(self, module: str, name: str) -> mib.Value | None:
        engine = self.ctx.engine
        if engine is None:
            return None
        (symbol,) = engine.get_mib_builder().import_symbols(module, name)
        return symbol.syntax

    def _counter(self, name: str) -> mib.Value | None:
        value = self._engine_symbol("__SNMPv2-MIB", name)
        return None if value is None else mib.counter(int(value))

    def entries(self) -> Iterator[Entry]:
        ctx = self.ctx
        yield scalar((*SYSTEM, 1), lambda: mib.octets(self.descr()))
        yield scalar((*SYSTEM, 2), lambda: mib.oid(SYS_OBJECT_ID))
        yield scalar((*SYSTEM, 3), lambda: mib.ticks(ctx.uptime()))
        yield scalar((*SYSTEM, 4), lambda: mib.octets(ctx.settings.contact))
        yield scalar((*SYSTEM, 5), lambda: mib.octets(socket.gethostname()))
        yield scalar((*SYSTEM, 6), lambda: mib.octets(self.location()))
        yield scalar((*SYSTEM, 7), lambda: mib.integer(SYS_SERVICES))
        for sub, name in SNMP_COUNTERS.items():
            yield scalar((*SNMP, sub), partial(self._counter, name))
        yield scalar((*SNMP, 30), lambda: mib.integer(2))  # snmpEnableAuthenTraps: disabled
        # SNMP-FRAMEWORK-MIB snmpEngine group (RFC 3411 §5).
        yield scalar((*SNMP_ENGINE, 1), lambda: self._engine_symbol(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineID"))
        yield scalar((*SNMP_ENGINE, 2), lambda: self._engine_symbol(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineBoots"))
        yield scalar((*SNMP_ENGINE, 3), self._engine_time)
        yield scalar((*SNMP_ENGINE, 4), lambda: self._engine_symbol(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineMaxMessageSize"))

    def _engine_time(self) -> mib.Value | None:
        value = self._engine_symbol("__SNMP-FRAMEWORK-MIB", "snmpEngineTime")
        return None if value is None else mib.integer(int(value.clone()))
