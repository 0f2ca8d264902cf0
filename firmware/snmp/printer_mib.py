"""Printer-MIB v2 (RFC 3805) from the live printer model.

Every table is indexed by the printer's hrDeviceIndex first (RFC 3805 §2.2.1), so several
printers enumerate side by side.  Tables are column lists over row lists; values are read
from ``firmware.printer.Printer`` when a request asks:

- prtGeneral (§2.2.1.1): name, serial number, current localization, alert counters;
- prtCover, prtLocalization: one cover, one localization (en-US, UTF-8);
- prtInput (§2.2.2): one row per ``printer.trays`` entry, media name and size, level;
- prtOutput (§2.2.3): one face-down bin;
- prtMarker (§2.2.4): one marker, ``prtMarkerLifeCount`` the page counter, resolutions
  and margins from the driver's capabilities;
- prtMarkerSupplies / prtMarkerColorant (§2.2.5, §2.2.6): ``printer.supplies``, levels in
  percent keeping RFC 3805's special values -2 (unknown) and -3 (some remaining);
- prtMediaPath (§2.2.7), prtChannel (§2.2.8: IPP, LPD, raw 9100), prtInterpreter (§2.2.9:
  the driver's languages);
- prtConsoleDisplayBuffer and prtConsoleLights (§2.2.10): a one-line virtual display
  and the status LED (``Printer.status_light``);
- prtAlert (§2.2.13): the printer's alert log — active alerts, and for each cleared one
  the ``alertRemovalOfBinaryChangeEntry`` event that replaced it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.alerts import alert_text
from firmware.config import Config
from firmware.ipp.printer_attributes import IPP_VERSIONS
from firmware.media import MediaSize, parse_media
from firmware.printer import Alert, MediaTray, Printer, PrinterState, Supply
from firmware.reasons import REASON_TEXT, is_error
from firmware.snmp import iana_printer_mib as iana
from firmware.snmp import mib
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import MIB_2, Column, Entry, table
from hal.port import PortCondition

if TYPE_CHECKING:
    from firmware.system import System

PRINTMIB: mib.OID = (*MIB_2, 43)
GENERAL_ENTRY: mib.OID = (*PRINTMIB, 5, 1, 1)
COVER_ENTRY: mib.OID = (*PRINTMIB, 6, 1, 1)
LOCALIZATION_ENTRY: mib.OID = (*PRINTMIB, 7, 1, 1)
INPUT_ENTRY: mib.OID = (*PRINTMIB, 8, 2, 1)
OUTPUT_ENTRY: mib.OID = (*PRINTMIB, 9, 2, 1)
MARKER_ENTRY: mib.OID = (*PRINTMIB, 10, 2, 1)
SUPPLIES_ENTRY: mib.OID = (*PRINTMIB, 11, 1, 1)
COLORANT_ENTRY: mib.OID = (*PRINTMIB, 12, 1, 1)
MEDIA_PATH_ENTRY: mib.OID = (*PRINTMIB, 13, 4, 1)
CHANNEL_ENTRY: mib.OID = (*PRINTMIB, 14, 1, 1)
INTERPRETER_ENTRY: mib.OID = (*PRINTMIB, 15, 1, 1)
DISPLAY_BUFFER_ENTRY: mib.OID = (*PRINTMIB, 16, 5, 1)
LIGHT_ENTRY: mib.OID = (*PRINTMIB, 17, 6, 1)
ALERT_ENTRY: mib.OID = (*PRINTMIB, 18, 1, 1)
#: printerV2Alert (RFC 3805 §2.2.13.1): { printerV2AlertPrefix 1 }, prefix = prtAlert.2.0.
PRINTER_V2_ALERT: mib.OID = (*PRINTMIB, 18, 2, 0, 1)

# Common RFC 3805 / IANA values.
NOT_PRESENT = 5  # PresentOnOff notPresent
MICROMETERS = 4  # PrtMediaUnitTC
TEN_THOUSANDTHS_INCH = 3  # PrtMarkerAddressabilityUnitTC
SHEETS = 8  # PrtCapacityUnitTC
PERCENT = 19  # PrtMarkerSuppliesSupplyUnitTC
IMPRESSIONS = 7  # PrtMarkerCounterUnitTC
IMPRESSIONS_PER_HOUR = 7  # PrtMediaPathMaxSpeedPrintUnitTC
PRINT_DATA_ACCEPTED, NO_DATA_ACCEPTED = 3, 4  # PrtChannelStateTC
PORTRAIT = 3  # PrtPrintOrientationTC
TWO_WAY_NO = 4  # PrtInterpreterTwoWayTC
CHARSET_UNKNOWN, CHARSET_UTF8 = 2, 106  # IANACharset
UNKNOWN = -2  # "unknown" for Integer32 quantities
SOME_REMAINING = -3
FACE_DOWN = 4  # PrtOutputPageDeliveryOrientationTC
STACKING_UNKNOWN = 2  # PrtOutputStackingOrderTC

DISPLAY_CHARS = 40

#: PrtSubUnitStatusTC (RFC 3805 §3) parts.
AVAILABLE_IDLE, AVAILABLE_ACTIVE, AVAILABILITY_UNKNOWN = 0, 4, 5
NON_CRITICAL, CRITICAL, OFF_LINE = 8, 16, 32
OFFLINE_CONDITIONS = frozenset({PortCondition.OFFLINE, PortCondition.UNPLUGGED})

#: The port conditions each kind of sub-unit reports: (critical, non-critical).
SUBUNIT_CONDITIONS: dict[str, tuple[frozenset[PortCondition], frozenset[PortCondition]]] = {
    "input": (frozenset({PortCondition.PAPER_OUT}), frozenset({PortCondition.PAPER_LOW})),
    "output": (frozenset({PortCondition.OUTPUT_FULL}), frozenset()),
    "marker": (frozenset({PortCondition.TONER_EMPTY, PortCondition.ERROR}),
               frozenset({PortCondition.TONER_LOW})),
    "mediaPath": (frozenset({PortCondition.JAM, PortCondition.COVER_OPEN}), frozenset()),
    "channel": (frozenset(), frozenset()),
}

#: prtAlertGroupIndex for alerts of each group: the row of the sub-unit table at fault
#: (one input, output, marker, path, cover), -1 where there is no such table row.
ALERT_GROUP_INDEX: dict[str, int] = {
    "input": 1, "output": 1, "marker": 1, "markerSupplies": 1, "mediaPath": 1, "cover": 1,
}


def subunit_status(printer: Printer, unit: str) -> int:
    """PrtSubUnitStatusTC: availability plus the alert and on-line flags (RFC 3805 §3)."""
    critical, warning = SUBUNIT_CONDITIONS[unit]
    conditions = printer.port_conditions
    if not printer.port_connected:
        value = AVAILABILITY_UNKNOWN
    elif printer.state == PrinterState.PROCESSING:
        value = AVAILABLE_ACTIVE
    else:
        value = AVAILABLE_IDLE
    if conditions & critical:
        value |= CRITICAL
    if conditions & warning:
        value |= NON_CRITICAL
    if conditions & OFFLINE_CONDITIONS:
        value |= OFF_LINE
    return value


def display_text(printer: Printer) -> str:
    """The virtual console line: the printer's message, else its most serious reason."""
    if printer.message:
        return printer.message
    reasons = sorted((r for r in printer.reasons if r in REASON_TEXT and r != "none"),
                     key=lambda r: not is_error(r))
    if reasons:
        return REASON_TEXT[reasons[0]]
    return "Printing" if printer.state == PrinterState.PROCESSING else "Ready"


