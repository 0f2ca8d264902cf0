"""Subscription operations: Create-Printer/Job-Subscriptions, Get-Subscription-Attributes,
Get-Subscriptions, Renew-Subscription, Cancel-Subscription (RFC 3995 §11) and
Get-Notifications, the ippget pull method (RFC 3996 §5).

The subscriptions and their event queues are kept by
:class:`firmware.ipp.subscriptions.Subscriptions`; these handlers read and change them.
"""

from __future__ import annotations

import time
from typing import Any

from firmware.aio import wait_event
from firmware.ipp.codec import AttributeGroup
from firmware.ipp.printer_attributes import NOTIFY_EVENTS, NOTIFY_LEASE_DEFAULT, ipp_datetime
from firmware.ipp.registry import make_attribute
from firmware.ipp.request import Call, IppError, copy_attribute, find_subscription
from firmware.ipp.subscriptions import Subscription
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag


def _subscription(call: Call) -> Subscription:
    assert call.subscription is not None
    return call.subscription


async def create_subscriptions(call: Call) -> None:
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
        status = _create_one(call, template, job_id, out)
        if status is None:
            created += 1
        else:
            out.add("notify-status-code", ValueTag.ENUM, int(status))
    if not created:
        raise IppError(Status.CLIENT_ERROR_IGNORED_ALL_SUBSCRIPTIONS,
                       "no subscription could be created")
    if created < len(templates):
        call.response.code = Status.SUCCESSFUL_OK_IGNORED_SUBSCRIPTIONS


def _create_one(call: Call, template: AttributeGroup, job_id: int | None,
                out: AttributeGroup) -> Status | None:
    """One subscription template group: the subscription made (None) or why not."""
    assert call.printer is not None
    if "notify-recipient-uri" in template:
        out.append(copy_attribute(template["notify-recipient-uri"]))
        return Status.CLIENT_ERROR_URI_SCHEME_NOT_SUPPORTED
    method = template.value("notify-pull-method")
    if method != "ippget":
        if "notify-pull-method" in template:
            out.append(copy_attribute(template["notify-pull-method"]))
        return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    events_attr = template.get("notify-events")
    events = [str(v) for v in events_attr.values] if events_attr else ["job-completed"]
    if any(e not in NOTIFY_EVENTS and e != "none" for e in events):
        assert events_attr is not None
        out.append(copy_attribute(events_attr))
        return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    lease = template.value("notify-lease-duration")
    if job_id is not None:
        if lease is not None:  # RFC 3995 §5.3.8: job subscriptions have no lease
            out.append(copy_attribute(template["notify-lease-duration"]))
            return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
        lease = 0
    elif lease is None:
        lease = NOTIFY_LEASE_DEFAULT
    user_data = template.value("notify-user-data", b"")
    if isinstance(user_data, bytes) and len(user_data) > 63:
        out.append(copy_attribute(template["notify-user-data"]))
        return Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    try:
        sub = call.services.subscriptions.create(
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


def subscription_group(call: Call, sub: Subscription,
                       requested: list[str] | None) -> AttributeGroup:
    """A subscription's attributes (RFC 3995 subscription-description and -template)."""
    values: list[tuple[str, Any]] = [
        ("notify-subscription-id", sub.id),
        ("notify-printer-uri", call.services.printer_attrs[sub.printer].base_uri(call.ctx.host)),
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


async def get_subscription_attributes(call: Call) -> None:
    """Get-Subscription-Attributes (RFC 3995)."""
    sub = _subscription(call)
    call.response.groups.append(subscription_group(call, sub, call.requested()))


async def get_subscriptions(call: Call) -> None:
    """Get-Subscriptions (RFC 3995)."""
    assert call.printer is not None
    job_id = call.value("notify-job-id")
    mine = bool(call.value("my-subscriptions", False))
    limit = call.value("limit")
    subs = [s for s in list(call.services.subscriptions.items.values())
            if s.printer == call.printer.name and not s.expired
            and (job_id is None or s.job_id == job_id)
            and (not mine or s.user == call.user)]
    if limit is not None:
        subs = subs[: int(limit)]
    for sub in subs:
        call.response.groups.append(subscription_group(call, sub, call.requested()))


async def renew_subscription(call: Call) -> None:
    """Renew-Subscription (RFC 3995): a printer subscription's lease."""
    sub = _subscription(call)
    if sub.job_id is not None:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       "job subscriptions have no lease to renew")
    lease = int(call.value("notify-lease-duration", NOTIFY_LEASE_DEFAULT))
    call.services.subscriptions.renew(sub, lease)
    call.response.operation.add(  # type: ignore[union-attr]
        "notify-lease-duration", ValueTag.INTEGER, lease)


async def cancel_subscription(call: Call) -> None:
    """Cancel-Subscription (RFC 3995)."""
    call.services.subscriptions.cancel(_subscription(call).id)


async def get_notifications(call: Call) -> None:
    """Get-Notifications (RFC 3996 §5)."""
    system = call.system
    subscriptions = call.services.subscriptions
    ids_attr = call.op.get("notify-subscription-ids")
    if ids_attr is None:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-ids")
    seq_attr = call.op.get("notify-sequence-numbers")
    sequences = [int(v) for v in seq_attr.values] if seq_attr else []
    subs = []
    for index, sub_id in enumerate(ids_attr.values):
        sub = find_subscription(call, sub_id)
        first = sequences[index] if index < len(sequences) else 1
        subs.append((sub, first))
    wait = bool(call.value("notify-wait", False))
    if wait and not any(n.sequence >= first for sub, first in subs for n in sub.queue):
        await wait_event(subscriptions.changed, 10)
    op = call.response.operation
    assert op is not None
    op.add("printer-up-time", ValueTag.INTEGER, system.up_time())
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
            uri = call.services.printer_attrs[sub.printer].base_uri(call.ctx.host)
            values: list[tuple[str, Any]] = [
                ("notify-subscription-id", sub.id),
                ("notify-printer-uri", uri),
                ("notify-subscribed-event", note.event),
                ("printer-up-time", system.up_time(note.time)),
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
