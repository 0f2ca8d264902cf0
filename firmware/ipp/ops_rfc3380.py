"""Set-Printer-Attributes, Set-Job-Attributes and Get-Printer-Supported-Values
(RFC 3380 §4.1, §4.2, §4.3).

Only what the model can honestly change is settable: the printer's descriptive text
(printer-info, -location, -geo-location, -organization), the paper loaded in its trays
(media-ready, RFC 8011 §5.2.11; media-col-ready, PWG 5100.7 §6.3 -- a printer cannot
sense paper sizes, so the administrator says, and clients such as iOS offer only the
sizes ready) and a waiting job's name, priority and hold.  Everything else answers
client-error-attributes-not-settable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.registry import check, make_attribute
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag
from firmware.ipp.values import Attribute, Collection, OutOfBand
from firmware.job import JobState
from firmware.media import find_media

if TYPE_CHECKING:
    from firmware.ipp.responder import Call, Responder
    from firmware.printer import Printer

Handler = Callable[["Responder", "Call"], Awaitable[None]]

#: printer attribute -> Identity field (printer-settable-attributes-supported).
PRINTER_SETTABLE = {
    "printer-info": "info",
    "printer-location": "location",
    "printer-geo-location": "geo_location",
    "printer-organization": "organization",
}
#: The paper loaded, per tray (firmware.system.System.set_media_ready).
MEDIA_SETTABLE = ("media-col-ready", "media-ready")
#: printer-settable-attributes-supported (RFC 3380 §4.1).
PRINTER_SETTABLE_ATTRIBUTES = sorted([*PRINTER_SETTABLE, *MEDIA_SETTABLE])
#: job-settable-attributes-supported.
JOB_SETTABLE = ("job-hold-until", "job-name", "job-priority")


def _error(status: Status, message: str, unsupported: list[Attribute] | None = None) -> Exception:
    from firmware.ipp.responder import IppError

    return IppError(status, message, unsupported)


def _text(value: Any) -> str:
    return str(getattr(value, "text", value))


def _settable(group: AttributeGroup | None, allowed: dict[str, str] | tuple[str, ...],
              what: str, sets: tuple[str, ...] = ()) -> list[Attribute]:
    """The attributes of a Set-*-Attributes request, each settable and well-formed;
    only the names in ``sets`` may carry several values."""
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
        if problem or (len(attr.values) != 1 and attr.name not in sets):
            raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                         f"{attr.name}: {problem or 'one value expected'}", [attr])
    return group.attributes


async def set_printer_attributes(r: Responder, call: Call) -> None:
    """RFC 3380 §4.1: every attribute is checked before anything changes; a value the
    printer does not support is refused with client-error-attributes-or-values-not-
    supported, the attribute returned in the unsupported-attributes group."""
    assert call.printer is not None
    attrs = _settable(call.request.group(DelimiterTag.PRINTER),
                      (*PRINTER_SETTABLE, *MEDIA_SETTABLE), "printer", MEDIA_SETTABLE)
    values = {}
    ready: dict[str, str] = {}
    types: dict[str, str] = {}
    for attr in attrs:
        if attr.name == "media-ready":
            ready.update(_media_ready(call.printer, attr))
            continue
        if attr.name == "media-col-ready":
            media, kinds = _media_col_ready(call.printer, attr)
            ready.update(media)
            types.update(kinds)
            continue
        value = _text(attr.value)
        if attr.name == "printer-geo-location" and value and not value.startswith("geo:"):
            raise _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                         "printer-geo-location must be a geo: URI (RFC 5870)", [attr])
        values[PRINTER_SETTABLE[attr.name]] = value
    if ready or types:
        await r.system.set_media_ready(call.printer, ready, types)
    if values:
        await r.system.set_identity(call.printer, **values)


def _unsupported(attr: Attribute, message: str) -> Exception:
    return _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                  f"{attr.name}: {message}", [attr])


def _media_ready(printer: Printer, attr: Attribute) -> dict[str, str]:
    """media-ready (RFC 8011 §5.2.11): one media name per tray, in the order of
    media-source-supported (the trays); more names than trays are refused."""
    if len(attr.values) > len(printer.trays):
        raise _unsupported(attr, f"{len(attr.values)} values for {len(printer.trays)} "
                                 f"tray(s)")
    ready = {}
    for tray, value in zip(printer.trays, attr.values, strict=False):
        media = _text(value)
        try:
            printer.check_ready(tray.source, media)
        except ValueError as exc:
            raise _unsupported(attr, str(exc)) from None
        ready[tray.source] = media
    return ready


def _media_col_ready(printer: Printer, attr: Attribute
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """media-col-ready (PWG 5100.7 §6.3 media-col): per collection the tray
    (media-source; without it the trays in order), the size (media-size-name, or
    media-size matched to a supported size within 1 mm) and optionally media-type."""
    if len(attr.values) > len(printer.trays):
        raise _unsupported(attr, f"{len(attr.values)} values for {len(printer.trays)} "
                                 f"tray(s)")
    caps = printer.capabilities
    ready: dict[str, str] = {}
    types: dict[str, str] = {}
    for tray, col in zip(printer.trays, attr.values, strict=False):
        if not isinstance(col, Collection):
            raise _unsupported(attr, "a media-col collection expected")
        source = _text(col.value("media-source", tray.source))
        media = col.value("media-size-name")
        size = col.value("media-size")
        if media is None and isinstance(size, Collection):
            x, y = size.value("x-dimension"), size.value("y-dimension")
            if isinstance(x, int) and isinstance(y, int):
                media = find_media(x, y, caps.media)
                if media is None:
                    raise _unsupported(attr, f"no supported size is {x / 100:g} x "
                                             f"{y / 100:g} mm")
        if media is None:
            raise _unsupported(attr, "media-size or media-size-name expected")
        media_type = col.value("media-type")
        kind = None if media_type is None else _text(media_type)
        try:
            printer.check_ready(source, _text(media), kind)
        except ValueError as exc:
            raise _unsupported(attr, str(exc)) from None
        if source in ready:
            raise _unsupported(attr, f"tray {source} named twice")
        ready[source] = _text(media)
        if kind is not None:
            types[source] = kind
    return ready, types


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
    octets (answered with the attribute's syntax as admin-defined), geo: URIs; for the
    paper loaded, the sizes the driver prints (media-ready) and their media-col per tray
    and type (media-col-ready)."""
    from firmware.ipp.printer_attributes import media_col

    assert call.printer is not None
    caps = call.printer.capabilities
    requested = call.requested()
    group = AttributeGroup(DelimiterTag.PRINTER)
    for name in PRINTER_SETTABLE_ATTRIBUTES:
        if requested and name not in requested and "all" not in requested:
            continue
        if name == "media-ready":
            group.add(name, ValueTag.KEYWORD, list(caps.media))
        elif name == "media-col-ready":
            group.append(make_attribute(name, [
                media_col(caps, m, t.source, kind) for t in call.printer.trays
                for m in caps.media for kind in caps.media_types]))
        else:
            group.add(name, ValueTag.ADMIN_DEFINE, OutOfBand(ValueTag.ADMIN_DEFINE))
    call.response.groups.append(group)


HANDLERS: dict[int, Handler] = {
    Operation.SET_PRINTER_ATTRIBUTES: set_printer_attributes,
    Operation.SET_JOB_ATTRIBUTES: set_job_attributes,
    Operation.GET_PRINTER_SUPPORTED_VALUES: get_printer_supported_values,
}
JOB_TARGETS = {Operation.SET_JOB_ATTRIBUTES}
