"""DHCP lease → DNS-SD at the leased address, seen by avahi, ippfind and python-zeroconf
in another namespace, with a TXT record equal to what Get-Printer-Attributes says.

A: dnsmasq (DHCP), a private D-Bus + avahi-daemon, the clients.  B: printbridge on board
``generic-dhcp`` (it runs dhcpcd on its veth).  The link is a veth pair.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from firmware.users import ADMIN_GROUP, UserDB
from tests.net.lab import Dnsmasq, Link, Printbridge, tool, wait_for, zeroconf_browse

IPP_TYPES = ["_ipp._tcp.local.", "_print._sub._ipp._tcp.local.",
             "_universal._sub._ipp._tcp.local.", "_http._tcp.local.", "_printer._tcp.local.",
             "_pdl-datastream._tcp.local."]


def expected_txt(attrs: dict[str, list[Any]]) -> dict[str, str]:
    """The TXT record the Bonjour Printing Specification 1.2 and IPP Everywhere ask for,
    written out here from the Get-Printer-Attributes response (independently of
    firmware/net/txt.py)."""
    make = attrs["printer-make-and-model"][0]
    device = {}
    for item in attrs["printer-device-id"][0].split(";"):
        if ":" in item:
            key, value = item.split(":", 1)
            device[key.strip()] = value.strip()
    widest = max(m["x-dimension"][0] for m in attrs["media-size-supported"])
    paper_max = ("<legal-A4" if widest < 21000 else "legal-A4" if widest < 29700 else
                 "tabloid-A3" if widest < 42000 else "isoC-A2" if widest < 59400 else
                 ">isoC-A2")
    auth = set(attrs["uri-authentication-supported"])
    txt = {
        "txtvers": "1",
        "qtotal": "1",
        "priority": "0",
        "rp": urlsplit(attrs["printer-uri-supported"][0]).path.lstrip("/"),
        "ty": make,
        "product": f"({make})",
        "note": attrs["printer-location"][0],
        "adminurl": attrs["printer-more-info"][0],
        "pdl": ",".join(f for f in attrs["document-format-supported"]
                        if f != "application/octet-stream"),
        "URF": ",".join(attrs["urf-supported"]),
        "UUID": attrs["printer-uuid"][0].removeprefix("urn:uuid:"),
        "Color": "T" if attrs["color-supported"][0] else "F",
        "Duplex": "T" if any(s.startswith("two-sided") for s in attrs["sides-supported"])
        else "F",
        "kind": ",".join(attrs["printer-kind"]),
        "PaperMax": paper_max,
        "air": "username,password" if auth & {"basic", "digest"} else "none",
        "usb_MFG": device["MFG"],
        "usb_MDL": device["MDL"],
        "usb_CMD": device["CMD"],
    }
    if "tls" in attrs["uri-security-supported"]:
        txt["TLS"] = "1.2"  # the lowest version the server accepts (test_tls_identity.py)
    if attrs.get("mopria-certified"):  # Mopria: the IPP attribute's value, when it has one
        txt["mopria-certified"] = attrs["mopria-certified"][0]
    return txt


def test_lease_advertised_and_txt_matches_ipp(
        link: Link, printbridge: Callable[..., Printbridge]) -> None:
    hostname_before = socket.gethostname()
    resolv_before = Path("/etc/resolv.conf").read_bytes()
    dhcp = Dnsmasq(link.a, link.va, link.lab.work / "dnsmasq").start()
    avahi = link.avahi()
    pb = printbridge(link.b, link.vb, printer="Office", options={"location": "Room 12"})
    UserDB(pb.state_dir / "users").set_password("admin", "test-password", {ADMIN_GROUP})
    pb.start()

    # B takes a lease through dhcpcd (our hook reported it) and advertises there.
    state = pb.wait_advertised()
    lease = pb.net()["leases"][link.vb]
    assert lease["reason"] in ("BOUND", "REBOOT"), lease
    assert lease["server"] == link.a_addr
    address = lease["address"]
    assert address.startswith("198.51.100.") and 50 <= int(address.rsplit(".", 1)[1]) <= 99
    assert state["addresses"] == [address]
    assert any(address in line for line in dhcp.leases())
    assert link.b.addresses(link.vb) == [address]
    port = pb.ipp_port
    host = "pbtest.local"

    # What IPP says, asked from A over the veth as a DNS-SD client would (Host header).
    attrs = tool(link.a, "gpa", f"ipp://{address}:{port}/ipp/print", "--host",
                 f"{host}:{port}")
    assert attrs["printer-dns-sd-name"] == ["Office"]
    want = expected_txt(attrs)
    assert want["ty"] == "Printbridge Test Laser" and want["note"] == "Room 12"
    assert want["adminurl"] == f"http://{host}:{port}/" and want["rp"] == "ipp/print"

    # python-zeroconf, from A: every type and subtype, at the lease, TXT == IPP.
    found = zeroconf_browse(link.a, link.a_addr, IPP_TYPES, timeout=10,
                            want=[f"Office|{t}" for t in IPP_TYPES])
    by_type = {f["type"]: f for f in found if f["name"] == "Office"}
    assert set(by_type) == set(IPP_TYPES), found
    for service in by_type.values():
        assert service["addresses"] == [address], service
        assert service["server"] == f"{host}."
    ipp = by_type["_ipp._tcp.local."]
    assert ipp["port"] == port
    assert ipp["txt"] == want
    assert by_type["_print._sub._ipp._tcp.local."]["txt"] == want
    assert by_type["_universal._sub._ipp._tcp.local."]["txt"] == want
    assert by_type["_http._tcp.local."]["txt"] == {"path": "/"}
    assert by_type["_printer._tcp.local."]["port"] == pb.lpd_port
    assert by_type["_printer._tcp.local."]["txt"]["rp"] == "Office"
    assert by_type["_pdl-datastream._tcp.local."]["port"] == pb.raw_port

    # avahi-browse -rpt with the private avahi in A: same address, port, TXT.
    entries = wait_for(lambda: [e for e in avahi.browse("_ipp._tcp") if e["name"] == "Office"],
                       15, "avahi to resolve Office")
    for entry in entries:
        assert (entry["address"], entry["port"], entry["host"]) == (address, port, host)
        assert entry["txt"] == want

    # ippfind (CUPS's DNS-SD tool, through the same avahi).
    lines = [line.split("|") for line in avahi.ippfind("_ipp._tcp")]
    assert ["Office", host, str(port), "ipp/print", want["UUID"], want["ty"]] in lines, lines

    # A TXT key changes with the model: re-announced, avahi's cache follows (the PTR/TXT
    # TTL is 75 min: without an announcement avahi would keep the old note).
    assert tool(link.a, "set", f"ipps://{address}:{port}/ipp/print", "printer-location",
                "Room 14", "--user", "admin:test-password") == 0
    wait_for(lambda: any(e["name"] == "Office" and e["txt"].get("note") == "Room 14"
                         for e in avahi.browse("_ipp._tcp")), 15, "note=Room 14 in avahi")
    attrs = tool(link.a, "gpa", f"ipp://{address}:{port}/ipp/print", "--host",
                 f"{host}:{port}")
    fresh = next(e for e in avahi.browse("_ipp._tcp") if e["name"] == "Office")
    assert fresh["txt"] == expected_txt(attrs)

    # Clean stop: goodbye packets (RFC 6762 §10.1) empty avahi's cache at once.
    pb.stop()
    assert pb.proc is not None and pb.proc.returncode == 0, pb.log()
    wait_for(lambda: not [e for e in avahi.browse("_ipp._tcp") if e["name"] == "Office"],
             5, "avahi to forget Office after the goodbyes")

    # dhcpcd ran with our hook only: the host's name and resolv.conf, and the namespace's
    # own resolv.conf, are as they were.
    assert "dhcpcd: " in pb.log()
    assert socket.gethostname() == hostname_before
    assert Path("/etc/resolv.conf").read_bytes() == resolv_before
    assert (Path("/etc/netns") / link.b.name / "resolv.conf").read_text().startswith(
        "# printbridge test namespace")
