"""The printer port interface every driver implements.

A port is the cable to the printer: bytes go out, a back-channel may come in, and the
printer reports a handful of conditions (paper out, offline, ...).  The interface is
deliberately small and blocking — real ports (pyusb, a tty, ``/dev/lp0``) are blocking —
and the daemon calls it from a worker thread so the event loop never waits on a cable.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class PortCondition(enum.Enum):
    """What a printer can tell us about itself through its port.

    These are physical conditions, not IPP keywords: the translation to
    ``printer-state-reasons`` lives in exactly one place, :mod:`firmware.reasons`.
    """

    PAPER_OUT = "paper-out"
    PAPER_LOW = "paper-low"
    OFFLINE = "offline"
    ERROR = "error"
    BUSY = "busy"
    COVER_OPEN = "cover-open"
    JAM = "jam"
    TONER_LOW = "toner-low"
    TONER_EMPTY = "toner-empty"
    OUTPUT_FULL = "output-full"
    UNPLUGGED = "unplugged"


@dataclass(slots=True, frozen=True)
class PortStatus:
    """One reading of the port.

    ``marker_levels`` (percent per colourant, e.g. ``{"black": 80}``), ``paper_level``
    (sheets in the tray) and ``page_count`` (the device's life counter) are only set by
    printers that report them; a dumb parallel printer leaves them ``None``.
    """

    conditions: frozenset[PortCondition] = frozenset()
    marker_levels: dict[str, int] | None = field(default=None, hash=False)
    paper_level: int | None = None
    page_count: int | None = None

    @property
    def ready(self) -> bool:
        """True when the printer can accept bytes now."""
        return not (self.conditions & STALLING_CONDITIONS)


#: Conditions under which a printer stops taking data.
STALLING_CONDITIONS: frozenset[PortCondition] = frozenset(
    {
        PortCondition.PAPER_OUT,
        PortCondition.OFFLINE,
        PortCondition.ERROR,
        PortCondition.COVER_OPEN,
        PortCondition.JAM,
        PortCondition.TONER_EMPTY,
        PortCondition.OUTPUT_FULL,
        PortCondition.UNPLUGGED,
    }
)


class PortError(Exception):
    """The port failed in a way retrying the same call will not fix (e.g. unplugged)."""


class Port(abc.ABC):
    """A connection to one printer, named by a URI such as ``usb://HP/LaserJet?serial=X``.

    Subclasses register a URI scheme with :func:`hal.registry.register`.
    """

    #: URI scheme this driver serves (``emulated``, ``file``, ``usb`` ...).
    scheme: str = ""

    def __init__(self, uri: str, options: Mapping[str, str] | None = None) -> None:
        self.uri = uri
        self.options: Mapping[str, str] = options or {}

    @abc.abstractmethod
    def open(self) -> None:
        """Open the device.  Raises :class:`PortError` when it is not there."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    @abc.abstractmethod
    def write(self, data: bytes | memoryview, timeout: float) -> int:
        """Send bytes, waiting at most ``timeout`` seconds.

        Returns how many bytes the printer took — possibly fewer than offered, and 0 when
        it is busy or stalled (back-pressure, not an error).  The caller resends the rest,
        so no byte is ever dropped or repeated.
        """

    def read(self, size: int, timeout: float) -> bytes:
        """Read from the back-channel; ports without one return ``b""``."""
        return b""

    @abc.abstractmethod
    def status(self) -> PortStatus:
        """Poll the printer's conditions."""

    def device_id(self) -> str:
        """The IEEE 1284 device ID string (``MFG:..;MDL:..;CMD:..;``), or ``""``."""
        return ""

    def soft_reset(self) -> None:  # noqa: B027 - optional hook, most ports have nothing to do
        """Flush the printer's buffers, e.g. after a cancelled job."""

    # Job boundaries: a real cable knows nothing of jobs, but the emulated printer and the
    # file port keep one output per job, and a USB port resets after a cancel.
    def begin_job(self, job_id: int, name: str) -> None:  # noqa: B027 - optional hook
        """Called before the first byte of a job (again when a job restarts)."""

    def end_job(self, job_id: int, *, completed: bool) -> None:  # noqa: B027 - optional hook
        """Called after the last byte of a job, or when it was cancelled."""

    def __enter__(self) -> Port:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
