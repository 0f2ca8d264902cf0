"""CUPS's own conformance suites against the daemon (ipptool, /usr/share/cups/ipptool).

Every suite runs three times in a row against one daemon; a run passes when ipptool
exits 0, prints no [FAIL] (failures inside INCLUDEd files do not reach the exit status)
and writes nothing to stderr (a document it cannot read ends a suite silently).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon, wait_for
from tests.samples import SAMPLE_DOCS

SUITES = [
    ("1.1", "ipp-1.1.test"),
    ("2.0", "ipp-2.0.test"),
    ("2.1", "ipp-2.1.test"),
    ("2.2", "ipp-2.2.test"),
    ("2.0", "ipp-everywhere.test"),
]


@pytest.fixture(scope="session")
def documents(ipptool_documents: Path) -> Path:
    """The documents the suites name, made for this run (tests/conftest.py)."""
    return ipptool_documents


def run_suite(daemon: Daemon, documents: Path, version: str, suite: str,
              *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ipptool", "-tI", "-T", "30", "-V", version, "-f", str(documents / "testfile.pdf"),
         *extra, daemon.uri, suite],
        cwd=documents, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture
def fast_daemon(make_daemon: type[Daemon]) -> Iterator[Daemon]:
    yield make_daemon(options={"rate": "0", "paper": "100000", "paper_capacity": "100000",
                               "toner_pages": "1000000"}).start()


@pytest.mark.parametrize(("version", "suite"), SUITES, ids=[s for _, s in SUITES])
def test_suite_passes_three_times(fast_daemon: Daemon, documents: Path, version: str,
                                  suite: str) -> None:
    for attempt in range(3):
        result = run_suite(fast_daemon, documents, version, suite)
        failed = [line for line in result.stdout.splitlines() if "[FAIL]" in line]
        assert result.returncode == 0 and not failed and not result.stderr.strip(), (
            f"run {attempt + 1} of {suite}:\n{result.stdout[-6000:]}\n{result.stderr}")
        passed = sum("[PASS]" in line for line in result.stdout.splitlines())
        assert passed >= 3


def test_everywhere_prints_every_sample(fast_daemon: Daemon, documents: Path) -> None:
    """The raster samples are really printed: jobs complete and reach the printer."""
    result = run_suite(fast_daemon, documents, "2.0", "ipp-everywhere.test")
    assert result.returncode == 0, result.stdout[-3000:]
    prints = sum(line.strip().startswith("Print ") and "[PASS]" in line
                 for line in result.stdout.splitlines())
    assert prints >= 72  # 2 resolutions x 2 types x 6 documents x 3 codings

    def finished() -> list[dict[str, object]]:
        jobs = fast_daemon.status()["jobs"]
        return jobs if all(j["state"] in ("completed", "canceled", "aborted") for j in jobs) else []

    jobs = wait_for(finished, 120, "every job to finish")
    # Every sample went through the PCL 5 driver (the emulator is a PCL laser): the
    # printer got PCL raster, not the PWG raster that was sent, and its interpreter
    # printed exactly the sample's pages (output/<job>/page-N.png).
    rasters = []
    for job in jobs:
        sample = SAMPLE_DOCS.get(str(job["name"]))
        if job["state"] != "completed" or sample is None:
            continue
        job_id = int(str(job["id"]))
        data = fast_daemon.output(job_id)
        assert data.startswith(b"\x1b%-12345X@PJL") and b"\x1b*r1A" in data, job
        assert b"RaS2" not in data[:64]
        pages = sorted((fast_daemon.state_dir / "output" / str(job_id)).glob("page-*.png"))
        assert len(pages) == sample.pages, (job, pages)
        rasters.append(job)
    assert len(rasters) >= 72
