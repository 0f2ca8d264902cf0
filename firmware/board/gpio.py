"""GPIO lines through the libgpiod v2 Python bindings (PyPI ``gpiod`` >= 2), or the v1 ones.

On 64-bit Raspberry Pi OS the ``board`` extra installs the v2 bindings from PyPI.  32-bit
Raspberry Pi OS (armhf, ARMv6) has no ``gpiod`` wheel on PyPI, and bookworm ships Debian's
``python3-libgpiod`` 1.6.3, whose ``import gpiod`` is the *v1* API; :func:`load_gpiod`
accepts either, and :func:`open_output` / :func:`open_input` pick the backend by what the
module provides (v1: :mod:`firmware.board.gpiod_v1`).  The v2 path below is unchanged.

This module is the seam between the board code and the kernel's GPIO character device
(``/dev/gpiochipN``, uAPI v2).  The libgpiod v2 calls used, and nothing else:

* ``gpiod.is_gpiochip_device(path)``, ``gpiod.Chip(path).get_info().label`` — find a chip
  by its label (``pinctrl-bcm2711``, ``pinctrl-rp1`` ...), which, unlike its number, does
  not change between kernels (the Pi 5's header moved from gpiochip4 to gpiochip0).
* ``gpiod.request_lines(path, consumer=..., config={offset: gpiod.LineSettings(...)})`` —
  one :class:`gpiod.LineRequest` per line, with ``direction`` (``gpiod.line.Direction``),
  ``active_low``, ``bias`` (``gpiod.line.Bias``), ``edge_detection``
  (``gpiod.line.Edge.BOTH``) and ``debounce_period``.
* ``LineRequest.set_value(offset, gpiod.line.Value.ACTIVE | INACTIVE)`` for the LED.
* ``LineRequest.fd`` (readable when edge events are queued — watched by the asyncio loop),
  ``LineRequest.read_edge_events()`` (``gpiod.EdgeEvent`` with ``event_type``
  ``RISING_EDGE``/``FALLING_EDGE`` in *logical* terms, i.e. after ``active_low``, and
  ``timestamp_ns``) and ``LineRequest.get_value(offset)`` for the button.
* ``LineRequest.release()``.

``gpiod`` is optional: a board without GPIO (the emulator, a PC) or without the package gets
:class:`NullOutput`, and no button.  Tests hand in a fake module with the same names.
"""

from __future__ import annotations

import glob
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any, Protocol

from firmware.board.button import Input
from hal.options import YES

log = logging.getLogger(__name__)

def is_v1(gpiod: Any) -> bool:
    """True for libgpiod's v1 bindings: ``gpiod.Chip(path).get_line(offset)`` and the
    ``LINE_REQ_*`` constants, no ``request_lines`` (libgpiod 1.x ``bindings/python/
    gpiodmodule.c``; Debian bookworm's ``python3-libgpiod`` 1.6.3)."""
    return not hasattr(gpiod, "request_lines") and hasattr(gpiod, "LINE_REQ_DIR_OUT")


