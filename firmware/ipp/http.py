"""IPP over HTTP (RFC 8010 §4 / RFC 3510 mapping) as a thin aiohttp adapter.

The attribute part is fed to the streaming parser as it arrives; what follows is the
document, handed to the responder as an async stream straight from the socket, so a
document is never held in memory.  Requests without a document and without a login are
mostly answered before they get here, by :mod:`firmware.ipp.fastpath`, which hands the
rest (and the connection) to this adapter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from firmware.ipp.codec import IppParseError, MessageParser, encode
from firmware.ipp.request import AuthenticationRequired, RequestContext
from firmware.ipp.responder import Responder
from firmware.ipp.tags import Status
from firmware.security import BasicAuth, Limits, RateLimiter

log = logging.getLogger(__name__)

MAX_ATTRIBUTES = 1024 * 1024
RESPONDER_KEY = web.AppKey("ipp-responder", Responder)
GUARD_KEY = web.AppKey("ipp-guard", "IppGuard")
REALM = 'Basic realm="Printbridge", charset="UTF-8"'


class IppGuard:
    """Per-request checks in front of the responder: login, rate, body timeout."""

    def __init__(self, auth: BasicAuth, limits: Limits) -> None:
        self.auth = auth
        self.limits = limits
        self.rate = RateLimiter(limits.client_rate)


def ipp_response(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/ipp")


@dataclass(frozen=True, slots=True)
class Refusal:
    """An HTTP refusal both IPP paths send alike: aiohttp's (:func:`handle_ipp`) and the
    fast path's (:mod:`firmware.ipp.fastpath`)."""

    status: int
    reason: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


def login_refusal(secure: bool) -> Refusal:
    """The answer to an operation that needs a login: HTTP Basic over TLS (RFC 7617), and
    only there; in the clear the client is sent to TLS first (RFC 2817 §4.2: 426 with
    ``Upgrade``, which RFC 9110 §7.8 says goes with the ``upgrade`` connection option)
    rather than asked for a password it would send in the clear."""
    if secure:
        return Refusal(401, "Unauthorized", "this operation needs a login\n",
                       (("WWW-Authenticate", REALM),))
    return Refusal(426, "Upgrade Required", "log in over ipps:// (TLS)\n",
                   (("Upgrade", "TLS/1.2, HTTP/1.1"), ("Connection", "upgrade")), close=True)


def busy_reply(request_id: int) -> bytes:
    """The IPP answer to a client over its request rate (RFC 8011 §4.1.6.3:
    server-error-busy, try again later)."""
    return encode(Responder.error_response(request_id, Status.SERVER_ERROR_BUSY,
                                           "too many requests from this client; try again"))


def _unauthorized(secure: bool) -> web.HTTPException:
    refusal = login_refusal(secure)
    cls = web.HTTPUnauthorized if refusal.status == 401 else web.HTTPUpgradeRequired
    return cls(headers=dict(refusal.headers), text=refusal.text)


async def handle_ipp(request: web.Request) -> web.StreamResponse:
    responder = request.app[RESPONDER_KEY]
    guard = request.app[GUARD_KEY]
    if request.content_type != "application/ipp":
        raise web.HTTPBadRequest(text="IPP requests must be application/ipp\n")
    secure = request.secure
    user = None
    header = request.headers.get("Authorization")
    if header:
        if not secure:
            raise web.HTTPForbidden(text="HTTP Basic is only accepted over TLS (ipps://)\n")
        user = guard.auth.check(header)
        if user is None:
            raise _unauthorized(True)
    peer = request.remote or ""
    stream = request.content
    parser = MessageParser(max_size=MAX_ATTRIBUTES)
    message = None
    try:
        while message is None:
            chunk = await asyncio.wait_for(stream.readany(), guard.limits.body_timeout)
            if not chunk:
                parser.close()  # raises: the message ended before end-of-attributes
                break
            message = parser.feed(chunk)
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="request body stalled\n") from None
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
    if not guard.rate.allow(peer):
        response = ipp_response(busy_reply(message.request_id))
        response.force_close()
        return response
    first = parser.remainder or await stream.readany()

    async def body() -> AsyncIterator[bytes]:
        if first:
            yield first
        while True:
            # asyncio.timeout, not wait_for: no task per chunk of a large document.
            try:
                async with asyncio.timeout(guard.limits.body_timeout):
                    chunk = await stream.readany()
            except TimeoutError:
                # The job is refused with server-error-temporary-error, saying why.
                raise TimeoutError(f"the document stalled for over "
                                   f"{guard.limits.body_timeout:g} s") from None
            if not chunk:
                return
            yield chunk

    if log.isEnabledFor(logging.DEBUG):
        log.debug("IPP %s 0x%04x from %s: %s", request.path, message.code, request.remote,
                  message.operation)
    ctx = RequestContext(host=request.host, path=request.path, peer=peer, secure=secure,
                         authenticated_user=user.name if user else None,
                         admin=bool(user and user.is_admin))
    try:
        reply = await responder.handle(message, body() if first else None, ctx)
    except AuthenticationRequired:
        raise _unauthorized(secure) from None
    response = ipp_response(encode(reply))
    if not stream.at_eof():
        response.force_close()
    return response


def add_routes(app: web.Application, responder: Responder, guard: IppGuard) -> None:
    app[RESPONDER_KEY] = responder
    app[GUARD_KEY] = guard
    app.router.add_post("/ipp/print", handle_ipp)
    app.router.add_post("/ipp/print/{name}", handle_ipp)
    app.router.add_post("/ipp/print/{name}/{job}", handle_ipp)
