"""What every IPP operation shares: the call being answered, the error that ends it, and
the checks and look-ups several operations make.

The responder (:mod:`firmware.ipp.responder`) validates a request, resolves its target
and hands a :class:`Call` to the operation's handler, found in the operation table
(:mod:`firmware.ipp.operations`).  The handlers live with the object they act on
(:mod:`~firmware.ipp.job_ops`, :mod:`~firmware.ipp.document_ops`,
:mod:`~firmware.ipp.printer_ops`, :mod:`~firmware.ipp.subscription_ops`) and import
this module, never the responder: the import graph points one way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from firmware.ipp.codec import AttributeGroup, Message
from firmware.ipp.registry import check
from firmware.ipp.tags import Status, ValueTag
from firmware.ipp.values import Attribute, OutOfBand

if TYPE_CHECKING:
    from firmware.ipp.job_attributes import JobAttributes
    from firmware.ipp.printer_attributes import PrinterAttributes
    from firmware.ipp.subscriptions import Subscription, Subscriptions
    from firmware.job import Job
    from firmware.printer import Printer
    from firmware.system import System

#: A request's document: the bytes after the IPP message, as they arrive.
Body = AsyncIterator[bytes]


class IppError(Exception):
    """Ends an operation with ``status``; ``unsupported`` goes in its own group
    (RFC 8011 §4.1.7)."""

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


@dataclass(slots=True, frozen=True)
class Services:
    """What the operations read and change: the printer model (through the System) and
    the IPP views of it, one set per responder."""

    system: System
    #: PrinterAttributes per printer name, made on first use.
    printer_attrs: Mapping[str, PrinterAttributes]
    job_attrs: JobAttributes
    subscriptions: Subscriptions


@dataclass(slots=True)
class Call:
    """One request being answered.

    The responder fills in the target before the handler runs: ``printer`` always,
    ``job`` for job operations (RFC 8011 §4.1.5), ``subscription`` for the operations on
    one subscription (RFC 3995); ``document`` is the decompressed document of an operation
    that carries one (Print-Job, Send-Document).
    """

    request: Message
    response: Message
    ctx: RequestContext
    body: Body | None
    services: Services
    printer: Printer | None = None
    job: Job | None = None
    subscription: Subscription | None = None
    document: Body | None = None

    @property
    def system(self) -> System:
        return self.services.system

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


#: An operation's handler: reads the request, changes the model, fills in the response.
Handler = Callable[[Call], Awaitable[None]]


def copy_attribute(attr: Attribute) -> Attribute:
    """A copy of a request attribute, for the unsupported-attributes group."""
    return Attribute(attr.name, attr.tag, list(attr.values), attr.value_tags)


def check_owner(call: Call, job: Job) -> None:
    """Only the job's owner or an administrator may change a job (RFC 8011 §4.3.3)."""
    if call.ctx.admin or job.user == call.user:
        return
    raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                   f"job {job.id} belongs to someone else")


def find_subscription(call: Call, subscription_id: Any) -> Subscription:
    """The subscription with that notify-subscription-id (RFC 3995)."""
    sub = call.services.subscriptions.get(int(subscription_id))
    if sub is None:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                       f"subscription {subscription_id} does not exist")
    return sub


def settable_attributes(group: AttributeGroup | None,
                        allowed: Mapping[str, str] | tuple[str, ...], what: str,
                        sets: tuple[str, ...] = ()) -> list[Attribute]:
    """The attributes of a Set-Printer/Job-Attributes request (RFC 3380 §4.1, §4.2), each
    settable and well-formed; only the names in ``sets`` may carry several values."""
    if group is None or not group.attributes:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, f"no {what} attributes to set")
    refused = [a for a in group.attributes if a.name not in allowed]
    if refused:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE,
                       f"not settable: {', '.join(a.name for a in refused)}",
                       [not_settable(a) for a in refused])
    for attr in group.attributes:
        problem = check(attr)
        if problem or (len(attr.values) != 1 and attr.name not in sets):
            raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                           f"{attr.name}: {problem or 'one value expected'}", [attr])
    return group.attributes


def not_settable(attr: Attribute) -> Attribute:
    """How a refused Set-*-Attributes attribute is returned (RFC 3380 §4.1)."""
    return Attribute(attr.name, ValueTag.NOT_SETTABLE, [OutOfBand(ValueTag.NOT_SETTABLE)])


def text(value: Any) -> str:
    """A text or name value as a str (with or without its language)."""
    return str(getattr(value, "text", value))
