"""Every action a user can take is one System method, and every front end calls it (issue
18): IPP, the web pages (a logged-in administrator, with the session's CSRF token) and the
admin socket (the ``printbridge printer ...``, ``job ...`` and ``emulate`` commands, or
a request sent to it directly) reach the same
result, saved where it survives a restart -- pause and resume, hold and release new jobs
(RFC 3998), identify (PWG 5100.13), cancel, hold and release a job, and a fault injected
into the emulated printer, which IPP and SNMP both see.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.ipp import Operation, Status
from firmware.system import IDENTIFY_SECONDS
from tests.daemon import ROOT, Daemon, document, wait_for
from tests.ipp.test_operations import ADMIN, Client, add_admin, admin_daemon
from tests.snmp import netsnmp
from tests.web.browser import Browser

OK = Status.SUCCESSFUL_OK
FRONT_ENDS = ("ipp", "web", "admin")

PRINTER_OPS = {
    "pause": Operation.PAUSE_PRINTER,
    "resume": Operation.RESUME_PRINTER,
    "hold-new-jobs": Operation.HOLD_NEW_JOBS,
    "release-held-new-jobs": Operation.RELEASE_HELD_NEW_JOBS,
    "identify": Operation.IDENTIFY_PRINTER,
}
JOB_OPS = {"cancel": Operation.CANCEL_JOB, "hold": Operation.HOLD_JOB,
           "release": Operation.RELEASE_JOB}
#: job-state enum values (RFC 8011 §5.3.7)
PENDING, HELD, CANCELED, COMPLETED = 3, 4, 7, 9


class FrontEnds:
    """One daemon reached three ways: IPP (the administrator over TLS for admin
    operations), the web pages (logged in as that administrator) and the admin socket."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.ipp = Client(daemon)
        self.browser = Browser(daemon.ipp_port)
        assert self.browser.login(ADMIN[1], user=ADMIN[0]) == 303

    def printer(self, via: str, action: str) -> None:
        if via == "ipp":
            reply = self.ipp(PRINTER_OPS[action])
            assert reply.status == OK, (action, reply.find("status-message"))
        elif via == "web":
            status, _, location = self.browser.request(f"/maintenance/{action}",
                                                       {"csrf": self.browser.csrf()})
            assert status == 303 and location.startswith("/maintenance?"), (action, status)
        else:
            self.cli("printer", action)

    def cli(self, *args: str) -> None:
        """``printbridge ...`` against the daemon's admin socket."""
        subprocess.run([sys.executable, "-m", "firmware", *args, "--config",
                        str(self.daemon.config)], check=True, cwd=ROOT, capture_output=True)

    def job(self, via: str, action: str, job_id: int) -> None:
        if via == "ipp":
            reply = self.ipp(JOB_OPS[action], job_id=job_id)
            assert reply.status == OK, (action, reply.find("status-message"))
        elif via == "web":
            status, _, location = self.browser.request(f"/jobs/{job_id}/{action}",
                                                       {"csrf": self.browser.csrf()})
            assert status == 303 and "done" in location, (action, location)
        else:
            self.cli("job", action, str(job_id))

    def reasons(self) -> list[str]:
        reply = self.ipp(Operation.GET_PRINTER_ATTRIBUTES,
                         requested_attributes=["printer-state-reasons"])
        return [str(r) for r in reply.find("printer-state-reasons")]

    def printer_state(self) -> int:
        reply = self.ipp(Operation.GET_PRINTER_ATTRIBUTES, requested_attributes=["printer-state"])
        return int(reply.find("printer-state")[0])

    def saved_printer(self) -> dict[str, Any]:
        """What the daemon saved for a restart (state dir, printers/NAME.json)."""
        path = self.daemon.state_dir / "printers" / f"{self.daemon.printer}.json"
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def saved_job_state(self, job_id: int) -> int:
        return next(int(j["state"]) for j in self.daemon.saved_jobs() if j["id"] == job_id)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    yield from admin_daemon(tmp_path_factory, "actions")


@pytest.fixture
def fe(server: Daemon) -> Iterator[FrontEnds]:
    front = FrontEnds(server)
    yield front
    server.call({"command": "resume"})
    server.call({"command": "release-held-new-jobs"})
    front.ipp(Operation.CANCEL_JOBS)