def _size(name: str) -> MediaSize | None:
    try:
        return parse_media(name)
    except ValueError:
        return None


def _micrometers(hundredths_mm: int | None) -> int:
    return UNKNOWN if hundredths_mm is None else hundredths_mm * 10


def _ten_thousandths_inch(hundredths_mm: int) -> int:
    return round(hundredths_mm * 10000 / 2540)


@dataclass(slots=True, frozen=True)
class Channel:
    """A print-job delivery channel (RFC 3805 §2.2.8)."""

    index: int
    kind: int  # PrtChannelTypeTC
    name: str
    version: str
    #: The TCP port the daemon serves the channel on (0: the channel is turned off).
    port: Callable[[Config], int]
    information: Callable[[AgentContext, Printer], str]
    #: Raw 9100 has no queue name: it feeds the default printer only.
    default_printer_only: bool = False


#: The channels a printer can have.  prtChannelInformation keywords are those the
#: IANA-PRINTER-MIB defines for each PrtChannelTypeTC value (IPP's optional Auth and
#: Security are left out: they depend on the access policy, not on the channel).
CHANNELS: tuple[Channel, ...] = (
    Channel(1, iana.CH_IPP, "IPP", IPP_VERSIONS[-1], lambda cfg: cfg.ipp_port,
            lambda ctx, p: f"URI={ctx.printer_uri(p)}\n"
                           + "".join(f"Version={v}\n" for v in IPP_VERSIONS)),
    Channel(2, iana.CH_LPD_SERVER, "LPD", "", lambda cfg: cfg.lpd_port,
            lambda ctx, p: f"Queue={p.name}\n"),
    Channel(3, iana.CH_PORT_TCP, "Raw TCP (AppSocket/JetDirect)", "", lambda cfg: cfg.raw_port,
            lambda ctx, p: f"Port={ctx.system.config.raw_port}\n", default_printer_only=True),
)


