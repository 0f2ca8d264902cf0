"""The driver interface: PAPPL's raster callbacks, in Python.

A driver turns halftoned (or 8-bit, for PostScript) raster lines into the printer's
language.  The pipeline calls, for every job::

    start_job(job, out)                       # pappl_pr_rstartjob_cb_t
    for each page:
        start_page(page)                      # pappl_pr_rstartpage_cb_t
        write_lines(y, lines) ...             # pappl_pr_rwriteline_cb_t, a band at a time
        end_page()                            # pappl_pr_rendpage_cb_t
    end_job()                                 # pappl_pr_rendjob_cb_t

``lines`` covers printable rows ``y .. y + n - 1`` (rows not written are blank) in the
driver's :class:`RasterMode`: packed one-bit planes ``(planes, rows, bytes)`` with 1 =
ink, or 8-bit grey ``(rows, width)`` / sRGB ``(rows, width, 3)``.  Drivers write bytes
to an :class:`Output` that the pipeline drains in chunks, so a page is never buffered
whole.  Each driver declares its :class:`~firmware.capabilities.Capabilities`; the
printer advertises exactly those.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from typing import ClassVar

from firmware.capabilities import Capabilities
from firmware.pipeline.page import U8, JobSetup, PageSetup
from hal.options import truthy


class RasterMode(enum.Enum):
    K1 = "k1"  # one plane of black, one bit
    KCMY1 = "kcmy1"  # planes K, C, M, Y, one bit each
    GRAY8 = "gray8"  # 0 black .. 255 white
    RGB8 = "rgb8"  # sRGB

    @property
    def planes(self) -> int:
        return {RasterMode.K1: 1, RasterMode.KCMY1: 4}.get(self, 0)


class Output:
    """Bytes a driver produced, drained by the pipeline in chunks."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0
        self.total = 0

    def write(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self.size += len(data)
            self.total += len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts = []
        self.size = 0
        return data


class Driver(abc.ABC):
    """One printer language.  A fresh instance serves each job (see :meth:`fresh`)."""

    #: Name used by ``driver =`` in the configuration.
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: IEEE 1284 ``CMD:`` tokens (upper case) this driver speaks.
    commands: ClassVar[tuple[str, ...]] = ()
    #: Languages for SNMP prtInterpreter and the device ID (Capabilities.languages).
    languages: ClassVar[tuple[str, ...]] = ()
    #: Document formats the printer takes as they are (pass-through).
    native_formats: ClassVar[tuple[str, ...]] = ()
    #: Halftone screen for one-bit output (:mod:`firmware.pipeline.halftone`).
    screen: ClassVar[str] = "blue-noise"

    def __init__(self, options: Mapping[str, str] | None = None, device_id: str = "") -> None:
        self.options: dict[str, str] = dict(options or {})
        self.device_id = device_id
        self.capabilities = self.make_capabilities()
        # ``resolution = 300`` in the configuration picks the default of those offered.
        wanted = self.options.get("resolution", "")
        if wanted.isdigit() and int(wanted) in self.capabilities.resolutions:
            self.capabilities.default_resolution = int(wanted)
        self.out = Output()
        self.job = JobSetup()
        self.page: PageSetup | None = None

    def fresh(self) -> Driver:
        """A new instance with the same configuration, for one job."""
        return type(self)(self.options, self.device_id)

    @property
    def duplex(self) -> bool:
        return truthy(self.options.get("duplex"))

    @abc.abstractmethod
    def make_capabilities(self) -> Capabilities:
        """What the printer can do with this driver (formats are filled in by the
        pipeline: readers plus pass-through)."""

    def raster_mode(self, color: bool) -> RasterMode | None:
        """What ``write_lines`` receives; None for a driver that only passes through."""
        return RasterMode.KCMY1 if color else RasterMode.K1

    # -- the PAPPL-shaped callbacks
    def start_job(self, job: JobSetup, out: Output) -> None:
        self.job = job
        self.out = out

    @abc.abstractmethod
    def start_page(self, page: PageSetup) -> None:
        """Set up the page (media, resolution, raster start)."""

    @abc.abstractmethod
    def write_lines(self, y: int, lines: U8) -> None:
        """Printable rows ``y ..`` of the current page."""

    @abc.abstractmethod
    def end_page(self) -> None:
        """Finish the page and eject it (or turn to its back side)."""

    def end_job(self) -> None:  # noqa: B027 - most drivers have nothing to close
        """Finish the job (reset the printer)."""
