"""HOST-RESOURCES-MIB (RFC 2790): hrSystem, hrMemorySize, and one hrDeviceTable and
hrPrinterTable row per printer.

A printer is hrDeviceIndex N in every table of this MIB and of the Printer MIB (RFC 3805
§2.2.1).  Its hrDeviceStatus, hrPrinterStatus and hrPrinterDetectedErrorState follow the
combinations of RFC 3805 §2.2.13.2, derived from the port conditions in the printer model
(``hal.port.PortCondition``) — never from IPP keywords.
"""

from __future__ import annotations

import datetime
import os
import struct
from collections.abc import Hashable, Iterator
from pathlib import Path

from firmware.printer import Printer, PrinterState
from firmware.snmp import mib
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import MIB_2, ZERO_DOT_ZERO, Column, Entry, scalar, table
from hal.port import PortCondition

HOST: mib.OID = (*MIB_2, 25)
HR_SYSTEM: mib.OID = (*HOST, 1)
HR_STORAGE: mib.OID = (*HOST, 2)
HR_DEVICE_TYPES: mib.OID = (*HOST, 3, 1)
HR_DEVICE_PRINTER: mib.OID = (*HR_DEVICE_TYPES, 5)
HR_DEVICE_ENTRY: mib.OID = (*HOST, 3, 2, 1)
HR_PRINTER_ENTRY: mib.OID = (*HOST, 3, 5, 1)

# hrDeviceStatus (RFC 2790 §6).
DEVICE_RUNNING, DEVICE_WARNING, DEVICE_DOWN = 2, 3, 5
# hrPrinterStatus (RFC 2790 §6).
PRINTER_OTHER, PRINTER_IDLE, PRINTER_PRINTING = 1, 3, 4

#: hrPrinterDetectedErrorState bit numbers (RFC 2790 §6, extended by RFC 3805 §2.2.13.4):
#: bit 0 is the most significant bit of the first octet.
ERROR_STATE_BITS: dict[str, int] = {
    "lowPaper": 0, "noPaper": 1, "lowToner": 2, "noToner": 3, "doorOpen": 4, "jammed": 5,
    "offline": 6, "serviceRequested": 7, "inputTrayMissing": 8, "outputTrayMissing": 9,
    "markerSupplyMissing": 10, "outputNearFull": 11, "outputFull": 12, "inputTrayEmpty": 13,
    "overduePreventMaint": 14,
}

#: Which bit each port condition sets (BUSY is flow control, not an error).
CONDITION_BITS: dict[PortCondition, str] = {
    PortCondition.PAPER_LOW: "lowPaper",
    PortCondition.PAPER_OUT: "noPaper",
    PortCondition.TONER_LOW: "lowToner",
    PortCondition.TONER_EMPTY: "noToner",
    PortCondition.COVER_OPEN: "doorOpen",
    PortCondition.JAM: "jammed",
    PortCondition.OFFLINE: "offline",
    PortCondition.UNPLUGGED: "offline",
    PortCondition.ERROR: "serviceRequested",
    PortCondition.OUTPUT_FULL: "outputFull",
}

#: Conditions that only warn: the printer keeps printing (RFC 3805 §2.2.13.2).
WARNING_CONDITIONS = frozenset({PortCondition.PAPER_LOW, PortCondition.TONER_LOW})


def detected_error_state(printer: Printer) -> bytes:
    """hrPrinterDetectedErrorState: two octets holding bits 0..15."""
    bits = 0
    for condition in printer.port_conditions:
        name = CONDITION_BITS.get(condition)
        if name is not None:
            bits |= 0x8000 >> ERROR_STATE_BITS[name]
    return struct.pack(">H", bits)


def device_status(printer: Printer) -> int:
    """hrDeviceStatus: down on a critical alert, warning on a non-critical one."""
    if printer.critical:
        return DEVICE_DOWN
    if printer.port_conditions & WARNING_CONDITIONS:
        return DEVICE_WARNING
    return DEVICE_RUNNING


def printer_status(printer: Printer) -> int:
    """hrPrinterStatus: other while stopped (critical alert, off-line, paused)."""
    state = printer.state
    if printer.critical or state == PrinterState.STOPPED:
        return PRINTER_OTHER
    return PRINTER_PRINTING if state == PrinterState.PROCESSING else PRINTER_IDLE


def date_and_time(now: datetime.datetime | None = None) -> bytes:
    """SNMPv2-TC DateAndTime, 11 octets with the UTC offset (RFC 2579)."""
    now = now or datetime.datetime.now().astimezone()
    offset = now.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = b"+" if minutes >= 0 else b"-"
    hours, mins = divmod(abs(minutes), 60)
    return struct.pack(">HBBBBBBcBB", now.year, now.month, now.day, now.hour, now.minute,
                       now.second, now.microsecond // 100_000, sign, hours, mins)


def _proc_uptime() -> int:
    """Hundredths of a second since the host booted."""
    return int(float(Path("/proc/uptime").read_text().split()[0]) * 100)


def _processes() -> int:
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


def _memory_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    raise LookupError("MemTotal")


class HostResourcesMib:
    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def layout(self) -> Hashable:
        return tuple(self.ctx.system.printers)

    def entries(self) -> Iterator[Entry]:
        yield scalar((*HR_SYSTEM, 1), lambda: mib.ticks(_proc_uptime()))
        yield scalar((*HR_SYSTEM, 2), lambda: mib.octets(date_and_time()))
        yield scalar((*HR_SYSTEM, 6), lambda: mib.gauge(_processes()))
        yield scalar((*HR_SYSTEM, 7), lambda: mib.integer(
            int(Path("/proc/sys/kernel/pid_max").read_text())))
        yield scalar((*HR_STORAGE, 2), lambda: mib.integer(_memory_kib()))
        rows = [((device,), device) for device, _ in self.ctx.printers()]
        yield from table(HR_DEVICE_ENTRY, self.device_columns(), rows)
        yield from table(HR_PRINTER_ENTRY, self.printer_columns(), rows)

    def device_columns(self) -> list[Column[int]]:
        p = self.ctx.printer
        return [
            Column(1, "hrDeviceIndex", lambda d: mib.integer(d)),
            Column(2, "hrDeviceType", lambda d: mib.oid(HR_DEVICE_PRINTER)),
            Column(3, "hrDeviceDescr", lambda d: mib.octets(p(d).identity.make_and_model, 64)),
            Column(4, "hrDeviceID", lambda d: mib.oid(ZERO_DOT_ZERO)),
            Column(5, "hrDeviceStatus", lambda d: mib.integer(device_status(p(d)))),
            Column(6, "hrDeviceErrors", lambda d: mib.counter(p(d).critical_alert_count)),
        ]

    def printer_columns(self) -> list[Column[int]]:
        p = self.ctx.printer
        return [
            Column(1, "hrPrinterStatus", lambda d: mib.integer(printer_status(p(d)))),
            Column(2, "hrPrinterDetectedErrorState",
                   lambda d: mib.octets(detected_error_state(p(d)))),
        ]
