"""The HTTP server: IPP and the web pages share one aiohttp application and one port,
plain and TLS alike (:mod:`firmware.listener`)."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import ClientConnectionResetError, web
from aiohttp.typedefs import Handler

from firmware.ipp.fastpath import FastPath
from firmware.ipp.http import GUARD_KEY, RESPONDER_KEY, IppGuard, add_routes
from firmware.ipp.responder import Responder
from firmware.listener import Listener
from firmware.security import BasicAuth, Limits, tls_enabled
from firmware.system import System
from firmware.tls import Credentials, generate, local_hostname, server_context
from firmware.users import UserDB
from firmware.web.icons import add_icon_routes
from firmware.web.pages import add_web_routes

log = logging.getLogger(__name__)

#: Seconds an idle keep-alive connection is kept open.
KEEPALIVE_TIMEOUT = 30.0


@web.middleware
async def quiet_disconnects(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A client that hangs up mid-request is normal on a LAN, not an error to log with a
    traceback; the answer goes nowhere anyway."""
    try:
        return await handler(request)
    except (ConnectionResetError, ClientConnectionResetError):
        log.debug("%s hung up during %s %s", request.remote, request.method, request.path)
        raise web.HTTPBadRequest() from None


def build_app(system: System, limits: Limits) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[quiet_disconnects])
    guard = IppGuard(BasicAuth(UserDB(system.config.state_dir / "users")), limits)
    add_routes(app, Responder(system), guard)
    add_icon_routes(app)
    add_web_routes(app, system)
    return app


def credentials(system: System) -> Credentials:
    tls = system.config.sections.get("tls", {})
    if tls.get("certificate") and tls.get("key"):
        return Credentials(Path(tls["certificate"]), Path(tls["key"]))
    return generate(system.config.state_dir / "tls", local_hostname(), [system.config.listen])


async def start_http(system: System) -> tuple[web.AppRunner, Listener]:
    limits = Limits.from_config(system.config)
    context = None
    if tls_enabled(system.config):
        creds = credentials(system)
        context = server_context(creds)
        system.tls_enabled = True
        system.tls_fingerprint = creds.fingerprint
    for printer in system.printers.values():
        if printer.auth_policy == "authenticated" and context is None:
            raise ValueError(f"printer {printer.name}: policy 'authenticated' needs TLS")
    app = build_app(system, limits)
    runner = web.AppRunner(app, access_log=None, handle_signals=False,
                           keepalive_timeout=KEEPALIVE_TIMEOUT, shutdown_timeout=3)
    await runner.setup()
    assert runner.server is not None
    fast = FastPath(app[RESPONDER_KEY], app[GUARD_KEY].rate, runner.server,
                    head_timeout=limits.first_byte_timeout, body_timeout=limits.body_timeout,
                    keepalive_timeout=KEEPALIVE_TIMEOUT)
    listener = Listener(runner, system.config.listen, system.config.ipp_port, context,
                        max_connections=limits.max_connections,
                        first_byte_timeout=limits.first_byte_timeout, fast_path=fast)
    await listener.start()
    return runner, listener
