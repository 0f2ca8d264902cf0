"""The print worker (firmware.worker) driven against the emulated printer.

Each test runs a real :class:`PrintWorker` on its own event loop, with a real
:class:`EmulatedPort` (its bytes land in ``output/<job>/received.bin``, its begin / end /
cancel / reset in ``output/jobs.log``), a real :class:`Printer` model, and a small
:class:`JobStore` that records every call the worker makes with the job as it was at
that moment — so a test checks what the printer received, how the job ended and the
order in which the worker told the store, not how the worker goes about it.

Faults happen at an exact byte: the port wrapper runs a hook (on the port's thread) once
a job's bytes cross a threshold.  Nothing waits on the clock: a test waits for a store
call, a bus event or a port poll, with a generous timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from firmware.events import Event, EventBus, EventKind
from firmware.job import Document, Job, JobState
from firmware.printer import Identity, Printer, PrinterState
from firmware.worker import JobStore, PrintWorker
from hal.emulated import EmulatedPort
from hal.port import PortCondition, PortError, PortStatus

#: Generous: only reached when something is broken.
TIMEOUT = 30.0
#: What the worker may take per port write here, so faults land mid-document.
WRITE_CAP = 16 * 1024


def pages(count: int, size: int, seed: int = 0) -> bytes:
    """Plain text printer data of about ``size`` bytes with exactly ``count`` pages
    (a form feed ends each), different for each seed."""
    line = b"".join(b"%06d " % (seed * 7919 + i) for i in range(10)) + b"\r\n"
    page = line * max(1, size // count // len(line))
    return b"".join(page + b"\f" for _ in range(count))


# -- the pieces around the worker
@dataclass(slots=True)
class Settings:
    status_interval: float = 0.05
    write_timeout: float = 0.05


@dataclass(slots=True)
class Spool:
    dir: Path

    def path_of(self, document: Document) -> Path:
        return self.dir / document.path


@dataclass(frozen=True, slots=True)
class Call:
    """One call from the worker to its store, with the job as it was then."""

    what: str  # save, changed, durable, finished
    state: JobState
    reasons: tuple[str, ...]
    delivered: bool
    bytes_sent: int
    #: Bytes of the job the printer had taken at that moment (its received.bin).
    received: int
    #: Whether the printer had been told the job ended (jobs.log) at that moment.
    ended_at_printer: bool


class Port(EmulatedPort):
    """The emulated printer with a cap on each write, hooks at byte counts, a switch
    that makes writes fail, and a count of status polls."""

    def __init__(self, output: Path, **options: str) -> None:
        super().__init__("emulated:", {"output": str(output), "rate": "0", "render": "false",
                                       **options})
        self.total = 0  # bytes taken, every job and attempt
        self.hooks: list[tuple[int, Callable[[], None]]] = []
        self.fail_writes: Exception | None = None
        self.polls = 0
        self.stale_status: Callable[[], None] | None = None
        self.notify: Callable[[], None] = lambda: None

    def at(self, total: int, action: Callable[[], None]) -> None:
        """Run ``action`` on the port's thread right after the write that takes the
        port's byte count to ``total`` or beyond."""
        self.hooks.append((total, action))

    def write(self, data: bytes | memoryview, timeout: float) -> int:
        if self.fail_writes is not None:
            raise self.fail_writes
        taken = super().write(memoryview(data)[:WRITE_CAP], timeout)
        self.total += taken
        for hook in [h for h in self.hooks if self.total >= h[0]]:
            self.hooks.remove(hook)
            hook[1]()
        return taken

    def status(self) -> PortStatus:
        reading = super().status()
        if self.stale_status is not None:
            hold, self.stale_status = self.stale_status, None
            hold()  # the reading is taken; the caller gets it only after this returns
        self.polls += 1
        self.notify()
        return reading


class ObservedPrinter(Printer):
    """The printer model, telling the test each time it changes (every port reading
    lands here, published on the bus or not)."""

    on_change: Callable[[], None] = staticmethod(lambda: None)

    def changed(self, kind: EventKind = EventKind.PRINTER_STATE_CHANGED) -> None:
        super().changed(kind)
        self.on_change()