def channels(system: System, printer: Printer) -> list[Channel]:
    """The channels the daemon serves to ``printer`` with its configuration."""
    return [c for c in CHANNELS if c.port(system.config)
            and (printer is system.default_printer or not c.default_printer_only)]


@dataclass(slots=True, frozen=True)
class AlertRow:
    """One prtAlertTable row: an alert in force, or the removal event of a cleared one."""

    device: int
    alert: Alert
    removal: bool

    @property
    def index(self) -> int:
        if self.removal and self.alert.removal_index is not None:
            return self.alert.removal_index
        return self.alert.index


class PrinterMib:
    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    # -- row structure
    def layout(self) -> Hashable:
        return tuple(
            (d, p.name, len(p.trays), tuple((s.index, s.kind, s.color) for s in p.supplies),
             tuple(p.capabilities.languages),
             tuple((a.index, a.removal_index) for a in p.alerts))
            for d, p in self.ctx.printers()
        )

    def entries(self) -> Iterator[Entry]:
        printers = list(self.ctx.printers())
        one = [((d, 1), d) for d, _ in printers]
        yield from table(GENERAL_ENTRY, self.general_columns(), [((d,), d) for d, _ in printers])
        yield from table(COVER_ENTRY, self.cover_columns(), one)
        yield from table(LOCALIZATION_ENTRY, LOCALIZATION_COLUMNS, one)
        yield from table(INPUT_ENTRY, self.input_columns(),
                         [((d, i), (d, i - 1)) for d, p in printers
                          for i in range(1, len(p.trays) + 1)])
        yield from table(OUTPUT_ENTRY, self.output_columns(), one)
        yield from table(MARKER_ENTRY, self.marker_columns(), one)
        yield from table(SUPPLIES_ENTRY, self.supplies_columns(),
                         [((d, s.index), (d, n)) for d, p in printers
                          for n, s in enumerate(p.supplies)])
        yield from table(COLORANT_ENTRY, self.colorant_columns(),
                         [((d, n + 1), (d, n)) for d, p in printers
                          for n in range(len(self.colorants(p)))])
        yield from table(MEDIA_PATH_ENTRY, self.media_path_columns(), one)
        yield from table(CHANNEL_ENTRY, self.channel_columns(),
                         [((d, c.index), (d, c)) for d, p in printers
                          for c in channels(self.ctx.system, p)])
        yield from table(INTERPRETER_ENTRY, self.interpreter_columns(),
                         [((d, n + 1), (d, n)) for d, p in printers
                          for n in range(len(p.capabilities.languages))])
        yield from table(DISPLAY_BUFFER_ENTRY, self.display_columns(), one)
        yield from table(LIGHT_ENTRY, self.light_columns(), one)
        rows = [((d, r.index), r) for d, p in printers for r in self.alert_rows(d, p)]
        yield from table(ALERT_ENTRY, self.alert_columns(), rows)

    # -- helpers
    @staticmethod
    def colorants(printer: Printer) -> list[str]:
        """Distinct colours of the consumed supplies, in supply order."""
        seen: list[str] = []
        for supply in printer.supplies:
            if supply.kind not in iana.RECEPTACLES and supply.color not in seen:
                seen.append(supply.color)
        return seen

    @staticmethod
    def alert_rows(device: int, printer: Printer) -> list[AlertRow]:
        rows = []
        for alert in printer.alerts:
            if alert.active:
                rows.append(AlertRow(device, alert, removal=False))
            elif alert.removal_index is not None:
                rows.append(AlertRow(device, alert, removal=True))
        return rows

    def _p(self, device: int) -> Printer:
        return self.ctx.printer(device)

    # -- prtGeneralTable (RFC 3805 §2.2.1.1, prtGeneralEntry)
    def general_columns(self) -> list[Column[int]]:
        p, ctx = self._p, self.ctx
        return [
            Column(1, "prtGeneralConfigChanges",
                   lambda d: mib.counter(ctx.config_changes.get(p(d).name, 0))),
            Column(2, "prtGeneralCurrentLocalization", lambda d: mib.integer(1)),
            Column(3, "prtGeneralReset", lambda d: mib.integer(iana.NOT_RESETTING)),
            Column(4, "prtGeneralCurrentOperator", lambda d: mib.octets(ctx.settings.contact, 127)),
            Column(5, "prtGeneralServicePerson", lambda d: mib.octets(ctx.settings.contact, 127)),
            Column(6, "prtInputDefaultIndex", lambda d: mib.integer(1) if p(d).trays else None),
            Column(7, "prtOutputDefaultIndex", lambda d: mib.integer(1)),
            Column(8, "prtMarkerDefaultIndex", lambda d: mib.integer(1)),
            Column(9, "prtMediaPathDefaultIndex", lambda d: mib.integer(1)),
            Column(10, "prtConsoleLocalization", lambda d: mib.integer(1)),
            Column(11, "prtConsoleNumberOfDisplayLines", lambda d: mib.integer(1)),
            Column(12, "prtConsoleNumberOfDisplayChars", lambda d: mib.integer(DISPLAY_CHARS)),
            Column(13, "prtConsoleDisable", lambda d: mib.integer(iana.CONSOLE_ENABLED)),
            Column(14, "prtAuxiliarySheetStartupPage", lambda d: mib.integer(NOT_PRESENT)),
            Column(15, "prtAuxiliarySheetBannerPage", lambda d: mib.integer(NOT_PRESENT)),
            Column(16, "prtGeneralPrinterName", lambda d: mib.octets(p(d).name, 127)),
            Column(17, "prtGeneralSerialNumber", lambda d: mib.octets(p(d).identity.serial)),
            Column(18, "prtAlertCriticalEvents", lambda d: mib.counter(p(d).critical_alert_count)),
            Column(19, "prtAlertAllEvents", lambda d: mib.counter(p(d).alert_count)),
        ]

    # -- prtCoverTable
    def cover_columns(self) -> list[Column[int]]:
        p = self._p
        return [
            Column(2, "prtCoverDescription", lambda d: mib.octets("Printer cover")),
            Column(3, "prtCoverStatus", lambda d: mib.integer(
                iana.COVER_OPEN if PortCondition.COVER_OPEN in p(d).port_conditions
                else iana.COVER_CLOSED)),
        ]

    # -- prtInputTable (RFC 3805 §2.2.2); rows are (device, position in printer.trays)
    def input_columns(self) -> list[Column[tuple[int, int]]]:
        def tray(r: tuple[int, int]) -> MediaTray:
            return self._p(r[0]).trays[r[1]]

        def size(r: tuple[int, int]) -> MediaSize | None:
            return _size(tray(r).media)

        def length(r: tuple[int, int]) -> mib.Value:
            s = size(r)
            return mib.integer(_micrometers(s.length if s else None))

        def width(r: tuple[int, int]) -> mib.Value:
            s = size(r)
            return mib.integer(_micrometers(s.width if s else None))

        def status(r: tuple[int, int]) -> mib.Value:
            return mib.integer(subunit_status(self._p(r[0]), "input"))

        return [
            Column(2, "prtInputType", lambda r: mib.integer(
                iana.INPUT_TYPE.get(tray(r).source, iana.OTHER))),
            Column(3, "prtInputDimUnit", lambda r: mib.integer(MICROMETERS)),
            Column(4, "prtInputMediaDimFeedDirDeclared", length),
            Column(5, "prtInputMediaDimXFeedDirDeclared", width),
            Column(6, "prtInputMediaDimFeedDirChosen", length),
            Column(7, "prtInputMediaDimXFeedDirChosen", width),
            Column(8, "prtInputCapacityUnit", lambda r: mib.integer(SHEETS)),
            Column(9, "prtInputMaxCapacity", lambda r: mib.integer(tray(r).capacity)),
            Column(10, "prtInputCurrentLevel", lambda r: mib.integer(tray(r).level)),
            Column(11, "prtInputStatus", status),
            Column(12, "prtInputMediaName", lambda r: mib.octets(tray(r).media, 63)),
            Column(13, "prtInputName", lambda r: mib.octets(tray(r).source, 63)),
            Column(18, "prtInputDescription", lambda r: mib.octets(
                f"{tray(r).source.replace('-', ' ').capitalize()} tray")),
            Column(19, "prtInputSecurity", lambda r: mib.integer(NOT_PRESENT)),
            Column(20, "prtInputMediaWeight", lambda r: mib.integer(UNKNOWN)),
            Column(21, "prtInputMediaType", lambda r: mib.octets(tray(r).media_type, 63)),
            Column(23, "prtInputMediaFormParts", lambda r: mib.integer(UNKNOWN)),
            Column(24, "prtInputMediaLoadTimeout", lambda r: mib.integer(UNKNOWN)),
            Column(25, "prtInputNextIndex", lambda r: mib.integer(SOME_REMAINING)),
        ]

    # -- prtOutputTable (RFC 3805 §2.2.3): one face-down bin the printer cannot measure
    def output_columns(self) -> list[Column[int]]:
        p = self._p
        return [
            Column(2, "prtOutputType", lambda d: mib.integer(iana.OUTPUT_UNREMOVABLE_BIN)),
            Column(3, "prtOutputCapacityUnit", lambda d: mib.integer(SHEETS)),
            Column(4, "prtOutputMaxCapacity", lambda d: mib.integer(UNKNOWN)),
            Column(5, "prtOutputRemainingCapacity", lambda d: mib.integer(
                0 if PortCondition.OUTPUT_FULL in p(d).port_conditions else SOME_REMAINING)),
            Column(6, "prtOutputStatus", lambda d: mib.integer(subunit_status(p(d), "output"))),
            Column(7, "prtOutputName", lambda d: mib.octets("face-down")),
            Column(12, "prtOutputDescription", lambda d: mib.octets("Face-down output bin")),
            Column(13, "prtOutputSecurity", lambda d: mib.integer(NOT_PRESENT)),
            Column(14, "prtOutputDimUnit", lambda d: mib.integer(MICROMETERS)),
            Column(15, "prtOutputMaxDimFeedDir", lambda d: mib.integer(UNKNOWN)),
            Column(16, "prtOutputMaxDimXFeedDir", lambda d: mib.integer(UNKNOWN)),
            Column(17, "prtOutputMinDimFeedDir", lambda d: mib.integer(UNKNOWN)),
            Column(18, "prtOutputMinDimXFeedDir", lambda d: mib.integer(UNKNOWN)),
            Column(19, "prtOutputStackingOrder", lambda d: mib.integer(STACKING_UNKNOWN)),
            Column(20, "prtOutputPageDeliveryOrientation", lambda d: mib.integer(FACE_DOWN)),
            Column(21, "prtOutputBursting", lambda d: mib.integer(NOT_PRESENT)),
            Column(22, "prtOutputDecollating", lambda d: mib.integer(NOT_PRESENT)),
            Column(23, "prtOutputPageCollated", lambda d: mib.integer(NOT_PRESENT)),
            Column(24, "prtOutputOffsetStacking", lambda d: mib.integer(NOT_PRESENT)),
        ]

    # -- prtMarkerTable (RFC 3805 §2.2.4)
    @staticmethod
    def life_count(printer: Printer) -> int:
        """The printer's own page counter when its port reports one, else the pages the
        daemon has printed (persisted across restarts)."""
        if printer.device_page_count is not None:
            return printer.device_page_count
        return printer.counters.impressions

    def marker_columns(self) -> list[Column[int]]:
        p, ctx = self._p, self.ctx

        def tech(d: int) -> int:
            kinds = [s.kind for s in p(d).supplies]
            return next((iana.MARK_TECH[k] for k in kinds if k in iana.MARK_TECH), iana.UNKNOWN)

        def dpi(d: int) -> mib.Value:
            return mib.integer(max(p(d).capabilities.resolutions, default=UNKNOWN))

        def margin(side: int) -> Callable[[int], mib.Value]:
            return lambda d: mib.integer(_ten_thousandths_inch(p(d).capabilities.margins[side]))

        return [
            Column(2, "prtMarkerMarkTech", lambda d: mib.integer(tech(d))),
            Column(3, "prtMarkerCounterUnit", lambda d: mib.integer(IMPRESSIONS)),
            Column(4, "prtMarkerLifeCount", lambda d: mib.counter(self.life_count(p(d)))),
            Column(5, "prtMarkerPowerOnCount", lambda d: mib.counter(
                p(d).counters.impressions - ctx.impressions_at_start.get(p(d).name, 0))),
            Column(6, "prtMarkerProcessColorants", lambda d: mib.integer(
                len(self.colorants(p(d))) if p(d).capabilities.color else 1)),
            Column(7, "prtMarkerSpotColorants", lambda d: mib.integer(0)),
            Column(8, "prtMarkerAddressabilityUnit", lambda d: mib.integer(TEN_THOUSANDTHS_INCH)),
            Column(9, "prtMarkerAddressabilityFeedDir", dpi),
            Column(10, "prtMarkerAddressabilityXFeedDir", dpi),
            # Capabilities.margins: (bottom, left, right, top); north is the leading edge.
            Column(11, "prtMarkerNorthMargin", margin(3)),
            Column(12, "prtMarkerSouthMargin", margin(0)),
            Column(13, "prtMarkerWestMargin", margin(1)),
            Column(14, "prtMarkerEastMargin", margin(2)),
            Column(15, "prtMarkerStatus", lambda d: mib.integer(subunit_status(p(d), "marker"))),
        ]

    # -- prtMarkerSuppliesTable (RFC 3805 §2.2.5); rows are (device, position in supplies)
    def supplies_columns(self) -> list[Column[tuple[int, int]]]:
        def supply(r: tuple[int, int]) -> Supply:
            return self._p(r[0]).supplies[r[1]]

        def colorant(r: tuple[int, int]) -> int:
            s = supply(r)
            colors = self.colorants(self._p(r[0]))
            return colors.index(s.color) + 1 if s.color in colors else 0

        return [
            Column(2, "prtMarkerSuppliesMarkerIndex", lambda r: mib.integer(1)),
            Column(3, "prtMarkerSuppliesColorantIndex", lambda r: mib.integer(colorant(r))),
            Column(4, "prtMarkerSuppliesClass", lambda r: mib.integer(
                iana.SUPPLY_RECEPTACLE if supply(r).kind in iana.RECEPTACLES
                else iana.SUPPLY_CONSUMED)),
            Column(5, "prtMarkerSuppliesType", lambda r: mib.integer(
                iana.SUPPLY_TYPE.get(supply(r).kind, iana.OTHER))),
            Column(6, "prtMarkerSuppliesDescription", lambda r: mib.octets(supply(r).name)),
            Column(7, "prtMarkerSuppliesSupplyUnit", lambda r: mib.integer(PERCENT)),
            Column(8, "prtMarkerSuppliesMaxCapacity", lambda r: mib.integer(supply(r).capacity)),
            # Percent of capacity, or -2 (unknown) / -3 (some remaining) as the model keeps.
            Column(9, "prtMarkerSuppliesLevel", lambda r: mib.integer(supply(r).level)),
        ]

    # -- prtMarkerColorantTable (RFC 3805 §2.2.6); rows are (device, position)
    def colorant_columns(self) -> list[Column[tuple[int, int]]]:
        def color(r: tuple[int, int]) -> str:
            return self.colorants(self._p(r[0]))[r[1]]

        return [
            Column(2, "prtMarkerColorantMarkerIndex", lambda r: mib.integer(1)),
            Column(3, "prtMarkerColorantRole", lambda r: mib.integer(3)),  # process
            Column(4, "prtMarkerColorantValue", lambda r: mib.octets(color(r))),
            Column(5, "prtMarkerColorantTonality", lambda r: mib.integer(2)),  # on/off dots
        ]

    # -- prtMediaPathTable (RFC 3805 §2.2.7)
    def media_path_columns(self) -> list[Column[int]]:
        p = self._p

        def sizes(d: int) -> list[MediaSize]:
            return [s for s in map(_size, p(d).capabilities.media) if s is not None]

        def extreme(pick: Callable[..., int], attr: str) -> Callable[[int], mib.Value]:
            return lambda d: mib.integer(_micrometers(
                pick((getattr(s, attr) for s in sizes(d)), default=None)))

        return [
            Column(2, "prtMediaPathMaxSpeedPrintUnit", lambda d: mib.integer(IMPRESSIONS_PER_HOUR)),
            Column(3, "prtMediaPathMediaSizeUnit", lambda d: mib.integer(MICROMETERS)),
            Column(4, "prtMediaPathMaxSpeed", lambda d: mib.integer(p(d).capabilities.ppm * 60)),
            Column(5, "prtMediaPathMaxMediaFeedDir", extreme(max, "length")),
            Column(6, "prtMediaPathMaxMediaXFeedDir", extreme(max, "width")),
            Column(7, "prtMediaPathMinMediaFeedDir", extreme(min, "length")),
            Column(8, "prtMediaPathMinMediaXFeedDir", extreme(min, "width")),
            Column(9, "prtMediaPathType", lambda d: mib.integer(
                iana.PATH_LONG_EDGE_DUPLEX if p(d).capabilities.duplex else iana.PATH_SIMPLEX)),
            Column(10, "prtMediaPathDescription", lambda d: mib.octets(
                "Duplex paper path" if p(d).capabilities.duplex else "Simplex paper path")),
            Column(11, "prtMediaPathStatus",
                   lambda d: mib.integer(subunit_status(p(d), "mediaPath"))),
        ]

    # -- prtChannelTable (RFC 3805 §2.2.8); rows are (device, Channel)
    def channel_columns(self) -> list[Column[tuple[int, Channel]]]:
        p, ctx = self._p, self.ctx

        def languages(d: int) -> list[str]:
            return [lang.upper() for lang in p(d).capabilities.languages]

        def job_control(d: int) -> int:
            langs = languages(d)
            return langs.index("PJL") + 1 if "PJL" in langs else 0

        def page_description(d: int) -> int:
            return next((n for n, lang in enumerate(languages(d), 1) if lang != "PJL"), 0)

        return [
            Column(2, "prtChannelType", lambda r: mib.integer(r[1].kind)),
            Column(3, "prtChannelProtocolVersion", lambda r: mib.octets(r[1].version, 63)),
            Column(4, "prtChannelCurrentJobCntlLangIndex",
                   lambda r: mib.integer(job_control(r[0]))),
            Column(5, "prtChannelDefaultPageDescLangIndex",
                   lambda r: mib.integer(page_description(r[0]))),
            Column(6, "prtChannelState", lambda r: mib.integer(
                PRINT_DATA_ACCEPTED if p(r[0]).accepting else NO_DATA_ACCEPTED)),
            Column(7, "prtChannelIfIndex", lambda r: mib.integer(0)),
            Column(8, "prtChannelStatus",
                   lambda r: mib.integer(subunit_status(p(r[0]), "channel"))),
            Column(9, "prtChannelInformation",
                   lambda r: mib.octets(r[1].information(ctx, p(r[0])))),
        ]

    # -- prtInterpreterTable (RFC 3805 §2.2.9); rows are (device, position in languages)
    def interpreter_columns(self) -> list[Column[tuple[int, int]]]:
        p = self._p

        def language(r: tuple[int, int]) -> str:
            return p(r[0]).capabilities.languages[r[1]]

        def dpi(r: tuple[int, int]) -> mib.Value:
            return mib.integer(max(p(r[0]).capabilities.resolutions, default=UNKNOWN))

        return [
            Column(2, "prtInterpreterLangFamily", lambda r: mib.integer(
                iana.LANG_FAMILY.get(language(r).upper(), iana.OTHER))),
            Column(3, "prtInterpreterLangLevel", lambda r: mib.octets("")),
            Column(4, "prtInterpreterLangVersion", lambda r: mib.octets("")),
            Column(5, "prtInterpreterDescription", lambda r: mib.octets(language(r))),
            Column(6, "prtInterpreterVersion", lambda r: mib.octets("")),
            Column(7, "prtInterpreterDefaultOrientation", lambda r: mib.integer(PORTRAIT)),
            Column(8, "prtInterpreterFeedAddressability", dpi),
            Column(9, "prtInterpreterXFeedAddressability", dpi),
            Column(10, "prtInterpreterDefaultCharSetIn", lambda r: mib.integer(CHARSET_UNKNOWN)),
            Column(11, "prtInterpreterDefaultCharSetOut", lambda r: mib.integer(CHARSET_UNKNOWN)),
            Column(12, "prtInterpreterTwoWay", lambda r: mib.integer(TWO_WAY_NO)),
        ]

    # -- prtConsoleDisplayBufferTable and prtConsoleLightTable (RFC 3805 §2.2.10)
    def display_columns(self) -> list[Column[int]]:
        return [Column(2, "prtConsoleDisplayBufferText",
                       lambda d: mib.octets(display_text(self._p(d)), DISPLAY_CHARS))]

    def light_columns(self) -> list[Column[int]]:
        p = self._p
        return [
            Column(2, "prtConsoleOnTime", lambda d: mib.integer(p(d).status_light.on_ms)),
            Column(3, "prtConsoleOffTime", lambda d: mib.integer(p(d).status_light.off_ms)),
            Column(4, "prtConsoleColor", lambda d: mib.integer(iana.CONSOLE_GREEN)),
            Column(5, "prtConsoleDescription", lambda d: mib.octets("Status")),
        ]

    # -- prtAlertTable (RFC 3805 §2.2.13)
    def alert_columns(self) -> list[Column[AlertRow]]:
        ctx = self.ctx

        def removal_or(value: Callable[[AlertRow], mib.Value], removed: mib.Value
                       ) -> Callable[[AlertRow], mib.Value]:
            return lambda r: removed if r.removal else value(r)

        return [
            Column(1, "prtAlertIndex", lambda r: mib.integer(r.index)),
            Column(2, "prtAlertSeverityLevel", removal_or(
                lambda r: mib.integer(iana.alert_severity(
                    r.alert.kind.severity, binary=r.alert.condition is not None)),
                mib.integer(iana.SEVERITY_WARNING))),
            Column(3, "prtAlertTrainingLevel", removal_or(
                lambda r: mib.integer(iana.ALERT_TRAINING.get(r.alert.kind.training, iana.OTHER)),
                mib.integer(iana.ALERT_TRAINING["noInterventionRequired"]))),
            Column(4, "prtAlertGroup", removal_or(
                lambda r: mib.integer(iana.ALERT_GROUP.get(r.alert.kind.group, iana.OTHER)),
                mib.integer(iana.ALERT_GROUP["alert"]))),
            Column(5, "prtAlertGroupIndex", lambda r: mib.integer(
                r.alert.index if r.removal else ALERT_GROUP_INDEX.get(r.alert.kind.group, -1))),
            Column(6, "prtAlertLocation", lambda r: mib.integer(UNKNOWN)),
            Column(7, "prtAlertCode", removal_or(
                lambda r: mib.integer(iana.ALERT_CODE.get(r.alert.kind.code, iana.OTHER)),
                mib.integer(iana.ALERT_CODE["alertRemovalOfBinaryChangeEntry"]))),
            Column(8, "prtAlertDescription", lambda r: mib.octets(
                f"Cleared: {alert_text(r.alert)}" if r.removal else alert_text(r.alert))),
            Column(9, "prtAlertTime", lambda r: mib.ticks(ctx.uptime(
                r.alert.cleared if r.removal and r.alert.cleared else r.alert.raised))),
        ]


#: prtLocalizationTable: one localization, English (US) in UTF-8 (IANACharset 106).
LOCALIZATION_COLUMNS: list[Column[int]] = [
    Column(2, "prtLocalizationLanguage", lambda d: mib.octets("en")),
    Column(3, "prtLocalizationCountry", lambda d: mib.octets("US")),
    Column(4, "prtLocalizationCharacterSet", lambda d: mib.integer(CHARSET_UTF8)),
]
