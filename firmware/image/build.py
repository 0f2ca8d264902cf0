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
architecture and the glibc version (``libc6``), which decide the wheels.  A 32-bit card
(``armhf``) from Raspberry Pi OS (its sources name ``raspbian``) boots ARMv6 boards (Pi
Zero W, Pi 1) as well as ARMv7 ones, so both are targeted; Debian's armhf is ARMv7.

Before anything is written, the whole dependency plan is resolved (:mod:`firmware.image.plan`):
wheels for every target architecture, and the Debian packages standing in for those without
one, resolved and fetched with the card's own dpkg status, sources and keys
(:mod:`firmware.image.apt`) into ``printbridge/debs/<arch>/``, which the first boot installs
with dpkg.  If anything cannot be met, ``make image`` fails with the list and no card.
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
from firmware.image.apt import AptError, CardApt, upstream_version
from firmware.image.apt import card_sources as card_sources_of
from firmware.image.plan import DEB_ARCH as PY_TO_DEB
from firmware.image.plan import Need, Plan, PlanError

FILES = Path(__file__).resolve().parent / "files"
#: Debian architecture → the Python architectures a card of it boots.
DEB_ARCH = {"arm64": "aarch64", "armhf": "armv7l", "amd64": "x86_64"}
RASPBIAN_ARCHES = ["armv6l", "armv7l"]
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


def detect_target(fstab: str | None, status: str | None, sources: list[str] | None = None
                  ) -> Target:
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
        if arches == ["armv7l"] and any("raspbian" in line for line in sources or []):
            arches = list(RASPBIAN_ARCHES)  # Raspbian's armhf is built for ARMv6
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


@dataclass(slots=True)
class Card:
    """What ``make image`` read off the base image's root file system (debugfs)."""

    fstab: str | None = None
    status: str | None = None
    etc_apt: Path | None = None
    keyrings: Path | None = None


def read_card(image: Path, into: Path) -> Card:
    root = sdcard.root_partition(image)
    card = Card()
    if root is None:
        return card
    raw = sdcard.debugfs_cat(image, root.offset, "/etc/fstab")
    card.fstab = raw.decode(errors="replace") if raw else None
    raw = sdcard.debugfs_cat(image, root.offset, "/var/lib/dpkg/status")
    card.status = raw.decode(errors="replace") if raw else None
    card.etc_apt = sdcard.debugfs_rdump(image, root.offset, "/etc/apt", into / "etc")
    card.keyrings = sdcard.debugfs_rdump(image, root.offset, "/usr/share/keyrings",
                                         into / "share")
    return card


def fetch_debian(plan: Plan, card: Card, work: Path, dest: Path, *,
                 sources: list[str] | None = None, log: Callable[[str], object] = print
                 ) -> None:
    """The Debian packages standing in for wheels the index lacks, resolved against the
    card (its dpkg status, sources and keys) and fetched into ``dest/<deb arch>/``; what
    cannot be had goes into ``plan.missing``."""
    by_deb: dict[str, list[Need]] = {}
    for arch, needs in plan.debian.items():
        by_deb.setdefault(PY_TO_DEB.get(arch, arch), []).extend(needs)
    for deb_arch, needs in sorted(by_deb.items()):
        if card.status is None:
            for need in needs:
                plan.unmet(need, "the image has no readable root file system to resolve "
                                 "Debian packages against")
            continue
        try:
            apt = CardApt.create(work / f"apt-{deb_arch}", deb_arch, status=card.status,
                                 etc_apt=card.etc_apt, keyrings=card.keyrings,
                                 sources=sources or ())
            log(f"debian: {deb_arch} packages from {'; '.join(apt.sources)}")
            apt.update()
        except AptError as exc:
            for need in needs:
                plan.unmet(need, str(exc))
            continue
        wanted = []
        for need in needs:
            version = apt.candidate(need.stand_in.package)
            if version is None:
                plan.unmet(need, "the card's sources do not have it")
            elif not need.requirement.admits(upstream_version(version), need.specs):
                plan.unmet(need, f"the card's sources have {version}")
            else:
                need.version = version
                wanted.append(need)
        if plan.missing or not wanted:
            continue
        packages = sorted({need.stand_in.package for need in wanted})
        try:
            got = apt.download(packages, dest / deb_arch)
        except AptError as exc:
            for need in wanted:
                plan.unmet(need, str(exc))
            continue
        plan.debs[deb_arch] = [p.name for p in got]
        log(f"debian: {deb_arch}: {len(got)} packages for {', '.join(packages)}")


