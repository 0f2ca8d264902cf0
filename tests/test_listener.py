"""The shared HTTP/IPP port (firmware.listener): plain HTTP and TLS told apart by the
first byte a client sends, and the clients that send nothing useful.

Every test talks to a real daemon over real TCP connections on 127.0.0.1: a plain HTTP
client (http.client), a TLS client (Python's ssl, and ``openssl s_client``), and raw
sockets for the hostile cases — a client that sends nothing, one byte and nothing more,
garbage, a ClientHello cut into several TCP segments.  Each hostile client must be
closed, and another client connecting meanwhile must still be served.

No sleeps: a test waits for the server to close a socket (a blocking read, with a
generous timeout), and a client being served is the barrier that shows the server has
seen what was sent before it (on loopback a send is in the peer's receive queue when
``send`` returns, so by the time a later connection's request is answered the event
loop has seen the earlier bytes).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import subprocess
from collections.abc import Iterator

import pytest

from firmware.ipp import Operation, Status, decode, encode
from firmware.listener import DUAL_STACK, bind_addresses, bind_hosts
from tests.daemon import Daemon, wait_for
from tests.ipp.client import request, tls_client

#: Generous: only reached when something is broken.  Below the 60 s asyncio would
#: give a TLS handshake without the listener's own timeout.
TIMEOUT = 30.0


def limits(**values: object) -> str:
    return "[security]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with a 2 s first-byte deadline (the fast path's head deadline too)."""
    daemon = Daemon(tmp_path_factory.mktemp("strict"),
                    extra_config=limits(first_byte_timeout=2, body_timeout=2)).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with a 60 s first-byte deadline: a silent client is still open when a
    test checks that others were served meanwhile."""
    daemon = Daemon(tmp_path_factory.mktemp("patient"),
                    extra_config=limits(first_byte_timeout=60, body_timeout=60)).start()
    yield daemon
    daemon.stop()


# -- clients
def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    # Each send is its own TCP segment (no Nagle coalescing of the pieces).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as a
    close); fails if it is still open after TIMEOUT."""
    sock.settimeout(TIMEOUT)
    received = b""
    try:
        while more := sock.recv(65536):
            received += more
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"still open after {TIMEOUT}s (received {received[:80]!r})"
                             ) from None
    return received


def still_open(sock: socket.socket) -> bool:
    """True while the server has neither closed the connection nor sent anything."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # EOF (b""), a reset or data: not a waiting client
        return False
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.settimeout(TIMEOUT)


def plain_get(port: int) -> tuple[int, bytes]:
    """The web page over plain HTTP, with the standard library's HTTP client."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def tls_get(port: int) -> tuple[int, bytes, str]:
    """The web page over TLS with Python's ssl: status, body and the TLS version."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT,
                                       context=tls_client())
    try:
        conn.request("GET", "/")
        reply = conn.getresponse()
        assert isinstance(conn.sock, ssl.SSLSocket)
        return reply.status, reply.read(), str(conn.sock.version())
    finally:
        conn.close()


def ipp_poll(daemon: Daemon, *, tls: bool) -> dict[str, list[object]]:
    """Get-Printer-Attributes (answered by the fast path) over plain HTTP or TLS."""
    scheme = "ipps" if tls else "ipp"
    body = encode(request(Operation.GET_PRINTER_ATTRIBUTES,
                          f"{scheme}://127.0.0.1:{daemon.ipp_port}/ipp/print",
                          requested_attributes=["printer-state", "printer-uri-supported",
                                                "uri-security-supported"]))
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection("127.0.0.1", daemon.ipp_port, timeout=TIMEOUT,
                                    context=tls_client()) if tls
        else http.client.HTTPConnection("127.0.0.1", daemon.ipp_port, timeout=TIMEOUT))
    try:
        conn.request("POST", "/ipp/print", body, {"Content-Type": "application/ipp"})
        reply = conn.getresponse()
        assert reply.status == 200
        message = decode(reply.read())[0]
    finally:
        conn.close()
    assert message.code == Status.SUCCESSFUL_OK
    return {a.name: list(a.values) for g in message.groups for a in g.attributes}


def served(daemon: Daemon) -> None:
    """Another client, connecting now, gets the web page."""
    status, page = plain_get(daemon.ipp_port)
    assert status == 200 and b"<html" in page.lower()


class MemoryTls:
    """A TLS client over a raw socket through memory BIOs, so a test decides how the
    bytes of the handshake are cut into TCP segments."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = tls_client().wrap_bio(self.incoming, self.outgoing)

    def client_hello(self) -> bytes:
        with contextlib.suppress(ssl.SSLWantReadError):
            self.tls.do_handshake()
        hello = self.outgoing.read()
        assert hello[0] == 0x16 and len(hello) > 50  # a handshake record, not yet sent
        return hello

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()
        return bool(data)

    def finish_handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                assert self._fill(), "the server closed the connection during the handshake"
        self._flush()

    def exchange(self, data: bytes) -> bytes:
        """Send ``data`` (a request with ``Connection: close``), return all the server
        sends until it closes."""
        self.tls.write(data)
        self._flush()
        received = b""
        while True:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._fill()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break
            if not chunk:
                break
            received += chunk
        return received


