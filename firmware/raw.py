"""Raw TCP printing on port 9100 (AppSocket / HP JetDirect).

Each connection is one job: the bytes until the client closes (or stays silent for
``idle_timeout`` seconds) are spooled as one document, its format recognised from its
first bytes.  Jobs queue in the spool like IPP jobs, so concurrent connections never
interleave on paper.  The client gets nothing back (JetDirect's back-channel is unused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from firmware.listener import bind_hosts
from firmware.pdl import detect_format
from firmware.system import System

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


class RawServer:
    def __init__(self, system: System, host: str, port: int, idle_timeout: float = 300.0):
        self.system = system
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, bind_hosts(self.host), self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if peer else ""
        printer = self.system.default_printer
        try:
            first = await asyncio.wait_for(reader.read(CHUNK), self.idle_timeout)
        except (TimeoutError, ConnectionError):
            first = b""
        if not first:
            writer.close()
            return  # a port scan or an empty connection: no job

        async def chunks() -> AsyncIterator[bytes]:
            yield first
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(CHUNK), self.idle_timeout)
                except TimeoutError:
                    log.info("raw: %s idle for %ss, ending its job", host, self.idle_timeout)
                    return
                except ConnectionError:
                    return
                if not chunk:
                    return
                yield chunk

        try:
            if not printer.accepting_jobs:
                log.warning("raw: %s refused, printer not accepting jobs", host)
                return
            fmt = detect_format(first)
            if fmt not in printer.capabilities.formats:
                fmt = "application/octet-stream"  # unknown to the pipeline: send as is
            job = await self.system.submit(
                printer, chunks(), format=fmt, name=f"Raw print from {host}",
                user="raw", host=host, origin="raw",
            )
            log.info("raw: job %d from %s, %d bytes", job.id, host, job.size)
        except Exception:
            log.exception("raw: job from %s failed", host)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
