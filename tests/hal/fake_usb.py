"""A pyusb backend whose bus holds simulated USB printer-class printers.

``usb.core.find(backend=FakeBackend(...))`` runs the real pyusb code (descriptor parsing,
interface claiming, string descriptors, transfers) against these printers, which behave
as USB Printer Class 1.1 devices do:

* descriptors: device, one configuration, printer interfaces (7/1/1, 7/1/2, or an
  IPP-over-USB 7/1/4 one in front), bulk OUT and (bidirectional) bulk IN endpoints, and
  string descriptors for manufacturer, product and serial number;
* the three class requests: GET_DEVICE_ID (§4.2.1, length-prefixed), GET_PORT_STATUS
  (§4.2.2, the ``status`` byte) and SOFT_RESET (§4.2.3; ``reset_types`` says which
  bmRequestType values it accepts, any other stalls);
* bulk OUT at ``rate`` bytes/s: a transfer that cannot finish within its timeout returns
  the partial count (as pyusb's libusb1 backend does) or raises USBTimeoutError when
  nothing went; ``busy`` (paper out, off line) NAKs everything;
* ``stall_next_write`` STALLs the bulk OUT endpoint until CLEAR_FEATURE(HALT);
  ``status_mode`` ``timeout`` or ``stall`` makes GET_PORT_STATUS fail that way;
* unplugging: the device leaves the bus and every handle to it fails with ENODEV
  (LIBUSB_ERROR_NO_DEVICE), also in the middle of a transfer — then the printer has
  received part of the chunk that the host never hears about.  Plugging it back in
  gives it a new address, as a real replug does; old handles stay dead.

Kernel drivers: interfaces in ``kernel_driver`` start bound (to "usblp"), so the port
must detach before it claims; the fake records every claim and detach per interface.

Cross-process use (a daemon under test): ``PRINTBRIDGE_USB_BACKEND=
tests.hal.fake_usb:backend_from_env`` with ``PRINTBRIDGE_FAKE_USB=DIR``; ``DIR/bus.json``
lists the printers, ``DIR/<name>.control.json`` changes one at run time (plugged, status,
busy, rate ...) and the printer writes what it received to ``DIR/<name>.data`` and its
events to ``DIR/<name>.events`` (JSON lines).  :class:`BusDir` is the test's side.
"""

from __future__ import annotations

import array
import errno
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import usb.backend
import usb.core

from hal.ieee1284 import STATUS_READY, encode_length_prefixed

ENV_DIR = "PRINTBRIDGE_FAKE_USB"

LIBUSB_ERROR_NO_DEVICE = -4
LIBUSB_ERROR_BUSY = -6
LIBUSB_ERROR_TIMEOUT = -7
LIBUSB_ERROR_PIPE = -9
LIBUSB_ERROR_NOT_FOUND = -5

#: Fields a control file may change at run time.
CONTROL_FIELDS = ("plugged", "status", "busy", "rate", "stall_next_write", "status_mode",
                  "device_id")


def no_device() -> usb.core.USBError:
    return usb.core.USBError("No such device (it may have been disconnected)",
                             LIBUSB_ERROR_NO_DEVICE, errno.ENODEV)


def pipe_error() -> usb.core.USBError:
    return usb.core.USBError("Pipe error", LIBUSB_ERROR_PIPE, errno.EPIPE)


