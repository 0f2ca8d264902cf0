"""``usb:`` port: a USB printer-class interface driven from user space with pyusb.

What the USB Device Class Definition for Printing Devices 1.1 gives us, and how it is
used here:

* Interfaces of class 07h, subclass 01h: protocol 01h unidirectional (bulk OUT only),
  02h bidirectional (bulk OUT + bulk IN back-channel), 03h IEEE 1284.4 (a packet protocol
  we do not speak).  Protocol 04h is IPP-over-USB (USB IPP Protocol 1.0): its interface
  belongs to ipp-usb and is left alone unless ``allow_ipp_usb = yes``.  We prefer 02h,
  then 01h; a printer with the ``unidirectional`` quirk gets 01h when it has one and its
  back-channel is never read.
* GET_DEVICE_ID (§4.2.1, bmRequestType A1h, bRequest 0): the IEEE 1284 device ID; wValue
  is the configuration index, wIndex the interface number (high byte) and alternate
  setting (low byte).
* GET_PORT_STATUS (§4.2.2, A1h, 1): one byte with the parallel port's paper-empty,
  select and not-error bits, decoded by :func:`hal.ieee1284.decode_status`.
* SOFT_RESET (§4.2.3, bRequest 2): flushes the printer's buffers.  The 1.1 text says
  bmRequestType 21h (interface) but Linux usblp and CUPS send 23h (other) first and fall
  back to 21h on a stall; so do we.

Writes go out in ``chunk`` bytes (default 16 KiB) per bulk transfer with the caller's
timeout.  A printer that is busy NAKs, the transfer times out and :meth:`UsbPort.write`
returns what the printer took (pyusb reports a partial count on timeout) — back-pressure,
not an error.  A stalled bulk OUT endpoint (STALL handshake; USB 2.0 §8.4.5) is cleared
with CLEAR_FEATURE(ENDPOINT_HALT) and reported as :class:`PortError`, because pyusb
cannot say how much of the transfer the printer accepted before it stalled.  ENODEV
(unplugged, switched off) is :class:`PortError` too.

Status polling never slows printing (:mod:`hal.polling`): while bulk OUT transfers make
progress :meth:`UsbPort.status` answers from its last reading and asks the printer at
most every ``status_busy_interval`` seconds (default 5); when data stops flowing it asks
on every call.  A printer that times out or stalls the request is asked again after an
exponential back-off (up to ``status_backoff_max``, default 60 s).

Options: ``allow_ipp_usb``, ``chunk``, ``quirks`` (extra flags), ``reattach`` (give the
interface back to the kernel's usblp on close; default yes), ``status_busy_interval``,
``status_backoff_max``, ``device_id`` (what to report before the first open).

Tests and demonstrations can point the driver at another pyusb backend: the environment
variable ``PRINTBRIDGE_USB_BACKEND=module.path:factory`` names a callable returning a
``usb.backend.IBackend`` (``tests.hal.fake_usb:backend_from_env`` is the simulated bus
the test suite uses).  Without it pyusb picks libusb 1.0 as usual.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import usb.core
import usb.util

from hal import quirks as quirks_mod
from hal.discovery import Found, Selector
from hal.ieee1284 import MAX_DEVICE_ID, DeviceId, decode_length_prefixed, decode_status
from hal.options import truthy
from hal.polling import StatusSchedule
from hal.port import Port, PortError, PortStatus
from hal.registry import register

log = logging.getLogger(__name__)

ENV_BACKEND = "PRINTBRIDGE_USB_BACKEND"

PRINTER_CLASS = 0x07
PRINTER_SUBCLASS = 0x01
PROTOCOL_UNIDIRECTIONAL = 0x01
PROTOCOL_BIDIRECTIONAL = 0x02
PROTOCOL_IEEE1284_4 = 0x03
PROTOCOL_IPP_USB = 0x04
PROTOCOL_NAMES = {1: "unidirectional", 2: "bidirectional", 3: "IEEE 1284.4", 4: "IPP-over-USB"}

# Class-specific requests (USB Printer Class 1.1 §4.2).
GET_DEVICE_ID = 0
GET_PORT_STATUS = 1
SOFT_RESET = 2
REQTYPE_CLASS_IN_INTERFACE = 0xA1
REQTYPE_CLASS_OUT_INTERFACE = 0x21
REQTYPE_CLASS_OUT_OTHER = 0x23

CONTROL_TIMEOUT_MS = 5000
STATUS_TIMEOUT_MS = 1000
DEFAULT_CHUNK = 16 * 1024

#: libusb error codes (libusb.h) that mean the device is gone.
LIBUSB_ERROR_IO = -1
LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_PIPE = -9


def get_backend() -> Any:
    """The pyusb backend to use: ``$PRINTBRIDGE_USB_BACKEND``'s factory, else pyusb's."""
    spec = os.environ.get(ENV_BACKEND)
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "get_backend")
    return factory()


def find_printers(backend: Any = None) -> list[usb.core.Device]:
    """Every USB device with a printer-class interface (any protocol)."""
    backend = backend if backend is not None else get_backend()

    def has_printer_interface(dev: usb.core.Device) -> bool:
        try:
            return any(
                intf.bInterfaceClass == PRINTER_CLASS for cfg in dev for intf in cfg
            )
        except (usb.core.USBError, ValueError):
            return False

    try:
        return list(usb.core.find(find_all=True, backend=backend,
                                  custom_match=has_printer_interface))
    except usb.core.NoBackendError:
        log.debug("no libusb backend: no USB printers")
        return []


def _is_gone(exc: usb.core.USBError) -> bool:
    return exc.errno in (errno.ENODEV, errno.ENXIO, errno.ESHUTDOWN) or exc.backend_error_code in (
        LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_IO)


def _is_stall(exc: usb.core.USBError) -> bool:
    return exc.errno == errno.EPIPE or exc.backend_error_code == LIBUSB_ERROR_PIPE


@dataclass(frozen=True, slots=True)
class PrinterInterface:
    """One printer-class alternate setting and its bulk endpoints."""

    config_index: int
    config_value: int
    number: int
    alt: int
    protocol: int
    ep_out: int
    ep_in: int | None
    max_packet: int

    @property
    def label(self) -> str:
        name = PROTOCOL_NAMES.get(self.protocol, f"protocol {self.protocol}")
        return f"interface {self.number}.{self.alt} (7/1/{self.protocol} {name})"


def printer_interfaces(dev: usb.core.Device, *, allow_ipp_usb: bool = False
                       ) -> list[PrinterInterface]:
    """The usable printer interfaces of ``dev`` (protocols 1 and 2; 4 only if allowed)."""
    usable = {PROTOCOL_UNIDIRECTIONAL, PROTOCOL_BIDIRECTIONAL}
    if allow_ipp_usb:
        usable.add(PROTOCOL_IPP_USB)
    found = []
    for cfg in dev:
        for intf in cfg:
            if (intf.bInterfaceClass != PRINTER_CLASS
                    or intf.bInterfaceSubClass != PRINTER_SUBCLASS
                    or intf.bInterfaceProtocol not in usable):
                continue
            ep_out = ep_in = None
            max_packet = 64
            for ep in intf:
                if usb.util.endpoint_type(ep.bmAttributes) != usb.util.ENDPOINT_TYPE_BULK:
                    continue
                if usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_OUT:
                    if ep_out is None:
                        ep_out = ep.bEndpointAddress
                        max_packet = ep.wMaxPacketSize
                elif ep_in is None:
                    ep_in = ep.bEndpointAddress
            if ep_out is None:
                continue
            found.append(PrinterInterface(
                cfg.index, cfg.bConfigurationValue, intf.bInterfaceNumber,
                intf.bAlternateSetting, intf.bInterfaceProtocol, ep_out,
                ep_in if intf.bInterfaceProtocol != PROTOCOL_UNIDIRECTIONAL else None,
                max_packet))
    return found


def choose_interface(candidates: list[PrinterInterface], *, unidirectional: bool = False,
                     number: int | None = None) -> PrinterInterface | None:
    """The interface to print on: bidirectional first (unidirectional first for printers
    with that quirk), the first configuration before later ones."""
    if number is not None:
        candidates = [c for c in candidates if c.number == number]
    order = ({PROTOCOL_UNIDIRECTIONAL: 0, PROTOCOL_BIDIRECTIONAL: 1} if unidirectional
             else {PROTOCOL_BIDIRECTIONAL: 0, PROTOCOL_UNIDIRECTIONAL: 1})
    ranked = sorted(candidates, key=lambda c: (c.config_index, order.get(c.protocol, 2), c.alt))
    return ranked[0] if ranked else None


def port_path(dev: usb.core.Device) -> str:
    """The Linux sysfs name of the socket the device is in: ``bus-port.port...``."""
    numbers = getattr(dev, "port_numbers", None)
    if numbers:
        return f"{dev.bus}-{'.'.join(str(n) for n in numbers)}"
    return f"{dev.bus}-addr{dev.address}"


def serial_number(dev: usb.core.Device) -> str:
    """iSerialNumber's string (a device-recipient request: no interface is claimed)."""
    if not dev.iSerialNumber:
        return ""
    try:
        return (usb.util.get_string(dev, dev.iSerialNumber) or "").strip()
    except (usb.core.USBError, ValueError, NotImplementedError):
        return ""


