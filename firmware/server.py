"""The HTTP server: IPP and the web pages share one aiohttp application and one port,
plain and TLS alike (:mod:`firmware.listener`); a plain connection may switch to TLS by
an HTTP Upgrade (RFC 2817, in :mod:`firmware.ipp.fastpath`).

The TLS certificate (:class:`firmware.tls.ServerTls`) first names the host name DNS-SD
is going to claim; the network code re-issues it for the name and addresses actually in
use (:mod:`firmware.net.network`)."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import ClientConnectionResetError, web
from aiohttp.typedefs import Handler

from firmware.ipp.fastpath import SERVER_METHODS, FastPath
from firmware.ipp.http import GUARD_KEY, RESPONDER_KEY, IppGuard, add_routes
from firmware.ipp.responder import Responder
from firmware.listener import Listener
from firmware.security import BasicAuth, Limits, tls_enabled
from firmware.system import System
from firmware.tls import Credentials, ServerTls
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


@web.middleware
async def server_options(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``OPTIONS *`` asks about the server as a whole (RFC 9110 §9.3.7): the methods it
    implements, as the fast path answers it.  aiohttp sees one only on a connection it
    already serves; an upgrade to TLS offered there is ignored (RFC 9110 §7.8: the fast
    path, which sees every connection's first requests, is where the switch is made)."""
    if request.method == "OPTIONS" and request.raw_path == "*":
        return web.Response(status=200, headers={"Allow": SERVER_METHODS})
    return await handler(request)


def build_app(system: System, limits: Limits) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024,
                          middlewares=[quiet_disconnects, server_options])
    guard = IppGuard(BasicAuth(UserDB(system.config.state_dir / "users")), limits)
    add_routes(app, Responder(system), guard)
    add_icon_routes(app)
    add_web_routes(app, system)
    return app


def installed_credentials(system: System) -> Credentials | None:
    """The user's own certificate (``[tls] certificate`` and ``key``), if any."""
    tls = system.config.sections.get("tls", {})
    if tls.get("certificate") and tls.get("key"):
        return Credentials(Path(tls["certificate"]), Path(tls["key"]))
    return None


def server_tls(system: System) -> ServerTls:
    """The TLS context, its certificate first issued for the host name DNS-SD will try
    first (the one it kept, after a renaming) and the listen address; the network code
    updates it once the name is claimed and the interfaces' addresses are known."""
    from firmware.net.network import expected_hostname

    def changed(creds: Credentials) -> None:
        system.tls_fingerprint = creds.fingerprint

    listen = [] if system.config.listen in ("", "0.0.0.0", "::") else [system.config.listen]
    return ServerTls(system.config.state_dir / "tls", expected_hostname(system), listen,
                     installed=installed_credentials(system), on_change=changed)


async def start_http(system: System) -> tuple[web.AppRunner, Listener]:
    limits = Limits.from_config(system.config)
    tls = None
    if tls_enabled(system.config):
        tls = server_tls(system)
        system.tls_enabled = True
        system.tls_fingerprint = tls.credentials.fingerprint
    context = tls.context if tls is not None else None
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
                    keepalive_timeout=KEEPALIVE_TIMEOUT, ssl_context=context)
    listener = Listener(runner, system.config.listen, system.config.ipp_port, context,
                        max_connections=limits.max_connections,
                        first_byte_timeout=limits.first_byte_timeout, fast_path=fast)
    listener.tls = tls
    await listener.start()
    return runner, listener
