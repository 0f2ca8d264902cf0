"""The LED and button through libgpiod's *v1* Python bindings (libgpiod 1.x, ``import gpiod``).

32-bit Raspberry Pi OS bookworm (armhf, ARMv6) has no ``gpiod`` wheel on PyPI and ships
Debian's ``python3-libgpiod`` 1.6.3, the v1 API.  :mod:`firmware.board.gpio` picks this
backend when the module has the ``LINE_REQ_*`` constants and no ``request_lines``
(:func:`firmware.board.gpio.is_v1`); the v2 path is untouched.

The v1 calls used, as libgpiod 1.6's ``bindings/python/gpiodmodule.c`` defines them (names
and docstrings checked against Debian bookworm's ``python3-libgpiod`` 1.6.3-1+b3):

* ``gpiod.Chip(path)`` (opens the character device; ``OSError`` if it is not one),
  ``Chip.label()`` / ``Chip.name()`` (methods in v1; v2 has ``get_info().label``),
  ``Chip.get_line(offset)``, ``Chip.close()``.  A ``Line`` is only usable while its chip
  is open ("I/O operation on closed file"), so each line keeps its chip until closed.
* ``Line.request(consumer=..., type=..., flags=..., default_vals=[...])`` — ``type`` is
  ``gpiod.LINE_REQ_DIR_OUT`` or ``gpiod.LINE_REQ_EV_BOTH_EDGES``; ``flags`` ORs
  ``gpiod.LINE_REQ_FLAG_ACTIVE_LOW`` and one of ``LINE_REQ_FLAG_BIAS_PULL_UP`` /
  ``_PULL_DOWN`` / ``_DISABLE`` (bias flags since libgpiod 1.5 and Linux 5.5).
  ``default_vals`` is what ``LineBulk.request`` parses (``"s|iiO"``); ``Line.request``
  passes it through (1.6 also takes ``default_val``, which 1.4 does not).
* ``Line.set_value(int)`` / ``Line.get_value()`` — logical values (after active-low).
* ``Line.event_get_fd()`` — the line event fd, watched with ``loop.add_reader`` as the v2
  code watches ``LineRequest.fd``; ``Line.event_read_multiple()`` (``Line.event_read()``
  where missing) returns ``gpiod.LineEvent`` objects with ``type``
  (``LineEvent.RISING_EDGE`` / ``FALLING_EDGE``) and ``sec`` / ``nsec``.  With both edges
  requested the kernel (uAPI v1, ``lineevent_irq_thread``) names the edge after reading the
  logical level, so a press is ``RISING_EDGE`` on an active-low line too.
* ``Line.release()``.

What v1 cannot do degrades with a logged reason: no bias flags in the module, or a kernel
that refuses them, means the line is requested without bias (an external pull-up is then
needed); there is no kernel debounce in the v1 uAPI (it came with uAPI v2, Linux 5.10), so
:class:`V1Input` asks the :class:`~firmware.board.button.Button` to ignore presses shorter
than the debounce period instead (``min_press``).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # gpio.py imports this module: the chip path comes from its caller
    from firmware.board.gpio import LineSpec

log = logging.getLogger(__name__)

_BIAS_FLAGS = {
    "pull-up": "LINE_REQ_FLAG_BIAS_PULL_UP",
    "pull-down": "LINE_REQ_FLAG_BIAS_PULL_DOWN",
    "disabled": "LINE_REQ_FLAG_BIAS_DISABLE",
}


def chip_path_by_label(gpiod: Any, label: str, paths: Iterable[str]) -> str:
    """The first of ``paths`` whose v1 ``Chip(path).label()`` is ``label``."""
    for path in paths:
        try:
            chip = gpiod.Chip(path)
        except OSError:
            continue  # not a GPIO chip (ENOTTY), or gone
        try:
            if chip.label() == label:
                return path
        except OSError:
            continue
        finally:
            chip.close()
    raise LookupError(f"no gpiochip labelled {label!r}")


def _bias_flag(gpiod: Any, spec: LineSpec) -> int:
    if not spec.bias or spec.bias == "as-is":
        return 0
    name = _BIAS_FLAGS.get(spec.bias)
    if name is None:
        log.warning("%s line %d: unknown bias %r, leaving it as it is",
                    spec.chip, spec.line, spec.bias)
        return 0
    flag = getattr(gpiod, name, None)
    if flag is None:
        log.warning("%s line %d: this libgpiod (%s) has no %s (bias needs libgpiod >= 1.5): "
                    "requesting without %s bias", spec.chip, spec.line,
                    getattr(gpiod, "version_string", lambda: "1.x")(), name, spec.bias)
        return 0
    return int(flag)


def _request(gpiod: Any, spec: LineSpec, path: str, consumer: str, type_: int,
             default_vals: list[int] | None = None) -> tuple[Any, Any]:
    """Open the chip at ``path`` and request ``spec``'s line; (chip, line), the chip
    kept open."""
    chip = gpiod.Chip(path)
    try:
        line = chip.get_line(spec.line)
        flags = int(gpiod.LINE_REQ_FLAG_ACTIVE_LOW) if spec.active_low else 0
        bias = _bias_flag(gpiod, spec)
        kwargs: dict[str, Any] = {"consumer": consumer, "type": type_}
        if default_vals is not None:
            kwargs["default_vals"] = default_vals
        try:
            line.request(flags=flags | bias, **kwargs)
        except OSError as exc:
            if not bias or exc.errno != errno.EINVAL:
                raise
            # Kernels before 5.5 reject the uAPI v1 bias flags with EINVAL.
            log.warning("%s line %d: the kernel refused %s bias (%s): requesting without "
                        "bias", spec.chip, spec.line, spec.bias, exc)
            line.request(flags=flags, **kwargs)
    except BaseException:
        chip.close()
        raise
    return chip, line


class V1Output:
    """The LED: one output line requested through the v1 API (``LINE_REQ_DIR_OUT``)."""

    def __init__(self, gpiod: Any, spec: LineSpec, path: str,
                 consumer: str = "printbridge-led") -> None:
        self.offset = spec.line
        self.chip, self.line = _request(gpiod, spec, path, consumer,
                                        int(gpiod.LINE_REQ_DIR_OUT), default_vals=[0])
        self.on = False

    def set(self, on: bool) -> None:
        if on != self.on:
            self.line.set_value(int(on))
            self.on = on

    def close(self) -> None:
        try:
            self.line.set_value(0)
        finally:
            try:
                self.line.release()
            finally:
                self.chip.close()


class V1Input:
    """The button: one line with events on both edges (``LINE_REQ_EV_BOTH_EDGES``)."""

    def __init__(self, gpiod: Any, spec: LineSpec, path: str,
                 consumer: str = "printbridge-button", debounce: float = 0.02) -> None:
        self._rising = gpiod.LineEvent.RISING_EDGE
        self.offset = spec.line
        self.chip, self.line = _request(gpiod, spec, path, consumer,
                                        int(gpiod.LINE_REQ_EV_BOTH_EDGES))
        self._fd = int(self.line.event_get_fd())
        #: no kernel debounce in the v1 uAPI: the Button drops presses shorter than this
        self.min_press = debounce
        log.info("button on %s line %d through libgpiod v1: no kernel debounce, presses "
                 "under %.0f ms are ignored", spec.chip, spec.line, debounce * 1000)

    @property
    def fd(self) -> int:
        return self._fd

    def pressed(self) -> bool:
        return bool(self.line.get_value())

    def read_events(self) -> list[tuple[bool, float]]:
        """Queued edges as (pressed, seconds on the event clock).  Called only when the fd
        is readable, so the blocking v1 read returns at once."""
        read_many = getattr(self.line, "event_read_multiple", None)
        events = read_many() if read_many is not None else [self.line.event_read()]
        return [(event.type == self._rising, event.sec + event.nsec / 1e9)
                for event in events]

    def close(self) -> None:
        try:
            self.line.release()
        finally:
            self.chip.close()
