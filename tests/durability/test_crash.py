"""Crash points and restart storms: a job whose submission was acknowledged prints exactly
once, in full, whatever moment the daemon is killed at.

The rule for a submission whose acknowledgement the client never saw (the daemon died
while answering): it is either absent, aborted, or printed exactly once in full — never
printed in part or twice.  The spool must load after every kill.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from firmware.ipp import Operation, Status
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import request, send

RUNS = int(os.environ.get("CRASH_RUNS", "50"))


@dataclass
class Ledger:
    """What the clients sent and what the printer acknowledged."""

    sent: dict[str, bytes] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)  # job name -> job id
    lock: threading.Lock = field(default_factory=threading.Lock)


def submitter(daemon: Daemon, ledger: Ledger, stop: threading.Event, tag: str,
              rng: random.Random) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        name = f"{tag}-{n}"
        data = document(rng.randint(2_000, 120_000), seed=rng.randrange(1 << 30),
                        pages=rng.randint(1, 3))
        with ledger.lock:
            ledger.sent[name] = data
        msg = request(Operation.PRINT_JOB, daemon.uri, job_name=name,
                      document_format="application/octet-stream")
        try:
            reply = send(daemon.ipp_port, msg, data)
        except OSError:
            time.sleep(0.05)
            continue
        if reply.message is not None and reply.status == Status.SUCCESSFUL_OK:
            with ledger.lock:
                ledger.acked[name] = int(reply.find("job-id")[0])


def check(daemon: Daemon, ledger: Ledger) -> None:
    def settled() -> list[dict[str, object]]:
        jobs = daemon.status()["jobs"]
        return jobs if all(j["state"] in ("completed", "aborted", "canceled")
                           for j in jobs) else []

    try:
        jobs = wait_for(settled, 240, "every job to finish")
    except AssertionError:
        stuck = [j for j in daemon.status()["jobs"]
                 if j["state"] not in ("completed", "aborted", "canceled")]
        raise AssertionError(f"jobs did not finish: {stuck[:5]}\n{daemon.log()[-3000:]}") from None

    by_name: dict[str, list[dict[str, object]]] = {}
    for job in jobs:
        by_name.setdefault(str(job["name"]), []).append(job)
    for name, job_id in ledger.acked.items():
        entries = by_name.get(name, [])
        assert [int(str(j["id"])) for j in entries] == [job_id], (name, entries)
        assert entries[0]["state"] == "completed", (name, entries[0])
        assert daemon.output(job_id) == ledger.sent[name], name
        assert daemon.log_events(job_id, "end") == 1, name
    for name in set(ledger.sent) - set(ledger.acked):
        for job in by_name.get(name, []):
            job_id = int(str(job["id"]))
            assert job["state"] in ("aborted", "completed"), (name, job)
            if job["state"] == "completed":
                assert daemon.output(job_id) == ledger.sent[name], name
                assert daemon.log_events(job_id, "end") == 1, name
    assert len(by_name) >= len(ledger.acked)


def busy_daemon(make_daemon: type[Daemon]) -> Daemon:
    """A fast printer with paper and toner for the whole run, no rate limit, and every
    finished job kept in the history (the checks read them all)."""
    daemon = make_daemon(options={"rate": "2000000", "paper": "100000",
                                  "paper_capacity": "100000", "toner_pages": "1000000"},
                         extra_config="[security]\nclient_rate = 0\n")
    text = daemon.config.read_text().replace("[daemon]\n", "[daemon]\nhistory = 100000\n")
    daemon.config.write_text(text)
    return daemon.start()


def test_kill_at_random_moments(make_daemon: type[Daemon]) -> None:
    """SIGKILL while receiving, spooling and printing, RUNS times (history kept large)."""
    daemon = busy_daemon(make_daemon)
    rng = random.Random(int(os.environ.get("CRASH_SEED", "11")))
    ledger = Ledger()
    for run in range(RUNS):
        stop = threading.Event()
        threads = [threading.Thread(target=submitter,
                                    args=(daemon, ledger, stop, f"r{run}c{c}",
                                          random.Random(rng.random())))
                   for c in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.05, 0.6))
        daemon.kill()
        stop.set()
        for thread in threads:
            thread.join(30)
        daemon.start()  # the spool must load every time
    check(daemon, ledger)
    assert len(ledger.acked) > RUNS  # the harness really submitted under fire


def test_restart_storm(make_daemon: type[Daemon]) -> None:
    """20 clean restarts in a row under load: no job lost, none printed twice."""
    daemon = busy_daemon(make_daemon)
    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=submitter,
                                args=(daemon, ledger, stop, f"storm{c}", random.Random(c)))
               for c in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(20):
            time.sleep(0.3)
            assert daemon.proc is not None
            os.kill(daemon.proc.pid, signal.SIGTERM)
            daemon.proc.wait(20)
            daemon.start()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    check(daemon, ledger)
    assert len(ledger.acked) >= 20


def test_spool_loads_after_every_kill(tmp_path: Path) -> None:
    """The persistent state never needs a human: no .tmp or orphan survives a load."""
    from firmware.spool import Spool

    spool = Spool(tmp_path)
    (tmp_path / "j00000001.json.tmp").write_bytes(b'{"id": 1')
    (tmp_path / "j00000002-1.doc.tmp").write_bytes(b"partial")
    assert spool.load() == []
    assert sorted(os.listdir(tmp_path)) == []
