"""Job attributes (RFC 8011 §5.3, PWG 5100.7), read from the :class:`~firmware.job.Job`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.printer_attributes import ipp_datetime
from firmware.ipp.registry import make_attribute
from firmware.ipp.tags import DelimiterTag, ValueTag
from firmware.ipp.template import CHECKS, ipp_value
from firmware.ipp.values import OutOfBand
from firmware.job import Job, JobState

if TYPE_CHECKING:
    from firmware.system import System

NO_VALUE = OutOfBand(ValueTag.NO_VALUE)

#: Job template attributes echoed back as the job's own values (RFC 8011 §5.2): the ones
#: the template checks accept.
TEMPLATE_ECHO = tuple(CHECKS)

#: Job description attributes (the 'job-description' group of requested-attributes).
DESCRIPTION = frozenset(
    {
        "job-id", "job-uri", "job-uuid", "job-printer-uri", "job-name", "job-state",
        "job-state-reasons", "job-state-message", "job-originating-user-name",
        "job-originating-host-name", "job-printer-up-time", "time-at-creation",
        "time-at-processing", "time-at-completed", "date-time-at-creation",
        "date-time-at-processing", "date-time-at-completed", "job-k-octets",
        "job-k-octets-processed", "job-impressions", "job-impressions-completed",
        "job-media-sheets", "job-media-sheets-completed",
        "number-of-documents", "document-format-supplied", "document-name-supplied",
        "compression-supplied", "job-more-info", "job-account-id",
    }
)


#: job-privacy-attributes 'default' (PWG 5100.11 §7.1.1): what only the owner sees.
PRIVATE = frozenset({"job-name", "job-originating-user-name", "job-originating-host-name",
                     "document-name-supplied", "job-more-info"})


class JobAttributes:
    def __init__(self, system: System) -> None:
        self.system = system

    def job_uri(self, host: str, job: Job) -> str:
        printer = self.system.printers[job.printer]
        return f"ipp://{host}{self.system.printer_path(printer)}/{job.id}"

    def values(self, host: str, job: Job) -> Iterable[tuple[str, Any]]:
        printer = self.system.printers[job.printer]
        up = self.system.up_time
        yield "job-id", job.id
        yield "job-uri", self.job_uri(host, job)
        yield "job-uuid", f"urn:uuid:{_job_uuid(printer.uuid, job.id)}"
        yield "job-printer-uri", f"ipp://{host}{self.system.printer_path(printer)}"
        yield "job-name", job.name
        yield "job-originating-user-name", job.user
        if job.host:
            yield "job-originating-host-name", job.host
        yield "job-state", int(job.state)
        yield "job-state-reasons", job.reasons
        yield "job-state-message", job.message or job.state.keyword
        yield "job-printer-up-time", up()
        yield "time-at-creation", up(job.created)
        yield "time-at-processing", up(job.processing_at) if job.processing_at else NO_VALUE
        yield "time-at-completed", up(job.completed_at) if job.completed_at else NO_VALUE
        yield "date-time-at-creation", ipp_datetime(job.created)
        yield "date-time-at-processing", (
            ipp_datetime(job.processing_at) if job.processing_at else NO_VALUE)
        yield "date-time-at-completed", (
            ipp_datetime(job.completed_at) if job.completed_at else NO_VALUE)
        yield "job-k-octets", (job.size + 1023) // 1024
        yield "job-k-octets-processed", (job.bytes_sent + 1023) // 1024
        # The job's size in impressions and sheets (RFC 8011 §5.3.17.2-3) is known once
        # it has been converted and printed; until then 'no-value' says so (the
        # self-certification's I-13.1 and I-14 accept integer|no-value from creation on).
        finished = job.state == JobState.COMPLETED
        yield "job-impressions", job.impressions if finished else NO_VALUE
        yield "job-impressions-completed", job.impressions
        yield "job-media-sheets", job.sheets if finished else NO_VALUE
        yield "job-media-sheets-completed", job.sheets
        yield "number-of-documents", len(job.documents)
        yield "job-more-info", f"http://{host}/jobs/{job.id}"
        if job.documents:
            yield "document-format-supplied", job.documents[0].format
            if job.documents[0].name:
                yield "document-name-supplied", job.documents[0].name
            yield "compression-supplied", job.documents[0].compression
        for name in TEMPLATE_ECHO:
            if name in job.attributes:
                yield name, ipp_value(name, job.attributes[name])

    def group(self, host: str, job: Job, requested: list[str] | None, *,
              private: bool = False) -> AttributeGroup:
        """The job's attributes filtered by requested-attributes (RFC 8011 §4.3.4.1);
        ``private`` leaves out what job-privacy-attributes 'default' hides from others."""
        names = set(requested or ["all"])
        everything = "all" in names
        description = "job-description" in names
        template = "job-template" in names
        group = AttributeGroup(DelimiterTag.JOB)
        for name, value in self.values(host, job):
            if private and name in PRIVATE:
                continue
            if (everything or name in names or (description and name in DESCRIPTION)
                    or (template and name in TEMPLATE_ECHO)):
                if isinstance(value, OutOfBand):
                    group.add(name, value.tag, value)
                else:
                    group.append(make_attribute(name, value))
        return group


def _job_uuid(printer_uuid: str, job_id: int) -> str:
    import uuid

    return str(uuid.uuid5(uuid.UUID(printer_uuid.removeprefix("urn:uuid:")), str(job_id)))
