"""The event bus (firmware.events): who hears what, in which order, and what one bad
listener can do to the others.

The bus is a synchronous fan-out with no queue of its own: :meth:`EventBus.publish`
calls every listener in turn and returns when the last has returned.  The queues live
in the listeners; the IPP subscriptions' (firmware.ipp.subscriptions) is the one that
keeps events, and it is bounded: a flood of events leaves it at its size, holding the
newest.
"""

from __future__ import annotations

import gc
import logging
import threading
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pytest

from firmware.events import Event, EventBus, EventKind
from firmware.ipp.subscriptions import MAX_EVENTS, Subscriptions
from firmware.printer import Identity, Printer

#: The notify-events keywords of RFC 3995 §5.3.3.4 (without 'none'), from the RFC.
RFC3995_EVENTS = {
    "printer-state-changed", "printer-restarted", "printer-shutdown", "printer-stopped",
    "printer-config-changed", "printer-media-changed", "printer-finishings-changed",
    "printer-queue-order-changed", "job-state-changed", "job-created", "job-completed",
    "job-stopped", "job-config-changed", "job-progress",
}

#: Generous: only reached when something is broken.
TIMEOUT = 30.0


def event(n: int, kind: EventKind = EventKind.JOB_PROGRESS, printer: str = "P") -> Event:
    return Event(kind, printer, job_id=n)


class Recorder:
    """A listener that keeps what it hears, under a name (to check who heard first)."""

    def __init__(self, name: str, log: list[tuple[str, Event]]) -> None:
        self.name = name
        self.log = log

    def __call__(self, event: Event) -> None:
        self.log.append((self.name, event))

    def heard(self) -> list[Event]:
        return [e for who, e in self.log if who == self.name]


def test_event_names_are_rfc3995_keywords() -> None:
    """IPP subscriptions filter on the kinds' values, so each must be a notify-events
    keyword (a typo would make a subscription that never fires)."""
    assert {kind.value for kind in EventKind} <= RFC3995_EVENTS
    assert EventKind("job-completed") is EventKind.JOB_COMPLETED


def test_every_listener_hears_every_event_in_publish_order() -> None:
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    first, second = Recorder("first", log), Recorder("second", log)
    bus.subscribe(first)
    bus.subscribe(second)
    sent = [event(n, kind) for n, kind in enumerate(EventKind)]
    for e in sent:
        bus.publish(e)
    assert first.heard() == sent
    assert second.heard() == sent
    # Each event reaches the listeners in the order they subscribed, and the next event
    # is not published before the last listener has the previous one.
    assert [who for who, _ in log] == ["first", "second"] * len(sent)
    assert [e for _, e in log] == [e for e in sent for _ in range(2)]


def test_unsubscribe_stops_delivery_to_that_listener_only() -> None:
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    kept, dropped = Recorder("kept", log), Recorder("dropped", log)
    bus.subscribe(kept)
    unsubscribe = bus.subscribe(dropped)
    bus.publish(event(1))
    unsubscribe()
    bus.publish(event(2))
    unsubscribe()  # a second call is harmless (views call it on every stop)
    bus.publish(event(3))
    assert [e.job_id for e in kept.heard()] == [1, 2, 3]
    assert [e.job_id for e in dropped.heard()] == [1]


def test_a_listener_subscribed_twice_hears_twice_until_one_is_undone() -> None:
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    twice = Recorder("twice", log)
    undo_first = bus.subscribe(twice)
    bus.subscribe(twice)
    bus.publish(event(1))
    undo_first()
    bus.publish(event(2))
    assert [e.job_id for e in twice.heard()] == [1, 1, 2]


def test_unsubscribing_during_publish_does_not_skip_anyone() -> None:
    """A listener that unsubscribes itself (a one-shot waiter) or another while an event
    is being delivered: every listener subscribed when publish began still hears that
    event, and the unsubscribed ones hear nothing after it."""
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    after_one_shot, victim, after_victim = (Recorder("a", log), Recorder("victim", log),
                                            Recorder("c", log))
    handles: dict[str, Any] = {}

    def one_shot(event: Event) -> None:
        log.append(("one-shot", event))
        handles["one-shot"]()
        handles["victim"]()

    handles["one-shot"] = bus.subscribe(one_shot)
    bus.subscribe(after_one_shot)
    handles["victim"] = bus.subscribe(victim)
    bus.subscribe(after_victim)
    bus.publish(event(1))
    bus.publish(event(2))
    assert [(who, e.job_id) for who, e in log] == [
        ("one-shot", 1), ("a", 1), ("victim", 1), ("c", 1),
        ("a", 2), ("c", 2),
    ]


def test_subscribing_during_publish_starts_with_the_next_event() -> None:
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    late = Recorder("late", log)

    def adds_late(event: Event) -> None:
        if event.job_id == 1:
            bus.subscribe(late)

    bus.subscribe(adds_late)
    bus.publish(event(1))
    bus.publish(event(2))
    assert [e.job_id for e in late.heard()] == [2]