class Store:
    """A JobStore that keeps a record of every call (what the System does, minus the
    spool and the history: saving is recording)."""

    def __init__(self, printer: Printer, port: Port, spool_dir: Path,
                 settings: Settings) -> None:
        self.printer = printer
        self.port = port
        self._config = settings
        self._spool = Spool(spool_dir)
        self.calls: dict[int, list[Call]] = {}
        self.poke: Callable[[], None] = lambda: None

    @property
    def config(self) -> Settings:
        return self._config

    @property
    def spool(self) -> Spool:
        return self._spool

    def _record(self, what: str, job: Job) -> None:
        received = self.port.output_dir / str(job.id) / "received.bin"
        self.calls.setdefault(job.id, []).append(Call(
            what, job.state, tuple(job.reasons), job.delivered, job.bytes_sent,
            received.stat().st_size if received.exists() else 0,
            ["end", str(job.id)] in printer_log(self.port)))
        self.poke()

    async def save_job(self, job: Job) -> None:
        self._record("save", job)

    def job_changed(self, job: Job, kind: EventKind = EventKind.JOB_STATE_CHANGED) -> None:
        self._record("changed", job)
        self.printer.job_changed(job, kind)

    async def job_changed_durable(self, job: Job) -> None:
        self._record("durable", job)
        self.printer.job_changed(job)

    async def job_finished(self, job: Job) -> None:
        self._record("finished", job)
        self.printer.job_changed(job)

    def states(self, job: Job) -> list[JobState]:
        """The job's states as the store was told them, repeats folded."""
        seen: list[JobState] = []
        for call in self.calls.get(job.id, []):
            if not seen or seen[-1] != call.state:
                seen.append(call.state)
        return seen

    def finished(self, job: Job) -> list[Call]:
        return [c for c in self.calls.get(job.id, []) if c.what == "finished"]


def printer_log(port: EmulatedPort) -> list[list[str]]:
    """jobs.log as [what, job] pairs (begin, end, cancel, reset)."""
    path = port.output_dir / "jobs.log"
    if not path.exists():
        return []
    return [line.split()[1:3] for line in path.read_text().splitlines()]


