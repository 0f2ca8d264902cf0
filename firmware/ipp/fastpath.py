"""The IPP fast path: IPP polls answered without aiohttp's per-request machinery.

Printers are polled all day: every client on the LAN sends Get-Printer-Attributes,
Get-Jobs and Get-Job-Attributes every few seconds, each a small POST whose whole
answer the responder builds from cached, pre-encoded attributes.  For those requests
aiohttp's per-request cost (request and response objects, middlewares, routing, its
stream reader) is most of the work.  This protocol serves such a request directly: a
complete HTTP/1.1 head (:mod:`firmware.http1`), a ``Content-Length`` body holding the
whole IPP message and nothing after it, no authentication, compression, chunking or
``Expect``.  The reply goes out in one write; keep-alive and pipelining are honoured.

Anything else — a document, a web page, a login, a malformed request — makes the
connection aiohttp's, from that request on, with every byte still unread handed over:
the fast path never answers what it is not sure of, so both paths reply alike.
It serves TLS connections (ipps://, what AirPrint clients use) the same way, once the
listener has completed the handshake (:mod:`firmware.listener`).

Upgrading to TLS on the plain port (RFC 2817 §3, what CUPS clients do for
``HTTP_ENCRYPTION_REQUIRED`` and the PWG self-certification test B-5.1 checks) is done
here too, for every request the fast path sees — every request of a connection until
one is handed to aiohttp, so always the first: a request whose ``Connection`` lists
``upgrade`` and whose ``Upgrade`` offers TLS 1.2 or later, without a body and with
nothing pipelined behind it, gets ``101 Switching Protocols``; the TLS handshake follows
on the same connection, and the request is then answered over TLS (§3.3) by a new fast
connection — ``OPTIONS *`` here, anything else here or by aiohttp, as usual.  An offer
that cannot be taken (a body, pipelined bytes, TLS off) is ignored, as RFC 9110 §7.8
allows: the request is answered in the clear.  ``OPTIONS *`` (RFC 9110 §9.3.7) is
answered here as aiohttp's middleware answers it (:mod:`firmware.server`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE

from firmware.http1 import (
    MAX_HEAD,
    DateCache,
    RequestHead,
    head_complete,
    parse_head,
    response_head,
)
from firmware.ipp.codec import IppParseError, Message, MessageParser, encode
from firmware.ipp.http import busy_reply, login_refusal
from firmware.ipp.request import AuthenticationRequired, RequestContext
from firmware.ipp.responder import Responder
from firmware.security import RateLimiter
from firmware.tls import TXT_VERSION

log = logging.getLogger(__name__)

#: The IPP resources (as routed in :mod:`firmware.ipp.http`); escapes go to aiohttp.
IPP_PATH = re.compile(r"/ipp/print(?:/[A-Za-z0-9_.~-]+){0,2}")
#: Largest request body answered here (requests carry a few hundred octets).
MAX_BODY = 64 * 1024
#: Stop reading from a client that pipelines this much ahead of our answers.
MAX_BUFFER = 4 * (MAX_HEAD + MAX_BODY)
#: Fields whose presence means "not a plain request": aiohttp handles them.
NOT_PLAIN = ("transfer-encoding", "expect", "authorization", "content-encoding", "upgrade")
#: What ``OPTIONS *`` answers: the methods the server implements (RFC 9110 §9.3.7).
SERVER_METHODS = "GET, HEAD, OPTIONS, POST"
#: Seconds for the TLS handshake after ``101 Switching Protocols`` (as the listener's).
HANDSHAKE_TIMEOUT = 10.0


def version_tuple(text: str) -> tuple[int, ...] | None:
    """``"1.2"`` -> ``(1, 2)``; None if it is not a dotted number."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None


#: The oldest TLS version we accept, as offered in ``Upgrade: TLS/1.2``.
MINIMUM_TLS = version_tuple(TXT_VERSION)


