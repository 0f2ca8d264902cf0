"""Discovery across port kinds, stable URIs, queue names and the udev watcher."""

from __future__ import annotations

import os
import sys
import types
from collections import deque
from typing import Any

import pytest

from firmware.hotplug import queue_name
from hal import discovery
from hal.discovery import Selector, discover
from hal.ieee1284 import DeviceId
from hal.udev import DeviceWatcher
from tests.hal.fake_usb import FakePrinter


@pytest.mark.parametrize(
    "selector",
    [Selector("usb", "HP", "LaserJet 1020", serial="VNC3K1"),
     Selector("usb", "EPSON", "Stylus Color 670", location="1-1.3", interface=1),
     Selector("usblp", "Brother", "HL-1110 series/Bonus", serial="A;B&C=D"),
     Selector("usb")],
)
def test_selector_uri_round_trip(selector: Selector) -> None:
    assert Selector.from_uri(selector.to_uri()) == selector


def test_selector_matching() -> None:
    did = DeviceId.parse("MFG:HP;MDL:LaserJet 1020;SN:VNC3K1;")
    sel = Selector.from_uri("usb://hp/laserjet%201020?serial=VNC3K1")
    assert sel.matches(device_id=did, serial="")  # SN: in the device ID is enough
    assert sel.matches(device_id=None, serial="VNC3K1")  # before the device ID is read
    no_sn = DeviceId.parse("MFG:HP;MDL:LaserJet 1020;")
    assert not sel.matches(device_id=no_sn, serial="OTHER")
    assert not Selector.from_uri("usb://HP/LaserJet%201022").matches(device_id=did)
    assert Selector.from_uri("usb:").matches(device_id=did)
    assert not Selector.from_uri("usb://HP/x?location=1-2").matches(device_id=None,
                                                                     location="1-3")
    assert Selector.from_uri("usb://HP/LaserJet%201020").needs_device_id


def test_queue_names_are_safe_and_unique() -> None:
    taken = {"HP_LaserJet_1020", "Office"}
    assert queue_name("HP LaserJet 1020", taken) == "HP_LaserJet_1020-2"
    assert queue_name("HP LaserJet 1020", taken | {"hp_laserjet_1020-2"}) == "HP_LaserJet_1020-3"
    assert queue_name("EPSON Stylus/Color (670)", taken) == "EPSON_Stylus_Color_670"
    assert queue_name("", taken) == "Printer"


def test_discover_merges_kinds_and_survives_a_broken_one(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from tests.hal import fake_usb

    backend = fake_usb.FakeBackend([FakePrinter("a", pid=0x3817, serial="S1")])
    monkeypatch.setattr("hal.usb.get_backend", lambda: backend)

    def broken(**kwargs: Any) -> list[Any]:
        raise PermissionError("no access to /dev/usb")

    monkeypatch.setattr("hal.usblp.discover", broken)
    found = discover(["usb", "usblp"])
    assert [f.key for f in found] == ["usb:03f0:3817:S1"]
    assert "discovery of usblp printers failed" in caplog.text
    with pytest.raises(ValueError):
        discover(["firewire"])
    assert set(discovery.DISCOVERABLE) == {"usb", "usblp", "parallel"}


class FakeMonitor:
    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        self.queue: deque[Any] = deque()
        self.filters: list[str] = []
        self.started = False

    def filter_by(self, subsystem: str) -> None:
        self.filters.append(subsystem)

    def start(self) -> None:
        self.started = True

    def fileno(self) -> int:
        return self.read_end

    def poll(self, timeout: float = 0) -> Any:
        return self.queue.popleft() if self.queue else None


def test_udev_watcher_with_pyudev(monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = FakeMonitor()
    fake = types.ModuleType("pyudev")
    fake.Context = lambda: object()  # type: ignore[attr-defined]
    fake.Monitor = types.SimpleNamespace(  # type: ignore[attr-defined]
        from_netlink=lambda ctx: monitor)
    monkeypatch.setitem(sys.modules, "pyudev", fake)
    watcher = DeviceWatcher("auto")
    assert watcher.active and monitor.started
    assert {"usb", "usbmisc", "parport"} <= set(monitor.filters)
    assert watcher.fileno() == monitor.read_end
    path = "/devices/usb1/1-1/1-1:1.0/usbmisc/lp0"
    monitor.queue.append(types.SimpleNamespace(action="add", subsystem="usbmisc",
                                               device_path=path))
    assert watcher.drain() == [f"add usbmisc {path}"]
    assert watcher.drain() == []
    os.close(monitor.read_end)
    os.close(monitor.write_end)


def test_watcher_without_pyudev_falls_back_to_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyudev", None)  # import fails
    assert not DeviceWatcher("auto").active
    assert not DeviceWatcher("no").active
    with pytest.raises(ImportError):
        DeviceWatcher("yes")


def test_hotplug_leaves_printers_configured_by_hand_alone(tmp_path: Any) -> None:
    """A printer named by a specific URI in the config is not queued a second time, even
    while its own port is not open yet (plugged in after boot)."""
    from firmware.hotplug import Hotplug
    from hal.discovery import Found

    config = types.SimpleNamespace(state_dir=tmp_path, ports={"discover": ["usb"]},
                                   sections={"hotplug": {}})
    front = types.SimpleNamespace(port_uri="usb://HP/LaserJet%20P2015?serial=CNB1")
    system = types.SimpleNamespace(config=config, printers={"Front": front}, workers={})
    hotplug = Hotplug(system, {})  # type: ignore[arg-type]
    assert hotplug.kinds == ["usb"]
    did = "MFG:HP;MDL:LaserJet P2015;CMD:PCL;"
    same = Found("usb:03f0:3817:CNB1", "usb", uri="usb://HP/LaserJet%20P2015?serial=CNB1",
                 device_id=did, serial="CNB1", location="1-1.2")
    other = Found("usb:03f0:3817:CNB2", "usb", uri="usb://HP/LaserJet%20P2015?serial=CNB2",
                  device_id=did, serial="CNB2", location="1-1.3")
    assert hotplug._claimed(same) and not hotplug._claimed(other)
    front.port_uri = "usb://HP/LaserJet%20P2015?location=1-1.3"
    assert hotplug._claimed(other) and not hotplug._claimed(same)
    front.port_uri = "usb:"  # a wildcard claims only the printer its port holds
    assert not hotplug._claimed(same)
