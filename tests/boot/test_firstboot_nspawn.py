"""The first boot, for real: ``make image`` → the boot partition's files → firstboot.sh
inside ``systemd-nspawn`` on a Debian root built with debootstrap (cached between runs),
then that root booted with systemd as PID 1, where printbridge.service must come up
(Type=notify), answer Get-Printer-Attributes on port 631 as its own user, and be
restarted by the systemd watchdog when its event loop blocks.

Slow (the first run debootstraps a Debian root): ``make test-image`` runs it; ``make
test`` skips it.  The wheelhouse is built for this machine (x86_64), because nspawn runs
the root natively.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from firmware.image import wheelhouse
from tests.boot.sdimage import BOOT_START, SECTOR, make_image, root_tree

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = Path(os.environ.get("PRINTBRIDGE_IMAGE_CACHE", "~/.cache/printbridge")).expanduser()
DEBIAN = CACHE / "bookworm-root"


def apt_mirror() -> str:
    """The Debian mirror this machine's apt already uses (sources.list or deb822)."""
    sources = Path("/etc/apt")
    for path in [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["deb"] and len(words) > 2:
                return next(w for w in words[1:] if "://" in w)
            if words[:1] == ["URIs:"] and len(words) > 1:
                return words[1]
    raise RuntimeError("no Debian mirror configured for apt")


MIRROR = os.environ.get("PRINTBRIDGE_DEBIAN_MIRROR") or apt_mirror()
PACKAGES = "python3,systemd,systemd-sysv,dbus,passwd,udev,iproute2"

# Slow (a debootstrap and two container boots): `make test-image` runs it, `make test`
# deselects the marker.  Root and the tools are what `make test-image` provides.
pytestmark = [pytest.mark.image]

AMD64_STATUS = """Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u10

Package: python3
Status: install ok installed
Architecture: amd64
Version: 3.11.2-1+b1

"""

SETTINGS = """printer_name = Office
printer_port = emulated:
hostname = pbtest
admin_password = first-boot-secret
board = generic
"""

IPP_PROBE = r'''
import http.client, struct, sys
def attr(tag, name, value):
    return (bytes([tag]) + struct.pack(">H", len(name)) + name
            + struct.pack(">H", len(value)) + value)
body = (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01"
        + attr(0x47, b"attributes-charset", b"utf-8")
        + attr(0x48, b"attributes-natural-language", b"en")
        + attr(0x45, b"printer-uri", b"ipp://localhost:631/ipp/print") + b"\x03")
conn = http.client.HTTPConnection("127.0.0.1", 631, timeout=10)
conn.request("POST", "/ipp/print", body, {"Content-Type": "application/ipp"})
reply = conn.getresponse().read()
status = struct.unpack(">H", reply[2:4])[0]
print("ipp-status=0x%04x" % status)
print("ipp-has-office=%s" % (b"Office" in reply))
print("ipp-has-printer-state=%s" % (b"printer-state" in reply))
'''

BLOCK = r'''
import json, socket
s = socket.socket(socket.AF_UNIX)
s.connect("/var/lib/printbridge/printbridge.sock")
s.sendall(json.dumps({"command": "debug-block-loop", "seconds": 30}).encode() + b"\n")
'''

CHECK = """#!/bin/sh
out=/boot/firmware/result.txt
wait_active() {
    for i in $(seq 60); do systemctl is-active -q printbridge.service && return 0; sleep 1; done
    return 1
}
wait_active
echo "active=$(systemctl is-active printbridge.service)" > $out
echo "user=$(stat -c %U /proc/$(systemctl show -P MainPID printbridge.service))" >> $out
/opt/printbridge/bin/python /usr/local/lib/ipp_probe.py >> $out 2>&1
echo "restarts-before=$(systemctl show -P NRestarts printbridge.service)" >> $out
echo "pid-before=$(systemctl show -P MainPID printbridge.service)" >> $out
/opt/printbridge/bin/python /usr/local/lib/block.py
sleep 6
for i in $(seq 30); do
    [ "$(systemctl show -P NRestarts printbridge.service)" -ge 1 ] && wait_active && break
    sleep 1
done
echo "restarts-after=$(systemctl show -P NRestarts printbridge.service)" >> $out
echo "pid-after=$(systemctl show -P MainPID printbridge.service)" >> $out
/opt/printbridge/bin/python /usr/local/lib/ipp_probe.py >> $out 2>&1
systemd-analyze verify /etc/systemd/system/printbridge.service \\
    /etc/systemd/system/printbridge-setup.service > /tmp/verify 2>&1
echo "verify-rc=$?" >> $out
sed 's/^/verify: /' /tmp/verify >> $out
echo "setup=$(systemctl is-active printbridge-setup.service)" >> $out
journalctl --no-pager -u printbridge.service | tail -n 40 | sed 's/^/journal: /' >> $out
echo done >> $out
systemctl poweroff
"""


@pytest.fixture(scope="module")
def debian() -> Path:
    if not (DEBIAN / "usr/bin/python3").exists():
        if shutil.which("debootstrap") is None:
            pytest.skip("no debootstrap")
        tmp = DEBIAN.with_name(DEBIAN.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm",
                        str(tmp), MIRROR], check=True, capture_output=True, timeout=1800)
        tmp.rename(DEBIAN)
    return DEBIAN


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("wheelhouse")
    manifest = wheelhouse.build(house, ["x86_64"], "3.11")
    assert not manifest.missing, manifest.missing
    return house


