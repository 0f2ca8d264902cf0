"""Run a real printbridge daemon for a test: its own state dir, free ports, its own PID."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from firmware.admin import call

ROOT = Path(__file__).resolve().parent.parent


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def distinct_ports(count: int) -> list[int]:
    """``count`` free TCP ports, all different (the kernel may hand one out twice once
    the probe socket is closed)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def document(size: int, seed: int = 1, pages: int = 1) -> bytes:
    """Deterministic printer data with exactly ``pages`` form feeds (the emulator counts
    a page per form feed)."""
    rng = random.Random(seed)
    body = bytes(b if b != 0x0C else 0x20 for b in rng.randbytes(size))
    step = max(1, size // pages)
    out = bytearray(body)
    for i in range(pages):
        out[min(size - 1, (i + 1) * step - 1)] = 0x0C
    return bytes(out)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition",
             interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Daemon:
    """A printbridge process on loopback.  ``options`` go into the printer's config section.

    ``netns`` runs it inside that network namespace (``ip netns exec``, which execs: the
    PID is still the daemon's); ``listen`` and ``snmp_port`` override the loopback
    address and the free port picked for SNMP.  ``board`` picks the board profile and
    ``network`` adds ``[network]`` settings; DNS-SD is off unless ``network`` turns it
    on (``{"dnssd": "yes"}``), so that test daemons stay off the host's loopback mDNS.
    ``verbose`` logs at debug level (benchmarks turn it off: the log would be part of
    what they measure).
    """

    def __init__(
        self,
        state_dir: Path,
        options: dict[str, str] | None = None,
        printer: str = "Test",
        extra_config: str = "",
        netns: str | None = None,
        listen: str | None = None,
        snmp_port: int | None = None,
        board: str = "emulator",
        network: dict[str, str] | None = None,
        verbose: bool = True,
    ) -> None:
        self.state_dir = state_dir
        self.printer = printer
        self.netns = netns
        self.verbose = verbose
        self.listen = listen
        self.ipp_port, self.raw_port, self.lpd_port = distinct_ports(3)
        self.snmp_port = snmp_port or free_port(socket.SOCK_DGRAM)
        self.config = state_dir / "printbridge.conf"
        state_dir.mkdir(parents=True, exist_ok=True)
        opts = {"rate": "0", **(options or {})}
        lines = [
            "[daemon]",
            f"board = {board}",
            f"state_dir = {state_dir}",
            "status_interval = 0.2",
            "write_timeout = 0.2",
            "",
            f"[printer:{printer}]",
            "port = emulated:",
            "make_and_model = Printbridge Test Laser",
            *(f"{k} = {v}" for k, v in opts.items()),
            "",
            "[network]",
            *(f"{k} = {v}" for k, v in {"dnssd": "no", **(network or {})}.items()),
            "",
            extra_config,
        ]
        self.config.write_text("\n".join(lines))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir / "daemon.log"

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.ipp_port}/ipp/print"

    def start(self) -> Daemon:
        log = open(self.log_path, "ab")
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        listen = ["--listen", self.listen] if self.listen else []
        verbose = ["-v"] if self.verbose else []
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "firmware", *verbose, "run",
             "--config", str(self.config),
             "--ipp-port", str(self.ipp_port), "--snmp-port", str(self.snmp_port),
             "--raw-port", str(self.raw_port), "--lpd-port", str(self.lpd_port), *listen],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self._ready, 30, "daemon to start")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
        try:
            # The admin socket answers before the other listeners are up; "ready" says
            # every one of them (IPP, SNMP, 9100, LPD) is listening.
            if not self.call({"command": "status"})["status"]["ready"]:
                return False
            if self.netns:  # its ports are not reachable from here; the admin socket is
                return True
            with socket.create_connection(("127.0.0.1", self.ipp_port), timeout=1):
                return True
        except (OSError, ConnectionError):
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def call(self, request: dict[str, Any], document: BinaryIO | None = None
             ) -> dict[str, Any]:
        return call(self.state_dir / "printbridge.sock", request, timeout=10,
                    document=document)

    def status(self) -> dict[str, Any]:
        printers: list[dict[str, Any]] = self.call({"command": "status"})["status"]["printers"]
        return next(p for p in printers if p["name"] == self.printer)

    def job(self, job_id: int) -> dict[str, Any]:
        return next(j for j in self.status()["jobs"] if j["id"] == job_id)

    def emulate(self, action: str, value: int | None = None) -> None:
        self.call({"command": "emulate", "action": action, "value": value})

    def print_file(self, path: Path, fmt: str = "application/octet-stream") -> int:
        with open(path, "rb") as fh:
            reply = self.call({"command": "print", "name": path.name, "format": fmt}, fh)
        return int(reply["job_id"])

    def wait_job(self, job_id: int, state: str = "completed", timeout: float = 30) -> None:
        wait_for(lambda: self.job(job_id)["state"] == state, timeout, f"job {job_id} {state}")

    # -- the emulated printer's side
    def output(self, job_id: int) -> bytes:
        return (self.state_dir / "output" / str(job_id) / "received.bin").read_bytes()

    def printer_log(self) -> list[list[str]]:
        path = self.state_dir / "output" / "jobs.log"
        if not path.exists():
            return []
        return [line.split()[1:] for line in path.read_text().splitlines()]

    def log_events(self, job_id: int, what: str) -> int:
        return sum(1 for e in self.printer_log() if e[0] == what and e[1] == str(job_id))

    def kill(self) -> None:
        """SIGKILL: a crash or a power cut, as far as the daemon can tell."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def saved_jobs(self) -> list[dict[str, Any]]:
        spool = self.state_dir / "spool"
        return [json.loads(p.read_text()) for p in sorted(spool.glob("j*.json"))]
