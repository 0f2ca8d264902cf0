"""The IPP fast path over real sockets: what it answers, what it hands to aiohttp, and
the limits it keeps (firmware.ipp.fastpath)."""

from __future__ import annotations

import socket
import ssl
import time

from firmware.ipp import Operation, Status, decode, encode
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import request

FAST_LIMITS = "[security]\nfirst_byte_timeout = 1\nbody_timeout = 1\nmax_connections = 4\n"


def http_post(body: bytes, *fields: str, path: str = "/ipp/print") -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/ipp",
            *fields]
    if not any(f.lower().startswith("transfer-encoding") for f in fields):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def read_responses(sock: socket.socket, count: int, timeout: float = 10) -> list[
        tuple[int, dict[str, str], bytes]]:
    """``count`` HTTP responses (status, fields, body) read off ``sock``."""
    sock.settimeout(timeout)
    data = b""
    out = []
    while len(out) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            lines = data[:end].decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(":") for line in lines[1:])}
            length = int(fields.get("content-length", "0"))
            if len(data) >= end + 4 + length:
                out.append((int(lines[0].split()[1]), fields, data[end + 4:end + 4 + length]))
                data = data[end + 4 + length:]
                continue
        more = sock.recv(65536)
        if not more:
            raise AssertionError(f"connection closed after {len(out)} responses")
        data += more
    return out


def gpa(daemon: Daemon, request_id: int, *names: str) -> bytes:
    return encode(request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri, request_id=request_id,
                          requested_attributes=list(names) or ["all"]))


def test_pipelined_requests_answered_in_order(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.ipp_port)) as sock:
        sock.sendall(b"".join(http_post(gpa(daemon, i, "printer-state")) for i in range(1, 9)))
        replies = read_responses(sock, 8)
    ids = [decode(body)[0].request_id for _, _, body in replies]
    assert ids == list(range(1, 9))
    assert all(status == 200 for status, _, _ in replies)
    assert all(f["content-type"] == "application/ipp" and "date" in f for _, f, _ in replies)


def test_both_paths_answer_alike(daemon: Daemon) -> None:
    """The same Get-Printer-Attributes, once fast and once chunked (aiohttp's)."""
    with socket.create_connection(("127.0.0.1", daemon.ipp_port)) as sock:
        sock.sendall(http_post(gpa(daemon, 1)))
        sock.sendall(http_post(chunked(gpa(daemon, 2)), "Transfer-Encoding: chunked"))
        (_, _, fast), (_, _, slow) = read_responses(sock, 2)
    fast_msg, slow_msg = decode(fast)[0], decode(slow)[0]
    assert fast_msg.code == slow_msg.code == Status.SUCCESSFUL_OK
    by_name = [{a.name: a.values for g in m.groups for a in g.attributes}
               for m in (fast_msg, slow_msg)]
    for values in by_name:
        values.pop("printer-up-time")  # the clock may tick between the two
    assert by_name[0] == by_name[1]
    assert len(by_name[0]) > 80


def test_connection_moves_to_aiohttp_and_keeps_working(daemon: Daemon) -> None:
    """Fast answers, then a web page and a Print-Job with a document (both aiohttp's)
    on the same connection, then IPP again."""
    data = document(30_000, seed=91)
    job = encode(request(Operation.PRINT_JOB, daemon.uri, request_id=3,
                         document_format="application/octet-stream")) + data
    with socket.create_connection(("127.0.0.1", daemon.ipp_port)) as sock:
        sock.sendall(http_post(gpa(daemon, 1, "printer-state")))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.sendall(http_post(job))
        sock.sendall(http_post(gpa(daemon, 4, "queued-job-count")))
        replies = read_responses(sock, 4)
    assert [r[0] for r in replies] == [200, 200, 200, 200]
    assert replies[1][1]["content-type"].startswith("text/html")
    printed = decode(replies[2][2])[0]
    assert printed.code == Status.SUCCESSFUL_OK and printed.request_id == 3
    job_id = int(printed.find("job-id").values[0])
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data
    assert decode(replies[3][2])[0].request_id == 4


