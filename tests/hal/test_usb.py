"""``usb:`` — the real pyusb code against a simulated bus of printer-class devices."""

from __future__ import annotations

import random
import threading
import time

import pytest

from firmware.reasons import reasons_for
from hal.discovery import Selector
from hal.port import PortCondition, PortError
from hal.registry import create_port
from hal.usb import UsbPort, discover, find_printers
from tests.hal.fake_usb import FakeBackend, FakePrinter

P2015 = "MFG:Hewlett-Packard;MDL:HP LaserJet P2015;CMD:PCL,PJL,POSTSCRIPT;CLS:PRINTER;"
EPSON = "MANUFACTURER:EPSON;COMMAND SET:ESCPL2,BDC;MODEL:Stylus Color 670;CLASS:PRINTER;"


def laser(name: str = "a", serial: str = "CNB1A00001", **extra: object) -> FakePrinter:
    fields = {"pid": 0x3817, "device_id": P2015, "product": "HP LaserJet P2015", **extra}
    return FakePrinter(name, serial=serial, **fields)  # type: ignore[arg-type]


def open_port(backend: FakeBackend, uri: str = "usb:", **options: str) -> UsbPort:
    port = UsbPort(uri, options, backend=backend)
    port.open()
    return port


def send_all(port: UsbPort, data: bytes, timeout: float = 0.2, limit: float = 10.0) -> int:
    """The worker's loop: resend what the port did not take; returns how many writes."""
    view, calls = memoryview(data), 0
    end = time.monotonic() + limit
    while view:
        assert time.monotonic() < end, "the printer never took the data"
        view = view[port.write(view, timeout):]
        calls += 1
    return calls


def test_registered_and_selected_by_uri() -> None:
    port = create_port("usb://HP/LaserJet%201020?serial=X&interface=1")
    assert isinstance(port, UsbPort)
    assert port.selector == Selector("usb", "HP", "LaserJet 1020", serial="X", interface=1)


def test_discovery_keys_uris_and_ipp_usb_left_alone() -> None:
    lj = laser(port_numbers=(1, 2))
    epson = FakePrinter("e", vid=0x04B8, pid=0x0005, serial="", device_id=EPSON,
                        port_numbers=(1, 3), interfaces=[(7, 1, 4), (7, 1, 2)])
    ipp_only = FakePrinter("i", vid=0x03F0, pid=0x9999, serial="IPP1", interfaces=[(7, 1, 4)])
    backend = FakeBackend([lj, epson, ipp_only])
    found = {f.key: f for f in discover(backend=backend)}
    assert set(found) == {"usb:03f0:3817:CNB1A00001", "usb:04b8:0005@1-1.3"}
    a = found["usb:03f0:3817:CNB1A00001"]
    assert a.uri == "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001"
    assert a.make_and_model == "HP LaserJet P2015" and a.device_id == P2015
    assert a.status is not None and a.status.conditions == frozenset()
    e = found["usb:04b8:0005@1-1.3"]
    assert e.uri == "usb://EPSON/Stylus%20Color%20670?location=1-1.3&interface=1"
    assert e.make_and_model == "EPSON Stylus Color 670"
    # The IPP-over-USB interface (0) was never detached, claimed or asked anything.
    assert not [x for x in epson.events if x.get("interface") == 0]
    assert epson.count("request", name="GET_DEVICE_ID", interface=1) == 1
    assert ipp_only.events == []
    # Discovery gives the printers back to the kernel driver it took them from.
    assert lj.kernel_driver == {0} and epson.kernel_driver == {1}
    # Allowed explicitly, a 7/1/4 interface is a candidate too.
    assert "usb:03f0:9999:IPP1" in {f.key for f in discover(backend=backend,
                                                           options={"allow_ipp_usb": "yes"})}


def test_skip_keys_are_listed_but_not_touched() -> None:
    lj = laser()
    found = discover(backend=FakeBackend([lj]), skip_keys={"usb:03f0:3817:CNB1A00001"})
    assert [(f.key, f.identified) for f in found] == [("usb:03f0:3817:CNB1A00001", False)]
    assert lj.count("claim") == 0 and lj.count("detach") == 0


def test_open_detaches_claims_and_close_reattaches() -> None:
    lj = laser()
    port = open_port(FakeBackend([lj]), "usb://Hewlett-Packard/HP%20LaserJet%20P2015")
    assert port.device_id() == P2015
    assert port.device_key == "usb:03f0:3817:CNB1A00001"
    assert [e["event"] for e in lj.events][:3] == ["detach", "claim", "request"]
    assert lj.kernel_driver == set() and lj.claimed == {0}
    port.close()
    assert lj.kernel_driver == {0} and lj.claimed == set()
    port.close()  # twice is fine


