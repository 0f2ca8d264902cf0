"""PRINTER-PORT-MONITOR-MIB (IEEE-ISTO PWG 5107.1, enterprises.2699.1.2): how to reach each
printer — what CUPS's ``snmp`` backend and Windows' Standard TCP/IP port monitor read to
pick a device URI.

``ppmPrinterIEEE1284DeviceId.1`` and ``ppmPortServiceNameOrURI.1.1`` are the two objects
CUPS asks for; port 1 of every printer is its IPP URI, built with the address the asking
client reached the agent at.  ppmPrinterIndex is the printer's hrDeviceIndex.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

from firmware.printer import Printer
from firmware.snmp import iana_printer_mib as iana
from firmware.snmp import mib
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import Column, Entry, scalar, table

PPM: mib.OID = (1, 3, 6, 1, 4, 1, 2699, 1, 2, 1)
PPM_GENERAL: mib.OID = (*PPM, 1)
PPM_PRINTER_ENTRY: mib.OID = (*PPM, 2, 1, 1)
PPM_PORT_ENTRY: mib.OID = (*PPM, 3, 1, 1)

#: Device ID reported when the port has none (the IPP responder's fallback too).
FALLBACK_DEVICE_ID = "MFG:Printbridge;MDL:Printer;"


def device_id(printer: Printer) -> str:
    return printer.identity.device_id or FALLBACK_DEVICE_ID


@dataclass(slots=True, frozen=True)
class Port:
    """A ppmPortEntry: one protocol a printer is reachable by."""

    index: int
    name: str
    protocol: int  # PrtChannelTypeTC
    channel: int  # prtChannelIndex of the same protocol
    port: Callable[[AgentContext], int]
    uri: Callable[[AgentContext, Printer], str]
    #: Raw 9100 has no queue name: it feeds the default printer only.
    default_printer_only: bool = False


PORTS: tuple[Port, ...] = (
    Port(1, "IPP", iana.CH_IPP, 1, lambda ctx: ctx.system.config.ipp_port,
         lambda ctx, p: ctx.printer_uri(p)),
    Port(2, "LPD", iana.CH_LPD_SERVER, 2, lambda ctx: ctx.system.config.lpd_port,
         lambda ctx, p: f"lpd://{ctx.request_host()}:{ctx.system.config.lpd_port}/{p.name}"),
    Port(3, "Raw TCP", iana.CH_PORT_TCP, 3, lambda ctx: ctx.system.config.raw_port,
         lambda ctx, p: f"socket://{ctx.request_host()}:{ctx.system.config.raw_port}",
         default_printer_only=True),
)


def ports(ctx: AgentContext, printer: Printer) -> list[Port]:
    """The ports the daemon serves ``printer`` on (a port number of 0 turns one off)."""
    default = ctx.system.default_printer
    return [port for port in PORTS if port.port(ctx)
            and (printer is default or not port.default_printer_only)]


class PortMonitorMib:
    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def layout(self) -> Hashable:
        return tuple(self.ctx.system.printers)  # ports follow the (fixed) configuration

    def entries(self) -> Iterator[Entry]:
        ctx = self.ctx
        p = ctx.printer
        printers = list(ctx.printers())
        served = {d: ports(ctx, printer) for d, printer in printers}
        yield scalar((*PPM_GENERAL, 1), lambda: mib.octets("en"))
        yield scalar((*PPM_GENERAL, 2), lambda: mib.gauge(len(ctx.system.printers)))
        yield scalar((*PPM_GENERAL, 3), lambda: mib.gauge(sum(map(len, served.values()))))
        printer_columns: list[Column[int]] = [
            Column(2, "ppmPrinterName", lambda d: mib.octets(p(d).name, 127)),
            Column(3, "ppmPrinterIEEE1284DeviceId", lambda d: mib.octets(device_id(p(d)), 1023)),
            Column(4, "ppmPrinterNumberOfPorts", lambda d: mib.gauge(len(served[d]))),
            Column(5, "ppmPrinterPreferredPortIndex", lambda d: mib.integer(1)),
            Column(6, "ppmPrinterHrDeviceIndex", lambda d: mib.integer(d)),
            # Empty: query with the community that read this (never disclose another one).
            Column(7, "ppmPrinterSnmpCommunityName", lambda d: mib.octets("")),
            Column(8, "ppmPrinterSnmpQueryEnabled", lambda d: mib.truth(True)),
        ]
        yield from table(PPM_PRINTER_ENTRY, printer_columns, [((d,), d) for d, _ in printers])
        port_columns: list[Column[tuple[int, Port]]] = [
            Column(2, "ppmPortEnabled", lambda r: mib.truth(p(r[0]).accepting)),
            Column(3, "ppmPortName", lambda r: mib.octets(r[1].name, 127)),
            Column(4, "ppmPortServiceNameOrURI", lambda r: mib.octets(r[1].uri(ctx, p(r[0])))),
            Column(5, "ppmPortProtocolType", lambda r: mib.integer(r[1].protocol)),
            Column(6, "ppmPortProtocolTargetPort", lambda r: mib.integer(r[1].port(ctx))),
            Column(7, "ppmPortProtocolAltSourceEnabled", lambda r: mib.truth(False)),
            Column(8, "ppmPortPrtChannelIndex", lambda r: mib.integer(r[1].channel)),
            Column(9, "ppmPortLprByteCountEnabled", lambda r: mib.truth(False)),
        ]
        yield from table(PPM_PORT_ENTRY, port_columns,
                         [((d, port.index), (d, port)) for d, _ in printers for port in served[d]])