GET_AND_CLOSE = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), reply[:100]
    return int(reply.split(b" ", 2)[1])


# -- addresses
def test_bind_addresses() -> None:
    assert bind_addresses(DUAL_STACK) == [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")]
    assert bind_addresses("127.0.0.1") == [(socket.AF_INET, "127.0.0.1")]
    assert bind_addresses("fe80::1%eth0") == [(socket.AF_INET6, "fe80::1%eth0")]
    assert bind_hosts(DUAL_STACK) == ["0.0.0.0", "::"]
    assert bind_hosts("192.168.1.9") == ["192.168.1.9"]


# -- the two kinds of client on one port
def test_plain_http_and_tls_share_the_port(patient: Daemon) -> None:
    """The same port answers a plain HTTP client and a TLS client, web page and IPP,
    and the IPP layer knows which connection was encrypted."""
    status, page = plain_get(patient.ipp_port)
    assert status == 200 and b"<html" in page.lower()
    status, secure_page, version = tls_get(patient.ipp_port)
    assert status == 200 and b"<html" in secure_page.lower()
    assert version in ("TLSv1.2", "TLSv1.3")
    clear, secure = ipp_poll(patient, tls=False), ipp_poll(patient, tls=True)
    assert clear["printer-state"] == secure["printer-state"] == [3]
    uris = dict(zip(secure["printer-uri-supported"], secure["uri-security-supported"],
                    strict=True))
    assert uris[f"ipps://127.0.0.1:{patient.ipp_port}/ipp/print"] == "tls"


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_openssl_s_client(patient: Daemon, version: str) -> None:
    """An independent TLS client, each TLS version's ClientHello: the handshake
    completes on the shared port and the request is answered over it."""
    out = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{patient.ipp_port}", version,
         "-quiet", "-verify_quiet"],
        input=GET_AND_CLOSE, capture_output=True, timeout=TIMEOUT)
    assert out.stdout.startswith(b"HTTP/1.1 200"), (out.stdout[:200], out.stderr[-500:])
    assert b"<html" in out.stdout.lower()


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_first_bytes_in_separate_segments(patient: Daemon, tls: bool) -> None:
    """The first byte alone, then the rest of the record header (or request line), then
    the rest in small pieces, each a TCP segment the server has seen before the next is
    sent (another client served in between is the barrier): the sniffing decides on the
    first byte and the connection is served, a TLS handshake completing from a
    ClientHello that arrived in pieces."""
    with connect(patient.ipp_port) as sock:
        client = MemoryTls(sock) if tls else None
        first = client.client_hello() if client is not None else GET_AND_CLOSE
        pieces = [first[:1], first[1:5], *(first[i:i + 16] for i in range(5, len(first), 16))]
        for n, piece in enumerate(pieces):
            sock.sendall(piece)
            if n < 3:
                served(patient)
                assert still_open(sock)
        if client is not None:
            client.finish_handshake()
            reply = client.exchange(GET_AND_CLOSE)
            assert client.tls.version() in ("TLSv1.2", "TLSv1.3")
        else:
            reply = read_until_closed(sock)
    assert status_of(reply) == 200 and b"<html" in reply.lower()


# -- hostile clients
def test_silent_client_is_closed_at_the_first_byte_deadline(strict: Daemon) -> None:
    with connect(strict.ipp_port) as silent:
        served(strict)
        assert read_until_closed(silent) == b""
    served(strict)


def test_one_byte_then_nothing_is_closed(strict: Daemon) -> None:
    """A request that never gets past its first byte: the head deadline closes it,
    without an answer."""
    with connect(strict.ipp_port) as stalled:
        stalled.sendall(b"P")
        served(strict)
        assert read_until_closed(stalled) == b""
    served(strict)


