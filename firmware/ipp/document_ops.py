"""Document operations: Get-Documents, Get-Document-Attributes, Cancel-Document and
Set-Document-Attributes (PWG 5100.5 §5), on the documents of the target job."""

from __future__ import annotations

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.printer_attributes import ipp_datetime
from firmware.ipp.request import Call, IppError, check_owner, not_settable
from firmware.ipp.tags import DelimiterTag, Status, ValueTag
from firmware.ipp.values import OutOfBand
from firmware.job import Document, Job, JobState

#: document-state (PWG 5100.5 §7.1.13) mirrors job-state values.
PENDING, PROCESSING, CANCELED, ABORTED, COMPLETED = 3, 5, 7, 8, 9


def document_state(job: Job, doc: Document) -> int:
    if doc.canceled:
        return CANCELED
    if job.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
        return PROCESSING
    if job.state.terminal:
        return {JobState.COMPLETED: COMPLETED, JobState.CANCELED: CANCELED}.get(job.state, ABORTED)
    return PENDING


def document_group(call: Call, job: Job, doc: Document,
                   requested: list[str] | None) -> AttributeGroup:
    """A document's description attributes (PWG 5100.5)."""
    host = call.ctx.host
    system = call.system
    state = document_state(job, doc)
    values: list[tuple[str, ValueTag, object]] = [
        ("document-number", ValueTag.INTEGER, doc.number),
        ("document-job-id", ValueTag.INTEGER, job.id),
        ("document-job-uri", ValueTag.URI, call.services.job_attrs.job_uri(host, job)),
        ("document-printer-uri", ValueTag.URI,
         f"ipp://{host}{system.printer_path(system.printers[job.printer])}"),
        ("document-state", ValueTag.ENUM, state),
        ("document-state-reasons", ValueTag.KEYWORD,
         ["document-canceled"] if doc.canceled else ["none"]),
        ("document-name", ValueTag.NAME, doc.name or job.name),
        ("document-format", ValueTag.MIME_MEDIA_TYPE, doc.format),
        ("compression", ValueTag.KEYWORD, doc.compression),
        ("k-octets", ValueTag.INTEGER, (doc.size + 1023) // 1024),
        ("date-time-at-creation", ValueTag.DATE_TIME, ipp_datetime(job.created)),
        ("time-at-creation", ValueTag.INTEGER, system.up_time(job.created)),
        ("printer-up-time", ValueTag.INTEGER, system.up_time()),
    ]
    if state == COMPLETED and job.completed_at:
        values.append(("time-at-completed", ValueTag.INTEGER, system.up_time(job.completed_at)))
    else:
        values.append(("time-at-completed", ValueTag.NO_VALUE, OutOfBand(ValueTag.NO_VALUE)))
    names = set(requested or ["all"])
    group = AttributeGroup(DelimiterTag.DOCUMENT)
    for name, tag, value in values:
        if "all" in names or "document-description" in names or name in names:
            group.add(name, tag, value)
    return group


def _document(call: Call) -> tuple[Job, Document]:
    """The target job's document named by document-number."""
    job = call.job
    assert job is not None
    number = call.value("document-number")
    if number is None:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing document-number")
    for doc in job.documents:
        if doc.number == int(number):
            return job, doc
    raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"job {job.id} has no document {number}")


async def get_documents(call: Call) -> None:
    """Get-Documents (PWG 5100.5): the job's documents, in order."""
    job = call.job
    assert job is not None
    limit = call.value("limit")
    docs = job.documents[: int(limit)] if limit is not None else job.documents
    requested = call.requested() or ["document-number"]
    for doc in docs:
        call.response.groups.append(document_group(call, job, doc, requested))


async def get_document_attributes(call: Call) -> None:
    """Get-Document-Attributes (PWG 5100.5): one document, by document-number."""
    job, doc = _document(call)
    call.response.groups.append(document_group(call, job, doc, call.requested()))


async def cancel_document(call: Call) -> None:
    """Only documents that have not started printing can be canceled; canceling the last
    one cancels the job (PWG 5100.5 §5.1)."""
    job, doc = _document(call)
    check_owner(call, job)
    if doc.canceled or job.state.terminal or job.state in (JobState.PROCESSING,
                                                            JobState.PROCESSING_STOPPED):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"document {doc.number} of job {job.id} can no longer be canceled")
    doc.canceled = True
    if not job.printable_documents() and not job.incoming:
        await call.system.cancel_job(job)
    else:
        await call.system.job_changed_durable(job)


async def set_document_attributes(call: Call) -> None:
    """No document attribute is settable on this printer (document-settable-attributes-
    supported is 'none'), so every attempt gets the RFC 3380 answer."""
    _document(call)
    group = call.request.group(DelimiterTag.DOCUMENT)
    refused = group.attributes if group else []
    raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE, "no document attribute is settable",
                   [not_settable(a) for a in refused])

