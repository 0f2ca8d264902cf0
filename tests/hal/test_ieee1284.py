"""IEEE 1284 device IDs and the Centronics/USB status byte."""

from __future__ import annotations

import pytest

from firmware.reasons import reasons_for
from hal.ieee1284 import (
    DeviceId,
    decode_length_prefixed,
    decode_status,
    encode_length_prefixed,
)
from hal.port import PortCondition


def test_short_keys() -> None:
    did = DeviceId.parse("MFG:Hewlett-Packard;MDL:HP LaserJet 1020;CMD:ZJS,PJL;CLS:PRINTER;"
                         "DES:HP LaserJet 1020;SN:VNC3K12345;")
    assert did.manufacturer == "Hewlett-Packard"
    assert did.model == "HP LaserJet 1020"
    assert did.command_set == ["ZJS", "PJL"]
    assert did.get("CLASS") == "PRINTER" and did.get("des") == "HP LaserJet 1020"
    assert did.serial == "VNC3K12345"
    assert did.make_and_model == "HP LaserJet 1020"


def test_long_keys_as_linux_autoprobe_prints_them() -> None:
    """/proc/sys/dev/parport/parport0/autoprobe: long key names, one pair per line."""
    text = ("CLASS:PRINTER;\nMODEL:Stylus Color 670;\nMANUFACTURER:EPSON;\n"
            "DESCRIPTION:EPSON Stylus Color 670;\nCOMMAND SET:ESCPL2,BDC,D4;\n")
    did = DeviceId.parse(text)
    assert (did.manufacturer, did.model) == ("EPSON", "Stylus Color 670")
    assert did.command_set == ["ESCPL2", "BDC", "D4"]
    assert did.get("CLS") == "PRINTER" and did.get("DES") == "EPSON Stylus Color 670"
    assert did.make_and_model == "EPSON Stylus Color 670"


def test_tolerant_parsing() -> None:
    did = DeviceId.parse("  mfg : Brother ; garbage ; MDL:HL-1110 series;CMD:GDI;"
                         "MDL:second wins not;commandset:ignored-alias-order;")
    assert did.manufacturer == "Brother"
    assert did.model == "HL-1110 series"  # the first occurrence wins
    assert did.command_set == ["GDI"]
    assert did.make_and_model == "Brother HL-1110 series"
    assert not DeviceId.parse("") and not DeviceId.parse("no pairs here")


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [("Hewlett-Packard", "HP LaserJet 1020", "HP LaserJet 1020"),
     ("HP", "HP LaserJet P2015", "HP LaserJet P2015"),
     ("EPSON", "Stylus Color 670", "EPSON Stylus Color 670"),
     ("Samsung", "Samsung ML-2160 Series", "Samsung ML-2160 Series"),
     ("", "LBP2900", "LBP2900"), ("Canon", "", "Canon")],
)
def test_make_and_model(make: str, model: str, expected: str) -> None:
    assert DeviceId.parse(f"MFG:{make};MDL:{model};").make_and_model == expected


def test_length_prefix() -> None:
    text = "MFG:ACME;MDL:Dot 9;CMD:ESC/P;"
    wire = encode_length_prefixed(text)
    assert wire[:2] == (len(text) + 2).to_bytes(2, "big")
    assert decode_length_prefixed(wire) == text
    assert decode_length_prefixed(wire + b"\0garbage after the ID") == text
    # Little-endian length (some printers) and a length beyond the buffer (truncated read).
    assert decode_length_prefixed((len(text) + 2).to_bytes(2, "little") + text.encode()) == text
    assert decode_length_prefixed(b"\x03\xff" + text.encode()) == text
    assert decode_length_prefixed(b"") == "" and decode_length_prefixed(b"\x00") == ""


@pytest.mark.parametrize(
    ("byte", "busy_line", "conditions"),
    [
        (0x18, False, set()),
        (0x98, True, set()),  # parallel: Busy high (inverted bit 7 set) = not busy
        (0x18, True, {PortCondition.BUSY}),
        (0x38, False, {PortCondition.PAPER_OUT}),
        (0x30, False, {PortCondition.PAPER_OUT}),
        (0x08, False, {PortCondition.OFFLINE}),
        (0x10, False, {PortCondition.ERROR}),
        (0xC0 | 0x18, False, set()),  # USB: reserved bits 7..6 ignored
    ],
)
def test_decode_status(byte: int, busy_line: bool, conditions: set[PortCondition]) -> None:
    assert decode_status(byte, has_busy_line=busy_line) == conditions


def test_busy_is_flow_control_not_a_reason() -> None:
    assert reasons_for(decode_status(0x18, has_busy_line=True)) == []
    assert reasons_for(decode_status(0x38)) == ["media-empty-error"]
