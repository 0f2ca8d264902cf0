"""One worker per printer: streams jobs to the port in the order they were accepted.

The port is blocking, so every call to it runs on the port's own thread (one thread: a
USB handle or a tty is not safe to share).  The worker never holds a document in memory:
the document pipeline (:mod:`firmware.pipeline`) converts the spooled documents into the
printer's language on a conversion thread of its own, a chunk ahead of the port, and the
worker resends whatever the port did not take.

The worker sees the system that owns it only as a :class:`JobStore`: where a job's
documents are, saving a job, saying it changed, closing it, and two timings.  The
System is one; the worker does not import it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from firmware.aio import wait_event
from firmware.events import EventKind
from firmware.job import Document, Job, JobState
from firmware.pipeline import DocumentError, DocumentSource, Pipeline
from firmware.pipeline.drivers.passthrough import RAW
from firmware.spool import RESTARTED_REASON
from hal.port import Port, PortCondition, PortError, PortStatus

if TYPE_CHECKING:
    from firmware.printer import Printer

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
T = TypeVar("T")


class JobCanceled(Exception):
    pass


class WorkerSettings(Protocol):
    @property
    def status_interval(self) -> float: ...

    @property
    def write_timeout(self) -> float: ...


class DocumentFiles(Protocol):
    def path_of(self, document: Document) -> Path: ...


class JobStore(Protocol):
    """What a worker needs of the system that owns it (:class:`firmware.system.System`
    is one): the spooled documents' files, the settings it runs by, and the job store:
    save a job, announce a change (durably: saved first), close a finished job."""

    @property
    def config(self) -> WorkerSettings: ...

    @property
    def spool(self) -> DocumentFiles: ...

    async def save_job(self, job: Job) -> None: ...

    def job_changed(self, job: Job, kind: EventKind = EventKind.JOB_STATE_CHANGED) -> None: ...

    async def job_changed_durable(self, job: Job) -> None: ...

    async def job_finished(self, job: Job) -> None: ...


class PrintWorker:
    def __init__(self, store: JobStore, printer: Printer, port: Port,
                 pipeline: Pipeline | None = None) -> None:
        self.store = store
        self.printer = printer
        self.port = port
        #: Converts documents for this printer; None sends them as they are.
        self.pipeline = pipeline
        self.port_thread = ThreadPoolExecutor(1, thread_name_prefix=f"port-{printer.name}")
        #: Conversion is CPU-bound: it runs here, off the event loop (numpy and PDFium
        #: release the GIL while they work).
        self.convert_thread = ThreadPoolExecutor(1, thread_name_prefix=f"convert-{printer.name}")
        #: (impressions, sheets) the last rendering produced, when the pipeline knows.
        self._produced: tuple[int, int] | None = None
        self._port_open = False
        self._poll_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._warmed = False

    async def port_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.port_thread, lambda: fn(*args, **kwargs))

    # -- lifecycle
    def prepare(self, document_format: str) -> None:
        """A document is arriving.  If it will need converting, load the converter's
        libraries now, while it uploads: not at boot (a printer that is only sent its
        own language never loads numpy, Pillow or PDFium) and not after the upload (the
        first page would wait for them)."""
        if self._warmed or self.pipeline is None:
            return
        if document_format in self.pipeline.native or document_format == RAW:
            return  # sent as it is (raw data is auto-typed, and loads them if it must)
        self._warmed = True
        self.convert_thread.submit(self.pipeline.warm_up)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"worker-{self.printer.name}"),
            asyncio.create_task(self._monitor(), name=f"monitor-{self.printer.name}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.port_call(self.port.close)
        self.port_thread.shutdown(wait=True)
        self.convert_thread.shutdown(wait=True, cancel_futures=True)

    # -- status
    async def poll(self) -> PortStatus:
        """Read the port's conditions into the printer model (and the active job)."""
        try:
            if not self._port_open:
                await self.port_call(self.port.open)
                self._port_open = True
            status = await self.port_call(self.port.status)
            connected = True
        except PortError as exc:
            log.debug("%s: port unavailable: %s", self.printer.name, exc)
            self._port_open = False
            status = PortStatus(frozenset({PortCondition.UNPLUGGED}))
            connected = False
        self.printer.apply_port_status(status, connected=connected)
        self._sync_active_job()
        return status

    def request_poll(self) -> None:
        self._poll_now.set()

    async def _monitor(self) -> None:
        interval = self.store.config.status_interval
        while True:
            # Cleared before the reading, so a request made while it is taken (a cancel,
            # an injected fault) gets a reading of its own rather than waiting an interval.
            self._poll_now.clear()
            try:
                await self.poll()
            except Exception:
                log.exception("%s: status poll failed", self.printer.name)
            await wait_event(self._poll_now, interval)

    def _sync_active_job(self) -> None:
        job = self.printer.active_job
        if job is None:
            return
        if self.printer.stalled and job.state == JobState.PROCESSING:
            job.set_state(JobState.PROCESSING_STOPPED, "printer-stopped", *self._kept(job))
            self.store.job_changed(job)
        elif (not self.printer.stalled and job.state == JobState.PROCESSING_STOPPED
              and not job.suspended):
            job.set_state(JobState.PROCESSING, "job-printing", *self._kept(job))
            self.store.job_changed(job)

    @staticmethod
    def _kept(job: Job) -> list[str]:
        return [r for r in job.reasons if r == RESTARTED_REASON]

    # -- printing
    async def _run(self) -> None:
        while True:
            job = self.printer.next_job()
            if job is None:
                self.printer.wakeup.clear()
                await self.printer.wakeup.wait()
                continue
            try:
                await self._print(job)
            except asyncio.CancelledError:
                raise
            except DocumentError as exc:
                log.warning("%s: job %d: %s", self.printer.name, job.id, exc)
                job.message = str(exc)
                await self._finish(job, JobState.ABORTED, "document-format-error",
                                   "aborted-by-system")
            except Exception as exc:
                log.exception("%s: job %d failed", self.printer.name, job.id)
                job.message = str(exc)
                await self._finish(job, JobState.ABORTED, "aborted-by-system")

    async def _finish(self, job: Job, state: JobState, reason: str, *more: str) -> None:
        """Close the job in ``state`` (completed, canceled or aborted) and hand it back to
        the store, unless something else finished it while it printed (an interrupted
        submission aborts it, :meth:`System.abort_incoming`): a finished job never changes
        state again (RFC 8011 §5.3.7), and whoever finished it handed it back then."""
        if job.state.terminal:
            log.info("%s: job %d was already %s; not %s", self.printer.name, job.id,
                     job.state.keyword, state.keyword)
            return
        job.set_state(state, reason, *more)
        await self.store.job_finished(job)

    async def _wait_for_port(self, job: Job) -> None:
        while not self._port_open:
            await self.poll()
            if self._port_open:
                return
            if job.cancel_requested:
                raise JobCanceled
            await asyncio.sleep(self.store.config.status_interval)

    async def _restart_after_port_loss(self, job: Job, exc: PortError) -> None:
        """The port failed mid-document: restart the document from its first byte.

        The rule for bytes the printer had not acknowledged: a transfer that fails
        part-way (unplug, ENODEV, a STALL) may have delivered any part of itself, and a
        printer that lost power has also lost what it had buffered.  Resending from the
        last acknowledged byte would splice the rest of the document onto a page the
        printer no longer has, or has half of: a garbled page.  So once the port is back
        the printer is reset (SOFT_RESET flushes its buffers) and the job's documents go
        again from the start, through ``begin_job`` as a new attempt.  Nothing is lost;
        at worst a partial page came out before the unplug.
        """
        log.warning("%s: port lost during job %d (%s); printing it again from the start "
                    "once the printer is back", self.printer.name, job.id, exc)
        self._port_open = False
        while True:
            job.bytes_sent = 0
            # Even when the port reopens at once (a STALL), do not spin on a failing printer.
            await asyncio.sleep(self.store.config.status_interval)
            await self._wait_for_port(job)
            try:
                await self.port_call(self.port.soft_reset)
                await self.port_call(self.port.begin_job, job.id, job.name)
                return
            except PortError as again:
                log.warning("%s: port lost again: %s", self.printer.name, again)
                self._port_open = False

    async def _print(self, job: Job) -> None:
        if job.delivered:
            # Every byte reached the printer before a crash; only the close was missing.
            await self._wait_for_port(job)
            if job.state != JobState.PENDING:
                # Held or canceled while the printer was away: a held job is closed once
                # released; a canceled one is finished already (RFC 8011 §5.3.7).
                return
            with contextlib.suppress(PortError):
                await self.port_call(self.port.end_job, job.id, completed=True)
            await self._finish(job, JobState.COMPLETED, "job-completed-successfully")
            return
        job.attempts += 1
        job.bytes_sent = 0
        job.set_state(JobState.PROCESSING, "job-printing", *self._kept(job))
        await self.store.job_changed_durable(job)
        completed = False
        started = False
        pages_before: int | None = None
        try:
            await self._wait_for_port(job)
            status = await self.poll()
            pages_before = status.page_count
            await self.port_call(self.port.begin_job, job.id, job.name)
            started = True
            while True:
                try:
                    async with contextlib.aclosing(self.render(job)) as chunks:
                        async for data in chunks:
                            await self._send(job, data)
                    break
                except PortError as exc:
                    await self._restart_after_port_loss(job, exc)
            if job.cancel_requested:
                # A cancel that raced the last bytes still wins: the printer is reset.
                raise JobCanceled
            # The printer has every byte: remember that before closing the job, so a crash
            # from here on closes it after a restart instead of printing it again.
            job.delivered = True
            await self.store.save_job(job)
            completed = True
        except JobCanceled:
            pass
        except asyncio.CancelledError:
            # The daemon is stopping, not the job: leave the printer's job open; after the
            # restart the job is closed (if delivered) or printed again from its start.
            started = False
            raise
        finally:
            if started:
                with contextlib.suppress(PortError):
                    await self.port_call(self.port.end_job, job.id, completed=completed)
        if completed:
            status = await self.poll()
            if self._produced is not None:
                # The pages the pipeline produced (copies and sides included).
                job.impressions, job.sheets = self._produced
            elif pages_before is not None and status.page_count is not None:
                # Raw data: only the printer knows how many pages it made.
                job.impressions = job.sheets = max(0, status.page_count - pages_before)
            await self._finish(job, JobState.COMPLETED, "job-completed-successfully")
        else:
            with contextlib.suppress(PortError):
                await self.port_call(self.port.soft_reset)
            await self._finish(job, JobState.CANCELED, "job-canceled-by-user")

    async def render(self, job: Job) -> AsyncIterator[bytes]:
        """What goes to the port for a job: its documents converted to the printer's
        language (or passed through), a chunk at a time.

        The conversion runs on :attr:`convert_thread` one chunk ahead of the port, so
        converting the next chunk overlaps sending this one and at most two chunks exist
        at a time, whatever the document's size.
        """
        self._produced = None
        docs = job.printable_documents()
        if self.pipeline is None:
            for doc in docs:
                path = self.store.spool.path_of(doc)
                with open(path, "rb") as fh:
                    while chunk := await self.port_call(fh.read, CHUNK):
                        yield chunk
            return
        sources = [DocumentSource(self.store.spool.path_of(d), d.format, _password(d))
                   for d in docs]
        conversion = self.pipeline.convert(sources, job.attributes, job.name)
        loop = asyncio.get_running_loop()

        def ahead() -> asyncio.Future[bytes | None]:
            future = loop.run_in_executor(self.convert_thread, next, conversion, None)
            # A chunk abandoned by a cancel must not log "exception never retrieved".
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            return future

        pending = ahead()
        try:
            while (chunk := await pending) is not None:
                pending = ahead()
                yield chunk
            if conversion.impressions is not None and conversion.sheets is not None:
                self._produced = (conversion.impressions, conversion.sheets)
        finally:
            # Runs after any conversion step still in flight (one thread, in order).
            with contextlib.suppress(RuntimeError):  # the worker is shutting down
                self.convert_thread.submit(conversion.close)

    async def _send(self, job: Job, data: bytes) -> None:
        view = memoryview(data)
        offset = 0
        last_progress = time.monotonic()
        timeout = self.store.config.write_timeout
        while offset < len(view):
            if job.cancel_requested:
                raise JobCanceled
            if job.suspended:
                await asyncio.sleep(self.store.config.status_interval)
                continue
            try:
                taken = await self.port_call(self.port.write, view[offset:], timeout)
            except PortError:
                # Unplugged, powered off, or a transfer that failed part-way: see
                # _restart_after_port_loss for what happens to the unacknowledged bytes.
                self._port_open = False
                raise
            if taken:
                offset += taken
                job.bytes_sent += taken
                if job.state == JobState.PROCESSING_STOPPED:
                    await self.poll()
                now = time.monotonic()
                if now - last_progress > 1.0:
                    last_progress = now
                    self.printer.job_changed(job, EventKind.JOB_PROGRESS)
            else:
                await self.poll()


def _password(doc: Document) -> bytes | None:
    """The document's PDF password as the IPP layer kept it (base64 in its attributes)."""
    value = doc.attributes.get("document-password")
    return base64.b64decode(value) if value else None
