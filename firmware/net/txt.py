"""The DNS-SD TXT record of a printer, derived from its IPP attributes.

Every key is computed from the values Get-Printer-Attributes returns — the group is
built by :meth:`PrinterAttributes.group` itself — so the TXT record cannot disagree with
what IPP serves.  A record that lies is what makes a printer "visible but offline" on
iOS and macOS.

Keys (Bonjour Printing Specification 1.2, TXT record keys; PWG 5100.14 IPP Everywhere,
DNS-SD discovery), and the attribute each comes from:

================ ===================================================================
txtvers          ``1`` (the TXT record format version)
qtotal           ``1`` (one queue behind this service)
rp               the path of ``printer-uri-supported``, without its leading ``/``
ty               ``printer-make-and-model``
product          ``(`` ``printer-make-and-model`` ``)`` (the PostScript product string)
note             ``printer-location``
adminurl         ``printer-more-info``
priority         ``0`` (no preference among this printer's protocols)
pdl              ``document-format-supported`` without application/octet-stream
URF              ``urf-supported``, comma-separated (``none`` when absent)
UUID             ``printer-uuid`` without ``urn:uuid:``
Color            ``T`` / ``F`` from ``color-supported``
Duplex           ``T`` when ``sides-supported`` has a two-sided value
TLS              when ``uri-security-supported`` offers ``tls``: the TLS version the
                 server accepts (:data:`firmware.tls.TXT_VERSION`, "1.2": the same setting
                 its TLS context is made with); absent (= no TLS) while it is ``none``
mopria-certified ``mopria-certified`` (the Mopria Alliance certification version,
                 e.g. ``1.3``; what Mopria print services look for in DNS-SD, as CUPS and
                 PAPPL advertise it); absent while IPP does not report it
kind             ``printer-kind``, comma-separated
PaperMax         from the widest ``media-size-supported``: <legal-A4, legal-A4,
                 tabloid-A3, isoC-A2 or >isoC-A2 (the width thresholds PAPPL uses)
usb_MFG          MFG / MANUFACTURER of ``printer-device-id`` (IEEE 1284)
usb_MDL          MDL / MODEL of ``printer-device-id``
usb_CMD          CMD / COMMAND SET of ``printer-device-id``
air              ``uri-authentication-supported``: ``none``, or ``username,password``
================ ===================================================================

RFC 6763 §6.1: each ``key=value`` string is at most 255 octets; list values are cut at
an item boundary (with a warning), text at a character boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from firmware.ipp.values import Attribute, Collection, NameWithLanguage, TextWithLanguage
from firmware.tls import TXT_VERSION

if TYPE_CHECKING:
    from firmware.ipp.printer_attributes import PrinterAttributes

log = logging.getLogger(__name__)

#: The printer attributes the TXT record is computed from.
SOURCES = frozenset({
    "color-supported",
    "document-format-supported",
    "media-size-supported",
    "printer-device-id",
    "printer-kind",
    "printer-location",
    "printer-make-and-model",
    "printer-more-info",
    "printer-uri-supported",
    "printer-uuid",
    "sides-supported",
    "uri-authentication-supported",
    "uri-security-supported",
    "urf-supported",
    "mopria-certified",
})

TXT_STRING_MAX = 255  # octets per key=value string, RFC 6763 §6.1
#: The ``TLS`` value: what the server's TLS context accepts at the least (see tls.py).
TLS_VERSION = TXT_VERSION

#: Largest media width (1/100 mm) -> PaperMax; the first bound not reached wins.
PAPER_MAX = ((21000, "<legal-A4"), (29700, "legal-A4"), (42000, "tabloid-A3"),
             (59400, "isoC-A2"))

#: uri-authentication-supported (RFC 8011 §5.4.2) -> Bonjour 'air'.
AIR = {"basic": "username,password", "digest": "username,password",
       "certificate": "certificate", "negotiate": "negotiate"}


def plain(value: Any) -> Any:
    """An IPP value as plain Python: text without its language, collections as dicts."""
    if isinstance(value, TextWithLanguage | NameWithLanguage):
        return value.text
    if isinstance(value, Collection):
        return {a.name: [plain(v) for v in a.values] for a in value.attributes}
    return value


def attribute_values(attributes: Mapping[str, Attribute]) -> dict[str, list[Any]]:
    """name -> plain values, from an attribute group (or any name -> Attribute map)."""
    return {name: [plain(v) for v in attr.values] for name, attr in attributes.items()}


def parse_device_id(device_id: str) -> dict[str, str]:
    """IEEE 1284-2000 §7.6 device ID ``KEY:value;`` pairs, keys upper-cased."""
    fields: dict[str, str] = {}
    for item in device_id.split(";"):
        key, sep, value = item.partition(":")
        if sep and key.strip():
            fields[key.strip().upper()] = value.strip()
    return fields


def paper_max(widths: list[int]) -> str:
    widest = max(widths, default=0)
    for bound, name in PAPER_MAX:
        if widest < bound:
            return name
    return ">isoC-A2"


def _fit(key: str, value: str) -> str:
    """``value`` cut so that ``key=value`` fits in one TXT string."""
    room = TXT_STRING_MAX - len(key.encode()) - 1
    data = value.encode()
    if len(data) <= room:
        return value
    log.warning("dnssd: TXT %s truncated to %d octets", key, room)
    return data[:room].decode(errors="ignore")


def _join(key: str, values: list[str]) -> str:
    """Comma-joined ``values``, dropping whole items from the end until it fits."""
    room = TXT_STRING_MAX - len(key.encode()) - 1
    out: list[str] = []
    for value in values:
        if len(",".join([*out, value]).encode()) > room:
            log.warning("dnssd: TXT %s lists only %d of %d values (255-octet limit)",
                        key, len(out), len(values))
            break
        out.append(value)
    return ",".join(out)


def build_txt(values: Mapping[str, list[Any]]) -> dict[str, str]:
    """The ``_ipp._tcp`` TXT keys from Get-Printer-Attributes values (see module doc)."""

    def first(name: str, default: Any = "") -> Any:
        found = values.get(name) or [default]
        return found[0]

    make_and_model = str(first("printer-make-and-model"))
    uri = str(first("printer-uri-supported"))
    uuid = str(first("printer-uuid"))
    device = parse_device_id(str(first("printer-device-id")))
    formats = [str(f) for f in values.get("document-format-supported", [])
               if str(f).lower() != "application/octet-stream"]
    urf = [str(u) for u in values.get("urf-supported", [])]
    widths = [int(m["x-dimension"][0]) for m in values.get("media-size-supported", [])
              if isinstance(m, dict) and m.get("x-dimension")]
    auth = [str(a) for a in values.get("uri-authentication-supported", ["none"])]
    security = [str(s) for s in values.get("uri-security-supported", ["none"])]

    txt: dict[str, str] = {
        "txtvers": "1",
        "qtotal": "1",
        "rp": urlsplit(uri).path.lstrip("/"),
        "ty": _fit("ty", make_and_model),
        "product": _fit("product", f"({make_and_model})"),
        "note": _fit("note", str(first("printer-location"))),
        "adminurl": _fit("adminurl", str(first("printer-more-info"))),
        "priority": "0",
        "pdl": _join("pdl", formats),
        "URF": _join("URF", urf) or "none",
        "UUID": uuid.removeprefix("urn:uuid:"),
        "Color": "T" if first("color-supported", False) is True else "F",
        "Duplex": "T" if any(str(s).startswith("two-sided")
                             for s in values.get("sides-supported", [])) else "F",
        "kind": _join("kind", [str(k) for k in values.get("printer-kind", [])]),
        "PaperMax": paper_max(widths),
        "air": next((AIR[a] for a in auth if a in AIR), "none"),
    }
    if "tls" in security:
        txt["TLS"] = TLS_VERSION
    # Mopria Alliance: Mopria print services (Android, Windows) look for this key; its
    # value is the certification version the printer claims — the IPP attribute of the
    # same name (MOPRIA_CERTIFIED in firmware/ipp/printer_attributes.py), so the two
    # cannot differ.
    mopria = str(first("mopria-certified", "")).strip()
    if mopria:
        txt["mopria-certified"] = _fit("mopria-certified", mopria)
    for key, field in (("usb_MFG", ("MFG", "MANUFACTURER")), ("usb_MDL", ("MDL", "MODEL")),
                       ("usb_CMD", ("CMD", "COMMAND SET"))):
        value = next((device[f] for f in field if device.get(f)), "")
        if value:
            txt[key] = _fit(key, value)
    return txt


def printer_txt(attributes: PrinterAttributes, host: str) -> dict[str, str]:
    """The TXT record for the printer behind ``attributes``, as a client reaching us at
    ``host`` (``name.local:port``, what it sends in the HTTP Host header) would see it."""
    group = attributes.group(host, lambda name: name in SOURCES)
    return build_txt(attribute_values(group))


def raw_txt(txt: Mapping[str, str]) -> dict[str, str]:
    """``_pdl-datastream._tcp``: the same keys without ``rp`` and ``TLS`` (no queue, no
    TLS on port 9100), as PAPPL does."""
    return {k: v for k, v in txt.items() if k not in ("rp", "TLS")}


def lpd_txt(txt: Mapping[str, str], queue: str) -> dict[str, str]:
    """``_printer._tcp`` with LPD on: ``rp`` is the LPD queue name (RFC 1179)."""
    return {**{k: v for k, v in txt.items() if k != "TLS"}, "rp": queue}