def device_key(dev: usb.core.Device, serial: str) -> str:
    ids = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
    return f"usb:{ids}:{serial}" if serial else f"usb:{ids}@{port_path(dev)}"


class _Session:
    """An open, claimed printer interface: the raw class requests and bulk transfers."""

    def __init__(self, dev: usb.core.Device, iface: PrinterInterface, *,
                 detach: bool = True) -> None:
        self.dev = dev
        self.iface = iface
        self.detached = False
        try:
            try:
                active = dev.get_active_configuration().bConfigurationValue
            except usb.core.USBError:
                active = None
            if active != iface.config_value:
                dev.set_configuration(iface.config_value)
            try:
                if detach and dev.is_kernel_driver_active(iface.number):
                    dev.detach_kernel_driver(iface.number)
                    self.detached = True
            except NotImplementedError:
                pass  # backends without kernel drivers (other OSes, fakes)
            usb.util.claim_interface(dev, iface.number)
            if iface.alt:
                dev.set_interface_altsetting(iface.number, iface.alt)
        except BaseException:
            self.close(reattach=True)
            raise

    def close(self, *, reattach: bool = True) -> None:
        with contextlib.suppress(usb.core.USBError):
            usb.util.release_interface(self.dev, self.iface.number)
        if self.detached and reattach:
            with contextlib.suppress(usb.core.USBError, NotImplementedError):
                self.dev.attach_kernel_driver(self.iface.number)
        self.detached = False
        with contextlib.suppress(usb.core.USBError):
            usb.util.dispose_resources(self.dev)

    def _class_in(self, request: int, value: int, index: int, length: int,
                  timeout_ms: int) -> bytes:
        if (index & 0xFF) == self.iface.number:
            return bytes(self.dev.ctrl_transfer(REQTYPE_CLASS_IN_INTERFACE, request, value,
                                                index, length, timeout_ms))
        # pyusb claims interface (wIndex & 0xFF) before an interface-recipient request, but
        # GET_DEVICE_ID's low byte is the alternate setting (§4.2.1): that could claim some
        # other interface (an IPP-over-USB one).  Ours is claimed; send it directly.
        buf = usb.util.create_buffer(length)
        handle = self.dev._ctx.managed_open()
        count = self.dev.backend.ctrl_transfer(handle, REQTYPE_CLASS_IN_INTERFACE, request,
                                               value, index, buf, timeout_ms)
        return bytes(buf[:count])

    def device_id(self) -> str:
        """GET_DEVICE_ID (§4.2.1)."""
        index = (self.iface.number << 8) | self.iface.alt
        raw = self._class_in(GET_DEVICE_ID, self.iface.config_index, index, MAX_DEVICE_ID,
                             CONTROL_TIMEOUT_MS)
        return decode_length_prefixed(raw)

    def port_status(self) -> int:
        """GET_PORT_STATUS (§4.2.2): the status byte."""
        raw = self._class_in(GET_PORT_STATUS, 0, self.iface.number, 1, STATUS_TIMEOUT_MS)
        if not raw:
            raise usb.core.USBError("empty GET_PORT_STATUS reply", None, errno.EPROTO)
        return raw[0]

    def soft_reset(self) -> None:
        """SOFT_RESET (§4.2.3): 23h as Linux usblp and CUPS send it, 21h if that stalls."""
        try:
            self.dev.ctrl_transfer(REQTYPE_CLASS_OUT_OTHER, SOFT_RESET, 0, self.iface.number,
                                   None, CONTROL_TIMEOUT_MS)
        except usb.core.USBError as exc:
            if not _is_stall(exc):
                raise
            self.dev.ctrl_transfer(REQTYPE_CLASS_OUT_INTERFACE, SOFT_RESET, 0,
                                   self.iface.number, None, CONTROL_TIMEOUT_MS)


