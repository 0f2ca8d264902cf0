"""Seconds from an address appearing on printbridge's interface to its printer being
resolvable (instance -> SRV, TXT, A) at that address from another namespace.

Two namespaces joined by a veth (198.51.100.0/24; see tests/net/lab.py); printbridge in
B, a python-zeroconf client in A that was already browsing.  Figures only:

* ``watch``  — the OS adds the address (``ip addr add``): address poll + probing +
  announcing;
* ``dhcp``   — printbridge starts dhcpcd (``nodelay``, dnsmasq ``--no-ping`` in A); t0
  is when the lease address shows on B's interface (dhcpcd's hook pokes us);
* ``move``   — the address changes while advertised (add the new one, drop the old):
  re-announcement only, the client's cache is updated by the cache-flush bit.

    python bench/dnssd_latency.py [--runs 5]     (as root)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.net.lab import PYTHON, ROOT, Dnsmasq, Lab, Namespace, Printbridge

A_ADDR = "198.51.100.1"
#: The product's address poll interval (the tests poll faster).
DEFAULTS = {"poll_interval": "1.0"}


class Client:
    """``tests.net.tools await`` in A, started (and listening) before the change."""

    def __init__(self, a: Namespace, name: str, address: str) -> None:
        self.proc = subprocess.Popen(
            a.cmd(PYTHON, "-m", "tests.net.tools", "await", "--bind", A_ADDR, "--name", name,
                  "--address", address, "--timeout", "90"),
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the client in A did not start")

    def resolved_at(self) -> float:
        out, _ = self.proc.communicate(timeout=120)
        value = json.loads(out)
        if value is None:
            raise RuntimeError("not resolvable within 90 s")
        return float(value)


def wait_address(ns: Namespace, iface: str, accept: Callable[[str], bool]) -> float:
    """Poll B's interface every 5 ms; the time the wanted address showed up."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(accept(a) for a in ns.addresses(iface)):
            return time.monotonic()
        time.sleep(0.005)
    raise RuntimeError("no address")


def run_watch(lab: Lab, work: Path, n: int) -> tuple[float, float]:
    a, b = lab.namespace(f"A{n}"), lab.namespace(f"B{n}")
    va, vb = lab.veth(a, f"a{n}", b, f"b{n}")
    a.ip("addr", "add", f"{A_ADDR}/24", "dev", va)
    # Keep .3 when .2 (the primary address of the subnet) goes.
    b.run("sysctl", "-q", "-w", f"net.ipv4.conf.{vb}.promote_secondaries=1")
    pb = Printbridge(work / f"watch{n}", b, vb, mode="watch", network=DEFAULTS).start()
    try:
        client = Client(a, "Office", "198.51.100.2")
        t0 = time.monotonic()
        b.ip("addr", "add", "198.51.100.2/24", "dev", vb)
        first = client.resolved_at() - t0
        client = Client(a, "Office", "198.51.100.3")
        t1 = time.monotonic()
        b.ip("addr", "add", "198.51.100.3/24", "dev", vb)
        b.ip("addr", "del", "198.51.100.2/24", "dev", vb)
        moved = client.resolved_at() - t1
        return first, moved
    finally:
        pb.stop()


def run_dhcp(lab: Lab, work: Path, n: int) -> float:
    a, b = lab.namespace(f"C{n}"), lab.namespace(f"D{n}")
    va, vb = lab.veth(a, f"c{n}", b, f"d{n}")
    a.ip("addr", "add", f"{A_ADDR}/24", "dev", va)
    Dnsmasq(a, va, work / f"dnsmasq{n}", pool=("198.51.100.50", "198.51.100.50")).start()
    client = Client(a, "Office", "198.51.100.50")
    pb = Printbridge(work / f"dhcp{n}", b, vb, mode="dhcp", network=DEFAULTS)
    try:
        pb.start()
        t0 = wait_address(b, vb, lambda addr: addr == "198.51.100.50")
        return client.resolved_at() - t0
    finally:
        pb.stop()


def summary(label: str, values: list[float]) -> str:
    return (f"{label:<8} median {statistics.median(values):5.2f} s   min {min(values):5.2f}"
            f"   max {max(values):5.2f}   ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/dnssd_latency.py needs root (network namespaces)")
    watch: list[float] = []
    moves: list[float] = []
    dhcp: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pbt-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        for n in range(args.runs):
            with Lab(work / f"lab{n}") as lab:
                first, moved = run_watch(lab, work, n)
                watch.append(first)
                moves.append(moved)
                dhcp.append(run_dhcp(lab, work, n))
    print("address appears -> resolvable from the other namespace "
          f"(address poll every {DEFAULTS['poll_interval']} s, dhcpcd nodelay)")
    print(summary("watch", watch))
    print(summary("dhcp", dhcp))
    print(summary("move", moves))


if __name__ == "__main__":
    main()
