"""The emulated printer as a port: back-pressure, pages, consumables, faults."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hal.emulated import EmulatedPort
from hal.port import PortCondition, PortError
from hal.registry import create_port


def make(tmp_path: Path, **options: str) -> EmulatedPort:
    port = create_port("emulated:", {"output": str(tmp_path), "rate": "0", **options})
    assert isinstance(port, EmulatedPort)
    port.open()
    return port


def send_all(port: EmulatedPort, data: bytes, deadline: float = 5.0) -> None:
    view = memoryview(data)
    end = time.monotonic() + deadline
    while view:
        assert time.monotonic() < end, "port never took the data"
        view = view[port.write(view, 0.1):]


def test_job_output_and_pages(tmp_path: Path) -> None:
    port = make(tmp_path, paper="10")
    port.begin_job(7, "doc")
    send_all(port, b"page1\fpage2\fpage3\f")
    port.end_job(7, completed=True)
    assert (tmp_path / "7" / "received.bin").read_bytes() == b"page1\fpage2\fpage3\f"
    status = port.status()
    assert status.page_count == 3
    assert status.paper_level == 7
    log = (tmp_path / "jobs.log").read_text().split()
    assert "begin" in log and "end" in log


def test_rate_limits_throughput(tmp_path: Path) -> None:
    port = make(tmp_path, rate="100000")
    port.begin_job(1, "x")
    start = time.monotonic()
    send_all(port, b"x" * 30000)
    assert time.monotonic() - start >= 0.25  # 30 kB at 100 kB/s


def test_paper_runs_out_mid_job_and_stalls_before_the_page(tmp_path: Path) -> None:
    port = make(tmp_path, paper="2")
    port.begin_job(1, "x")
    data = b"a\fb\fc\fd"
    taken = port.write(data, 0.1)
    assert taken == 5  # two pages came out; the third page waits at its form feed
    assert PortCondition.PAPER_OUT in port.status().conditions
    assert port.write(data[taken:], 0.05) == 0  # back-pressure, not an error
    port.inject("paper", 5)
    send_all(port, data[taken:])
    port.end_job(1, completed=True)
    assert (tmp_path / "1" / "received.bin").read_bytes() == data


@pytest.mark.parametrize("fault", ["paper-out", "jam", "offline", "cover-open"])
def test_fault_stalls_port_until_clear(tmp_path: Path, fault: str) -> None:
    port = make(tmp_path)
    port.inject(fault)
    assert not port.status().ready
    assert port.write(b"data", 0.05) == 0
    done = threading.Event()

    def writer() -> None:
        send_all(port, b"data")
        done.set()

    port.begin_job(1, "x")
    thread = threading.Thread(target=writer)
    thread.start()
    assert not done.wait(0.3)
    port.inject("clear")
    assert done.wait(5)
    thread.join()
    assert port.status().ready


def test_unplug_raises_and_toner(tmp_path: Path) -> None:
    port = make(tmp_path, toner_pages="100")
    port.inject("toner", 5)
    status = port.status()
    assert status.marker_levels == {"black": 5}
    assert PortCondition.TONER_LOW in status.conditions
    port.inject("unplug")
    with pytest.raises(PortError):
        port.write(b"x", 0.1)
    with pytest.raises(ValueError):
        port.inject("toner", 150)


def test_counters_survive_reopen(tmp_path: Path) -> None:
    port = make(tmp_path)
    port.begin_job(1, "x")
    send_all(port, b"p\fq\f")
    port.end_job(1, completed=True)
    again = make(tmp_path)
    assert again.status().page_count == 2