@register
class UsbPort(Port):
    """A printer on the USB printer class, found by a :class:`~hal.discovery.Selector` URI."""

    scheme = "usb"

    def __init__(self, uri: str, options: Mapping[str, str] | None = None, *,
                 backend: Any = None) -> None:
        super().__init__(uri, options)
        self.selector = Selector.from_uri(uri)
        opts = self.options
        self._backend = backend
        self.allow_ipp_usb = truthy(opts.get("allow_ipp_usb"))
        self.reattach = truthy(opts.get("reattach"), default=True)
        self.chunk = max(64, int(opts.get("chunk", str(DEFAULT_CHUNK))))
        self.schedule = StatusSchedule(float(opts.get("status_busy_interval", "5")),
                                       float(opts.get("status_backoff_max", "60")))
        self._option_quirks = opts.get("quirks")
        quirks_mod.flags_from_option(self._option_quirks)  # reject unknown flags early
        self._device_id = opts.get("device_id", "")
        self._session: _Session | None = None
        #: The open printer's discovery key (:func:`device_key`), "" while closed.
        self.device_key = ""
        self.quirks: frozenset[str] = frozenset()
        self._status = PortStatus()
        self._status_byte: int | None = None
        #: Class requests actually sent, by name (for diagnostics and tests).
        self.requests: dict[str, int] = {"GET_DEVICE_ID": 0, "GET_PORT_STATUS": 0,
                                         "SOFT_RESET": 0}

    @property
    def backend(self) -> Any:
        return self._backend if self._backend is not None else get_backend()

    @property
    def interface(self) -> PrinterInterface | None:
        return self._session.iface if self._session else None

    @property
    def status_byte(self) -> int | None:
        """The last GET_PORT_STATUS byte (None before the first answer)."""
        return self._status_byte

    # -- finding the device
    def _candidates(self) -> Iterator[tuple[usb.core.Device, PrinterInterface, str]]:
        """Devices that may be the one the URI names, with the interface to use and their
        iSerialNumber (make and model are checked once the device ID is read)."""
        sel = self.selector
        for dev in find_printers(self.backend):
            if sel.location and sel.location != port_path(dev):
                continue
            serial = serial_number(dev)
            # Without an iSerialNumber the device ID's SN: decides, after claiming.
            if sel.serial and serial and serial != sel.serial:
                continue
            hint = quirks_mod.quirks_for(dev.idVendor, dev.idProduct,
                                         option=self._option_quirks)
            iface = choose_interface(
                printer_interfaces(dev, allow_ipp_usb=self.allow_ipp_usb),
                unidirectional=quirks_mod.UNIDIRECTIONAL in hint, number=sel.interface)
            if iface is not None:
                yield dev, iface, serial

    def open(self) -> None:
        """Find the printer the URI names, claim its interface, read its device ID."""
        self.close()
        problem = ""
        try:
            for dev, iface, serial in self._candidates():
                try:
                    session = _Session(dev, iface)
                except usb.core.USBError as exc:  # busy (another program), no permission
                    problem = f": {port_path(dev)} {iface.label}: {exc}"
                    continue
                try:
                    device_id = session.device_id()
                    self.requests["GET_DEVICE_ID"] += 1
                except usb.core.USBError as exc:
                    if _is_gone(exc):
                        session.close(reattach=False)
                        continue
                    log.debug("%s: no device ID: %s", self.uri, exc)
                    device_id = ""
                did = DeviceId.parse(device_id)
                if not self.selector.matches(device_id=did if device_id else None,
                                             serial=serial, location=port_path(dev)):
                    session.close(reattach=self.reattach)
                    continue
                self._session = session
                self.device_key = device_key(dev, serial)
                self._device_id = device_id or self._device_id
                self.quirks = quirks_mod.quirks_for(dev.idVendor, dev.idProduct, did,
                                                    option=self._option_quirks)
                self.schedule.reset()
                self._status, self._status_byte = PortStatus(), None  # a new connection
                if quirks_mod.RESET_ON_OPEN in self.quirks:
                    self.soft_reset()
                log.debug("%s: opened %s %s, quirks %s", self.uri, port_path(dev),
                          iface.label, sorted(self.quirks) or "none")
                return
        except usb.core.USBError as exc:
            self.close()
            raise PortError(f"{self.uri}: {exc}") from exc
        raise PortError(f"no USB printer matching {self.uri}{problem}")

    def close(self) -> None:
        self.device_key = ""
        if self._session is not None:
            session, self._session = self._session, None
            session.close(reattach=self.reattach)

    def _lost(self, exc: usb.core.USBError, what: str) -> PortError:
        """The device went away under us: forget the handle, tell the caller."""
        self.device_key = ""
        if self._session is not None:
            session, self._session = self._session, None
            session.close(reattach=False)
        return PortError(f"{self.uri}: {what}: {exc}")

    def _require(self) -> _Session:
        if self._session is None:
            raise PortError(f"{self.uri}: port not open")
        return self._session

    # -- data
    def write(self, data: bytes | memoryview, timeout: float) -> int:
        session = self._require()
        chunk = memoryview(data)[: self.chunk]
        if not chunk:
            return 0
        timeout_ms = max(1, int(timeout * 1000))
        try:
            taken = int(session.dev.write(session.iface.ep_out, chunk, timeout_ms))
        except usb.core.USBTimeoutError:
            return 0  # the printer NAKed for the whole timeout: back-pressure
        except usb.core.USBError as exc:
            if _is_stall(exc):
                with contextlib.suppress(usb.core.USBError):
                    session.dev.clear_halt(session.iface.ep_out)
                self.schedule.ask_now()  # ask the printer why, now
                raise PortError(f"{self.uri}: bulk OUT stalled: {exc}") from exc
            raise self._lost(exc, "bulk OUT failed") from exc
        if taken:
            self.schedule.progress()
        return taken

    def read(self, size: int, timeout: float) -> bytes:
        """Bulk IN back-channel (protocol 2 interfaces only; never with the quirk)."""
        session = self._require()
        if session.iface.ep_in is None or quirks_mod.UNIDIRECTIONAL in self.quirks:
            return b""
        try:
            data = session.dev.read(session.iface.ep_in, size, max(1, int(timeout * 1000)))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            if _is_stall(exc):
                with contextlib.suppress(usb.core.USBError):
                    session.dev.clear_halt(session.iface.ep_in)
                return b""
            raise self._lost(exc, "bulk IN failed") from exc
        return bytes(data)

    # -- status
    def status(self) -> PortStatus:
        session = self._require()
        if quirks_mod.NO_STATUS in self.quirks:
            return self._status
        if not self.schedule.due():
            return self._status
        self.requests["GET_PORT_STATUS"] += 1
        try:
            byte = session.port_status()
        except usb.core.USBError as exc:
            if _is_gone(exc):
                raise self._lost(exc, "GET_PORT_STATUS failed") from exc
            # Timed out or stalled (request not supported): ask again later, less often.
            delay = self.schedule.failed()
            log.debug("%s: GET_PORT_STATUS failed (%s); next try in %.0f s", self.uri, exc,
                      delay)
            return self._status
        self.schedule.answered()
        self._status_byte = byte
        self._status = PortStatus(decode_status(byte))
        return self._status

    def device_id(self) -> str:
        return self._device_id

    def soft_reset(self) -> None:
        session = self._require()
        try:
            session.soft_reset()
            self.requests["SOFT_RESET"] += 1
        except usb.core.USBError as exc:
            if _is_gone(exc):
                raise self._lost(exc, "SOFT_RESET failed") from exc
            log.warning("%s: SOFT_RESET failed: %s", self.uri, exc)
        self.schedule.ask_now()


