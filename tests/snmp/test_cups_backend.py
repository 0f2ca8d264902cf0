"""CUPS's ``snmp`` backend finds the printer: our ipp:// URI and IEEE 1284 device ID.

The backend always talks to UDP port 161, so the test builds two network namespaces
joined by a veth pair — the printer at 198.51.100.1 and the client at 198.51.100.2 —
runs the daemon inside the printer's with the agent on port 161, and the backend inside
the client's.  Everything is removed afterwards; only processes the test started are
stopped, by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.snmp import netsnmp

BACKEND = Path("/usr/lib/cups/backend/snmp")
PRINTER_ADDRESS = "198.51.100.1"
CLIENT_ADDRESS = "198.51.100.2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    if not BACKEND.exists():
        pytest.skip("CUPS's snmp backend missing: apt-get install cups")
    tag = f"{os.getpid() % 100000}"
    printer_ns, client_ns = f"pbsnmp-p{tag}", f"pbsnmp-c{tag}"
    created: list[str] = []
    try:
        for ns in (printer_ns, client_ns):
            ip("netns", "add", ns)
            created.append(ns)
            etc = Path("/etc/netns") / ns
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "resolv.conf").write_text("# no DNS inside the test namespace\n")
            (etc / "hosts").write_text(f"127.0.0.1 localhost\n{PRINTER_ADDRESS} printbridge\n")
        ip("link", "add", f"pbp{tag}", "type", "veth", "peer", "name", f"pbc{tag}")
        ip("link", "set", f"pbp{tag}", "netns", printer_ns)
        ip("link", "set", f"pbc{tag}", "netns", client_ns)
        for ns, dev, address in ((printer_ns, f"pbp{tag}", PRINTER_ADDRESS),
                                 (client_ns, f"pbc{tag}", CLIENT_ADDRESS)):
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield printer_ns, client_ns
    finally:
        for ns in created:  # deleting a namespace deletes its end of the veth pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


def test_cups_snmp_backend_lists_the_printer(namespaces: tuple[str, str],
                                              tmp_path: Path) -> None:
    printer_ns, client_ns = namespaces
    daemon = Daemon(tmp_path / "state", netns=printer_ns, listen="0.0.0.0", snmp_port=161)
    daemon.start()
    try:
        server_root = tmp_path / "cups"
        server_root.mkdir()
        (server_root / "snmp.conf").write_text("Community public\nHostNameLookups off\n")
        env = dict(netsnmp.env(), CUPS_SERVERROOT=str(server_root), CUPS_MAX_RUN_TIME="15")
        result = subprocess.run(["ip", "netns", "exec", client_ns, str(BACKEND), PRINTER_ADDRESS],
                                capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        uri = f"ipp://{PRINTER_ADDRESS}:{daemon.ipp_port}/ipp/print"
        lines = [line for line in result.stdout.splitlines() if line.startswith("network ")]
        assert lines, f"backend listed nothing:\n{result.stdout}\n{result.stderr}"
        # network URI "make-and-model" "info" "device-id" "location"
        match = re.match(r'network (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"', lines[0])
        assert match, lines[0]
        assert match[1] == uri
        device_id = daemon.status()["device_id"]
        assert device_id and match[4] == device_id
        fields = dict(f.split(":", 1) for f in device_id.strip(";").split(";"))
        assert fields["MDL"] in match[2]  # make and model, from the device ID
    finally:
        daemon.stop()
    assert "Traceback" not in daemon.log_path.read_text()