def nspawn(root: Path, boot: Path, *args: str, timeout: float = 600
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-nspawn", "-D", str(root), "--register=no", "--keep-unit",
                           "-q", f"--bind={boot}:/boot/firmware", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_first_boot_in_nspawn_then_the_daemon_under_systemd(
        debian: Path, wheels: Path, tmp_path: Path) -> None:
    # 1. make image on a synthetic card whose root says amd64 / Python 3.11
    base = make_image(tmp_path / "base.img", root_tree(tmp_path / "rootfs",
                                                       dpkg_status=AMD64_STATUS))
    settings = tmp_path / "printbridge.txt"
    settings.write_text(SETTINGS)
    out = tmp_path / "printbridge.img"
    proc = subprocess.run(["make", "--no-print-directory", "image", f"BASE={base}", f"OUT={out}",
                           f"WHEELHOUSE={wheels}", f"CONFIG={settings}",
                           f"PYTHON={sys.executable}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

    # 2. the boot partition as the Pi mounts it (vfat shows every file as 0755)
    boot = tmp_path / "bootfs"
    boot.mkdir()
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-s", "-n", "-i", f"{out}@@{BOOT_START * SECTOR}", "::/*",
                    str(boot)], check=True, env=env)
    (boot / "printbridge/firstboot.sh").chmod(0o755)
    hooked = (boot / "cmdline.txt").read_text()
    assert "systemd.run=/boot/firmware/printbridge/firstboot.sh" in hooked

    # 3. the first boot: what systemd.run= would start, in a copy of the Debian root
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(debian), str(root)], check=True)
    started = time.monotonic()
    proc = nspawn(root, boot, "--private-network", "/boot/firmware/printbridge/firstboot.sh")
    log = (boot / "printbridge/firstboot.log").read_text()
    assert proc.returncode == 0, log + proc.stderr
    print(f"first boot took {time.monotonic() - started:.1f} s")
    assert "== printbridge installed" in log
    cmdline = (boot / "cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and "systemd.run" not in cmdline
    assert "systemd.unit=kernel-command-line.target" not in cmdline
    assert cmdline.split() == [w for w in hooked.split() if not w.startswith("systemd.")]
    assert (root / "opt/printbridge/bin/printbridge").exists()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "printbridge.service").is_symlink()
    assert (wants / "printbridge-setup.service").is_symlink()
    conf = (root / "etc/printbridge/printbridge.conf").read_text()
    assert "[printer:Office]" in conf and "port = emulated:" in conf
    assert "printbridge:" in (root / "etc/passwd").read_text()
    assert (root / "var/lib/printbridge/users").read_text().startswith("admin:admin:scrypt$")
    assert "first-boot-secret" not in (boot / "printbridge.txt").read_text()
    assert (root / "etc/hostname").read_text() == "pbtest\n"

    # 4. boot it with systemd; a check unit reports from inside and powers off
    (root / "usr/local/lib").mkdir(parents=True, exist_ok=True)
    (root / "usr/local/lib/ipp_probe.py").write_text(IPP_PROBE)
    (root / "usr/local/lib/block.py").write_text(BLOCK)
    check = root / "usr/local/bin/pbcheck.sh"
    check.write_text(CHECK)
    check.chmod(0o755)
    (root / "etc/systemd/system/pbcheck.service").write_text(textwrap.dedent("""\
        [Unit]
        After=printbridge.service
        Wants=printbridge.service
        [Service]
        Type=oneshot
        ExecStart=/usr/local/bin/pbcheck.sh
        TimeoutStartSec=300
        """))
    (wants / "pbcheck.service").symlink_to("/etc/systemd/system/pbcheck.service")
    dropin = root / "etc/systemd/system/printbridge.service.d"
    dropin.mkdir()
    (dropin / "test.conf").write_text("[Service]\nEnvironment=PRINTBRIDGE_DEBUG_HOOKS=1\n"
                                      "WatchdogSec=4s\n")
    proc = nspawn(root, boot, "--private-network", "-b", timeout=400)
    result = (boot / "result.txt").read_text() if (boot / "result.txt").exists() else ""
    print(result)
    values = dict(line.split("=", 1) for line in result.splitlines() if "=" in line
                  and not line.startswith(("journal:", "verify:")))
    assert values.get("active") == "active", result + proc.stdout[-3000:]
    assert values["user"] == "printbridge"
    assert values["ipp-status"] == "0x0000" and values["ipp-has-office"] == "True"
    assert values["restarts-before"] == "0"
    assert int(values["restarts-after"]) >= 1 and values["pid-after"] != values["pid-before"]
    assert result.count("ipp-status=0x0000") == 2  # answering again after the restart
    assert "watchdog timeout" in result.lower()
    assert values["verify-rc"] == "0" and "verify:" not in result, result
    assert values["setup"] == "active"


def test_deb_installs_offline_in_nspawn(debian: Path, wheels: Path, tmp_path: Path) -> None:
    """``make deb`` for amd64 with the same wheels, ``apt install ./printbridge.deb`` in a
    fresh copy of the Debian root without network: installed, provisioned, enabled; and
    ``apt purge`` takes it all away again."""
    deb = tmp_path / "printbridge.deb"
    proc = subprocess.run(["make", "--no-print-directory", "deb", f"DEB_OUT={deb}",
                           "DEB_ARCH=amd64", f"WHEELHOUSE={wheels}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(debian), str(root)], check=True)
    shutil.copyfile(deb, root / "var/tmp/printbridge.deb")  # nspawn mounts a tmpfs on /tmp
    empty = tmp_path / "boot"
    empty.mkdir()
    proc = nspawn(root, empty, "--private-network", "sh", "-c",
                  "apt-get install -y -q /var/tmp/printbridge.deb 2>&1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (root / "opt/printbridge/bin/printbridge").exists()
    assert (root / "lib/systemd/system/printbridge.service").exists()
    assert (root / "etc/systemd/system/multi-user.target.wants/printbridge.service").is_symlink()
    assert "[printer:Printbridge]" in (root / "etc/printbridge/printbridge.conf").read_text()
    assert "printbridge:" in (root / "etc/passwd").read_text()
    proc = nspawn(root, empty, "--private-network", "dpkg", "--purge", "printbridge")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (root / "opt/printbridge").exists()
    assert not (root / "lib/systemd/system/printbridge.service").exists()
    assert not (root / "etc/printbridge").exists()
