"""The emulator board advertises on loopback only: nothing leaves through other
interfaces, even one on a live link.

printbridge (board ``emulator``: ``[network] mode = watch``, ``interfaces = lo``) runs
in namespace E, which also has a veth to F.  A browser on E's loopback finds the printer;
one on F's side of the link finds nothing, and E's veth sends not a single packet.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.daemon import Daemon
from tests.net.lab import Lab, Namespace, Printbridge, wait_for, zeroconf_browse

IPP = "_ipp._tcp.local."


def tx_packets(ns: Namespace, iface: str) -> int:
    return int(ns.run("cat", f"/sys/class/net/{iface}/statistics/tx_packets").stdout)


def test_emulator_board_stays_on_loopback(
        lab: Lab, printbridge: Callable[..., Printbridge]) -> None:
    e, f = lab.namespace("E"), lab.namespace("F")
    ve, vf = lab.veth(e, "E", f, "F")
    e.ip("addr", "add", "198.51.100.2/24", "dev", ve)
    f.ip("addr", "add", "198.51.100.1/24", "dev", vf)
    sent_before = tx_packets(e, ve)

    pb: Daemon = printbridge(e, "lo", board="emulator", mode="watch", printer="Emulated")
    pb.start()
    state = wait_for(lambda: (s := pb.call({"command": "net-status"})["network"]["dnssd"])
                     ["state"] == "advertising" and s, 20, "advertising on lo")
    assert state["interfaces"] == ["lo"] and state["addresses"] == ["127.0.0.1"]

    # On the machine (E's loopback): found, at 127.0.0.1.
    found = zeroconf_browse(e, "127.0.0.1", [IPP], want=["Emulated"])
    assert [(s["name"], s["addresses"]) for s in found] == [("Emulated", ["127.0.0.1"])]
    # From the link: nothing, although F asks (its queries do reach E's veth).
    assert zeroconf_browse(f, "198.51.100.1", [IPP], timeout=3) == []
    assert int(f.run("cat", f"/sys/class/net/{vf}/statistics/tx_packets").stdout) > 0
    assert tx_packets(e, ve) == sent_before == 0
    # lo has no MULTICAST flag: said in the log (mDNS still works there for local clients).
    assert "lo has no MULTICAST flag" in pb.log()
