"""IPP over HTTP (RFC 8010 §4 / RFC 3510 mapping) as a thin aiohttp adapter.

The attribute part is fed to the streaming parser as it arrives; what follows is the
document, handed to the responder as an async stream straight from the socket, so a
document is never held in memory.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from firmware.ipp.codec import IppParseError, MessageParser, encode
from firmware.ipp.responder import RequestContext, Responder
from firmware.ipp.tags import Status

log = logging.getLogger(__name__)

MAX_ATTRIBUTES = 1024 * 1024
RESPONDER_KEY = web.AppKey("ipp-responder", Responder)


def ipp_response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/ipp")


async def handle_ipp(request: web.Request) -> web.StreamResponse:
    responder = request.app[RESPONDER_KEY]
    if request.content_type != "application/ipp":
        raise web.HTTPBadRequest(text="IPP requests must be application/ipp\n")
    stream = request.content
    parser = MessageParser(max_size=MAX_ATTRIBUTES)
    message = None
    try:
        while message is None:
            chunk = await stream.readany()
            if not chunk:
                parser.close()  # raises: the message ended before end-of-attributes
                break
            message = parser.feed(chunk)
    except IppParseError as exc:
        log.info("bad IPP request from %s: %s", request.remote, exc)
        if exc.request_id is None:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        status = exc.status if exc.status else Status.CLIENT_ERROR_BAD_REQUEST
        reply = Responder.error_response(exc.request_id, status, exc.message)
        response = ipp_response(encode(reply))
        response.force_close()  # the rest of the body is unparseable; don't reuse the socket
        return response
    assert message is not None
    first = parser.remainder or await stream.readany()

    async def body() -> AsyncIterator[bytes]:
        if first:
            yield first
        while chunk := await stream.readany():
            yield chunk

    if log.isEnabledFor(logging.DEBUG):
        log.debug("IPP %s 0x%04x from %s: %s", request.path, message.code, request.remote,
                  message.operation)
    ctx = RequestContext(host=request.host, path=request.path, peer=request.remote or "")
    reply = await responder.handle(message, body() if first else None, ctx)
    response = ipp_response(encode(reply))
    if not stream.at_eof():
        response.force_close()
    return response


def add_routes(app: web.Application, responder: Responder) -> None:
    app[RESPONDER_KEY] = responder
    app.router.add_post("/ipp/print", handle_ipp)
    app.router.add_post("/ipp/print/{name}", handle_ipp)
    app.router.add_post("/ipp/print/{name}/{job}", handle_ipp)
