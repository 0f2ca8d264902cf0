"""One worker per printer: streams jobs to the port in the order they were accepted.

The port is blocking, so every call to it runs on the port's own thread (one thread: a
USB handle or a tty is not safe to share).  The worker never holds a document in memory:
it reads the spool file a chunk at a time and resends whatever the port did not take.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from firmware.events import EventKind
from firmware.job import Job, JobState
from firmware.spool import RESTARTED_REASON
from hal.port import Port, PortCondition, PortError, PortStatus

if TYPE_CHECKING:
    from firmware.printer import Printer
    from firmware.system import System

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
T = TypeVar("T")


class JobCanceled(Exception):
    pass


class PrintWorker:
    def __init__(self, system: System, printer: Printer, port: Port) -> None:
        self.system = system
        self.printer = printer
        self.port = port
        self.port_thread = ThreadPoolExecutor(1, thread_name_prefix=f"port-{printer.name}")
        self._port_open = False
        self._poll_now = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def port_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.port_thread, lambda: fn(*args, **kwargs))

    # -- lifecycle
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
        interval = self.system.config.status_interval
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("%s: status poll failed", self.printer.name)
            self._poll_now.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_now.wait(), interval)

    def _sync_active_job(self) -> None:
        job = self.printer.active_job
        if job is None:
            return
        if self.printer.stalled and job.state == JobState.PROCESSING:
            job.set_state(JobState.PROCESSING_STOPPED, "printer-stopped", *self._kept(job))
            self.system.job_changed(job)
        elif (not self.printer.stalled and job.state == JobState.PROCESSING_STOPPED
              and not job.suspended):
            job.set_state(JobState.PROCESSING, "job-printing", *self._kept(job))
            self.system.job_changed(job)

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
            except Exception as exc:
                log.exception("%s: job %d failed", self.printer.name, job.id)
                job.message = str(exc)
                job.set_state(JobState.ABORTED, "aborted-by-system")
                await self.system.job_finished(job)

    async def _wait_for_port(self, job: Job) -> None:
        while not self._port_open:
            await self.poll()
            if self._port_open:
                return
            if job.cancel_requested:
                raise JobCanceled
            await asyncio.sleep(self.system.config.status_interval)

    async def _print(self, job: Job) -> None:
        job.attempts += 1
        job.bytes_sent = 0
        job.set_state(JobState.PROCESSING, "job-printing", *self._kept(job))
        await self.system.job_changed_durable(job)
        completed = False
        started = False
        pages_before: int | None = None
        try:
            await self._wait_for_port(job)
            status = await self.poll()
            pages_before = status.page_count
            await self.port_call(self.port.begin_job, job.id, job.name)
            started = True
            async for data in self.render(job):
                await self._send(job, data)
            if job.cancel_requested:
                # A cancel that raced the last bytes still wins: the printer is reset.
                raise JobCanceled
            completed = True
        except JobCanceled:
            pass
        finally:
            if started:
                with contextlib.suppress(PortError):
                    await self.port_call(self.port.end_job, job.id, completed=completed)
        if completed:
            status = await self.poll()
            if pages_before is not None and status.page_count is not None:
                job.impressions = job.sheets = max(0, status.page_count - pages_before)
            job.set_state(JobState.COMPLETED, "job-completed-successfully")
        else:
            with contextlib.suppress(PortError):
                await self.port_call(self.port.soft_reset)
            job.set_state(JobState.CANCELED, "job-canceled-by-user")
        await self.system.job_finished(job)

    async def render(self, job: Job) -> AsyncIterator[bytes]:
        """What goes to the port for a job: the spooled documents, a chunk at a time."""
        for doc in job.printable_documents():
            path = self.system.spool.path_of(doc)
            with open(path, "rb") as fh:
                while chunk := await self.port_call(fh.read, CHUNK):
                    yield chunk

    async def _send(self, job: Job, data: bytes) -> None:
        view = memoryview(data)
        offset = 0
        last_progress = time.monotonic()
        timeout = self.system.config.write_timeout
        while offset < len(view):
            if job.cancel_requested:
                raise JobCanceled
            if job.suspended:
                await asyncio.sleep(self.system.config.status_interval)
                continue
            try:
                taken = await self.port_call(self.port.write, view[offset:], timeout)
            except PortError as exc:
                # Unplugged or powered off: keep what the printer took, wait for it.
                log.warning("%s: write failed: %s", self.printer.name, exc)
                self._port_open = False
                await self._wait_for_port(job)
                continue
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
