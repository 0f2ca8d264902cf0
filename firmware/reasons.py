"""Port conditions to IPP ``printer-state-reasons`` — the one place this mapping lives.

Keywords and severity suffixes per RFC 8011 §5.4.12 and PWG 5100.9 (printer state
extensions).  SNMP's hrPrinterDetectedErrorState bits are derived from the same
:class:`hal.port.PortCondition` set, never from these keywords.
"""

from __future__ import annotations

from collections.abc import Iterable

from hal.port import PortCondition

REASON_FOR_CONDITION: dict[PortCondition, str] = {
    PortCondition.PAPER_OUT: "media-empty-error",
    PortCondition.PAPER_LOW: "media-low-report",
    PortCondition.OFFLINE: "offline-report",
    PortCondition.UNPLUGGED: "offline-report",
    PortCondition.ERROR: "other-error",
    PortCondition.COVER_OPEN: "cover-open-error",
    PortCondition.JAM: "media-jam-error",
    PortCondition.TONER_LOW: "toner-low-report",
    PortCondition.TONER_EMPTY: "toner-empty-error",
    PortCondition.OUTPUT_FULL: "output-area-full-error",
    # BUSY is normal flow control, not something to show a user.
}

#: What a person reads on the web page for each reason keyword.
REASON_TEXT: dict[str, str] = {
    "none": "Ready",
    "media-empty-error": "Out of paper",
    "media-low-report": "Paper low",
    "media-needed-error": "Load paper to print the waiting job",
    "offline-report": "Printer is offline or unplugged",
    "other-error": "Printer reports an error",
    "cover-open-error": "Cover open",
    "media-jam-error": "Paper jam",
    "toner-low-report": "Toner low",
    "toner-empty-error": "Toner empty",
    "output-area-full-error": "Output tray full",
    "paused": "Paused by the administrator",
    "moving-to-paused": "Pausing after the current job",
    "identify-printer-requested": "Identify requested",
    "hold-new-jobs": "Holding new jobs",
}


def reasons_for(conditions: Iterable[PortCondition]) -> list[str]:
    """IPP reason keywords for a set of port conditions, de-duplicated, in a stable order."""
    found = {REASON_FOR_CONDITION[c] for c in conditions if c in REASON_FOR_CONDITION}
    return sorted(found)


def is_error(reason: str) -> bool:
    """True for reasons that stop the printer (the ``-error`` severity, RFC 8011 §5.4.12)."""
    return reason.endswith("-error")
