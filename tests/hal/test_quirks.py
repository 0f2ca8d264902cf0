"""Quirks come from the data file: VID:PID or device-ID matches to flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal import quirks
from hal.quirks import NO_STATUS, RESET_ON_OPEN, UNIDIRECTIONAL, load, parse, quirks_for

LJ = "MFG:Hewlett-Packard;MDL:HP LaserJet {};CMD:ZJS,PJL;CLS:PRINTER;"


@pytest.mark.parametrize(("vid", "pid"), [(0x03F0, 0x4117), (0x03F0, 0x2B17)])
def test_laserjet_1018_1020_by_usb_id(vid: int, pid: int) -> None:
    assert UNIDIRECTIONAL in quirks_for(vid, pid)


@pytest.mark.parametrize("model", ["1018", "1020", "1022", "1022n", "1022nw"])
def test_laserjet_10xx_family_by_device_id(model: str) -> None:
    assert quirks_for(0x03F0, 0xFFFF, LJ.format(model)) == {UNIDIRECTIONAL}
    assert quirks_for(device_id=LJ.format(model).replace("Hewlett-Packard", "HP")) == {
        UNIDIRECTIONAL}


@pytest.mark.parametrize("model", ["1010", "P2015", "1320", "M1005"])
def test_other_laserjets_have_no_quirks(model: str) -> None:
    assert quirks_for(0x03F0, 0x3817, LJ.format(model)) == frozenset()


def test_vendor_wide_entry_and_option_flags() -> None:
    assert quirks_for(0x0A5F, 0x1234) == {UNIDIRECTIONAL}  # every Zebra
    assert quirks_for(0x067B, 0x2305) == {UNIDIRECTIONAL, RESET_ON_OPEN}
    assert quirks_for(0x1234, 0x5678, option="no-status, reset-on-open") == {
        NO_STATUS, RESET_ON_OPEN}
    with pytest.raises(ValueError, match="unknown quirk flags"):
        quirks_for(option="bidirectional-please")


def test_builtin_file_is_valid_and_packaged() -> None:
    assert quirks.BUILTIN_FILE.name == "quirks.toml"
    entries = load([quirks.BUILTIN_FILE])
    assert len(entries) >= 5
    assert all(e.flags <= quirks.FLAGS for e in entries)


def test_local_file_adds_entries(tmp_path: Path) -> None:
    local = tmp_path / "quirks.toml"
    local.write_text('[[quirk]]\nname = "Dot 9"\ndevice_id = { MDL = "^Dot 9$" }\n'
                     'flags = ["no-status"]\n')
    table = load([quirks.BUILTIN_FILE, local])
    assert quirks_for(device_id="MFG:ACME;MDL:Dot 9;", table=table) == {NO_STATUS}
    assert quirks_for(device_id="MFG:ACME;MDL:Dot 99;", table=table) == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[quirk]]\nusb = "03f0:2b17"\nflags = ["fast"]\n', "unknown flags"),
        ('[[quirk]]\nflags = ["no-status"]\n', "needs usb or device_id"),
        ('[[quirk]]\nusb = "HP"\nflags = ["no-status"]\n', "usb must be"),
        ('[[quirk]]\nusb = "03f0"\nflags = []\n', "non-empty"),
        ('[[quirk]]\nusb = "03f0"\nflags = ["no-status"]\nvid = 1\n', "unknown keys"),
    ],
)
def test_bad_entries_are_rejected(text: str, message: str) -> None:
    import tomllib

    with pytest.raises(ValueError, match=message):
        parse(tomllib.loads(text))
