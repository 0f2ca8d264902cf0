"""Load: 50 IPP clients submitting 20 jobs each while others walk SNMP and poll the web
page, for about two minutes.  Prints Get-Printer-Attributes latency (p50/p99) and the
daemon's RSS over time; RSS must not grow with the number of jobs handled.

    python bench/load.py [--clients 50] [--jobs 20] [--seconds 120]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.ipp import Operation, Status
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import request, send


def rss_mib(daemon: Daemon) -> float:
    assert daemon.proc is not None
    for line in Path(f"/proc/{daemon.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-load-") as tmp:
        daemon = Daemon(Path(tmp), options={"rate": "0", "paper": "1000000",
                                            "paper_capacity": "1000000",
                                            "toner_pages": "10000000"},
                        extra_config="[security]\nclient_rate = 0\n", verbose=False)
        # The default job history (100 finished jobs are kept): printed jobs are counted
        # from the emulated printer's own log, so the daemon's memory is measured as it
        # runs in the field, not holding 1,000 job records.
        daemon.start()

        def printed() -> list[int]:
            """Ids of the jobs the printer finished."""
            return [int(e[1]) for e in daemon.printer_log() if e[0] == "end"]

        stop = threading.Event()
        latencies: list[float] = []
        rss: list[tuple[float, float, int]] = []
        acked: list[int] = []
        failures: list[str] = []
        start = time.monotonic()
        pace = args.seconds / args.jobs

        def client(n: int) -> None:
            for j in range(args.jobs):
                data = document(20_000 + 113 * j, seed=n * 10_000 + j, pages=2)
                reply = send(daemon.ipp_port, request(
                    Operation.PRINT_JOB, daemon.uri, job_name=f"c{n}j{j}",
                    document_format="application/octet-stream"), data)
                if reply.status == Status.SUCCESSFUL_OK:
                    acked.append(int(reply.find("job-id")[0]))
                else:
                    failures.append(f"c{n}j{j}: {reply.status:#06x}")
                time.sleep(max(0.0, start + (j + 1) * pace - time.monotonic()))

        def gpa() -> None:
            msg = request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri,
                          requested_attributes=["all"])
            while not stop.is_set():
                began = time.monotonic()
                send(daemon.ipp_port, msg)
                latencies.append(time.monotonic() - began)
                time.sleep(0.02)

        def walker() -> None:
            while not stop.is_set():
                subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On",
                                f"127.0.0.1:{daemon.snmp_port}", "1.3.6.1.2.1.43"],
                               capture_output=True, timeout=60)

        def poller() -> None:
            while not stop.is_set():
                with urllib.request.urlopen(f"http://127.0.0.1:{daemon.ipp_port}/", timeout=60):
                    pass
                time.sleep(0.2)

        def sampler() -> None:
            while not stop.is_set():
                done = len(printed())
                rss.append((time.monotonic() - start, rss_mib(daemon), done))
                stop.wait(5)

        side = [threading.Thread(target=f) for f in (gpa, gpa, walker, poller, sampler)]
        clients = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in side + clients:
            thread.start()
        for thread in clients:
            thread.join()
        wait_for(lambda: len(printed()) >= len(acked), 600, "all printed")
        assert sorted(printed()) == sorted(acked), "a job was lost or printed twice"
        stop.set()
        for thread in side:
            thread.join()
        elapsed = time.monotonic() - start
        total = args.clients * args.jobs
        print(f"jobs: {len(acked)}/{total} accepted, all printed once, "
              f"{len(failures)} refused, in {elapsed:.0f} s")
        latencies.sort()
        if latencies:
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(f"Get-Printer-Attributes under load: p50 "
                  f"{statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
                  f"({len(latencies)} requests)")
        print("RSS over time (s, MiB, jobs done):")
        for at, mib, done in rss:
            print(f"    {at:6.0f}  {mib:6.1f}  {done}")
        daemon.stop()


if __name__ == "__main__":
    main()
