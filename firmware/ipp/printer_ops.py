"""Printer operations: the printer's attributes, queue control and administration
(RFC 8011 §4.2.5, §4.2.7-§4.2.9; RFC 3998 printer operations; RFC 3380 §4.1, §4.3;
PWG 5100.13 Identify-Printer).

Only what the model can honestly change is settable by Set-Printer-Attributes: the
printer's descriptive text (printer-info, -location, -geo-location, -organization) and
the paper loaded in its trays (media-ready, RFC 8011 §5.2.11; media-col-ready, PWG
5100.7 §6.3 -- a printer cannot sense paper sizes, so the administrator says, and
clients such as iOS offer only the sizes ready).  Everything else answers
client-error-attributes-not-settable.

Each handler reads and changes the printer model through the System.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from firmware.ipp.codec import AttributeGroup
from firmware.ipp.printer_attributes import (
    MEDIA_SETTABLE,
    PRINTER_SETTABLE,
    PRINTER_SETTABLE_ATTRIBUTES,
    media_col,
)
from firmware.ipp.registry import make_attribute
from firmware.ipp.request import Call, IppError, copy_attribute, settable_attributes, text
from firmware.ipp.tags import DelimiterTag, Status, ValueTag
from firmware.ipp.values import Attribute, Collection, OutOfBand
from firmware.media import find_media

if TYPE_CHECKING:
    from firmware.printer import Printer

log = logging.getLogger(__name__)


def _printer(call: Call) -> Printer:
    assert call.printer is not None
    return call.printer


# ---------------------------------------------------------------------- queries
async def get_printer_attributes(call: Call) -> None:
    """Get-Printer-Attributes (RFC 8011 §4.2.5)."""
    # A document-format we cannot print gets the general answer, as CUPS's suites
    # expect (RFC 8011 §4.2.5.1 leaves the choice to the printer).
    attrs = call.services.printer_attrs[_printer(call).name]
    call.response.groups.append(attrs.for_request(call.ctx.host, call.requested()))


async def get_printer_supported_values(call: Call) -> None:
    """For each settable attribute, what may be set (RFC 3380 §4.3): free text up to 127
    octets (answered with the attribute's syntax as admin-defined), geo: URIs; for the
    paper loaded, the sizes the driver prints (media-ready) and their media-col per tray
    and type (media-col-ready)."""
    printer = _printer(call)
    caps = printer.capabilities
    requested = call.requested()
    group = AttributeGroup(DelimiterTag.PRINTER)
    for name in PRINTER_SETTABLE_ATTRIBUTES:
        if requested and name not in requested and "all" not in requested:
            continue
        if name == "media-ready":
            group.add(name, ValueTag.KEYWORD, list(caps.media))
        elif name == "media-col-ready":
            group.append(make_attribute(name, [
                media_col(caps, m, t.source, kind) for t in printer.trays
                for m in caps.media for kind in caps.media_types]))
        else:
            group.add(name, ValueTag.ADMIN_DEFINE, OutOfBand(ValueTag.ADMIN_DEFINE))
    call.response.groups.append(group)


# ---------------------------------------------------------------------- queue control
async def pause_printer(call: Call) -> None:
    """Pause-Printer (RFC 8011 §4.2.7)."""
    await call.system.set_paused(_printer(call), True)


async def resume_printer(call: Call) -> None:
    """Resume-Printer (RFC 8011 §4.2.8)."""
    await call.system.set_paused(_printer(call), False)


async def purge_jobs(call: Call) -> None:
    """Purge-Jobs (RFC 8011 §4.2.9): cancel every job and forget them all."""
    await call.system.purge_jobs(_printer(call))


async def hold_new_jobs(call: Call) -> None:
    """Hold-New-Jobs (RFC 3998 §3.3.1); saved, survives a restart."""
    await call.system.set_hold_new_jobs(_printer(call), True)


async def release_held_new_jobs(call: Call) -> None:
    """Release-Held-New-Jobs (RFC 3998 §3.3.2)."""
    await call.system.set_hold_new_jobs(_printer(call), False)


async def enable_printer(call: Call) -> None:
    """Enable-Printer (RFC 3998): accept jobs."""
    await call.system.set_accepting(_printer(call), True)


async def disable_printer(call: Call) -> None:
    """Disable-Printer (RFC 3998): refuse new jobs."""
    await call.system.set_accepting(_printer(call), False)


async def pause_after_current_job(call: Call) -> None:
    """Pause-Printer-After-Current-Job (RFC 3998)."""
    # The worker only stops between jobs, so a pause always waits for the current job.
    await call.system.set_paused(_printer(call), True)


async def shutdown_printer(call: Call) -> None:
    """Stop accepting and printing; queued jobs stay (RFC 3998 §3.1.4)."""
    await call.system.shutdown_printer(_printer(call))


async def startup_printer(call: Call) -> None:
    """Startup-Printer (RFC 3998): print and accept again."""
    await call.system.startup_printer(_printer(call))


async def restart_printer(call: Call) -> None:
    """Reinitialise: re-read the port's status and resume (RFC 3998 §3.1.3)."""
    await call.system.restart_printer(_printer(call))


async def identify_printer(call: Call) -> None:
    """Identify-Printer (PWG 5100.13 §5.3): flash the LED / show a message."""
    actions = call.op.get("identify-actions")
    try:
        call.system.identify(_printer(call),
                             None if actions is None else [str(a) for a in actions.values],
                             call.value("message") or "")
    except ValueError:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       "unsupported identify-actions", [copy_attribute(actions)]) from None


