"""Port conditions as printer alerts (RFC 3805 §2.2.13 prtAlertTable; PWG 5100.9 §7.1
printer-alert) — keywords of IANA-PRINTER-MIB's PrtAlertCodeTC and PrtAlertGroupTC.

SNMP turns the keywords into their enum numbers; IPP writes them into printer-alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.reasons import REASON_FOR_CONDITION, REASON_TEXT
from hal.port import PortCondition

if TYPE_CHECKING:
    from firmware.printer import Alert


@dataclass(slots=True, frozen=True)
class AlertKind:
    code: str  # PrtAlertCodeTC keyword
    group: str  # PrtAlertGroupTC keyword
    severity: str  # PrtAlertSeverityLevelTC keyword: critical, warning, other
    training: str = "untrained"  # PrtAlertTrainingLevelTC keyword


ALERT_FOR_CONDITION: dict[PortCondition, AlertKind] = {
    PortCondition.PAPER_OUT: AlertKind("inputMediaSupplyEmpty", "input", "critical"),
    PortCondition.PAPER_LOW: AlertKind("inputMediaSupplyLow", "input", "warning"),
    PortCondition.OFFLINE: AlertKind("subunitOffline", "generalPrinter", "critical"),
    PortCondition.UNPLUGGED: AlertKind("subunitOffline", "generalPrinter", "critical"),
    PortCondition.ERROR: AlertKind("other", "generalPrinter", "critical"),
    PortCondition.COVER_OPEN: AlertKind("coverOpen", "cover", "critical", "noInterventionRequired"),
    PortCondition.JAM: AlertKind("jam", "mediaPath", "critical", "trained"),
    PortCondition.TONER_LOW: AlertKind("markerTonerAlmostEmpty", "markerSupplies", "warning"),
    PortCondition.TONER_EMPTY: AlertKind("markerTonerEmpty", "markerSupplies", "critical"),
    PortCondition.OUTPUT_FULL: AlertKind("outputMediaTrayFull", "output", "critical"),
}

#: The unary event every printer logs when it starts (RFC 3805 'powerUp').
POWER_UP = AlertKind("powerUp", "generalPrinter", "other", "noInterventionRequired")

#: How an alert that is an event, not a port condition, reads.
EVENT_TEXT: dict[str, str] = {"powerUp": "Printer started"}


def alert_text(alert: Alert) -> str:
    """An alert in words, the same in every view: SNMP's prtAlertDescription (RFC 3805),
    IPP's printer-alert-description (PWG 5100.9 §7.1.2) and the web page's alert log.
    A condition reads as its printer-state-reason does; an event by :data:`EVENT_TEXT`."""
    if alert.condition is not None:
        reason = REASON_FOR_CONDITION.get(alert.condition, "other-error")
        return REASON_TEXT.get(reason, reason)
    return EVENT_TEXT.get(alert.kind.code, alert.kind.code)
