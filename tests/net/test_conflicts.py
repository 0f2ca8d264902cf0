"""Two printbridges with the same printer name and host name on one link.

A bridge in A joins the veths of B and C (one Ethernet segment); B and C use ``static``
mode (198.51.100.2 and .3).  The second one to probe finds the names taken and becomes
``Twin (2)`` on host ``twin-2.local``; the chosen name is kept across restarts, even when
the first printer is gone.  Its TLS certificate names ``twin-2.local`` (RFC 6125 §6.4).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.net.lab import Lab, Namespace, Printbridge, tool, wait_for, zeroconf_browse

IPP = "_ipp._tcp.local."


@dataclass
class Segment:
    a: Namespace
    b: Namespace
    c: Namespace
    vb: str
    vc: str


@pytest.fixture
def segment(lab: Lab) -> Segment:
    a, b, c = lab.namespace("A"), lab.namespace("B"), lab.namespace("C")
    a1, vb = lab.veth(a, "A1", b, "B")
    a2, vc = lab.veth(a, "A2", c, "C")
    bridge = lab.bridge(a, "br", [a1, a2])
    a.ip("addr", "add", "198.51.100.1/24", "dev", bridge)
    return Segment(a, b, c, vb, vc)


def twin(printbridge: Callable[..., Printbridge], ns: Namespace, iface: str,
         address: str) -> Printbridge:
    """``static`` mode: the address, a gateway and DNS servers, written to
    ``resolv_conf``: named explicitly as the namespace's own file (never the host's)."""
    return printbridge(ns, iface, printer="Twin", hostname="twin", mode="static",
                       network={"address": f"{address}/24", "gateway": "198.51.100.1",
                                "dns": "198.51.100.1",
                                "resolv_conf": str(Path("/etc/netns") / ns.name / "resolv.conf")})


def visible(seg: Segment, want: tuple[str, ...] = ("Twin", "Twin (2)"),
            timeout: float = 8) -> list[tuple[str, str, list[str]]]:
    found = zeroconf_browse(seg.a, "198.51.100.1", [IPP], timeout=timeout, want=list(want))
    return sorted((f["name"], f["server"], f["addresses"]) for f in found)


def dns_sd_name(seg: Segment, pb: Printbridge, address: str) -> str:
    attrs = tool(seg.a, "gpa", f"ipp://{address}:{pb.ipp_port}/ipp/print")
    name: str = attrs["printer-dns-sd-name"][0]
    return name


def test_second_is_renamed_and_keeps_the_name(
        segment: Segment, printbridge: Callable[..., Printbridge]) -> None:
    b = twin(printbridge, segment.b, segment.vb, "198.51.100.2").start()
    b.wait_advertised("198.51.100.2", "Twin")
    assert segment.b.addresses(segment.vb) == ["198.51.100.2"]
    assert "default via 198.51.100.1" in segment.b.ip("route").stdout
    assert (Path("/etc/netns") / segment.b.name / "resolv.conf").read_text().endswith(
        "nameserver 198.51.100.1\n")
    c = twin(printbridge, segment.c, segment.vc, "198.51.100.3").start()
    state = c.wait_advertised("198.51.100.3", "Twin (2)")
    assert state["hostname"] == "twin-2.local."
    assert b.dnssd()["hostname"] == "twin.local."
    # The model (status, web Network page) shows the name each one claimed.
    assert c.call({"command": "status"})["status"]["mdns_host"] == "twin-2.local"
    assert b.call({"command": "status"})["status"]["mdns_host"] == "twin.local"
    # Each TLS certificate names the host name claimed (C's was first issued for
    # twin.local, the name it tried first) and the printer's address.
    for daemon, host, address in ((c, "twin-2.local", "198.51.100.3"),
                                  (b, "twin.local", "198.51.100.2")):
        cert = tool(segment.a, "tls", address, str(daemon.ipp_port))
        assert cert.get("dns") == ["localhost", host], cert
        assert address in cert["ip"], cert

    # Both visible from A, each at its own host and address.
    assert visible(segment) == [
        ("Twin", "twin.local.", ["198.51.100.2"]),
        ("Twin (2)", "twin-2.local.", ["198.51.100.3"]),
    ]
    # IPP reports the name in use; the TXT adminurl follows the new host name.
    assert dns_sd_name(segment, c, "198.51.100.3") == "Twin (2)"
    assert dns_sd_name(segment, b, "198.51.100.2") == "Twin"
    assert c.dnssd()["printers"]["Twin"]["txt"]["adminurl"] == \
        f"http://twin-2.local:{c.ipp_port}/"
    saved = json.loads((c.state_dir / "net" / "names.json").read_text())
    assert saved["services"]["Twin"] == {"base": "Twin", "chosen": "Twin (2)"}
    assert saved["host"] == {"base": "twin", "chosen": "twin-2"}

    # Restart C: it comes back as Twin (2) straight away (no conflict to resolve) ...
    c.stop()
    c.start()
    c.wait_advertised("198.51.100.3", "Twin (2)")
    assert c.dnssd()["hostname"] == "twin-2.local."
    # ... and keeps it even once Twin itself is gone from the link.
    b.stop()
    c.stop()
    c.start()
    c.wait_advertised("198.51.100.3", "Twin (2)")
    assert c.log().count("is taken") == 2, c.log()  # host and service, the first time only
    # (Twin said goodbye when B stopped: a browser finds only Twin (2).)
    assert visible(segment, ("Twin (2)", "Twin"), timeout=3) == [
        ("Twin (2)", "twin-2.local.", ["198.51.100.3"])]


def test_simultaneous_start_one_yields(
        segment: Segment, printbridge: Callable[..., Printbridge]) -> None:
    """Started together, both may pass probing; the RFC 6762 §9 conflict check after
    announcing (with the §8.2 tie-break) must still leave exactly one Twin."""
    b = twin(printbridge, segment.b, segment.vb, "198.51.100.2")
    c = twin(printbridge, segment.c, segment.vc, "198.51.100.3")
    threads = [threading.Thread(target=d.start) for d in (b, c)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def settled() -> bool:
        names = {b.dnssd()["printers"]["Twin"]["name"], c.dnssd()["printers"]["Twin"]["name"]}
        hosts = {b.dnssd()["hostname"], c.dnssd()["hostname"]}
        return (b.advertised() and c.advertised() and names == {"Twin", "Twin (2)"}
                and hosts == {"twin.local.", "twin-2.local."})

    wait_for(settled, 30, "one Twin and one Twin (2)")
    found = visible(segment)
    assert [name for name, _, _ in found] == ["Twin", "Twin (2)"], found
    assert len({server for _, server, _ in found}) == 2, found
