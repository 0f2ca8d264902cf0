"""``make deb``: ``printbridge_<version>_<arch>.deb`` for ``apt install ./printbridge.deb``
on a Raspberry Pi OS (or Debian) system that already runs.

The package carries the same offline wheelhouse as the SD-card image and installs the same
way: its postinst runs ``install.sh`` (a virtualenv in /opt/printbridge from the bundled
wheels, no network) and ``printbridge provision --no-system-files``.  The units and udev
rules are ordinary package files under /lib, so dpkg owns them.  The wheels are built for
one Python minor version, so the package depends on exactly that ``python3``.  Built with
``dpkg-deb --root-owner-group`` (no root, no fakeroot).
"""

from __future__ import annotations

import argparse
import configparser
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from firmware.image import wheelhouse
from firmware.image.build import DEB_ARCH
from firmware.image.plan import Need, PlanError

SOURCE = wheelhouse.SOURCE
FILES = Path(__file__).resolve().parent / "files"
SHARE = "usr/share/printbridge"

POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    /usr/share/printbridge/install.sh --wheelhouse /usr/share/printbridge/wheelhouse \\
        --no-provision
    /opt/printbridge/bin/printbridge provision --no-system-files
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        udevadm control --reload-rules 2>/dev/null || true
        systemctl restart printbridge.service || true
    fi
fi
"""
PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop printbridge.service || true
fi
if [ "$1" = remove ]; then
    systemctl disable printbridge.service printbridge-setup.service 2>/dev/null || true
fi
"""
POSTRM = """#!/bin/sh
set -e
case "$1" in
    remove) rm -rf /opt/printbridge ;;
    purge)
        rm -rf /opt/printbridge /etc/printbridge /var/lib/printbridge
        userdel printbridge 2>/dev/null || true ;;
esac
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
"""


def version(source: Path = SOURCE) -> str:
    cfg = configparser.ConfigParser()
    cfg.read(source / "setup.cfg")
    return cfg.get("metadata", "version")


def relations(needs: list[Need]) -> tuple[list[str], list[str]]:
    """Debian's packages standing in for wheels the index lacks (deb-control(5)
    relations): Depends for the required, Recommends for an extra's (gpiod: the LED)."""
    depends, recommends = [], []
    for need in needs:
        floors = [bound for op, bound in need.specs if op == ">="]
        rel = need.stand_in.package + (f" (>= {floors[0]})" if floors else "")
        (recommends if need.requirement.extra else depends).append(rel)
    return sorted(set(depends)), sorted(set(recommends))


def control(arch: str, python: str, size_kib: int, source: Path = SOURCE,
            needs: list[Need] | None = None) -> str:
    major, minor = (int(x) for x in python.split("."))
    depends, recommends = relations(needs or [])
    extra = "".join(f", {d}" for d in depends)
    return (f"Package: printbridge\nVersion: {version(source)}\nArchitecture: {arch}\n"
            "Maintainer: Printbridge <printbridge@localhost>\n"
            f"Depends: python3 (>= {major}.{minor}), python3 (<< {major}.{minor + 1}), passwd"
            f"{extra}\n" + (f"Recommends: {', '.join(recommends)}\n" if recommends else "")
            + "Section: net\nPriority: optional\n"
            f"Installed-Size: {size_kib}\n"
            "Description: network printer firmware for a dumb USB, parallel or serial printer\n"
            " Printbridge makes a printer attached to this computer a network printer:\n"
            " IPP Everywhere and AirPrint, Bonjour, SNMP, LPD and raw 9100, and a web page.\n"
            " Installs into /opt/printbridge from bundled wheels, without network.\n")


def build_deb(out: Path, *, arch: str = "arm64", wheels: Path | None = None,
              python: str = "3.11", glibc: tuple[int, int] = (2, 36),
              log: Callable[[str], object] = print) -> Path:
    if arch not in DEB_ARCH:
        raise ValueError(f"unknown Debian architecture {arch!r} ({', '.join(DEB_ARCH)})")
    with tempfile.TemporaryDirectory(prefix="printbridge-deb-") as tmp:
        pkg = Path(tmp) / "pkg"
        share = pkg / SHARE
        house = share / "wheelhouse"
        house.mkdir(parents=True)
        needs: list[Need] = []
        if wheels is None:
            plan = wheelhouse.build(house, [DEB_ARCH[arch]], python, glibc, log=log)
            if plan.missing:
                raise PlanError(plan.problems())
            # apt installs these before the postinst runs install.sh, which sees them
            # through the venv's system site packages.
            needs = [n for group in plan.debian.values() for n in group]
        else:
            for wheel in wheels.iterdir():
                if wheel.is_file():
                    shutil.copyfile(wheel, house / wheel.name)
        shutil.copyfile(FILES / "install.sh", share / "install.sh")
        (share / "install.sh").chmod(0o755)
        shutil.copyfile(FILES / "printbridge.txt", share / "printbridge.txt")
        units = pkg / "lib/systemd/system"
        units.mkdir(parents=True)
        for unit in sorted((SOURCE / "systemd").glob("*.service")):
            shutil.copyfile(unit, units / unit.name)
        rules = pkg / "lib/udev/rules.d"
        rules.mkdir(parents=True)
        shutil.copyfile(FILES / "60-printbridge.rules", rules / "60-printbridge.rules")
        modules = pkg / "usr/lib/modules-load.d"
        modules.mkdir(parents=True)
        shutil.copyfile(FILES / "modules-load.conf", modules / "printbridge.conf")
        size = sum(p.stat().st_size for p in pkg.rglob("*") if p.is_file()) // 1024 + 1
        debian = pkg / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(control(arch, python, size, needs=needs))
        for name, text in (("postinst", POSTINST), ("prerm", PRERM), ("postrm", POSTRM)):
            (debian / name).write_text(text)
            (debian / name).chmod(0o755)
        for path in pkg.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
            elif path.parent.name != "DEBIAN" and path.name != "install.sh":
                path.chmod(0o644)
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(pkg),
                        str(out)], check=True, capture_output=True)
    log(f"{out}: apt install ./{out.name}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware.image.deb",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("printbridge.deb"))
    parser.add_argument("--arch", default="arm64", help=f"one of {', '.join(DEB_ARCH)}")
    parser.add_argument("--python", default="3.11", help="target Python X.Y (Bookworm: 3.11)")
    parser.add_argument("--wheelhouse", type=Path, help="use these wheels (no download)")
    args = parser.parse_args(argv)
    try:
        build_deb(args.out, arch=args.arch, wheels=args.wheelhouse, python=args.python)
    except (ValueError, OSError, subprocess.CalledProcessError, PlanError) as exc:
        print(f"make deb: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
