"""The IPP responder: a decoded request in, a response out (RFC 8011 §4).

I/O-free apart from the document stream handed in by the HTTP adapter
(:mod:`firmware.ipp.http`).  This is the IPP server's front desk, as PAPPL's client
file is: it checks the request (RFC 8011 §4.1, in the order the RFC gives the checks),
finds the operation in the operation table (:mod:`firmware.ipp.operations`), resolves
the target the table names, applies the table's access rule (asking for a login where
one is needed), decompresses a document and calls the operation's handler.  The
handlers live with the objects they act on (:mod:`~firmware.ipp.job_ops`,
:mod:`~firmware.ipp.document_ops`, :mod:`~firmware.ipp.printer_ops`,
:mod:`~firmware.ipp.subscription_ops`) and read and change the printer model through
the System, never a copy of it.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from firmware.ipp.codec import AttributeGroup, Message, pre_encode
from firmware.ipp.job_attributes import JobAttributes
from firmware.ipp.operations import TABLE, Access, OperationRow, Target, by_code, supported
from firmware.ipp.printer_attributes import PrinterAttributes
from firmware.ipp.registry import check as check_syntax
from firmware.ipp.registry import make_attribute
from firmware.ipp.request import (
    AuthenticationRequired,
    Body,
    Call,
    IppError,
    RequestContext,
    Services,
    find_subscription,
)
from firmware.ipp.subscriptions import Subscriptions
from firmware.ipp.tags import DelimiterTag, Status, ValueTag
from firmware.printer import Printer
from firmware.system import SpoolFullError, SubmissionError, System

log = logging.getLogger(__name__)

#: An HTTP Host the URIs we report can be built from (RFC 9110 §7.2, RFC 3986 §3.2.2):
#: a DNS name or IPv4 address, or an IPv6 literal in brackets with an optional zone
#: (RFC 6874: ``%25`` + zone; ``%`` alone as clients send it), then an optional port.
URI_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9.])?"
    r"|\[[0-9A-Fa-f:.]{2,45}(?:%(?:25)?[A-Za-z0-9._~-]{1,32})?\])(?::[0-9]{1,5})?")

SUPPORTED_VERSIONS = {(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)}

#: What every response's operation group starts with (RFC 8011 §4.1.4.2), encoded once.
RESPONSE_CHARSET = pre_encode(make_attribute("attributes-charset", "utf-8"))
RESPONSE_LANGUAGE = pre_encode(make_attribute("attributes-natural-language", "en"))


class _PrinterAttributesCache(dict[str, PrinterAttributes]):
    """PrinterAttributes per printer name, made on first use: a printer plugged in after
    start (hotplug, :meth:`System.add_printer`) is served like the others."""

    def __init__(self, system: System, operations: Iterable[int]) -> None:
        super().__init__()
        self.system = system
        self.operations = list(operations)

    def __missing__(self, name: str) -> PrinterAttributes:
        attrs = self[name] = PrinterAttributes(self.system, self.system.printers[name],
                                               self.operations)
        return attrs


class Responder:
    """Answers IPP requests for every printer of a System, by the operation table
    (``operations``: :data:`firmware.ipp.operations.TABLE` but in tests)."""

    def __init__(self, system: System, operations: Iterable[OperationRow] = TABLE) -> None:
        rows = tuple(operations)
        self.system = system
        self.operations = dict(by_code(rows))
        self.printer_attrs = _PrinterAttributesCache(system, supported(rows))
        self.job_attrs = JobAttributes(system)
        self.subscriptions = Subscriptions(system)
        self.services = Services(system, self.printer_attrs, self.job_attrs,
                                 self.subscriptions)

    # ------------------------------------------------------------------ entry points
    @staticmethod
    def error_response(request_id: int, status: Status, message: str,
                       version: tuple[int, int] = (2, 0)) -> Message:
        response = Message(version=version, code=status, request_id=request_id)
        group = response.add_group(DelimiterTag.OPERATION)
        group.append(RESPONSE_CHARSET)
        group.append(RESPONSE_LANGUAGE)
        group.add("status-message", ValueTag.TEXT, message[:255])
        return response

    async def handle(self, request: Message, body: Body | None, ctx: RequestContext) -> Message:
        version = request.version if request.version in SUPPORTED_VERSIONS else (2, 0)
        response = Message(version=version, code=Status.SUCCESSFUL_OK,
                           request_id=request.request_id)
        out = response.add_group(DelimiterTag.OPERATION)
        out.append(RESPONSE_CHARSET)
        out.append(RESPONSE_LANGUAGE)
        call = Call(request, response, ctx, body, self.services)
        try:
            self._check_request(call)
            row = self.operations.get(request.code)
            if row is None:
                raise IppError(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                               f"operation 0x{request.code:04x} is not supported")
            self._resolve_target(call, row.target)
            self._authorize(call, row.access)
            if row.creates_job:
                self._check_accepting(call)
            if row.has_document:
                call.document = document_stream(call.body,
                                                str(call.value("compression", "none")))
            await row.handler(call)
        except IppError as exc:
            response.code = exc.status
            # An error answer carries only the operation group (+ unsupported attributes).
            response.groups = [out]
            if exc.unsupported:
                response.groups.append(AttributeGroup(DelimiterTag.UNSUPPORTED, exc.unsupported))
            if "status-message" not in out:
                out.add("status-message", ValueTag.TEXT, exc.message[:255])
        except SpoolFullError as exc:
            response.code = Status.SERVER_ERROR_NOT_ACCEPTING_JOBS
            response.groups = [out]
            out.add("status-message", ValueTag.TEXT, str(exc)[:255])
        except SubmissionError as exc:
            response.code = Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
            response.groups = [out]
            out.add("status-message", ValueTag.TEXT, str(exc)[:255])
        except OSError as exc:
            # The spool could not take the document (disk full, I/O error): nothing of it
            # was kept, and the client may try again later (RFC 8011 §4.1.6.4).
            log.error("IPP %s: %s", call.request.code, exc)
            response.code = Status.SERVER_ERROR_TEMPORARY_ERROR
            response.groups = [out]
            out.add("status-message", ValueTag.TEXT, f"cannot spool the document: {exc}"[:255])
        except AuthenticationRequired:
            raise
        except Exception:
            log.exception("IPP operation 0x%04x failed", call.request.code)
            response.code = Status.SERVER_ERROR_INTERNAL_ERROR
            response.groups = [out]
            out.add("status-message", ValueTag.TEXT, "internal error")
        return response

    # ------------------------------------------------------------------ RFC 8011 §4.1
    def _check_request(self, call: Call) -> None:
        request = call.request
        if request.version[0] not in (1, 2) or request.version not in SUPPORTED_VERSIONS:
            raise IppError(Status.SERVER_ERROR_VERSION_NOT_SUPPORTED,
                           f"IPP version {request.version[0]}.{request.version[1]} "
                           "is not supported")
        if request.request_id <= 0:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "request-id must be positive")
        if not request.groups or request.groups[0].tag != DelimiterTag.OPERATION:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                           "the operation attributes group must come first")
        if len(request.groups_of(DelimiterTag.OPERATION)) > 1:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "two operation attributes groups")
        attrs = request.groups[0].attributes
        if len(attrs) < 2 or attrs[0].name != "attributes-charset" or (
            attrs[1].name != "attributes-natural-language"
        ):
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                           "attributes-charset and attributes-natural-language must be the "
                           "first two operation attributes")
        for attr in attrs[:2]:
            if len(attr.values) != 1 or check_syntax(attr):
                raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, f"bad {attr.name}")
        charset = str(attrs[0].value).lower()
        if charset not in ("utf-8", "us-ascii"):
            raise IppError(Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED,
                           f"charset {charset} is not supported")
        last = 0
        for group in request.groups:
            if group.tag < last and group.tag != DelimiterTag.SUBSCRIPTION:
                raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "attribute groups out of order")
            last = group.tag
        for attr in request.groups[0].attributes:
            problem = check_syntax(attr)
            if problem:
                raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                               f"operation attribute {attr.name}: {problem}")
        if not URI_HOST.fullmatch(call.ctx.host):
            # Every URI we answer with is built from it (printer-uri-supported, job-uri,
            # printer-icons ...): a Host that is not host[:port] would forge them.
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                           "the HTTP Host is not a host name or address with a port")

    def _resolve_target(self, call: Call, target: Target) -> None:
        """printer-uri (+ job-id) or job-uri → the printer and job (RFC 8011 §4.1.5);
        notify-subscription-id → the subscription (RFC 3995)."""
        op = call.op
        needs_job = target is Target.JOB
        uri_attr = op.get("printer-uri")
        job_uri = op.get("job-uri")
        if uri_attr is None and job_uri is None:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing printer-uri")
        uri = str((uri_attr or job_uri).value)  # type: ignore[union-attr]
        path = unquote(urlsplit(uri).path).rstrip("/")
        job_id: int | None = None
        if job_uri is not None and uri_attr is None:
            head, _, tail = path.rpartition("/")
            if not tail.isdigit():
                raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"no such job {uri}")
            path, job_id = head, int(tail)
        printer = self._printer_for_path(path)
        if printer is None:
            raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"no printer at {uri}")
        call.printer = printer
        if needs_job:
            if job_id is None:
                attr = op.get("job-id")
                if attr is None:
                    raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing job-id")
                if attr.tag != ValueTag.INTEGER or len(attr.values) != 1:
                    raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "bad job-id")
                job_id = int(attr.value)
            job = printer.jobs.get(job_id)
            if job is None:
                raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"job {job_id} does not exist")
            call.job = job
        if target is Target.SUBSCRIPTION:
            attr = op.get("notify-subscription-id")
            if attr is None:
                raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-id")
            call.subscription = find_subscription(call, attr.value)

    def _printer_for_path(self, path: str) -> Printer | None:
        """The printer at an IPP resource; case does not matter (see System.printer)."""
        folded = path.casefold()
        if folded in ("/ipp/print", ""):
            return self.system.default_printer
        if folded.startswith("/ipp/print/"):
            return self.system.printer(path[len("/ipp/print/"):])
        return None

    # ------------------------------------------------------------------ access
    @staticmethod
    def _authorize(call: Call, access: Access) -> None:
        """Admin operations need the admin group; printing on an 'authenticated' printer
        needs a login (RFC 8011 §5.4.3, uri-authentication-supported).  The owner of a
        job is checked by the handler (:func:`firmware.ipp.request.check_owner`)."""
        assert call.printer is not None
        if access is Access.ADMIN and not call.ctx.admin:
            if call.ctx.authenticated_user:
                raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                               f"{call.ctx.authenticated_user} is not an administrator")
            raise AuthenticationRequired
        if (access.needs_login_when_authenticated
                and call.printer.auth_policy == "authenticated"
                and not call.ctx.authenticated_user):
            raise AuthenticationRequired

    @staticmethod
    def _check_accepting(call: Call) -> None:
        """A new job needs printer-is-accepting-jobs (RFC 8011 §4.2.1)."""
        assert call.printer is not None
        if not call.printer.accepting_jobs:
            raise IppError(Status.SERVER_ERROR_NOT_ACCEPTING_JOBS, "printer is not accepting jobs")


async def document_stream(body: Body | None, compression: str) -> AsyncIterator[bytes]:
    """The document bytes after HTTP decoding, decompressed per IPP ``compression``
    (RFC 8011 §4.2.1.1; the handler has checked the value before it reads)."""
    if body is None:
        return
    if compression == "none":
        async for chunk in body:
            yield chunk
        return
    decomp: Any = None
    async for chunk in body:
        if decomp is None:
            # gzip has its own header; 'deflate' may arrive raw (RFC 1951, as CUPS
            # sends it) or zlib-wrapped (RFC 1950): look at the first bytes.
            if compression == "gzip":
                wbits = 31
            else:
                zlib_header = len(chunk) >= 2 and (chunk[0] & 0x0F) == 8 and (
                    (chunk[0] << 8 | chunk[1]) % 31 == 0)
                wbits = 15 if zlib_header else -15
            decomp = zlib.decompressobj(wbits)
        try:
            data = decomp.decompress(chunk)
        except zlib.error as exc:
            raise IppError(Status.CLIENT_ERROR_COMPRESSION_ERROR,
                           f"{compression} data is corrupt: {exc}") from None
        if data:
            yield data
    if decomp is not None:
        tail = decomp.flush()
        if tail:
            yield tail
        if not decomp.eof:
            raise IppError(Status.CLIENT_ERROR_COMPRESSION_ERROR,
                           f"{compression} data is truncated")
