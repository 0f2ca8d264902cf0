"""The status page: state and reasons in words, supplies, counters, jobs."""

from __future__ import annotations

import html

from aiohttp import web

from firmware.reasons import REASON_TEXT
from firmware.system import System

SYSTEM_KEY = web.AppKey("system", System)


def _esc(value: object) -> str:
    return html.escape(str(value))


async def status_page(request: web.Request) -> web.Response:
    system = request.app[SYSTEM_KEY]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        "<title>Printbridge</title></head><body><h1>Printbridge</h1>",
    ]
    for printer in system.printers.values():
        reasons = ", ".join(REASON_TEXT.get(r, r) for r in printer.reasons)
        parts.append(f"<section><h2>{_esc(printer.name)}</h2>")
        parts.append(f"<p>State: <b>{_esc(printer.state.keyword)}</b> — {_esc(reasons)}</p><ul>")
        for supply in printer.supplies:
            level = "unknown" if supply.level < 0 else f"{supply.level}%"
            parts.append(f"<li>{_esc(supply.name)}: {_esc(level)}</li>")
        c = printer.counters
        parts.append(f"</ul><p>{c.impressions} pages, {c.jobs} jobs printed; ")
        parts.append(f"{printer.queued_job_count} queued</p></section>")
    parts.append("</body></html>")
    return web.Response(text="".join(parts), content_type="text/html")
