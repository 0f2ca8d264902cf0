"""``usblp:`` port: a USB printer through the kernel's usblp driver (``/dev/usb/lpN``).

For boards that keep the kernel driver bound rather than claiming the interface from
user space (``usb:``).  Linux ``drivers/usb/class/usblp.c`` gives us:

* ``write(2)`` on the node sends bulk OUT; opened ``O_NONBLOCK`` it returns ``EAGAIN``
  while the previous URB is still in flight, and ``poll(2)`` says when it may be written;
* ``read(2)`` reads the bulk IN back-channel on bidirectional interfaces (``EINVAL`` on
  unidirectional ones);
* ``LPGETSTATUS`` (0x060b, from ``linux/lp.h``): the GET_PORT_STATUS byte (USB Printer
  Class 1.1 §4.2.2) as an ``int``; ``EIO`` when the printer does not answer it;
* ``LPIOC_GET_DEVICE_ID(len)`` (``_IOC(_IOC_READ, 'P', 1, len)``): the device ID with its
  2-byte length (§4.2.1); ``LPIOC_GET_VID_PID`` (nr 6): vendor and product ID, for the
  quirks table; ``LPIOC_SOFT_RESET`` (``_IOC(_IOC_NONE, 'P', 7, 0)``): SOFT_RESET (§4.2.3).

A node name (``lp0``) depends on plug order, so discovery names printers by serial number
or USB port path instead: ``usblp://HP/LaserJet%201020?serial=X`` (or ``?location=1-1.4``)
is resolved to its node on every open, from sysfs (``/sys/class/usbmisc/lpN/device``).
``usblp:/dev/usb/lp0`` names a node directly.

Options: ``quirks``, ``status_busy_interval``, ``status_backoff_max``, ``device_id``.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from hal import quirks as quirks_mod
from hal.devfiles import SYSTEM, DeviceFiles, io, ior
from hal.discovery import Found, Selector
from hal.ieee1284 import MAX_DEVICE_ID, DeviceId, decode_length_prefixed, decode_status
from hal.polling import StatusSchedule
from hal.port import Port, PortError, PortStatus
from hal.registry import register

log = logging.getLogger(__name__)

NODE_GLOB = "/dev/usb/lp[0-9]*"
SYSFS_CLASS = "/sys/class/usbmisc"

LPGETSTATUS = 0x060B
IOCNR_GET_DEVICE_ID = 1
IOCNR_GET_BUS_ADDRESS = 5
IOCNR_GET_VID_PID = 6
IOCNR_SOFT_RESET = 7
LPIOC_GET_VID_PID = ior("P", IOCNR_GET_VID_PID, 8)
LPIOC_SOFT_RESET = io("P", IOCNR_SOFT_RESET)


def lpioc_get_device_id(length: int) -> int:
    return ior("P", IOCNR_GET_DEVICE_ID, length)


def _int_pair(raw: bytes | int) -> tuple[int, int]:
    assert isinstance(raw, bytes)
    first, second = struct.unpack("ii", raw[:8])
    return first, second


class NodeFacts:
    """What sysfs says about a usblp node without opening it (so without disturbing it)."""

    def __init__(self, node: str, files: DeviceFiles) -> None:
        self.node = node
        name = os.path.basename(node)
        interface_dir = files.realpath(f"{SYSFS_CLASS}/{name}/device")
        usb_dir = os.path.dirname(interface_dir)
        self.location = ""
        base = os.path.basename(interface_dir)
        if ":" in base:  # "1-1.4:1.0": port path, then configuration.interface
            self.location = base.split(":", 1)[0]
        self.serial = (files.read_text(f"{usb_dir}/serial") or "").strip()
        vid = (files.read_text(f"{usb_dir}/idVendor") or "").strip()
        pid = (files.read_text(f"{usb_dir}/idProduct") or "").strip()
        self.vendor = int(vid, 16) if vid else None
        self.product = int(pid, 16) if pid else None

    @property
    def key(self) -> str:
        ids = (f"{self.vendor:04x}:{self.product:04x}"
               if self.vendor is not None and self.product is not None else "")
        if ids and self.serial:
            return f"usblp:{ids}:{self.serial}"
        if ids and self.location:
            return f"usblp:{ids}@{self.location}"
        return f"usblp:{self.node}"


@register
class UsblpPort(Port):
    scheme = "usblp"

    def __init__(self, uri: str, options: Mapping[str, str] | None = None, *,
                 files: DeviceFiles | None = None) -> None:
        super().__init__(uri, options)
        self.files = files or SYSTEM
        parts = urlsplit(uri)
        self.node = parts.path if not parts.netloc and parts.path.startswith("/") else ""
        self.selector = None if self.node else Selector.from_uri(uri)
        opts = self.options
        self._option_quirks = opts.get("quirks")
        quirks_mod.flags_from_option(self._option_quirks)  # reject unknown flags early
        self._device_id = opts.get("device_id", "")
        self.schedule = StatusSchedule(float(opts.get("status_busy_interval", "5")),
                                       float(opts.get("status_backoff_max", "60")))
        self.quirks: frozenset[str] = frozenset()
        self.fd: int | None = None
        self.opened_node = ""
        #: The open printer's discovery key (:attr:`NodeFacts.key`), "" while closed.
        self.device_key = ""
        self._status = PortStatus()
        self.status_byte: int | None = None

    # -- open/close
    def _nodes(self) -> list[str]:
        if self.node:
            return [self.node]
        assert self.selector is not None
        sel = self.selector
        nodes = []
        for node in self.files.glob(NODE_GLOB):
            facts = NodeFacts(node, self.files)
            if sel.location and facts.location != sel.location:
                continue
            if sel.serial and facts.serial and facts.serial != sel.serial:
                continue
            nodes.append(node)
        return nodes

    def open(self) -> None:
        self.close()
        problem = ""
        for node in self._nodes():
            try:
                fd = self.files.open(node, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:  # EBUSY: usblp lets one program in at a time
                problem = f": {node}: {exc.strerror or exc}"
                continue
            try:
                device_id = self._read_device_id(fd)
                if self.selector is not None:
                    facts = NodeFacts(node, self.files)
                    did = DeviceId.parse(device_id)
                    if not self.selector.matches(device_id=did if device_id else None,
                                                 serial=facts.serial,
                                                 location=facts.location):
                        self.files.close(fd)
                        continue
                vid = pid = None
                try:
                    vid, pid = _int_pair(self.files.ioctl(fd, LPIOC_GET_VID_PID, bytes(8)))
                except OSError:
                    pass
            except BaseException:
                self.files.close(fd)
                raise
            self.fd, self.opened_node = fd, node
            self.device_key = NodeFacts(node, self.files).key
            self._device_id = device_id or self._device_id
            self.quirks = quirks_mod.quirks_for(vid, pid, device_id, option=self._option_quirks)
            self.schedule.reset()
            self._status, self.status_byte = PortStatus(), None  # a new connection
            if quirks_mod.RESET_ON_OPEN in self.quirks:
                self.soft_reset()
            return
        raise PortError(f"no usblp printer matching {self.uri}{problem}")

    def _read_device_id(self, fd: int) -> str:
        try:
            raw = self.files.ioctl(fd, lpioc_get_device_id(MAX_DEVICE_ID), bytes(MAX_DEVICE_ID))
        except OSError as exc:
            log.debug("%s: no device ID: %s", self.uri, exc)
            return ""
        assert isinstance(raw, bytes)
        return decode_length_prefixed(raw)

    def close(self) -> None:
        self.device_key = ""
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                self.files.close(fd)
            except OSError:
                pass

    def _require(self) -> int:
        if self.fd is None:
            raise PortError(f"{self.uri}: port not open")
        return self.fd

    def _lost(self, exc: OSError, what: str) -> PortError:
        self.close()
        return PortError(f"{self.uri}: {what}: {exc.strerror or exc}")

    # -- data
    def write(self, data: bytes | memoryview, timeout: float) -> int:
        fd = self._require()
        try:
            if not self.files.wait(fd, write=True, timeout=timeout):
                return 0
            taken = self.files.write(fd, data)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                return 0
            # ENODEV, or EIO: usblp reports a failed URB (a disconnect mid-transfer) so.
            raise self._lost(exc, "write failed") from exc
        if taken:
            self.schedule.progress()
        return taken

    def read(self, size: int, timeout: float) -> bytes:
        fd = self._require()
        if quirks_mod.UNIDIRECTIONAL in self.quirks:
            return b""
        try:
            if not self.files.wait(fd, write=False, timeout=timeout):
                return b""
            return self.files.read(fd, size)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.EINVAL):
                return b""  # EINVAL: a unidirectional interface has no back-channel
            raise self._lost(exc, "read failed") from exc

    # -- status and control
    def status(self) -> PortStatus:
        fd = self._require()
        if quirks_mod.NO_STATUS in self.quirks or not self.schedule.due():
            return self._status
        try:
            raw = self.files.ioctl(fd, LPGETSTATUS, bytes(4))
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO, errno.ESHUTDOWN):
                raise self._lost(exc, "LPGETSTATUS failed") from exc
            self.schedule.failed()  # EIO: the printer did not answer GET_PORT_STATUS
            return self._status
        assert isinstance(raw, bytes)
        self.schedule.answered()
        self.status_byte = struct.unpack("i", raw[:4])[0] & 0xFF
        self._status = PortStatus(decode_status(self.status_byte))
        return self._status

    def device_id(self) -> str:
        return self._device_id

    def soft_reset(self) -> None:
        fd = self._require()
        try:
            self.files.ioctl(fd, LPIOC_SOFT_RESET, 0)
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO, errno.ESHUTDOWN):
                raise self._lost(exc, "soft reset failed") from exc
            log.warning("%s: LPIOC_SOFT_RESET failed: %s", self.uri, exc)
        self.schedule.ask_now()


def discover(*, skip_keys: Collection[str] = (), options: Mapping[str, str] | None = None,
             files: DeviceFiles | None = None) -> list[Found]:
    files = files or SYSTEM
    found = []
    for node in files.glob(NODE_GLOB):
        facts = NodeFacts(node, files)
        detail = f"usblp {node}" + (f", USB {facts.location}" if facts.location else "")
        if facts.key in skip_keys:
            found.append(Found(facts.key, "usblp", detail=detail, identified=False,
                               vendor=facts.vendor, product=facts.product))
            continue
        port = UsblpPort(f"usblp:{node}", files=files)
        try:
            port.open()
        except PortError as exc:
            found.append(Found(facts.key, "usblp", uri=f"usblp:{node}", detail=detail,
                               identified=False, error=str(exc), vendor=facts.vendor,
                               product=facts.product))
            continue
        try:
            status = port.status()
            did = DeviceId.parse(port.device_id())
        finally:
            port.close()
        serial = facts.serial or did.serial
        if serial or facts.location:
            uri = Selector("usblp", did.manufacturer or "Unknown", did.model or node,
                           serial=serial, location="" if serial else facts.location).to_uri()
        else:
            uri = f"usblp:{node}"
        found.append(Found(
            facts.key, "usblp", uri=uri, device_id=did.raw,
            status=status if port.status_byte is not None else None,
            status_byte=port.status_byte, quirks=port.quirks, detail=detail,
            identified=bool(did), vendor=facts.vendor, product=facts.product, serial=serial,
            location=facts.location))
    return found
