"""The daemon: one asyncio loop running the printer model and every front end."""

from __future__ import annotations

import asyncio
import logging
import signal

from firmware.admin import AdminServer
from firmware.config import Config
from firmware.lpd import LpdServer
from firmware.raw import RawServer
from firmware.server import start_http
from firmware.system import System

log = logging.getLogger(__name__)


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    system = System(config)
    await system.start()
    admin = AdminServer(system, config.socket_path)
    await admin.start()
    http = await start_http(system)
    servers = []
    if config.raw_port:
        servers.append(RawServer(system, config.listen, config.raw_port))
    if config.lpd_port:
        servers.append(LpdServer(system, config.listen, config.lpd_port))
    for server in servers:
        await server.start()
    log.info(
        "printbridge %s on board %s: IPP and web on http://%s:%d/, state in %s",
        system.version, config.board, config.listen, config.ipp_port, config.state_dir,
    )
    for printer in system.printers.values():
        log.info("printer %s on %s (uuid %s)", printer.name, printer.port_uri, printer.uuid)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        for server in servers:
            await server.stop()
        await http.cleanup()
        await admin.stop()
        await system.stop()
