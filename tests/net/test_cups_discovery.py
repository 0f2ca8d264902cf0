"""Discovery to paper: a private cupsd in A finds the printer in B through DNS-SD and
prints a PDF through a temporary queue (``lpstat -e``, ``lp -d NAME``).

CUPS ignores DNS-SD printers on its own host, hence the two namespaces; cupsd and its
clients use the private avahi in A over the private D-Bus, never the host's.

One step is done by hand: CUPS connects to the SRV target (``pbtest.local``) through
getaddrinfo(), which needs nss-mdns.  libnss-mdns's package edits the host's
nsswitch.conf, so it is not installed; instead the test asks the private avahi for the
host name (a real mDNS A query, answered by printbridge) and writes the answer into
namespace A's own hosts file, which is what nss-mdns would have returned.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cups import PrivateCups
from tests.net.lab import Dnsmasq, Link, Printbridge, wait_for
from tests.samples import sample_pdf


def test_print_through_dnssd_temporary_queue(
        link: Link, printbridge: Callable[..., Printbridge], tmp_path: Path) -> None:
    if shutil.which("cupsd") is None:
        pytest.skip("cupsd missing (scripts/setup-system.sh test)")
    Dnsmasq(link.a, link.va, link.lab.work / "dnsmasq").start()
    avahi = link.avahi()
    pb = printbridge(link.b, link.vb, printer="Office").start()
    pb.wait_advertised()
    pdf = sample_pdf(tmp_path / "doc.pdf", "a4", 1)
    address = pb.address()
    assert avahi.resolve_host("pbtest.local") == address  # our A record, over mDNS
    hosts = Path("/etc/netns") / link.a.name / "hosts"
    hosts.write_text(hosts.read_text() + f"{address} pbtest.local\n")

    with PrivateCups(prefix=link.a.cmd(), extra_env=avahi.env) as cups:
        # lpstat -e lists the destinations cupsd and DNS-SD know; ours is not a queue
        # of this cupsd, only a discovered printer.
        def discovered() -> list[str]:
            return [d for d in cups.run("lpstat", "-e").stdout.split() if d == "Office"]

        wait_for(discovered, 30, "lpstat -e to list Office")
        assert "Office" not in cups.run("lpstat", "-v", check=False).stdout

        # lp -d Office: CUPS creates a temporary IPP Everywhere queue from the DNS-SD
        # record and our attributes, and sends the job to B.
        cups.run("lp", "-d", "Office", "-t", "dnssd-job", str(pdf), timeout=120)
        devices = cups.run("lpstat", "-v").stdout
        assert "Office" in devices, devices

        def printed() -> list[dict[str, object]]:
            return [j for j in pb.status()["jobs"]
                    if j["name"] == "dnssd-job" and j["state"] == "completed"]

        jobs = wait_for(printed, 120, "the job to reach the printer in B")
        assert len(pb.output(int(str(jobs[0]["id"])))) > 100, "nothing reached paper"
        assert cups.wait_idle(60), cups.error_log()
        # The queue was made from the DNS-SD records: SRV target, port and TXT rp (CUPS
        # prefers _ipps._tcp when it is offered).
        assert re.search(rf"ipps?://pbtest\.local:{pb.ipp_port}/ipp/print", devices), devices
