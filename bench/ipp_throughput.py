"""IPP throughput: Get-Printer-Attributes requests/s and Print-Job ingest MB/s.

Printbridge is measured beside CUPS's ippeveprinter and a private cupsd with a raw
queue, by the same load generator (wrk with a Lua script posting the IPP body) in the
same run, when those are installed.  Prints figures; asserts nothing.

    python bench/ipp_throughput.py [--seconds 5] [--ingest-mib 32]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.ipp import Operation, encode
from tests.daemon import Daemon, free_port, wait_for
from tests.ipp.client import request

CONNECTIONS = (1, 8, 32)


def lua_script(body: bytes, path: Path) -> Path:
    """wrk posts ``body``; replies that are not HTTP 200 with an IPP status below 0x0400
    (client or server errors, ``server-error-busy`` included) are counted and printed."""
    escaped = "".join(f"\\{b}" for b in body)
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{escaped}"\n'
        'wrk.headers["Content-Type"] = "application/ipp"\n'
        "local threads = {}\n"
        "function setup(thread) table.insert(threads, thread) end\n"
        "function init(args) bad = 0 end\n"
        "function response(status, headers, body)\n"
        "  if status ~= 200 or #body < 4 or body:byte(3) >= 4 then bad = bad + 1 end\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local total = 0\n"
        "  for _, t in ipairs(threads) do total = total + t:get('bad') end\n"
        "  io.write(string.format('IPP errors: %d\\n', total))\n"
        "end\n"
    )
    return path


def wrk(url: str, script: Path, connections: int, seconds: int) -> tuple[float, str]:
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s",
         str(script), url], capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    problems = re.findall(r"Non-2xx or 3xx responses: \d+|Socket errors: .*|IPP errors: [1-9]\d*",
                          out)
    return (float(match.group(1)) if match else 0.0), "; ".join(problems)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def ingest(uri: str, port: int, path: str, mib: int) -> float:
    """Seconds for one Print-Job of ``mib`` MiB over one connection (chunked upload)."""
    import http.client

    head = encode(request(Operation.PRINT_JOB, uri, document_format="application/octet-stream"))
    block = bytes(range(13, 256)) * 4096

    def body():  # type: ignore[no-untyped-def]
        yield head
        left = mib << 20
        while left:
            piece = block[: min(left, len(block))]
            left -= len(piece)
            yield piece

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.monotonic()
    conn.request("POST", path, body=body(), headers={"Content-Type": "application/ipp"},
                 encode_chunked=True)
    reply = conn.getresponse()
    data = reply.read()
    elapsed = time.monotonic() - start
    if reply.status != 200 or data[2:4] != b"\x00\x00":
        print(f"    ingest failed: HTTP {reply.status} status {data[2:4].hex()}")
    return elapsed


def measure(name: str, uri: str, port: int, path: str, pid: int, seconds: int, mib: int,
            tmp: Path) -> None:
    gpa = encode(request(Operation.GET_PRINTER_ATTRIBUTES, uri, requested_attributes=["all"]))
    script = lua_script(gpa, tmp / f"{name}.lua")
    url = f"http://127.0.0.1:{port}{path}"
    print(f"{name}:")
    for connections in CONNECTIONS:
        rate, errors = wrk(url, script, connections, seconds)
        print(f"    GPA all, {connections:2d} connections  {rate:9.0f} req/s  {errors}")
    before = rss_kib(pid)
    elapsed = ingest(uri, port, path, mib)
    print(f"    Print-Job ingest {mib} MiB    {mib * 1.048576 / elapsed:9.1f} MB/s")
    print(f"    RSS {before / 1024:.1f} MiB before, {rss_kib(pid) / 1024:.1f} MiB after ingest")


def start(cmd: list[str], ready: Callable[[], bool], cwd: Path, env: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes] | None:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is not None or ready(), 15, cmd[0])
    except AssertionError:
        pass
    if proc.poll() is not None or not ready():
        stop(proc)
        return None
    return proc


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc and proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)


def listening(port: int) -> Callable[[], bool]:
    import socket

    def check() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--ingest-mib", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="pb-ippbench-") as tmpdir:
        tmp = Path(tmpdir)
        os.chmod(tmp, 0o755)
        # The per-client request rate limit (security.client_rate, 1000/s by default)
        # would answer most of wrk's requests from 127.0.0.1 with server-error-busy:
        # this measures the server, so it is off, as cupsd has none.
        daemon = Daemon(tmp / "pb", options={"rate": "0"},
                        extra_config="[security]\nclient_rate = 0\n", verbose=False).start()
        try:
            measure("printbridge", daemon.uri, daemon.ipp_port, "/ipp/print",
                    daemon.proc.pid if daemon.proc else 0, args.seconds, args.ingest_mib, tmp)
        finally:
            daemon.stop()

        if shutil.which("ippeveprinter"):
            port = free_port()
            spool = tmp / "eve"
            spool.mkdir()
            proc = start(["ippeveprinter", "-p", str(port), "-r", "off", "-d", str(spool),
                          "-k", "bench"], listening(port), tmp)
            if proc is None:
                print("ippeveprinter: did not start here (it needs an avahi-daemon)")
            else:
                try:
                    measure("ippeveprinter", f"ipp://127.0.0.1:{port}/ipp/print", port,
                            "/ipp/print", proc.pid, args.seconds, args.ingest_mib, tmp)
                finally:
                    stop(proc)

        if shutil.which("cupsd"):
            from tests.cups import PrivateCups

            cups = PrivateCups(log_level="warn")  # its own directory, removed after
            cups.start()
            try:
                cups.run("lpadmin", "-p", "raw", "-E", "-v", "file:///dev/null")
                path = "/printers/raw"
                measure("cupsd (raw queue)", f"ipp://127.0.0.1:{cups.port}{path}", cups.port,
                        path, cups.proc.pid if cups.proc else 0, args.seconds,
                        args.ingest_mib, tmp)
            finally:
                cups.stop()


if __name__ == "__main__":
    main()
