"""PWG's IPP Everywhere Printer Self-Certification, run as its own scripts run it.

The test files, their documents and ``run.sh`` live beside the project in
``../shared/tools/ippeveselfcert/``; they need libcups 3's ``ipptool``
(``../shared/tools/ipptool3/``): the prebuilt one when it runs here, else one built
from the tarballs there by its ``build.sh`` into a cache outside the work tree, so a
second run does not build again.

A run is ``ipptool -P RESULTS.plist -I -T TIMEOUT URI SUITE.test`` from a copy of the
folder (the tests open ``color.jpg`` and ``document-*.pdf`` by relative path, and the
shared folder is read-only), under ``setsid`` with no terminal so that I-20's PAUSE
("Remove media from printer") does not wait for a key.  :class:`MediaCue` is the person
I-20 asks for: it takes the paper out of the emulated printer once I-19's job is over
and puts it back once the printer has said ``media-needed`` long enough for the suite
to see it.
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.daemon import Daemon

ROOT = Path(__file__).resolve().parent.parent.parent
TOOLS = ROOT.parent / "shared" / "tools"
SELFCERT = TOOLS / "ippeveselfcert"
IPPTOOL3 = TOOLS / "ipptool3"
#: Where ipptool 3 is built and kept between runs, outside the work tree, when the
#: prebuilt one cannot run here (``PRINTBRIDGE_IPPTOOL3_CACHE`` names another folder).
CACHE = Path(os.environ.get("PRINTBRIDGE_IPPTOOL3_CACHE", "/var/cache/printbridge-tests"))

#: The per-suite I/O timeout the PWG's own scripts pass with -T.
SUITE_IO_TIMEOUT = {"ipp": 120, "document": 300}


def _runs(binary: Path) -> bool:
    try:
        proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                              timeout=20)
    except OSError:
        return False
    return proc.returncode == 0 and proc.stdout.strip().startswith("3.")


_build_lock = threading.Lock()


def libcups3_tools() -> tuple[Path, Path]:
    """(ippfind, ipptool) of libcups 3: the prebuilt ones, or ones built once by
    ``build.sh`` into :data:`CACHE` (named by a digest of the sources, so a changed
    build is built again).  Never skipped: a build that fails fails the test."""
    prebuilt = IPPTOOL3 / "bin"
    if _runs(prebuilt / "ipptool") and _runs(prebuilt / "ippfind"):
        return prebuilt / "ippfind", prebuilt / "ipptool"
    with _build_lock:
        digest = hashlib.sha256()
        for source in [*sorted(IPPTOOL3.glob("*.tar.gz")), IPPTOOL3 / "build.sh"]:
            digest.update(source.read_bytes())
        built = CACHE / f"ipptool3-{digest.hexdigest()[:16]}" / "bin"
        if not (_runs(built / "ipptool") and _runs(built / "ippfind")):
            shutil.rmtree(built.parent, ignore_errors=True)
            proc = subprocess.run(["sh", str(IPPTOOL3 / "build.sh"), str(built.parent)],
                                  capture_output=True, text=True, timeout=1800)
            assert proc.returncode == 0 and _runs(built / "ipptool"), (
                f"libcups 3's prebuilt ipptool does not run here and build.sh failed "
                f"(build dependencies: {IPPTOOL3 / 'README.md'}):\n"
                f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
        return built / "ippfind", built / "ipptool"


def ipptool3() -> Path:
    """libcups 3's ipptool (see :func:`libcups3_tools`)."""
    return libcups3_tools()[1]


@dataclass
class SuiteResult:
    suite: str
    returncode: int
    tests: list[dict[str, Any]]
    report: str
    stderr: str

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [t for t in self.tests if not t.get("Successful")]

    @property
    def skipped(self) -> list[str]:
        return [str(t.get("Name")) for t in self.tests if t.get("Skipped")]

    @property
    def passed(self) -> list[str]:
        return [str(t.get("Name")) for t in self.tests
                if t.get("Successful") and not t.get("Skipped")]

    def explain(self) -> str:
        lines = [f"{self.suite}-tests.test: ipptool exit {self.returncode}, "
                 f"{len(self.passed)} passed, {len(self.failed)} failed, "
                 f"{len(self.skipped)} skipped"]
        for test in self.failed:
            lines.append(f"  FAIL {test.get('Name')}")
            lines.extend(f"       {e}" for e in test.get("Errors", []))
        if not self.tests:
            lines.append(self.report[-3000:])
        if self.stderr.strip():
            lines.append("stderr: " + self.stderr[-2000:])
        return "\n".join(lines)


@dataclass
class MediaCue:
    """The person I-20 asks to remove the paper, for one emulated printer."""

    daemon: Daemon
    #: How long the printer keeps saying media-needed before the paper goes back: I-20
    #: watches the printer while it submits, and I-20.1 (5 s later) polls for 2 minutes.
    hold: float = 20.0
    events: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self.daemon.status()["jobs"]
        return jobs

    def _wait(self, predicate: Any) -> bool:
        while not self._stop.is_set():
            try:
                if predicate():
                    return True
            except (OSError, ConnectionError, StopIteration, KeyError):
                pass
            self._stop.wait(0.1)
        return False

    def run(self) -> None:
        done = ("canceled", "aborted", "completed")
        # I-19.3 cancels the Close-Job test job; the next job is I-20's.
        if not self._wait(lambda: any(j["name"] == "I-19 Close-Job Test Job"
                                      and j["state"] in done for j in self._jobs())):
            return
        self.daemon.emulate("paper-out")
        self.events.append("paper-out")
        if not self._wait(lambda: any(r.startswith("media-needed")
                                      for r in self.daemon.status()["reasons"])):
            return
        self.events.append("media-needed")
        self._stop.wait(self.hold)
        self.daemon.emulate("clear")
        self.events.append("clear")

    def stop(self) -> None:
        self._stop.set()


def run_suite(suite: str, uri: str, workdir: Path, daemon: Daemon | None = None,
              timeout: float = 900) -> SuiteResult:
    """One self-certification suite against ``uri``, as ``{suite}-tests.sh`` runs it
    (minus its ippfind lookup: the URI is known).  ``daemon`` gets a :class:`MediaCue`
    for I-20 during the ipp suite."""
    folder = workdir / "ippeveselfcert"
    if not folder.exists():
        shutil.copytree(SELFCERT, folder)
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    plist = workdir / f"{suite}-tests.plist"
    cue = MediaCue(daemon) if daemon is not None and suite == "ipp" else None
    thread = threading.Thread(target=cue.run, daemon=True) if cue else None
    if thread:
        thread.start()
    try:
        proc = subprocess.run(
            ["setsid", "-w", str(ipptool3()), "-P", str(plist), "-I",
             "-T", str(SUITE_IO_TIMEOUT[suite]), uri, f"{suite}-tests.test"],
            cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout)
    finally:
        if cue and thread:
            cue.stop()
            thread.join(10)
    tests: list[dict[str, Any]] = []
    if plist.exists() and plist.stat().st_size:
        tests = list(plistlib.loads(plist.read_bytes()).get("Tests", []))
    result = SuiteResult(suite, proc.returncode, tests, proc.stdout, proc.stderr)
    if cue:
        result.report += f"\nmedia cue: {cue.events}"
    return result
