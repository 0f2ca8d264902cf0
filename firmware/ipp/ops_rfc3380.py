"""Set-Printer-Attributes, Set-Job-Attributes and Get-Printer-Supported-Values
(RFC 3380 §4.1, §4.2, §4.3).

Only what the model can honestly change is settable: the printer's descriptive text
(printer-info, -location, -geo-location, -organization) and a waiting job's name,
priority and hold.  Everything else answers client-error-attributes-not-settable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.registry import check
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag
from firmware.ipp.values import Attribute, OutOfBand
from firmware.job import JobState

if TYPE_CHECKING:
    from firmware.ipp.responder import Call, Responder

Handler = Callable[["Responder", "Call"], Awaitable[None]]

#: printer attribute -> Identity field (printer-settable-attributes-supported).
PRINTER_SETTABLE = {
    "printer-info": "info",
    "printer-location": "location",
    "printer-geo-location": "geo_location",
    "printer-organization": "organization",
}
#: job-settable-attributes-supported.
JOB_SETTABLE = ("job-hold-until", "job-name", "job-priority")


def _error(status: Status, message: str, unsupported: list[Attribute] | None = None) -> Exception:
    from firmware.ipp.responder import IppError

    return IppError(status, message, unsupported)


def _text(value: Any) -> str:
    return str(getattr(value, "text", value))


def _settable(group: AttributeGroup | None, allowed: dict[str, str] | tuple[str, ...],
              what: str) -> list[Attribute]:
    if group is None or not group.attributes:
        raise _error(Status.CLIENT_ERROR_BAD_REQUEST, f"no {what} attributes to set")
    refused = [a for a in group.attributes if a.name not in allowed]
    if refused:
        raise _error(Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE,
                     f"not settable: {', '.join(a.name for a in refused)}",
                     [Attribute(a.name, ValueTag.NOT_SETTABLE, [OutOfBand(ValueTag.NOT_SETTABLE)])
                      for a in refused])
    for attr in group.attributes:
        problem = check(attr)
        if problem or len(attr.values) != 1:
            raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                         f"{attr.name}: {problem or 'one value expected'}", [attr])
    return group.attributes


async def set_printer_attributes(r: Responder, call: Call) -> None:
    assert call.printer is not None
    attrs = _settable(call.request.group(DelimiterTag.PRINTER), PRINTER_SETTABLE, "printer")
    values = {}
    for attr in attrs:
        value = _text(attr.value)
        if attr.name == "printer-geo-location" and value and not value.startswith("geo:"):
            raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                         "printer-geo-location must be a geo: URI (RFC 5870)", [attr])
        values[PRINTER_SETTABLE[attr.name]] = value
    await r.system.set_identity(call.printer, **values)


async def set_job_attributes(r: Responder, call: Call) -> None:
    job = call.job
    assert job is not None
    r._check_owner(call, job)
    if job.state not in (JobState.PENDING, JobState.PENDING_HELD):
        raise _error(Status.CLIENT_ERROR_NOT_POSSIBLE,
                     f"job {job.id} is {job.state.keyword}; only waiting jobs can change")
    attrs = _settable(call.request.group(DelimiterTag.JOB), JOB_SETTABLE, "job")
    for attr in attrs:
        if attr.name == "job-name":
            job.name = _text(attr.value)
        elif attr.name == "job-priority":
            if not 1 <= int(attr.value) <= 100:
                raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                             "job-priority must be 1..100", [attr])
            job.attributes["job-priority"] = int(attr.value)
        elif attr.name == "job-hold-until":
            hold = _text(attr.value)
            if hold not in ("no-hold", "indefinite"):
                raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                             f"job-hold-until {hold} is not supported", [attr])
            job.attributes["job-hold-until"] = hold
            if hold == "indefinite" and job.state == JobState.PENDING:
                job.set_state(JobState.PENDING_HELD, "job-hold-until-specified")
            elif hold == "no-hold" and job.state == JobState.PENDING_HELD:
                job.set_state(JobState.PENDING, "job-queued")
    await r.system.job_changed_durable(job)


async def get_printer_supported_values(r: Responder, call: Call) -> None:
    """For each settable attribute, what may be set (RFC 3380 §4.3): free text up to 127
    octets (answered with the attribute's syntax as admin-defined), geo: URIs."""
    assert call.printer is not None
    requested = call.requested()
    group = AttributeGroup(DelimiterTag.PRINTER)
    for name in PRINTER_SETTABLE:
        if requested and name not in requested and "all" not in requested:
            continue
        group.add(name, ValueTag.ADMIN_DEFINE, OutOfBand(ValueTag.ADMIN_DEFINE))
    call.response.groups.append(group)


HANDLERS: dict[int, Handler] = {
    Operation.SET_PRINTER_ATTRIBUTES: set_printer_attributes,
    Operation.SET_JOB_ATTRIBUTES: set_job_attributes,
    Operation.GET_PRINTER_SUPPORTED_VALUES: get_printer_supported_values,
}
JOB_TARGETS = {Operation.SET_JOB_ATTRIBUTES}
