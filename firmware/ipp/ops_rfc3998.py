"""Job and printer administration operations: RFC 3998 (Enable/Disable-Printer,
Pause-Printer-After-Current-Job, Restart/Shutdown/Startup-Printer, Reprocess-Job,
Suspend-Current-Job, Resume-Job, Promote-Job, Schedule-Job-After), RFC 8011 §4.3.7
Restart-Job and PWG 5100.11 §4.4 Resubmit-Job.

Each handler reads and changes the printer model through the System.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from firmware.ipp.tags import Operation, Status
from firmware.job import Job, JobState

if TYPE_CHECKING:
    from firmware.ipp.responder import Call, Responder

Handler = Callable[["Responder", "Call"], Awaitable[None]]


def _error(status: Status, message: str) -> Exception:
    from firmware.ipp.responder import IppError

    return IppError(status, message)


async def enable_printer(r: Responder, call: Call) -> None:
    assert call.printer is not None
    await r.system.set_accepting(call.printer, True)


async def disable_printer(r: Responder, call: Call) -> None:
    assert call.printer is not None
    await r.system.set_accepting(call.printer, False)


async def pause_after_current_job(r: Responder, call: Call) -> None:
    # The worker only stops between jobs, so a pause always waits for the current job.
    assert call.printer is not None
    await r.system.set_paused(call.printer, True)


async def shutdown_printer(r: Responder, call: Call) -> None:
    """Stop accepting and printing; queued jobs stay (RFC 3998 §3.1.4)."""
    assert call.printer is not None
    await r.system.set_accepting(call.printer, False)
    await r.system.set_paused(call.printer, True)


async def startup_printer(r: Responder, call: Call) -> None:
    assert call.printer is not None
    await r.system.set_paused(call.printer, False)
    await r.system.set_accepting(call.printer, True)


async def restart_printer(r: Responder, call: Call) -> None:
    """Reinitialise: re-read the port's status and resume (RFC 3998 §3.1.3)."""
    assert call.printer is not None
    await startup_printer(r, call)
    r.system.workers[call.printer.name].request_poll()


def _job(call: Call) -> Job:
    assert call.job is not None
    return call.job


async def restart_job(r: Responder, call: Call) -> None:
    job = _job(call)
    r._check_owner(call, job)
    if not await r.system.restart_job(job):
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE,
                     f"job {job.id} is {job.state.keyword} or its documents are gone")


async def reprocess_job(r: Responder, call: Call) -> None:
    """A new job from a retained one (RFC 3998 §4.1; Resubmit-Job adds new template
    values, PWG 5100.11 §4.4)."""
    job = _job(call)
    r._check_owner(call, job)
    if not job.state.terminal:
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} has not finished")
    template = r._job_template(call) if call.request.code == Operation.RESUBMIT_JOB else {}
    new = await r.system.copy_job(job, template, user=call.user)
    if new is None:
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} has no documents left")
    r._job_summary(call, new)


async def suspend_current_job(r: Responder, call: Call) -> None:
    assert call.printer is not None
    job = call.printer.active_job
    if job is None:
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, "no job is printing")
    job.suspended = True
    job.set_state(JobState.PROCESSING_STOPPED, "job-suspended")
    await r.system.job_changed_durable(job)


async def resume_job(r: Responder, call: Call) -> None:
    job = _job(call)
    r._check_owner(call, job)
    if not job.suspended:
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not suspended")
    job.suspended = False
    job.set_state(JobState.PROCESSING, "job-printing")
    await r.system.job_changed_durable(job)


async def promote_job(r: Responder, call: Call) -> None:
    job = _job(call)
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not waiting")
    r.system.move_job(job)
    await r.system.save_job(job)


async def schedule_job_after(r: Responder, call: Call) -> None:
    job = _job(call)
    assert call.printer is not None
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not waiting")
    target_id = call.value("job-id-after")
    target = call.printer.jobs.get(int(target_id)) if target_id is not None else None
    if target_id is not None and (target is None or not target.active):
        raise _error(Status.CLIENT_ERROR_NOT_FOUND, f"job {target_id} is not queued")
    r.system.move_job(job, after=target)
    for queued in call.printer.active_jobs():
        await r.system.save_job(queued)


HANDLERS: dict[int, Handler] = {
    Operation.ENABLE_PRINTER: enable_printer,
    Operation.DISABLE_PRINTER: disable_printer,
    Operation.PAUSE_PRINTER_AFTER_CURRENT_JOB: pause_after_current_job,
    Operation.RESTART_PRINTER: restart_printer,
    Operation.SHUTDOWN_PRINTER: shutdown_printer,
    Operation.STARTUP_PRINTER: startup_printer,
    Operation.RESTART_JOB: restart_job,
    Operation.REPROCESS_JOB: reprocess_job,
    Operation.RESUBMIT_JOB: reprocess_job,
    Operation.SUSPEND_CURRENT_JOB: suspend_current_job,
    Operation.RESUME_JOB: resume_job,
    Operation.PROMOTE_JOB: promote_job,
    Operation.SCHEDULE_JOB_AFTER: schedule_job_after,
}

#: Operations that act on one job (the target needs job-id or job-uri).
JOB_TARGETS = {Operation.RESTART_JOB, Operation.REPROCESS_JOB, Operation.RESUBMIT_JOB,
               Operation.RESUME_JOB, Operation.PROMOTE_JOB, Operation.SCHEDULE_JOB_AFTER}