# ---------------------------------------------------------------------- RFC 3380
async def set_printer_attributes(call: Call) -> None:
    """RFC 3380 §4.1: every attribute is checked before anything changes; a value the
    printer does not support is refused with client-error-attributes-or-values-not-
    supported, the attribute returned in the unsupported-attributes group."""
    printer = _printer(call)
    attrs = settable_attributes(call.request.group(DelimiterTag.PRINTER),
                                (*PRINTER_SETTABLE, *MEDIA_SETTABLE), "printer", MEDIA_SETTABLE)
    values = {}
    ready: dict[str, str] = {}
    types: dict[str, str] = {}
    for attr in attrs:
        if attr.name == "media-ready":
            ready.update(_media_ready(printer, attr))
            continue
        if attr.name == "media-col-ready":
            media, kinds = _media_col_ready(printer, attr)
            ready.update(media)
            types.update(kinds)
            continue
        value = text(attr.value)
        if attr.name == "printer-geo-location" and value and not value.startswith("geo:"):
            raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                           "printer-geo-location must be a geo: URI (RFC 5870)", [attr])
        values[PRINTER_SETTABLE[attr.name]] = value
    if ready or types:
        await call.system.set_media_ready(printer, ready, types)
    if values:
        await call.system.set_identity(printer, **values)


def _unsupported(attr: Attribute, message: str) -> IppError:
    return IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                    f"{attr.name}: {message}", [attr])


def _media_ready(printer: Printer, attr: Attribute) -> dict[str, str]:
    """media-ready (RFC 8011 §5.2.11): one media name per tray, in the order of
    media-source-supported (the trays); more names than trays are refused."""
    if len(attr.values) > len(printer.trays):
        raise _unsupported(attr, f"{len(attr.values)} values for {len(printer.trays)} "
                                 f"tray(s)")
    ready = {}
    for tray, value in zip(printer.trays, attr.values, strict=False):
        media = text(value)
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
        source = text(col.value("media-source", tray.source))
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
        kind = None if media_type is None else text(media_type)
        try:
            printer.check_ready(source, text(media), kind)
        except ValueError as exc:
            raise _unsupported(attr, str(exc)) from None
        if source in ready:
            raise _unsupported(attr, f"tray {source} named twice")
        ready[source] = text(media)
        if kind is not None:
            types[source] = kind
    return ready, types
