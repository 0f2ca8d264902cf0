"""The thin layer between character-device ports and the kernel: open, read, write, ioctl.

``usblp`` and ``parallel`` do all their I/O through a :class:`DeviceFiles` object, so the
tests can replace exactly this layer (what the kernel would answer) and run the rest of
the driver unchanged.  :data:`SYSTEM` is the real thing.
"""

from __future__ import annotations

import fcntl
import glob
import os
import select
from pathlib import Path
from typing import Protocol


def _ioc(direction: int, kind: int, number: int, size: int) -> int:
    """Linux ``_IOC()`` (include/uapi/asm-generic/ioctl.h)."""
    return (direction << 30) | (size << 16) | (kind << 8) | number


IOC_NONE, IOC_WRITE, IOC_READ = 0, 1, 2


def io(kind: str, number: int) -> int:
    return _ioc(IOC_NONE, ord(kind), number, 0)


def ior(kind: str, number: int, size: int) -> int:
    return _ioc(IOC_READ, ord(kind), number, size)


def iow(kind: str, number: int, size: int) -> int:
    return _ioc(IOC_WRITE, ord(kind), number, size)


class DeviceFiles(Protocol):
    """What a character-device port needs from the operating system."""

    def open(self, path: str, flags: int) -> int: ...
    def close(self, fd: int) -> None: ...
    def read(self, fd: int, size: int) -> bytes: ...
    def write(self, fd: int, data: bytes | memoryview) -> int: ...
    def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int: ...
    def wait(self, fd: int, *, write: bool, timeout: float) -> bool: ...
    def glob(self, pattern: str) -> list[str]: ...
    def read_text(self, path: str) -> str | None: ...
    def realpath(self, path: str) -> str: ...


class SystemFiles:
    """The real kernel: ``os``, ``fcntl.ioctl`` and ``select``."""

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags)

    def close(self, fd: int) -> None:
        os.close(fd)

    def read(self, fd: int, size: int) -> bytes:
        return os.read(fd, size)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        return os.write(fd, data)

    def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int:
        return fcntl.ioctl(fd, request, arg)

    def wait(self, fd: int, *, write: bool, timeout: float) -> bool:
        """select(2) for writability (or readability); True when ready."""
        sets: tuple[list[int], list[int]] = ([], [fd]) if write else ([fd], [])
        ready = select.select(sets[0], sets[1], [], max(0.0, timeout))
        return bool(ready[0] or ready[1])

    def glob(self, pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))

    def read_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text(errors="replace")
        except OSError:
            return None

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)


SYSTEM: DeviceFiles = SystemFiles()
