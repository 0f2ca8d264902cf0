"""Load: many IPP clients submitting at once while others walk SNMP and poll the web page.
Every job prints, in the order it was accepted.  (bench/load.py runs the full two-minute
version and prints latency and memory figures; ``LOAD_CLIENTS``/``LOAD_JOBS`` scale this.)"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.request

from firmware.ipp import Operation, Status
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import request, send

CLIENTS = int(os.environ.get("LOAD_CLIENTS", "10"))
JOBS = int(os.environ.get("LOAD_JOBS", "10"))


def test_concurrent_clients_all_jobs_print_in_order(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon(options={"rate": "0", "paper": "100000", "paper_capacity": "100000",
                                  "toner_pages": "1000000"},
                         extra_config="[security]\nclient_rate = 0\n")
    text = daemon.config.read_text().replace("[daemon]\n", "[daemon]\nhistory = 100000\n")
    daemon.config.write_text(text)
    daemon.start()
    acked: list[tuple[float, float, int, bytes]] = []  # sent, acknowledged, job id, data
    lock = threading.Lock()
    errors: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        for j in range(JOBS):
            data = document(5_000 + 97 * j, seed=n * 1000 + j)
            sent = time.monotonic()
            reply = send(daemon.ipp_port, request(Operation.PRINT_JOB, daemon.uri,
                                                  job_name=f"c{n}j{j}",
                                                  document_format="application/octet-stream"),
                         data)
            if reply.status != Status.SUCCESSFUL_OK:
                errors.append(f"c{n}j{j}: {reply.status}")
                continue
            with lock:
                acked.append((sent, time.monotonic(), int(reply.find("job-id")[0]), data))

    def walker() -> None:
        while not stop.is_set():
            subprocess.run(["snmpbulkwalk", "-v2c", "-c", "public", "-On",
                            f"127.0.0.1:{daemon.snmp_port}", "1.3.6.1.2.1.43"],
                           capture_output=True, timeout=30)

    def poller() -> None:
        while not stop.is_set():
            with urllib.request.urlopen(f"http://127.0.0.1:{daemon.ipp_port}/jobs",
                                        timeout=30) as page:
                assert page.status == 200
            time.sleep(0.1)

    side = [threading.Thread(target=walker), threading.Thread(target=poller)]
    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in side + clients:
        thread.start()
    for thread in clients:
        thread.join(300)
    stop.set()
    for thread in side:
        thread.join(60)
    assert not errors, errors[:5]
    assert len(acked) == CLIENTS * JOBS

    def all_done() -> bool:
        states = {j["id"]: j["state"] for j in daemon.status()["jobs"]}
        return all(states.get(job_id) == "completed" for _, _, job_id, _ in acked)

    wait_for(all_done, 120, "every job to print")
    for _, _, job_id, data in acked:
        assert daemon.output(job_id) == data
    begun = [int(e[1]) for e in daemon.printer_log() if e[0] == "begin"]
    position = {job_id: i for i, job_id in enumerate(begun)}
    # A job whose acknowledgement arrived before another was even sent prints first.
    late = [(a[2], b[2]) for a in acked for b in acked
            if a[1] < b[0] and position[a[2]] > position[b[2]]]
    assert not late, late[:5]
