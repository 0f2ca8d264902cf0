"""The button: a short press prints a status page; holding it 10 s is a factory reset.

Edges arrive as libgpiod v2 edge events on the line request's file descriptor, which the
asyncio loop watches (``loop.add_reader``), so a press costs nothing while nobody presses.
A press shorter than ``short_max`` seconds (measured with the kernel's event timestamps)
is a short press.  A hold fires after ``hold`` seconds while the button is still down, so
the user sees the LED react without having to guess when to let go.  Anything between
the two is ignored (a user who changed their mind).  A line without kernel debounce (the
libgpiod v1 backend, :mod:`firmware.board.gpiod_v1`) sets ``min_press``: a press released
sooner than that is contact bounce and ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

SHORT_MAX = 2.0
HOLD = 10.0

Action = Callable[[], Awaitable[None]]


class Input(Protocol):
    @property
    def fd(self) -> int: ...
    def read_events(self) -> list[tuple[bool, float]]: ...
    def close(self) -> None: ...


class Button:
    def __init__(self, line: Input, on_short: Action, on_hold: Action,
                 short_max: float = SHORT_MAX, hold: float = HOLD,
                 min_press: float | None = None) -> None:
        self.line = line
        #: presses released sooner are bounce (0 with the v2 API: the kernel debounces)
        self.min_press = float(getattr(line, "min_press", 0.0) if min_press is None
                               else min_press)
        self.on_short = on_short
        self.on_hold = on_hold
        self.short_max = short_max
        self.hold = hold
        self._pressed_at: float | None = None
        self._hold_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.line.fd, self._readable)

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.line.fd)
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        self.line.close()

    def _readable(self) -> None:
        try:
            events = self.line.read_events()
        except OSError as exc:
            log.warning("button: reading edge events failed: %s", exc)
            return
        for pressed, when in events:
            self._edge(pressed, when)

    def _edge(self, pressed: bool, when: float) -> None:
        assert self._loop is not None
        if pressed:
            if self._pressed_at is not None:
                return  # a second press edge without a release: keep the first
            self._pressed_at = when
            self._hold_timer = self._loop.call_later(self.hold, self._held)
            return
        if self._pressed_at is None:
            return  # released after a hold fired, or a release without a press
        duration = when - self._pressed_at
        self._pressed_at = None
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        if duration < self.min_press:
            log.debug("button: %.3f s press ignored as bounce", duration)
            return
        if duration < self.short_max:
            log.info("button: short press (%.2f s): status page", duration)
            self._spawn(self.on_short)

    def _held(self) -> None:
        self._hold_timer = None
        self._pressed_at = None
        log.warning("button: held %.0f s: factory reset", self.hold)
        self._spawn(self.on_hold)

    def _spawn(self, action: Action) -> None:
        assert self._loop is not None
        task = self._loop.create_task(self._guard(action))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(action: Action) -> None:
        try:
            await action()
        except Exception:
            log.exception("button action failed")
