"""The status LED: steady when ready, slow blink while printing, fast blink on error/offline.

The LED holds no state of its own.  It listens to the System's event bus and, on every
printer event, asks the printer model what to show (:attr:`Printer.status_light
<firmware.printer.Printer.status_light>`, the same value the Printer MIB's
prtConsoleLightTable reports over SNMP).  With several printers the most urgent wins:
error over printing over ready.  :attr:`StatusLed.light` is what the LED shows now, for
any other view that wants to mirror the physical LED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from firmware.aio import wait_event
from firmware.board.gpio import NullOutput, Output
from firmware.events import Event
from firmware.printer import StatusLight
from firmware.system import System

log = logging.getLogger(__name__)

_URGENCY = {StatusLight.READY: 0, StatusLight.PRINTING: 1, StatusLight.ERROR: 2}


def system_light(system: System) -> StatusLight:
    """The pattern for the whole box: the most urgent of its printers' lights."""
    lights = [p.status_light for p in system.printers.values()]
    return max(lights, key=_URGENCY.__getitem__, default=StatusLight.READY)


class StatusLed:
    """Drives one output line with the pattern :func:`system_light` derives."""

    def __init__(self, system: System, output: Output | None = None) -> None:
        self.system = system
        self.output: Output = output or NullOutput()
        self.light = system_light(system)
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = system.events.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        light = system_light(self.system)
        if light is not self.light:
            log.debug("status LED: %s -> %s", self.light.name, light.name)
            self.light = light
            self._changed.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.output.set(False)
        self.output.close()

    async def _wait_change(self, seconds: float | None) -> bool:
        """Sleep ``seconds`` (None: forever) or until the pattern changes; True if it did."""
        if not await wait_event(self._changed, seconds):
            return False
        self._changed.clear()
        return True

    async def _run(self) -> None:
        while True:
            light = self.light
            if light.off_ms == 0:  # steady
                self.output.set(True)
                await self._wait_change(None)
                continue
            self.output.set(True)
            if await self._wait_change(light.on_ms / 1000):
                continue
            self.output.set(False)
            await self._wait_change(light.off_ms / 1000)
