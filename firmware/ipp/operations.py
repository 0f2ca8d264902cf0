"""The IPP operation table: one row per operation this printer implements.

A row says everything the responder needs to know about an operation: its code and
name, the handler that carries it out, what it acts on (its target), who may call it,
and whether it takes a new job or carries a document.  What used to be kept in step by
hand is derived from the table:

- ``operations-supported`` (RFC 8011 §5.4.15) is :data:`SUPPORTED`, the codes in table
  order;
- the dispatcher (:meth:`firmware.ipp.responder.Responder.handle`) finds the row by
  code (:data:`BY_CODE`; no row: server-error-operation-not-supported, RFC 8011
  §4.1), resolves the target the row names (RFC 8011 §4.1.5), applies its access
  rule (:class:`Access`) and calls its handler;
- which operations need a login and which the admin group, and which take a new job
  (printer-is-accepting-jobs) or a document (decompressed before the handler reads it).

The handlers live with the object they act on: :mod:`firmware.ipp.job_ops`,
:mod:`firmware.ipp.document_ops`, :mod:`firmware.ipp.printer_ops`,
:mod:`firmware.ipp.subscription_ops`.  Each is ``async def handler(call: Call) ->
None`` (:mod:`firmware.ipp.request`): it reads ``call.op`` and the target the
responder filled in (``call.printer``, ``call.job``, ``call.subscription``), changes
the model through ``call.system``, adds groups to ``call.response`` and ends a failed
operation with ``raise IppError(status, message)``.

To add an operation:

1. write its handler in the file of the object it acts on (a job operation in
   ``job_ops.py`` ...), citing the RFC/PWG section it implements;
2. add one row to :data:`TABLE` below: code (:class:`firmware.ipp.tags.Operation`),
   the name the standard gives it, the handler, the target, the access rule, the
   standard, and ``creates_job`` / ``has_document`` if they apply.  Its place in the
   table is its place in operations-supported.

Nothing else changes: operations-supported, the dispatcher and the access checks follow,
and ``tests/ipp/test_operation_table.py`` walks the table to prove they agree (over a
real socket).  An operation that needs another kind of target (PWG 5100.22 system
operations, say) adds a :class:`Target` member and its resolution in the responder.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from firmware.ipp import document_ops, job_ops, printer_ops, subscription_ops
from firmware.ipp.request import Handler
from firmware.ipp.tags import Operation


class Target(enum.Enum):
    """What an operation acts on, resolved by the responder before the handler runs."""

    #: printer-uri (RFC 8011 §4.1.5): ``call.printer``.
    PRINTER = "printer"
    #: printer-uri + job-id, or job-uri (RFC 8011 §4.1.5): ``call.printer`` and
    #: ``call.job``; an unknown job is client-error-not-found.
    JOB = "job"
    #: printer-uri + notify-subscription-id (RFC 3995): ``call.printer`` and
    #: ``call.subscription``; an unknown subscription is client-error-not-found.
    SUBSCRIPTION = "subscription"


class Access(enum.Enum):
    """Who may call an operation (RFC 8011 §5.4.3 uri-authentication-supported: a
    printer whose policy is 'authenticated' asks for a login over TLS)."""

    #: Anyone, logged in or not, whatever the printer's policy: queries, subscriptions.
    ANYONE = "anyone"
    #: Any user; a login where the printer's policy is 'authenticated' (printing).
    USER = "user"
    #: The job's owner or an administrator (RFC 8011 §4.3.3); a login as for USER.  The
    #: handler calls :func:`firmware.ipp.request.check_owner` once it has judged the
    #: rest of the request, so a non-owner gets client-error-not-authorized.
    OWNER = "owner-or-admin"
    #: The admin group only, whatever the printer's policy (RFC 8011 §4.2.7-§4.2.9,
    #: RFC 3998, PWG 5100.11): anonymous callers are asked to log in (HTTP 401, or 426
    #: in the clear), other users get client-error-not-authorized.
    ADMIN = "admin"

    @property
    def needs_login_when_authenticated(self) -> bool:
        """On a printer whose policy is 'authenticated', the caller must log in."""
        return self in (Access.USER, Access.OWNER)


@dataclass(frozen=True, slots=True)
class OperationRow:
    """One operation: what it is, who may call it and what carries it out."""

    code: Operation
    #: The operation's name as the standard spells it ("Print-Job").
    name: str
    handler: Handler
    target: Target
    access: Access
    #: Where the operation is defined.
    spec: str
    #: Takes a new job from the client: refused with server-error-not-accepting-jobs
    #: while printer-is-accepting-jobs is false (RFC 8011 §4.2.1, §4.2.4).
    creates_job: bool = False
    #: Carries a document after the attributes: the responder hands the handler the
    #: bytes decompressed per the ``compression`` operation attribute (``call.document``).
    has_document: bool = False


_P, _J, _S = Target.PRINTER, Target.JOB, Target.SUBSCRIPTION
_ANYONE, _USER, _OWNER, _ADMIN = Access.ANYONE, Access.USER, Access.OWNER, Access.ADMIN

#: Every operation, in the order operations-supported lists them.
TABLE: tuple[OperationRow, ...] = (
    # RFC 8011, RFC 3995/3996, RFC 3998 and PWG 5100.11/5100.13 ----------------------
    OperationRow(Operation.PRINT_JOB, "Print-Job", job_ops.print_job, _P, _USER,
                 "RFC 8011 §4.2.1", creates_job=True, has_document=True),
    OperationRow(Operation.VALIDATE_JOB, "Validate-Job", job_ops.validate_job, _P, _USER,
                 "RFC 8011 §4.2.3"),
    OperationRow(Operation.CREATE_JOB, "Create-Job", job_ops.create_job, _P, _USER,
                 "RFC 8011 §4.2.4", creates_job=True),
    OperationRow(Operation.SEND_DOCUMENT, "Send-Document", job_ops.send_document, _J, _OWNER,
                 "RFC 8011 §4.3.1", has_document=True),
    OperationRow(Operation.CANCEL_JOB, "Cancel-Job", job_ops.cancel_job, _J, _OWNER,
                 "RFC 8011 §4.3.3"),
    OperationRow(Operation.GET_JOB_ATTRIBUTES, "Get-Job-Attributes",
                 job_ops.get_job_attributes, _J, _ANYONE, "RFC 8011 §4.3.4"),
    OperationRow(Operation.GET_JOBS, "Get-Jobs", job_ops.get_jobs, _P, _ANYONE,
                 "RFC 8011 §4.2.6"),
    OperationRow(Operation.GET_PRINTER_ATTRIBUTES, "Get-Printer-Attributes",
                 printer_ops.get_printer_attributes, _P, _ANYONE, "RFC 8011 §4.2.5"),
    OperationRow(Operation.HOLD_JOB, "Hold-Job", job_ops.hold_job, _J, _OWNER,
                 "RFC 8011 §4.3.5"),
    OperationRow(Operation.RELEASE_JOB, "Release-Job", job_ops.release_job, _J, _OWNER,
                 "RFC 8011 §4.3.6"),
    OperationRow(Operation.PAUSE_PRINTER, "Pause-Printer", printer_ops.pause_printer, _P,
                 _ADMIN, "RFC 8011 §4.2.7"),
    OperationRow(Operation.RESUME_PRINTER, "Resume-Printer", printer_ops.resume_printer, _P,
                 _ADMIN, "RFC 8011 §4.2.8"),
    OperationRow(Operation.PURGE_JOBS, "Purge-Jobs", printer_ops.purge_jobs, _P, _ADMIN,
                 "RFC 8011 §4.2.9"),
    OperationRow(Operation.CREATE_PRINTER_SUBSCRIPTIONS, "Create-Printer-Subscriptions",
                 subscription_ops.create_subscriptions, _P, _ANYONE, "RFC 3995 §11.1"),
    OperationRow(Operation.CREATE_JOB_SUBSCRIPTIONS, "Create-Job-Subscriptions",
                 subscription_ops.create_subscriptions, _P, _USER, "RFC 3995 §11.1"),
    OperationRow(Operation.GET_SUBSCRIPTION_ATTRIBUTES, "Get-Subscription-Attributes",
                 subscription_ops.get_subscription_attributes, _S, _ANYONE, "RFC 3995"),
    OperationRow(Operation.GET_SUBSCRIPTIONS, "Get-Subscriptions",
                 subscription_ops.get_subscriptions, _P, _ANYONE, "RFC 3995"),
    OperationRow(Operation.RENEW_SUBSCRIPTION, "Renew-Subscription",
                 subscription_ops.renew_subscription, _S, _ANYONE, "RFC 3995"),
    OperationRow(Operation.CANCEL_SUBSCRIPTION, "Cancel-Subscription",
                 subscription_ops.cancel_subscription, _S, _ANYONE, "RFC 3995"),
    OperationRow(Operation.GET_NOTIFICATIONS, "Get-Notifications",
                 subscription_ops.get_notifications, _P, _ANYONE, "RFC 3996 §5"),
    OperationRow(Operation.HOLD_NEW_JOBS, "Hold-New-Jobs", printer_ops.hold_new_jobs, _P,
                 _ADMIN, "RFC 3998"),
    OperationRow(Operation.RELEASE_HELD_NEW_JOBS, "Release-Held-New-Jobs",
                 printer_ops.release_held_new_jobs, _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.CANCEL_CURRENT_JOB, "Cancel-Current-Job",
                 job_ops.cancel_current_job, _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.CANCEL_JOBS, "Cancel-Jobs", job_ops.cancel_jobs, _P, _ADMIN,
                 "PWG 5100.11 §4.1"),
    OperationRow(Operation.CANCEL_MY_JOBS, "Cancel-My-Jobs", job_ops.cancel_jobs, _P, _USER,
                 "PWG 5100.11 §4.2"),
    OperationRow(Operation.CLOSE_JOB, "Close-Job", job_ops.close_job, _J, _OWNER,
                 "PWG 5100.11 §4.3"),
    OperationRow(Operation.IDENTIFY_PRINTER, "Identify-Printer", printer_ops.identify_printer,
                 _P, _ANYONE, "PWG 5100.13 §5.3"),
    # RFC 3998 administration, RFC 8011 Restart-Job, PWG 5100.11 Resubmit-Job ----------
    OperationRow(Operation.ENABLE_PRINTER, "Enable-Printer", printer_ops.enable_printer, _P,
                 _ADMIN, "RFC 3998"),
    OperationRow(Operation.DISABLE_PRINTER, "Disable-Printer", printer_ops.disable_printer,
                 _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.PAUSE_PRINTER_AFTER_CURRENT_JOB, "Pause-Printer-After-Current-Job",
                 printer_ops.pause_after_current_job, _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.RESTART_PRINTER, "Restart-Printer", printer_ops.restart_printer,
                 _P, _ADMIN, "RFC 3998 §3.1.3"),
    OperationRow(Operation.SHUTDOWN_PRINTER, "Shutdown-Printer", printer_ops.shutdown_printer,
                 _P, _ADMIN, "RFC 3998 §3.1.4"),
    OperationRow(Operation.STARTUP_PRINTER, "Startup-Printer", printer_ops.startup_printer,
                 _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.REPROCESS_JOB, "Reprocess-Job", job_ops.reprocess_job, _J, _ADMIN,
                 "RFC 3998 §4.1"),
    OperationRow(Operation.SUSPEND_CURRENT_JOB, "Suspend-Current-Job",
                 job_ops.suspend_current_job, _P, _ADMIN, "RFC 3998"),
    OperationRow(Operation.RESUME_JOB, "Resume-Job", job_ops.resume_job, _J, _OWNER,
                 "RFC 3998"),
    OperationRow(Operation.PROMOTE_JOB, "Promote-Job", job_ops.promote_job, _J, _ADMIN,
                 "RFC 3998"),
    OperationRow(Operation.SCHEDULE_JOB_AFTER, "Schedule-Job-After",
                 job_ops.schedule_job_after, _J, _ADMIN, "RFC 3998"),
    OperationRow(Operation.RESTART_JOB, "Restart-Job", job_ops.restart_job, _J, _OWNER,
                 "RFC 8011 §4.3.7"),
    OperationRow(Operation.RESUBMIT_JOB, "Resubmit-Job", job_ops.reprocess_job, _J, _OWNER,
                 "PWG 5100.11 §4.4"),
    # RFC 3380 ------------------------------------------------------------------------
    OperationRow(Operation.SET_PRINTER_ATTRIBUTES, "Set-Printer-Attributes",
                 printer_ops.set_printer_attributes, _P, _ADMIN, "RFC 3380 §4.1"),
    OperationRow(Operation.SET_JOB_ATTRIBUTES, "Set-Job-Attributes",
                 job_ops.set_job_attributes, _J, _OWNER, "RFC 3380 §4.2"),
    OperationRow(Operation.GET_PRINTER_SUPPORTED_VALUES, "Get-Printer-Supported-Values",
                 printer_ops.get_printer_supported_values, _P, _ANYONE, "RFC 3380 §4.3"),
    # PWG 5100.5 (the Document object) ------------------------------------------------
    OperationRow(Operation.CANCEL_DOCUMENT, "Cancel-Document", document_ops.cancel_document,
                 _J, _OWNER, "PWG 5100.5 §5"),
    OperationRow(Operation.GET_DOCUMENT_ATTRIBUTES, "Get-Document-Attributes",
                 document_ops.get_document_attributes, _J, _ANYONE, "PWG 5100.5 §5"),
    OperationRow(Operation.GET_DOCUMENTS, "Get-Documents", document_ops.get_documents, _J,
                 _ANYONE, "PWG 5100.5 §5"),
    OperationRow(Operation.SET_DOCUMENT_ATTRIBUTES, "Set-Document-Attributes",
                 document_ops.set_document_attributes, _J, _ANYONE, "PWG 5100.5 §5"),
)

def by_code(rows: Iterable[OperationRow]) -> Mapping[int, OperationRow]:
    """The row for each operation code; a code with two rows is an error."""
    table: dict[int, OperationRow] = {}
    for row in rows:
        if row.code in table:
            raise ValueError(f"{row.name} has two rows in the operation table")
        table[row.code] = row
    return MappingProxyType(table)


def supported(rows: Iterable[OperationRow]) -> tuple[int, ...]:
    """operations-supported (RFC 8011 §5.4.15): the codes, in table order."""
    return tuple(int(row.code) for row in rows)


#: The row for each operation code (what the responder dispatches on).
BY_CODE: Mapping[int, OperationRow] = by_code(TABLE)
#: operations-supported.
SUPPORTED: tuple[int, ...] = supported(TABLE)
