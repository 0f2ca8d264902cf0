"""The HTTP server: IPP and the web pages share one aiohttp application and port."""

from __future__ import annotations

from aiohttp import web

from firmware.ipp.http import add_routes
from firmware.ipp.responder import Responder
from firmware.system import System
from firmware.web.icons import add_icon_routes
from firmware.web.pages import add_web_routes


def build_app(system: System) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    add_routes(app, Responder(system))
    add_icon_routes(app)
    add_web_routes(app, system)
    return app


async def start_http(system: System) -> web.AppRunner:
    runner = web.AppRunner(build_app(system), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, system.config.listen, system.config.ipp_port, reuse_address=True)
    await site.start()
    return runner
