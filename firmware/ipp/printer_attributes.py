"""Printer attributes, computed from the printer model and the driver's capabilities.

RFC 8011 §5.4 (printer description), §5.2 (job template ``-default``/``-supported``),
PWG 5100.7 (job extensions), 5100.9 (state extensions), 5100.13 (printer-supply,
printer-icons, firmware), 5100.14 (IPP Everywhere) and RFC 3995 (notify-*).  Nothing here
is stored: every value is read from :class:`~firmware.printer.Printer` when asked for, so
IPP can never disagree with SNMP, DNS-SD or the web page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from firmware import __version__
from firmware.alerts import alert_text
from firmware.capabilities import Capabilities
from firmware.ipp.codec import AttributeGroup, pre_encode
from firmware.ipp.registry import make_attribute
from firmware.ipp.tags import DelimiterTag, ValueTag
from firmware.ipp.template import CHECKS, CONTENT_OPTIMIZE, PRINT_SCALING
from firmware.ipp.values import Attribute, OutOfBand, Range, Resolution
from firmware.media import parse_media
from firmware.reasons import REASON_TEXT

if TYPE_CHECKING:
    from firmware.printer import Alert, Printer
    from firmware.system import System

#: What Set-Printer-Attributes may change (RFC 3380 §4.1; the handler is in
#: firmware.ipp.printer_ops): the printer's descriptive text, attribute -> Identity field ...
PRINTER_SETTABLE = {
    "printer-info": "info",
    "printer-location": "location",
    "printer-geo-location": "geo_location",
    "printer-organization": "organization",
}
#: ... and the paper loaded, per tray (firmware.system.System.set_media_ready).
MEDIA_SETTABLE = ("media-col-ready", "media-ready")
#: printer-settable-attributes-supported (RFC 3380 §4.1).
PRINTER_SETTABLE_ATTRIBUTES = sorted([*PRINTER_SETTABLE, *MEDIA_SETTABLE])
#: job-settable-attributes-supported (RFC 3380 §4.2; firmware.ipp.job_ops).
JOB_SETTABLE = ("job-hold-until", "job-name", "job-priority")

#: Claimed only because CUPS's ipp-1.1/2.0/2.1/2.2 suites pass (tests/ipp/test_ipptool.py).
IPP_VERSIONS = ["1.1", "2.0", "2.1", "2.2"]

NOTIFY_EVENTS = [
    "job-completed",
    "job-created",
    "job-progress",
    "job-state-changed",
    "printer-config-changed",
    "printer-state-changed",
    "printer-stopped",
]

WHICH_JOBS = [
    "completed",
    "not-completed",
    "proof-print",
    "all",
    "aborted",
    "canceled",
    "pending",
    "pending-held",
    "processing",
    "processing-stopped",
]

#: The job template attributes a client may send (job-creation-attributes-supported):
#: every one the template checks honour, plus the two operation attributes that shape a job.
JOB_CREATION_ATTRIBUTES = sorted([*CHECKS, "ipp-attribute-fidelity", "job-name"])

MEDIA_COL_MEMBERS = [
    "media-bottom-margin",
    "media-left-margin",
    "media-right-margin",
    "media-size",
    "media-source",
    "media-top-margin",
    "media-type",
]

#: document-password-supported (PWG 5100.13 §6.5.2): the longest PDF password, in octets.
DOCUMENT_PASSWORD_MAX = 1023
#: ``mopria-certified`` (printer attribute, text; and the DNS-SD TXT key of the same name):
#: the Mopria Print Service and Android's built-in print service (AOSP BIPS,
#: ``ipp_print.c`` parse_printerAttributes) look for it before offering a printer, and
#: PAPPL advertises "1.3".  Windows' IPP class driver lists Mopria-certified printers.
MOPRIA_CERTIFIED = "1.3"
MULTIPLE_OPERATION_TIME_OUT = 60
NOTIFY_LEASE_DEFAULT = 86400
IPPGET_EVENT_LIFE = 60


def ipp_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def media_col(caps: Capabilities, media: str, source: str | None = None,
              media_type: str | None = None) -> dict[str, Any]:
    """A media-col collection for a PWG media name (PWG 5100.7 §6.3)."""
    size = parse_media(media)
    bottom, left, right, top = caps.margins
    col: dict[str, Any] = {
        "media-size": {"x-dimension": size.width, "y-dimension": size.length},
        "media-bottom-margin": bottom,
        "media-left-margin": left,
        "media-right-margin": right,
        "media-top-margin": top,
    }
    if source:
        col["media-source"] = source
    if media_type:
        col["media-type"] = media_type
    return col


def preferred_format(formats: list[str]) -> str:
    """document-format-preferred: the format a client that can produce several should
    send (Windows' IPP class driver and Mopria clients read it to choose).  PWG raster is
    the cheapest for this box to print (a band decoder, no PDF renderer), then Apple
    raster, then PDF."""
    for fmt in ("image/pwg-raster", "image/urf", "application/pdf"):
        if fmt in formats:
            return fmt
    return formats[0] if formats else "application/octet-stream"


def supply_value(printer: Printer) -> list[bytes]:
    """printer-supply octetStrings (PWG 5100.13 §6.6.2), the same keys as RFC 3805."""
    values = []
    for s in printer.supplies:
        values.append(
            f"index={s.index};class=supplyThatIsConsumed;type={s.kind};unit=percent;"
            f"maxcapacity={s.capacity};level={s.level};colorantname={s.color};".encode()
        )
    return values


def alert_value(system: System, alert: Alert) -> bytes:
    """printer-alert (PWG 5100.9 §7.1.1): the RFC 3805 alert entry as key=value pairs."""
    return (f"code={alert.kind.code};index={alert.index};severity={alert.kind.severity};"
            f"training={alert.kind.training};group={alert.kind.group};"
            f"time={system.up_time(alert.raised)}").encode()


#: Requested-attributes lists whose selection is remembered per printer.
MAX_SELECTIONS = 32
#: A remembered selection: the attributes chosen, and the filter (for the clock ones).
Selection = tuple[dict[str, Attribute], Callable[[str], bool]]


class PrinterAttributes:
    """Builds the printer group of Get-Printer-Attributes for one printer.

    Attributes that only change with the configuration are built once per
    ``config_change_time`` and reused; live ones once per model revision; the clock
    ones per request.  The selection a requested-attributes list makes is remembered
    too (clients poll with the same few lists), until either part changes.
    """

    def __init__(self, system: System, printer: Printer,
                 operations: Sequence[int] = ()) -> None:
        self.system = system
        self.printer = printer
        #: operations-supported (RFC 8011 §5.4.15): the IPP responder passes its
        #: operation table's codes (firmware.ipp.operations.SUPPORTED), which sits above
        #: this module; without any (DNS-SD, whose TXT record does not read it) the
        #: attribute is left out.
        self.operations = [int(op) for op in operations]
        self._static: list[Attribute] = []
        self._static_key: tuple[float, str] | None = None
        self._live: list[Attribute] = []
        self._live_key: tuple[int, str] | None = None
        self._selections: dict[frozenset[str], Selection] = {}
        self._selections_key: tuple[object, object] | None = None

    # -- helpers
    def base_uri(self, host: str) -> str:
        path = self.system.printer_path(self.printer)
        return f"ipp://{host}{path}"

    def uris(self, host: str) -> list[tuple[str, str, str]]:
        """(printer-uri, uri-security, uri-authentication) triples (RFC 8011 §5.4.1-3).

        An open printer is reachable over ipp:// and, with TLS, ipps://; one that needs a
        login only over ipps:// with HTTP Basic, which is never accepted in the clear.
        """
        path = self.system.printer_path(self.printer)
        tls = self.system.tls_enabled
        if self.printer.auth_policy == "authenticated":
            return [(f"ipps://{host}{path}", "tls", "basic")]
        uris = [(f"ipp://{host}{path}", "none", "none")]
        if tls:
            uris.append((f"ipps://{host}{path}", "tls", "none"))
        return uris

    def _static_attributes(self, host: str) -> list[Attribute]:
        key = (self.printer.config_change_time, host)
        if self._static_key != key:
            self._static = [
                pre_encode(v if isinstance(v, Attribute) else make_attribute(n, v))
                for n, v in self._static_values(host)
            ]
            self._static_key = key
        return self._static

    def _static_values(self, host: str) -> Iterable[tuple[str, Any]]:
        printer, ident = self.printer, self.printer.identity
        caps = printer.capabilities
        web = f"http://{host}/"
        media_db = [media_col(caps, m, src, typ) for m in caps.media
                    for src in caps.media_sources for typ in caps.media_types]
        resolutions = [Resolution(r, r) for r in caps.resolutions]
        yield "charset-configured", "utf-8"
        yield "charset-supported", ["utf-8", "us-ascii"]
        yield "color-supported", caps.color
        yield "compression-supported", ["none", "deflate", "gzip"]
        yield "copies-default", 1
        yield "copies-supported", Range(1, caps.max_copies)
        yield "document-format-default", "application/octet-stream"
        yield "document-format-supported", caps.formats
        yield "document-format-preferred", preferred_format(caps.formats)
        if "application/pdf" in caps.formats:
            yield "document-password-supported", DOCUMENT_PASSWORD_MAX
        yield "finishings-default", 3
        yield "finishings-supported", [3]
        yield "generated-natural-language-supported", ["en"]
        yield "identify-actions-default", ["flash"]
        yield "identify-actions-supported", ["display", "flash"]
        yield "ipp-features-supported", ["ipp-everywhere"]
        yield "ipp-versions-supported", IPP_VERSIONS
        yield "ippget-event-life", IPPGET_EVENT_LIFE
        yield "job-creation-attributes-supported", JOB_CREATION_ATTRIBUTES
        yield "job-hold-until-default", "no-hold"
        yield "job-hold-until-supported", ["no-hold", "indefinite"]
        yield "job-ids-supported", True
        yield "job-privacy-attributes", ["default"]
        yield "job-privacy-attributes-supported", ["none", "all", "default", "job-description",
                                                   "job-template"]
        yield "job-privacy-scope", "owner"
        yield "job-privacy-scope-supported", ["all", "default", "owner"]
        yield "job-settable-attributes-supported", list(JOB_SETTABLE)
        yield "job-sheets-default", "none"
        yield "job-sheets-supported", ["none"]
        yield "job-priority-default", 50
        yield "job-priority-supported", 100
        yield "landscape-orientation-requested-preferred", 5
        yield "marker-colors", [s.color_hex for s in printer.supplies]
        yield "marker-high-levels", [100 for _ in printer.supplies]
        yield "marker-low-levels", [10 for _ in printer.supplies]
        yield "marker-names", [s.name for s in printer.supplies]
        yield "marker-types", [s.kind for s in printer.supplies]
        yield "media-bottom-margin-supported", [caps.margins[0]]
        yield "media-col-database", media_db
        yield "media-col-default", media_col(caps, caps.default_media, caps.media_sources[0],
                                             caps.media_types[0])
        yield "media-col-supported", MEDIA_COL_MEMBERS
        yield "media-default", caps.default_media
        yield "media-left-margin-supported", [caps.margins[1]]
        yield "media-right-margin-supported", [caps.margins[2]]
        yield "media-size-supported", [
            {"x-dimension": parse_media(m).width, "y-dimension": parse_media(m).length}
            for m in caps.media
        ]
        yield "media-source-supported", caps.media_sources
        yield "media-supported", caps.media
        yield "media-top-margin-supported", [caps.margins[3]]
        yield "media-type-supported", caps.media_types
        yield "multiple-document-handling-default", "separate-documents-collated-copies"
        yield "multiple-document-handling-supported", [
            "separate-documents-uncollated-copies", "separate-documents-collated-copies"]
        yield "multiple-document-jobs-supported", True
        yield "document-settable-attributes-supported", ["none"]
        yield "multiple-operation-time-out", MULTIPLE_OPERATION_TIME_OUT
        yield "multiple-operation-time-out-action", "abort-job"
        yield "natural-language-configured", "en"
        yield "notify-events-default", ["job-completed"]
        yield "notify-events-supported", NOTIFY_EVENTS
        yield "notify-lease-duration-default", NOTIFY_LEASE_DEFAULT
        yield "notify-lease-duration-supported", Range(0, 67108863)
        yield "notify-max-events-supported", 100
        yield "notify-pull-method-supported", ["ippget"]
        if self.operations:
            yield "operations-supported", self.operations
        yield "orientation-requested-default", 3
        yield "orientation-requested-supported", [3, 4, 5, 6]
        yield "number-up-default", 1
        yield "number-up-supported", [1]
        yield "output-bin-default", "face-down"
        yield "output-bin-supported", ["face-down"]
        yield "overrides-supported", ["document-number", "document-numbers", "pages"]
        yield "page-ranges-supported", True
        yield "mopria-certified", MOPRIA_CERTIFIED
        yield "pages-per-minute", caps.ppm
        if caps.color:  # RFC 8011 §5.4.37: only a colour printer reports it
            yield "pages-per-minute-color", caps.ppm_color or caps.ppm
        yield "pdl-override-supported", "attempted"
        yield "print-color-mode-default", "color" if caps.color else "monochrome"
        yield "print-color-mode-supported", ["auto", *caps.color_modes]
        yield "print-content-optimize-default", "auto"
        yield "print-content-optimize-supported", CONTENT_OPTIMIZE
        yield "print-quality-default", 4
        yield "print-quality-supported", [3, 4, 5]
        yield "preferred-attributes-supported", False
        yield "print-rendering-intent-default", "auto"
        yield "print-rendering-intent-supported", ["auto"]
        yield "print-scaling-default", "auto"
        yield "print-scaling-supported", PRINT_SCALING
        yield "printer-device-id", ident.device_id or "MFG:Printbridge;MDL:Printer;"
        yield "printer-dns-sd-name", printer.dnssd_name
        yield "printer-firmware-name", ["Printbridge"]
        yield "printer-firmware-string-version", [__version__]
        yield "printer-firmware-version", [__version__.encode()]
        yield "printer-geo-location", (
            ident.geo_location or make_attribute(
                "printer-geo-location", OutOfBand(ValueTag.UNKNOWN), tag=ValueTag.UNKNOWN))
        yield "printer-get-attributes-supported", ["document-format"]
        yield "printer-icons", [f"http://{host}/icon-{n}.png" for n in (48, 128, 512)]
        yield "printer-info", ident.info or printer.name
        yield "printer-kind", ["document"]
        yield "printer-location", ident.location
        yield "printer-make-and-model", ident.make_and_model
        yield "printer-more-info", web
        yield "printer-message-from-operator", ""
        yield "printer-name", printer.name
        yield "printer-organization", [ident.organization]
        yield "printer-organizational-unit", [""]
        yield "printer-settable-attributes-supported", PRINTER_SETTABLE_ATTRIBUTES
        yield "printer-resolution-default", Resolution(caps.default_resolution,
                                                       caps.default_resolution)
        yield "printer-resolution-supported", resolutions
        yield "printer-supply-info-uri", web
        uris = self.uris(host)
        yield "printer-uri-supported", [u for u, _, _ in uris]
        yield "printer-uuid", printer.uuid
        yield "pwg-raster-document-resolution-supported", resolutions
        yield "pwg-raster-document-sheet-back", "normal"
        yield "pwg-raster-document-type-supported", caps.raster_types
        yield "sides-default", "one-sided"
        yield "sides-supported", caps.sides
        yield "uri-authentication-supported", [a for _, _, a in uris]
        yield "uri-security-supported", [t for _, t, _ in uris]
        yield "urf-supported", caps.urf
        yield "which-jobs-supported", WHICH_JOBS

    def _clock_values(self) -> Iterable[tuple[str, Any]]:
        now = time.time()
        yield "printer-current-time", ipp_datetime(now)
        yield "printer-up-time", self.system.up_time(now)

    def _live_attributes(self, host: str) -> list[Attribute]:
        key = (self.printer.revision, host)
        if self._live_key != key:
            self._live = [pre_encode(make_attribute(n, v, validate=False))
                          for n, v in self._live_values()]
            self._live_key = key
        return self._live

    def _live_values(self) -> Iterable[tuple[str, Any]]:
        printer = self.printer
        yield "marker-levels", [s.level for s in printer.supplies]
        yield "media-col-ready", [media_col(printer.capabilities, t.media, t.source, t.media_type)
                                  for t in printer.trays]
        yield "media-ready", [t.media for t in printer.trays]
        alerts = printer.active_alerts
        yield "printer-alert", [alert_value(self.system, a) for a in alerts]
        yield "printer-alert-description", [alert_text(a) for a in alerts]
        yield "printer-config-change-date-time", ipp_datetime(printer.config_change_time)
        yield "printer-config-change-time", self.system.up_time(printer.config_change_time)
        yield "printer-is-accepting-jobs", printer.accepting_jobs
        yield "printer-state", int(printer.state)
        yield "printer-state-change-date-time", ipp_datetime(printer.state_change_time)
        yield "printer-state-change-time", self.system.up_time(printer.state_change_time)
        yield "printer-state-message", printer.message or _state_message(printer)
        yield "printer-state-reasons", printer.reasons
        yield "printer-supply", supply_value(printer)
        yield "printer-supply-description", [s.name for s in printer.supplies]
        yield "queued-job-count", printer.queued_job_count

    def for_request(self, host: str, requested: list[str] | None) -> AttributeGroup:
        """The printer attributes group for a requested-attributes list (RFC 8011
        §4.2.5.1): :meth:`group` with :func:`requested_filter`, the selection cached."""
        static = self._static_attributes(host)
        live = self._live_attributes(host)
        key = (self._static_key, self._live_key)
        if key != self._selections_key:
            self._selections = {}
            self._selections_key = key
        names = frozenset(requested or ("all",))
        selection = self._selections.get(names)
        if selection is None:
            wanted = requested_filter(list(names))
            chosen = {a.name: a for a in static if wanted(a.name)}
            chosen.update((a.name, a) for a in live if wanted(a.name))
            selection = (chosen, wanted)
            if len(self._selections) < MAX_SELECTIONS:  # bounded against odd clients
                self._selections[names] = selection
        chosen, wanted = selection
        return self._with_clock(AttributeGroup.of(DelimiterTag.PRINTER, chosen), wanted)

    def group(self, host: str, wanted: Callable[[str], bool]) -> AttributeGroup:
        """The printer attributes group holding exactly the attributes ``wanted``."""
        group = AttributeGroup(DelimiterTag.PRINTER)
        for attribute in self._static_attributes(host):
            if wanted(attribute.name):
                group.append(attribute)
        for attribute in self._live_attributes(host):
            if wanted(attribute.name):
                group.append(attribute)
        return self._with_clock(group, wanted)

    def _with_clock(self, group: AttributeGroup, wanted: Callable[[str], bool]
                    ) -> AttributeGroup:
        for name, value in self._clock_values():
            if wanted(name):
                # Our own values, typed by the registry; validated by the test suite.
                group.append(make_attribute(name, value, validate=False))
        return group


def _state_message(printer: Printer) -> str:
    reasons = [REASON_TEXT.get(r, r) for r in printer.reasons if r != "none"]
    return "; ".join(reasons) or ("Printing" if printer.active_job else "Ready")


_TEMPLATE = [*JOB_CREATION_ATTRIBUTES, "job-priority", "media-col", "number-up", "job-sheets"]
#: Attributes in the 'job-template' group of requested-attributes (RFC 8011 §4.2.5.1).
JOB_TEMPLATE_GROUP = frozenset(
    [f"{n}-default" for n in _TEMPLATE]
    + [f"{n}-supported" for n in _TEMPLATE]
    + ["media-ready", "media-col-ready", "media-size-supported", "media-source-supported",
       "media-type-supported", "media-bottom-margin-supported", "media-left-margin-supported",
       "media-right-margin-supported", "media-top-margin-supported",
       "printer-resolution-supported", "printer-resolution-default", "overrides-supported"]
)


def requested_filter(requested: list[str] | None) -> Callable[[str], bool]:
    """Which printer attributes a requested-attributes list selects.

    'all' covers everything but media-col-database, which is large and only returned when
    asked for by name or by its own group name (PWG 5100.7 §6.9.22).
    """
    if not requested:
        requested = ["all"]
    names = set(requested)
    everything = "all" in names
    template = "job-template" in names
    description = "printer-description" in names

    def wanted(name: str) -> bool:
        if name in names:
            return True
        if name == "media-col-database":
            return False
        if everything:
            return True
        in_template = name in JOB_TEMPLATE_GROUP
        return (template and in_template) or (description and not in_template)

    return wanted