def test_connection_close_and_half_close(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.ipp_port)) as sock:
        sock.sendall(http_post(gpa(daemon, 1, "printer-state"), "Connection: close"))
        (status, fields, _), = read_responses(sock, 1)
        assert status == 200 and fields["connection"] == "close"
        assert sock.recv(1) == b""
    with socket.create_connection(("127.0.0.1", daemon.ipp_port)) as sock:
        sock.sendall(http_post(gpa(daemon, 2, "printer-state")) * 2)
        sock.shutdown(socket.SHUT_WR)
        assert len(read_responses(sock, 2)) == 2
        assert sock.recv(1) == b""


def test_slow_heads_and_bodies_are_cut_off(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon(extra_config=FAST_LIMITS).start()
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(b"POST /ipp/print HTTP/1.1\r\nHost: x\r\n")  # and never the end
        began = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - began < 5
    body = gpa(daemon, 1)
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(http_post(body)[:-10])  # the body stops 10 octets short
        (status, _, text), = read_responses(sock, 1)
        assert status == 408 and b"stalled" in text
    # The daemon still answers.
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(http_post(body))
        assert read_responses(sock, 1)[0][0] == 200


def test_fast_connections_count_against_the_limit(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon(extra_config=FAST_LIMITS.replace("first_byte_timeout = 1",
                                                          "first_byte_timeout = 30")).start()
    socks = []
    try:
        for i in range(4):
            sock = socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10)
            sock.sendall(http_post(gpa(daemon, i + 1, "printer-state")))
            read_responses(sock, 1)  # served, and kept alive by the fast path
            socks.append(sock)
        extra = socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10)
        extra.sendall(http_post(gpa(daemon, 9, "printer-state")))
        assert closed_unanswered(extra)  # over max_connections: refused
        extra.close()
    finally:
        for sock in socks:
            sock.close()
    wait_for(lambda: _answers(daemon), 10, "a free connection slot")


def closed_unanswered(sock: socket.socket) -> bool:
    """Closed without a reply (a reset, since our request was never read, or a FIN)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _answers(daemon: Daemon) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=5) as sock:
            sock.sendall(http_post(gpa(daemon, 1, "printer-state")))
            return read_responses(sock, 1)[0][0] == 200
    except (OSError, AssertionError):
        return False


def test_bad_ipp_gets_aiohttp_answer(daemon: Daemon) -> None:
    """A malformed message is not the fast path's to answer: the full path says why
    (client-error-bad-request for request 7) and, the rest of the body being
    unparseable, closes the connection."""
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(http_post(b"\x02\x00\x00\x0b\x00\x00\x00\x07\x01\x47\xff\xff"))
        (status, fields, body), = read_responses(sock, 1)
        assert sock.recv(1) == b""
    answer = decode(body)[0]
    assert status == 200 and fields["connection"] == "close"
    assert (answer.code, answer.request_id) == (Status.CLIENT_ERROR_BAD_REQUEST, 7)


def test_start_eagerly_runs_now_and_finishes_in_a_task() -> None:
    """The eager start: done at once when nothing waits; otherwise a task carries on with
    results, exceptions and cancellation reaching the coroutine as under a plain task."""
    import asyncio

    from firmware.ipp.fastpath import start_eagerly

    log: list[object] = []

    async def quick() -> None:
        log.append("quick")

    async def waits(fut: asyncio.Future[int], bad: asyncio.Future[int]) -> None:
        await asyncio.sleep(0)  # a bare yield
        log.append(await fut)
        try:
            await bad
        except ValueError as exc:
            log.append(str(exc))
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise

    async def main() -> None:
        assert start_eagerly(quick()) is None and log == ["quick"]
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        bad: asyncio.Future[int] = loop.create_future()
        task = start_eagerly(waits(fut, bad))
        assert task is not None
        loop.call_later(0.01, fut.set_result, 7)
        loop.call_later(0.02, bad.set_exception, ValueError("boom"))
        await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()

    asyncio.run(main())
    assert log == ["quick", 7, "boom", "cancelled"]


def test_tls_connections_take_the_same_paths(daemon: Daemon) -> None:
    """Over ipps:// too: pipelined polls answered fast, then a web page (aiohttp's) and
    IPP again on the same TLS connection; the printer-uri it reports is the ipps one."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    uri = daemon.uri.replace("ipp://", "ipps://")
    body = encode(request(Operation.GET_PRINTER_ATTRIBUTES, uri, request_id=1,
                          requested_attributes=["printer-uri-supported", "uri-security-supported"]))
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as raw, \
            context.wrap_socket(raw) as sock:
        sock.sendall(http_post(body) * 3)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.sendall(http_post(body))
        replies = read_responses(sock, 5)  # type: ignore[arg-type]
    assert [r[0] for r in replies] == [200] * 5
    assert replies[3][1]["content-type"].startswith("text/html")
    message = decode(replies[0][2])[0]
    assert message.code == Status.SUCCESSFUL_OK
    uris = dict(zip(message.find("printer-uri-supported").values,
                    message.find("uri-security-supported").values, strict=True))
    assert uris["ipps://127.0.0.1/ipp/print"] == "tls"  # the Host the request named


