"""Hotplug end to end: a real daemon process, real pyusb, a simulated USB bus.

The daemon gets the bus from ``PRINTBRIDGE_USB_BACKEND=tests.hal.fake_usb:backend_from_env``
(see :mod:`hal.usb`); the test plugs, unplugs and inspects printers through the bus
directory (:class:`tests.hal.fake_usb.BusDir`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from firmware.ipp import Operation
from tests.daemon import Daemon, document, wait_for
from tests.hal.fake_usb import BusDir, segments
from tests.ipp.client import request, send

HOTPLUG = "[hotplug]\ndiscover = usb\ninterval = 0.2\nudev = no\n"

#: A printer no quirk applies to (so nothing resets it behind the test's back).
P2015 = "MFG:Hewlett-Packard;MDL:HP LaserJet P2015;CMD:PCL,PJL,POSTSCRIPT;CLS:PRINTER;"


def laser(name: str, serial: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "vid": 0x03F0, "pid": 0x3817, "serial": serial,
            "port_numbers": [1, port], "product": "HP LaserJet P2015", "device_id": P2015,
            **extra}


@pytest.fixture
def bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BusDir:
    def make(printers: list[dict[str, Any]]) -> BusDir:
        made = BusDir(tmp_path / "bus", printers)
        for key, value in made.env.items():
            monkeypatch.setenv(key, value)
        return made

    return make  # type: ignore[return-value]


def printers(daemon: Daemon) -> dict[str, dict[str, Any]]:
    listed = daemon.call({"command": "status"})["status"]["printers"]
    return {p["name"]: p for p in listed}


def usb_queues(daemon: Daemon) -> dict[str, str]:
    """name -> port URI of the queues on USB printers."""
    return {n: p["port"] for n, p in printers(daemon).items() if p["port"].startswith("usb:")}


def print_to(daemon: Daemon, name: str, path: Path) -> int:
    with open(path, "rb") as fh:
        reply = daemon.call({"command": "print", "printer": name, "user": "tester"}, fh)
    return int(reply["job_id"])


def job_of(daemon: Daemon, name: str, job_id: int) -> dict[str, Any]:
    return next(j for j in printers(daemon)[name]["jobs"] if j["id"] == job_id)


def test_two_printers_get_two_queues_with_stable_names(make_daemon: type[Daemon], bus: Any,
                                                      tmp_path: Path) -> None:
    """Identical printers on one hub: a queue each, keyed by serial number (or, for the
    one without, by its port path), with the same names after a restart — even when the
    bus lists them the other way round."""
    a, b = laser("a", "CNB1A00001", 2), laser("b", "CNB1A00002", 3)
    c = laser("c", "", 4)  # no iSerialNumber, no SN: in its device ID
    bus_dir = bus([a, b, c])
    daemon = make_daemon(extra_config=HOTPLUG).start()
    queues = wait_for(lambda: len(q := usb_queues(daemon)) == 3 and q, 20, "three USB queues")
    assert sorted(queues) == ["HP_LaserJet_P2015", "HP_LaserJet_P2015-2", "HP_LaserJet_P2015-3"]
    by_key = {uri.rsplit("?", 1)[1]: name for name, uri in queues.items()}
    assert set(by_key) == {"serial=CNB1A00001", "serial=CNB1A00002", "location=1-1.4"}
    for name in queues:
        status = printers(daemon)[name]
        assert status["device_id"] == P2015
        assert status["make_and_model"] == "HP LaserJet P2015"
    mapping = json.loads((daemon.state_dir / "hotplug.json").read_text())["printers"]
    assert {e["name"] for e in mapping.values()} == set(queues)
    assert "usb:03f0:3817@1-1.4" in mapping

    # IPP serves a queue that did not exist when the responder was made.
    name = by_key["serial=CNB1A00002"]
    uri = f"ipp://127.0.0.1:{daemon.ipp_port}/ipp/print/{name}"
    reply = send(daemon.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES, uri),
                 path=f"/ipp/print/{name}")
    assert reply.status == 0
    assert reply.find("printer-name") == [name]
    assert reply.find("printer-device-id") == [P2015]

    daemon.stop()
    BusDir(tmp_path / "bus", [c, b, a])  # after the reboot the hub enumerates them reversed
    daemon.start()
    wait_for(lambda: all(printers(daemon)[n]["connected"] for n in by_key.values()), 20,
             "all queues connected after restart")
    assert usb_queues(daemon) == queues
    assert "hotplug: new printer" not in daemon.log().split("shutting down")[-1]
    assert bus_dir.names == ["a", "b", "c"]


def test_printer_plugged_in_after_start_gets_a_queue(make_daemon: type[Daemon],
                                                     bus: Any) -> None:
    bus_dir = bus([laser("a", "CNB1A00001", 2, plugged=False)])
    daemon = make_daemon(extra_config=HOTPLUG).start()
    assert usb_queues(daemon) == {}
    bus_dir.plug("a")
    queues = wait_for(lambda: usb_queues(daemon), 20, "a queue for the printer plugged in")
    assert queues == {"HP_LaserJet_P2015":
                      "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001"}
    wait_for(lambda: printers(daemon)["HP_LaserJet_P2015"]["state"] == "idle", 10,
             "new queue idle")


def test_unplug_mid_job_then_replug_restarts_the_document_cleanly(
        make_daemon: type[Daemon], bus: Any, tmp_path: Path) -> None:
    """The rule for bytes the printer had not acknowledged: after the port is lost the
    printer is reset and the document is sent again from its first byte — never resumed
    at the last acknowledged offset, which would splice the rest of the document onto a
    page the printer lost (or half-received: the fake printer keeps part of the transfer
    that failed, as a real one does)."""
    bus_dir = bus([laser("a", "CNB1A00001", 2, rate=100_000)])
    daemon = make_daemon(extra_config=HOTPLUG).start()
    name = wait_for(lambda: next(iter(usb_queues(daemon)), None), 20, "queue")
    data = document(300_000, seed=7, pages=3)
    path = tmp_path / "doc.prn"
    path.write_bytes(data)
    job_id = print_to(daemon, name, path)
    wait_for(lambda: job_of(daemon, name, job_id)["bytes_sent"] > 60_000, 20, "printing")

    bus_dir.unplug("a")
    stopped = wait_for(lambda: (p := printers(daemon)[name])["state"] == "stopped" and p, 10,
                       "printer stopped")
    assert "offline-report" in stopped["reasons"]
    assert not stopped["connected"]
    wait_for(lambda: job_of(daemon, name, job_id)["state"] == "processing-stopped", 10,
             "job waits")

    bus_dir.plug("a")
    wait_for(lambda: job_of(daemon, name, job_id)["state"] == "completed", 20, "job completed")
    assert printers(daemon)[name]["reasons"] == ["none"]

    parts = segments(bus_dir.events("a"), bus_dir.data("a"))
    kinds = [what for what, _ in parts]
    before_unplug = parts[kinds.index("unplug") - 1][1]
    assert 0 < len(before_unplug) < len(data)
    assert data.startswith(before_unplug)  # what got through before the cable came out
    # After the replug: SOFT_RESET, then the whole document from byte 0, exactly once.
    after_plug = kinds[kinds.index("plug"):]
    assert after_plug == ["plug", "reset"], kinds
    assert parts[-1][1] == data


def test_cancelled_job_is_followed_by_soft_reset_and_the_next_job_prints_cleanly(
        make_daemon: type[Daemon], bus: Any, tmp_path: Path) -> None:
    bus_dir = bus([laser("a", "CNB1A00001", 2, rate=100_000)])
    daemon = make_daemon(extra_config=HOTPLUG).start()
    name = wait_for(lambda: next(iter(usb_queues(daemon)), None), 20, "queue")
    first, second = document(400_000, seed=8), document(50_000, seed=9, pages=2)
    (tmp_path / "1.prn").write_bytes(first)
    (tmp_path / "2.prn").write_bytes(second)
    job1 = print_to(daemon, name, tmp_path / "1.prn")
    wait_for(lambda: job_of(daemon, name, job1)["bytes_sent"] > 30_000, 20, "printing")
    bus_dir.control("a", busy=True)  # the printer stops taking data mid-page

    uri = f"ipp://127.0.0.1:{daemon.ipp_port}/ipp/print/{name}"
    reply = send(daemon.ipp_port, request(Operation.CANCEL_JOB, uri, job_id=job1),
                 path=f"/ipp/print/{name}")
    assert reply.status == 0
    wait_for(lambda: job_of(daemon, name, job1)["state"] == "canceled", 20, "canceled")
    bus_dir.control("a", busy=False)
    job2 = print_to(daemon, name, tmp_path / "2.prn")
    wait_for(lambda: job_of(daemon, name, job2)["state"] == "completed", 20, "second job")

    parts = segments(bus_dir.events("a"), bus_dir.data("a"))
    assert [what for what, _ in parts] == ["start", "reset"]
    partial, clean = parts[0][1], parts[1][1]
    assert 0 < len(partial) < len(first) and first.startswith(partial)
    assert clean == second  # nothing of the cancelled job after the reset


def test_printer_configured_by_hand_is_not_queued_twice(make_daemon: type[Daemon],
                                                        bus: Any) -> None:
    bus([laser("a", "CNB1A00001", 2), laser("b", "CNB1A00002", 3)])
    static = ("[printer:Front]\n"
              "port = usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001\n\n")
    daemon = make_daemon(extra_config=static + HOTPLUG).start()
    wait_for(lambda: len(q := usb_queues(daemon)) >= 2
             and all(printers(daemon)[n]["connected"] for n in q), 20, "USB queues connected")
    time.sleep(0.6)  # a few more scans: none may add a queue for the Front printer
    assert usb_queues(daemon) == {
        "Front": "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00001",
        "HP_LaserJet_P2015": "usb://Hewlett-Packard/HP%20LaserJet%20P2015?serial=CNB1A00002",
    }
