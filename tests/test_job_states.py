"""The job state machine (firmware/job_states.py): the one table of allowed job-state
changes (RFC 8011 §5.3.7), Job.set_state refusing every other change, the callers that
could have attempted one, and over a real socket that IPP operations needing an illegal
change are refused with the answer they always had and change nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from itertools import product
from pathlib import Path

import pytest

from firmware.config import load_config
from firmware.ipp import Operation, Status
from firmware.job import Document, IllegalTransition, Job, JobState
from firmware.job_states import (
    CLOSED_AFTER_RESTART,
    REQUEUED_AFTER_RESTART,
    TRANSITIONS,
    allowed,
    transition,
)
from firmware.spool import RESTARTED_REASON, Spool
from firmware.system import System
from firmware.worker import PrintWorker
from hal.port import Port, PortStatus
from tests.daemon import Daemon, document, wait_for
from tests.ipp.client import Response
from tests.ipp.test_operations import Client, admin_daemon

P, H, R, S = (JobState.PENDING, JobState.PENDING_HELD, JobState.PROCESSING,
              JobState.PROCESSING_STOPPED)
C, A, D = JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED

LEGAL = sorted(TRANSITIONS)
ILLEGAL = sorted((a, b) for a, b in product(JobState, JobState)
                 if a != b and (a, b) not in TRANSITIONS)


def pair_id(pair: tuple[JobState, JobState]) -> str:
    return f"{pair[0].keyword}->{pair[1].keyword}"


def a_job(state: JobState) -> Job:
    job = Job(id=7, printer="P", state=state, reasons=["before"])
    job.processing_at = 100.0 if state != P else None
    job.completed_at = 200.0 if state.terminal else None
    return job


# ---------------------------------------------------------------------- the table
def test_the_table_is_rfc_8011_figure_3_and_what_the_printer_adds() -> None:
    # Figure 3 of RFC 8011 §5.3.7, plus the cancels its text adds: all of them are there.
    figure = {(P, H), (H, P), (P, R), (R, S), (S, R), (R, D), (R, C), (R, A), (S, A),
              (P, C), (H, C), (S, C)}
    assert figure <= set(TRANSITIONS)
    # Terminal states never leave, except for Restart-Job (RFC 8011 §4.3.7) to pending.
    for (source, target), row in TRANSITIONS.items():
        if source.terminal:
            assert target == P and "§4.3.7" in row.basis
    assert {s for s, _ in TRANSITIONS if s.terminal} == {C, A, D}
    # Every row says where the standard allows it.
    for row in TRANSITIONS.values():
        assert "RFC" in row.basis or row.name == REQUEUED_AFTER_RESTART, row
        assert row.name
    # The two rows crash recovery needs are there, named.
    assert transition(R, P).name == transition(S, P).name == REQUEUED_AFTER_RESTART
    assert transition(P, D).name == CLOSED_AFTER_RESTART
    # The table is frozen.
    with pytest.raises(TypeError):
        TRANSITIONS[(D, R)] = transition(P, R)  # type: ignore[index]


@pytest.mark.parametrize("pair", ILLEGAL, ids=pair_id)
def test_an_illegal_transition_is_refused_and_changes_nothing(
        pair: tuple[JobState, JobState]) -> None:
    source, target = pair
    job = a_job(source)
    before = job.to_json()
    assert not job.can_become(target) and not allowed(source, target)
    with pytest.raises(IllegalTransition) as refused:
        job.set_state(target, "job-printing")
    assert (refused.value.job_id, refused.value.source, refused.value.target) == (
        7, source, target)
    assert job.to_json() == before


@pytest.mark.parametrize("pair", LEGAL, ids=pair_id)
def test_a_legal_transition_is_made_with_its_reasons_logged(
        pair: tuple[JobState, JobState], caplog: pytest.LogCaptureFixture) -> None:
    source, target = pair
    job = a_job(source)
    assert job.can_become(target)
    with caplog.at_level(logging.INFO, logger="firmware.job"):
        job.set_state(target, "some-reason", "another-reason")
    assert job.state == target
    assert job.reasons == ["some-reason", "another-reason"]
    line = f"job 7: {source.keyword} -> {target.keyword}, {TRANSITIONS[pair].name}"
    assert any(line in r.getMessage() and "some-reason" in r.getMessage()
               for r in caplog.records)
    if target.terminal:
        assert job.completed_at is not None and job.completed_at != 200.0


@pytest.mark.parametrize("state", list(JobState), ids=lambda s: s.keyword)
def test_the_same_state_again_is_no_transition_only_new_reasons(state: JobState) -> None:
    job = a_job(state)
    stamps = (job.processing_at, job.completed_at)
    job.set_state(state, "job-queued")
    assert job.state == state and job.reasons == ["job-queued"]
    assert (job.processing_at, job.completed_at) == stamps


def test_every_change_needs_a_reason() -> None:
    job = a_job(P)
    with pytest.raises(ValueError, match="reason"):
        job.set_state(R, "")
    assert job.state == P
    with pytest.raises(TypeError):
        job.set_state(R)  # type: ignore[call-arg]


# ---------------------------------------------------------------------- the callers
def test_spool_recovery_is_the_named_requeue(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path)
    for job_id, state in ((1, R), (2, S)):
        job = Job(id=job_id, printer="P", state=state, suspended=state == S)
        path = spool.document_path(job, 1)
        path.write_bytes(b"data")
        job.documents.append(Document(1, size=4, path=path.name))
        spool.save(job)
    with caplog.at_level(logging.INFO, logger="firmware.job"):
        jobs = Spool(tmp_path).load()
    assert [(j.state, RESTARTED_REASON in j.reasons) for j in jobs] == [(P, True), (P, True)]
    assert not any(j.suspended for j in jobs)  # a restart ends a suspension (RFC 3998)
    assert sum(REQUEUED_AFTER_RESTART in r.getMessage() for r in caplog.records) == 2


def system_for(tmp_path: Path) -> System:
    return System(load_config(None, "emulator", {"state_dir": str(tmp_path / "state")}))


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_a_job_canceled_while_it_arrives_stays_canceled(tmp_path: Path) -> None:
    """The upload of a job canceled mid-way failing, or finishing, does not turn the
    canceled job into an aborted one (both were canceled -> aborted before)."""
    async def scenario() -> None:
        system = system_for(tmp_path)
        printer = system.default_printer
        job = await system.create_job(printer, name="interrupted")
        assert await system.cancel_job(job)
        await system.abort_incoming(job)
        assert job.state == C and job.reasons == ["job-canceled-by-user"]
        assert not job.documents_retained
        empty = await system.create_job(printer, name="empty")
        assert await system.cancel_job(empty)
        await system.close_job(empty)  # no documents: aborted only when not finished
        assert empty.state == C
        # An open job that is not canceled is aborted as before.
        open_job = await system.create_job(printer, name="open")
        await system.abort_incoming(open_job, "job-data-insufficient")
        assert open_job.state == A
        assert open_job.reasons == ["job-data-insufficient", "aborted-by-system"]
        system.spool.executor.shutdown(wait=True)

    asyncio.run(scenario())


class GatedPort(Port):
    """A printer that is away until the test lets it open."""

    scheme = "gated"

    def __init__(self) -> None:
        super().__init__("gated:")
        self.gate = threading.Event()
        self.ended: list[int] = []

    def open(self) -> None:
        self.gate.wait(10)

    def close(self) -> None:
        pass

    def write(self, data: bytes | memoryview, timeout: float) -> int:
        return len(data)

    def status(self) -> PortStatus:
        return PortStatus()

    def end_job(self, job_id: int, *, completed: bool) -> None:
        self.ended.append(job_id)


@pytest.mark.parametrize("action", ["hold", "cancel", "none"])
def test_a_delivered_job_changed_while_the_printer_is_away(tmp_path: Path,
                                                           action: str) -> None:
    """After a crash a delivered job waits for the printer to be closed (pending ->
    completed); held or canceled meanwhile, the worker leaves it so (it completed a held
    or canceled job before: pending-held/canceled -> completed)."""
    async def scenario() -> None:
        system = system_for(tmp_path)
        printer = system.default_printer
        job = await system.submit(printer, chunks(b"x" * 100), name="delivered")
        job.delivered = True
        port = GatedPort()
        worker = PrintWorker(system, printer, port)
        printing = asyncio.create_task(worker._print(job))
        await asyncio.sleep(0.05)
        if action == "hold":
            assert await system.hold_job(job)
        elif action == "cancel":
            assert await system.cancel_job(job)
        port.gate.set()
        await asyncio.wait_for(printing, 10)
        expected = {"hold": H, "cancel": C, "none": D}[action]
        assert job.state == expected
        assert port.ended == ([job.id] if action == "none" else [])
        if action == "hold":
            # Released, it is closed then, without printing it again.
            assert await system.release_job(job)
            await asyncio.wait_for(worker._print(job), 10)
            assert job.state == D and port.ended == [job.id]
        await worker.stop()
        system.spool.executor.shutdown(wait=True)

    asyncio.run(scenario())


def test_the_worker_does_not_finish_a_job_finished_behind_its_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        system = system_for(tmp_path)
        printer = system.default_printer
        job = await system.submit(printer, chunks(b"x" * 100), name="aborted")
        job.set_state(R, "job-printing")
        await system.abort_incoming(job)  # an interrupted submission aborts it
        worker = PrintWorker(system, printer, GatedPort())
        await worker._finish(job, D, "job-completed-successfully")
        assert job.state == A and printer.counters.jobs == 0
        await worker.stop()
        system.spool.executor.shutdown(wait=True)

    asyncio.run(scenario())


# ---------------------------------------------------------------------- over a socket
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    yield from admin_daemon(tmp_path_factory, "states")


@pytest.fixture
def ipp(server: Daemon) -> Iterator[Client]:
    client = Client(server)
    yield client
    client(Operation.RESUME_PRINTER)
    client(Operation.CANCEL_JOBS)


def snapshot(ipp: Client, job_id: int) -> tuple[object, ...]:
    reply = ipp(Operation.GET_JOB_ATTRIBUTES, job_id=job_id,
                requested_attributes=["job-state", "job-state-reasons",
                                      "time-at-completed"])
    return (reply.find("job-state"), reply.find("job-state-reasons"),
            reply.find("time-at-completed"))


def refused(reply: Response) -> bool:
    return reply.status == Status.CLIENT_ERROR_NOT_POSSIBLE


def test_operations_needing_an_illegal_transition_are_refused(ipp: Client,
                                                              server: Daemon) -> None:
    # A completed job: Release-, Hold-, Cancel- and Resume-Job would leave 'completed'.
    done = ipp.print_job(document(1000, seed=31))
    ipp.wait_state(done, 9)
    before = snapshot(ipp, done)
    for op in (Operation.RELEASE_JOB, Operation.HOLD_JOB, Operation.CANCEL_JOB,
               Operation.RESUME_JOB):
        assert refused(ipp(op, job_id=done)), op
    assert snapshot(ipp, done) == before
    # A canceled job: canceling it again, holding or releasing it.
    assert ipp(Operation.PAUSE_PRINTER).status == Status.SUCCESSFUL_OK
    canceled = ipp.print_job(document(1000, seed=32))
    assert ipp(Operation.CANCEL_JOB, job_id=canceled).status == Status.SUCCESSFUL_OK
    assert ipp.job_state(canceled) == 7
    before = snapshot(ipp, canceled)
    for op in (Operation.CANCEL_JOB, Operation.RELEASE_JOB, Operation.HOLD_JOB):
        assert refused(ipp(op, job_id=canceled)), op
    assert snapshot(ipp, canceled) == before
    assert ipp(Operation.RESUME_PRINTER).status == Status.SUCCESSFUL_OK
    # A job suspended, then canceled: Resume-Job would take it from 'canceled' back to
    # 'processing' (it answered successful-ok and did so before the state machine).
    data = document(600_000, seed=33)  # 3 s at the emulator's 200 kB/s
    suspended = ipp.print_job(data)
    wait_for(lambda: server.job(suspended)["bytes_sent"] > 0, 10, "printing")
    assert ipp(Operation.SUSPEND_CURRENT_JOB).status == Status.SUCCESSFUL_OK
    ipp.wait_state(suspended, 6)
    assert ipp(Operation.CANCEL_JOB, job_id=suspended).status == Status.SUCCESSFUL_OK
    ipp.wait_state(suspended, 7)
    before = snapshot(ipp, suspended)
    assert refused(ipp(Operation.RESUME_JOB, job_id=suspended))
    assert snapshot(ipp, suspended) == before
    # Nothing asked the model for an illegal change; every change is logged with its cause.
    log = server.log_path.read_text(errors="replace")
    assert "IllegalTransition" not in log
    assert f"job {done}: processing -> completed, completed (job-completed-successfully)" in log
    assert f"job {canceled}: pending -> canceled, canceled (job-canceled-by-user)" in log