# ---------------------------------------------------------------------- printer actions
@pytest.mark.parametrize("via", FRONT_ENDS)
def test_pause_and_resume(fe: FrontEnds, via: str) -> None:
    fe.printer(via, "pause")
    # The change is saved before the front end answers.
    assert fe.saved_printer()["paused"] is True
    assert fe.daemon.status()["paused"] is True
    assert "paused" in fe.reasons() and fe.printer_state() == 5  # stopped
    job_id = fe.ipp.print_job(document(1000, seed=41))
    time.sleep(0.3)  # the worker had time to take it, and did not
    assert fe.ipp.job_state(job_id) == PENDING
    fe.printer(via, "resume")
    assert fe.saved_printer()["paused"] is False
    assert "paused" not in fe.reasons()
    fe.ipp.wait_state(job_id, COMPLETED)


@pytest.mark.parametrize("via", FRONT_ENDS)
def test_hold_and_release_new_jobs(fe: FrontEnds, via: str) -> None:
    fe.printer(via, "hold-new-jobs")
    assert fe.saved_printer()["hold_new_jobs"] is True
    assert "hold-new-jobs" in fe.reasons()
    job_id = fe.ipp.print_job(document(1000, seed=42))
    assert fe.ipp.job_state(job_id) == HELD
    fe.printer(via, "release-held-new-jobs")
    assert fe.saved_printer()["hold_new_jobs"] is False
    assert "hold-new-jobs" not in fe.reasons()
    fe.ipp.wait_state(job_id, COMPLETED)


@pytest.mark.parametrize("via", FRONT_ENDS)
def test_identify_lasts_the_same_whoever_asks(fe: FrontEnds, via: str) -> None:
    """The web page's Identify used to leave the reason set for good; now IPP, the web
    page and the admin socket all show it for IDENTIFY_SECONDS."""
    assert "identify-printer-requested" not in fe.reasons()
    asked = time.monotonic()
    fe.printer(via, "identify")
    assert "identify-printer-requested" in fe.reasons()
    wait_for(lambda: "identify-printer-requested" not in fe.reasons(),
             IDENTIFY_SECONDS + 15, f"identify via {via} to end", interval=0.1)
    lasted = time.monotonic() - asked
    assert IDENTIFY_SECONDS - 0.5 <= lasted <= IDENTIFY_SECONDS + 5, lasted


def test_identify_refuses_unknown_actions(fe: FrontEnds) -> None:
    reply = fe.ipp(Operation.IDENTIFY_PRINTER, identify_actions=["juggle"])
    assert reply.status == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    assert "identify-printer-requested" not in fe.reasons()
    with pytest.raises(RuntimeError, match="juggle"):
        fe.daemon.call({"command": "identify", "actions": ["juggle"]})


# ---------------------------------------------------------------------- job actions
@pytest.mark.parametrize("via", FRONT_ENDS)
def test_hold_release_and_cancel_a_job(fe: FrontEnds, via: str) -> None:
    fe.printer("ipp", "pause")  # keep the jobs waiting
    first = fe.ipp.print_job(document(1000, seed=43))
    second = fe.ipp.print_job(document(1000, seed=44))
    fe.job(via, "hold", first)
    assert fe.ipp.job_state(first) == HELD and fe.saved_job_state(first) == HELD
    fe.job(via, "release", first)
    assert fe.ipp.job_state(first) == PENDING and fe.saved_job_state(first) == PENDING
    fe.job(via, "cancel", second)
    assert fe.ipp.job_state(second) == CANCELED and fe.saved_job_state(second) == CANCELED
    fe.printer("ipp", "resume")
    fe.ipp.wait_state(first, COMPLETED)


def test_a_refused_job_action_is_refused_everywhere(fe: FrontEnds) -> None:
    done = fe.ipp.print_job(document(500, seed=45))
    fe.ipp.wait_state(done, COMPLETED)
    assert fe.ipp(Operation.HOLD_JOB, job_id=done).status == Status.CLIENT_ERROR_NOT_POSSIBLE
    status, _, location = fe.browser.request(f"/jobs/{done}/hold",
                                             {"csrf": fe.browser.csrf()})
    assert status == 303 and "not%20possible" in location
    with pytest.raises(RuntimeError, match="not possible"):
        fe.daemon.call({"command": "hold", "job": done})
    assert fe.saved_job_state(done) == COMPLETED


