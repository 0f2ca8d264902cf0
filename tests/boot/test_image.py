"""``make image`` on a synthetic Raspberry Pi OS image, checked with mtools."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.image.build import detect_target, hook_cmdline
from firmware.image.sdcard import boot_partition, partitions, root_partition
from tests.boot.sdimage import (
    BOOT_START,
    CMDLINE,
    CONFIG,
    SECTOR,
    make_image,
    missing_tools,
    mtools_list,
    mtools_read,
    root_tree,
)

ROOT = Path(__file__).resolve().parent.parent.parent
INSTALLER = ROOT / "firmware/image/files/install.sh"
HOOK = ["systemd.run=/boot/firmware/printbridge/firstboot.sh",
        "systemd.run_success_action=reboot", "systemd.run_failure_action=reboot",
        "systemd.unit=kernel-command-line.target"]

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")


@pytest.fixture
def wheelhouse(tmp_path: Path) -> Path:
    """A small prepared wheelhouse (WHEELHOUSE=): make image copies it as it is."""
    house = tmp_path / "wheels"
    house.mkdir()
    for name in ("pip-26.3-py3-none-any.whl", "printbridge-0.1.0-py3-none-any.whl",
                 "numpy-2.2.6-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"):
        (house / name).write_bytes(name.encode() * 100)
    (house / "MANIFEST.txt").write_text("python 3.11\narches aarch64\n")
    return house


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_image(tmp_path / "raspios.img", root_tree(tmp_path / "rootfs"))


def make_image_cmd(base: Path, out: Path, wheels: Path, *extra: str
                   ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "image", f"BASE={base}", f"OUT={out}",
         f"WHEELHOUSE={wheels}", f"PYTHON={sys.executable}", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120)


def digest(path: Path, start: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = size
        while remaining:
            chunk = fh.read(min(1 << 22, remaining))
            h.update(chunk)
            remaining -= len(chunk)
    return h.hexdigest()


def check_image(out: Path, wheels: Path) -> None:
    offset = BOOT_START * SECTOR
    assert boot_partition(out).offset == offset
    top = mtools_list(out, offset)
    assert {"cmdline.txt", "config.txt", "kernel8.img", "printbridge.txt",
            "printbridge"} <= set(top)
    assert sorted(mtools_list(out, offset, "printbridge")) == ["firstboot.sh", "wheelhouse"]
    assert sorted(mtools_list(out, offset, "printbridge/wheelhouse")) == sorted(
        p.name for p in wheels.iterdir())
    for wheel in wheels.iterdir():
        copied = mtools_read(out, offset, f"printbridge/wheelhouse/{wheel.name}")
        assert copied == wheel.read_bytes()
    assert mtools_read(out, offset, "printbridge/firstboot.sh") == INSTALLER.read_bytes()
    template = (ROOT / "firmware/image/files/printbridge.txt").read_bytes()
    assert mtools_read(out, offset, "printbridge.txt") == template
    assert mtools_read(out, offset, "config.txt").decode() == CONFIG
    cmdline = mtools_read(out, offset, "cmdline.txt").decode()
    assert cmdline.count("\n") == 1 and cmdline.endswith("\n"), repr(cmdline)
    words = cmdline.split()
    assert words == CMDLINE.split() + HOOK  # the original line untouched, the hook once


def test_make_image_writes_the_boot_partition_only(base: Path, tmp_path: Path,
                                                  wheelhouse: Path) -> None:
    out = tmp_path / "printbridge.img"
    root = root_partition(base)
    assert root is not None
    before = digest(base, root.offset, root.size)
    proc = make_image_cmd(base, out, wheelhouse)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "Python 3.11" in proc.stdout and "aarch64" in proc.stdout  # read from the rootfs
    check_image(out, wheelhouse)
    assert partitions(out) == partitions(base)
    assert digest(out, root.offset, root.size) == before, "the root file system changed"
    assert digest(out, 0, BOOT_START * SECTOR) == digest(base, 0, BOOT_START * SECTOR)
    assert os.stat(out).st_blocks * 512 < 64 << 20, "the copy should stay sparse"

    # Building again from the result keeps one hook (cmdline.txt is still one line).
    again = tmp_path / "again.img"
    proc = make_image_cmd(out, again, wheelhouse)
    assert proc.returncode == 0, proc.stderr
    check_image(again, wheelhouse)


def test_make_image_from_img_xz(base: Path, tmp_path: Path, wheelhouse: Path) -> None:
    subprocess.run(["xz", "-0", "-T2", "-k", str(base)], check=True)
    out = tmp_path / "from-xz.img"
    proc = make_image_cmd(Path(f"{base}.xz"), out, wheelhouse)
    assert proc.returncode == 0, proc.stderr
    check_image(out, wheelhouse)


def test_make_image_refuses_what_is_not_a_pi_image(tmp_path: Path, wheelhouse: Path) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\0" * 4096)
    proc = make_image_cmd(junk, tmp_path / "out.img", wheelhouse)
    assert proc.returncode != 0 and "no MBR partition table" in proc.stderr
    proc = make_image_cmd(tmp_path / "nope.img", tmp_path / "out.img", wheelhouse)
    assert proc.returncode != 0 and "not found" in proc.stderr
    proc = subprocess.run(["make", "--no-print-directory", "image"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "usage: make image" in proc.stderr


def test_hook_cmdline_stays_one_line_and_is_idempotent() -> None:
    crlf = "console=tty1 root=PARTUUID=x-02 rootwait\r\n"
    once = hook_cmdline(crlf, "/boot/firmware/printbridge/firstboot.sh")
    assert once == "console=tty1 root=PARTUUID=x-02 rootwait " + " ".join(HOOK) + "\n"
    assert hook_cmdline(once, "/boot/firmware/printbridge/firstboot.sh") == once
    old = hook_cmdline(once, "/boot/printbridge/firstboot.sh")
    assert old.count("systemd.run=") == 1 and "systemd.run=/boot/printbridge/" in old


def test_detect_target_from_the_root_file_system() -> None:
    bullseye_fstab = "PARTUUID=abc-01  /boot  vfat  defaults  0  2\n"
    armhf = ("Package: libc6\nStatus: install ok installed\nArchitecture: armhf\n"
             "Version: 2.31-13+rpt2+rpi1+deb11u7\n\n"
             "Package: python3\nStatus: install ok installed\nVersion: 3.9.2-3\n")
    target = detect_target(bullseye_fstab, armhf)
    assert target.boot_mount == "/boot" and target.python == "3.9"
    assert target.arches == ["armv7l"] and target.glibc == (2, 31)
    default = detect_target(None, None)
    assert default.boot_mount == "/boot/firmware" and default.arches == ["aarch64", "armv7l"]
