"""A stand-in for the libgpiod v2 Python bindings (``gpiod`` >= 2), at the chip/line-request
seam: the same names firmware/board/gpio.py uses, recording what the code asks for."""

from __future__ import annotations

import enum
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any


class Direction(enum.Enum):
    AS_IS = 1
    INPUT = 2
    OUTPUT = 3


class Value(enum.Enum):
    INACTIVE = 0
    ACTIVE = 1


class Edge(enum.Enum):
    NONE = 1
    RISING = 2
    FALLING = 3
    BOTH = 4


class Bias(enum.Enum):
    AS_IS = 1
    UNKNOWN = 2
    DISABLED = 3
    PULL_UP = 4
    PULL_DOWN = 5


line = SimpleNamespace(Direction=Direction, Value=Value, Edge=Edge, Bias=Bias)


@dataclass
class LineSettings:
    direction: Direction = Direction.AS_IS
    edge_detection: Edge = Edge.NONE
    bias: Bias = Bias.AS_IS
    active_low: bool = False
    debounce_period: timedelta = timedelta()
    output_value: Value = Value.INACTIVE


@dataclass
class EdgeEvent:
    class Type(enum.Enum):
        RISING_EDGE = 1
        FALLING_EDGE = 2

    event_type: EdgeEvent.Type
    timestamp_ns: int
    line_offset: int


@dataclass
class ChipInfo:
    name: str
    label: str
    num_lines: int


#: label of every fake chip path
CHIPS: dict[str, str] = {}


class Chip:
    def __init__(self, path: str) -> None:
        if path not in CHIPS:
            raise OSError(2, "no such chip", path)
        self.path = path

    def get_info(self) -> ChipInfo:
        return ChipInfo(os.path.basename(self.path), CHIPS[self.path], 54)

    def __enter__(self) -> Chip:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def is_gpiochip_device(path: str) -> bool:
    return path in CHIPS


@dataclass
class LineRequest:
    path: str
    consumer: str
    config: dict[int, LineSettings]
    #: (monotonic seconds, offset, Value) for every set_value
    writes: list[tuple[float, int, Value]] = field(default_factory=list)
    values: dict[int, Value] = field(default_factory=dict)
    released: bool = False
    _events: list[EdgeEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        for offset, settings in self.config.items():
            self.values[offset] = settings.output_value

    @property
    def fd(self) -> int:
        return self._r

    def set_value(self, offset: int, value: Value) -> None:
        assert not self.released and self.config[offset].direction is Direction.OUTPUT
        self.values[offset] = value
        self.writes.append((time.monotonic(), offset, value))

    def get_value(self, offset: int) -> Value:
        return self.values[offset]

    # the "kernel" side
    def edge(self, offset: int, pressed: bool, when: float | None = None) -> None:
        kind = EdgeEvent.Type.RISING_EDGE if pressed else EdgeEvent.Type.FALLING_EDGE
        ts = int((time.monotonic() if when is None else when) * 1e9)
        self.values[offset] = Value.ACTIVE if pressed else Value.INACTIVE
        self._events.append(EdgeEvent(kind, ts, offset))
        os.write(self._w, b"e")

    def read_edge_events(self, max_events: int | None = None) -> list[EdgeEvent]:
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        events, self._events = self._events, []
        return events

    def release(self) -> None:
        self.released = True
        os.close(self._r)
        os.close(self._w)


REQUESTS: list[LineRequest] = []


def request_lines(path: str, consumer: str | None = None,
                  config: dict[Any, LineSettings | None] | None = None,
                  **_: Any) -> LineRequest:
    if not path.startswith("/dev/gpiochip") and path not in CHIPS:
        raise OSError(2, "no such chip", path)
    req = LineRequest(path, consumer or "", {int(k): v or LineSettings()
                                             for k, v in (config or {}).items()})
    REQUESTS.append(req)
    return req


def reset() -> None:
    CHIPS.clear()
    REQUESTS.clear()
