"""systemd/ units: ``systemd-analyze verify`` is clean, and printbridge.service has the
settings the image relies on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from firmware.board import reset
from firmware.boards import load_board
from firmware.image.provision import FILES, UNITS

ROOT = Path(__file__).resolve().parent.parent.parent
SYSTEMD = ROOT / "systemd"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values...]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_units_are_the_ones_provisioning_installs() -> None:
    assert sorted(p.name for p in SYSTEMD.iterdir()) == sorted(UNITS)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verify_is_clean() -> None:
    """The literal ``systemd-analyze verify systemd/*``, with the installed ExecStart path
    present (a stub on a tmpfs over /opt in a private mount namespace); everything it
    prints is a failure."""
    stub = ("mount -t tmpfs tmpfs /opt && mkdir -p /opt/printbridge/bin && "
            "printf '#!/bin/sh\\n' > /opt/printbridge/bin/printbridge && "
            "chmod +x /opt/printbridge/bin/printbridge && systemd-analyze verify systemd/*")
    userns = [] if os.geteuid() == 0 else ["--map-root-user"]
    proc = subprocess.run(["unshare", "--mount", *userns, "sh", "-c", stub], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout and not proc.stderr, proc.stderr
    # Without the stub the only complaint is the missing executable: the stub hides
    # nothing else.
    plain = subprocess.run("systemd-analyze verify systemd/*", shell=True, cwd=ROOT,
                           capture_output=True, text=True)
    if not Path("/opt/printbridge/bin/printbridge").exists():
        complaints = [x for x in plain.stderr.splitlines() if x.strip()]
        assert complaints and all("/opt/printbridge/bin/printbridge is not executable" in x
                                  for x in complaints), complaints


def test_printbridge_service() -> None:
    u = unit("printbridge.service")
    service = {k: v[-1] for k, v in u["Service"].items()}
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["WatchdogSec"].rstrip("s").isdigit()
    assert service["Restart"] == "on-failure"
    assert service["RestartForceExitStatus"] == str(reset.EXIT_RESTART)
    assert service["User"] == "printbridge" and "lp" in service["SupplementaryGroups"].split()
    assert service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert service["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict" and service["PrivateTmp"] == "yes"
    state_dir = load_board("rpi4")["daemon"]["state_dir"]
    assert service["ReadWritePaths"] == state_dir
    assert service["StateDirectory"] == Path(state_dir).name
    assert service["DevicePolicy"] == "closed"
    allowed = {v.split()[0] for v in u["Service"]["DeviceAllow"]}
    assert {"char-usb_device", "char-usb", "char-lp", "char-ttyUSB", "char-ttyACM",
            "char-gpiochip"} <= allowed
    assert service["ExecStart"].startswith("/opt/printbridge/bin/printbridge run --config ")
    assert u["Install"]["WantedBy"] == ["multi-user.target"]


def test_setup_unit_runs_before_network_and_daemon() -> None:
    u = unit("printbridge-setup.service")
    before = " ".join(u["Unit"]["Before"]).split()
    assert {"printbridge.service", "network-pre.target", "dhcpcd.service",
            "NetworkManager.service"} <= set(before)
    assert u["Service"]["Type"] == ["oneshot"]
    assert u["Service"]["ExecStart"][0].endswith("provision --if-changed")


_RULE_PAIR = re.compile(r'^\s*[A-Z_]+(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"[^"]*"\s*$')


def test_udev_rules_are_well_formed() -> None:
    lines = [x for x in (FILES / "60-printbridge.rules").read_text().splitlines()
             if x.strip() and not x.startswith("#")]
    assert lines
    for line in lines:
        for pair in line.split('", '):
            pair = pair if pair.endswith('"') else pair + '"'
            assert _RULE_PAIR.match(pair), (line, pair)
    text = "\n".join(lines)
    assert 'ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="lp"' in text
    assert 'ENV{SYSTEMD_WANTS}+="printbridge.service"' in text
