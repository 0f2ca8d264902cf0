"""Printer faults during jobs and a full disk: the job waits, nothing is lost, and IPP,
SNMP and the web page all say what is wrong."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.ipp import Operation, Status
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import request, send

FAULTS = {
    # fault: (IPP reason, web text, hrPrinterDetectedErrorState bit: byte, mask)
    "paper-out": ("media-empty-error", "Out of paper", (0, 0x40)),
    "jam": ("media-jam-error", "Paper jam", (0, 0x04)),
    "cover-open": ("cover-open-error", "Cover open", (0, 0x08)),
    "offline": ("offline-report", "offline", (0, 0x02)),
    "unplug": ("offline-report", "offline", (0, 0x02)),
}


def print_ipp(daemon: Daemon, data: bytes) -> int:
    reply = send(daemon.ipp_port, request(Operation.PRINT_JOB, daemon.uri,
                                          document_format="application/octet-stream"), data)
    assert reply.status == Status.SUCCESSFUL_OK
    return int(reply.find("job-id")[0])


def ipp_state(daemon: Daemon) -> tuple[int, list[str]]:
    reply = send(daemon.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri,
                                          requested_attributes=["printer-state",
                                                                "printer-state-reasons"]))
    return reply.find("printer-state")[0], reply.find("printer-state-reasons")


def error_state(daemon: Daemon) -> bytes:
    out = subprocess.run(["snmpwalk", "-v2c", "-c", "public", "-On", "-Ox",
                          f"127.0.0.1:{daemon.snmp_port}", "1.3.6.1.2.1.25.3.5.1.2"],
                         capture_output=True, text=True, timeout=20).stdout
    hexes = out.split("Hex-STRING:")[1].split("\n")[0].split() if "Hex-STRING:" in out else []
    return bytes(int(h, 16) for h in hexes)


def web_status(daemon: Daemon) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{daemon.ipp_port}/", timeout=10) as page:
        return page.read().decode()


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("faults"), options={"rate": "100000"}).start()
    yield daemon
    daemon.stop()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_stops_then_resumes(slow: Daemon, fault: str) -> None:
    reason, text, (byte, mask) = FAULTS[fault]
    data = document(150_000, seed=hash(fault) % 1000)
    job_id = print_ipp(slow, data)
    wait_for(lambda: slow.job(job_id)["bytes_sent"] > 10_000, 10, "printing under way")
    slow.emulate(fault)
    wait_for(lambda: ipp_state(slow)[0] == 5, 10, "printer stopped")
    assert reason in ipp_state(slow)[1]
    wait_for(lambda: slow.job(job_id)["state"] == "processing-stopped", 10, "job stopped")
    state = wait_for(lambda: error_state(slow), 10, "SNMP error state")
    assert state[byte] & mask, (fault, state.hex())
    assert text.lower() in web_status(slow).lower()
    slow.emulate("clear")
    slow.wait_job(job_id, timeout=30)
    assert slow.output(job_id) == data
    wait_for(lambda: ipp_state(slow) == (3, ["none"]), 10, "idle again")
    assert not any(error_state(slow))


def test_cancel_during_fault_then_next_prints(slow: Daemon) -> None:
    stuck = print_ipp(slow, document(150_000, seed=91))
    wait_for(lambda: slow.job(stuck)["bytes_sent"] > 10_000, 10, "printing under way")
    slow.emulate("jam")
    wait_for(lambda: slow.job(stuck)["state"] == "processing-stopped", 10, "job stopped")
    reply = send(slow.ipp_port, request(Operation.CANCEL_JOB, slow.uri, job_id=stuck))
    assert reply.status == Status.SUCCESSFUL_OK
    wait_for(lambda: slow.job(stuck)["state"] == "canceled", 10, "canceled during the jam")
    slow.emulate("clear")
    data = document(20_000, seed=92)
    after = print_ipp(slow, data)
    slow.wait_job(after, timeout=30)
    assert slow.output(after) == data


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MiB tmpfs as the spool directory (a file system the test creates)."""
    state = tmp_path / "state"
    spool = state / "spool"
    spool.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "pbtest", str(spool)],
                   check=True)
    try:
        yield state
    finally:
        subprocess.run(["umount", str(spool)], check=False)


def test_disk_full(make_daemon: type[Daemon], small_disk: Path) -> None:
    daemon = make_daemon(state_dir=small_disk, options={"rate": "0"},
                         extra_config="[security]\nmin_free_space = 2M\n")
    daemon.start()
    daemon.emulate("offline")  # everything accepted stays in the spool
    accepted: list[tuple[int, bytes]] = []
    refused = None
    for n in range(20):
        data = document(1_500_000, seed=100 + n)
        reply = send(daemon.ipp_port, request(Operation.PRINT_JOB, daemon.uri,
                                              document_format="application/octet-stream"), data)
        if reply.status != Status.SUCCESSFUL_OK:
            refused = reply.status
            break
        accepted.append((int(reply.find("job-id")[0]), data))
    assert refused == Status.SERVER_ERROR_NOT_ACCEPTING_JOBS
    assert len(accepted) >= 3
    reasons = ipp_state(daemon)[1]
    assert "spool-area-full" in reasons
    # Nothing half-received was kept.
    docs = list((small_disk / "spool").glob("*.doc*"))
    assert len(docs) == len(accepted)
    daemon.emulate("clear")
    for job_id, data in accepted:
        daemon.wait_job(job_id, timeout=60)
        assert daemon.output(job_id) == data
    wait_for(lambda: "spool-area-full" not in ipp_state(daemon)[1], 20, "space to return")
    again = document(1_000_000, seed=200)
    job_id = print_ipp(daemon, again)
    daemon.wait_job(job_id, timeout=30)
    assert daemon.output(job_id) == again
