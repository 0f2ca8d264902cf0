"""Instance and host names: the renaming sequences, label limits, persistence."""

from __future__ import annotations

import json
from pathlib import Path

from firmware.net.names import (
    NameStore,
    host_label,
    next_host_name,
    next_service_name,
    service_name,
)


def test_service_names() -> None:
    assert next_service_name("Office", "Office") == "Office (2)"
    assert next_service_name("Office (2)", "Office") == "Office (3)"
    assert next_service_name("Office (9)", "Office") == "Office (10)"
    # A base that itself ends in "(n)" is not mistaken for a renamed one.
    assert next_service_name("Room (2)", "Room (2)") == "Room (2) (2)"
    # RFC 6763 §4.1.1: at most 63 octets of UTF-8, cut at a character boundary.
    long = "Imprimante à l'étage " * 5
    renamed = next_service_name(service_name(long), long)
    assert len(renamed.encode()) <= 63 and renamed.endswith(" (2)")
    assert len(service_name(long).encode()) <= 63
    assert service_name("\x00Bad\nname ") == "Badname"


def test_host_names() -> None:
    assert host_label("My Printer.local") == "My-Printer"
    assert host_label("--") == "printbridge"
    assert next_host_name("twin", "twin") == "twin-2"
    assert next_host_name("twin-2", "twin") == "twin-3"
    assert next_host_name("pi-3", "pi-3") == "pi-3-2"
    assert len(next_host_name("x" * 63, "x" * 63)) == 63


def test_store_keeps_names_until_the_base_changes(tmp_path: Path) -> None:
    path = tmp_path / "net" / "names.json"
    store = NameStore(path)
    assert store.service("Office", "Office") == "Office"
    store.set_service("Office", "Office", "Office (2)")
    store.set_host("printbridge", "printbridge-2")
    again = NameStore(path)  # a restart
    assert again.service("Office", "Office") == "Office (2)"
    assert again.host("printbridge") == "printbridge-2"
    # The configured name changed: the old choice no longer applies.
    assert again.service("Office", "Front desk") == "Front desk"
    assert again.host("shop") == "shop"
    assert json.loads(path.read_text())["services"]["Office"]["chosen"] == "Office (2)"
    path.write_text("{not json")
    assert NameStore(path).service("Office", "Office") == "Office"  # damaged: start over
