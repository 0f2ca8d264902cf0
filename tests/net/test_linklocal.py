"""No DHCP server: RFC 3927 link-local address, advertised there; then a server appears
and the printer moves to its lease and re-advertises (avahi's cache follows)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from tests.net.lab import Dnsmasq, Link, Printbridge, tool, wait_for, zeroconf_browse

LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


def is_link_local(address: str) -> bool:
    return ipaddress.IPv4Address(address) in LINK_LOCAL


def test_link_local_then_lease(link: Link, printbridge: Callable[..., Printbridge]) -> None:
    # A is on the link-local network too, so that it can reach B there.
    link.a.ip("addr", "add", "169.254.0.1/16", "dev", link.va)
    avahi = link.avahi()
    pb = printbridge(link.b, link.vb, printer="Office").start()

    # No server answers: dhcpcd falls back to 169.254/16 (≈7-10 s) and we advertise there.
    wait_for(lambda: pb.advertised() and is_link_local(pb.address()), 40,
             "an advertised link-local address")
    ll = pb.address()
    assert pb.net()["leases"][link.vb]["reason"] == "IPV4LL"
    assert link.b.addresses(link.vb) == [ll]
    found = zeroconf_browse(link.a, "198.51.100.1", ["_ipp._tcp.local."], want=["Office"])
    assert [(f["name"], f["addresses"]) for f in found] == [("Office", [ll])]
    attrs = tool(link.a, "gpa", f"ipp://{ll}:{pb.ipp_port}/ipp/print")  # reachable there
    assert attrs["printer-dns-sd-name"] == ["Office"]
    wait_for(lambda: [(e["name"], e["address"]) for e in avahi.browse()] == [("Office", ll)],
             10, "avahi to see Office at the link-local address")
    announced = pb.dnssd()["announcements"]

    # A DHCP server appears: dhcpcd takes the lease at its next retry and drops the
    # link-local address; we re-announce at the lease (the cache-flush bit replaces the
    # old address record in avahi's cache, RFC 6762 §10.2).
    Dnsmasq(link.a, link.va, link.lab.work / "dnsmasq").start()
    wait_for(lambda: pb.advertised() and not is_link_local(pb.address()), 90,
             "the printer to move to a DHCP lease")
    lease = pb.address()
    assert lease.startswith("198.51.100.")
    assert pb.net()["leases"][link.vb]["reason"] in ("BOUND", "REBOOT")
    assert pb.dnssd()["announcements"] > announced
    wait_for(lambda: link.b.addresses(link.vb) == [lease], 10, "the link-local address to go")
    wait_for(lambda: [(e["name"], e["address"]) for e in avahi.browse()] == [("Office", lease)],
             10, "avahi to see Office at the lease")
    found = zeroconf_browse(link.a, "198.51.100.1", ["_ipp._tcp.local."], want=["Office"])
    assert [(f["name"], f["addresses"]) for f in found] == [("Office", [lease])]
