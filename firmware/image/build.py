"""``make image BASE=raspios-lite.img[.xz] OUT=printbridge.img``: a flashable Printbridge card.

Only the FAT boot partition changes, through mtools (no mounting, no root):

* ``printbridge/wheelhouse/`` — every wheel needed to install offline
  (:mod:`firmware.image.wheelhouse`), with ``MANIFEST.txt`` naming what is missing;
* ``printbridge/firstboot.sh`` — the installer (``files/install.sh``);
* ``printbridge.txt`` — the settings a user edits on any PC before the first boot;
* ``cmdline.txt`` — still one line, with the first-boot hook appended::

    systemd.run=/boot/firmware/printbridge/firstboot.sh systemd.run_success_action=reboot
    systemd.run_failure_action=reboot systemd.unit=kernel-command-line.target

  systemd-run-generator(8) turns ``systemd.run=`` into a ``kernel-command-line.service``
  that ``systemd.unit=kernel-command-line.target`` boots into, then reboots — the
  mechanism Raspberry Pi Imager's ``firstrun.sh`` uses.  Raspberry Pi OS's own
  ``init=/usr/lib/raspberrypi-sys-mods/firstboot`` (which grows the root partition and
  reboots) is left alone and runs first.

What the target runs is read from its root file system with debugfs, when the image has
one: the boot partition's mount point (``/etc/fstab``: ``/boot/firmware`` since Bookworm,
``/boot`` before), and from ``/var/lib/dpkg/status`` the Python version (``python3``), the
architecture and the glibc version (``libc6``), which decide the wheels.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from firmware.image import sdcard, wheelhouse

FILES = Path(__file__).resolve().parent / "files"
DEB_ARCH = {"arm64": "aarch64", "armhf": "armv7l", "amd64": "x86_64"}
DEFAULT_ARCHES = ["aarch64", "armv7l"]
HOOK_KEYS = ("systemd.run", "systemd.run_success_action", "systemd.run_failure_action")


@dataclass
class Target:
    boot_mount: str = "/boot/firmware"
    python: str = "3.11"
    arches: list[str] = field(default_factory=lambda: list(DEFAULT_ARCHES))
    glibc: tuple[int, int] = (2, 36)
    detected: list[str] = field(default_factory=list)


def _stanzas(status: str) -> list[dict[str, str]]:
    out = []
    for block in status.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if ":" in line and not line.startswith(" "):
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            out.append(fields)
    return out


def detect_target(fstab: str | None, status: str | None) -> Target:
    """What the image's root file system says about the system that will boot."""
    target = Target()
    if fstab:
        for line in fstab.splitlines():
            words = line.split()
            if len(words) >= 3 and not words[0].startswith("#") and words[1] in (
                    "/boot/firmware", "/boot") and words[2] in ("vfat", "auto"):
                target.boot_mount = words[1]
                target.detected.append(f"boot partition at {words[1]}")
    if status:
        arches = []
        for pkg in _stanzas(status):
            if "install ok installed" not in pkg.get("Status", "install ok installed"):
                continue
            name, version = pkg.get("Package"), pkg.get("Version", "")
            if name == "python3" and (m := re.match(r"(\d+)\.(\d+)", version)):
                target.python = f"{m[1]}.{m[2]}"
                target.detected.append(f"Python {target.python}")
            elif name == "libc6" and (m := re.match(r"(\d+)\.(\d+)", version)):
                target.glibc = (int(m[1]), int(m[2]))
                arch = DEB_ARCH.get(pkg.get("Architecture", ""))
                if arch and arch not in arches:
                    arches.append(arch)
        if arches:
            target.arches = arches
            target.detected.append(f"glibc {target.glibc[0]}.{target.glibc[1]}, "
                                   f"{' '.join(arches)}")
    return target


