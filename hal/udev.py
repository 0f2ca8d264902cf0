"""Being told when printers come and go: udev events where we can, a timer otherwise.

On a Linux board the kernel announces every USB device and usblp node over a netlink
socket, and udev re-broadcasts them once its rules ran; pyudev (optional — it is not a
dependency of printbridge) reads that broadcast.  The :class:`DeviceWatcher` only says
*that* something changed; what is attached is always found out by scanning
(:func:`hal.discovery.discover`), so a missed or reordered event costs a little delay,
never a wrong queue.  Without pyudev, or without permission to the netlink socket (a
container), the caller scans on a timer instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from hal.options import NO, YES

log = logging.getLogger(__name__)

#: udev subsystems whose events can mean "a printer came or went".
SUBSYSTEMS = ("usb", "usbmisc", "parport", "printer")


class DeviceWatcher:
    """A pyudev monitor for printer-related subsystems, or nothing.

    ``mode``: ``auto`` uses udev when pyudev is importable and the monitor starts,
    ``yes`` insists (ImportError/OSError otherwise), ``no`` never tries.
    """

    def __init__(self, mode: str = "auto", subsystems: Iterable[str] = SUBSYSTEMS) -> None:
        self.monitor: Any = None
        mode = mode.strip().lower()
        if mode in NO:
            return
        try:
            import pyudev  # optional
        except ImportError:
            if mode in YES:
                raise
            log.info("pyudev is not installed: looking for printers on a timer")
            return
        try:
            monitor = pyudev.Monitor.from_netlink(pyudev.Context())
            for subsystem in subsystems:
                monitor.filter_by(subsystem=subsystem)
            monitor.start()
        except Exception as exc:  # no netlink socket in a container, no permission
            if mode in YES:
                raise
            log.info("udev monitor unavailable (%s): looking for printers on a timer", exc)
            return
        self.monitor = monitor

    @property
    def active(self) -> bool:
        return self.monitor is not None

    def fileno(self) -> int:
        """The monitor's socket, for ``loop.add_reader`` (only when :attr:`active`)."""
        return int(self.monitor.fileno())

    def drain(self) -> list[str]:
        """Every pending event as ``"action subsystem path"``, without blocking."""
        events = []
        if self.monitor is None:
            return events
        while True:
            device = self.monitor.poll(timeout=0)
            if device is None:
                return events
            events.append(f"{device.action} {device.subsystem} {device.device_path}")

    def close(self) -> None:
        self.monitor = None