def discover(*, skip_keys: Collection[str] = (), options: Mapping[str, str] | None = None,
             backend: Any = None) -> list[Found]:
    """Every USB printer-class device, identified unless its key is in ``skip_keys``."""
    allow_ipp_usb = truthy((options or {}).get("allow_ipp_usb"))
    found = []
    for dev in find_printers(backend):
        try:
            item = _describe(dev, skip_keys, allow_ipp_usb)
        finally:
            with contextlib.suppress(usb.core.USBError):
                usb.util.dispose_resources(dev)  # no handle left open behind us
        if item is not None:
            found.append(item)
    return found


def _describe(dev: usb.core.Device, skip_keys: Collection[str], allow_ipp_usb: bool
              ) -> Found | None:
    ids = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
    ifaces = printer_interfaces(dev, allow_ipp_usb=allow_ipp_usb)
    if not ifaces:
        log.debug("%s %s: only printer interfaces we leave alone (IPP-over-USB)",
                  ids, port_path(dev))
        return None
    serial = serial_number(dev)
    key = device_key(dev, serial)
    hint = quirks_mod.quirks_for(dev.idVendor, dev.idProduct)
    iface = choose_interface(ifaces, unidirectional=quirks_mod.UNIDIRECTIONAL in hint)
    assert iface is not None
    detail = f"USB {port_path(dev)}, {ids}, {iface.label}"
    if key in skip_keys:
        return Found(key, "usb", detail=detail, identified=False, vendor=dev.idVendor,
                     product=dev.idProduct, serial=serial, location=port_path(dev))
    device_id, byte, error = "", None, ""
    try:
        session = _Session(dev, iface)
    except usb.core.USBError as exc:
        error = f"cannot claim {iface.label}: {exc}"
    else:
        try:
            device_id = session.device_id()
            if quirks_mod.NO_STATUS not in quirks_mod.quirks_for(
                    dev.idVendor, dev.idProduct, device_id):
                byte = session.port_status()
        except usb.core.USBError as exc:
            error = str(exc)
        finally:
            session.close(reattach=True)
    did = DeviceId.parse(device_id)
    serial = serial or did.serial
    selector = Selector("usb", did.manufacturer or "Unknown", did.model or ids, serial=serial,
                        location="" if serial else port_path(dev),
                        interface=iface.number or None)
    return Found(
        key=key, kind="usb", uri=selector.to_uri(), device_id=device_id,
        status=PortStatus(decode_status(byte)) if byte is not None else None,
        status_byte=byte, quirks=quirks_mod.quirks_for(dev.idVendor, dev.idProduct, did),
        detail=detail, identified=bool(device_id), error=error, vendor=dev.idVendor,
        product=dev.idProduct, serial=serial, location=port_path(dev))
