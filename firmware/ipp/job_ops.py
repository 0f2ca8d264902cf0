"""Job operations: creating jobs and receiving their documents, looking at them, and
changing or cancelling them (RFC 8011 §4.2-§4.3, RFC 3380 §4.2, RFC 3998 job
operations, PWG 5100.11 §4).

Each handler reads and changes the printer model through the System; the operation
table (:mod:`firmware.ipp.operations`) says which job or printer it acts on and who may
call it, and the responder has checked both before the handler runs.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.printer_attributes import (
    DOCUMENT_PASSWORD_MAX,
    JOB_SETTABLE,
    MULTIPLE_OPERATION_TIME_OUT,
)
from firmware.ipp.request import (
    Call,
    IppError,
    check_owner,
    copy_attribute,
    settable_attributes,
    text,
)
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag
from firmware.ipp.template import check_template
from firmware.job import Job, JobState

#: which-jobs (RFC 8011 §4.2.6.1; PWG 5100.7 adds the single states) -> the job states.
WHICH_JOBS_STATES: dict[str, set[JobState]] = {
    "completed": {JobState.COMPLETED, JobState.CANCELED, JobState.ABORTED},
    "not-completed": {JobState.PENDING, JobState.PENDING_HELD, JobState.PROCESSING,
                      JobState.PROCESSING_STOPPED},
    "all": set(JobState),
    "proof-print": set(),
    "aborted": {JobState.ABORTED},
    "canceled": {JobState.CANCELED},
    "pending": {JobState.PENDING},
    "pending-held": {JobState.PENDING_HELD},
    "processing": {JobState.PROCESSING},
    "processing-stopped": {JobState.PROCESSING_STOPPED},
}


# ---------------------------------------------------------------------- helpers
def job_group(call: Call, job: Job, requested: list[str] | None) -> AttributeGroup:
    """A job's attributes as the caller may see them: job-privacy-scope 'owner' (PWG
    5100.11 §7.1) shows others only ids and states."""
    private = not (call.ctx.admin or job.user == call.user)
    return call.services.job_attrs.group(call.ctx.host, job, requested, private=private)


def job_summary(call: Call, job: Job) -> None:
    """The job group of Print-Job / Create-Job responses (RFC 8011 §4.2.1.2)."""
    group = job_group(call, job, ["job-id", "job-uri", "job-state", "job-state-reasons",
                                  "job-state-message"])
    call.response.groups.append(group)


def check_format(call: Call) -> tuple[str, str]:
    """document-format and compression, each one the printer supports (RFC 8011
    §4.2.1.1)."""
    assert call.printer is not None
    caps = call.printer.capabilities
    fmt = str(call.value("document-format", "application/octet-stream"))
    if fmt not in caps.formats:
        raise IppError(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                       f"document-format {fmt} is not supported",
                       [copy_attribute(call.op["document-format"])])
    compression = str(call.value("compression", "none"))
    if compression not in ("none", "gzip", "deflate"):
        raise IppError(Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                       f"compression {compression} is not supported",
                       [copy_attribute(call.op["compression"])])
    return fmt, compression


def job_template(call: Call) -> dict[str, Any]:
    """Validate the job template; sets the status for substituted attributes (RFC 8011
    §4.1.7, ipp-attribute-fidelity §4.2.1.1)."""
    assert call.printer is not None
    result = check_template(call.request.group(DelimiterTag.JOB), call.printer.capabilities)
    fidelity = bool(call.value("ipp-attribute-fidelity", False))
    if result.conflicting:
        raise IppError(Status.CLIENT_ERROR_CONFLICTING_ATTRIBUTES,
                       "media and media-col cannot both be given")
    if result.unsupported:
        if fidelity:
            raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                           "unsupported job template attributes", result.unsupported)
        call.response.code = Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
        call.response.groups.append(AttributeGroup(DelimiterTag.UNSUPPORTED, result.unsupported))
    job_name = call.value("job-name")
    if job_name is not None:
        result.accepted["job-name"] = text(job_name)
    return result.accepted


def document_password(call: Call) -> dict[str, Any]:
    """The ``document-password`` operation attribute (PWG 5100.13 §5.1.1: octetString,
    at most ``document-password-supported`` octets) kept with the document, base64 so
    the spool's JSON holds any octets; never returned by a Get operation."""
    attr = call.op.get("document-password")
    if attr is None or not attr.values:
        return {}
    value = attr.values[0]
    raw = value if isinstance(value, bytes) else str(value).encode()
    if len(raw) > DOCUMENT_PASSWORD_MAX:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                       f"document-password is longer than {DOCUMENT_PASSWORD_MAX} octets")
    return {"document-password": base64.b64encode(raw).decode("ascii")}


