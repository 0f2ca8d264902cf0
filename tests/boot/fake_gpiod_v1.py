"""A stand-in for libgpiod's *v1* Python bindings (libgpiod 1.6, Debian bookworm's
``python3-libgpiod`` 1.6.3): the names and constant values of ``bindings/python/
gpiodmodule.c`` that firmware/board/gpiod_v1.py uses, checked against the real 1.6.3 module
(``dir()``, docstrings and constants).  The "kernel side" helpers (``values``, ``writes``,
``edge``) match tests/boot/fake_gpiod.py's so the same tests drive both."""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from typing import Any

# Request types and flags, with libgpiod 1.6's values.
LINE_REQ_DIR_AS_IS = 1
LINE_REQ_DIR_IN = 2
LINE_REQ_DIR_OUT = 3
LINE_REQ_EV_FALLING_EDGE = 4
LINE_REQ_EV_RISING_EDGE = 5
LINE_REQ_EV_BOTH_EDGES = 6
LINE_REQ_FLAG_OPEN_DRAIN = 1
LINE_REQ_FLAG_OPEN_SOURCE = 2
LINE_REQ_FLAG_ACTIVE_LOW = 4
LINE_REQ_FLAG_BIAS_DISABLE = 8
LINE_REQ_FLAG_BIAS_PULL_DOWN = 16
LINE_REQ_FLAG_BIAS_PULL_UP = 32
_BIAS_MASK = 8 | 16 | 32


def version_string() -> str:
    return "1.6.3"


@dataclass(frozen=True)
class LineEvent:
    RISING_EDGE = 1
    FALLING_EDGE = 2

    type: int
    sec: int
    nsec: int
    source: Line


#: label of every fake chip path
CHIPS: dict[str, str] = {}
#: every line requested, in order
REQUESTS: list[Line] = []
#: when set, request() fails with EINVAL for bias flags (a kernel before 5.5)
KERNEL_REJECTS_BIAS = False


class Chip:
    def __init__(self, path: str) -> None:
        if path not in CHIPS and not path.startswith("/dev/gpiochip"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        self.path = path
        self.closed = False

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def label(self) -> str:
        self._check()
        return CHIPS.get(self.path, "unlabelled")

    def name(self) -> str:
        self._check()
        return os.path.basename(self.path)

    def num_lines(self) -> int:
        return 54

    def get_line(self, offset: int) -> Line:
        self._check()
        if not 0 <= offset < 54:
            raise OSError(errno.EINVAL, "Invalid argument")
        return Line(self, offset)

    def close(self) -> None:
        self._check()
        self.closed = True

    def __enter__(self) -> Chip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Line:
    def __init__(self, owner: Chip, offset: int) -> None:
        self._owner = owner
        self._offset = offset
        self.path = owner.path
        self.consumer = ""
        self.req_type = 0
        self.flags = 0
        self.requested = False
        self.released = False
        #: logical values by offset, and (monotonic seconds, offset, value) per set_value
        self.values: dict[int, int] = {offset: 0}
        self.writes: list[tuple[float, int, int]] = []
        self._events: list[LineEvent] = []
        self._r = self._w = -1

    def _check(self) -> None:
        self._owner._check()
        assert self.requested and not self.released, "line not requested"

    def offset(self) -> int:
        return self._offset

    def owner(self) -> Chip:
        return self._owner

    def request(self, consumer: str, type: int = LINE_REQ_DIR_AS_IS, flags: int = 0,
                default_vals: Any = None) -> None:
        self._owner._check()
        if KERNEL_REJECTS_BIAS and flags & _BIAS_MASK:
            raise OSError(errno.EINVAL, "Invalid argument")
        if default_vals is not None and len(default_vals) != 1:
            raise TypeError("Number of default values is not the same as the number of lines")
        self.consumer, self.req_type, self.flags = consumer, type, flags
        self.requested = True
        if type == LINE_REQ_DIR_OUT:
            self.values[self._offset] = int(bool(default_vals[0])) if default_vals else 0
        if type in (LINE_REQ_EV_BOTH_EDGES, LINE_REQ_EV_RISING_EDGE, LINE_REQ_EV_FALLING_EDGE):
            self._r, self._w = os.pipe()  # the real event fd blocks; so does this one
        REQUESTS.append(self)

    def set_value(self, value: int) -> None:
        self._check()
        assert self.req_type == LINE_REQ_DIR_OUT and isinstance(value, int)
        self.values[self._offset] = value
        self.writes.append((time.monotonic(), self._offset, value))

    def get_value(self) -> int:
        self._check()
        return self.values[self._offset]

    def event_get_fd(self) -> int:
        self._check()
        if self._r < 0:
            raise OSError(errno.EPERM, "Operation not permitted")
        return self._r

    def event_wait(self, sec: int = 0, nsec: int = 0) -> bool:
        self._check()
        return bool(self._events)

    def event_read(self) -> LineEvent:
        self._check()
        os.read(self._r, 1)  # blocks when nothing is queued, like the kernel's fd
        return self._events.pop(0)

    def event_read_multiple(self) -> list[LineEvent]:
        self._check()
        count = len(os.read(self._r, 16))  # up to 16 events a read, as libgpiod
        events, self._events = self._events[:count], self._events[count:]
        return events

    def release(self) -> None:
        self._check()
        self.released = True
        if self._r >= 0:
            os.close(self._r)
            os.close(self._w)

    # the "kernel" side (same names as fake_gpiod.LineRequest's)
    def edge(self, offset: int, pressed: bool, when: float | None = None) -> None:
        assert offset == self._offset
        kind = LineEvent.RISING_EDGE if pressed else LineEvent.FALLING_EDGE
        ns = int((time.monotonic() if when is None else when) * 1e9)
        self.values[offset] = int(pressed)
        self._events.append(LineEvent(kind, ns // 1_000_000_000, ns % 1_000_000_000, self))
        os.write(self._w, b"e")


def reset() -> None:
    global KERNEL_REJECTS_BIAS
    CHIPS.clear()
    REQUESTS.clear()
    KERNEL_REJECTS_BIAS = False