def test_selector_mismatch_is_a_port_error() -> None:
    backend = FakeBackend([laser()])
    for uri in ("usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=OTHER",
                "usb://Canon/LBP2900", "usb://HP/x?location=2-1"):
        with pytest.raises(PortError):
            open_port(backend, uri)
    # The serial number may also live only in the device ID (SN:), not in iSerialNumber.
    sn_only = laser(serial="", device_id=P2015 + "SN:XYZ123;")
    port = open_port(FakeBackend([sn_only]),
                     "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=XYZ123")
    assert port.interface is not None


def test_data_arrives_intact_with_partial_transfers() -> None:
    """A printer slower than the timeout: bulk OUT returns partial counts, nothing lost."""
    lj = laser(rate=400_000)
    port = open_port(FakeBackend([lj]), chunk="16384")
    data = random.Random(1).randbytes(200_000)
    calls = send_all(port, data, timeout=0.01)
    assert bytes(lj.received) == data
    assert calls > len(data) // 16384  # the short timeout made some transfers partial


def test_busy_printer_is_back_pressure_not_an_error() -> None:
    lj = laser(busy=True)
    port = open_port(FakeBackend([lj]))
    start = time.monotonic()
    assert port.write(b"x" * 1000, 0.1) == 0
    assert time.monotonic() - start >= 0.09  # it waited for the timeout
    lj.busy = False
    assert port.write(b"x" * 1000, 0.1) == 1000


@pytest.mark.parametrize(
    ("byte", "conditions", "reasons"),
    [
        (0x18, set(), []),
        (0x38, {PortCondition.PAPER_OUT}, ["media-empty-error"]),
        (0x30, {PortCondition.PAPER_OUT}, ["media-empty-error"]),  # nFault with PError
        (0x08, {PortCondition.OFFLINE}, ["offline-report"]),
        (0x00, {PortCondition.OFFLINE}, ["offline-report"]),
        (0x10, {PortCondition.ERROR}, ["other-error"]),
        (0x28, {PortCondition.PAPER_OUT, PortCondition.OFFLINE},
         ["media-empty-error", "offline-report"]),
    ],
)
def test_port_status_bits_decode_to_reasons(byte: int, conditions: set[PortCondition],
                                            reasons: list[str]) -> None:
    port = open_port(FakeBackend([laser(status=byte)]))
    status = port.status()
    assert status.conditions == conditions
    assert reasons_for(status.conditions) == reasons
    assert port.status_byte == byte
    assert status.ready == (not conditions)


def test_port_status_bits_decode_to_snmp_bits() -> None:
    host_resources = pytest.importorskip("firmware.snmp.host_resources")
    port = open_port(FakeBackend([laser(status=0x38)]))
    bits = {host_resources.CONDITION_BITS[c] for c in port.status().conditions}
    assert bits == {"noPaper"}
    port = open_port(FakeBackend([laser(status=0x08)]))
    assert {host_resources.CONDITION_BITS[c] for c in port.status().conditions} == {"offline"}


def test_status_polling_never_slows_printing() -> None:
    """The worker polls status between writes; while data flows the port asks the printer
    at most every status_busy_interval, and asks every time once data stops."""
    lj = laser(rate=2_000_000)
    port = open_port(FakeBackend([lj]), status_busy_interval="5")
    data = bytes(400_000)
    view = memoryview(data)
    while view:
        view = view[port.write(view, 0.2):]
        port.status()
    assert lj.count("request", name="GET_PORT_STATUS") == 1  # one, then the cache
    lj.busy, lj.status = True, 0x38
    time.sleep(1.05)  # nothing taken for a second: the printer may be stuck
    assert port.write(b"more", 0.05) == 0
    assert port.status().conditions == {PortCondition.PAPER_OUT}
    assert port.status().conditions == {PortCondition.PAPER_OUT}
    assert lj.count("request", name="GET_PORT_STATUS") == 3


def test_status_request_failures_back_off() -> None:
    lj = laser(status_mode="timeout")
    port = open_port(FakeBackend([lj]))
    for _ in range(5):
        assert port.status().conditions == frozenset()  # unknown: nothing to report
    assert lj.count("request", name="GET_PORT_STATUS") == 1
    assert port.schedule.failures == 1
    lj.status_mode = "stall"
    port.schedule.ask_now()
    port.status()
    assert port.schedule.failures == 2 and lj.count("request", name="GET_PORT_STATUS") == 2
    lj.status_mode, lj.status = "ok", 0x08
    port.schedule.ask_now()
    assert port.status().conditions == {PortCondition.OFFLINE}
    assert port.schedule.failures == 0