def timeout_error() -> usb.core.USBTimeoutError:
    return usb.core.USBTimeoutError("Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT)


class Desc:
    """A descriptor: attributes named as in the USB 2.0 spec (§9.6), as pyusb expects."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


@dataclass
class FakePrinter:
    name: str
    vid: int = 0x03F0
    pid: int = 0x2B17
    serial: str = ""
    manufacturer: str = "Hewlett-Packard"
    product: str = "HP LaserJet 1020"
    device_id: str = "MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ZJS,PJL;CLS:PRINTER;"
    bus: int = 1
    port_numbers: tuple[int, ...] = (1,)
    #: (class, subclass, protocol) per interface number; alternate settings per entry
    #: when it is a list of such tuples.
    interfaces: list[Any] = field(default_factory=lambda: [(7, 1, 2)])
    plugged: bool = True
    status: int = STATUS_READY
    busy: bool = False
    rate: float = 0.0  # bytes/s the printer takes, 0 = as fast as offered
    stall_next_write: bool = False
    status_mode: str = "ok"  # ok | timeout | stall
    reset_types: tuple[int, ...] = (0x21, 0x23)
    kernel_driver: set[int] = field(default_factory=set)
    back_channel: bytearray = field(default_factory=bytearray)
    spool: Path | None = None
    # -- what happened
    received: bytearray = field(default_factory=bytearray)
    events: list[dict[str, Any]] = field(default_factory=list)
    generation: int = 1
    address: int = 2
    halted: set[int] = field(default_factory=set)
    claimed: set[int] = field(default_factory=set)
    _control_mtime: float = 0.0

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        if not self.kernel_driver:
            self.kernel_driver = self.default_kernel_driver()

    def default_kernel_driver(self) -> set[int]:
        """The kernel's usblp binds 7/1/1, 7/1/2 and 7/1/3 interfaces (not 7/1/4)."""
        return {n for n, alts in enumerate(self.alt_table())
                if any(a[:2] == (7, 1) and a[2] in (1, 2, 3) for a in alts)}

    # -- layout
    def alt_table(self) -> list[list[tuple[int, int, int]]]:
        table = []
        for entry in self.interfaces:
            table.append([tuple(a) for a in entry] if isinstance(entry, list) else [tuple(entry)])
        return table

    # -- run-time control (tests in another process write the control file)
    def refresh(self) -> None:
        if self.spool is None:
            return
        path = self.spool / f"{self.name}.control.json"
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._control_mtime:
            return
        self._control_mtime = mtime
        try:
            control = json.loads(path.read_text())
        except ValueError:
            return  # half-written: read again next time
        for key in CONTROL_FIELDS:
            if key in control:
                if key == "plugged":
                    self.set_plugged(bool(control[key]))
                else:
                    setattr(self, key, control[key])

    def set_plugged(self, plugged: bool) -> None:
        with self.lock:
            if plugged and not self.plugged:
                self.generation += 1
                self.address += 1
                self.halted.clear()
                self.claimed.clear()
                self.kernel_driver = self.default_kernel_driver()
                self.record({"event": "plug"})
            elif not plugged and self.plugged:
                self.record({"event": "unplug"})
            self.plugged = plugged

    def unplug(self) -> None:
        self.set_plugged(False)

    def plug(self) -> None:
        self.set_plugged(True)

    # -- what the printer saw
    def record(self, event: dict[str, Any], data: bytes = b"") -> None:
        with self.lock:
            if data:
                event = {**event, "offset": len(self.received), "size": len(data)}
                self.received += data
            self.events.append(event)
            if self.spool is not None:
                if data:
                    with open(self.spool / f"{self.name}.data", "ab") as fh:
                        fh.write(data)
                with open(self.spool / f"{self.name}.events", "a") as fh:
                    fh.write(json.dumps(event) + "\n")

    def count(self, event: str, **match: Any) -> int:
        return sum(1 for e in self.events if e["event"] == event
                   and all(e.get(k) == v for k, v in match.items()))


@dataclass
class Handle:
    printer: FakePrinter
    generation: int
    claimed: set[int] = field(default_factory=set)
    configuration: int = 1


def _printer(spec: dict[str, Any], spool: Path | None) -> FakePrinter:
    spec = dict(spec)
    if "port_numbers" in spec:
        spec["port_numbers"] = tuple(spec["port_numbers"])
    if "interfaces" in spec:
        spec["interfaces"] = [list(map(tuple, e)) if e and isinstance(e[0], list) else tuple(e)
                              for e in spec["interfaces"]]
    if "reset_types" in spec:
        spec["reset_types"] = tuple(spec["reset_types"])
    return FakePrinter(spool=spool, **spec)


class FakeBackend(usb.backend.IBackend):
    """pyusb's backend interface over a list of :class:`FakePrinter`."""

    def __init__(self, printers: list[FakePrinter]) -> None:
        super().__init__()
        self.printers = printers

    # -- enumeration and descriptors
    def enumerate_devices(self) -> list[tuple[FakePrinter, int]]:
        for p in self.printers:
            p.refresh()
        return [(p, p.generation) for p in self.printers if p.plugged]

    def get_device_descriptor(self, dev: tuple[FakePrinter, int]) -> Desc:
        p, _ = dev
        return Desc(bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0,
                    bDeviceSubClass=0, bDeviceProtocol=0, bMaxPacketSize0=64,
                    idVendor=p.vid, idProduct=p.pid, bcdDevice=0x0100, iManufacturer=1,
                    iProduct=2, iSerialNumber=3 if p.serial else 0, bNumConfigurations=1,
                    address=p.address, bus=p.bus, port_number=p.port_numbers[-1],
                    port_numbers=p.port_numbers, speed=3)

    def get_configuration_descriptor(self, dev: tuple[FakePrinter, int], config: int) -> Desc:
        p, _ = dev
        if config != 0:
            raise IndexError(config)
        return Desc(bLength=9, bDescriptorType=2, wTotalLength=0,
                    bNumInterfaces=len(p.alt_table()), bConfigurationValue=1,
                    iConfiguration=0, bmAttributes=0xC0, bMaxPower=1, extra_descriptors=[])

    def get_interface_descriptor(self, dev: tuple[FakePrinter, int], intf: int, alt: int,
                                 config: int) -> Desc:
        p, _ = dev
        table = p.alt_table()
        if config != 0 or intf >= len(table) or alt >= len(table[intf]):
            raise IndexError((intf, alt))
        cls, sub, proto = table[intf][alt]
        return Desc(bLength=9, bDescriptorType=4, bInterfaceNumber=intf, bAlternateSetting=alt,
                    bNumEndpoints=1 if proto == 1 else 2, bInterfaceClass=cls,
                    bInterfaceSubClass=sub, bInterfaceProtocol=proto, iInterface=0,
                    extra_descriptors=[])

    def get_endpoint_descriptor(self, dev: tuple[FakePrinter, int], ep: int, intf: int,
                                alt: int, config: int) -> Desc:
        iface = self.get_interface_descriptor(dev, intf, alt, config)
        if ep >= iface.bNumEndpoints:
            raise IndexError(ep)
        address = (0x01 + intf) if ep == 0 else (0x81 + intf)
        return Desc(bLength=7, bDescriptorType=5, bEndpointAddress=address, bmAttributes=0x02,
                    wMaxPacketSize=512, bInterval=0, bRefresh=0, bSynchAddress=0,
                    extra_descriptors=[])

    # -- handles
    def _live(self, handle: Handle) -> FakePrinter:
        p = handle.printer
        p.refresh()
        if not p.plugged or p.generation != handle.generation:
            raise no_device()
        return p

    def open_device(self, dev: tuple[FakePrinter, int]) -> Handle:
        p, generation = dev
        handle = Handle(p, generation)
        self._live(handle)
        return handle

    def close_device(self, dev_handle: Handle) -> None:
        for intf in list(dev_handle.claimed):
            dev_handle.printer.claimed.discard(intf)
        dev_handle.claimed.clear()

    def set_configuration(self, dev_handle: Handle, config_value: int) -> None:
        self._live(dev_handle)
        if dev_handle.printer.claimed or dev_handle.printer.kernel_driver:
            # Linux refuses to change the configuration under bound interfaces.
            raise usb.core.USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: Handle) -> int:
        self._live(dev_handle)
        return dev_handle.configuration

    def set_interface_altsetting(self, dev_handle: Handle, intf: int, altsetting: int) -> None:
        self._live(dev_handle)
        dev_handle.printer.record({"event": "altsetting", "interface": intf, "alt": altsetting})

    def claim_interface(self, dev_handle: Handle, intf: int) -> None:
        p = self._live(dev_handle)
        with p.lock:
            if intf in p.kernel_driver or (intf in p.claimed and intf not in dev_handle.claimed):
                raise usb.core.USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)
            p.claimed.add(intf)
            dev_handle.claimed.add(intf)
            p.record({"event": "claim", "interface": intf})

    def release_interface(self, dev_handle: Handle, intf: int) -> None:
        dev_handle.claimed.discard(intf)
        dev_handle.printer.claimed.discard(intf)
        self._live(dev_handle)

    def is_kernel_driver_active(self, dev_handle: Handle, intf: int) -> bool:
        return intf in self._live(dev_handle).kernel_driver

    def detach_kernel_driver(self, dev_handle: Handle, intf: int) -> None:
        p = self._live(dev_handle)
        if intf not in p.kernel_driver:
            raise usb.core.USBError("Entity not found", LIBUSB_ERROR_NOT_FOUND, errno.ENOENT)
        p.kernel_driver.discard(intf)
        p.record({"event": "detach", "interface": intf})

    def attach_kernel_driver(self, dev_handle: Handle, intf: int) -> None:
        p = self._live(dev_handle)
        p.kernel_driver.add(intf)
        p.record({"event": "attach", "interface": intf})

    def clear_halt(self, dev_handle: Handle, ep: int) -> None:
        p = self._live(dev_handle)
        p.halted.discard(ep)
        p.record({"event": "clear_halt", "endpoint": ep})

    def reset_device(self, dev_handle: Handle) -> None:
        self._live(dev_handle)

    # -- transfers
    def bulk_write(self, dev_handle: Handle, ep: int, intf: int, data: array.array,
                   timeout: int) -> int:
        p = self._live(dev_handle)
        if intf not in dev_handle.claimed:
            raise usb.core.USBError("interface not claimed", LIBUSB_ERROR_NOT_FOUND, errno.ENOENT)
        if ep in p.halted:
            raise pipe_error()
        if p.stall_next_write:
            # The printer takes a few packets, then STALLs: the host learns nothing of them.
            p.stall_next_write = False
            p.halted.add(ep)
            p.record({"event": "data"}, bytes(data[:512]))
            p.record({"event": "stall", "endpoint": ep})
            raise pipe_error()
        payload = data.tobytes()
        deadline = time.monotonic() + timeout / 1000
        if p.busy:
            while time.monotonic() < deadline:  # NAK after NAK, until the timeout
                time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
                self._live(dev_handle)
                if not p.busy:
                    break
            if p.busy:
                raise timeout_error()
        if p.rate <= 0:
            p.record({"event": "data"}, payload)
            return len(payload)
        taken = 0
        step = max(512, int(p.rate * 0.01))  # 10 ms worth of packets at a time
        while taken < len(payload):
            if time.monotonic() >= deadline:
                break
            piece = payload[taken: taken + step]
            time.sleep(len(piece) / p.rate)
            if not p.plugged or p.generation != dev_handle.generation:
                break
            p.refresh()
            if not p.plugged:
                break
            p.record({"event": "data"}, piece)
            taken += len(piece)
        if not p.plugged or p.generation != dev_handle.generation:
            raise no_device()  # what reached the printer of this transfer is never reported
        if taken == 0:
            raise timeout_error()
        return taken

    def bulk_read(self, dev_handle: Handle, ep: int, intf: int, buff: array.array,
                  timeout: int) -> int:
        p = self._live(dev_handle)
        if not p.back_channel:
            time.sleep(min(timeout, 50) / 1000)
            raise timeout_error()
        with p.lock:
            count = min(len(buff), len(p.back_channel))
            buff[:count] = array.array("B", p.back_channel[:count])
            del p.back_channel[:count]
        return count

    def ctrl_transfer(self, dev_handle: Handle, bmRequestType: int, bRequest: int,
                      wValue: int, wIndex: int, data: array.array, timeout: int) -> Any:
        p = self._live(dev_handle)
        kind = bmRequestType & 0x60
        if kind == 0x00 and bRequest == 6 and (wValue >> 8) == 3:  # GET_DESCRIPTOR string
            index = wValue & 0xFF
            if index == 0:
                reply = bytes([4, 3, 0x09, 0x04])  # LANGID en-US
            else:
                text = {1: p.manufacturer, 2: p.product, 3: p.serial}.get(index)
                if text is None:
                    raise pipe_error()
                encoded = text.encode("utf-16-le")
                reply = bytes([2 + len(encoded), 3]) + encoded
            return self._reply(data, reply)
        if kind != 0x20:
            raise pipe_error()
        if bmRequestType == 0xA1 and bRequest == 0:  # GET_DEVICE_ID (§4.2.1)
            interface, alt = wIndex >> 8, wIndex & 0xFF
            p.record({"event": "request", "name": "GET_DEVICE_ID", "interface": interface,
                      "alt": alt, "config": wValue})
            if interface not in dev_handle.claimed:
                raise pipe_error()
            return self._reply(data, encode_length_prefixed(p.device_id))
        if bmRequestType == 0xA1 and bRequest == 1:  # GET_PORT_STATUS (§4.2.2)
            p.record({"event": "request", "name": "GET_PORT_STATUS", "interface": wIndex})
            if p.status_mode == "timeout":
                time.sleep(min(timeout, 50) / 1000)
                raise timeout_error()
            if p.status_mode == "stall":
                raise pipe_error()
            return self._reply(data, bytes([p.status]))
        if bmRequestType in (0x21, 0x23) and bRequest == 2:  # SOFT_RESET (§4.2.3)
            if bmRequestType not in p.reset_types:
                p.record({"event": "request", "name": "SOFT_RESET", "type": bmRequestType,
                          "stalled": True})
                raise pipe_error()
            p.record({"event": "reset", "type": bmRequestType, "interface": wIndex})
            p.halted.clear()
            return 0
        raise pipe_error()

    @staticmethod
    def _reply(buff: array.array, reply: bytes) -> int:
        count = min(len(buff), len(reply))
        buff[:count] = array.array("B", reply[:count])
        return count


