"""LPD server (RFC 1179) on the daemon's asyncio loop: a thin adapter around
:mod:`firmware.lpd_protocol`.

Queue names are each printer's name and ``lp`` for the default printer.  A received job
is spooled as it arrives and acknowledged (closed) only when the client ends the
connection cleanly; a connection lost or aborted mid-job leaves nothing in the spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from firmware.job import Job, JobState
from firmware.listener import bind_hosts
from firmware.lpd_protocol import (
    ACK,
    FORMAT_LETTERS,
    MAX_LINE,
    NACK,
    Command,
    ControlFile,
    LpdError,
    SubCommand,
    parse_command,
    parse_control_file,
    parse_subcommand,
)
from firmware.pdl import detect_format
from firmware.printer import Printer
from firmware.system import System

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
LINE_TIMEOUT = 60.0
MAX_CONTROL_FILE = 64 * 1024
STREAM_LIMIT = 64 * 1024  # readuntil() gives up past this: a line is never that long


class LpdServer:
    def __init__(self, system: System, host: str, port: int) -> None:
        self.system = system
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, bind_hosts(self.host), self.port,
                                                  reuse_address=True, limit=STREAM_LIMIT)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def queue(self, name: str) -> Printer | None:
        if name == "lp":
            return self.system.default_printer
        return self.system.printers.get(name)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if peer else ""
        try:
            line = await _readline(reader)
            request = parse_command(line)
            printer = self.queue(request.queue)
            if printer is None:
                raise LpdError(f"no queue {request.queue!r}")
            if request.command == Command.RECEIVE_JOB:
                await self._receive(printer, reader, writer, host)
            elif request.command in (Command.SHORT_QUEUE, Command.LONG_QUEUE):
                writer.write(self._queue_state(printer, request.command == Command.LONG_QUEUE))
            elif request.command == Command.REMOVE_JOBS:
                await self._remove(printer, request.operands[0], request.operands[1:], host)
            # PRINT_WAITING: the worker prints whatever is waiting anyway.
        except (LpdError, asyncio.LimitOverrunError, ValueError) as exc:
            log.info("lpd: %s: %s", host, exc)
            writer.write(NACK)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
            log.info("lpd: %s: connection ended early (%s)", host, type(exc).__name__)
        finally:
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    # -- receive a job (RFC 1179 §5.2, §6)
    async def _receive(self, printer: Printer, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter, host: str) -> None:
        if not printer.accepting_jobs:
            raise LpdError("printer is not accepting jobs")
        writer.write(ACK)
        await writer.drain()
        job: Job | None = None
        control: ControlFile | None = None
        try:
            while True:
                line = await _readline(reader, allow_eof=True)
                if not line:
                    break  # the client is done: commit
                header = parse_subcommand(line)
                if header.sub is SubCommand.ABORT:
                    raise LpdError("client aborted the job")
                writer.write(ACK)
                await writer.drain()
                if header.sub is SubCommand.CONTROL_FILE:
                    if header.size > MAX_CONTROL_FILE:
                        raise LpdError("control file too large")
                    data = await asyncio.wait_for(reader.readexactly(header.size), LINE_TIMEOUT)
                    await _expect_terminator(reader)
                    control = parse_control_file(data)
                else:
                    if job is None:
                        job = await self.system.create_job(
                            printer, name="LPD job", user="lpd", host=host, origin="lpd")
                    await self._data_file(job, reader, header.size, header.name)
                    if header.size == 0:
                        break  # "until the connection closes": nothing can follow
                writer.write(ACK)
                await writer.drain()
        except BaseException:
            if job is not None:
                await self.system.abort_incoming(job)
            raise
        if job is None:
            raise LpdError("job without data files")
        self._apply_control(job, control)
        await self.system.close_job(job)
        log.info("lpd: job %d from %s@%s", job.id, job.user, host)

    async def _data_file(self, job: Job, reader: asyncio.StreamReader, size: int,
                         name: str) -> None:
        head = b""

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal head
            left = size
            while size == 0 or left > 0:
                want = CHUNK if size == 0 else min(CHUNK, left)
                chunk = await asyncio.wait_for(reader.read(want), LINE_TIMEOUT)
                if not chunk:
                    if size == 0:
                        return
                    raise asyncio.IncompleteReadError(b"", left)
                if not head:
                    head = chunk[:16]
                left -= len(chunk)
                yield chunk

        doc = await self.system.add_document(job, chunks(), name=name, last=False)
        doc.format = detect_format(head)
        if size:
            await _expect_terminator(reader)

    @staticmethod
    def _apply_control(job: Job, control: ControlFile | None) -> None:
        if control is None:
            return
        job.user = control.user or job.user
        # job.host stays the peer's address: the control file's H line is only a claim.
        job.name = control.job_name or control.title or control.source_name or job.name
        for doc in job.documents:
            letter = control.prints.get(doc.name)
            if letter in FORMAT_LETTERS and doc.format == "application/octet-stream":
                doc.format = FORMAT_LETTERS[letter]
            if letter == "l":
                doc.format = "application/octet-stream"  # literal: exactly as sent

    # -- queue state and removal (RFC 1179 §5.3-§5.5)
    @staticmethod
    def _queue_state(printer: Printer, long: bool) -> bytes:
        jobs = [j for j in printer.jobs.values() if j.active]
        lines = [f"{printer.name} is {printer.state.keyword}"
                 + (f": {', '.join(printer.reasons)}" if printer.reasons != ["none"] else "")]
        if not jobs:
            lines.append("no entries")
        elif long:
            for rank, job in enumerate(sorted(jobs, key=lambda j: j.order), start=1):
                label = "active" if job.state == JobState.PROCESSING else _ordinal(rank)
                lines.append(f"{job.user}: {label:<10} [job {job.id} {job.host}]")
                lines.append(f"        {job.name:<40} {job.size} bytes")
        else:
            lines.append("Rank   Owner      Job  File(s)                      Total Size")
            for rank, job in enumerate(sorted(jobs, key=lambda j: j.order), start=1):
                label = "active" if job.state == JobState.PROCESSING else _ordinal(rank)
                lines.append(f"{label:<6} {job.user[:10]:<10} {job.id:<4} {job.name[:28]:<28} "
                             f"{job.size} bytes")
        return ("\n".join(lines) + "\n").encode("utf-8", errors="replace")

    async def _remove(self, printer: Printer, agent: str, items: tuple[str, ...],
                      host: str) -> None:
        """RFC 1179 §5.5, with no 'root' override: the agent is whatever the client says,
        so only that user's jobs sent by LPD from the same host are removed."""
        for job in [j for j in printer.jobs.values() if j.active]:
            if job.origin != "lpd" or job.user != agent or job.host != host:
                continue
            if items and str(job.id) not in items and job.user not in items:
                continue
            await self.system.cancel_job(job)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


async def _readline(reader: asyncio.StreamReader, allow_eof: bool = False) -> bytes:
    """One LF-terminated line; ``b""`` at a clean end of stream when ``allow_eof``."""
    try:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), LINE_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        if allow_eof and not exc.partial:
            return b""
        raise LpdError("line not terminated by LF") from None
    if len(line) > MAX_LINE:
        raise LpdError("line too long")
    return line


async def _expect_terminator(reader: asyncio.StreamReader) -> None:
    """Every file is followed by one zero octet (RFC 1179 §6.2, §6.3)."""
    if await asyncio.wait_for(reader.readexactly(1), LINE_TIMEOUT) != b"\x00":
        raise LpdError("file not followed by a zero octet")
