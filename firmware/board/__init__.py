"""The board's own hardware: status LED and button (see :mod:`firmware.board.gpio`).

:class:`BoardIO` is what the daemon starts.  Lines come from the board profile's ``[led]``
and ``[button]`` tables (``Config.gpio``); a board without them, or a machine without
libgpiod's Python bindings (v2 from PyPI, or Debian's v1 ``python3-libgpiod`` on 32-bit
Raspberry Pi OS), runs with a no-op LED (whose pattern is still readable) and no button.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from firmware.board import reset
from firmware.board.button import HOLD, SHORT_MAX, Button
from firmware.board.gpio import LineSpec, Output, load_gpiod, open_input, open_output
from firmware.board.led import StatusLed
from firmware.system import System

log = logging.getLogger(__name__)

__all__ = ["BoardIO", "reset"]


class BoardIO:
    """LED and button of one daemon.  ``stop`` is the daemon's stop event: a factory reset
    sets it after marking the state directory, and :attr:`exit_code` asks for a restart."""

    def __init__(self, system: System, stop: asyncio.Event, gpiod: Any = None,
                 short_max: float = SHORT_MAX, hold: float = HOLD) -> None:
        self.system = system
        self.stop_event = stop
        self.gpiod = gpiod
        self.short_max = short_max
        self.hold = hold
        self.led: StatusLed | None = None
        self.button: Button | None = None
        self.reset_requested = False

    @property
    def exit_code(self) -> int:
        return reset.EXIT_RESTART if self.reset_requested else 0

    async def start(self) -> None:
        gpio = self.system.config.gpio
        led_spec = LineSpec.from_config(gpio.get("led"))
        button_spec = LineSpec.from_config(gpio.get("button"))
        gpiod = self.gpiod
        if gpiod is None and (led_spec or button_spec):
            gpiod = load_gpiod()
            if gpiod is None:
                log.warning("board %s has GPIO lines but no usable gpiod (libgpiod v2 or v1 "
                            "bindings): no status LED or button", self.system.config.board)
        output: Output | None = None
        if gpiod is not None and led_spec is not None:
            try:
                output = open_output(gpiod, led_spec)
            except (OSError, LookupError) as exc:
                log.warning("status LED on %s line %d: %s", led_spec.chip, led_spec.line, exc)
        self.led = StatusLed(self.system, output)
        self.led.start()
        if gpiod is not None and button_spec is not None:
            try:
                line = open_input(gpiod, button_spec)
            except (OSError, LookupError) as exc:
                log.warning("button on %s line %d: %s", button_spec.chip, button_spec.line, exc)
            else:
                self.button = Button(line, self.print_status_page, self.factory_reset,
                                     self.short_max, self.hold)
                self.button.start()

    async def stop(self) -> None:
        if self.button is not None:
            await self.button.stop()
        if self.led is not None:
            await self.led.stop()

    async def print_status_page(self) -> None:
        """Short press: the test page (:mod:`firmware.testpage`) as a local job."""
        job = await self.system.print_test_page(self.system.default_printer, user="button",
                                                origin="button", name="Status page")
        log.info("button: status page is job %d", job.id)

    async def factory_reset(self) -> None:
        """Hold: mark the state directory (see :mod:`firmware.board.reset`) and stop."""
        reset.request(self.system.config.state_dir)
        self.reset_requested = True
        self.stop_event.set()