def test_one_byte_of_a_client_hello_then_nothing_is_closed(strict: Daemon) -> None:
    """0x16 and nothing more: taken as TLS, and closed by the handshake timeout (the
    listener's 10 s, not asyncio's 60 s)."""
    with connect(strict.ipp_port) as stalled, connect(strict.ipp_port) as partial:
        stalled.sendall(b"\x16")
        partial.sendall(MemoryTls(partial).client_hello()[:40])  # a ClientHello cut short
        served(strict)
        assert read_until_closed(stalled) == b""
        assert read_until_closed(partial) == b""
    served(strict)


def test_garbage_is_refused(strict: Daemon) -> None:
    """Bytes that are neither TLS nor HTTP: a line of them gets 400 and the connection
    is closed; without a line end they are closed at the head deadline; a record that
    starts like TLS but is not a ClientHello fails the handshake and is closed at once."""
    with connect(strict.ipp_port) as line, connect(strict.ipp_port) as endless, \
            connect(strict.ipp_port) as fake_tls:
        line.sendall(b"\x00\xff\xfe GARBAGE \x01\x02\r\n\r\n")
        endless.sendall(bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"") * 4)
        fake_tls.sendall(b"\x16\x03\x01\x00\x05hello")
        served(strict)
        assert status_of(read_until_closed(line)) == 400
        assert read_until_closed(fake_tls) == b""
        assert read_until_closed(endless) == b""
    served(strict)


def test_hostile_clients_do_not_hold_up_others(patient: Daemon) -> None:
    """Silent, stalled and half-sent clients all at once: a plain and a TLS client
    connecting meanwhile are served while every hostile one is still waiting (the
    listener sniffs each connection in its own task, not in its accept loop)."""
    hostile: list[socket.socket] = []
    try:
        for data in (b"", b"G", b"\x16", b"\x16\x03\x01", b"POST /ipp/print HTTP/1.1\r\n",
                     b"\x00\x01\x02\x03"):
            sock = connect(patient.ipp_port)
            if data:
                sock.sendall(data)
            hostile.append(sock)
        served(patient)
        status, _, _ = tls_get(patient.ipp_port)
        assert status == 200
        assert ipp_poll(patient, tls=False)["printer-state"] == [3]
        assert [still_open(sock) for sock in hostile] == [True] * len(hostile)
    finally:
        for sock in hostile:
            sock.close()


def test_client_hello_refused_when_tls_is_off(make_daemon: type[Daemon]) -> None:
    """With TLS off, a ClientHello is closed without a byte of answer; plain HTTP is
    served as ever."""
    daemon = make_daemon(extra_config="[tls]\nenabled = no\n").start()
    with connect(daemon.ipp_port) as sock:
        sock.sendall(MemoryTls(sock).client_hello())
        assert read_until_closed(sock) == b""
    served(daemon)


def test_connections_being_sniffed_count_against_the_limit(
        make_daemon: type[Daemon]) -> None:
    """max_connections counts connections whose first byte has not come yet: two silent
    clients and a served one fill a limit of three, a fourth is closed unanswered, and
    a slot is free again once a silent client goes."""
    daemon = make_daemon(extra_config=limits(first_byte_timeout=60, max_connections=3)
                         ).start()
    with connect(daemon.ipp_port) as silent_a, connect(daemon.ipp_port) as silent_b:
        kept: list[socket.socket] = []

        def keep_alive_served() -> bool:
            # Served while two are silent (retried: the daemon's own readiness probe
            # may not be gone yet); the connection stays open, a third slot used.
            sock = connect(daemon.ipp_port)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = b""
            with contextlib.suppress(OSError):
                while len(head) < 12 and (more := sock.recv(12 - len(head))):
                    head += more
            if head.startswith(b"HTTP/1.1 200"):
                kept.append(sock)
                return True
            sock.close()
            return False

        try:
            wait_for(keep_alive_served, TIMEOUT, "a client served beside two silent ones")
            with connect(daemon.ipp_port) as refused:
                refused.sendall(GET_AND_CLOSE)
                assert read_until_closed(refused) == b""
            assert still_open(silent_a) and still_open(silent_b)
            silent_a.close()
            wait_for(lambda: _try_served(daemon), TIMEOUT, "the freed slot")
        finally:
            for sock in kept:
                sock.close()


def _try_served(daemon: Daemon) -> bool:
    try:
        served(daemon)
        return True
    except (OSError, http.client.HTTPException, AssertionError):
        return False

