"""PWG IPP Everywhere Printer Self-Certification: ``ipp-tests.test`` and
``document-tests.test`` against the emulated monochrome laser (PCL 5) and the emulated
colour inkjet (PCL 3), with libcups 3's ipptool (see :mod:`tests.ipp.selfcert`).

Each printer runs its two suites one after the other (the PWG asks that nobody else
prints meanwhile: I-20 takes the paper out); the two printers run side by side, each in
its own daemon with its own ports and state, so the four suites take the time of two.

Every test must pass.  The only skips allowed are the ones the suites' own conditions
make for a printer's capabilities, named here and asserted exactly:

Laser (black_1 and sgray_8 raster, no colour, no duplexer, PDF accepted):

* D-1.1/D-1.2/D-1.3 srgb_8 and cmyk_8 raster (``SKIP-IF-NOT-DEFINED HAVE_SRGB`` /
  ``HAVE_CMYK``: ``pwg-raster-document-type-supported`` has neither);
* D-2.1 to D-2.5, the colour JPEG tests (``HAVE_COLOR``: ``color-supported`` false);
* D-3.4, two-sided PDF (``HAVE_DUPLEX``: ``sides-supported`` is one-sided only).

Inkjet (colour, srgb_8 raster, no duplexer):

* the cmyk_8 raster tests (``HAVE_CMYK``); D-3.4 (``HAVE_DUPLEX``).

ipp-tests.test skips nothing on either printer: I-20 (media-needed) runs, with the
paper taken out on cue.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.ipp.selfcert import SuiteResult, run_suite

#: printer -> emulator options.  Plenty of paper: document-tests print dozens of sheets
#: and a "wait for job" step polls for ever on a printer that ran out.
PRINTERS: dict[str, dict[str, str]] = {
    "laser": {"paper": "5000", "paper_capacity": "5000"},
    "inkjet": {"language": "pcl3", "paper": "5000", "paper_capacity": "5000"},
}

_COLOR_RASTER = re.compile(r"^D-1\.[123] .*\((srgb|cmyk)_8, ")
_CMYK_RASTER = re.compile(r"^D-1\.[123] .*\(cmyk_8, ")
_WAIT = "Wait for job to complete..."


def _allowed_skip(printer: str, name: str, previous: str) -> bool:
    """The suites' own capability conditions, per printer (see the module docstring).
    A "Wait for job" step is skipped exactly when the print step before it was."""
    if name.endswith(_WAIT):
        return _allowed_skip(printer, previous, "")
    if name.startswith("D-3.4 "):
        return True
    if printer == "laser":
        return bool(_COLOR_RASTER.match(name)) or name.startswith("D-2.")
    return bool(_CMYK_RASTER.match(name))


class Certification:
    """Both printers' runs, started together on first use."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.daemons: dict[str, Daemon] = {}
        self.results: dict[tuple[str, str], SuiteResult] = {}
        self.errors: dict[str, BaseException] = {}
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for printer, options in PRINTERS.items():
            daemon = Daemon(self.tmp / printer / "state", options=options, printer=printer,
                            verbose=False)
            self.daemons[printer] = daemon
            thread = threading.Thread(target=self._run, args=(printer, daemon), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, printer: str, daemon: Daemon) -> None:
        try:
            daemon.start()
            work = self.tmp / printer
            for suite in ("ipp", "document"):
                self.results[printer, suite] = run_suite(suite, daemon.uri, work, daemon)
        except BaseException as exc:  # reported by the tests
            self.errors[printer] = exc

    def result(self, printer: str, suite: str) -> SuiteResult:
        for thread in self.threads:
            thread.join(1500)
        if printer in self.errors:
            raise self.errors[printer]
        return self.results[printer, suite]

    def stop(self) -> None:
        for daemon in self.daemons.values():
            daemon.stop()


@pytest.fixture(scope="module")
def certification(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Certification]:
    cert = Certification(tmp_path_factory.mktemp("selfcert"))
    cert.start()
    yield cert
    cert.stop()


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("suite", ["ipp", "document"])
@pytest.mark.parametrize("printer", list(PRINTERS))
def test_self_certification(certification: Certification, printer: str, suite: str) -> None:
    result = certification.result(printer, suite)
    daemon = certification.daemons[printer]
    assert result.tests, f"no results\n{result.explain()}\n{daemon.log()}"
    assert not result.failed, result.explain()
    previous = ""
    unexpected = []
    for test in result.tests:
        name = str(test.get("Name"))
        if test.get("Skipped") and not _allowed_skip(printer, name, previous):
            unexpected.append(name)
        previous = name
    assert not unexpected, f"skipped beyond the printer's capabilities: {unexpected}"
    assert result.returncode == 0, result.explain()
    if suite == "ipp":
        names = result.passed + result.skipped
        assert any(n.startswith("I-20.") or n.startswith("I-20 ") for n in result.passed), (
            f"I-20 (media-needed) did not run: {names}\n{result.report[-2000:]}")
        assert "media-needed" in result.report, result.report[-2000:]