def build_image(base: Path, out: Path, *, wheels: Path | None = None,
                arches: list[str] | None = None, python: str | None = None,
                config: Path | None = None, sources: list[str] | None = None,
                log: Callable[[str], object] = print) -> Target:
    """Write ``out``; nothing is left there unless the whole card could be made."""
    say = log
    if not base.is_file():
        raise sdcard.ImageError(f"base image not found: {base}")
    partial = out.with_name(f".{out.name}.partial")
    try:
        target = _build(base, partial, wheels=wheels, arches=arches, python=python,
                        config=config, sources=sources, log=say, name=out)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    say(f"{out}: ready to flash; edit printbridge.txt on its boot partition")
    return target


def _build(base: Path, out: Path, *, wheels: Path | None, arches: list[str] | None,
           python: str | None, config: Path | None, sources: list[str] | None,
           log: Callable[[str], object], name: Path) -> Target:
    say = log
    say(f"copying {base} to {name}")
    sdcard.copy_image(base, out)
    boot = sdcard.boot_partition(out)
    fat = sdcard.Fat(out, boot.offset)
    if not fat.exists("cmdline.txt"):
        raise sdcard.ImageError(f"{base}: the boot partition has no cmdline.txt")
    with tempfile.TemporaryDirectory(prefix="printbridge-image-") as tmp:
        card = read_card(out, Path(tmp) / "card")
        card_sources = sources or (card_sources_of(card.etc_apt) if card.etc_apt else [])
        target = detect_target(card.fstab, card.status, card_sources)
        if arches:
            target.arches = arches
        if python:
            target.python = python
        say(f"target: boot at {target.boot_mount}, Python {target.python}, "
            f"{' '.join(target.arches)} ({'; '.join(target.detected) or 'defaults'})")
        if wheels is None:
            wheels = Path(tmp) / "wheelhouse"
            plan = wheelhouse.build(wheels, target.arches, target.python, target.glibc,
                                    log=say)
            fetch_debian(plan, card, Path(tmp), wheels / "debs", sources=sources, log=say)
            (wheels / "MANIFEST.txt").write_text(plan.text())
            if plan.missing:
                raise PlanError(plan.problems())
        files = sorted(p for p in wheels.iterdir() if p.is_file())
        debs = {d.name: sorted(p for p in d.iterdir() if p.is_file())
                for d in sorted((wheels / "debs").iterdir())} if (wheels / "debs").is_dir() else {}
        need = sum(p.stat().st_size for p in files) + sum(
            p.stat().st_size for group in debs.values() for p in group) + (1 << 20)
        free = fat.free_bytes()
        if 0 <= free < need:
            raise sdcard.ImageError(f"boot partition has {free} bytes free, the wheelhouse "
                                    f"needs {need}")
        fat.mkdir("printbridge/wheelhouse")
        fat.put(files, "printbridge/wheelhouse")
        for deb_arch, group in debs.items():
            if group:
                fat.mkdir(f"printbridge/debs/{deb_arch}")  # parents too
                fat.put(group, f"printbridge/debs/{deb_arch}")
    fat.write("printbridge/firstboot.sh", (FILES / "install.sh").read_bytes())
    if config is not None:
        fat.write("printbridge.txt", config.read_bytes())
    elif not fat.exists("printbridge.txt"):
        fat.write("printbridge.txt", (FILES / "printbridge.txt").read_bytes())
    cmdline = fat.read("cmdline.txt").decode()
    fat.write("cmdline.txt", hook_cmdline(
        cmdline, f"{target.boot_mount}/printbridge/firstboot.sh").encode())
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
                        help="aarch64, armv7l, armv6l, x86_64 (default: from the image)")
    parser.add_argument("--python", help="target Python X.Y (default: from the image)")
    parser.add_argument("--config", type=Path, help="a filled-in printbridge.txt to put in")
    parser.add_argument("--apt-source", action="append", metavar="LINE",
                        help="a one-line 'deb URI SUITE COMPONENTS' to take the card's Debian "
                             "packages from instead of its own sources (a local mirror)")
    args = parser.parse_args(argv)
    arches = [DEB_ARCH.get(a, a) for item in args.arch or [] for a in item.split() if a]
    try:
        build_image(args.base, args.out, wheels=args.wheelhouse, arches=arches or None,
                    python=args.python, config=args.config,
                    sources=[s for s in args.apt_source or [] if s.strip()] or None)
    except (sdcard.ImageError, PlanError, OSError) as exc:
        print(f"make image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