def load_gpiod() -> ModuleType | None:
    """The ``gpiod`` module: the v2 API (has ``request_lines``) or the v1 API (has
    ``LINE_REQ_DIR_OUT``, the libgpiod 1.x bindings); None when missing or neither."""
    try:
        module = importlib.import_module("gpiod")
    except ImportError:
        return None
    if hasattr(module, "request_lines"):
        return module
    if is_v1(module):
        version = getattr(module, "version_string", lambda: "1.x")()
        log.info("gpiod: libgpiod %s, the v1 Python API (Debian python3-libgpiod): "
                 "using the v1 backend for the LED and button", version)
        return module
    log.warning("gpiod %s is neither the libgpiod v1 nor the v2 API: no LED or button",
                getattr(module, "__version__", "?"))
    return None


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line as a board profile names it: ``[led]`` or ``[button]``."""

    chip: str
    line: int
    active_low: bool = False
    bias: str = ""  # "", "pull-up", "pull-down", "disabled"

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> LineSpec | None:
        if not section or not section.get("chip") or section.get("line") in (None, ""):
            return None
        active_low = section.get("active_low", False)
        if isinstance(active_low, str):
            active_low = active_low.strip().lower() in YES
        return cls(str(section["chip"]), int(section["line"]), bool(active_low),
                   str(section.get("bias", "")))


#: Where the GPIO character devices are (tests point it elsewhere).
DEV_GLOB = "/dev/gpiochip*"


def chip_path(gpiod: Any, chip: str, dev_glob: str | None = None) -> str:
    """The character device for ``chip``: a path, ``gpiochipN``, or a chip label."""
    if chip.startswith("/"):
        return chip
    if chip.startswith("gpiochip") and chip[8:].isdigit():
        return f"/dev/{chip}"
    if is_v1(gpiod):
        from firmware.board import gpiod_v1

        return gpiod_v1.chip_path_by_label(gpiod, chip, sorted(glob.glob(dev_glob or DEV_GLOB)))
    for path in sorted(glob.glob(dev_glob or DEV_GLOB)):
        try:
            if not gpiod.is_gpiochip_device(path):
                continue
            with gpiod.Chip(path) as handle:
                if handle.get_info().label == chip:
                    return path
        except OSError:
            continue
    raise LookupError(f"no gpiochip labelled {chip!r}")


class Output(Protocol):
    def set(self, on: bool) -> None: ...
    def close(self) -> None: ...


class NullOutput:
    """An LED that is not there (the emulator, a board without gpiod): remembers only."""

    def __init__(self) -> None:
        self.on = False

    def set(self, on: bool) -> None:
        self.on = on

    def close(self) -> None:
        pass


class GpioOutput:
    """One output line held by a ``gpiod.LineRequest``."""

    def __init__(self, gpiod: Any, spec: LineSpec, consumer: str = "printbridge-led") -> None:
        self._gpiod = gpiod
        self.offset = spec.line
        self._values = (gpiod.line.Value.INACTIVE, gpiod.line.Value.ACTIVE)
        self.request = gpiod.request_lines(
            chip_path(gpiod, spec.chip),
            consumer=consumer,
            config={spec.line: gpiod.LineSettings(
                direction=gpiod.line.Direction.OUTPUT,
                active_low=spec.active_low,
                output_value=gpiod.line.Value.INACTIVE,
            )},
        )
        self.on = False

    def set(self, on: bool) -> None:
        if on != self.on:
            self.request.set_value(self.offset, self._values[on])
            self.on = on

    def close(self) -> None:
        try:
            self.request.set_value(self.offset, self._values[False])
        finally:
            self.request.release()


class GpioInput:
    """One input line with edge events on both edges (``pressed`` = logical active)."""

    def __init__(self, gpiod: Any, spec: LineSpec, consumer: str = "printbridge-button",
                 debounce: float = 0.02) -> None:
        self._gpiod = gpiod
        self.offset = spec.line
        bias = {
            "pull-up": gpiod.line.Bias.PULL_UP,
            "pull-down": gpiod.line.Bias.PULL_DOWN,
            "disabled": gpiod.line.Bias.DISABLED,
        }.get(spec.bias, gpiod.line.Bias.AS_IS)
        self.request = gpiod.request_lines(
            chip_path(gpiod, spec.chip),
            consumer=consumer,
            config={spec.line: gpiod.LineSettings(
                direction=gpiod.line.Direction.INPUT,
                edge_detection=gpiod.line.Edge.BOTH,
                active_low=spec.active_low,
                bias=bias,
                debounce_period=timedelta(seconds=debounce),
            )},
        )

    @property
    def fd(self) -> int:
        return int(self.request.fd)

    def pressed(self) -> bool:
        return bool(self.request.get_value(self.offset) == self._gpiod.line.Value.ACTIVE)

    def read_events(self) -> list[tuple[bool, float]]:
        """Queued edges as (pressed, seconds on the kernel's monotonic clock)."""
        rising = self._gpiod.EdgeEvent.Type.RISING_EDGE
        return [(event.event_type == rising, event.timestamp_ns / 1e9)
                for event in self.request.read_edge_events()
                if event.line_offset == self.offset]

    def close(self) -> None:
        self.request.release()


def open_output(gpiod: Any, spec: LineSpec) -> Output:
    """The LED line through whichever libgpiod API ``gpiod`` is (see :func:`is_v1`)."""
    if is_v1(gpiod):
        from firmware.board.gpiod_v1 import V1Output

        return V1Output(gpiod, spec, chip_path(gpiod, spec.chip))
    return GpioOutput(gpiod, spec)


def open_input(gpiod: Any, spec: LineSpec) -> Input:
    """The button line through whichever libgpiod API ``gpiod`` is (see :func:`is_v1`)."""
    if is_v1(gpiod):
        from firmware.board.gpiod_v1 import V1Input

        return V1Input(gpiod, spec, chip_path(gpiod, spec.chip))
    return GpioInput(gpiod, spec)
