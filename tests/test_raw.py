"""Raw 9100 printing with a plain socket client, as a JetDirect port is used."""

from __future__ import annotations

import socket
import threading

from tests.daemon import Daemon, document, wait_for


def send_raw(daemon: Daemon, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", daemon.raw_port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""  # the printer says nothing back and closes


def completed(daemon: Daemon, count: int) -> list[dict[str, object]]:
    jobs = [j for j in daemon.status()["jobs"] if j["state"] == "completed"]
    return jobs if len(jobs) >= count else []


def test_raw_job_is_byte_identical(daemon: Daemon) -> None:
    data = document(200_000, seed=31, pages=2)
    send_raw(daemon, data)
    job = wait_for(lambda: completed(daemon, 1), 20, "raw job")[0]
    assert daemon.output(int(str(job["id"]))) == data
    assert str(job["name"]).startswith("Raw print from 127.0.0.1")
    assert daemon.status()["counters"]["jobs"] == 1


def test_concurrent_connections_queue_not_interleave(daemon: Daemon) -> None:
    docs = [document(300_000, seed=40 + i) for i in range(4)]
    threads = [threading.Thread(target=send_raw, args=(daemon, d)) for d in docs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = wait_for(lambda: completed(daemon, 4), 30, "four raw jobs")
    outputs = {daemon.output(int(str(j["id"]))) for j in jobs}
    assert outputs == set(docs)  # each connection printed whole, none mixed with another


def test_empty_connection_makes_no_job(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.raw_port), timeout=10):
        pass
    send_raw(daemon, b"after\f")
    wait_for(lambda: completed(daemon, 1), 20, "raw job")
    assert len(daemon.status()["jobs"]) == 1