def test_thousands_pipelined_requests(make_daemon: type[Daemon]) -> None:
    """3,000 requests in one burst: each answered, in order, with the client reading
    while it sends (the server stops reading while its answers are not taken).  The
    per-client rate limit would answer most with server-error-busy: it is off here."""
    import threading

    daemon = make_daemon(extra_config="[security]\nclient_rate = 0\n").start()
    count = 3000
    burst = b"".join(http_post(gpa(daemon, i, "printer-state")) for i in range(1, count + 1))
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=30) as sock:
        sender = threading.Thread(target=sock.sendall, args=(burst,), daemon=True)
        sender.start()
        replies = read_responses(sock, count, timeout=60)
        sender.join(30)
    assert [decode(body)[0].request_id for _, _, body in replies] == list(range(1, count + 1))
    assert _answers(daemon)  # and the daemon is fine


def test_stalled_document_upload_is_dropped(make_daemon: type[Daemon]) -> None:
    """A Print-Job whose document stops arriving (aiohttp's path): after body_timeout it
    is refused with server-error-temporary-error saying why, nothing of the document
    stays in the spool, and the printer goes on printing others."""
    daemon = make_daemon(extra_config=FAST_LIMITS).start()
    job = encode(request(Operation.PRINT_JOB, daemon.uri, request_id=5,
                         document_format="application/octet-stream"))
    head = http_post(b"", "Transfer-Encoding: chunked")
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=15) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(job) + 1000, job + b"x" * 1000))
        began = time.monotonic()
        (status, _, body), = read_responses(sock, 1, timeout=15)
        assert time.monotonic() - began < 10
    answer = decode(body)[0]
    assert status == 200 and answer.code == Status.SERVER_ERROR_TEMPORARY_ERROR
    assert "stalled" in answer.find("status-message").values[0]
    wait_for(lambda: not list((daemon.state_dir / "spool").glob("*.doc*")), 10,
             "the partial document to go")
    assert all(j["state"] != "completed" for j in daemon.status()["jobs"])
    data = document(5000, seed=93)
    ok = encode(request(Operation.PRINT_JOB, daemon.uri, request_id=6,
                        document_format="application/octet-stream")) + data
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=15) as sock:
        sock.sendall(http_post(ok))
        reply = decode(read_responses(sock, 1)[0][2])[0]
    assert reply.code == Status.SUCCESSFUL_OK
    job_id = int(reply.find("job-id").values[0])
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data


UPGRADE = "Connection: Upgrade\r\nUpgrade: TLS/1.3,TLS/1.2,TLS/1.1,TLS/1.0\r\n"


def options(extra: str = "") -> bytes:
    return f"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def test_options_asterisk_on_both_paths(daemon: Daemon) -> None:
    """``OPTIONS *`` (RFC 9110 §9.3.7): the server's methods, from the fast path and,
    on a connection aiohttp has taken over, from aiohttp alike (not a 404)."""
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(options())
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # aiohttp's from here
        sock.sendall(options())
        fast, page, slow = read_responses(sock, 3)
    assert fast[0] == slow[0] == 200 and page[0] == 200
    assert fast[1]["allow"] == slow[1]["allow"] == "GET, HEAD, OPTIONS, POST"
    assert fast[2] == slow[2] == b""