def tls_offer(offers: list[tuple[str, str]]) -> str | None:
    """The first TLS protocol in an ``Upgrade`` offer we can switch to, as the ``101``
    answer names it (``TLS/1.2``; RFC 2817 §3.3), or None.  ``TLS`` without a version
    means any."""
    for name, version in offers:
        if name != "tls":
            continue
        if not version:
            return f"TLS/{TXT_VERSION}"
        number = version_tuple(version)
        if number is not None and MINIMUM_TLS is not None and number >= MINIMUM_TLS:
            return f"TLS/{version}"
    return None


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now, up to its first real wait (what Python 3.12's eager tasks do):
    most answers never wait, and a task per request costs a turn of the event loop.
    A task finishes what does wait; None when the coroutine is already done."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_resume(coro, yielded))


async def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Drive ``coro`` on from the future it yielded, inside a task: the task waits on
    that same future, then each result, exception or cancellation goes on to ``coro``."""
    while True:
        try:
            await _Yield(yielded)
        except BaseException as exc:  # cancellation included: it is coro's to handle
            step = coro.throw
            arg: Any = exc
        else:
            step = coro.send
            arg = None
        try:
            yielded = step(arg)
        except StopIteration:
            return


class _Yield:
    """Hands a yielded future (or None, a bare yield) on to the driving task."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, None]:
        yield self.value


class FastPath:
    """What the fast connections share; called, it makes one (a protocol factory)."""

    def __init__(self, responder: Responder, rate: RateLimiter, server: web.Server, *,
                 head_timeout: float, body_timeout: float, keepalive_timeout: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.responder = responder
        self.rate = rate
        self.server = server  # aiohttp's protocol factory, for hand-overs
        self.head_timeout = head_timeout
        self.body_timeout = body_timeout
        self.keepalive_timeout = keepalive_timeout
        #: The server's TLS context, for upgrades on the plain port (None: TLS off).
        self.ssl_context = ssl_context
        self.connections: set[FastConnection] = set()
        #: Connections between ``101 Switching Protocols`` and the end of the handshake.
        self.switching: set[asyncio.Task[None]] = set()
        self.dates = DateCache()

    def __call__(self) -> FastConnection:
        return FastConnection(self)

    def close_all(self) -> None:
        for task in list(self.switching):
            task.cancel()
        for connection in list(self.connections):
            connection.close()


def plain(head: RequestHead) -> bool:
    """Is this a request the fast path may answer (once its body is read)?"""
    if head.method != "POST" or not IPP_PATH.fullmatch(head.target):
        return False
    if head.content_type != "application/ipp" or "host" not in head.fields:
        return False
    length = head.content_length
    if length is None or length > MAX_BODY:
        return False
    return not any(name in head.fields for name in NOT_PLAIN)


class FastConnection(asyncio.Protocol):
    """One connection (plain or TLS), answered here until a request needs aiohttp."""

    def __init__(self, shared: FastPath) -> None:
        self.shared = shared
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.local = ""
        self.secure = False  # over TLS
        self.buffer = bytearray()
        self.task: asyncio.Task[None] | None = None  # the request being answered
        self.timer: asyncio.TimerHandle | None = None
        self.timer_kind = ""  # "head", "body" or "idle": what the timer waits for
        self.eof = False
        self.write_paused = False
        self.read_paused = False
        self.done = False  # closed or handed over
        self.inline = False  # an answer is being given from inside _advance

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.shared.connections.add(self)
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        sock = transport.get_extra_info("sockname")
        self.local = f"{sock[0]}:{sock[1]}" if sock else ""
        self.secure = transport.get_extra_info("ssl_object") is not None
        self._arm("head", self.shared.head_timeout, self.close)  # its first byte is here

    def connection_lost(self, exc: Exception | None) -> None:
        self.done = True
        self.shared.connections.discard(self)
        self._disarm()
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.transport is None:
            return  # TLS after an upgrade: bytes before connection_made (see _switch)
        if len(self.buffer) > MAX_BUFFER and not self.read_paused and self.transport:
            self.transport.pause_reading()
            self.read_paused = True
        self._advance()

    def eof_received(self) -> bool:
        self.eof = True
        if self.transport is None:
            return False  # TLS after an upgrade, not yet begun (see _switch)
        self._advance()
        # Plain TCP: stay open to answer what came before the half-close, then close.
        # TLS has no half-close (asyncio closes the transport and warns if asked not to).
        return not self.secure

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._advance()

    # -- the request loop
    def _advance(self) -> None:
        """Answer the requests in the buffer, then wait for more, or hand over.

        A loop, not a recursion: a client may pipeline thousands of requests, and each
        answer that needs no waiting is given right here."""
        while self._next():
            pass

    def _next(self) -> bool:
        """Answer (or start answering) the next request; True if another may follow."""
        if self.done or self.task is not None or self.write_paused:
            return False
        if self.read_paused and len(self.buffer) <= MAX_BUFFER and self.transport:
            self.transport.resume_reading()
            self.read_paused = False
        size = head_complete(self.buffer)
        if not size:
            if len(self.buffer) > MAX_HEAD:
                self._hand_over()
            elif self.eof:
                self.close()
            elif self.buffer:  # a head has begun: it must be complete in time
                self._arm("head", self.shared.head_timeout, self.close)
            else:
                self._arm("idle", self.shared.keepalive_timeout, self.close)
            return False
        head = parse_head(bytes(self.buffer[:size]))
        if head is not None and not self.secure and head.upgrade_offers:
            token = tls_offer(head.upgrade_offers)
            if (token is not None and self.shared.ssl_context is not None
                    and not head.has_body and len(self.buffer) == size):
                self._upgrade(head, token)
                return False
            # Otherwise the offer is ignored (RFC 9110 §7.8): answered in the clear.
        if head is not None and head.method == "OPTIONS" and head.target == "*" \
                and not head.has_body:
            del self.buffer[:size]
            self._disarm()
            self.inline = True
            try:
                self._send(200, "OK", b"", keep=head.keep_alive, content_type=None,
                           extra=[("Allow", SERVER_METHODS)])
            finally:
                self.inline = False
            return not self.done
        if head is None or not plain(head):
            self._hand_over()
            return False
        end = size + (head.content_length or 0)
        if len(self.buffer) < end:
            if self.eof:
                self.close()
            else:
                self._arm("body", self.shared.body_timeout, self._body_stalled)
            return False
        parser = MessageParser(max_size=MAX_BODY)
        try:
            message = parser.feed(bytes(self.buffer[size:end]))
        except IppParseError:
            message = None
        if message is None or parser.remainder:
            self._hand_over()  # malformed, or document data: aiohttp's to answer
            return False
        del self.buffer[:end]
        self._disarm()
        self.inline = True
        try:
            self.task = start_eagerly(self._answer(head, message))
        finally:
            self.inline = False
        return self.task is None

    async def _answer(self, head: RequestHead, message: Message) -> None:
        keep = head.keep_alive
        if not self.shared.rate.allow(self.peer):
            self._send(200, "OK", busy_reply(message.request_id), keep=False)
            return
        if log.isEnabledFor(logging.DEBUG):
            log.debug("IPP %s 0x%04x from %s (fast path)", head.target, message.code,
                      self.peer)
        ctx = RequestContext(host=head.fields["host"] or self.local, path=head.target,
                             peer=self.peer, secure=self.secure)
        try:
            reply = await self.shared.responder.handle(message, None, ctx)
        except AuthenticationRequired:
            refusal = login_refusal(self.secure)
            self._send(refusal.status, refusal.reason, refusal.text.encode(),
                       keep=keep and not refusal.close,
                       content_type="text/plain; charset=utf-8", extra=list(refusal.headers))
            return
        except Exception:
            log.exception("IPP fast path: request from %s failed", self.peer)
            self._send(500, "Internal Server Error", b"internal error\n", keep=False,
                       content_type="text/plain; charset=utf-8")
            return
        self._send(200, "OK", encode(reply), keep=keep)

    def _send(self, status: int, reason: str, body: bytes, *, keep: bool,
              content_type: str | None = "application/ipp",
              extra: list[tuple[str, str]] | None = None) -> None:
        self.task = None
        if self.done or self.transport is None:
            return
        fields = [("Content-Type", content_type)] if content_type else []
        fields += [("Content-Length", str(len(body))), ("Date", self.shared.dates.now()),
                   ("Server", SERVER_SOFTWARE), *(extra or [])]
        if not keep:
            options = [v for k, v in fields if k == "Connection"]
            fields = [(k, v) for k, v in fields if k != "Connection"]
            fields.append(("Connection", ", ".join([*options, "close"])))
        self.transport.write(response_head(status, reason, fields) + body)
        if not keep:
            self.close()
        elif not self.inline:  # a task answered: go on with what came meanwhile
            self._advance()

    def _body_stalled(self) -> None:
        if self.task is None and not self.done:
            self._send(408, "Request Timeout", b"request body stalled\n", keep=False,
                       content_type="text/plain; charset=utf-8")

    # -- upgrading to TLS (RFC 2817 §3)
    def _upgrade(self, head: RequestHead, token: str) -> None:
        """``101 Switching Protocols``, then the TLS handshake on this connection; a new
        fast connection answers ``head`` over TLS (§3.3) and whatever follows."""
        transport = self.transport
        assert transport is not None and self.task is None
        self.done = True
        self._disarm()
        self.shared.connections.discard(self)
        self.buffer.clear()
        transport.write(response_head(101, "Switching Protocols", [
            ("Connection", "Upgrade"), ("Upgrade", f"{token}, HTTP/1.1"),
            ("Date", self.shared.dates.now()), ("Server", SERVER_SOFTWARE)]))
        log.debug("%s: upgrading to %s (RFC 2817)", self.peer, token)
        # Eagerly: start_tls stops this transport's reading and takes it over before the
        # event loop can hand the client's first TLS bytes to this (plain) protocol.
        task = start_eagerly(self._switch(transport, head.without_upgrade()))
        if task is not None:
            self.shared.switching.add(task)
            task.add_done_callback(self.shared.switching.discard)

    async def _switch(self, transport: asyncio.Transport, request: bytes) -> None:
        assert self.shared.ssl_context is not None
        secure = self.shared()
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(transport, secure, self.shared.ssl_context,
                                       server_side=True,
                                       ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
            log.debug("%s: TLS handshake after the upgrade failed: %r", self.peer, exc)
            transport.close()  # (start_tls closes it too; this is for the other errors)
            return
        except asyncio.CancelledError:
            transport.close()
            raise
        if tls is None or tls.is_closing():
            return
        # start_tls does not call connection_made; bytes the client sent right after
        # its handshake may already be in secure.buffer: the request goes before them.
        secure.buffer[:0] = request
        secure.connection_made(tls)
        secure._advance()

    # -- endings
    def _hand_over(self) -> None:
        """From now on aiohttp serves this connection, starting with the unread bytes."""
        transport = self.transport
        assert transport is not None and self.task is None
        self.done = True
        self._disarm()
        self.shared.connections.discard(self)
        if self.read_paused:
            transport.resume_reading()
        handler = self.shared.server()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self.buffer:
            handler.data_received(bytes(self.buffer))
            self.buffer.clear()
        if self.eof:
            handler.eof_received()

    def close(self) -> None:
        self.done = True
        self._disarm()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- timers
    def _arm(self, kind: str, seconds: float, action: Callable[[], None]) -> None:
        """Start the deadline for ``kind``, unless it is already running (a head that
        trickles in does not push its own deadline back)."""
        if self.timer is not None and self.timer_kind == kind:
            return
        self._disarm()
        self.timer = asyncio.get_running_loop().call_later(seconds, action)
        self.timer_kind = kind

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_kind = ""


__all__ = ["FastPath", "plain"]
