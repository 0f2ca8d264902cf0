"""When to ask a printer for its status, so that asking never slows printing.

Asking costs a control transfer (USB GET_PORT_STATUS, usblp's LPGETSTATUS) that some
printers answer slowly while their buffer is full, and that a few do not answer at all.
The rule:

* while data is flowing (the port took bytes within the last ``PROGRESS_WINDOW``
  seconds) the printer is evidently fine: ask at most every ``busy_interval`` seconds
  and answer other polls from the last reading;
* when data stops (a stall, or idle) ask on every poll — the caller already paces its
  polls, and this is when the answer matters (paper out, off line);
* when asking fails without the device being gone (a timeout, a STALL because the
  request is not supported) wait 2, 4, 8 ... seconds, at most ``backoff_max``, before
  asking again.
"""

from __future__ import annotations

import time

#: Bytes taken within this many seconds mean "printing".
PROGRESS_WINDOW = 1.0


class StatusSchedule:
    def __init__(self, busy_interval: float = 5.0, backoff_max: float = 60.0) -> None:
        self.busy_interval = busy_interval
        self.backoff_max = backoff_max
        self.failures = 0
        self._backoff_until = 0.0
        self._busy_next = 0.0
        self._last_progress = float("-inf")

    def reset(self) -> None:
        """Forget everything (a new connection): the next poll asks."""
        self.failures = 0
        self.ask_now()
        self._last_progress = float("-inf")

    def ask_now(self) -> None:
        """The next poll asks, whatever the schedule says (after a stall or a reset)."""
        self._backoff_until = self._busy_next = 0.0

    def progress(self, now: float | None = None) -> None:
        """The port took bytes."""
        self._last_progress = time.monotonic() if now is None else now

    def printing(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now - self._last_progress < PROGRESS_WINDOW

    def due(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if now < self._backoff_until:
            return False
        return not self.printing(now) or now >= self._busy_next

    def answered(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.failures = 0
        self._busy_next = now + self.busy_interval

    def failed(self, now: float | None = None) -> float:
        """Asking failed; returns the seconds until the next attempt."""
        now = time.monotonic() if now is None else now
        self.failures += 1
        delay = min(self.backoff_max, 2.0 ** self.failures)
        self._backoff_until = now + delay
        return delay