# -- cross-process use
_BACKENDS: dict[str, FakeBackend] = {}


def backend_from_env() -> FakeBackend:
    """The factory ``PRINTBRIDGE_USB_BACKEND`` names: the bus in ``$PRINTBRIDGE_FAKE_USB``."""
    directory = os.environ[ENV_DIR]
    if directory not in _BACKENDS:
        spool = Path(directory)
        specs = json.loads((spool / "bus.json").read_text())
        _BACKENDS[directory] = FakeBackend([_printer(s, spool) for s in specs])
    return _BACKENDS[directory]


class BusDir:
    """The test's side of a bus that lives in another process."""

    def __init__(self, path: Path, printers: list[dict[str, Any]]) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        (path / "bus.json").write_text(json.dumps(printers))
        self.names = [p["name"] for p in printers]

    @property
    def env(self) -> dict[str, str]:
        return {"PRINTBRIDGE_USB_BACKEND": "tests.hal.fake_usb:backend_from_env",
                ENV_DIR: str(self.path)}

    def control(self, name: str, **changes: Any) -> None:
        path = self.path / f"{name}.control.json"
        try:
            current = json.loads(path.read_text())
        except FileNotFoundError:
            current = {}
        current.update(changes)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(current))
        os.replace(tmp, path)
        # A control file rewritten within the same mtime tick would go unnoticed.
        stamp = time.time_ns()
        os.utime(path, ns=(stamp, stamp))

    def plug(self, name: str) -> None:
        self.control(name, plugged=True)

    def unplug(self, name: str) -> None:
        self.control(name, plugged=False)

    def events(self, name: str) -> list[dict[str, Any]]:
        path = self.path / f"{name}.events"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def data(self, name: str) -> bytes:
        path = self.path / f"{name}.data"
        return path.read_bytes() if path.exists() else b""


def segments(events: list[dict[str, Any]], data: bytes) -> list[tuple[str, bytes]]:
    """The printer's input split at resets and plug events: [(what began it, bytes)]."""
    out: list[tuple[str, bytearray]] = [("start", bytearray())]
    for event in events:
        if event["event"] in ("reset", "plug", "unplug"):
            out.append((event["event"], bytearray()))
        elif event["event"] == "data":
            out[-1][1].extend(data[event["offset"]: event["offset"] + event["size"]])
    return [(what, bytes(chunk)) for what, chunk in out]
