"""One TCP port for HTTP and HTTPS, as CUPS does: the first byte a client sends decides.

A TLS ClientHello starts with the handshake record type 0x16 (RFC 8446 §5.1); an HTTP
request starts with a method name.  Either way the connection (after the TLS handshake)
goes to the IPP fast path (:mod:`firmware.ipp.fastpath`), which hands it on to aiohttp's
protocol at the first request it does not answer itself.  The listener also enforces
the connection limits: a global cap, a deadline for the first byte, and a TLS handshake
timeout, so idle or slow clients cannot use up the server.  A plain connection can still
become a TLS one later, by an HTTP Upgrade (RFC 2817), which the fast path performs.

Listening on ``::`` means IPv4 and IPv6 (link-local included, RFC 4291 §2.5.6), as CUPS
and network printers serve: two sockets, the IPv6 one ``IPV6_V6ONLY`` so that IPv4 peers
keep their IPv4 addresses (not ``::ffff:a.b.c.d``) in logs and job attributes.
:func:`bind_hosts` says the same to the other servers (raw 9100, LPD).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from firmware.ipp.fastpath import FastPath
    from firmware.tls import ServerTls

log = logging.getLogger(__name__)

TLS_HANDSHAKE = 0x16
#: The listen value meaning "every IPv4 and IPv6 address".
DUAL_STACK = "::"


def bind_addresses(listen: str) -> list[tuple[socket.AddressFamily, str]]:
    """(family, address) of each socket serving ``listen``: ``::`` is both families."""
    if listen == DUAL_STACK:
        return [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")]
    return [(socket.AF_INET6 if ":" in listen else socket.AF_INET, listen)]


def bind_hosts(listen: str) -> list[str]:
    """The hosts to give ``asyncio.start_server`` for ``listen`` (its IPv6 sockets are
    IPv6-only, so ``::`` needs 0.0.0.0 beside it)."""
    return [address for _, address in bind_addresses(listen)]


class Listener:
    def __init__(self, runner: web.AppRunner, host: str, port: int,
                 ssl_context: ssl.SSLContext | None, *, max_connections: int = 1000,
                 first_byte_timeout: float = 30.0, fast_path: FastPath | None = None) -> None:
        self.runner = runner
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.max_connections = max_connections
        self.first_byte_timeout = first_byte_timeout
        self.fast_path = fast_path
        #: The certificate manager behind ``ssl_context`` (the network code updates it).
        self.tls: ServerTls | None = None
        self._socks: list[socket.socket] = []
        self._accepting: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def open_connections(self) -> int:
        """Connections being served (by aiohttp or the fast path) plus those still being
        sniffed."""
        server = self.runner.server
        fast = (len(self.fast_path.connections) + len(self.fast_path.switching)
                if self.fast_path is not None else 0)
        return len(self._pending) + fast + (len(server.connections) if server else 0)

    async def start(self) -> None:
        addresses = bind_addresses(self.host)
        for family, address in addresses:
            try:
                # create_server makes an AF_INET6 socket IPV6_V6ONLY (dualstack_ipv6 off).
                sock = socket.create_server((address, self.port), family=family,
                                            backlog=256, reuse_port=False)
            except OSError as exc:
                if family != socket.AF_INET6 or len(addresses) == 1:
                    for opened in self._socks:
                        opened.close()
                    self._socks.clear()
                    raise
                # A board booted with IPv6 off (ipv6.disable=1): IPv4 still serves.
                log.warning("http: no IPv6 (%s): listening on IPv4 only", exc)
                continue
            sock.setblocking(False)
            self._socks.append(sock)
        self._accepting = [asyncio.create_task(self._accept_loop(sock), name="http-accept")
                           for sock in self._socks]

    async def stop(self) -> None:
        for accepting in self._accepting:
            accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await accepting
        self._accepting.clear()
        for task in list(self._pending):
            task.cancel()
        for sock in self._socks:
            sock.close()
        self._socks.clear()
        if self.fast_path is not None:
            self.fast_path.close_all()

    async def _accept_loop(self, listening: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listening)
            except OSError as exc:  # EMFILE and friends: back off instead of spinning
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            if self.open_connections >= self.max_connections:
                conn.close()  # over the limit: refuse rather than queue without bound
                continue
            conn.setblocking(False)
            task = asyncio.create_task(self._dispatch(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _first_byte(self, conn: socket.socket) -> bytes:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
        try:
            await asyncio.wait_for(ready, self.first_byte_timeout)
        finally:
            loop.remove_reader(conn.fileno())
        return conn.recv(1, socket.MSG_PEEK)

    async def _dispatch(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        handed_over = False
        try:
            try:
                first = await self._first_byte(conn)
            except (TimeoutError, OSError):
                return
            if not first:
                return
            tls = first[0] == TLS_HANDSHAKE
            if tls and self.ssl_context is None:
                return
            server = self.runner.server
            assert server is not None
            factory: Callable[[], asyncio.Protocol] = self.fast_path or server
            try:
                transport, _ = await loop.connect_accepted_socket(
                    factory, conn, ssl=self.ssl_context if tls else None,
                    ssl_handshake_timeout=10.0 if tls else None)
            except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
                log.debug("handshake failed: %s", exc)
                return
            handed_over = transport is not None
        finally:
            if not handed_over:
                conn.close()