@dataclass
class Rig:
    loop: asyncio.AbstractEventLoop
    printer: Printer
    port: Port
    store: Store
    worker: PrintWorker
    spool_dir: Path
    events: list[Event] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        self.changed.set()

    def poke_threadsafe(self) -> None:
        self.loop.call_soon_threadsafe(self.changed.set)

    async def until(self, predicate: Callable[[], object], what: str,
                    timeout: float = TIMEOUT) -> None:
        """Wait until ``predicate()`` holds, re-checking at every store call, bus event
        and port poll."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

    def add_job(self, job_id: int, *documents: bytes, canceled: tuple[int, ...] = (),
                **fields: Any) -> Job:
        docs = []
        for number, data in enumerate(documents, start=1):
            name = f"{job_id}-{number}.prn"
            (self.spool_dir / name).write_bytes(data)
            docs.append(Document(number, size=len(data), path=name,
                                 canceled=number in canceled))
        job = Job(job_id, self.printer.name, name=f"job {job_id}", documents=docs, **fields)
        self.printer.jobs[job_id] = job
        self.printer.changed()  # wakes the worker
        return job

    async def finished(self, job: Job) -> None:
        await self.until(lambda: self.store.finished(job), f"job {job.id} to be finished")

    def received(self, job: Job) -> bytes:
        return (self.port.output_dir / str(job.id) / "received.bin").read_bytes()

    def log(self, job: Job | None = None) -> list[str]:
        """The printer's log of job boundaries (for one job: its entries' kinds)."""
        return [what if job is not None else f"{what} {jid}"
                for what, jid in printer_log(self.port)
                if job is None or jid == str(job.id)]

    def cancel(self, job: Job) -> None:
        """What System.cancel_job does for a job that is printing."""
        job.cancel_requested = True
        job.add_reason("processing-to-stop-point")
        self.store.job_changed(job)
        self.worker.request_poll()


@contextlib.asynccontextmanager
async def rig(tmp_path: Path, settings: Settings | None = None, faults: tuple[str, ...] = (),
              **port_options: str) -> AsyncIterator[Rig]:
    bus = EventBus()
    printer = ObservedPrinter(Identity("Test"), "emulated:", bus)
    port = Port(tmp_path / "output", **port_options)
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir(exist_ok=True)
    store = Store(printer, port, spool_dir, settings or Settings())
    as_store: JobStore = store  # the worker's view of its owner (checked by mypy)
    worker = PrintWorker(as_store, printer, port)
    r = Rig(asyncio.get_running_loop(), printer, port, store, worker, spool_dir)
    store.poke = printer.on_change = r.poke
    port.notify = r.poke_threadsafe

    def heard(event: Event) -> None:
        r.events.append(event)
        r.poke()

    bus.subscribe(heard)
    for fault in faults:
        port.inject(fault)
    worker.start()
    try:
        yield r
    finally:
        await worker.stop()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


# -- a job delivered
def test_job_is_delivered_completely(tmp_path: Path) -> None:
    """Two documents (the second larger than the worker's read size), every byte to the
    printer once and in order, one printer job, pages counted by the printer, and the
    store told: processing (saved), then completed (finished), once."""
    first, second = pages(2, 40_000, seed=1), pages(3, 300_000, seed=2)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, first, second)
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert job.reasons == ["job-completed-successfully"]
            assert r.received(job) == first + second
            assert r.log() == ["begin 1", "end 1"]
            entry = (r.port.output_dir / "jobs.log").read_text().split()
            assert entry[-3:-1] == [str(len(first + second)),
                                    hashlib.sha256(first + second).hexdigest()]
            assert job.bytes_sent == len(first + second)
            assert (job.impressions, job.sheets, job.attempts) == (5, 5, 1)
            calls = r.store.calls[1]
            assert calls[0].what == "durable" and calls[0].state == JobState.PROCESSING
            assert r.store.states(job) == [JobState.PROCESSING, JobState.COMPLETED]
            assert [c.state for c in r.store.finished(job)] == [JobState.COMPLETED]
            assert calls[-1].what == "finished"
            kinds = [e.kind for e in r.events if e.job_id == 1]
            assert kinds[-2:] == [EventKind.JOB_STATE_CHANGED, EventKind.JOB_COMPLETED]
            assert r.printer.state == PrinterState.IDLE

    run(test)


def test_jobs_print_one_after_another_in_queue_order(tmp_path: Path) -> None:
    a, b, c = (pages(1, 50_000, seed=s) for s in (3, 4, 5))

    async def test() -> None:
        async with rig(tmp_path) as r:
            r.printer.paused = True  # queue all three before the worker picks one
            jobs = [r.add_job(10, a), r.add_job(11, b, order=0.5), r.add_job(12, c)]
            r.printer.paused = False
            r.printer.changed()
            for job in jobs:
                await r.finished(job)
            assert r.log() == ["begin 11", "end 11", "begin 10", "end 10", "begin 12",
                               "end 12"]
            assert [r.received(j) for j in jobs] == [a, b, c]

    run(test)


def test_canceled_document_is_skipped(tmp_path: Path) -> None:
    docs = [pages(1, 20_000, seed=s) for s in (6, 7, 8)]

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, *docs, canceled=(2,))
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.received(job) == docs[0] + docs[2]

    run(test)


# -- the guard against printing twice
def test_delivered_mark_is_saved_before_the_job_is_closed(tmp_path: Path) -> None:
    """Once the printer has every byte, the job is saved with its delivered mark while
    it is still open — before the printer is told the job ended and before the job is
    finished — so a crash at any point after the last byte closes the job on restart
    instead of printing it again (issue 19)."""
    data = pages(3, 200_000, seed=9)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data)
            await r.finished(job)
            calls = r.store.calls[1]
            marked = [i for i, c in enumerate(calls) if c.what == "save" and c.delivered]
            assert marked, f"the delivered mark was never saved on its own: {calls}"
            mark = calls[marked[0]]
            assert not mark.state.terminal
            assert mark.received == len(data)  # the printer had every byte...
            assert not mark.ended_at_printer  # ...and the job was still open there
            closed = calls.index(r.store.finished(job)[0])
            assert marked[0] < closed
            assert not any(c.delivered for c in calls[:marked[0]])  # not marked early

    run(test)


def test_delivered_job_is_closed_not_printed_again(tmp_path: Path) -> None:
    """A job that comes back from the spool delivered (every byte reached the printer,
    then the daemon died before closing it) is closed at the printer and completed:
    not a byte is sent again."""
    data = pages(2, 30_000, seed=10)

    # What the printer got before the crash: the whole job, not yet ended.
    before = EmulatedPort("emulated:", {"output": str(tmp_path / "output"), "rate": "0",
                                        "render": "false"})
    before.open()
    before.begin_job(1, "job 1")
    view = memoryview(data)
    while view:
        view = view[before.write(view, TIMEOUT):]

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data, delivered=True)
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.log(job) == ["begin", "end"]
            assert r.received(job) == data
            assert r.port.total == 0

    run(test)


# -- faults
@pytest.mark.parametrize("fault", ["offline", "jam", "cover-open"])
def test_printer_fault_mid_job_stops_the_job_then_it_resumes(tmp_path: Path,
                                                             fault: str) -> None:
    """The printer stops taking data mid-document: the job is processing-stopped and
    waits (the worker keeps polling; not a byte more is taken), then carries on from
    where it stopped once the fault clears — one printer job, nothing lost or twice."""
    data = pages(4, 400_000, seed=11)
    cut = 100_000

    async def test() -> None:
        async with rig(tmp_path) as r:
            stopped_at: list[int] = []
            r.port.at(cut, lambda: (r.port.inject(fault), stopped_at.append(r.port.total)))
            job = r.add_job(1, data)
            await r.until(lambda: job.state == JobState.PROCESSING_STOPPED, "job stopped")
            assert "printer-stopped" in job.reasons
            assert r.printer.state == PrinterState.STOPPED
            polls = r.port.polls
            await r.until(lambda: r.port.polls >= polls + 3, "the worker to poll on")
            assert len(r.received(job)) == stopped_at[0]  # waiting, not sending
            assert job.state == JobState.PROCESSING_STOPPED
            r.port.inject("clear")
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.received(job) == data
            assert r.log() == ["begin 1", "end 1"]
            assert r.store.states(job) == [JobState.PROCESSING, JobState.PROCESSING_STOPPED,
                                           JobState.PROCESSING, JobState.COMPLETED]

    run(test)


def test_paper_out_mid_job_waits_for_paper(tmp_path: Path) -> None:
    """The printer's own stall: two sheets for a four-page job.  The job stops before
    the third page with the printer asking for paper, and completes once it is
    loaded, every page counted once."""
    data = pages(4, 80_000, seed=12)

    async def test() -> None:
        async with rig(tmp_path, paper="2") as r:
            job = r.add_job(1, data)
            await r.until(lambda: job.state == JobState.PROCESSING_STOPPED, "job stopped")
            assert {"media-empty-error", "media-needed-error"} <= set(r.printer.reasons)
            # Two pages out; the third waits at its form feed.
            assert len(data) // 2 <= len(r.received(job)) < 3 * len(data) // 4
            assert (r.port.paper, r.port.page_count) == (0, 2)
            r.port.inject("paper", 10)
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.received(job) == data
            assert (job.impressions, r.port.paper) == (4, 8)

    run(test)


def test_unplugged_mid_job_prints_the_job_again_from_its_start(tmp_path: Path) -> None:
    """A transfer that fails (unplugged: PortError) may have delivered any part of
    itself, so once the printer is back it is reset and the job goes again from its
    first byte as a new printer job: the output is the whole document, once."""
    data = pages(3, 300_000, seed=13)

    async def test() -> None:
        async with rig(tmp_path) as r:
            r.port.at(100_000, lambda: r.port.inject("unplug"))
            job = r.add_job(1, data)
            await r.until(lambda: not r.printer.port_connected, "the printer to be gone")
            await r.until(lambda: job.state == JobState.PROCESSING_STOPPED, "job stopped")
            assert "offline-report" in r.printer.reasons
            r.port.inject("clear")
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.received(job) == data
            assert r.log() == ["begin 1", "reset 1", "begin 1", "end 1"]
            assert job.bytes_sent == len(data)
            assert r.printer.port_connected

    run(test)


@pytest.mark.parametrize("cause", ["port-error", "document-gone"])
def test_an_error_aborts_the_job_and_the_next_one_prints(tmp_path: Path, cause: str) -> None:
    """An error the worker cannot retry (the port fails with something other than a
    PortError; the spooled document has vanished) aborts the job — closed at the
    printer as not completed, finished once, the error kept in its message — and the
    worker goes on with the next job."""
    broken, fine = pages(2, 100_000, seed=14), pages(1, 30_000, seed=15)

    async def test() -> None:
        async with rig(tmp_path) as r:
            r.printer.paused = True
            job = r.add_job(1, broken)
            after = r.add_job(2, fine)
            if cause == "port-error":
                def fail() -> None:
                    r.port.fail_writes = OSError(5, "Input/output error")
                r.port.at(40_000, fail)
            else:
                (r.spool_dir / job.documents[0].path).unlink()
            r.printer.paused = False
            r.printer.changed()
            await r.finished(job)
            assert job.state == JobState.ABORTED
            assert "aborted-by-system" in job.reasons
            assert job.message
            assert not job.delivered
            assert [c.state for c in r.store.finished(job)] == [JobState.ABORTED]
            assert r.log(job) == ["begin", "cancel"]
            r.port.fail_writes = None
            await r.finished(after)
            assert after.state == JobState.COMPLETED
            assert r.received(after) == fine

    run(test)


# -- cancel
def test_cancel_mid_job(tmp_path: Path) -> None:
    """Cancel while bytes flow: sending stops, the printer job is cancelled and the
    printer reset; the job is canceled, never marked delivered; the next job prints."""
    data, next_data = pages(4, 400_000, seed=16), pages(1, 20_000, seed=17)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data)
            r.port.at(100_000, lambda: r.loop.call_soon_threadsafe(r.cancel, job))
            await r.finished(job)
            assert job.state == JobState.CANCELED
            assert job.reasons == ["job-canceled-by-user"]
            assert len(r.received(job)) < len(data)
            assert r.log() == ["begin 1", "cancel 1", "reset 0"]  # reset after the cancel
            assert not any(c.delivered for c in r.store.calls[1])
            assert len(r.store.finished(job)) == 1
            after = r.add_job(2, next_data)
            await r.finished(after)
            assert r.received(after) == next_data

    run(test)


def test_cancel_racing_the_last_byte_wins(tmp_path: Path) -> None:
    """A cancel that arrives as the printer takes the last byte still cancels: the
    printer job is cancelled and the printer reset, the job is never marked delivered
    (the user was told it would not print; a restart must not close it as printed)."""
    data = pages(2, 100_000, seed=23)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data)
            r.port.at(len(data), lambda: r.loop.call_soon_threadsafe(r.cancel, job))
            await r.finished(job)
            assert r.received(job) == data  # every byte was taken...
            assert job.state == JobState.CANCELED  # ...and the cancel still won
            assert r.log() == ["begin 1", "cancel 1", "reset 0"]
            assert not any(c.delivered for c in r.store.calls[1])

    run(test)


def test_cancel_while_the_printer_is_stalled(tmp_path: Path) -> None:
    """A jammed printer takes nothing; a cancel still ends the job without the jam
    being cleared."""
    data = pages(4, 400_000, seed=18)

    async def test() -> None:
        async with rig(tmp_path) as r:
            r.port.at(100_000, lambda: r.port.inject("jam"))
            job = r.add_job(1, data)
            await r.until(lambda: job.state == JobState.PROCESSING_STOPPED, "job stopped")
            r.cancel(job)
            await r.finished(job)
            assert job.state == JobState.CANCELED
            assert r.log() == ["begin 1", "cancel 1", "reset 0"]
            assert PortCondition.JAM in r.port.status().conditions  # still jammed

    run(test)


def test_cancel_while_waiting_for_an_unplugged_printer(tmp_path: Path) -> None:
    """The printer was unplugged when the daemon started: the job waits for it, and a
    cancel ends it before the printer ever heard of it."""

    async def test() -> None:
        async with rig(tmp_path, faults=("unplug",)) as r:
            await r.until(lambda: r.port.polls == 0 and r.printer.port_conditions,
                          "the first (failed) poll")
            assert not r.printer.port_connected
            job = r.add_job(1, pages(1, 10_000, seed=19))
            await r.until(lambda: job.state == JobState.PROCESSING_STOPPED, "job waiting")
            r.cancel(job)
            await r.finished(job)
            assert job.state == JobState.CANCELED
            assert r.log(job) == []  # the printer never heard of it

    run(test)


def test_suspended_job_sends_nothing_until_resumed(tmp_path: Path) -> None:
    """Suspend-Current-Job (RFC 3998): the worker stops sending while the job is
    suspended (the printer is fine and keeps being polled), and carries on from the
    same byte once it is resumed."""
    data = pages(4, 400_000, seed=20)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data)
            suspended_at: list[int] = []

            def suspend() -> None:
                job.suspended = True
                suspended_at.append(len(r.received(job)))

            r.port.at(100_000, lambda: r.loop.call_soon_threadsafe(suspend))
            await r.until(lambda: suspended_at, "the job to be suspended")
            polls = r.port.polls
            await r.until(lambda: r.port.polls >= polls + 3, "the monitor to poll on")
            assert len(r.received(job)) == suspended_at[0]
            job.suspended = False
            await r.finished(job)
            assert job.state == JobState.COMPLETED
            assert r.received(job) == data
            assert r.log() == ["begin 1", "end 1"]

    run(test)


def test_job_finished_elsewhere_while_printing_stays_finished(tmp_path: Path) -> None:
    """A job aborted by another path while its bytes flow (an interrupted submission,
    System.abort_incoming, which hands it to the store itself): the worker does not
    change its state again nor hand it back a second time, and goes on to the next."""
    data, next_data = pages(2, 300_000, seed=21), pages(1, 20_000, seed=22)

    async def test() -> None:
        async with rig(tmp_path) as r:
            job = r.add_job(1, data)

            def abort() -> None:
                job.set_state(JobState.ABORTED, "submission-interrupted",
                              "aborted-by-system")

            r.port.at(100_000, lambda: r.loop.call_soon_threadsafe(abort))
            after = r.add_job(2, next_data)
            await r.finished(after)  # one worker: job 1 is behind it
            assert job.state == JobState.ABORTED
            assert job.reasons == ["submission-interrupted", "aborted-by-system"]
            assert r.store.finished(job) == []
            assert r.received(after) == next_data

    run(test)


# -- status
def test_status_polling_reads_the_port_into_the_model(tmp_path: Path) -> None:
    """The monitor reads the port into the printer model (with the status interval an
    hour, only its first poll and request_poll() make it read): supplies and counters,
    a fault and its clearing, an unplugged printer and its return."""
    settings = Settings(status_interval=3600)

    async def test() -> None:
        async with rig(tmp_path, settings=settings) as r:
            await r.until(lambda: r.printer.port_connected, "the first poll")
            assert r.printer.state == PrinterState.IDLE
            assert r.printer.supplies[0].level == 100
            assert r.printer.device_page_count == 0

            async def after(command: str, value: int | None, check: Callable[[], bool],
                            what: str) -> None:
                r.port.inject(command, value)
                r.worker.request_poll()
                await r.until(check, what)

            await after("toner", 5, lambda: "toner-low-report" in r.printer.reasons,
                        "toner low")
            assert r.printer.supplies[0].level == 5
            await after("jam", None, lambda: r.printer.state == PrinterState.STOPPED,
                        "stopped")
            assert "media-jam-error" in r.printer.reasons
            assert any(a.active and a.condition == PortCondition.JAM
                       for a in r.printer.alerts)
            await after("unplug", None,
                        lambda: PortCondition.UNPLUGGED in r.printer.port_conditions,
                        "unplugged")
            assert "offline-report" in r.printer.reasons
            await after("clear", None, lambda: r.printer.state == PrinterState.IDLE, "back")
            assert r.printer.port_connected
            assert r.printer.reasons == ["toner-low-report"]
            assert r.printer.state == PrinterState.IDLE
            assert not any(a.active and a.condition == PortCondition.JAM
                           for a in r.printer.alerts)

    run(test)


def test_poll_requested_during_a_poll_is_not_lost(tmp_path: Path) -> None:
    """request_poll() while the monitor is reading the port (the reading already taken,
    the jam not in it): a new reading must follow, not wait for the next interval."""
    settings = Settings(status_interval=3600)

    async def test() -> None:
        async with rig(tmp_path, settings=settings) as r:
            await r.until(lambda: r.printer.port_connected, "the first poll")
            reading = asyncio.Event()
            release = asyncio.Event()

            def hold() -> None:  # on the port's thread, inside status()
                r.loop.call_soon_threadsafe(reading.set)
                asyncio.run_coroutine_threadsafe(release.wait(), r.loop).result(TIMEOUT)

            r.port.stale_status = hold
            r.worker.request_poll()
            await asyncio.wait_for(reading.wait(), TIMEOUT)
            r.port.inject("jam")  # after the reading: this poll cannot see it
            r.worker.request_poll()
            release.set()
            await r.until(lambda: r.printer.state == PrinterState.STOPPED,
                          "the requested poll to see the jam", timeout=10)

    run(test)


def test_port_error_on_status_reads_as_unplugged(tmp_path: Path) -> None:
    """A port whose status call fails is reported unplugged (offline), not crashed."""

    async def test() -> None:
        async with rig(tmp_path, settings=Settings(status_interval=3600)) as r:
            await r.until(lambda: r.printer.port_connected, "the first poll")

            def broken() -> PortStatus:
                raise PortError("gone")

            r.port.status = broken  # type: ignore[method-assign]
            r.worker.request_poll()
            await r.until(lambda: not r.printer.port_connected, "unplugged")
            assert PortCondition.UNPLUGGED in r.printer.port_conditions
            assert r.printer.state == PrinterState.STOPPED

    run(test)