async def receive_document(call: Call, job: Job, last: bool) -> None:
    """Spool the call's document (decompressed by the responder) as the job's next."""
    fmt, compression = check_format(call)
    assert call.document is not None
    name = call.value("document-name")
    await call.system.add_document(
        job,
        call.document,
        format=fmt,
        name=text(name) if name else job.name,
        last=last,
        attributes=document_password(call),
    )
    job.documents[-1].compression = compression


async def new_job(call: Call, template: dict[str, Any]) -> Job:
    assert call.printer is not None
    name = template.pop("job-name", None) or call.value("document-name") or "Untitled"
    return await call.system.create_job(
        call.printer,
        name=text(name),
        user=call.user,
        host=call.ctx.peer,
        origin="ipp",
        attributes=template,
    )


def schedule_timeout(call: Call, job: Job) -> None:
    """multiple-operation-time-out: a job left open by its client is aborted."""
    system = call.system

    async def expire() -> None:
        last_size = -1
        while job.incoming:
            await asyncio.sleep(MULTIPLE_OPERATION_TIME_OUT)
            if job.incoming and len(job.documents) == last_size:
                await system.abort_incoming(job, "job-data-insufficient")
                return
            last_size = len(job.documents)

    task = asyncio.get_running_loop().create_task(expire())
    system.background.add(task)
    task.add_done_callback(system.background.discard)


def _job(call: Call) -> Job:
    assert call.job is not None
    return call.job


# ---------------------------------------------------------------------- job creation
async def validate_job(call: Call) -> None:
    """Validate-Job (RFC 8011 §4.2.3): Print-Job's checks, no job."""
    check_format(call)
    job_template(call)


async def print_job(call: Call) -> None:
    """Print-Job (RFC 8011 §4.2.1): a job with its one document."""
    check_format(call)
    template = job_template(call)
    job = await new_job(call, template)
    try:
        await receive_document(call, job, last=True)
    except BaseException:
        await call.system.abort_incoming(job)
        raise
    job_summary(call, job)


async def create_job(call: Call) -> None:
    """Create-Job (RFC 8011 §4.2.4): a job whose documents follow by Send-Document."""
    template = job_template(call)
    job = await new_job(call, template)
    job_summary(call, job)
    schedule_timeout(call, job)


async def send_document(call: Call) -> None:
    """Send-Document (RFC 8011 §4.3.1)."""
    job = _job(call)
    last = call.op.get("last-document")
    if last is None or last.tag != ValueTag.BOOLEAN:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing last-document")
    if not job.incoming:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is not waiting for documents")
    check_owner(call, job)
    has_data = bool(call.value("document-format")) or call.body is not None
    if last.value and not has_data:
        await call.system.close_job(job)
    else:
        try:
            await receive_document(call, job, last=bool(last.value))
        except IppError:
            raise
        except BaseException:
            await call.system.abort_incoming(job)
            raise
    job_summary(call, job)


async def close_job(call: Call) -> None:
    """Close-Job (PWG 5100.11 §4.3): no more documents."""
    job = _job(call)
    check_owner(call, job)
    if not job.incoming:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is already closed")
    await call.system.close_job(job)
    job_summary(call, job)


# ---------------------------------------------------------------------- queries
async def get_job_attributes(call: Call) -> None:
    """Get-Job-Attributes (RFC 8011 §4.3.4)."""
    call.response.groups.append(job_group(call, _job(call), call.requested()))


async def get_jobs(call: Call) -> None:
    """Get-Jobs (RFC 8011 §4.2.6; job-ids from PWG 5100.7 §5.2)."""
    assert call.printer is not None
    which = str(call.value("which-jobs", "not-completed"))
    states = WHICH_JOBS_STATES.get(which)
    if states is None:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       f"which-jobs {which} is not supported",
                       [copy_attribute(call.op["which-jobs"])])
    limit = call.value("limit")
    first_index = int(call.value("first-index", 1))
    mine = bool(call.value("my-jobs", False))
    ids_attr = call.op.get("job-ids")
    jobs = list(call.printer.jobs.values())
    if ids_attr is not None:
        wanted = {int(v) for v in ids_attr.values}
        jobs = [j for j in jobs if j.id in wanted]
    else:
        jobs = [j for j in jobs if j.state in states]
    if mine:
        jobs = [j for j in jobs if j.user == call.user]
    # Newest first for completed jobs, oldest first otherwise (RFC 8011 §4.2.6.2).
    if which == "completed":
        jobs.reverse()
    jobs = jobs[max(0, first_index - 1):]
    if limit is not None:
        jobs = jobs[: int(limit)]
    requested = call.requested() or ["job-id", "job-uri"]
    for job in jobs:
        call.response.groups.append(job_group(call, job, requested))


# ---------------------------------------------------------------------- job control
async def cancel_job(call: Call) -> None:
    """Cancel-Job (RFC 8011 §4.3.3)."""
    job = _job(call)
    check_owner(call, job)
    if job.state.terminal:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is already {job.state.keyword}")
    await call.system.cancel_job(job)


