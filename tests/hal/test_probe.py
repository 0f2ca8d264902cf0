"""``printbridge probe`` lists attached printers (here: a simulated USB bus)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.daemon import ROOT
from tests.hal.fake_usb import BusDir

LJ1020 = "MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ZJS,PJL;CLS:PRINTER;"
EPSON = "MANUFACTURER:EPSON;COMMAND SET:ESCPL2,BDC,D4;MODEL:Stylus Color 670;CLASS:PRINTER;"


def probe(bus: BusDir, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "firmware", "probe", "--kinds", "usb", *args],
        cwd=ROOT, env={**os.environ, **bus.env}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_probe_lists_printers_with_status_and_driver(tmp_path: Path) -> None:
    bus = BusDir(tmp_path / "bus", [
        {"name": "lj", "pid": 0x2B17, "serial": "VNC3K12345", "port_numbers": [1, 2],
         "device_id": LJ1020},
        {"name": "ep", "vid": 0x04B8, "pid": 0x0005, "port_numbers": [1, 3], "status": 0x38,
         "interfaces": [[7, 1, 4], [7, 1, 2]], "device_id": EPSON},
    ])
    text = probe(bus)
    assert "2 printer(s) found (usb)" in text
    assert "usb://Hewlett-Packard/HP%20LaserJet%201020?serial=VNC3K12345" in text
    assert f"device id  {LJ1020}" in text
    assert "quirks     unidirectional" in text
    assert "usb://EPSON/Stylus%20Color%20670?location=1-1.3&interface=1" in text
    assert "status     0x38: paper-out" in text
    assert "reasons    media-empty-error" in text
    assert "driver     " in text
    listed = json.loads(probe(bus, "--json"))
    assert [p["conditions"] for p in listed] == [[], ["paper-out"]]
    assert listed[1]["make_and_model"] == "EPSON Stylus Color 670"


def test_probe_one_uri(tmp_path: Path) -> None:
    bus = BusDir(tmp_path / "bus", [{"name": "lj", "pid": 0x2B17, "serial": "S",
                                     "device_id": LJ1020, "status": 0x08}])
    text = probe(bus, "usb://Hewlett-Packard/HP%20LaserJet%201020?serial=S")
    assert "conditions offline" in text and "reasons    offline-report" in text
