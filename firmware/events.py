"""Change events from the printer model to its views (IPP notifications, SNMP, DNS-SD, web).

Event names are the RFC 3995 §5.3.3 ``notify-events`` keywords so IPP subscriptions can
filter on them directly.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    PRINTER_STATE_CHANGED = "printer-state-changed"
    PRINTER_CONFIG_CHANGED = "printer-config-changed"
    PRINTER_STOPPED = "printer-stopped"
    JOB_CREATED = "job-created"
    JOB_STATE_CHANGED = "job-state-changed"
    JOB_COMPLETED = "job-completed"
    JOB_PROGRESS = "job-progress"


@dataclass(slots=True, frozen=True)
class Event:
    kind: EventKind
    printer: str
    job_id: int | None = None
    time: float = field(default_factory=time.time)


Listener = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out; listeners must be quick (queue the event, don't do work)."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not break printing
                log.exception("event listener failed on %s", event)