# ---------------------------------------------------------------------- restarts
def test_hold_new_jobs_and_pause_survive_a_restart(tmp_path: Path) -> None:
    """Hold-New-Jobs used to live in memory only: a restart released new jobs."""
    daemon = Daemon(tmp_path / "state", options={"rate": "200000"})
    add_admin(daemon)
    daemon.start()
    try:
        fe = FrontEnds(daemon)
        fe.printer("ipp", "hold-new-jobs")
        fe.printer("web", "pause")
        daemon.stop()
        daemon.start()
        fe = FrontEnds(daemon)
        reasons = fe.reasons()
        assert "hold-new-jobs" in reasons and "paused" in reasons, reasons
        job_id = fe.ipp.print_job(document(1000, seed=46))
        assert fe.ipp.job_state(job_id) == HELD
        fe.printer("admin", "release-held-new-jobs")
        fe.printer("admin", "resume")
        fe.ipp.wait_state(job_id, COMPLETED)
        daemon.stop()
        daemon.start()
        fe = FrontEnds(daemon)
        reasons = fe.reasons()
        assert "hold-new-jobs" not in reasons and "paused" not in reasons, reasons
        assert fe.ipp.job_state(fe.ipp.print_job(document(1000, seed=47))) != HELD
    finally:
        daemon.stop()


# ---------------------------------------------------------------------- faults
HR_ERROR_STATE = ".1.3.6.1.2.1.25.3.5.1.2.1"
NO_PAPER = 0x40  # hrPrinterDetectedErrorState noPaper (RFC 2790), first octet


def test_fault_from_the_admin_socket_reaches_ipp_and_snmp(tmp_path: Path) -> None:
    """``printbridge emulate`` goes through System.inject_fault, which takes a status
    reading itself: the model has the fault when the admin socket answers, with no
    periodic poll to wait for (the poll interval here is longer than the test)."""
    netsnmp.require_tools()
    daemon = Daemon(tmp_path / "state", extra_config=netsnmp.SNMP_CONFIG)
    daemon.config.write_text(daemon.config.read_text().replace("status_interval = 0.2",
                                                               "status_interval = 600"))
    add_admin(daemon)
    daemon.start()
    host = f"udp:127.0.0.1:{daemon.snmp_port}"

    def no_paper() -> bool:
        state = netsnmp.get(netsnmp.V2C, host, HR_ERROR_STATE)[HR_ERROR_STATE]
        return bool(netsnmp.hex_octets(state)[0] & NO_PAPER)

    try:
        fe = FrontEnds(daemon)
        assert "media-empty-error" not in fe.reasons() and not no_paper()
        reply = daemon.call({"command": "emulate", "action": "paper-out"})
        # The reading was taken before the admin socket answered.
        assert reply["state"] == "stopped" and "media-empty-error" in reply["reasons"]
        assert "media-empty-error" in fe.reasons()
        assert fe.printer_state() == 5
        assert no_paper()
        assert "media-empty-error" in daemon.status()["reasons"]
        reply = daemon.call({"command": "emulate", "action": "clear"})
        assert reply["state"] == "idle" and "media-empty-error" not in reply["reasons"]
        assert "media-empty-error" not in fe.reasons()
        assert not no_paper()
        with pytest.raises(RuntimeError, match="unknown emulate command"):
            daemon.emulate("on-fire")
    finally:
        daemon.stop()


# ---------------------------------------------------------------------- the code's shape
#: Front ends: they read the model and act through System methods only.
FRONT_END_FILES = ["firmware/ipp", "firmware/web", "firmware/admin.py", "firmware/lpd.py",
                   "firmware/raw.py", "firmware/board", "firmware/snmp", "firmware/cli.py"]
#: Model state only the System's (and Printer's, Job's) methods change.
MODEL_STATE = {"paused", "accepting", "hold_new_jobs", "suspended", "cancel_requested",
               "state", "extra_reasons"}
MUTATORS = {"add", "discard", "remove", "clear", "update", "pop"}


def test_front_ends_do_not_change_model_state_themselves() -> None:
    """No front end assigns the printer's or a job's state, changes the printer's
    reasons, calls Job.set_state or injects into a port: each goes through a System
    method, so the action is the same (and saved the same way) whoever asks."""
    found = []
    files = [p for entry in FRONT_END_FILES for p in
             ((ROOT / entry).rglob("*.py") if (ROOT / entry).is_dir() else [ROOT / entry])]
    assert len(files) > 10
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr in MODEL_STATE:
                        found.append(f"{where}: assigns .{target.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                func = node.func
                if func.attr in ("set_state", "inject"):
                    found.append(f"{where}: calls .{func.attr}()")
                elif (func.attr in MUTATORS and isinstance(func.value, ast.Attribute)
                      and func.value.attr in MODEL_STATE):
                    found.append(f"{where}: .{func.value.attr}.{func.attr}()")
    assert not found, "\n".join(found)
