"""Event subscriptions and the ippget pull method (RFC 3995, RFC 3996).

Subscriptions listen to the printer model's event bus; each keeps a bounded queue of
notifications that Get-Notifications hands out with increasing sequence numbers.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from firmware.events import Event, EventKind

if TYPE_CHECKING:
    from firmware.system import System

MAX_EVENTS = 100
MAX_SUBSCRIPTIONS = 100


@dataclass(slots=True)
class Notification:
    sequence: int
    event: str
    time: float
    printer: str
    job_id: int | None
    #: The attributes of the printer/job at the moment of the event (RFC 3995 §9.1).
    snapshot: dict[str, Any]


@dataclass(slots=True)
class Subscription:
    id: int
    printer: str
    events: set[str]
    user: str
    job_id: int | None = None
    lease: int = 0  # seconds; 0 = forever (job subscriptions)
    expires: float = 0.0
    time_interval: int = 0
    user_data: bytes = b""
    created: float = field(default_factory=time.time)
    next_sequence: int = 1
    queue: deque[Notification] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    ended: bool = False

    @property
    def expired(self) -> bool:
        return bool(self.lease) and time.time() > self.expires


class Subscriptions:
    def __init__(self, system: System) -> None:
        self.system = system
        self.items: dict[int, Subscription] = {}
        self._next_id = 1
        self.changed = asyncio.Event()
        system.events.subscribe(self._on_event)

    def create(self, **fields: Any) -> Subscription:
        self._expire()
        if len(self.items) >= MAX_SUBSCRIPTIONS:
            raise OverflowError("too many subscriptions")
        sub = Subscription(id=self._next_id, **fields)
        self._next_id += 1
        if sub.lease:
            sub.expires = time.time() + sub.lease
        self.items[sub.id] = sub
        return sub

    def get(self, sub_id: int) -> Subscription | None:
        self._expire()
        return self.items.get(sub_id)

    def cancel(self, sub_id: int) -> None:
        self.items.pop(sub_id, None)

    def renew(self, sub: Subscription, lease: int) -> None:
        sub.lease = lease
        sub.expires = time.time() + lease if lease else 0.0

    def _expire(self) -> None:
        for sub_id in [s.id for s in self.items.values() if s.expired]:
            del self.items[sub_id]

    def _on_event(self, event: Event) -> None:
        printer = self.system.printers.get(event.printer)
        if printer is None:
            return
        job = printer.jobs.get(event.job_id) if event.job_id is not None else None
        snapshot: dict[str, Any] = {
            "printer-state": int(printer.state),
            "printer-state-reasons": list(printer.reasons),
            "printer-is-accepting-jobs": printer.accepting_jobs,
        }
        if job is not None:
            snapshot.update(
                {
                    "job-id": job.id,
                    "job-state": int(job.state),
                    "job-state-reasons": list(job.reasons),
                    "job-impressions-completed": job.impressions,
                }
            )
        for sub in self.items.values():
            if sub.printer != event.printer or event.kind.value not in sub.events:
                continue
            if sub.job_id is not None and sub.job_id != event.job_id:
                continue
            sub.queue.append(
                Notification(sub.next_sequence, event.kind.value, event.time, event.printer,
                             event.job_id, snapshot)
            )
            sub.next_sequence += 1
            if (sub.job_id is not None and event.kind == EventKind.JOB_COMPLETED) or (
                sub.job_id is not None and job is not None and job.state.terminal
            ):
                sub.ended = True
        self.changed.set()
        self.changed = asyncio.Event()