def test_a_failing_listener_does_not_stop_the_others_or_the_publisher(
        caplog: pytest.LogCaptureFixture) -> None:
    """A broken view must not break printing: publish neither raises nor skips the
    listeners after the broken one, and the failure is logged with its traceback."""
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    before, after = Recorder("before", log), Recorder("after", log)

    def broken(event: Event) -> None:
        raise RuntimeError(f"view broken on {event.job_id}")

    bus.subscribe(before)
    bus.subscribe(broken)
    bus.subscribe(after)
    with caplog.at_level(logging.ERROR, logger="firmware.events"):
        bus.publish(event(1))
        bus.publish(event(2))
    assert [e.job_id for e in before.heard()] == [1, 2]
    assert [e.job_id for e in after.heard()] == [1, 2]
    failures = [r for r in caplog.records if r.name == "firmware.events"]
    assert len(failures) == 2
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in failures)
    assert "view broken on 2" in str(failures[1].exc_info[1])  # type: ignore[index]


def test_a_slow_listener_holds_up_the_publisher_and_the_listeners_after_it() -> None:
    """The bus has no queue and no thread: while one listener works, publish has not
    returned and the listeners after it have not heard the event (so listeners must
    only queue, as the bus's docstring says).  Once it returns, everyone has it."""
    bus = EventBus()
    log: list[tuple[str, Event]] = []
    before, after = Recorder("before", log), Recorder("after", log)
    entered, release, published = threading.Event(), threading.Event(), threading.Event()
    seen_inside: dict[str, list[Event]] = {}

    def slow(event: Event) -> None:
        seen_inside["before"] = before.heard()
        seen_inside["after"] = after.heard()
        entered.set()
        assert release.wait(TIMEOUT)

    bus.subscribe(before)
    bus.subscribe(slow)
    bus.subscribe(after)
    publisher = threading.Thread(target=lambda: (bus.publish(event(1)), published.set()))
    publisher.start()
    try:
        assert entered.wait(TIMEOUT)
        assert not published.is_set()
        assert [e.job_id for e in seen_inside["before"]] == [1]
        assert seen_inside["after"] == []
    finally:
        release.set()
        publisher.join(TIMEOUT)
    assert published.is_set()
    assert [e.job_id for e in after.heard()] == [1]


def test_the_bus_keeps_nothing_of_a_flood() -> None:
    """100,000 events through the bus to a listener that drops them: the bus holds no
    reference to them, so memory does not grow with the number of events."""
    bus = EventBus()
    count = [0]

    def drop(event: Event) -> None:
        count[0] += 1

    bus.subscribe(drop)
    for n in range(1000):  # warm up allocator pools and caches
        bus.publish(event(n))
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for n in range(100_000):
            bus.publish(event(n))
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count[0] == 101_000
    # An Event is ~100 bytes: keeping them would be ~10 MB.
    assert after - before < 200_000, f"memory grew by {after - before} bytes"


def subscriptions() -> tuple[EventBus, Printer, Subscriptions]:
    bus = EventBus()
    printer = Printer(Identity("P"), "emulated:", bus)
    system = SimpleNamespace(events=bus, printers={"P": printer})
    return bus, printer, Subscriptions(system)  # type: ignore[arg-type]


def test_subscription_queue_is_bounded_under_a_flood() -> None:
    """IPP subscriptions queue what the bus delivers: a client that never calls
    Get-Notifications gets its queue capped at MAX_EVENTS, keeping the newest, with
    sequence numbers that still count every event (RFC 3995 §5.3.3.4.2: a gap shows
    the client what it missed)."""
    bus, _, subs = subscriptions()
    sub = subs.create(printer="P", events={"job-progress"}, user="u")
    other = subs.create(printer="P", events={"printer-state-changed"}, user="u")
    flood = 10 * MAX_EVENTS
    for n in range(1, flood + 1):
        bus.publish(event(n))
    assert len(sub.queue) == MAX_EVENTS
    assert [note.sequence for note in sub.queue] == list(range(flood - MAX_EVENTS + 1,
                                                               flood + 1))
    assert [note.job_id for note in sub.queue][-1] == flood
    assert sub.next_sequence == flood + 1
    assert len(other.queue) == 0  # filtered on the event name


def test_subscriptions_hear_only_their_printer_and_job() -> None:
    bus, _, subs = subscriptions()
    job_sub = subs.create(printer="P", events={"job-progress", "job-completed"}, user="u",
                          job_id=7)
    bus.publish(event(7))
    bus.publish(event(8))
    bus.publish(event(7, printer="elsewhere"))
    bus.publish(event(7, EventKind.JOB_COMPLETED))
    assert [(n.event, n.job_id) for n in job_sub.queue] == [("job-progress", 7),
                                                             ("job-completed", 7)]
    assert job_sub.ended  # a job subscription ends with its job's completion


def test_printer_model_publishes_a_state_change_once() -> None:
    """What the model puts on the bus: a reading that changes the printer's state or
    reasons is one printer-state-changed (and printer-stopped when it stops); the same
    reading again is no event at all."""
    from hal.port import PortCondition, PortStatus

    bus, printer, _ = subscriptions()
    log: list[tuple[str, Event]] = []
    heard = Recorder("v", log)
    bus.subscribe(heard)
    jam = PortStatus(frozenset({PortCondition.JAM}))
    printer.apply_port_status(jam)
    printer.apply_port_status(jam)
    printer.apply_port_status(PortStatus())
    assert [e.kind for e in heard.heard()] == [
        EventKind.PRINTER_STATE_CHANGED, EventKind.PRINTER_STOPPED,
        EventKind.PRINTER_STATE_CHANGED,
    ]
    assert all(e.printer == "P" and e.job_id is None for e in heard.heard())
