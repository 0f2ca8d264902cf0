"""The printer model: the single source of truth every front end reads.

State, ``printer-state-reasons``, supplies, media, counters, identity and jobs of one
printer live here and nowhere else.  IPP, SNMP, DNS-SD, LPD, raw 9100 and the web pages
are views: they read these attributes at request time and subscribe to change events.
Shaped after PAPPL's ``pappl_printer_t``.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid as uuidlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from firmware.alerts import ALERT_FOR_CONDITION, POWER_UP, AlertKind
from firmware.capabilities import Capabilities
from firmware.events import Event, EventBus, EventKind
from firmware.job import Job, JobState
from firmware.reasons import is_error, reasons_for
from hal.port import STALLING_CONDITIONS, PortCondition, PortStatus


class StatusLight(enum.Enum):
    """The status LED's pattern (steady: ready; slow blink: printing; fast blink: error or
    offline) as (on, off) milliseconds — what the board's LED shows and RFC 3805's
    prtConsoleLightTable reports."""

    READY = (1000, 0)
    PRINTING = (500, 500)
    ERROR = (100, 100)

    @property
    def on_ms(self) -> int:
        return self.value[0]

    @property
    def off_ms(self) -> int:
        return self.value[1]


class PrinterState(enum.IntEnum):
    """RFC 8011 §5.4.11 ``printer-state``."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5

    @property
    def keyword(self) -> str:
        return self.name.lower()


@dataclass(slots=True)
class Supply:
    """One consumable (PWG 5100.13 printer-supply; RFC 3805 prtMarkerSuppliesEntry)."""

    index: int
    kind: str  # toner, ink, ...: PWG 5100.13 'type' keyword
    color: str  # colour name as in marker-names / prtMarkerColorantValue
    name: str
    level: int  # percent of capacity; -2 unknown, -3 some remaining (RFC 3805)
    capacity: int = 100
    color_hex: str = "#000000"


@dataclass(slots=True)
class MediaTray:
    """An input tray and what is loaded in it (RFC 3805 prtInputEntry; IPP media-ready,
    RFC 8011 §5.2.11, and media-col-ready, PWG 5100.7 §6.3).  The printer cannot tell
    what paper is in it: the administrator says (``media_ready``, Set-Printer-Attributes,
    the web settings page), or the country's paper is assumed (firmware.media.paper_for).
    """

    source: str = "main"
    media: str = "iso_a4_210x297mm"
    media_type: str = "stationery"
    level: int = -2  # sheets; -2 unknown (RFC 3805)
    capacity: int = -2


@dataclass(slots=True)
class Counters:
    impressions: int = 0
    sheets: int = 0
    jobs: int = 0  # completed jobs


@dataclass(slots=True)
class Identity:
    name: str
    make_and_model: str = "Printbridge Printer"
    location: str = ""
    info: str = ""
    geo_location: str = ""
    organization: str = ""
    uuid: str = field(default_factory=lambda: uuidlib.uuid4().urn)
    device_id: str = ""
    serial: str = ""
    #: The DNS-SD instance name in use (firmware.net.dnssd): the printer name, or
    #: "Name (2)" after a conflict on the link.  Empty until DNS-SD has started.
    dnssd_name: str = ""


@dataclass(slots=True)
class Alert:
    """One printer alert (RFC 3805 prtAlertEntry; PWG 5100.9 printer-alert).

    Raised when a port condition appears and marked cleared when it goes away; cleared
    alerts stay in the log for a while so monitoring tools see what happened.
    """

    index: int
    kind: AlertKind
    raised: float
    #: The port condition behind the alert; None for events such as power-up.
    condition: PortCondition | None = None
    cleared: float | None = None
    #: When cleared, the index of the alertRemovalOfBinaryChangeEntry event that records
    #: the clearing (RFC 3805 IANA-PRINTER-MIB PrtAlertCodeTC 1801): alert indexes count
    #: every event, raising and clearing alike.
    removal_index: int | None = None

    @property
    def active(self) -> bool:
        return self.cleared is None


#: How many cleared alerts the log keeps (RFC 3805 §2.2.13: "the agent decides").
CLEARED_ALERTS_KEPT = 20


