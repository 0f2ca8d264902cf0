"""IANA-PRINTER-MIB enumerations (RFC 3805 §4 moved them to IANA's registry, mib-2 109).

The printer model speaks keywords (``firmware.alerts`` uses PrtAlertCodeTC names, supplies
use PWG 5100.13 keywords); SNMP needs the registered numbers.  Only the values Printbridge
can produce are listed; anything else maps to ``other(1)``.
"""

from __future__ import annotations

OTHER = 1
UNKNOWN = 2

#: PrtAlertCodeTC — the keywords ``firmware.alerts`` uses, and the removal event.
ALERT_CODE: dict[str, int] = {
    "other": 1,
    "unknown": 2,
    "coverOpen": 3,
    "coverClosed": 4,
    "interlockOpen": 5,
    "interlockClosed": 6,
    "configurationChange": 7,
    "jam": 8,
    "subunitMissing": 9,
    "subunitAlmostEmpty": 12,
    "subunitEmpty": 13,
    "subunitAlmostFull": 14,
    "subunitFull": 15,
    "subunitOffline": 22,
    "subunitPowerSaver": 23,
    "subunitWarmingUp": 24,
    "subunitRecoverableFailure": 29,
    "subunitUnrecoverableFailure": 30,
    "doorOpen": 501,
    "doorClosed": 502,
    "powerUp": 503,
    "powerDown": 504,
    "printerNMSReset": 505,
    "printerManualReset": 506,
    "printerReadyToPrint": 507,
    "inputMediaTrayMissing": 801,
    "inputMediaSupplyLow": 807,
    "inputMediaSupplyEmpty": 808,
    "inputMediaChangeRequest": 809,
    "inputManualInputRequest": 810,
    "outputMediaTrayMissing": 901,
    "outputMediaTrayAlmostFull": 902,
    "outputMediaTrayFull": 903,
    "markerTonerEmpty": 1101,
    "markerInkEmpty": 1102,
    "markerTonerAlmostEmpty": 1104,
    "markerInkAlmostEmpty": 1105,
    "markerTonerCartridgeMissing": 1115,
    "mediaPathMediaTrayMissing": 1301,
    "alertRemovalOfBinaryChangeEntry": 1801,
}

#: PrtAlertGroupTC.
ALERT_GROUP: dict[str, int] = {
    "other": 1,
    "unknown": 2,
    "hostResourcesMIBStorageTable": 3,
    "hostResourcesMIBDeviceTable": 4,
    "generalPrinter": 5,
    "cover": 6,
    "localization": 7,
    "input": 8,
    "output": 9,
    "marker": 10,
    "markerSupplies": 11,
    "markerColorant": 12,
    "mediaPath": 13,
    "channel": 14,
    "interpreter": 15,
    "consoleDisplayBuffer": 16,
    "consoleLights": 17,
    "alert": 18,
}

#: PrtAlertTrainingLevelTC.
ALERT_TRAINING: dict[str, int] = {
    "other": 1,
    "unknown": 2,
    "untrained": 3,
    "trained": 4,
    "fieldService": 5,
    "management": 6,
    "noInterventionRequired": 7,
}

#: PrtAlertSeverityLevelTC (RFC 3805 §3): a warning that is cleared when its condition
#: goes away is a *binary* change event, ``warningBinaryChangeEvent(5)``.
SEVERITY_OTHER = 1
SEVERITY_CRITICAL = 3
SEVERITY_WARNING = 4  # unary
SEVERITY_WARNING_BINARY = 5


def alert_severity(keyword: str, binary: bool) -> int:
    """PrtAlertSeverityLevelTC for a ``firmware.alerts`` severity keyword."""
    if keyword == "critical":
        return SEVERITY_CRITICAL
    if keyword == "warning":
        return SEVERITY_WARNING_BINARY if binary else SEVERITY_WARNING
    return SEVERITY_OTHER


#: PrtChannelTypeTC.
CH_LPD_SERVER = 8
CH_PORT_TCP = 37  # raw "JetDirect" 9100 (chPort9100(11) is deprecated)
CH_IPP = 44

#: PrtInterpreterLangFamilyTC, by the command-set names drivers and IEEE 1284 device IDs
#: use (upper-cased before look-up).
LANG_FAMILY: dict[str, int] = {
    "PCL": 3,
    "PCL5": 3,
    "PCL5E": 82,
    "PCL5C": 83,
    "PCL3": 80,
    "PCL3GUI": 81,
    "HPGL": 4,
    "HPGL2": 4,
    "PJL": 5,
    "POSTSCRIPT": 6,
    "PS": 6,
    "ESC/P": 9,
    "ESCP": 9,
    "ESC/P2": 9,
    "ESCPL2": 9,
    "EPSON": 10,
    "TEXT": 30,
    "PDF": 54,
    "PCLXL": 47,
    "PCL6": 47,
    "JPEG": 61,
    "PWG": 84,
    "PWGRASTER": 84,
    "URF": 85,
    "APPLERASTER": 85,
    "XPS": 66,
}

#: PrtInputTypeTC by media-source keyword (PWG 5100.13 media-source).
INPUT_TYPE: dict[str, int] = {
    "main": 3,  # sheetFeedAutoRemovableTray
    "alternate": 3,
    "tray-1": 3,
    "tray-2": 3,
    "tray-3": 3,
    "tray-4": 3,
    "bottom": 3,
    "middle": 3,
    "top": 3,
    "manual": 5,  # sheetFeedManual
    "by-pass-tray": 5,
    "roll-1": 6,  # continuousRoll
    "main-roll": 6,
}

#: PrtOutputTypeTC.
OUTPUT_UNREMOVABLE_BIN = 4

#: PrtMarkerMarkTechTC by the consumable a marker uses.
MARK_TECH: dict[str, int] = {
    "toner": 4,  # electrophotographicLaser
    "toner-cartridge": 4,
    "ink": 14,  # inkjetOther
    "ink-cartridge": 14,
    "ribbon-wax": 16,  # thermalTransfer
    "ink-ribbon": 11,  # impactOther
}

#: PrtMarkerSuppliesTypeTC by PWG 5100.13 printer-supply ``type`` keyword.
SUPPLY_TYPE: dict[str, int] = {
    "toner": 3,
    "waste-toner": 4,
    "ink": 5,
    "ink-cartridge": 6,
    "ink-ribbon": 7,
    "waste-ink": 8,
    "opc": 9,
    "developer": 10,
    "fuser-oil": 11,
    "solid-wax": 12,
    "ribbon-wax": 13,
    "waste-wax": 14,
    "fuser": 15,
    "corona-wire": 16,
    "fuser-oil-wick": 17,
    "cleaner-unit": 18,
    "fuser-cleaning-pad": 19,
    "transfer-unit": 20,
    "toner-cartridge": 21,
    "fuser-oiler": 22,
}

#: Supplies that fill up rather than run out (PrtMarkerSuppliesClassTC).
RECEPTACLES = frozenset({"waste-toner", "waste-ink", "waste-wax"})
SUPPLY_CONSUMED = 3
SUPPLY_RECEPTACLE = 4

#: PrtMediaPathTypeTC.
PATH_LONG_EDGE_DUPLEX = 3
PATH_SIMPLEX = 5

#: PrtConsoleColorTC.
CONSOLE_GREEN = 5

#: PrtCoverStatusTC.
COVER_OPEN = 3
COVER_CLOSED = 4

#: PrtConsoleDisableTC, PrtGeneralResetTC.
CONSOLE_ENABLED = 3
NOT_RESETTING = 3
