"""The System: printers, the spool and the event bus — PAPPL's ``pappl_system_t``.

Front ends get the printer model and the job operations from here; they never touch the
spool's files or a port directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import time
import uuid as uuidlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from firmware import __version__
from firmware.config import Config, PrinterConfig
from firmware.events import EventBus, EventKind
from firmware.job import Document, Job, JobState
from firmware.media import paper_for, parse_media_ready
from firmware.pipeline import Pipeline
from firmware.pipeline.drivers import select_driver
from firmware.printer import Identity, Printer
from firmware.security import Limits
from firmware.spool import Spool, atomic_write
from firmware.worker import PrintWorker
from hal.emulated import EmulatedPort
from hal.registry import create_port

log = logging.getLogger(__name__)


#: Finished jobs keep documents up to this size for Restart-Job and Reprocess-Job.
RETAIN_DOCUMENTS_MAX = 32 * 1024 * 1024

#: Identity fields an administrator may change at run time (IPP Set-Printer-Attributes).
SETTABLE_IDENTITY = ("info", "location", "geo_location", "organization")

#: How long 'identify-printer-requested' stays in printer-state-reasons after an
#: Identify-Printer (PWG 5100.13 §5.3), whoever asked (IPP, the web page, the admin socket).
IDENTIFY_SECONDS = 5.0
#: identify-actions the printer takes (PWG 5100.13 §6.2.4); anything else is refused.
IDENTIFY_ACTIONS = ("display", "flash", "sound", "speak")


class SubmissionError(Exception):
    """A document could not be accepted (nothing of it was kept)."""


class SpoolFullError(SubmissionError):
    """The state directory is (nearly) full: no job is accepted until space returns."""


class System:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.version = __version__
        self.events = EventBus()
        self.start_time = time.time()
        #: Set by the daemon once every listener (IPP, SNMP, 9100, LPD, DNS-SD) is up.
        self.ready = False
        #: The ``.local`` host name DNS-SD claimed (RFC 6762 §8), once it has; "" without.
        self.mdns_host = ""
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.spool = Spool(config.state_dir / "spool")
        self.limits = Limits.from_config(config)
        self.printers: dict[str, Printer] = {}
        self.workers: dict[str, PrintWorker] = {}
        #: IPPS/HTTPS on the IPP port (set by the HTTP server once TLS is set up).
        self.tls_enabled = False
        self.tls_fingerprint = ""
        #: Fire-and-forget tasks (timeouts, identify) kept referenced until they finish.
        self.background: set[asyncio.Task[None]] = set()
        #: Per printer, the timer that ends its 'identify-printer-requested' reason.
        self._identify_timers: dict[str, asyncio.TimerHandle] = {}
        self._printer_dir = config.state_dir / "printers"
        self._printer_dir.mkdir(exist_ok=True)
        #: The paper loaded where nothing says otherwise: by ``[daemon] country``, else
        #: the service's locale (LC_ALL, LC_PAPER, LANG): Letter in US/CA, else A4.
        self.paper = paper_for(config.country, os.environ)
        log.debug("paper loaded by default: %s (country %r, LC_ALL %r, LC_PAPER %r, "
                  "LANG %r)", self.paper, config.country, os.environ.get("LC_ALL", ""),
                  os.environ.get("LC_PAPER", ""), os.environ.get("LANG", ""))
        #: Per printer, what the configuration loads in each tray (source -> media): an
        #: administrator's later choice stands until this changes.
        self._configured_ready: dict[str, dict[str, str]] = {}
        for pcfg in config.printers:
            self._add_printer(pcfg)

    # -- printers
    def _add_printer(self, pcfg: PrinterConfig) -> Printer:
        saved = self._load_printer_state(pcfg.name)
        options = dict(pcfg.options)
        if pcfg.port.startswith("emulated"):
            options.setdefault("output", str(self.config.state_dir / "output"))
        port = create_port(pcfg.port, options)
        device_id = port.device_id()
        # The driver follows the printer's language (device ID CMD:, or driver = ...);
        # its capabilities are what IPP, DNS-SD and SNMP advertise.
        pipeline = Pipeline(select_driver(device_id, pcfg.driver, options))
        identity = Identity(
            name=pcfg.name,
            make_and_model=pcfg.make_and_model or "Printbridge Printer",
            location=pcfg.location,
            info=pcfg.info or pcfg.name,
            geo_location=pcfg.geo_location,
            uuid=saved.get("uuid") or uuidlib.uuid4().urn,
            device_id=device_id,
        )
        printer = Printer(identity, pcfg.port, self.events, capabilities=pipeline.capabilities)
        counters = saved.get("counters", {})
        for key in ("impressions", "sheets", "jobs"):
            setattr(printer.counters, key, int(counters.get(key, 0)))
        printer.paused = bool(saved.get("paused", False))
        printer.accepting = bool(saved.get("accepting", True))
        printer.hold_new_jobs = bool(saved.get("hold_new_jobs", False))
        self._restore_settings(printer, saved)
        self._load_ready_media(printer, pcfg, saved)
        if pcfg.policy not in ("open", "authenticated"):
            raise ValueError(f"printer {pcfg.name}: policy must be open or authenticated")
        printer.auth_policy = pcfg.policy
        self.printers[pcfg.name] = printer
        self.workers[pcfg.name] = PrintWorker(self, printer, port, pipeline)
        if not saved:
            self.save_printer(printer)
        return printer

    def _printer_file(self, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self._printer_dir / f"{safe}.json"

    def _load_printer_state(self, name: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._printer_file(name).read_text())
            return data
        except (OSError, ValueError):
            return {}

    async def _save_in_order(self, printer: Printer) -> None:
        """Save the printer's state on the spool's one I/O thread, after every write asked
        for before (the order that keeps an older state from landing last)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.spool.executor, self.save_printer, printer)

    def save_printer(self, printer: Printer) -> None:
        """Persist what must survive a restart: the UUID, counters, admin state."""
        configured = self._configured_ready.get(printer.name, {})
        data = {
            "uuid": printer.uuid,
            "counters": {
                "impressions": printer.counters.impressions,
                "sheets": printer.counters.sheets,
                "jobs": printer.counters.jobs,
            },
            "paused": printer.paused,
            "accepting": printer.accepting,
            "hold_new_jobs": printer.hold_new_jobs,
            "settings": {key: getattr(printer.identity, key) for key in SETTABLE_IDENTITY},
            # What each tray holds, and what the configuration said when it was saved.
            "trays": {
                tray.source: {"media": tray.media, "type": tray.media_type,
                              "configured": configured.get(tray.source, "")}
                for tray in printer.trays
            },
        }
        atomic_write(self._printer_file(printer.name), json.dumps(data).encode())

    @staticmethod
    def _restore_settings(printer: Printer, saved: dict[str, Any]) -> None:
        """Identity values an administrator changed (Set-Printer-Attributes, the web page)
        win over the config file until the config file changes them again."""
        for key, value in saved.get("settings", {}).items():
            if key in SETTABLE_IDENTITY and isinstance(value, str):
                setattr(printer.identity, key, value)

    def _configured_media(self, printer: Printer, pcfg: PrinterConfig) -> dict[str, str]:
        """What the configuration loads in each tray: ``media_ready`` where it names a
        size the driver prints, else ``default_media`` when set, else the country's
        paper (:attr:`paper`) when the driver prints it, else the driver's default (a
        receipt roll).  A malformed ``media_ready`` is a configuration error; a size
        this printer's driver lacks (the driver can follow the printer plugged in) is
        logged and the default loaded instead."""
        caps = printer.capabilities
        if "default_media" in pcfg.options and caps.default_media in caps.media:
            fallback = caps.default_media
        elif self.paper in caps.media:
            fallback = self.paper
        else:
            fallback = caps.default_media
        configured = {tray.source: fallback for tray in printer.trays}
        text = pcfg.options.get("media_ready", "").strip()
        if not text:
            return configured
        try:
            wanted = parse_media_ready(text)
        except ValueError as exc:
            raise ValueError(f"printer {pcfg.name}: media_ready = {text}: {exc}") from None
        for source, media in wanted.items():
            source = source or printer.trays[0].source
            try:
                printer.check_ready(source, media)
            except ValueError as exc:
                log.warning("printer %s: media_ready: %s; tray %s has %s", pcfg.name, exc,
                            source, configured.get(source, fallback))
                continue
            configured[source] = media
        return configured

    def _load_ready_media(self, printer: Printer, pcfg: PrinterConfig,
                          saved: dict[str, Any]) -> None:
        """Load the trays: the configuration's media, or what an administrator set later
        (Set-Printer-Attributes, the web page) as long as the configuration still says
        what it said then -- an edited ``printbridge.conf`` wins again."""
        printer.default_follows_ready = "default_media" not in pcfg.options
        configured = self._configured_media(printer, pcfg)
        self._configured_ready[printer.name] = configured
        ready, types = dict(configured), {}
        trays = saved.get("trays", {})
        for source, entry in (trays.items() if isinstance(trays, dict) else ()):
            if not isinstance(entry, dict) or entry.get("configured") != configured.get(source):
                continue
            media, media_type = str(entry.get("media")), entry.get("type")
            kind = str(media_type) if media_type else None
            try:
                printer.check_ready(str(source), media, kind)
            except ValueError as exc:
                log.warning("printer %s: saved tray %s: %s", printer.name, source, exc)
                continue
            ready[source] = media
            if kind:
                types[source] = kind
        printer.load_media(ready, types)

    async def set_media_ready(self, printer: Printer, ready: Mapping[str, str],
                              types: Mapping[str, str] | None = None) -> None:
        """Say what paper is loaded (tray source -> media name, and media type): what
        IPP's media-ready and media-col-ready report (RFC 8011 §5.2.11, PWG 5100.7 §6.3)
        and, unless ``default_media`` is configured, what media-default becomes.  Only
        sizes the driver prints are accepted (ValueError, nothing changed).  Saved so it
        survives a restart; announced as printer-config-changed (RFC 3995), which also
        renews what IPP built from the configuration.  Called by Set-Printer-Attributes
        and the web settings page alike."""
        printer.load_media(ready, types)
        await self._save_in_order(printer)
        printer.changed(EventKind.PRINTER_CONFIG_CHANGED)

    async def set_identity(self, printer: Printer, **values: str) -> None:
        for key, value in values.items():
            if key not in SETTABLE_IDENTITY:
                raise KeyError(key)
            setattr(printer.identity, key, value)
        await self._save_in_order(printer)
        printer.changed(EventKind.PRINTER_CONFIG_CHANGED)

    async def set_accepting(self, printer: Printer, accepting: bool) -> None:
        printer.accepting = accepting
        await self._save_in_order(printer)
        printer.changed()

    @property
    def default_printer(self) -> Printer:
        return next(iter(self.printers.values()))

    def printer(self, name: str | None) -> Printer | None:
        """The printer called ``name``, matched without regard to case: Windows and
        Mopria lowercase the ``rp`` TXT path they discovered (``ipp/print/Office`` comes
        back as ``ipp/print/office``), as CUPS and PAPPL allow for."""
        if not name:
            return self.default_printer
        found = self.printers.get(name)
        if found is None:
            folded = name.casefold()
            found = next((p for n, p in self.printers.items() if n.casefold() == folded), None)
        return found

    def printer_path(self, printer: Printer) -> str:
        """The printer's IPP resource: the first printer is also at ``/ipp/print``."""
        if printer is self.default_printer:
            return "/ipp/print"
        return f"/ipp/print/{printer.name}"

    def up_time(self, timestamp: float | None = None) -> int:
        """Seconds since start, as IPP's *-time attributes count (RFC 8011 §5.4.29); >= 1."""
        when = time.time() if timestamp is None else timestamp
        return max(1, int(when - self.start_time) + 1)

    def find_job(self, job_id: int) -> Job | None:
        for printer in self.printers.values():
            if job_id in printer.jobs:
                return printer.jobs[job_id]
        return None

    # -- lifecycle
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        jobs = await loop.run_in_executor(self.spool.executor, self.spool.load)
        for job in jobs:
            printer = self.printers.get(job.printer)
            if printer is None:
                log.warning("spool: job %d is for unknown printer %r; kept", job.id, job.printer)
                continue
            printer.jobs[job.id] = job
        await self._trim_history()
        for worker in self.workers.values():
            worker.start()
        for printer in self.printers.values():
            printer.changed()

    async def stop(self) -> None:
        for task in list(self.background):
            task.cancel()
        for timer in self._identify_timers.values():
            timer.cancel()
        for worker in self.workers.values():
            await worker.stop()
        # Let the I/O thread finish what it was asked first: the last save must be the
        # newest state, and two writers of one file would race for its temp name.
        self.spool.executor.shutdown(wait=True)
        for printer in self.printers.values():
            self.save_printer(printer)

    def add_printer(self, pcfg: PrinterConfig, *, start: bool = True) -> Printer:
        """Add a printer after construction: one plugged in at run time (hotplug), or one
        remembered from an earlier run (then before :meth:`start`, ``start=False``, so
        its spooled jobs are loaded with the others).

        Front ends read ``self.printers`` at request time (IPP creates a new printer's
        attributes on first use), so the new queue is served at once.
        """
        if pcfg.name in self.printers:
            raise ValueError(f"printer {pcfg.name!r} already exists")
        printer = self._add_printer(pcfg)
        if start:
            self.workers[pcfg.name].start()
            printer.changed(EventKind.PRINTER_CONFIG_CHANGED)
            printer.changed()
        return printer

    # -- durable job changes
    async def save_job(self, job: Job) -> None:
        snapshot = self.spool.encode(job)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.spool.executor, self.spool.write_snapshot, job.id, snapshot)

    def job_changed(self, job: Job, kind: EventKind = EventKind.JOB_STATE_CHANGED) -> None:
        printer = self.printers.get(job.printer)
        if printer is not None:
            printer.job_changed(job, kind)

    async def job_changed_durable(self, job: Job) -> None:
        await self.save_job(job)
        self.job_changed(job)

    async def job_finished(self, job: Job) -> None:
        printer = self.printers[job.printer]
        if job.state == JobState.COMPLETED:
            printer.counters.jobs += 1
            printer.counters.impressions += job.impressions
            printer.counters.sheets += job.sheets
        loop = asyncio.get_running_loop()
        if job.size > RETAIN_DOCUMENTS_MAX or self.space_low():
            # Small documents stay for Restart-Job / Reprocess-Job until the job leaves
            # the history; large ones, or any when space runs low, go now so history never
            # keeps new jobs out.
            await loop.run_in_executor(self.spool.executor, self.spool.remove_documents, job)
            job.documents_retained = False
        await self.save_job(job)
        await self._save_in_order(printer)
        self.job_changed(job)
        await self._trim_history()
        with contextlib.suppress(SpoolFullError):
            self.check_space()  # space a finished job gave back lets jobs in again

    async def _trim_history(self) -> None:
        for printer in self.printers.values():
            finished = [j for j in printer.jobs.values() if j.state.terminal]
            excess = len(finished) - self.config.history
            if excess <= 0:
                continue
            loop = asyncio.get_running_loop()
            for job in finished[:excess]:
                del printer.jobs[job.id]
                await loop.run_in_executor(self.spool.executor, self.spool.delete, job)

    # -- submission
    def space_low(self) -> bool:
        """Less than twice the minimum free space is left in the spool."""
        stat = os.statvfs(self.spool.dir)
        return stat.f_bavail * stat.f_frsize < 2 * self.limits.min_free_space

    def check_space(self) -> None:
        """Mark every printer 'spool-area-full' (PWG 5100.9) while free space is below the
        configured minimum, and refuse new documents then."""
        stat = os.statvfs(self.spool.dir)
        full = stat.f_bavail * stat.f_frsize < self.limits.min_free_space
        for printer in self.printers.values():
            if full != ("spool-area-full" in printer.extra_reasons):
                if full:
                    printer.extra_reasons.add("spool-area-full")
                else:
                    printer.extra_reasons.discard("spool-area-full")
                printer.changed()
        if full:
            raise SpoolFullError("the spool is full; try again later")

    async def create_job(self, printer: Printer, **fields: Any) -> Job:
        """Create a job that waits for its documents (IPP Create-Job; step one of Print-Job)."""
        self.check_space()
        loop = asyncio.get_running_loop()
        job_id = await loop.run_in_executor(self.spool.executor, self.spool.next_id)
        job = Job(id=job_id, printer=printer.name, incoming=True, **fields)
        job.set_state(JobState.PENDING, "job-incoming")
        printer.jobs[job_id] = job
        await self.save_job(job)
        printer.job_changed(job, EventKind.JOB_CREATED)
        return job

    async def add_document(
        self,
        job: Job,
        data: AsyncIterable[bytes],
        *,
        format: str = "application/octet-stream",
        name: str = "",
        last: bool = True,
        attributes: dict[str, Any] | None = None,
        max_size: int | None = None,
    ) -> Document:
        """Stream a document into the spool; returns once it is durable on disk.

        On any failure nothing of the document is kept and the error propagates (the job
        itself is left for the caller to abort or keep waiting).
        """
        number = len(job.documents) + 1
        self.check_space()
        worker = self.workers.get(job.printer)
        if worker is not None:
            worker.prepare(format)
        if max_size is None and self.limits.max_job_size:
            max_size = self.limits.max_job_size
        writer = self.spool.open_document(job, number)
        loop = asyncio.get_running_loop()
        try:
            async for chunk in data:
                writer.write(chunk)
                if max_size is not None and writer.size > max_size:
                    raise SubmissionError(f"document larger than {max_size} bytes")
            await loop.run_in_executor(self.spool.executor, writer.commit)
        except OSError as exc:
            writer.abort()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                self.check_space()
                raise SpoolFullError("no space left for the document") from exc
            raise
        except BaseException:
            writer.abort()
            raise
        doc = Document(
            number=number,
            format=format,
            name=name,
            size=writer.size,
            path=writer.final.name,
            attributes=attributes or {},
        )
        job.documents.append(doc)
        if last:
            await self.close_job(job)
        else:
            await self.save_job(job)
        return doc

    async def close_job(self, job: Job) -> None:
        """No more documents: the job becomes printable (IPP Close-Job, last-document)."""
        job.incoming = False
        printer = self.printers[job.printer]
        if job.state.terminal:
            pass  # canceled while its documents were arriving: it stays canceled
        elif not job.documents:
            job.set_state(JobState.ABORTED, "job-data-insufficient")
        elif job.state == JobState.PENDING:
            held = printer.hold_new_jobs or job.attributes.get("job-hold-until", "no-hold") not in (
                "no-hold",
                None,
            )
            if held:
                job.set_state(JobState.PENDING_HELD, "job-hold-until-specified")
            else:
                job.set_state(JobState.PENDING, "job-queued")
            # Jobs print in the order they were accepted, not created: a slow upload
            # does not hold back the jobs acknowledged while it was arriving.
            job.order = max((j.order for j in printer.jobs.values() if j is not job),
                            default=0.0) + 1
        await self.save_job(job)
        self.job_changed(job)
        if job.state.terminal:
            await self.job_finished(job)

    async def print_test_page(self, printer: Printer, *, user: str, origin: str,
                              name: str = "Test page") -> Job:
        """The printer's test page as a job (the web page's Test page, the button)."""
        from firmware.testpage import test_page  # Pillow only when a page is asked for

        data, fmt = test_page(printer)

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return await self.submit(printer, chunks(), format=fmt, name=name, user=user,
                                 origin=origin)

    async def submit(
        self,
        printer: Printer,
        data: AsyncIterable[bytes],
        *,
        format: str = "application/octet-stream",
        **fields: Any,
    ) -> Job:
        """Create a job with one document (IPP Print-Job, LPD, raw 9100, ``printbridge print``)."""
        job = await self.create_job(printer, **fields)
        try:
            await self.add_document(job, data, format=format, name=job.name)
        except BaseException:
            await self.abort_incoming(job)
            raise
        return job

    async def abort_incoming(self, job: Job, reason: str = "submission-interrupted") -> None:
        job.incoming = False
        if job.state == JobState.COMPLETED:
            return  # it printed before the failure: finished, it stays so (RFC 8011 §5.3.7)
        if not job.state.terminal:
            # One canceled while it arrived stays canceled (RFC 8011 §5.3.7: a finished
            # job never changes state again); its documents go all the same.
            job.set_state(JobState.ABORTED, reason, "aborted-by-system")
        # Nothing of an unacknowledged submission stays in the spool.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.spool.executor, self.spool.remove_documents, job)
        job.documents_retained = False
        with contextlib.suppress(Exception):
            await self.job_finished(job)

    # -- job control
    async def cancel_job(self, job: Job, reason: str = "job-canceled-by-user") -> bool:
        """Cancel a job; False when it had already finished (RFC 8011 §4.3.3)."""
        if job.state.terminal:
            return False
        if job.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
            job.cancel_requested = True
            job.add_reason("processing-to-stop-point")
            self.job_changed(job)
            self.workers[job.printer].request_poll()
            return True
        job.incoming = False
        job.set_state(JobState.CANCELED, reason)
        await self.job_finished(job)
        return True

    async def restart_job(self, job: Job) -> bool:
        """Print a finished job again from its retained documents (RFC 8011 §4.3.7)."""
        if not job.state.terminal or not job.documents_retained or not job.documents:
            return False
        job.cancel_requested = False
        job.suspended = False
        job.delivered = False
        job.completed_at = None
        job.set_state(JobState.PENDING, "job-queued")
        job.order = float(max((j.order for j in self.printers[job.printer].jobs.values()),
                              default=0) + 1)
        await self.job_changed_durable(job)
        return True

    async def copy_job(self, job: Job, attributes: dict[str, Any] | None = None,
                       user: str | None = None) -> Job | None:
        """A new job with the retained documents of ``job`` (RFC 3998 Reprocess-Job,
        PWG 5100.11 Resubmit-Job); None when the documents are gone."""
        if not job.documents_retained or not job.documents:
            return None
        printer = self.printers[job.printer]
        new = await self.create_job(
            printer, name=job.name, user=user or job.user, origin=job.origin, host=job.host,
            attributes={**job.attributes, **(attributes or {})},
        )
        loop = asyncio.get_running_loop()
        for doc in job.documents:
            source = self.spool.path_of(doc)

            async def chunks(path: Any = source) -> AsyncIterator[bytes]:
                with open(path, "rb") as fh:
                    while chunk := await loop.run_in_executor(None, fh.read, 1 << 18):
                        yield chunk

            await self.add_document(new, chunks(), format=doc.format, name=doc.name, last=False)
        await self.close_job(new)
        return new

    async def move_job(self, job: Job, *, after: Job | None = None) -> None:
        """Promote-Job (``after`` None: print next) or Schedule-Job-After (RFC 3998 §3.3);
        the new order of every queued job is saved."""
        printer = self.printers[job.printer]
        queued = sorted((j for j in printer.jobs.values() if j.active and j is not job),
                        key=lambda j: j.order)
        if after is None:
            ahead = [j for j in queued if j.state in (JobState.PROCESSING,
                                                      JobState.PROCESSING_STOPPED)]
            rest = [j for j in queued if j not in ahead]
            order = [*ahead, job, *rest]
        else:
            index = queued.index(after) + 1 if after in queued else len(queued)
            order = [*queued[:index], job, *queued[index:]]
        for position, queued_job in enumerate(order, start=1):
            queued_job.order = float(position)
        for queued_job in order:
            await self.save_job(queued_job)
        printer.changed()

    async def hold_job(self, job: Job) -> bool:
        if job.state != JobState.PENDING:
            return False
        job.set_state(JobState.PENDING_HELD, "job-hold-until-specified")
        await self.job_changed_durable(job)
        return True

    async def release_job(self, job: Job) -> bool:
        if job.state != JobState.PENDING_HELD:
            return False
        job.attributes.pop("job-hold-until", None)
        job.set_state(JobState.PENDING, "job-queued")
        await self.job_changed_durable(job)
        return True

    async def purge_history(self, printer: Printer) -> None:
        """Forget every finished job of a printer (IPP Purge-Jobs)."""
        loop = asyncio.get_running_loop()
        for job in [j for j in printer.jobs.values() if j.state.terminal]:
            del printer.jobs[job.id]
            await loop.run_in_executor(self.spool.executor, self.spool.delete, job)
        printer.changed()

    # -- printer actions: every front end (IPP, web, admin socket, button) calls these,
    # so one action has one implementation and persists the same way whoever asks.
    async def set_paused(self, printer: Printer, paused: bool) -> None:
        """Pause-Printer / Resume-Printer (RFC 8011 §4.2.7-8): saved, survives a restart."""
        printer.paused = paused
        await self._save_in_order(printer)
        printer.changed()

    async def set_hold_new_jobs(self, printer: Printer, hold: bool) -> None:
        """Hold-New-Jobs (RFC 3998 §3.3.1: jobs accepted from now on are held) or
        Release-Held-New-Jobs (§3.3.2: that stops, and the jobs it held are released).
        Saved, so it survives a restart."""
        printer.hold_new_jobs = hold
        if not hold:
            for job in list(printer.jobs.values()):
                if job.state == JobState.PENDING_HELD and "job-hold-until" not in job.attributes:
                    await self.release_job(job)
        await self._save_in_order(printer)
        printer.changed()

    async def startup_printer(self, printer: Printer) -> None:
        """Startup-Printer (RFC 3998 §3.1.5): print and accept again."""
        await self.set_paused(printer, False)
        await self.set_accepting(printer, True)

    async def shutdown_printer(self, printer: Printer) -> None:
        """Stop accepting and printing; queued jobs stay (RFC 3998 §3.1.4)."""
        await self.set_accepting(printer, False)
        await self.set_paused(printer, True)

    async def restart_printer(self, printer: Printer) -> None:
        """Restart-Printer (RFC 3998 §3.1.3) and the web page's Restart: end an
        identify, print and accept again, and re-read the port's status."""
        self._end_identify(printer)
        await self.startup_printer(printer)
        self.workers[printer.name].request_poll()

    async def purge_jobs(self, printer: Printer) -> None:
        """Purge-Jobs (RFC 8011 §4.2.9): cancel every job and forget them all."""
        for job in list(printer.active_jobs()):
            await self.cancel_job(job, "job-canceled-by-operator")
        await self.purge_history(printer)

    def identify(self, printer: Printer, actions: list[str] | None = None,
                 message: str = "") -> None:
        """Identify-Printer (PWG 5100.13 §5.3): 'identify-printer-requested' for
        :data:`IDENTIFY_SECONDS` (the LED and the status page show it); a new request
        starts the time again.  ValueError, nothing changed, for an action the printer
        does not take."""
        unsupported = [a for a in actions or () if a not in IDENTIFY_ACTIONS]
        if unsupported:
            raise ValueError(f"unsupported identify-actions: {', '.join(unsupported)}")
        log.info("identify %s: %s", printer.name, message)
        printer.extra_reasons.add("identify-printer-requested")
        printer.changed()
        timer = self._identify_timers.pop(printer.name, None)
        if timer is not None:
            timer.cancel()
        self._identify_timers[printer.name] = asyncio.get_running_loop().call_later(
            IDENTIFY_SECONDS, self._end_identify, printer)

    def _end_identify(self, printer: Printer) -> None:
        timer = self._identify_timers.pop(printer.name, None)
        if timer is not None:
            timer.cancel()
        if "identify-printer-requested" in printer.extra_reasons:
            printer.extra_reasons.discard("identify-printer-requested")
            printer.changed()

    async def inject_fault(self, printer: Printer, condition: str,
                           value: int | None = None) -> None:
        """``printbridge emulate``: make the emulated printer report ``condition`` (a
        fault name, clear, toner LEVEL, paper SHEETS), then take a status reading, so the
        model learns of it as of a real fault: through :meth:`Printer.apply_port_status`."""
        worker = self.workers[printer.name]
        if not isinstance(worker.port, EmulatedPort):
            raise ValueError(f"printer {printer.name!r} is not an emulated printer")
        await worker.port_call(worker.port.inject, condition, value)
        await worker.poll()

    # -- job actions
    async def suspend_job(self, job: Job) -> bool:
        """Suspend-Current-Job (RFC 3998 §3.2.1): the printing job stops where it is;
        False unless it is printing."""
        if job.state not in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
            return False
        job.suspended = True
        job.set_state(JobState.PROCESSING_STOPPED, "job-suspended")
        await self.job_changed_durable(job)
        return True

    async def resume_job(self, job: Job) -> bool:
        """Resume-Job (RFC 3998 §3.2.2): a suspended job prints on; False for any other
        (one canceled or aborted while suspended is finished and never prints again)."""
        if not job.suspended or job.state == JobState.PENDING or job.state.terminal:
            return False
        job.suspended = False
        job.set_state(JobState.PROCESSING, "job-printing")
        await self.job_changed_durable(job)
        return True

    async def set_job_attributes(self, job: Job, *, name: str | None = None,
                                 priority: int | None = None,
                                 hold_until: str | None = None) -> None:
        """Set-Job-Attributes (RFC 3380 §4.2) on a waiting job: its name, priority and
        job-hold-until ('indefinite' holds it, 'no-hold' releases it).  The caller checked
        the values."""
        if name is not None:
            job.name = name
        if priority is not None:
            job.attributes["job-priority"] = priority
        if hold_until is not None:
            job.attributes["job-hold-until"] = hold_until
            if hold_until == "indefinite" and job.state == JobState.PENDING:
                job.set_state(JobState.PENDING_HELD, "job-hold-until-specified")
            elif hold_until == "no-hold" and job.state == JobState.PENDING_HELD:
                job.set_state(JobState.PENDING, "job-queued")
        await self.job_changed_durable(job)

    def status(self) -> dict[str, Any]:
        """A JSON-safe summary for ``printbridge status`` and the web page."""
        return {
            "version": self.version,
            "board": self.config.board,
            "uptime": round(time.time() - self.start_time, 1),
            "ready": self.ready,
            "mdns_host": self.mdns_host,
            "listen": self.config.listen,
            "ipp_port": self.config.ipp_port,
            "printers": [
                {
                    "name": p.name,
                    "uuid": p.uuid,
                    "state": p.state.keyword,
                    "reasons": p.reasons,
                    "paused": p.paused,
                    "accepting": p.accepting,
                    "hold_new_jobs": p.hold_new_jobs,
                    "port": p.port_uri,
                    "connected": p.port_connected,
                    "device_id": p.identity.device_id,
                    "make_and_model": p.identity.make_and_model,
                    "supplies": [
                        {"name": s.name, "color": s.color, "level": s.level} for s in p.supplies
                    ],
                    "trays": [
                        {"source": t.source, "media": t.media, "level": t.level} for t in p.trays
                    ],
                    "counters": {
                        "impressions": p.counters.impressions,
                        "sheets": p.counters.sheets,
                        "jobs": p.counters.jobs,
                    },
                    "jobs": [
                        {
                            "id": j.id,
                            "name": j.name,
                            "user": j.user,
                            "state": j.state.keyword,
                            "reasons": j.reasons,
                            "size": j.size,
                            "bytes_sent": j.bytes_sent,
                        }
                        for j in p.jobs.values()
                    ],
                }
                for p in self.printers.values()
            ],
        }
