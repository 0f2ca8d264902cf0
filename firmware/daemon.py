"""The daemon: one asyncio loop running the printer model and every front end."""

from __future__ import annotations

import asyncio
import logging
import signal

from firmware import sdnotify
from firmware.admin import AdminServer
from firmware.board import BoardIO, reset
from firmware.config import Config
from firmware.hotplug import Hotplug
from firmware.lpd import LpdServer
from firmware.net import start_network
from firmware.raw import RawServer
from firmware.server import start_http
from firmware.snmp.agent import SnmpAgent
from firmware.system import System

log = logging.getLogger(__name__)

SHUTDOWN_STEP_TIMEOUT = 5.0


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    reset.apply_pending(config.state_dir)  # a factory reset the button asked for
    system = System(config)
    hotplug = Hotplug.from_config(system)  # [hotplug]: queues for printers plugged in
    if hotplug is not None:
        hotplug.restore()  # printers seen before get their queues (and spooled jobs) back
    snmp = SnmpAgent(system)  # reads [snmp] first: a bad section stops before anything runs
    await system.start()
    await snmp.start()
    admin = AdminServer(system, config.socket_path)
    await admin.start()
    http, listener = await start_http(system)
    servers = []
    if config.raw_port:
        servers.append(RawServer(system, config.listen, config.raw_port))
    if config.lpd_port:
        servers.append(LpdServer(system, config.listen, config.lpd_port))
    for server in servers:
        await server.start()
    # After every server it advertises; it keeps the TLS certificate's names current.
    network = await start_network(system, admin, tls=listener.tls)
    if hotplug is not None:
        await hotplug.start()
    log.info(
        "printbridge %s on board %s: IPP and web on http://%s:%d/, state in %s",
        system.version, config.board, config.listen, config.ipp_port, config.state_dir,
    )
    for printer in system.printers.values():
        log.info("printer %s on %s (uuid %s)", printer.name, printer.port_uri, printer.uuid)
    board = BoardIO(system, stop)  # status LED and button, where the board has them
    await board.start()
    system.ready = True
    notifier = sdnotify.Notifier()  # systemd Type=notify: READY=1, then WATCHDOG=1 pings
    notifier.ready(f"{len(system.printers)} printer(s), IPP on port {config.ipp_port}")
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        # Each step gets a bounded time: a stuck client or peer must not keep the daemon
        # (and the restart systemd is waiting for) hanging.  The spool needs no shutdown
        # to be consistent, so cutting a step short loses nothing.
        steps = [notifier.stopping(), board.stop()]
        if hotplug is not None:
            steps.append(hotplug.stop())
        steps.append(network.stop())  # goodbyes while the servers still answer
        steps += [server.stop() for server in servers]
        steps += [listener.stop(), http.cleanup(), admin.stop(), snmp.stop(), system.stop()]
        for step in steps:
            try:
                await asyncio.wait_for(step, SHUTDOWN_STEP_TIMEOUT)
            except TimeoutError:
                log.warning("shutdown: %s took over %ss; going on", step.__qualname__,
                            SHUTDOWN_STEP_TIMEOUT)
            except Exception:
                log.exception("shutdown: %s failed; going on", step.__qualname__)
    if board.exit_code:  # factory reset: exit so systemd restarts us (unit file)
        raise SystemExit(board.exit_code)
