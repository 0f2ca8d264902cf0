"""``file:`` port: print into a file or a directory (one file per job).

Useful for debugging a pipeline on a PC and for printing to a FIFO that another
program reads.  ``file:///tmp/out.prn`` appends every job to one file;
``file:///tmp/jobs/`` (an existing directory) writes ``job-<id>.prn`` per job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from hal.port import Port, PortCondition, PortError, PortStatus
from hal.registry import register


@register
class FilePort(Port):
    scheme = "file"

    def __init__(self, uri: str, options: dict[str, str] | None = None) -> None:
        super().__init__(uri, options)
        parts = urlsplit(uri)
        self.path = Path(unquote(parts.path or parts.netloc))
        self._fh: BinaryIO | None = None

    def open(self) -> None:
        if not self.path.is_dir() and not self.path.parent.is_dir():
            raise PortError(f"no such directory: {self.path.parent}")

    def close(self) -> None:
        self._close_file()

    def _close_file(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def begin_job(self, job_id: int, name: str) -> None:
        self._close_file()
        if self.path.is_dir():
            self._fh = open(self.path / f"job-{job_id}.prn", "wb")
        else:
            self._fh = open(self.path, "ab")

    def end_job(self, job_id: int, *, completed: bool) -> None:
        self._close_file()

    def write(self, data: bytes | memoryview, timeout: float) -> int:
        if self._fh is None:
            self.begin_job(0, "")
        assert self._fh is not None
        return self._fh.write(data)

    def status(self) -> PortStatus:
        if self.path.is_dir() or self.path.parent.is_dir():
            return PortStatus()
        return PortStatus(frozenset({PortCondition.OFFLINE}))
