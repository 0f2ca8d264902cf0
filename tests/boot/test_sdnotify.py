"""sd_notify(3) over a NOTIFY_SOCKET the test provides, and the watchdog contract: a daemon
whose event loop is blocked stops pinging, and the service manager restarts it."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware import sdnotify
from tests.daemon import Daemon, wait_for


class NotifySocket:
    """The service manager's end: a datagram socket collecting (time, message) pairs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, assignment: str, since: float = 0.0) -> list[float]:
        return [t for t, m in list(self.messages)
                if assignment in m.split("\n") and t >= since]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


def test_notify_reaches_a_path_socket(notify_socket: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": str(notify_socket.path)}
    assert sdnotify.notify("READY=1\nSTATUS=hello", env)
    wait_for(lambda: notify_socket.times("READY=1"), 2, "READY=1")
    assert "STATUS=hello" in notify_socket.messages[0][1]


def test_notify_abstract_namespace_and_absent_socket() -> None:
    name = f"printbridge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"WATCHDOG=1"
    assert not sdnotify.notify("READY=1", {})  # not under systemd: a no-op
    assert not sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/socket"})


def test_watchdog_period_is_half_of_watchdog_usec() -> None:
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_period({}) is None
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "0"}) is None
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "x"}) is None
    # meant for another process (sd_watchdog_enabled(3))
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"},
                                    pid=2) is None
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "2"},
                                    pid=2) == 0.5


WATCHDOG_SEC = 1.0  # the test unit's WatchdogSec=


def block_loop(daemon: Daemon, seconds: float) -> threading.Thread:
    """Ask the daemon (debug hook) to stall its event loop; the reply may never come."""

    def call() -> None:
        with contextlib.suppress(Exception):
            daemon.call({"command": "debug-block-loop", "seconds": seconds})

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def start(make_daemon, notify_socket, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_socket.path))
    monkeypatch.setenv("WATCHDOG_USEC", str(int(WATCHDOG_SEC * 1_000_000)))
    monkeypatch.setenv("PRINTBRIDGE_DEBUG_HOOKS", "1")
    return make_daemon().start()


def test_ready_then_periodic_watchdog_then_silence_when_the_loop_blocks(
        make_daemon, notify_socket, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    daemon: Daemon = start(make_daemon, notify_socket, monkeypatch)
    wait_for(lambda: notify_socket.times("READY=1"), 10, "READY=1")
    ready = notify_socket.times("READY=1")[0]
    # READY comes after the servers listen: the admin socket and IPP port answered already
    time.sleep(2.2)
    pings = notify_socket.times("WATCHDOG=1", ready)
    assert len(pings) >= 4, pings  # every WatchdogSec/2 = 0.5 s
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) < WATCHDOG_SEC, gaps  # what WatchdogSec= demands

    # Block the event loop for 3 s (the debug hook sleeps inside a loop callback).
    blocked_at = time.monotonic()
    caller = block_loop(daemon, 3)
    time.sleep(2.5)
    during = notify_socket.times("WATCHDOG=1", blocked_at + 0.2)
    assert during == [], "a blocked loop must not ping the watchdog"
    caller.join(5)
    wait_for(lambda: notify_socket.times("WATCHDOG=1", blocked_at + 2.9), 3, "pings resume")
    daemon.stop()
    assert notify_socket.times("STOPPING=1")


def test_the_manager_restarts_a_daemon_that_misses_the_watchdog(
        make_daemon, notify_socket, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What systemd does with WatchdogSec= and Restart=on-failure, played by the test:
    no WATCHDOG=1 for WatchdogSec -> SIGABRT -> start again.  The new daemon is READY,
    and the spooled job survived."""
    daemon: Daemon = start(make_daemon, notify_socket, monkeypatch)
    wait_for(lambda: notify_socket.times("READY=1"), 10, "READY=1")
    daemon.emulate("offline")  # keep the job queued across the restart
    job_path = daemon.state_dir / "job.prn"
    job_path.write_bytes(b"hello\f")
    job = daemon.print_file(job_path)
    block_loop(daemon, 10)
    restarted = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        last = max(notify_socket.times("WATCHDOG=1") or [0.0])
        if time.monotonic() - last > WATCHDOG_SEC:
            assert daemon.proc is not None
            os.kill(daemon.proc.pid, signal.SIGABRT)  # systemd: "Watchdog timeout"
            daemon.proc.wait(10)
            assert daemon.proc.returncode == -signal.SIGABRT
            restarted = True
            break
        time.sleep(0.05)
    assert restarted, "the watchdog never expired"
    before = len(notify_socket.times("READY=1"))
    daemon.start()
    wait_for(lambda: len(notify_socket.times("READY=1")) > before, 10, "READY=1 again")
    daemon.emulate("clear")
    daemon.wait_job(job)
    assert daemon.output(job) == b"hello\f"


def test_the_debug_hook_is_off_by_default(daemon: Daemon) -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="unknown command"):
        daemon.call({"command": "debug-block-loop", "seconds": 5})
    assert time.monotonic() - start < 2
