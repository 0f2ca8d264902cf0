"""Socket-level fuzzing of the running daemon: mutated IPP, HTTP, LPD and SNMP messages.

At least 10,000 messages in ``make test`` (``FUZZ_COUNT`` raises it: ``make fuzz``).  The
daemon must not crash or hang, every reply must be well formed, its memory must stay
flat, and a job accepted before the fuzzing must print afterwards.
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import time
from collections.abc import Callable

from firmware.ipp import DelimiterTag, Operation, decode, encode, make_attribute
from tests.daemon import Daemon, document
from tests.ipp.client import request

COUNT = int(os.environ.get("FUZZ_COUNT", "10000"))


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if not out:
            out += rng.randbytes(rng.randint(1, 16))
        elif kind < 0.35:
            pos = rng.randrange(len(out))
            out[pos] ^= 1 << rng.randrange(8)
        elif kind < 0.55:
            pos = rng.randrange(len(out))
            out[pos] = rng.choice([0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFF, 0x34, 0x37, 0x4A])
        elif kind < 0.7:
            del out[rng.randrange(len(out)):]
        elif kind < 0.85:
            pos = rng.randrange(len(out) + 1)
            out[pos:pos] = rng.randbytes(rng.randint(1, 32))
        else:
            pos = rng.randrange(len(out))
            out[pos:pos + 2] = rng.randbytes(2)  # a length field, perhaps
    return bytes(out)


def seeds(daemon: Daemon) -> list[bytes]:
    uri = daemon.uri
    gpa = request(Operation.GET_PRINTER_ATTRIBUTES, uri, requested_attributes=["all"])
    jobs = request(Operation.GET_JOBS, uri, which_jobs="all", requested_attributes=["all"])
    validate = request(Operation.VALIDATE_JOB, uri, document_format="application/pdf")
    group = validate.add_group(DelimiterTag.JOB)
    group.append(make_attribute("media-col", {
        "media-size": {"x-dimension": 21000, "y-dimension": 29700}, "media-source": "main"}))
    group.append(make_attribute("copies", 2))
    sub = request(Operation.CREATE_PRINTER_SUBSCRIPTIONS, uri)
    sub_group = sub.add_group(DelimiterTag.SUBSCRIPTION)
    sub_group.append(make_attribute("notify-pull-method", "ippget"))
    sub_group.append(make_attribute("notify-events", ["job-completed"]))
    return [encode(m) for m in (gpa, jobs, validate, sub)]


def fuzz_ipp(daemon: Daemon, rng: random.Random, count: int) -> int:
    bodies = seeds(daemon)
    conn = http.client.HTTPConnection("127.0.0.1", daemon.ipp_port, timeout=10)
    well_formed = 0
    for i in range(count):
        body = mutate(rng, rng.choice(bodies))
        try:
            conn.request("POST", "/ipp/print", body=body,
                         headers={"Content-Type": "application/ipp"})
            reply = conn.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", daemon.ipp_port, timeout=10)
            continue
        if reply.status == 200:
            message, _ = decode(data)  # raises if the reply is not well formed
            attrs = message.operation
            assert attrs is not None and attrs.attributes[0].name == "attributes-charset", i
            if body[4:8] == bodies[0][4:8]:
                assert message.request_id == 1, i
            well_formed += 1
        else:
            assert reply.status in (400, 401, 403, 408, 413, 426), (i, reply.status)
        if reply.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", daemon.ipp_port, timeout=10)
    conn.close()
    return well_formed


HTTP_SEEDS = [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /jobs HTTP/1.1\r\nHost: x\r\nCookie: pb_session=admin|1|n|m\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 27\r\n\r\nuser=admin&password=letmein",
    b"POST /ipp/print HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/ipp\r\n\r\n5\r\n\x02\x00\x00\x0b\x00\r\n0\r\n\r\n",
]


def fuzz_raw(port: int, rng: random.Random, count: int, seeds_: list[bytes],
             check: Callable[[bytes], None]) -> None:
    for _ in range(count):
        data = mutate(rng, rng.choice(seeds_))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                reply = b""
                while chunk := sock.recv(65536):
                    reply += chunk
            except (ConnectionResetError, BrokenPipeError):
                continue
        check(reply)


def check_http(reply: bytes) -> None:
    if reply:
        assert reply.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), reply[:80]


def check_lpd(reply: bytes) -> None:
    # An acknowledgement octet per step, or a queue listing (text).
    assert len(reply) <= 64 * 1024


SNMP_GET = bytes.fromhex(  # v2c GetRequest for sysDescr.0, community "public"
    "302902010104067075626c6963a01c0204123456780201000201003010300e060a2b06010201010100"
    "0000000500"
)


def fuzz_snmp(daemon: Daemon, rng: random.Random, count: int) -> int:
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.05)
        for _ in range(count):
            sock.sendto(mutate(rng, SNMP_GET), ("127.0.0.1", daemon.snmp_port))
            try:
                reply = sock.recv(65536)
                assert reply[:1] == b"\x30"  # a BER SEQUENCE: a well-formed SNMP message
                answered += 1
            except TimeoutError:
                pass
    return answered


def test_fuzz_every_front_end(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon(options={"rate": "0"}).start()
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "20261129")))
    daemon.emulate("offline")  # a job accepted before the storm waits it out
    before_path = daemon.state_dir / "before.prn"
    before = document(50_000, seed=81)
    before_path.write_bytes(before)
    job_id = daemon.print_file(before_path)
    # Warm up, then take the memory baseline.
    fuzz_ipp(daemon, random.Random(1), 300)
    baseline = _rss(daemon)
    started = time.monotonic()
    ipp_count = COUNT * 7 // 10
    small = COUNT // 10
    ok = fuzz_ipp(daemon, rng, ipp_count)
    fuzz_raw(daemon.ipp_port, rng, small, HTTP_SEEDS, check_http)
    lpd_seeds = [b"\x02lp\n\x03100 dfA001host\n" + b"x" * 100 + b"\x00",
                 b"\x03lp\n", b"\x04Test alice\n", b"\x05lp root 1\n",
                 b"\x02lp\n\x0220 cfA001host\nHhost\nPalice\nldfA001\n\x00"]
    fuzz_raw(daemon.lpd_port, rng, small, lpd_seeds, check_lpd)
    fuzz_snmp(daemon, rng, COUNT - ipp_count - 2 * small)
    elapsed = time.monotonic() - started
    assert ok > ipp_count // 10  # most mutations still parse; errors were answered too
    assert daemon.proc is not None and daemon.proc.poll() is None, daemon.log()
    assert _rss(daemon) < baseline + 30 * 1024, (baseline, _rss(daemon))
    print(f"{COUNT} fuzzed messages in {elapsed:.1f}s")
    daemon.emulate("clear")
    daemon.wait_job(job_id, timeout=60)
    assert daemon.output(job_id) == before
    log = (daemon.state_dir / "daemon.log").read_text(errors="replace")
    # aiohttp logs the bad HTTP it answers with 400 as tracebacks of its own parser;
    # anything else is ours.
    tracebacks = [block for block in log.split("Traceback")[1:]
                  if "aiohttp.http_exceptions" not in block]
    assert not tracebacks, "\n---\n".join(t[-1500:] for t in tracebacks[:6])


def _rss(daemon: Daemon) -> int:
    assert daemon.proc is not None
    for line in open(f"/proc/{daemon.proc.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