def test_no_status_quirk_never_asks() -> None:
    lj = laser(status=0x38)
    port = open_port(FakeBackend([lj]), quirks="no-status")
    assert port.status().conditions == frozenset()
    assert lj.count("request", name="GET_PORT_STATUS") == 0


def test_stalled_bulk_out_is_cleared_and_reported() -> None:
    lj = laser(stall_next_write=True)
    port = open_port(FakeBackend([lj]))
    with pytest.raises(PortError, match="stalled"):
        port.write(b"y" * 4096, 0.5)
    assert lj.count("clear_halt", endpoint=0x01) == 1
    assert port.write(b"z" * 100, 0.5) == 100  # the endpoint works again


def test_unplug_mid_transfer_is_enodev_and_replug_reopens() -> None:
    lj = laser(rate=200_000)
    backend = FakeBackend([lj])
    port = open_port(backend, "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001")
    timer = threading.Timer(0.05, lj.unplug)
    timer.start()
    with pytest.raises(PortError, match="No such device"):
        port.write(bytes(100_000), 2.0)
    timer.join()
    assert 0 < len(lj.received) < 100_000  # the printer got part of it; the host cannot know
    assert port.interface is None and port.device_key == ""
    with pytest.raises(PortError):
        port.status()
    with pytest.raises(PortError, match="no USB printer matching"):
        port.open()
    lj.plug()
    port.open()
    assert port.write(b"again", 0.5) == 5
    assert lj.received.endswith(b"again")


def test_soft_reset_uses_23h_then_21h() -> None:
    linux_style, spec_style = laser("a"), laser("b", serial="S2", reset_types=(0x21,))
    backend = FakeBackend([linux_style, spec_style])
    open_port(backend, "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001"
              ).soft_reset()
    assert [e["type"] for e in linux_style.events if e["event"] == "reset"] == [0x23]
    port = open_port(backend, "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=S2")
    port.soft_reset()
    assert spec_style.count("request", name="SOFT_RESET", type=0x23, stalled=True) == 1
    assert [e["type"] for e in spec_style.events if e["event"] == "reset"] == [0x21]
    assert port.requests["SOFT_RESET"] == 1


def test_reset_on_open_quirk() -> None:
    lj = laser()
    open_port(FakeBackend([lj]), quirks="reset-on-open")
    assert lj.count("reset") == 1


def test_back_channel_and_the_unidirectional_quirk() -> None:
    p2015 = laser(back_channel=bytearray(b"@PJL INFO STATUS\r\nCODE=10001\r\n"))
    port = open_port(FakeBackend([p2015]))
    assert port.read(64, 0.1) == b"@PJL INFO STATUS\r\nCODE=10001\r\n"
    assert port.read(64, 0.01) == b""  # nothing more: a timeout, not an error
    # The LaserJet 1020 family hangs when read while printing: never read it.
    lj1020 = FakePrinter("lj", serial="VNC1", back_channel=bytearray(b"never"))
    port = open_port(FakeBackend([lj1020]))
    assert "unidirectional" in port.quirks
    assert port.read(64, 0.1) == b""
    assert lj1020.back_channel == bytearray(b"never")


def test_unidirectional_quirk_prefers_a_unidirectional_alternate_setting() -> None:
    lj1020 = FakePrinter("lj", serial="VNC1", interfaces=[[(7, 1, 2), (7, 1, 1)]])
    port = open_port(FakeBackend([lj1020]))
    assert port.interface is not None
    assert (port.interface.alt, port.interface.protocol) == (1, 1)
    assert lj1020.count("altsetting", interface=0, alt=1) == 1
    other = laser(interfaces=[[(7, 1, 1), (7, 1, 2)]])
    port = open_port(FakeBackend([other]))
    assert port.interface is not None and port.interface.protocol == 2


def test_busy_interface_is_skipped_for_the_next_match() -> None:
    """A printer claimed by another program (EBUSY) is not ours; a wildcard URI takes the
    next printer instead."""
    taken, free = laser("a"), laser("b", serial="CNB1A00002")
    taken.kernel_driver = set()
    taken.claimed = {0}  # someone else holds it
    port = open_port(FakeBackend([taken, free]))
    assert port.device_key == "usb:03f0:3817:CNB1A00002"


def test_find_printers_without_libusb_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    def no_backend(**kwargs: object) -> object:
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_backend)
    assert find_printers(backend=None) == []