def _current_job(call: Call) -> Job:
    """The job printing now, for the RFC 3998 *-Current-Job operations."""
    assert call.printer is not None
    job = call.printer.active_job
    if job is None:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, "no job is printing")
    return job


async def cancel_current_job(call: Call) -> None:
    """Cancel-Current-Job (RFC 3998): the job printing now."""
    await call.system.cancel_job(_current_job(call))


async def cancel_jobs(call: Call) -> None:
    """Cancel-Jobs and Cancel-My-Jobs (PWG 5100.11 §4.1, §4.2)."""
    assert call.printer is not None
    ids_attr = call.op.get("job-ids")
    mine = call.request.code == Operation.CANCEL_MY_JOBS
    if ids_attr is not None:
        jobs = []
        for job_id in ids_attr.values:
            job = call.printer.jobs.get(int(job_id))
            if job is None or job.state.terminal or (mine and job.user != call.user):
                raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                               f"job {job_id} cannot be canceled", [copy_attribute(ids_attr)])
            jobs.append(job)
    else:
        jobs = [j for j in call.printer.active_jobs() if not mine or j.user == call.user]
    for job in jobs:
        await call.system.cancel_job(job)


async def hold_job(call: Call) -> None:
    """Hold-Job (RFC 8011 §4.3.5)."""
    job = _job(call)
    check_owner(call, job)
    if not await call.system.hold_job(job):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is {job.state.keyword} and cannot be held")


async def release_job(call: Call) -> None:
    """Release-Job (RFC 8011 §4.3.6)."""
    job = _job(call)
    check_owner(call, job)
    if not await call.system.release_job(job):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not held")


async def restart_job(call: Call) -> None:
    """Restart-Job (RFC 8011 §4.3.7): print a retained job again."""
    job = _job(call)
    check_owner(call, job)
    if not await call.system.restart_job(job):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is {job.state.keyword} or its documents are gone")


async def reprocess_job(call: Call) -> None:
    """A new job from a retained one (RFC 3998 §4.1; Resubmit-Job adds new template
    values, PWG 5100.11 §4.4)."""
    job = _job(call)
    check_owner(call, job)
    if not job.state.terminal:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} has not finished")
    template = job_template(call) if call.request.code == Operation.RESUBMIT_JOB else {}
    new = await call.system.copy_job(job, template, user=call.user)
    if new is None:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} has no documents left")
    job_summary(call, new)


async def suspend_current_job(call: Call) -> None:
    """Suspend-Current-Job (RFC 3998)."""
    await call.system.suspend_job(_current_job(call))


async def resume_job(call: Call) -> None:
    """Resume-Job (RFC 3998)."""
    job = _job(call)
    check_owner(call, job)
    if await call.system.resume_job(job):
        return
    if job.suspended and job.state.terminal:
        # Canceled or aborted while suspended: finished, it never prints again (RFC 8011
        # §5.3.7), so there is nothing to resume.
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is {job.state.keyword} and cannot be resumed")
    raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not suspended")


async def promote_job(call: Call) -> None:
    """Promote-Job (RFC 3998): print next."""
    job = _job(call)
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not waiting")
    await call.system.move_job(job)


async def schedule_job_after(call: Call) -> None:
    """Schedule-Job-After (RFC 3998)."""
    job = _job(call)
    assert call.printer is not None
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not waiting")
    target_id = call.value("job-id-after")
    target = call.printer.jobs.get(int(target_id)) if target_id is not None else None
    if target_id is not None and (target is None or not target.active):
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"job {target_id} is not queued")
    await call.system.move_job(job, after=target)


async def set_job_attributes(call: Call) -> None:
    """Set-Job-Attributes (RFC 3380 §4.2): a waiting job's name, priority and hold
    (job-settable-attributes-supported); everything else answers
    client-error-attributes-not-settable."""
    job = _job(call)
    check_owner(call, job)
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.id} is {job.state.keyword}; only waiting jobs can change")
    attrs = settable_attributes(call.request.group(DelimiterTag.JOB), JOB_SETTABLE, "job")
    # Every value is checked before anything changes (RFC 3380 §4.2).
    values: dict[str, Any] = {}
    for attr in attrs:
        if attr.name == "job-name":
            values["name"] = text(attr.value)
        elif attr.name == "job-priority":
            if not 1 <= int(attr.value) <= 100:
                raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                               "job-priority must be 1..100", [attr])
            values["priority"] = int(attr.value)
        elif attr.name == "job-hold-until":
            hold = text(attr.value)
            if hold not in ("no-hold", "indefinite"):
                raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                               f"job-hold-until {hold} is not supported", [attr])
            values["hold_until"] = hold
    await call.system.set_job_attributes(job, **values)
