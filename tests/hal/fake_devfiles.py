"""A fake of only the open/read/write/ioctl layer (:class:`hal.devfiles.DeviceFiles`).

It answers as the Linux drivers do — ``usblp`` for ``/dev/usb/lpN``, ``lp`` plus
``ppdev`` for ``/dev/lpN`` and ``/dev/parportN`` — with the ioctl numbers computed
independently here from the kernel headers' ``_IOC`` layout, so a wrong request number
in the driver is a failing test, not a silent match.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from hal.ieee1284 import STATUS_READY, encode_length_prefixed


def ioc(direction: int, kind: str, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord(kind) << 8) | nr


# linux/lp.h
LPGETSTATUS = 0x060B
LPRESET = 0x060C
# drivers/usb/class/usblp.c
LPIOC_GET_DEVICE_ID_NR = 1
LPIOC_GET_VID_PID = ioc(2, "P", 6, 8)
LPIOC_SOFT_RESET = ioc(0, "P", 7, 0)
# linux/ppdev.h
PPRSTATUS = ioc(2, "p", 0x81, 1)
PPCLAIM = ioc(0, "p", 0x8B, 0)
PPRELEASE = ioc(0, "p", 0x8C, 0)
PPNEGOT = ioc(1, "p", 0x91, 4)
IEEE1284_MODE_COMPAT = 1 << 8
IEEE1284_DEVICEID = 1 << 2


def oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


@dataclass
class UsblpPrinter:
    """A printer behind usblp."""

    device_id: str = ""
    vid: int = 0x03F0
    pid: int = 0x3817
    status: int = STATUS_READY
    status_fails: bool = False
    busy: bool = False
    present: bool = True
    bidirectional: bool = True
    back_channel: bytearray = field(default_factory=bytearray)
    received: bytearray = field(default_factory=bytearray)
    resets: int = 0
    opened: bool = False


@dataclass
class ParallelPrinter:
    """A printer on a parallel port (and the port: lp and ppdev)."""

    device_id: str = ""
    nibble: bool = True  # answers IEEE 1284 device ID negotiation
    status: int = 0x80 | STATUS_READY  # bit 7: inverted Busy
    refuse: int = 0  # errno write(2) gives: EAGAIN busy, ENOSPC paper out, EIO off line
    received: bytearray = field(default_factory=bytearray)
    resets: int = 0
    claimed: bool = False
    mode: int = IEEE1284_MODE_COMPAT
    id_stream: bytes = b""


class FakeFiles:
    def __init__(self) -> None:
        self.usblp: dict[str, UsblpPrinter] = {}
        self.lp: dict[str, ParallelPrinter] = {}
        self.ppdev: dict[str, ParallelPrinter] = {}
        self.text: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.fds: dict[int, tuple[str, str]] = {}
        self.ioctls: list[tuple[str, int]] = []
        self._next_fd = 100

    # -- test setup
    def add_usblp(self, node: str, printer: UsblpPrinter, *, location: str = "",
                  serial: str = "") -> UsblpPrinter:
        self.usblp[node] = printer
        if location:
            name = os.path.basename(node)
            usb_dir = f"/sys/devices/pci0000:00/usb1/{location}"
            self.links[f"/sys/class/usbmisc/{name}/device"] = f"{usb_dir}/{location}:1.0"
            self.text[f"{usb_dir}/idVendor"] = f"{printer.vid:04x}\n"
            self.text[f"{usb_dir}/idProduct"] = f"{printer.pid:04x}\n"
            if serial:
                self.text[f"{usb_dir}/serial"] = serial + "\n"
        return printer

    def add_parallel(self, number: int, printer: ParallelPrinter, *,
                     ppdev: bool = True) -> ParallelPrinter:
        self.lp[f"/dev/lp{number}"] = printer
        if ppdev:
            self.ppdev[f"/dev/parport{number}"] = printer
        return printer

    # -- DeviceFiles
    def open(self, path: str, flags: int) -> int:
        if path in self.usblp:
            printer = self.usblp[path]
            if not printer.present:
                raise oserror(errno.ENODEV)
            if printer.opened:
                raise oserror(errno.EBUSY)  # usblp: one opener at a time
            printer.opened = True
            kind = "usblp"
        elif path in self.lp:
            kind = "lp"
        elif path in self.ppdev:
            kind = "ppdev"
        else:
            raise oserror(errno.ENOENT)
        fd = self._next_fd
        self._next_fd += 1
        self.fds[fd] = (kind, path)
        return fd

    def close(self, fd: int) -> None:
        kind, path = self.fds.pop(fd)
        if kind == "usblp":
            self.usblp[path].opened = False
        if kind == "ppdev":
            self.ppdev[path].claimed = False

    def _get(self, fd: int) -> tuple[str, Any]:
        if fd not in self.fds:
            raise oserror(errno.EBADF)
        kind, path = self.fds[fd]
        table = {"usblp": self.usblp, "lp": self.lp, "ppdev": self.ppdev}[kind]
        return kind, table[path]

    def write(self, fd: int, data: bytes | memoryview) -> int:
        kind, printer = self._get(fd)
        if kind == "usblp":
            if not printer.present:
                raise oserror(errno.ENODEV)
            if printer.busy:
                raise oserror(errno.EAGAIN)
            piece = bytes(data[:8192])  # usblp's buffer per write
            printer.received += piece
            return len(piece)
        if kind == "lp":
            if printer.refuse:
                raise oserror(printer.refuse)
            piece = bytes(data[:4096])  # lp copies a page at a time
            printer.received += piece
            return len(piece)
        raise oserror(errno.EINVAL)

    def read(self, fd: int, size: int) -> bytes:
        kind, printer = self._get(fd)
        if kind == "usblp":
            if not printer.present:
                raise oserror(errno.ENODEV)
            if not printer.bidirectional:
                raise oserror(errno.EINVAL)
            if not printer.back_channel:
                raise oserror(errno.EAGAIN)
            data = bytes(printer.back_channel[:size])
            del printer.back_channel[:size]
            return data
        if kind == "ppdev":
            if not printer.claimed or not printer.mode & IEEE1284_DEVICEID:
                raise oserror(errno.EINVAL)
            count = min(size, 7)  # nibble mode: slow, a few bytes at a time
            piece, printer.id_stream = printer.id_stream[:count], printer.id_stream[count:]
            return piece
        raise oserror(errno.EINVAL)

    def ioctl(self, fd: int, request: int, arg: bytes | int) -> bytes | int:
        kind, printer = self._get(fd)
        self.ioctls.append((kind, request))
        if kind == "usblp":
            if not printer.present:
                raise oserror(errno.ENODEV)
            if request == LPGETSTATUS:
                if printer.status_fails:
                    raise oserror(errno.EIO)
                return struct.pack("i", printer.status)
            if request & 0xFFFF == (ord("P") << 8) | LPIOC_GET_DEVICE_ID_NR and request >> 30 == 2:
                size = (request >> 16) & 0x3FFF
                assert isinstance(arg, bytes) and len(arg) == size
                reply = encode_length_prefixed(printer.device_id)[:size]
                return reply + bytes(size - len(reply))
            if request == LPIOC_GET_VID_PID:
                return struct.pack("ii", printer.vid, printer.pid)
            if request == LPIOC_SOFT_RESET:
                printer.resets += 1
                return 0
            raise oserror(errno.ENOTTY)
        if kind == "lp":
            if request == LPGETSTATUS:
                return struct.pack("i", printer.status)
            if request == LPRESET:
                printer.resets += 1
                return 0
            raise oserror(errno.ENOTTY)
        # ppdev
        if request == PPCLAIM:
            if printer.claimed:
                raise oserror(errno.EINVAL)
            printer.claimed = True
            return 0
        if request == PPRELEASE:
            if not printer.claimed:
                raise oserror(errno.EINVAL)
            printer.claimed = False
            return 0
        if not printer.claimed:
            raise oserror(errno.EINVAL)  # ppdev: "claim the port first"
        if request == PPRSTATUS:
            return bytes([printer.status])
        if request == PPNEGOT:
            assert isinstance(arg, bytes)
            mode = struct.unpack("i", arg)[0]
            if mode & IEEE1284_DEVICEID:
                if not printer.nibble:
                    raise oserror(errno.EIO)  # the peripheral rejected the negotiation
                printer.id_stream = encode_length_prefixed(printer.device_id)
            printer.mode = mode
            return 0
        raise oserror(errno.ENOTTY)

    def wait(self, fd: int, *, write: bool, timeout: float) -> bool:
        kind, printer = self._get(fd)
        if kind == "usblp":
            ready = (not printer.busy) if write else bool(printer.back_channel)
            if not printer.present:
                ready = True  # poll reports the error; write then fails
            if not ready:
                time.sleep(timeout)
            return ready
        return True

    def glob(self, pattern: str) -> list[str]:
        names = [*self.usblp, *self.lp, *self.ppdev]
        return sorted(n for n in names if fnmatch.fnmatch(n, pattern))

    def read_text(self, path: str) -> str | None:
        return self.text.get(path)

    def realpath(self, path: str) -> str:
        return self.links.get(path, path)