def upgrade_to_tls(sock: socket.socket, request: bytes) -> tuple[dict[str, str], ssl.SSLSocket]:
    """Send ``request`` (with Upgrade), read the 101, do the handshake on the socket."""
    sock.sendall(request)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        more = sock.recv(1)
        assert more, f"closed after {head!r}"
        head += more
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 101 Switching Protocols", head
    fields = {k.strip().lower(): v.strip() for k, _, v in
              (line.partition(":") for line in lines[1:] if line)}
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return fields, context.wrap_socket(sock)


def test_upgrade_to_tls_on_the_plain_port(daemon: Daemon) -> None:
    """RFC 2817 §3: ``OPTIONS *`` with Upgrade (as libcups sends it for
    HTTP_ENCRYPTION_REQUIRED) gets 101, the handshake follows on the same connection,
    then the OPTIONS answer and every later request over TLS: IPP reports the ipps URI
    of an encrypted connection, and a web page (aiohttp's) works there too."""
    uri = daemon.uri.replace("ipp://", "ipps://")
    body = encode(request(Operation.GET_PRINTER_ATTRIBUTES, uri, request_id=2,
                          requested_attributes=["printer-uri-supported",
                                                "uri-security-supported"]))
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as raw:
        fields, tls = upgrade_to_tls(raw, options(UPGRADE))
        assert fields["connection"] == "Upgrade"
        assert fields["upgrade"] == "TLS/1.3, HTTP/1.1"  # the first TLS offered we accept
        assert "content-length" not in fields  # RFC 9110 §8.6: not in a 1xx
        with tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            tls.sendall(http_post(body))
            tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answered, ipp, page = read_responses(tls, 3)
    assert answered[0] == 200 and answered[1]["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "upgrade" not in answered[1]
    message = decode(ipp[2])[0]
    assert ipp[0] == 200 and message.code == Status.SUCCESSFUL_OK
    uris = dict(zip(message.find("printer-uri-supported").values,
                    message.find("uri-security-supported").values, strict=True))
    assert uris["ipps://127.0.0.1/ipp/print"] == "tls"
    assert page[0] == 200 and page[1]["content-type"].startswith("text/html")
    assert "upgrading to TLS/1.3" in daemon.log()


def test_upgrade_of_a_get_and_offers_not_taken(make_daemon: type[Daemon]) -> None:
    """A GET with Upgrade is answered over TLS after the switch (by aiohttp).  Offers
    that cannot be taken are ignored (RFC 9110 §7.8) and the request answered in the
    clear: with a body, only TLS versions older than 1.2, or TLS off."""
    daemon = make_daemon().start()
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as raw:
        fields, tls = upgrade_to_tls(
            raw, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\n"
                 b"Upgrade: TLS/1.2\r\n\r\n")
        assert fields["upgrade"] == "TLS/1.2, HTTP/1.1"
        with tls:
            (status, page, _), = read_responses(tls, 1)
    assert status == 200 and page["content-type"].startswith("text/html")

    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=10) as sock:
        sock.sendall(http_post(gpa(daemon, 3, "printer-state"), "Connection: Upgrade",
                               "Upgrade: TLS/1.2"))
        (status, _, body), = read_responses(sock, 1)
        assert status == 200 and decode(body)[0].request_id == 3
        sock.sendall(options("Connection: upgrade\r\nUpgrade: TLS/1.1\r\n"))
        (status, fields, _), = read_responses(sock, 1)
        assert status == 200 and fields["allow"] == "GET, HEAD, OPTIONS, POST"

    plain = make_daemon(extra_config="[tls]\nenabled = no\n").start()
    with socket.create_connection(("127.0.0.1", plain.ipp_port), timeout=10) as sock:
        sock.sendall(options(UPGRADE))
        (status, fields, _), = read_responses(sock, 1)
    assert status == 200 and "upgrade" not in fields


def test_failed_handshake_after_upgrade(make_daemon: type[Daemon]) -> None:
    """A client that takes the 101 and then sends no TLS, or garbage: the connection is
    closed (handshake timeout or error) and the slot freed."""
    daemon = make_daemon(extra_config=FAST_LIMITS).start()
    with socket.create_connection(("127.0.0.1", daemon.ipp_port), timeout=15) as sock:
        sock.sendall(options(UPGRADE))
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")  # not a ClientHello
        assert closed_unanswered(sock)
    wait_for(lambda: _answers(daemon), 10, "the daemon to answer")
