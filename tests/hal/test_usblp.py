"""``usblp:`` against a fake of the open/read/write/ioctl layer answering as usblp does."""

from __future__ import annotations

import random

import pytest

from firmware.reasons import reasons_for
from hal.port import PortCondition, PortError
from hal.registry import create_port
from hal.usblp import UsblpPort, discover
from tests.hal.fake_devfiles import FakeFiles, UsblpPrinter

P2015 = "MFG:Hewlett-Packard;MDL:HP LaserJet P2015;CMD:PCL,PJL,POSTSCRIPT;CLS:PRINTER;"
LJ1020 = "MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ZJS,PJL;CLS:PRINTER;"


def files_with(*printers: tuple[str, UsblpPrinter, str, str]) -> FakeFiles:
    files = FakeFiles()
    for node, printer, location, serial in printers:
        files.add_usblp(node, printer, location=location, serial=serial)
    return files


def open_port(files: FakeFiles, uri: str = "usblp:/dev/usb/lp0", **options: str) -> UsblpPort:
    port = UsblpPort(uri, options, files=files)
    port.open()
    return port


def test_registered() -> None:
    assert isinstance(create_port("usblp:/dev/usb/lp0"), UsblpPort)


def test_device_id_status_and_data() -> None:
    printer = UsblpPrinter(device_id=P2015, status=0x38)
    files = files_with(("/dev/usb/lp0", printer, "1-1.4", "CNB1"))
    port = open_port(files)
    assert port.device_id() == P2015
    assert port.device_key == "usblp:03f0:3817:CNB1"
    status = port.status()
    assert status.conditions == {PortCondition.PAPER_OUT}
    assert reasons_for(status.conditions) == ["media-empty-error"]
    data = random.Random(2).randbytes(50_000)
    view = memoryview(data)
    while view:
        view = view[port.write(view, 0.1):]
    assert bytes(printer.received) == data
    port.soft_reset()
    assert printer.resets == 1


def test_busy_is_back_pressure_and_unplug_is_a_port_error() -> None:
    printer = UsblpPrinter(device_id=P2015, busy=True)
    port = open_port(files_with(("/dev/usb/lp0", printer, "", "")))
    assert port.write(b"abc", 0.01) == 0
    printer.busy = False
    assert port.write(b"abc", 0.01) == 3
    printer.present = False
    with pytest.raises(PortError):
        port.write(b"abc", 0.01)
    assert port.fd is None  # closed: the next open finds it again or fails
    with pytest.raises(PortError):
        port.open()


def test_status_failure_backs_off_and_no_status_quirk() -> None:
    printer = UsblpPrinter(device_id=P2015, status_fails=True)
    files = files_with(("/dev/usb/lp0", printer, "", ""))
    port = open_port(files)
    assert port.status().conditions == frozenset()
    port.status()
    assert files.ioctls.count(("usblp", 0x060B)) == 1  # backed off after the EIO
    port.close()
    port = open_port(files, quirks="no-status")
    port.status()
    assert files.ioctls.count(("usblp", 0x060B)) == 1


def test_quirks_from_vid_pid_ioctl_and_back_channel() -> None:
    lj = UsblpPrinter(device_id=LJ1020, pid=0x2B17, back_channel=bytearray(b"hello"))
    port = open_port(files_with(("/dev/usb/lp0", lj, "", "")))
    assert "unidirectional" in port.quirks
    assert port.read(10, 0.01) == b""
    other = UsblpPrinter(device_id=P2015, back_channel=bytearray(b"@PJL USTATUS"))
    port = open_port(files_with(("/dev/usb/lp0", other, "", "")))
    assert port.read(100, 0.01) == b"@PJL USTATUS"
    uni = UsblpPrinter(device_id=P2015, bidirectional=False)
    port = open_port(files_with(("/dev/usb/lp0", uni, "", "")))
    assert port.read(100, 0.01) == b""  # EINVAL from usblp: no back-channel


def test_stable_uri_survives_node_renumbering() -> None:
    """Nodes are numbered in plug order; the discovered URI names the printer by serial."""
    a, b = UsblpPrinter(device_id=P2015), UsblpPrinter(device_id=P2015, pid=0x3818)
    files = files_with(("/dev/usb/lp0", a, "1-1.2", "CNB1"), ("/dev/usb/lp1", b, "1-1.3", ""))
    found = {f.key: f for f in discover(files=files)}
    assert set(found) == {"usblp:03f0:3817:CNB1", "usblp:03f0:3818@1-1.3"}
    uri_a = found["usblp:03f0:3817:CNB1"].uri
    uri_b = found["usblp:03f0:3818@1-1.3"].uri
    assert uri_a == "usblp://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1"
    assert uri_b == "usblp://Hewlett-Packard/HP%20LaserJet%20P2015?location=1-1.3"
    # After a reboot they come up the other way round.
    swapped = files_with(("/dev/usb/lp0", b, "1-1.3", ""), ("/dev/usb/lp1", a, "1-1.2", "CNB1"))
    assert open_port(swapped, uri_a).opened_node == "/dev/usb/lp1"
    assert open_port(swapped, uri_b).opened_node == "/dev/usb/lp0"


def test_discovery_skips_busy_and_known_nodes() -> None:
    a = UsblpPrinter(device_id=P2015, opened=True)  # another program has it
    b = UsblpPrinter(device_id=P2015, pid=0x3818)
    files = files_with(("/dev/usb/lp0", a, "1-1.2", "CNB1"), ("/dev/usb/lp1", b, "1-1.3", ""))
    found = {f.key: f for f in discover(files=files, skip_keys={"usblp:03f0:3818@1-1.3"})}
    assert not found["usblp:03f0:3817:CNB1"].identified
    assert "Device or resource busy" in found["usblp:03f0:3817:CNB1"].error
    assert not found["usblp:03f0:3818@1-1.3"].identified
    assert not any(kind == "usblp" for kind, _ in files.ioctls)
