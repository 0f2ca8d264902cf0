"""Dual stack: with ``listen = ::`` (the Raspberry Pi boards) printbridge serves IPv4 and
IPv6, link-local included (RFC 4291 §2.5.6), and advertises AAAA records beside the A
records, as CUPS and network printers do (Bonjour Printing Specification 1.2.1 asks for
IPv4 and IPv6; RFC 6762 §6.2: a host's address records go together).

A and B are joined by a veth with IPv6 on (each end has its kernel link-local address,
fe80::/64) and 198.51.100.1 / .2.  printbridge runs in B (``watch`` mode, listening on
``::``); the clients in A: a private avahi with ``use-ipv6=yes``, Python IPP and TLS
clients.  The emulator board keeps 127.0.0.1 (test_loopback_only.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from firmware.boards import available, load_board
from firmware.listener import bind_addresses, bind_hosts
from tests.net.lab import (
    PYTHON,
    Lab,
    Printbridge,
    PrivateAvahi,
    tool,
    wait_for,
    zeroconf_browse,
)


def test_boards_listen() -> None:
    """Raspberry Pi boards: IPv4 and IPv6; the emulator: loopback only."""
    rpi = [name for name in available() if name.startswith("rpi")]
    assert sorted(rpi) == ["rpi-zero-w", "rpi-zero2w", "rpi1", "rpi3", "rpi4", "rpi5"]
    for name in rpi:
        assert load_board(name)["daemon"]["listen"] == "::", name
    assert load_board("emulator")["daemon"]["listen"] == "127.0.0.1"
    assert bind_addresses("::") == [(socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")]
    assert bind_hosts("127.0.0.1") == ["127.0.0.1"] and bind_hosts("0.0.0.0") == ["0.0.0.0"]


def test_ipv4_and_ipv6_link_local(lab: Lab, printbridge: Callable[..., Printbridge]) -> None:
    a, b = lab.namespace("A"), lab.namespace("B")
    va, vb = lab.veth(a, "A", b, "B", ipv6=True)
    a.ip("addr", "add", "198.51.100.1/24", "dev", va)
    b.ip("addr", "add", "198.51.100.2/24", "dev", vb)
    (ll_b,) = b.link_local6(vb)
    avahi = PrivateAvahi(a, va, lab.work / "avahi", ipv6=True).start()
    pb = printbridge(b, vb, printer="Office", mode="watch", listen="::").start()
    state = pb.wait_advertised(name="Office")
    assert state["addresses"] == ["198.51.100.2", ll_b], state

    # Every server listens on both families (two sockets each: IPv4 peers stay IPv4).
    listening = b.run("ss", "-Hltn").stdout
    for port in (pb.ipp_port, pb.raw_port, pb.lpd_port):
        assert f"0.0.0.0:{port} " in listening and f"[::]:{port} " in listening, listening

    # mDNS: the private avahi resolves both an A and an AAAA record for the host name,
    # and a DNS-SD client gets both with the service (SRV target's address records).
    assert wait_for(lambda: avahi.resolve_host("pbtest.local", 4), 15, "A") == "198.51.100.2"
    assert wait_for(lambda: avahi.resolve_host("pbtest.local", 6), 15, "AAAA") == ll_b
    found = zeroconf_browse(a, "198.51.100.1", ["_ipp._tcp.local."], want=["Office"])
    office = [f for f in found if f["name"] == "Office"]
    assert [sorted(f["addresses"]) for f in office] == [sorted(["198.51.100.2", ll_b])], found
    assert office[0]["port"] == pb.ipp_port

    # IPP on the IPv6 link-local address (with its zone, RFC 6874) and on IPv4.
    zoned = f"[{ll_b}%25{va}]:{pb.ipp_port}"
    attrs = tool(a, "gpa", f"ipp://{zoned}/ipp/print")
    assert f"ipp://{zoned}/ipp/print" in attrs["printer-uri-supported"], attrs
    attrs4 = tool(a, "gpa", f"ipp://198.51.100.2:{pb.ipp_port}/ipp/print")
    assert attrs4["printer-uuid"] == attrs["printer-uuid"]
    assert "from 198.51.100.1" in pb.log() and "::ffff:" not in pb.log()

    # TLS over IPv6 too; the certificate names the link-local address as well.
    cert = tool(a, "tls", f"{ll_b}%{va}", str(pb.ipp_port))
    assert "error" not in cert, cert
    assert cert["ip"] == sorted(["127.0.0.1", "198.51.100.2", "::1", ll_b]), cert
    assert cert["dns"] == ["localhost", "pbtest.local"]

    # Raw 9100 over IPv6: a job, from the client's link-local address.
    (ll_a,) = a.link_local6(va)
    a.run(PYTHON, "-c", "import socket, sys\n"
          "with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:\n"
          "    s.sendall(b'printed over IPv6\\f')", f"{ll_b}%{va}", str(pb.raw_port))

    def raw_job() -> list[dict[str, object]]:
        return [j for j in pb.status()["jobs"]
                if str(j["name"]).startswith("Raw print from fe80:")
                and j["state"] == "completed"]

    (job,) = wait_for(raw_job, 30, "the raw job sent over IPv6")
    assert ll_a in str(job["name"]), job