def hook_cmdline(text: str, script: str) -> str:
    """cmdline.txt with the first-boot hook: one line, old hooks replaced, LF-terminated."""
    words = [w for w in text.split() if w.split("=", 1)[0] not in HOOK_KEYS
             and w != "systemd.unit=kernel-command-line.target"]
    words += [f"systemd.run={script}", "systemd.run_success_action=reboot",
              "systemd.run_failure_action=reboot", "systemd.unit=kernel-command-line.target"]
    return " ".join(words) + "\n"


def build_image(base: Path, out: Path, *, wheels: Path | None = None,
                arches: list[str] | None = None, python: str | None = None,
                config: Path | None = None, log: Callable[[str], object] = print) -> Target:
    say = log
    if not base.is_file():
        raise sdcard.ImageError(f"base image not found: {base}")
    say(f"copying {base} to {out}")
    sdcard.copy_image(base, out)
    boot = sdcard.boot_partition(out)
    fat = sdcard.Fat(out, boot.offset)
    if not fat.exists("cmdline.txt"):
        raise sdcard.ImageError(f"{base}: the boot partition has no cmdline.txt")
    root = sdcard.root_partition(out)
    fstab = status = None
    if root is not None:
        raw = sdcard.debugfs_cat(out, root.offset, "/etc/fstab")
        fstab = raw.decode(errors="replace") if raw else None
        raw = sdcard.debugfs_cat(out, root.offset, "/var/lib/dpkg/status")
        status = raw.decode(errors="replace") if raw else None
    target = detect_target(fstab, status)
    if arches:
        target.arches = arches
    if python:
        target.python = python
    say(f"target: boot at {target.boot_mount}, Python {target.python}, "
        f"{' '.join(target.arches)} ({'; '.join(target.detected) or 'defaults'})")

    with tempfile.TemporaryDirectory(prefix="printbridge-image-") as tmp:
        if wheels is None:
            wheels = Path(tmp) / "wheelhouse"
            manifest = wheelhouse.build(wheels, target.arches, target.python, target.glibc,
                                        log=say)
            for arch, missing in manifest.missing.items():
                say(f"WARNING: {arch}: no wheels for {', '.join(missing)}; the target "
                    "needs them as Debian packages (python3-...) or the install falls back")
        files = sorted(p for p in wheels.iterdir() if p.is_file())
        need = sum(p.stat().st_size for p in files) + (1 << 20)
        free = fat.free_bytes()
        if 0 <= free < need:
            raise sdcard.ImageError(f"boot partition has {free} bytes free, the wheelhouse "
                                    f"needs {need}")
        fat.mkdir("printbridge/wheelhouse")
        fat.put(files, "printbridge/wheelhouse")
    fat.write("printbridge/firstboot.sh", (FILES / "install.sh").read_bytes())
    if config is not None:
        fat.write("printbridge.txt", config.read_bytes())
    elif not fat.exists("printbridge.txt"):
        fat.write("printbridge.txt", (FILES / "printbridge.txt").read_bytes())
    cmdline = fat.read("cmdline.txt").decode()
    fat.write("cmdline.txt", hook_cmdline(
        cmdline, f"{target.boot_mount}/printbridge/firstboot.sh").encode())
    say(f"{out}: ready to flash; edit printbridge.txt on its boot partition")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware.image.build",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True,
                        help="Raspberry Pi OS Lite image (.img or .img.xz)")
    parser.add_argument("--out", type=Path, required=True, help="image to write")
    parser.add_argument("--wheelhouse", type=Path,
                        help="use this directory of wheels as is (no build, no download)")
    parser.add_argument("--arch", action="append",
                        help="aarch64, armv7l, x86_64 (default: from the image)")
    parser.add_argument("--python", help="target Python X.Y (default: from the image)")
    parser.add_argument("--config", type=Path, help="a filled-in printbridge.txt to put in")
    args = parser.parse_args(argv)
    arches = [a for item in args.arch or [] for a in item.split() if a]
    try:
        build_image(args.base, args.out, wheels=args.wheelhouse, arches=arches or None,
                    python=args.python, config=args.config)
    except (sdcard.ImageError, OSError) as exc:
        print(f"make image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
