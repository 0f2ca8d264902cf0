"""``parallel:`` port: an IEEE 1284 (Centronics) printer on ``/dev/lpN``.

Data goes through the kernel's ``lp`` driver (``drivers/char/lp.c``), opened
``O_NONBLOCK``: a printer that is busy makes ``write(2)`` return ``EAGAIN``, one that is
out of paper, off line or in error ``ENOSPC``/``EIO`` (``lp_check_status``) — all of
which are back-pressure here, with the status lines saying why.  ``LPRESET`` (0x060c)
pulses nInit, the IEEE 1284 compatibility-mode reset line, after a cancelled job.

The status lines and the device ID come from ppdev (``/dev/parportN``;
``include/uapi/linux/ppdev.h``): ``PPCLAIM``/``PPRELEASE`` around ``PPRSTATUS`` (the
status register: bit 7 inverted Busy, 5 PError, 4 Select, 3 nFault), and
``PPNEGOT(IEEE1284_MODE_NIBBLE | IEEE1284_DEVICEID)`` followed by ``read(2)`` for the
device ID (IEEE 1284-2000 §7.6: nibble-mode reverse transfer with the device-ID request
bit), then ``PPNEGOT(IEEE1284_MODE_COMPAT)`` back to compatibility mode.  Without ppdev
the status comes from ``LPGETSTATUS`` on ``/dev/lpN`` and the device ID from what the
kernel probed at boot, ``/proc/sys/dev/parport/parportN/autoprobe`` (long key names).

A parallel connector is part of the board, so ``/dev/lpN`` is a stable name.

Options: ``ppdev`` (default ``/dev/parportN`` for ``/dev/lpN``), ``quirks``, ``device_id``.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import struct
import time
from collections.abc import Collection, Mapping
from urllib.parse import unquote, urlsplit

from hal import quirks as quirks_mod
from hal.devfiles import SYSTEM, DeviceFiles, io, ior, iow
from hal.discovery import Found
from hal.ieee1284 import MAX_DEVICE_ID, DeviceId, decode_length_prefixed, decode_status
from hal.port import Port, PortError, PortStatus
from hal.registry import register

log = logging.getLogger(__name__)

NODE_GLOB = "/dev/lp[0-9]*"

# linux/lp.h
LPGETSTATUS = 0x060B
LPRESET = 0x060C

# linux/ppdev.h ('p' ioctls) and linux/parport.h (IEEE 1284 modes)
PPRSTATUS = ior("p", 0x81, 1)
PPCLAIM = io("p", 0x8B)
PPRELEASE = io("p", 0x8C)
PPNEGOT = iow("p", 0x91, 4)
IEEE1284_MODE_NIBBLE = 0
IEEE1284_MODE_COMPAT = 1 << 8
IEEE1284_DEVICEID = 1 << 2

#: errno values for "the port itself is not there".
GONE = {errno.ENODEV, errno.ENXIO, errno.ENOENT}


def ppdev_for(lp_path: str) -> str:
    match = re.search(r"lp(\d+)$", lp_path)
    return f"/dev/parport{match.group(1)}" if match else ""


@register
class ParallelPort(Port):
    scheme = "parallel"

    def __init__(self, uri: str, options: Mapping[str, str] | None = None, *,
                 files: DeviceFiles | None = None) -> None:
        super().__init__(uri, options)
        self.files = files or SYSTEM
        parts = urlsplit(uri)
        self.path = unquote(parts.path or parts.netloc) or "/dev/lp0"
        self.ppdev_path = self.options.get("ppdev", ppdev_for(self.path))
        self._option_quirks = self.options.get("quirks")
        self.quirks: frozenset[str] = quirks_mod.flags_from_option(self._option_quirks)
        self._device_id = self.options.get("device_id", "")
        self.fd: int | None = None
        self.pp: int | None = None
        self.status_byte: int | None = None

    # -- open/close
    def open(self) -> None:
        self.close()
        try:
            self.fd = self.files.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise PortError(f"{self.path}: {exc.strerror or exc}") from exc
        if self.ppdev_path:
            try:
                self.pp = self.files.open(self.ppdev_path, os.O_RDWR | os.O_CLOEXEC)
            except OSError as exc:
                log.debug("%s: no ppdev (%s): status from LPGETSTATUS", self.uri, exc)
        device_id = self._read_device_id()
        self._device_id = device_id or self._device_id
        self.quirks = quirks_mod.quirks_for(device_id=device_id, option=self._option_quirks)
        if quirks_mod.RESET_ON_OPEN in self.quirks:
            self.soft_reset()

    def close(self) -> None:
        for name in ("pp", "fd"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    self.files.close(fd)
                except OSError:
                    pass

    def _require(self) -> int:
        if self.fd is None:
            raise PortError(f"{self.uri}: port not open")
        return self.fd

    @property
    def device_key(self) -> str:
        """The discovery key of the open port, "" while closed."""
        return f"parallel:{self.path}" if self.fd is not None else ""

    # -- IEEE 1284 device ID
    def _read_device_id(self) -> str:
        if self.pp is not None:
            try:
                return self._negotiate_device_id(self.pp)
            except OSError as exc:  # the printer does not do nibble mode / device ID
                log.debug("%s: IEEE 1284 device ID negotiation failed: %s", self.uri, exc)
        number = self.ppdev_path.removeprefix("/dev/parport")
        if number.isdigit():
            text = self.files.read_text(f"/proc/sys/dev/parport/parport{number}/autoprobe")
            if text and ":" in text:
                return DeviceId.parse(text).raw.replace("\n", "")
        return ""

    def _negotiate_device_id(self, pp: int) -> str:
        self.files.ioctl(pp, PPCLAIM, 0)
        try:
            self.files.ioctl(pp, PPNEGOT, struct.pack("i", IEEE1284_MODE_NIBBLE
                                                      | IEEE1284_DEVICEID))
            try:
                raw = b""
                want = 2
                while len(raw) < want:
                    piece = self.files.read(pp, min(MAX_DEVICE_ID, want) - len(raw))
                    if not piece:
                        break
                    raw += piece
                    if len(raw) >= 2 and want == 2:
                        want = min(MAX_DEVICE_ID, max(2, (raw[0] << 8) | raw[1]))
            finally:
                self.files.ioctl(pp, PPNEGOT, struct.pack("i", IEEE1284_MODE_COMPAT))
        finally:
            self.files.ioctl(pp, PPRELEASE, 0)
        return decode_length_prefixed(raw)

    def device_id(self) -> str:
        return self._device_id

    # -- data
    def write(self, data: bytes | memoryview, timeout: float) -> int:
        fd = self._require()
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                return self.files.write(fd, data)
            except OSError as exc:
                if exc.errno in GONE:
                    self.close()
                    raise PortError(f"{self.path}: {exc.strerror or exc}") from exc
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR,
                                     errno.ENOSPC, errno.EIO):
                    raise PortError(f"{self.path}: write failed: {exc}") from exc
            # Busy (EAGAIN) or stopped (ENOSPC paper out, EIO off line or fault): the lp
            # driver has no poll(2), so wait a little and try again until the timeout.
            left = deadline - time.monotonic()
            if left <= 0:
                return 0
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.05)

    # -- status lines
    def status(self) -> PortStatus:
        fd = self._require()
        if quirks_mod.NO_STATUS in self.quirks:
            return PortStatus()
        try:
            if self.pp is not None:
                self.files.ioctl(self.pp, PPCLAIM, 0)
                try:
                    raw = self.files.ioctl(self.pp, PPRSTATUS, bytes(1))
                finally:
                    self.files.ioctl(self.pp, PPRELEASE, 0)
                assert isinstance(raw, bytes)
                byte = raw[0]
            else:
                raw = self.files.ioctl(fd, LPGETSTATUS, bytes(4))
                assert isinstance(raw, bytes)
                byte = struct.unpack("i", raw[:4])[0] & 0xFF
        except OSError as exc:
            if exc.errno in GONE:
                self.close()
                raise PortError(f"{self.path}: {exc.strerror or exc}") from exc
            raise PortError(f"{self.path}: reading the status lines failed: {exc}") from exc
        self.status_byte = byte
        return PortStatus(decode_status(byte, has_busy_line=True))

    def soft_reset(self) -> None:
        """Pulse nInit (``LPRESET``): the printer drops what it buffered."""
        fd = self._require()
        try:
            self.files.ioctl(fd, LPRESET, 0)
        except OSError as exc:
            log.warning("%s: LPRESET failed: %s", self.uri, exc)


def discover(*, skip_keys: Collection[str] = (), options: Mapping[str, str] | None = None,
             files: DeviceFiles | None = None) -> list[Found]:
    """Parallel ports; a printer is *identified* when it answers with a device ID."""
    files = files or SYSTEM
    found = []
    for node in files.glob(NODE_GLOB):
        key, uri = f"parallel:{node}", f"parallel:{node}"
        detail = f"parallel {node}" + (f" + {ppdev_for(node)}" if ppdev_for(node) else "")
        if key in skip_keys:
            found.append(Found(key, "parallel", detail=detail, identified=False))
            continue
        port = ParallelPort(uri, files=files)
        try:
            port.open()
            status = port.status()
        except PortError as exc:
            found.append(Found(key, "parallel", uri=uri, detail=detail, identified=False,
                               error=str(exc)))
            continue
        finally:
            port.close()
        device_id = port.device_id()
        found.append(Found(key, "parallel", uri=uri, device_id=device_id, status=status,
                           status_byte=port.status_byte, quirks=port.quirks, detail=detail,
                           identified=bool(device_id)))
    return found
