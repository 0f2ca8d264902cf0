"""Notifications: coldStart when the agent starts (RFC 3418 §2) and printerV2Alert when a
critical alert enters a printer's prtAlertTable (RFC 3805 §2.2.13.1).

Traps go to the ``trap_destinations`` of ``[snmp]`` (none by default) as SNMPv2-Trap PDUs
— with the trap community (RFC 3584 security model), or in v3-only mode as SNMPv3 with
the trap user's USM keys (RFC 3414; the agent is the authoritative engine).  Each
printerV2Alert carries prtAlertIndex, prtAlertSeverityLevel, prtAlertGroup,
prtAlertGroupIndex, prtAlertLocation and prtAlertCode of the new row, instance-qualified
by hrDeviceIndex and prtAlertIndex.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysnmp.entity import config as snmp_config
from pysnmp.entity.rfc3413 import ntforg

from firmware.events import Event, EventKind
from firmware.snmp import mib
from firmware.snmp.context import AgentContext
from firmware.snmp.printer_mib import ALERT_ENTRY, PRINTER_V2_ALERT, AlertRow, PrinterMib
from firmware.snmp.settings import TrapDestination

if TYPE_CHECKING:
    from firmware.printer import Printer

log = logging.getLogger(__name__)

SYS_UPTIME_0: mib.OID = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SNMP_TRAP_OID_0: mib.OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
COLD_START: mib.OID = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)

NOTIFICATION = "pb-notification"
PARAMS = "pb-trap-params"
TAG = "pb-trap"

#: The printerV2Alert OBJECTS clause: prtAlertEntry columns, in order.
ALERT_OBJECTS = (1, 2, 4, 5, 6, 7)


class TrapSender:
    """Owns the notification configuration of one engine and sends the traps."""

    def __init__(self, ctx: AgentContext, engine: Any, domain: tuple[int, ...],
                 destinations: list[TrapDestination], security_name: str,
                 security_level: str, mp_model: int) -> None:
        self.ctx = ctx
        self.engine = engine
        self.originator = ntforg.NotificationOriginator()
        self.alerts = PrinterMib(ctx)
        #: Highest alert index already announced per printer (traps are for new rows).
        self._announced: dict[str, int] = {}
        self._unsubscribe: Callable[[], None] | None = None
        snmp_config.add_target_parameters(engine, PARAMS, security_name, security_level, mp_model)
        for n, destination in enumerate(destinations, start=1):
            snmp_config.add_target_address(engine, f"pb-trap-{n}", domain,
                                           (destination.host, destination.port), PARAMS,
                                           tagList=TAG)
        snmp_config.add_notification_target(engine, NOTIFICATION, PARAMS, TAG, "trap")

    def start(self) -> None:
        for printer in self.ctx.system.printers.values():
            self._announced[printer.name] = max((a.index for a in printer.alerts), default=0)
        self._unsubscribe = self.ctx.system.events.subscribe(self._on_event)
        self.send(COLD_START, [])

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def send(self, trap_oid: mib.OID, var_binds: list[tuple[mib.OID, mib.Value]]) -> None:
        """Send one SNMPv2-Trap (RFC 3416 §4.2.6) to every destination."""
        binds = [(SYS_UPTIME_0, mib.ticks(self.ctx.uptime())),
                 (SNMP_TRAP_OID_0, mib.oid(trap_oid)), *var_binds]
        try:
            # contextName as bytes: VACM's context map does not match a str.
            self.originator.send_varbinds(self.engine, NOTIFICATION, None, b"", binds)
        except Exception:
            log.exception("SNMP trap %s could not be sent", ".".join(map(str, trap_oid)))

    # -- printerV2Alert
    def _on_event(self, event: Event) -> None:
        if event.kind != EventKind.PRINTER_STATE_CHANGED:
            return
        printer = self.ctx.system.printers.get(event.printer)
        if printer is not None:
            asyncio.get_running_loop().call_soon(self._check_alerts, printer)

    def _check_alerts(self, printer: Printer) -> None:
        last = self._announced.get(printer.name, 0)
        device = next(d for d, p in self.ctx.printers() if p is printer)
        for alert in printer.alerts:
            if alert.index <= last:
                continue
            self._announced[printer.name] = max(self._announced.get(printer.name, 0),
                                                alert.index)
            if alert.active and alert.kind.severity == "critical":
                self.send(PRINTER_V2_ALERT, self.alert_var_binds(device, AlertRow(
                    device, alert, removal=False)))

    def alert_var_binds(self, device: int, row: AlertRow) -> list[tuple[mib.OID, mib.Value]]:
        columns = {c.sub: c for c in self.alerts.alert_columns()}
        binds = []
        for sub in ALERT_OBJECTS:
            value = columns[sub].value(row)
            binds.append(((*ALERT_ENTRY, sub, device, row.index), value))
        return binds
