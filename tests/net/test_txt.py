"""The TXT record derivation (firmware/net/txt.py) on hand-made attribute values."""

from __future__ import annotations

from typing import Any

from firmware.net.txt import SOURCES, TXT_STRING_MAX, build_txt, lpd_txt, paper_max, raw_txt
from firmware.tls import MINIMUM_VERSION, TXT_VERSION

A4 = {"x-dimension": [21000], "y-dimension": [29700]}
LEGAL = {"x-dimension": [21590], "y-dimension": [35560]}
A3 = {"x-dimension": [29700], "y-dimension": [42000]}


def attrs(**changes: Any) -> dict[str, list[Any]]:
    base: dict[str, list[Any]] = {
        "printer-uri-supported": ["ipp://host.local:631/ipp/print"],
        "printer-make-and-model": ["ACME Laser 9"],
        "printer-location": ["Room 12"],
        "printer-more-info": ["http://host.local:631/"],
        "document-format-supported": ["application/octet-stream", "application/pdf",
                                      "image/urf"],
        "urf-supported": ["V1.4", "CP1", "W8", "RS600"],
        "printer-uuid": ["urn:uuid:0e2b9a46-7c1f-4b7e-a0c9-1c3d1f6a9b10"],
        "color-supported": [False],
        "sides-supported": ["one-sided"],
        "printer-kind": ["document"],
        "media-size-supported": [A4, LEGAL],
        "printer-device-id": ["MFG:ACME;MDL:Laser 9;CMD:PCL,PJL;"],
        "uri-security-supported": ["none"],
        "uri-authentication-supported": ["none"],
    }
    base.update(changes)
    return base


def test_keys_from_attributes() -> None:
    txt = build_txt(attrs())
    assert list(txt)[:2] == ["txtvers", "qtotal"]  # txtvers first (Bonjour)
    assert txt == {
        "txtvers": "1", "qtotal": "1", "rp": "ipp/print", "ty": "ACME Laser 9",
        "product": "(ACME Laser 9)", "note": "Room 12", "adminurl": "http://host.local:631/",
        "priority": "0", "pdl": "application/pdf,image/urf", "URF": "V1.4,CP1,W8,RS600",
        "UUID": "0e2b9a46-7c1f-4b7e-a0c9-1c3d1f6a9b10", "Color": "F", "Duplex": "F",
        "kind": "document", "PaperMax": "legal-A4", "air": "none", "usb_MFG": "ACME",
        "usb_MDL": "Laser 9", "usb_CMD": "PCL,PJL",
    }


def test_tls_duplex_colour_and_login() -> None:
    txt = build_txt(attrs(**{
        "uri-security-supported": ["none", "tls"], "color-supported": [True],
        "sides-supported": ["one-sided", "two-sided-long-edge"],
        "uri-authentication-supported": ["basic"], "urf-supported": [],
        "printer-device-id": ["MANUFACTURER:ACME;MODEL:Laser 9;COMMAND SET:PS;"],
    }))
    assert (txt["TLS"], txt["Color"], txt["Duplex"], txt["air"]) == ("1.2", "T", "T",
                                                                     "username,password")
    assert txt["URF"] == "none"
    assert (txt["usb_MFG"], txt["usb_MDL"], txt["usb_CMD"]) == ("ACME", "Laser 9", "PS")
    assert "TLS" not in build_txt(attrs())  # absent: no TLS
    assert "usb_CMD" not in build_txt(attrs(**{"printer-device-id": ["MFG:X;MDL:Y;"]}))


def test_paper_max_thresholds() -> None:
    assert paper_max([10160]) == "<legal-A4"  # 4x6 photo
    assert paper_max([21000]) == "legal-A4"
    assert paper_max([21590, 27940]) == "legal-A4"
    assert paper_max([29700]) == "tabloid-A3"
    assert paper_max([42000]) == "isoC-A2"
    assert paper_max([84100]) == ">isoC-A2"
    assert build_txt(attrs(**{"media-size-supported": [A4, A3]}))["PaperMax"] == "tabloid-A3"


def test_strings_fit_in_255_octets() -> None:
    formats = [f"application/vnd.acme-format-{i:02d}" for i in range(20)]
    txt = build_txt(attrs(**{"document-format-supported": formats,
                             "printer-location": ["é" * 300]}))
    for key, value in txt.items():
        assert len(f"{key}={value}".encode()) <= TXT_STRING_MAX, key
    assert txt["pdl"].split(",") == formats[: len(txt["pdl"].split(","))]  # whole items
    assert txt["note"] == "é" * len(txt["note"])  # cut at a character boundary


def test_other_service_types() -> None:
    txt = build_txt(attrs(**{"uri-security-supported": ["none", "tls"]}))
    assert "rp" not in raw_txt(txt) and "TLS" not in raw_txt(txt)
    assert lpd_txt(txt, "Office")["rp"] == "Office" and "TLS" not in lpd_txt(txt, "Office")


def test_tls_version_and_mopria_follow_their_sources() -> None:
    """``TLS`` is the version the server's TLS context accepts at the least
    (firmware.tls); ``mopria-certified`` is the IPP attribute of the same name, present
    only when IPP reports it."""
    txt = build_txt(attrs(**{"uri-security-supported": ["none", "tls"],
                             "mopria-certified": ["1.3"]}))
    assert txt["TLS"] == TXT_VERSION == {0x0303: "1.2", 0x0304: "1.3"}[MINIMUM_VERSION.value]
    assert txt["mopria-certified"] == "1.3"
    assert "mopria-certified" not in build_txt(attrs())
    assert "mopria-certified" not in build_txt(attrs(**{"mopria-certified": [""]}))
    assert "mopria-certified" in SOURCES  # asked of Get-Printer-Attributes with the rest
