"""Fixtures for the network tests: a lab of namespaces, and printbridge inside one.

The tests need root (namespaces) and the Debian packages scripts/setup-system.sh installs
for ``make test`` (iproute2, dnsmasq-base, dhcpcd-base, dbus, avahi-daemon, avahi-utils,
cups-ipp-utils); without them they are skipped, saying what is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import scratch
from tests.net.lab import Lab, Link, Namespace, Printbridge

TOOLS = ("ip", "dnsmasq", "dhcpcd", "dbus-daemon", "avahi-daemon", "avahi-browse", "ippfind")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    absent = [t for t in TOOLS if shutil.which(t) is None]
    return f"missing {', '.join(absent)} (scripts/setup-system.sh test)" if absent else None


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    # In the run's directory that user lp can reach (0755): cupsd's backends use the
    # private D-Bus socket here.
    work = Path(tempfile.mkdtemp(prefix="pbt-", dir=scratch.lp_tmp()))
    os.chmod(work, 0o755)
    lab = Lab(work)
    try:
        yield lab
    finally:
        lab.close()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def link(lab: Lab) -> Link:
    a, b = lab.namespace("A"), lab.namespace("B")
    va, vb = lab.veth(a, "A", b, "B")
    a.ip("addr", "add", "198.51.100.1/24", "dev", va)
    return Link(lab, a, b, va, vb)


@pytest.fixture
def printbridge(tmp_path: Path, lab: Lab) -> Iterator[Callable[..., Printbridge]]:
    """Factory for printbridges in namespaces; each is stopped (SIGTERM, by PID) at the
    end of the test, before the lab removes the namespaces."""
    started: list[Printbridge] = []

    def factory(ns: Namespace, iface: str, **kwargs: Any) -> Printbridge:
        state = tmp_path / f"pb{len(started)}"
        daemon = Printbridge(state, ns, iface, **kwargs)
        started.append(daemon)
        return daemon

    yield factory
    for daemon in started:
        daemon.stop()