class Printer:
    """One printer: identity, live state, supplies, counters and its jobs."""

    def __init__(self, identity: Identity, port_uri: str, events: EventBus,
                 capabilities: Capabilities | None = None) -> None:
        self.identity = identity
        self.port_uri = port_uri
        self.events = events
        #: What the printer can do, as its driver declares it (formats, media, resolutions).
        self.capabilities = capabilities or Capabilities()
        #: Who may print: "open" or "authenticated" (the admin group always administers).
        self.auth_policy = "open"
        self.alerts: list[Alert] = [Alert(1, POWER_UP, time.time())]
        self._next_alert = 2
        #: Critical alerts raised since start (RFC 3805 prtAlertCriticalEvents).
        self.critical_alert_count = 0
        self.jobs: dict[int, Job] = {}
        self.supplies: list[Supply] = [
            Supply(1, "toner", "black", "Black Toner", -2, 100, "#000000")
        ]
        #: One tray per media source the driver declares, loaded with its default media.
        caps = self.capabilities
        media_type = caps.media_types[0] if caps.media_types else "stationery"
        self.trays: list[MediaTray] = [
            MediaTray(source, caps.default_media, media_type) for source in caps.media_sources
        ] or [MediaTray()]
        #: media-default (what a job that names no media gets) is the first tray's paper,
        #: unless the configuration fixes it (``default_media``).
        self.default_follows_ready = True
        self.counters = Counters()
        self.port_conditions: frozenset[PortCondition] = frozenset()
        self.port_connected = False
        self.device_page_count: int | None = None
        self.paused = False
        self.accepting = True
        self.hold_new_jobs = False
        self.extra_reasons: set[str] = set()
        self.message = ""
        self.start_time = time.time()
        self.state_change_time = self.start_time
        self.config_change_time = self.start_time
        self.wakeup = asyncio.Event()
        #: Bumped on every change, so views can cache what they derive from the model.
        self.revision = 0
        self._last_state: tuple[PrinterState, tuple[str, ...]] = (self.state, tuple(self.reasons))

    # -- identity
    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def uuid(self) -> str:
        return self.identity.uuid

    @property
    def dnssd_name(self) -> str:
        """The name clients discover the printer by (IPP printer-dns-sd-name)."""
        return self.identity.dnssd_name or self.identity.name

    # -- media loaded
    def tray(self, source: str) -> MediaTray | None:
        return next((t for t in self.trays if t.source == source), None)

    def check_ready(self, source: str, media: str, media_type: str | None = None) -> None:
        """ValueError unless tray ``source`` may be said to hold ``media`` (and
        ``media_type``): only what the driver prints (media-supported,
        media-type-supported) can be ready, so clients never offer what cannot print."""
        caps = self.capabilities
        if self.tray(source) is None:
            raise ValueError(f"no tray {source!r} (trays: "
                             f"{', '.join(t.source for t in self.trays)})")
        if media not in caps.media:
            raise ValueError(f"{media} is not supported by this printer (supported: "
                             f"{', '.join(caps.media)})")
        if media_type is not None and media_type not in caps.media_types:
            raise ValueError(f"media type {media_type} is not supported by this printer "
                             f"(supported: {', '.join(caps.media_types)})")

    def load_media(self, ready: Mapping[str, str],
                   types: Mapping[str, str] | None = None) -> None:
        """Say what is loaded: tray source -> media name (and media type).  Everything is
        checked before anything changes; media-default follows the first tray unless the
        configuration fixes it.  Whoever calls this announces the change
        (:meth:`firmware.system.System.set_media_ready`)."""
        types = types or {}
        trays = {tray.source: tray for tray in self.trays}
        for source in ready.keys() | types.keys():
            kept = trays[source].media if source in trays else ""
            self.check_ready(source, ready.get(source, kept), types.get(source))
        for source, media in ready.items():
            trays[source].media = media
        for source, media_type in types.items():
            trays[source].media_type = media_type
        if self.default_follows_ready and self.trays:
            self.capabilities.default_media = self.trays[0].media

    # -- derived state
    @property
    def active_job(self) -> Job | None:
        for job in self.jobs.values():
            if job.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
                return job
        return None

    @property
    def stalled(self) -> bool:
        return bool(self.port_conditions & STALLING_CONDITIONS)

    @property
    def critical(self) -> bool:
        """A condition stops the printer: a stalling port condition or an error reason
        (what IPP's printer-state, SNMP's hrDeviceStatus and the LED all go by)."""
        return self.stalled or any(is_error(r) for r in self.extra_reasons)

    @property
    def state(self) -> PrinterState:
        if self.paused and self.active_job is None:
            return PrinterState.STOPPED
        if self.critical:
            return PrinterState.STOPPED
        if self.active_job is not None:
            return PrinterState.PROCESSING
        return PrinterState.IDLE

    @property
    def reasons(self) -> list[str]:
        found = reasons_for(self.port_conditions)
        if PortCondition.PAPER_OUT in self.port_conditions and self.queued_job_count:
            # A job waits for paper (RFC 8011 §5.4.12 'media-needed'; the
            # self-certification's I-20 watches for it).
            found.append("media-needed-error")
        if self.paused:
            found.append("paused" if self.active_job is None else "moving-to-paused")
        if self.hold_new_jobs:
            found.append("hold-new-jobs")
        found.extend(sorted(self.extra_reasons))
        return found or ["none"]

    @property
    def status_light(self) -> StatusLight:
        """The status LED: error or offline wins over printing, printing over ready."""
        if self.critical:
            return StatusLight.ERROR
        if self.active_job is not None:
            return StatusLight.PRINTING
        return StatusLight.READY

    @property
    def accepting_jobs(self) -> bool:
        """printer-is-accepting-jobs: the administrator's switch and room in the spool."""
        return self.accepting and "spool-area-full" not in self.extra_reasons

    @property
    def queued_job_count(self) -> int:
        return sum(1 for j in self.jobs.values() if j.active)

    def active_jobs(self) -> Iterator[Job]:
        return (j for j in self.jobs.values() if j.active)

    def next_job(self) -> Job | None:
        """The job to print next: the pending one first in queue order (accepted order,
        unless Promote-Job or Schedule-Job-After moved it)."""
        if self.paused:
            return None
        pending = [j for j in self.jobs.values() if j.state == JobState.PENDING and not j.incoming]
        return min(pending, key=lambda j: j.order, default=None)

    # -- changes; every mutation goes through here so views get an event
    def changed(self, kind: EventKind = EventKind.PRINTER_STATE_CHANGED) -> None:
        self.revision += 1
        now = time.time()
        if kind == EventKind.PRINTER_CONFIG_CHANGED:
            self.config_change_time = now
            self.events.publish(Event(kind, self.name))
            return
        snapshot = (self.state, tuple(self.reasons))
        if snapshot != self._last_state:
            self._last_state = snapshot
            self.state_change_time = now
            self.events.publish(Event(EventKind.PRINTER_STATE_CHANGED, self.name))
            if snapshot[0] == PrinterState.STOPPED:
                self.events.publish(Event(EventKind.PRINTER_STOPPED, self.name))
        self.wakeup.set()

    def job_changed(self, job: Job, kind: EventKind = EventKind.JOB_STATE_CHANGED) -> None:
        self.events.publish(Event(kind, self.name, job.id))
        if kind != EventKind.JOB_PROGRESS and job.state.terminal:
            self.events.publish(Event(EventKind.JOB_COMPLETED, self.name, job.id))
        self.changed()

    def apply_port_status(self, status: PortStatus, *, connected: bool = True) -> None:
        """Take a reading from the port: conditions, consumables, device counters."""
        self._update_alerts(status.conditions)
        self.port_conditions = status.conditions
        self.port_connected = connected
        if status.marker_levels:
            for supply in self.supplies:
                if supply.color in status.marker_levels:
                    supply.level = status.marker_levels[supply.color]
        if status.paper_level is not None and self.trays:
            self.trays[0].level = status.paper_level
        if status.page_count is not None:
            self.device_page_count = status.page_count
        self.changed()

    def _update_alerts(self, conditions: frozenset[PortCondition]) -> None:
        now = time.time()
        active = {a.condition: a for a in self.alerts if a.active and a.condition}
        for condition in conditions - active.keys():
            kind = ALERT_FOR_CONDITION.get(condition)
            if kind is not None:
                self.alerts.append(Alert(self._next_alert, kind, now, condition))
                self._next_alert += 1
                if kind.severity == "critical":
                    self.critical_alert_count += 1
        for condition, alert in active.items():
            if condition not in conditions:
                alert.cleared = now
                alert.removal_index = self._next_alert
                self._next_alert += 1
        cleared = [a for a in self.alerts if not a.active]
        if len(cleared) > CLEARED_ALERTS_KEPT:
            drop = {id(a) for a in cleared[: len(cleared) - CLEARED_ALERTS_KEPT]}
            self.alerts = [a for a in self.alerts if id(a) not in drop]

    @property
    def alert_count(self) -> int:
        """Alert events logged since start, raising and clearing (prtAlertAllEvents)."""
        return self._next_alert - 1

    @property
    def active_alerts(self) -> list[Alert]:
        """Alerts in force now: active conditions and unary events (power-up)."""
        return [a for a in self.alerts if a.active]
