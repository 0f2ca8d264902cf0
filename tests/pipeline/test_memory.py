"""Streaming: a 20-page PDF prints with the same peak memory as a 2-page one, the event
loop keeps answering while pages convert, and a cancel stops a conversion mid-document."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from firmware.ipp import Operation
from tests.daemon import Daemon, wait_for
from tests.ipp.client import request, send
from tests.pipeline.helpers import print_job, printed_pages
from tests.samples import sample_pdf

OPTIONS = {"rate": "0", "paper": "5000", "paper_capacity": "5000", "toner_pages": "100000"}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("pdfs")
    return {n: sample_pdf(root / f"{n}.pdf", "a4", n) for n in (2, 20)}


def state_latency(daemon: Daemon) -> float:
    began = time.monotonic()
    reply = send(daemon.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri,
                                          requested_attributes=["printer-state"]))
    assert reply.status == 0
    return time.monotonic() - began


def test_peak_memory_does_not_grow_with_pages(make_daemon: type[Daemon],
                                              pdfs: dict[int, Path]) -> None:
    peaks: dict[int, int] = {}
    for pages in (2, 20):
        daemon = make_daemon(options=OPTIONS).start()
        time.sleep(0.5)  # the conversion thread's warm-up (imports, halftone tile)
        before = daemon.rss_kib()
        job_id = print_job(daemon, pdfs[pages].read_bytes(), "application/pdf",
                           print_quality=5)  # 600 dpi: 35 MB of grey per page
        latencies = []
        while daemon.job(job_id)["state"] not in ("completed", "aborted"):
            latencies.append(state_latency(daemon))
            time.sleep(0.02)
        assert daemon.job(job_id)["state"] == "completed"
        assert len(printed_pages(daemon, job_id)) == pages
        peaks[pages] = daemon.rss_kib()
        # The loop answered IPP throughout the conversion (it runs on its own thread).
        assert max(latencies) < 0.5, max(latencies)
        print(f"{pages} pages: VmHWM {before} -> {peaks[pages]} KiB, "
              f"IPP latency max {max(latencies) * 1000:.0f} ms over {len(latencies)} polls")
        daemon.stop()
    assert abs(peaks[20] - peaks[2]) < 8 * 1024, peaks


def test_cancel_stops_the_conversion(make_daemon: type[Daemon], pdfs: dict[int, Path]) -> None:
    daemon = make_daemon(options={**OPTIONS, "rate": "2000000"}).start()
    job_id = print_job(daemon, pdfs[20].read_bytes(), "application/pdf", print_quality=5)
    wait_for(lambda: daemon.job(job_id)["bytes_sent"] > 0, 30, "printing under way")
    reply = send(daemon.ipp_port, request(Operation.CANCEL_JOB, daemon.uri, job_id=job_id))
    assert reply.status == 0
    began = time.monotonic()
    daemon.wait_job(job_id, "canceled", timeout=10)
    assert time.monotonic() - began < 3
    assert daemon.log_events(job_id, "cancel") == 1
    assert len(printed_pages(daemon, job_id)) < 20
    follow = print_job(daemon, pdfs[2].read_bytes(), "application/pdf", print_quality=3)
    daemon.wait_job(follow, timeout=30)
    assert len(printed_pages(daemon, follow)) == 2
