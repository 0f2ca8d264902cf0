"""The IPP responder: a decoded request in, a response out (RFC 8011 §4).

I/O-free apart from the document stream handed in by the HTTP adapter
(:mod:`firmware.ipp.http`).  Request checks follow RFC 8011 §4.1 in the order the RFC
gives them; every operation handler reads and changes the printer model through the
System, never a copy of it.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from firmware.aio import wait_event
from firmware.ipp import ops_documents, ops_rfc3380, ops_rfc3998
from firmware.ipp.codec import AttributeGroup, Message, pre_encode
from firmware.ipp.job_attributes import JobAttributes
from firmware.ipp.printer_attributes import (
    DOCUMENT_PASSWORD_MAX,
    MULTIPLE_OPERATION_TIME_OUT,
    NOTIFY_EVENTS,
    NOTIFY_LEASE_DEFAULT,
    OPERATIONS,
    PrinterAttributes,
    ipp_datetime,
)
from firmware.ipp.registry import check as check_syntax
from firmware.ipp.registry import make_attribute
from firmware.ipp.subscriptions import Subscription, Subscriptions
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag
from firmware.ipp.template import check_template
from firmware.ipp.values import Attribute
from firmware.job import Job, JobState
from firmware.printer import Printer
from firmware.system import SpoolFullError, SubmissionError, System

log = logging.getLogger(__name__)

#: An HTTP Host the URIs we report can be built from (RFC 9110 §7.2, RFC 3986 §3.2.2):
#: a DNS name or IPv4 address, or an IPv6 literal in brackets with an optional zone
#: (RFC 6874: ``%25`` + zone; ``%`` alone as clients send it), then an optional port.
URI_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9.])?"
    r"|\[[0-9A-Fa-f:.]{2,45}(?:%(?:25)?[A-Za-z0-9._~-]{1,32})?\])(?::[0-9]{1,5})?")

#: Operation modules beyond RFC 8011's core, each with HANDLERS and JOB_TARGETS.
EXTENSIONS = (ops_rfc3998, ops_rfc3380, ops_documents)
SUPPORTED_VERSIONS = {(1, 0), (1, 1), (2, 0), (2, 1), (2, 2)}
CHUNK = 64 * 1024

Body = AsyncIterator[bytes]


class IppError(Exception):
    """Ends an operation with ``status``; ``unsupported`` goes in its own group."""

    def __init__(self, status: Status, message: str,
                 unsupported: list[Attribute] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.unsupported = unsupported or []


class AuthenticationRequired(Exception):
    """The operation needs a login (HTTP 401 over TLS; never Basic in the clear)."""


@dataclass(slots=True)
class RequestContext:
    host: str  # host[:port] the client used, for the URIs we hand back
    path: str  # the HTTP resource
    peer: str = ""
    authenticated_user: str | None = None
    admin: bool = False  # the authenticated user is in the admin group
    secure: bool = False  # the request came over TLS


#: What every response's operation group starts with (RFC 8011 §4.1.4.2), encoded once.
RESPONSE_CHARSET = pre_encode(make_attribute("attributes-charset", "utf-8"))
RESPONSE_LANGUAGE = pre_encode(make_attribute("attributes-natural-language", "en"))

#: Operations for the printer's operator (RFC 8011 §4.3, RFC 3998, PWG 5100.11): always
#: the admin group, whatever the printer's policy.
ADMIN_OPERATIONS = frozenset({
    Operation.PAUSE_PRINTER, Operation.RESUME_PRINTER, Operation.PURGE_JOBS,
    Operation.SET_PRINTER_ATTRIBUTES, Operation.ENABLE_PRINTER, Operation.DISABLE_PRINTER,
    Operation.PAUSE_PRINTER_AFTER_CURRENT_JOB, Operation.RESTART_PRINTER,
    Operation.SHUTDOWN_PRINTER, Operation.STARTUP_PRINTER, Operation.HOLD_NEW_JOBS,
    Operation.RELEASE_HELD_NEW_JOBS, Operation.CANCEL_JOBS, Operation.CANCEL_CURRENT_JOB,
    Operation.PROMOTE_JOB, Operation.SCHEDULE_JOB_AFTER, Operation.SUSPEND_CURRENT_JOB,
    Operation.REPROCESS_JOB,
})
#: Operations that create or change jobs: they need a login on an 'authenticated' printer.
PRINT_OPERATIONS = frozenset({
    Operation.PRINT_JOB, Operation.VALIDATE_JOB, Operation.CREATE_JOB,
    Operation.SEND_DOCUMENT, Operation.CLOSE_JOB, Operation.CANCEL_JOB,
    Operation.CANCEL_MY_JOBS, Operation.HOLD_JOB, Operation.RELEASE_JOB,
    Operation.SET_JOB_ATTRIBUTES, Operation.RESTART_JOB, Operation.RESUBMIT_JOB,
    Operation.RESUME_JOB, Operation.CANCEL_DOCUMENT, Operation.CREATE_JOB_SUBSCRIPTIONS,
})


@dataclass(slots=True)
class Call:
    """One request being answered."""

    request: Message
    response: Message
    ctx: RequestContext
    body: Body | None
    printer: Printer | None = None
    job: Job | None = None

    @property
    def op(self) -> AttributeGroup:
        group = self.request.operation
        assert group is not None
        return group

    def value(self, name: str, default: Any = None) -> Any:
        return self.op.value(name, default)

    @property
    def user(self) -> str:
        if self.ctx.authenticated_user:
            return self.ctx.authenticated_user
        name = self.op.value("requesting-user-name")
        return str(getattr(name, "text", name)) if name else "anonymous"

    def requested(self) -> list[str] | None:
        attr = self.op.get("requested-attributes")
        return [str(v) for v in attr.values] if attr else None


Handler = Callable[[Call], Awaitable[None]]


class _PrinterAttributesCache(dict[str, PrinterAttributes]):
    """PrinterAttributes per printer name, made on first use: a printer plugged in after
    start (hotplug, :meth:`System.add_printer`) is served like the others."""

    def __init__(self, system: System) -> None:
        super().__init__()
        self.system = system

    def __missing__(self, name: str) -> PrinterAttributes:
        attrs = self[name] = PrinterAttributes(self.system, self.system.printers[name])
        return attrs


class Responder:
    def __init__(self, system: System) -> None:
        self.system = system
        self.printer_attrs = _PrinterAttributesCache(system)
        self.job_attrs = JobAttributes(system)
        self.subscriptions = Subscriptions(system)
        self.handlers: dict[int, Handler] = {
            Operation.PRINT_JOB: self.print_job,
            Operation.VALIDATE_JOB: self.validate_job,
            Operation.CREATE_JOB: self.create_job,
            Operation.SEND_DOCUMENT: self.send_document,
            Operation.CLOSE_JOB: self.close_job,
            Operation.CANCEL_JOB: self.cancel_job,
            Operation.CANCEL_JOBS: self.cancel_jobs,
            Operation.CANCEL_MY_JOBS: self.cancel_jobs,
            Operation.CANCEL_CURRENT_JOB: self.cancel_current_job,
            Operation.GET_JOB_ATTRIBUTES: self.get_job_attributes,
            Operation.GET_JOBS: self.get_jobs,
            Operation.GET_PRINTER_ATTRIBUTES: self.get_printer_attributes,
            Operation.HOLD_JOB: self.hold_job,
            Operation.RELEASE_JOB: self.release_job,
            Operation.PAUSE_PRINTER: self.pause_printer,
            Operation.RESUME_PRINTER: self.resume_printer,
            Operation.PURGE_JOBS: self.purge_jobs,
            Operation.HOLD_NEW_JOBS: self.hold_new_jobs,
            Operation.RELEASE_HELD_NEW_JOBS: self.release_held_new_jobs,
            Operation.IDENTIFY_PRINTER: self.identify_printer,
            Operation.CREATE_PRINTER_SUBSCRIPTIONS: self.create_subscriptions,
            Operation.CREATE_JOB_SUBSCRIPTIONS: self.create_subscriptions,
            Operation.GET_SUBSCRIPTION_ATTRIBUTES: self.get_subscription_attributes,
            Operation.GET_SUBSCRIPTIONS: self.get_subscriptions,
            Operation.RENEW_SUBSCRIPTION: self.renew_subscription,
            Operation.CANCEL_SUBSCRIPTION: self.cancel_subscription,
            Operation.GET_NOTIFICATIONS: self.get_notifications,
        }
        for module in EXTENSIONS:
            for op, handler in module.HANDLERS.items():
                self.handlers[op] = functools.partial(handler, self)
        assert set(self.handlers) == set(OPERATIONS)
        self._reaper: asyncio.Task[None] | None = None

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
        call = Call(request, response, ctx, body)
        try:
            self._check_request(call)
            handler = self.handlers.get(request.code)
            if handler is None:
                raise IppError(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                               f"operation 0x{request.code:04x} is not supported")
            self._resolve_target(call)
            self._authorize(call)
            await handler(call)
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

    def _resolve_target(self, call: Call) -> None:
        """printer-uri (+ job-id) or job-uri → the printer and job (RFC 8011 §4.1.5)."""
        op = call.op
        job_ops = {Operation.SEND_DOCUMENT, Operation.CLOSE_JOB, Operation.CANCEL_JOB,
                   Operation.GET_JOB_ATTRIBUTES, Operation.HOLD_JOB, Operation.RELEASE_JOB,
                   *(op for module in EXTENSIONS for op in module.JOB_TARGETS)}
        needs_job = call.request.code in job_ops
        if call.request.code == Operation.CANCEL_CURRENT_JOB:
            needs_job = False
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

    def _printer_for_path(self, path: str) -> Printer | None:
        """The printer at an IPP resource; case does not matter (see System.printer)."""
        folded = path.casefold()
        if folded in ("/ipp/print", ""):
            return self.system.default_printer
        if folded.startswith("/ipp/print/"):
            return self.system.printer(path[len("/ipp/print/"):])
        return None

    # ------------------------------------------------------------------ helpers
    def _job_group(self, call: Call, job: Job, requested: list[str] | None) -> AttributeGroup:
        # job-privacy-scope 'owner' (PWG 5100.11 §7.1): others see ids and states only.
        private = not (call.ctx.admin or job.user == call.user)
        return self.job_attrs.group(call.ctx.host, job, requested, private=private)

    def _job_summary(self, call: Call, job: Job) -> None:
        """The job group of Print-Job / Create-Job responses (RFC 8011 §4.2.1.2)."""
        group = self._job_group(call, job, ["job-id", "job-uri", "job-state",
                                            "job-state-reasons", "job-state-message"])
        call.response.groups.append(group)

    def _check_accepting(self, call: Call) -> None:
        assert call.printer is not None
        if not call.printer.accepting_jobs:
            raise IppError(Status.SERVER_ERROR_NOT_ACCEPTING_JOBS, "printer is not accepting jobs")

    def _check_format(self, call: Call) -> tuple[str, str]:
        assert call.printer is not None
        caps = call.printer.capabilities
        fmt = str(call.value("document-format", "application/octet-stream"))
        if fmt not in caps.formats:
            raise IppError(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                           f"document-format {fmt} is not supported",
                           [self._copy(call.op["document-format"])])
        compression = str(call.value("compression", "none"))
        if compression not in ("none", "gzip", "deflate"):
            raise IppError(Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                           f"compression {compression} is not supported",
                           [self._copy(call.op["compression"])])
        return fmt, compression

    @staticmethod
    def _copy(attr: Attribute) -> Attribute:
        return Attribute(attr.name, attr.tag, list(attr.values), attr.value_tags)

    def _job_template(self, call: Call) -> dict[str, Any]:
        """Validate the job template; sets the status for substituted attributes."""
        assert call.printer is not None
        result = check_template(call.request.group(DelimiterTag.JOB),
                                call.printer.capabilities)
        fidelity = bool(call.value("ipp-attribute-fidelity", False))
        if result.conflicting:
            raise IppError(Status.CLIENT_ERROR_CONFLICTING_ATTRIBUTES,
                           "media and media-col cannot both be given")
        if result.unsupported:
            if fidelity:
                raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                               "unsupported job template attributes", result.unsupported)
            call.response.code = Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
            call.response.groups.append(
                AttributeGroup(DelimiterTag.UNSUPPORTED, result.unsupported))
        job_name = call.value("job-name")
        if job_name is not None:
            result.accepted["job-name"] = str(getattr(job_name, "text", job_name))
        return result.accepted

    async def _document_stream(self, call: Call, compression: str) -> AsyncIterator[bytes]:
        """The document bytes after HTTP decoding, decompressed per IPP ``compression``."""
        if call.body is None:
            return
        if compression == "none":
            async for chunk in call.body:
                yield chunk
            return
        decomp: Any = None
        async for chunk in call.body:
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

    async def _receive_document(self, call: Call, job: Job, last: bool) -> None:
        fmt, compression = self._check_format(call)
        name = call.value("document-name")
        await self.system.add_document(
            job,
            self._document_stream(call, compression),
            format=fmt,
            name=str(getattr(name, "text", name)) if name else job.name,
            last=last,
            attributes=document_password(call),
        )
        job.documents[-1].compression = compression

    # ------------------------------------------------------------------ job creation
    async def validate_job(self, call: Call) -> None:
        self._check_format(call)
        self._job_template(call)

    async def print_job(self, call: Call) -> None:
        self._check_accepting(call)
        self._check_format(call)
        template = self._job_template(call)
        job = await self._new_job(call, template)
        try:
            await self._receive_document(call, job, last=True)
        except BaseException:
            await self.system.abort_incoming(job)
            raise
        self._job_summary(call, job)

    async def create_job(self, call: Call) -> None:
        self._check_accepting(call)
        template = self._job_template(call)
        job = await self._new_job(call, template)
        self._job_summary(call, job)
        self._schedule_timeout(job)

    async def _new_job(self, call: Call, template: dict[str, Any]) -> Job:
        assert call.printer is not None
        name = template.pop("job-name", None) or call.value("document-name") or "Untitled"
        return await self.system.create_job(
            call.printer,
            name=str(getattr(name, "text", name)),
            user=call.user,
            host=call.ctx.peer,
            origin="ipp",
            attributes=template,
        )

    def _schedule_timeout(self, job: Job) -> None:
        """multiple-operation-time-out: a job left open by its client is aborted."""

        async def expire() -> None:
            last_size = -1
            while job.incoming:
                await asyncio.sleep(MULTIPLE_OPERATION_TIME_OUT)
                if job.incoming and len(job.documents) == last_size:
                    await self.system.abort_incoming(job, "job-data-insufficient")
                    return
                last_size = len(job.documents)

        task = asyncio.get_running_loop().create_task(expire())
        self.system.background.add(task)
        task.add_done_callback(self.system.background.discard)

    async def send_document(self, call: Call) -> None:
        job = call.job
        assert job is not None
        last = call.op.get("last-document")
        if last is None or last.tag != ValueTag.BOOLEAN:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing last-document")
        if not job.incoming:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           f"job {job.id} is not waiting for documents")
        self._check_owner(call, job)
        has_data = bool(call.value("document-format")) or call.body is not None
        if last.value and not has_data:
            await self.system.close_job(job)
        else:
            try:
                await self._receive_document(call, job, last=bool(last.value))
            except IppError:
                raise
            except BaseException:
                await self.system.abort_incoming(job)
                raise
        self._job_summary(call, job)

    async def close_job(self, call: Call) -> None:
        job = call.job
        assert job is not None
        self._check_owner(call, job)
        if not job.incoming:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           f"job {job.id} is already closed")
        await self.system.close_job(job)
        self._job_summary(call, job)

    # ------------------------------------------------------------------ job control
    def _authorize(self, call: Call) -> None:
        """Admin operations need the admin group; printing on an 'authenticated' printer
        needs a login (RFC 8011 §5.4.3, uri-authentication-supported)."""
        assert call.printer is not None
        code = call.request.code
        if code in ADMIN_OPERATIONS and not call.ctx.admin:
            if call.ctx.authenticated_user:
                raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                               f"{call.ctx.authenticated_user} is not an administrator")
            raise AuthenticationRequired
        if (code in PRINT_OPERATIONS and call.printer.auth_policy == "authenticated"
                and not call.ctx.authenticated_user):
            raise AuthenticationRequired

    def _check_owner(self, call: Call, job: Job) -> None:
        """Only the job's owner or an administrator may change a job (RFC 8011 §4.3.3)."""
        if call.ctx.admin or job.user == call.user:
            return
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"job {job.id} belongs to someone else")

    async def cancel_job(self, call: Call) -> None:
        job = call.job
        assert job is not None
        self._check_owner(call, job)
        if job.state.terminal:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           f"job {job.id} is already {job.state.keyword}")
        await self.system.cancel_job(job)

    async def cancel_current_job(self, call: Call) -> None:
        assert call.printer is not None
        job = call.printer.active_job
        if job is None:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, "no job is printing")
        await self.system.cancel_job(job)

    async def cancel_jobs(self, call: Call) -> None:
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
                                   f"job {job_id} cannot be canceled",
                                   [self._copy(ids_attr)])
                jobs.append(job)
        else:
            jobs = [j for j in call.printer.active_jobs() if not mine or j.user == call.user]
        for job in jobs:
            await self.system.cancel_job(job)

    async def hold_job(self, call: Call) -> None:
        job = call.job
        assert job is not None
        self._check_owner(call, job)
        if not await self.system.hold_job(job):
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           f"job {job.id} is {job.state.keyword} and cannot be held")

    async def release_job(self, call: Call) -> None:
        job = call.job
        assert job is not None
        self._check_owner(call, job)
        if not await self.system.release_job(job):
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} is not held")

    # ------------------------------------------------------------------ queries
    async def get_printer_attributes(self, call: Call) -> None:
        assert call.printer is not None
        # A document-format we cannot print gets the general answer, as CUPS's suites
        # expect (RFC 8011 §4.2.5.1 leaves the choice to the printer).
        attrs = self.printer_attrs[call.printer.name]
        call.response.groups.append(attrs.for_request(call.ctx.host, call.requested()))

    async def get_job_attributes(self, call: Call) -> None:
        assert call.job is not None
        call.response.groups.append(self._job_group(call, call.job, call.requested()))

    async def get_jobs(self, call: Call) -> None:
        """Get-Jobs (RFC 8011 §4.2.6; job-ids from PWG 5100.7 §5.2)."""
        assert call.printer is not None
        which = str(call.value("which-jobs", "not-completed"))
        states = {
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
        }.get(which)
        if states is None:
            raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                           f"which-jobs {which} is not supported",
                           [self._copy(call.op["which-jobs"])])
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
            call.response.groups.append(self._job_group(call, job, requested))

    # ------------------------------------------------------------------ printer control
    async def pause_printer(self, call: Call) -> None:
        assert call.printer is not None
        await self.system.set_paused(call.printer, True)

    async def resume_printer(self, call: Call) -> None:
        assert call.printer is not None
        await self.system.set_paused(call.printer, False)

    async def purge_jobs(self, call: Call) -> None:
        assert call.printer is not None
        for job in list(call.printer.active_jobs()):
            await self.system.cancel_job(job, "job-canceled-by-operator")
        await self.system.purge_history(call.printer)

    async def hold_new_jobs(self, call: Call) -> None:
        assert call.printer is not None
        call.printer.hold_new_jobs = True
        call.printer.changed()

    async def release_held_new_jobs(self, call: Call) -> None:
        assert call.printer is not None
        call.printer.hold_new_jobs = False
        for job in list(call.printer.jobs.values()):
            if job.state == JobState.PENDING_HELD and "job-hold-until" not in job.attributes:
                await self.system.release_job(job)
        call.printer.changed()

    async def identify_printer(self, call: Call) -> None:
        """Identify-Printer (PWG 5100.13 §5.3): flash the LED / show a message."""
        assert call.printer is not None
        actions = call.op.get("identify-actions")
        allowed = {"display", "flash", "sound", "speak"}
        if actions is not None and any(str(a) not in allowed for a in actions.values):
            raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                           "unsupported identify-actions", [self._copy(actions)])
        printer = call.printer
        message = call.value("message")
        log.info("identify %s: %s", printer.name, message or "")
        printer.extra_reasons.add("identify-printer-requested")
        printer.changed()

        async def done() -> None:
            await asyncio.sleep(5)
            printer.extra_reasons.discard("identify-printer-requested")
            printer.changed()

        task = asyncio.get_running_loop().create_task(done())
        self.system.background.add(task)
        task.add_done_callback(self.system.background.discard)

    # ------------------------------------------------------------------ subscriptions
    async def create_subscriptions(self, call: Call) -> None:
        """Create-Printer/Job-Subscriptions (RFC 3995 §11.1), ippget only (RFC 3996)."""
        assert call.printer is not None
        job_id: int | None = None
        if call.request.code == Operation.CREATE_JOB_SUBSCRIPTIONS:
            attr = call.op.get("notify-job-id")
            if attr is None:
                raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-job-id")
            job = call.printer.jobs.get(int(attr.value))
            if job is None:
                raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"job {attr.value} not found")
            if job.state.terminal:
                raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"job {job.id} has ended")
            job_id = job.id
        templates = call.request.groups_of(DelimiterTag.SUBSCRIPTION)
        if not templates:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "no subscription template group")
        created = 0
        for template in templates:
            out = AttributeGroup(DelimiterTag.SUBSCRIPTION)
            call.response.groups.append(out)
            status = self._create_one(call, template, job_id, out)
            if status is None:
                created += 1
            else:
                out.add("notify-status-code", ValueTag.ENUM, int(status))
        if not created:
            raise IppError(Status.CLIENT_ERROR_IGNORED_ALL_SUBSCRIPTIONS,
                           "no subscription could be created")
        if created < len(templates):
            call.response.code = Status.SUCCESSFUL_OK_IGNORED_SUBSCRIPTIONS

    def _create_one(self, call: Call, template: AttributeGroup, job_id: int | None,
                    out: AttributeGroup) -> Status | None:
        assert call.printer is not None
        if "notify-recipient-uri" in template:
            out.append(self._copy(template["notify-recipient-uri"]))
            return Status.CLIENT_ERROR_URI_SCHEME_NOT_SUPPORTED
        method = template.value("notify-pull-method")
        if method != "ippget":
            if "notify-pull-method" in template:
                out.append(self._copy(template["notify-pull-method"]))
            return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        events_attr = template.get("notify-events")
        events = [str(v) for v in events_attr.values] if events_attr else ["job-completed"]
        if any(e not in NOTIFY_EVENTS and e != "none" for e in events):
            assert events_attr is not None
            out.append(self._copy(events_attr))
            return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        lease = template.value("notify-lease-duration")
        if job_id is not None:
            if lease is not None:  # RFC 3995 §5.3.8: job subscriptions have no lease
                out.append(self._copy(template["notify-lease-duration"]))
                return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
            lease = 0
        elif lease is None:
            lease = NOTIFY_LEASE_DEFAULT
        user_data = template.value("notify-user-data", b"")
        if isinstance(user_data, bytes) and len(user_data) > 63:
            out.append(self._copy(template["notify-user-data"]))
            return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        try:
            sub = self.subscriptions.create(
                printer=call.printer.name,
                events={e for e in events if e != "none"},
                user=call.user,
                job_id=job_id,
                lease=int(lease),
                time_interval=int(template.value("notify-time-interval", 0)),
                user_data=user_data if isinstance(user_data, bytes) else b"",
            )
        except OverflowError:
            return Status.CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS
        out.add("notify-subscription-id", ValueTag.INTEGER, sub.id)
        if job_id is None:
            out.add("notify-lease-duration", ValueTag.INTEGER, sub.lease)
        return None

    def _subscription(self, call: Call) -> Subscription:
        attr = call.op.get("notify-subscription-id")
        if attr is None:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-id")
        sub = self.subscriptions.get(int(attr.value))
        if sub is None:
            raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                           f"subscription {attr.value} does not exist")
        return sub

    def _subscription_group(self, call: Call, sub: Subscription,
                            requested: list[str] | None) -> AttributeGroup:
        values: list[tuple[str, Any]] = [
            ("notify-subscription-id", sub.id),
            ("notify-printer-uri", self.printer_attrs[sub.printer].base_uri(call.ctx.host)),
            ("notify-events", sorted(sub.events) or ["none"]),
            ("notify-pull-method", "ippget"),
            ("notify-subscriber-user-name", sub.user),
            ("notify-time-interval", sub.time_interval),
        ]
        if sub.job_id is not None:
            values.append(("notify-job-id", sub.job_id))
        else:
            remaining = max(0, int(sub.expires - time.time())) if sub.lease else 0
            values.append(("notify-lease-duration", remaining))
        if sub.user_data:
            values.append(("notify-user-data", sub.user_data))
        names = set(requested or ["all"])
        group = AttributeGroup(DelimiterTag.SUBSCRIPTION)
        for name, value in values:
            if "all" in names or "subscription-description" in names or (
                "subscription-template" in names) or name in names:
                group.append(make_attribute(name, value))
        return group

    async def get_subscription_attributes(self, call: Call) -> None:
        sub = self._subscription(call)
        call.response.groups.append(self._subscription_group(call, sub, call.requested()))

    async def get_subscriptions(self, call: Call) -> None:
        assert call.printer is not None
        job_id = call.value("notify-job-id")
        mine = bool(call.value("my-subscriptions", False))
        limit = call.value("limit")
        subs = [s for s in list(self.subscriptions.items.values())
                if s.printer == call.printer.name and not s.expired
                and (job_id is None or s.job_id == job_id)
                and (not mine or s.user == call.user)]
        if limit is not None:
            subs = subs[: int(limit)]
        for sub in subs:
            call.response.groups.append(self._subscription_group(call, sub, call.requested()))

    async def renew_subscription(self, call: Call) -> None:
        sub = self._subscription(call)
        if sub.job_id is not None:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           "job subscriptions have no lease to renew")
        lease = int(call.value("notify-lease-duration", NOTIFY_LEASE_DEFAULT))
        self.subscriptions.renew(sub, lease)
        call.response.operation.add(  # type: ignore[union-attr]
            "notify-lease-duration", ValueTag.INTEGER, lease)

    async def cancel_subscription(self, call: Call) -> None:
        sub = self._subscription(call)
        self.subscriptions.cancel(sub.id)

    async def get_notifications(self, call: Call) -> None:
        """Get-Notifications (RFC 3996 §5)."""
        ids_attr = call.op.get("notify-subscription-ids")
        if ids_attr is None:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-ids")
        seq_attr = call.op.get("notify-sequence-numbers")
        sequences = [int(v) for v in seq_attr.values] if seq_attr else []
        subs = []
        for index, sub_id in enumerate(ids_attr.values):
            sub = self.subscriptions.get(int(sub_id))
            if sub is None:
                raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                               f"subscription {sub_id} does not exist")
            first = sequences[index] if index < len(sequences) else 1
            subs.append((sub, first))
        wait = bool(call.value("notify-wait", False))
        if wait and not any(n.sequence >= first for sub, first in subs for n in sub.queue):
            await wait_event(self.subscriptions.changed, 10)
        op = call.response.operation
        assert op is not None
        op.add("printer-up-time", ValueTag.INTEGER, self.system.up_time())
        ended = all(sub.ended for sub, _ in subs)
        if ended:
            call.response.code = Status.SUCCESSFUL_OK_EVENTS_COMPLETE
        else:
            op.add("notify-get-interval", ValueTag.INTEGER, 10)
        for sub, first in subs:
            for note in sub.queue:
                if note.sequence < first:
                    continue
                group = AttributeGroup(DelimiterTag.EVENT_NOTIFICATION)
                uri = self.printer_attrs[sub.printer].base_uri(call.ctx.host)
                values: list[tuple[str, Any]] = [
                    ("notify-subscription-id", sub.id),
                    ("notify-printer-uri", uri),
                    ("notify-subscribed-event", note.event),
                    ("printer-up-time", self.system.up_time(note.time)),
                    ("printer-current-time", ipp_datetime(note.time)),
                    ("notify-sequence-number", note.sequence),
                    ("notify-charset", "utf-8"),
                    ("notify-natural-language", "en"),
                    ("notify-text", f"{note.event} on {sub.printer}"),
                ]
                if sub.user_data:
                    values.append(("notify-user-data", sub.user_data))
                values.extend((k, v) for k, v in note.snapshot.items())
                for name, value in values:
                    group.append(make_attribute(name, value))
                call.response.groups.append(group)



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
