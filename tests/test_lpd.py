"""LPD (RFC 1179): a real lpr client through CUPS's lpd backend, and malformed input."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cups import PrivateCups
from tests.daemon import Daemon, document, wait_for

ACK = b"\x00"


def completed(daemon: Daemon, count: int) -> list[dict[str, object]]:
    jobs = [j for j in daemon.status()["jobs"] if j["state"] == "completed"]
    return jobs if len(jobs) >= count else []


def test_lpr_through_cups_lpd_backend(daemon: Daemon, tmp_path: Path) -> None:
    """cups-bsd's lpr → a private cupsd → CUPS's lpd backend → our LPD, byte-identical."""
    data = document(150_000, seed=51, pages=3)
    path = tmp_path / "report.prn"
    path.write_bytes(data)
    with PrivateCups() as cups:
        cups.run("lpadmin", "-p", "L", "-E", "-v",
                 f"lpd://127.0.0.1:{daemon.lpd_port}/Test?contimeout=10")
        cups.run("lpr", "-P", "L", "-o", "raw", "-T", "quarterly report", str(path))
        assert cups.wait_idle(60), cups.error_log()
    job = wait_for(lambda: completed(daemon, 1), 30, "LPD job")[0]
    assert daemon.output(int(str(job["id"]))) == data
    assert job["name"] == "quarterly report"


def lpd_session(daemon: Daemon, *parts: bytes, expect: list[bytes]) -> list[bytes]:
    """Send each part, reading one reply octet after each (as the protocol does)."""
    replies = []
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        for part, _ in zip(parts, expect, strict=False):
            sock.sendall(part)
            replies.append(sock.recv(1))
        for part in parts[len(expect):]:
            sock.sendall(part)
    return replies


def spool_documents(daemon: Daemon) -> list[Path]:
    return sorted((daemon.state_dir / "spool").glob("*.doc*"))


def test_hand_made_job_and_queue_listing(daemon: Daemon) -> None:
    data = document(5000, seed=52)
    control = b"Hhost1\nPalice\nJhand made\nldfA001host1\nNhand.txt\n"
    daemon.emulate("offline")  # keep it queued so the listing shows it
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        sock.sendall(b"\x02lp\n")
        assert sock.recv(1) == ACK
        sock.sendall(b"\x03%d dfA001host1\n" % len(data))
        assert sock.recv(1) == ACK
        sock.sendall(data + b"\x00")
        assert sock.recv(1) == ACK
        sock.sendall(b"\x02%d cfA001host1\n" % len(control))
        assert sock.recv(1) == ACK
        sock.sendall(control + b"\x00")
        assert sock.recv(1) == ACK
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        sock.sendall(b"\x03Test\n")
        listing = sock.makefile("rb").read().decode()
    assert "alice" in listing and "hand made" in listing
    daemon.emulate("clear")
    job = wait_for(lambda: completed(daemon, 1), 20, "LPD job")[0]
    assert job["user"] == "alice"
    assert daemon.output(int(str(job["id"]))) == data


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x09lp\n",  # unknown command code
        b"\x02nosuchqueue\n",  # unknown queue
        b"\x02\n",  # no queue name
    ],
)
def test_bad_commands_get_the_error_byte(daemon: Daemon, request_bytes: bytes) -> None:
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        sock.sendall(request_bytes)
        assert sock.recv(1) not in (ACK, b"")
        assert sock.recv(1) == b""  # and the connection closes


@pytest.mark.parametrize(
    "subcommand",
    [
        b"\x03abc dfA001x\n",  # count not a number
        b"\x03100 xxA001x\n",  # bad data file name
        b"\x07100 dfA001x\n",  # unknown subcommand
    ],
)
def test_bad_subcommand_leaves_nothing(daemon: Daemon, subcommand: bytes) -> None:
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        sock.sendall(b"\x02lp\n")
        assert sock.recv(1) == ACK
        sock.sendall(b"\x03%d dfA001x\n" % 10)
        assert sock.recv(1) == ACK
        sock.sendall(b"0123456789\x00")
        assert sock.recv(1) == ACK
        sock.sendall(subcommand)
        assert sock.recv(1) not in (ACK, b"")
    wait_for(lambda: daemon.status()["jobs"] and daemon.status()["jobs"][0]["state"] == "aborted",
             10, "the half-received job to be aborted")
    assert spool_documents(daemon) == []


def test_connection_lost_mid_file_leaves_nothing(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        sock.sendall(b"\x02lp\n")
        assert sock.recv(1) == ACK
        sock.sendall(b"\x03100000 dfA002x\n")
        assert sock.recv(1) == ACK
        sock.sendall(b"x" * 5000)  # then hang up with 95,000 bytes missing
    wait_for(lambda: daemon.status()["jobs"] and daemon.status()["jobs"][0]["state"] == "aborted",
             10, "the cut-off job to be aborted")
    assert spool_documents(daemon) == []
    assert daemon.log_events(daemon.status()["jobs"][0]["id"], "begin") == 0
