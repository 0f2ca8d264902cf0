"""The local admin socket: ``printbridge status``, ``emulate`` and ``print`` talk to the
running daemon through ``<state-dir>/printbridge.sock`` (one JSON request line, one JSON
reply line).  The socket is mode 0600: only root or the daemon's user may use it.

``print`` sends the document itself after its request line (``size`` octets): the
client reads the file with its own rights, so a file in the caller's ``/tmp`` or home
prints although the service has a private ``/tmp`` and no access to ``/root``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO

from firmware.job import Job
from firmware.printer import Printer
from firmware.system import System

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024

#: Admin commands that are printer actions: each the System method IPP and the web pages
#: call for the same action (``{"command": "pause", "printer": NAME}``).
PRINTER_ACTIONS: dict[str, Callable[[System, Printer], Awaitable[None]]] = {
    "pause": lambda system, printer: system.set_paused(printer, True),
    "resume": lambda system, printer: system.set_paused(printer, False),
    "enable": lambda system, printer: system.set_accepting(printer, True),
    "disable": lambda system, printer: system.set_accepting(printer, False),
    "hold-new-jobs": lambda system, printer: system.set_hold_new_jobs(printer, True),
    "release-held-new-jobs": lambda system, printer: system.set_hold_new_jobs(printer, False),
    "restart": lambda system, printer: system.restart_printer(printer),
    "purge": lambda system, printer: system.purge_jobs(printer),
}

#: Admin commands on one job (``{"command": "cancel", "job": ID}``); refused (ok false)
#: when the job's state does not allow it.
JOB_ACTIONS: dict[str, Callable[[System, Job], Awaitable[bool]]] = {
    "cancel": lambda system, job: system.cancel_job(job),
    "hold": lambda system, job: system.hold_job(job),
    "release": lambda system, job: system.release_job(job),
}


class AdminServer:
    def __init__(self, system: System, path: Path) -> None:
        self.system = system
        self.path = path
        self._server: asyncio.AbstractServer | None = None
        #: Commands other subsystems add (firmware.net: dhcp-event, net-status).
        self.handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {}

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.path))
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            if len(line) > MAX_REQUEST:
                raise ValueError("request too long")
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("request must be a JSON object")
            if request.get("command") == "print":
                reply = await self._print(request, reader)
            else:
                reply = await self.dispatch(request)
        except Exception as exc:
            reply = {"ok": False, "error": str(exc)}
        writer.write(json.dumps(reply).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            writer.close()

    async def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        command = request.get("command")
        if command == "status":
            return {"ok": True, "status": self.system.status()}
        if command == "emulate":
            return await self._emulate(request)
        if command in PRINTER_ACTIONS:
            await PRINTER_ACTIONS[command](self.system, self._printer(request))
            return {"ok": True}
        if command in JOB_ACTIONS:
            job = self._job(request)
            if not await JOB_ACTIONS[command](self.system, job):
                raise ValueError(f"job {job.id} is {job.state.keyword}: {command} not possible")
            return {"ok": True}
        if command == "identify":
            self.system.identify(self._printer(request), request.get("actions"),
                                 str(request.get("message") or ""))
            return {"ok": True}
        if command == "debug-block-loop" and os.environ.get("PRINTBRIDGE_DEBUG_HOOKS") == "1":
            # Test hook (off unless the environment turns it on): stall the event loop,
            # as a hung callback would, so the systemd watchdog test sees pings stop.
            time.sleep(min(float(request.get("seconds", 1)), 60))
            return {"ok": True}
        if isinstance(command, str) and command in self.handlers:
            return await self.handlers[command](request)
        raise ValueError(f"unknown command {command!r}")

    def _printer(self, request: dict[str, Any]) -> Printer:
        printer = self.system.printer(request.get("printer"))
        if printer is None:
            raise ValueError(f"no printer {request.get('printer')!r}")
        return printer

    def _job(self, request: dict[str, Any]) -> Job:
        job_id = request.get("job")
        job = self.system.find_job(job_id) if isinstance(job_id, int) else None
        if job is None:
            raise ValueError(f"no job {job_id!r}")
        return job

    async def _emulate(self, request: dict[str, Any]) -> dict[str, Any]:
        """Inject a fault; the reply says the printer's state after the reading the
        System took, as IPP's printer-state and printer-state-reasons do."""
        value = request.get("value")
        printer = self._printer(request)
        await self.system.inject_fault(printer, str(request.get("action")),
                                       None if value is None else int(value))
        return {"ok": True, "state": printer.state.keyword, "reasons": printer.reasons}

    async def _print(self, request: dict[str, Any],
                     reader: asyncio.StreamReader) -> dict[str, Any]:
        """Spool the ``size`` octets that follow the request (the spool API, without any
        network protocol).  A document cut short is not kept."""
        printer = self.system.printer(request.get("printer"))
        if printer is None:
            raise ValueError(f"no printer {request.get('printer')!r}")
        size = request.get("size")
        if not isinstance(size, int) or size < 0:
            raise ValueError("print needs the document's size (octets after the request)")

        async def chunks() -> AsyncIterator[bytes]:
            left = size
            while left:
                chunk = await reader.read(min(left, 256 * 1024))
                if not chunk:
                    raise ValueError(f"the document ended {left} octets short")
                left -= len(chunk)
                yield chunk

        job = await self.system.submit(
            printer,
            chunks(),
            format=str(request.get("format", "application/octet-stream")),
            name=str(request.get("name") or "Untitled"),
            user=str(request.get("user", "local")),
            origin="local",
        )
        return {"ok": True, "job_id": job.id}


def call(socket_path: Path, request: dict[str, Any], timeout: float = 30.0,
         document: BinaryIO | None = None) -> dict[str, Any]:
    """Client side: send one request (and, for ``print``, the ``document`` after it)
    to the daemon and return its reply."""
    if document is not None:
        request = {**request, "size": os.fstat(document.fileno()).st_size - document.tell()}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(socket_path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise ConnectionError(
                f"no printbridge daemon at {socket_path} (is it running? --state-dir?)"
            ) from exc
        sock.sendall(json.dumps(request).encode() + b"\n")
        if document is not None:
            sock.sendfile(document)
        data = b""
        while not data.endswith(b"\n"):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    reply: dict[str, Any] = json.loads(data)
    if not reply.get("ok"):
        raise RuntimeError(reply.get("error", "daemon refused the request"))
    return reply
