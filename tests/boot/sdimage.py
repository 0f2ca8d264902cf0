"""A synthetic Raspberry Pi OS image, built without mounting anything.

Raspberry Pi OS's own layout: an MBR with a 512 MiB FAT32 ``bootfs`` at sector 8192 (a
smaller FAT32 would have too few clusters and read as FAT16 to mtools) and an ext4
``rootfs`` after it filled from a directory with ``mke2fs -d`` — in a sparse file, so it
costs a few MB of disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SECTOR = 512
BOOT_START = 8192
BOOT_SECTORS = 512 * 2048  # 512 MiB
ROOT_START = BOOT_START + BOOT_SECTORS
ROOT_SECTORS = 64 * 2048  # 64 MiB
CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=5e3da3da-02 rootfstype=ext4 "
           "fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n")
CONFIG = "# http://rpf.io/configtxt\ndtparam=audio=on\ncamera_auto_detect=1\narm_64bit=1\n"
FSTAB = ("proc            /proc           proc    defaults          0       0\n"
         "PARTUUID=5e3da3da-01  /boot/firmware  vfat    defaults          0       2\n"
         "PARTUUID=5e3da3da-02  /               ext4    defaults,noatime  0       1\n")
DPKG_STATUS = """Package: libc6
Status: install ok installed
Architecture: arm64
Version: 2.36-9+rpt2+deb12u4

Package: python3
Status: install ok installed
Architecture: arm64
Version: 3.11.2-1+b1

"""
#: What ``make image`` (and its dependency plan) reads from a card's root with debugfs: the
#: installed packages, where apt would fetch more and the keys it trusts, the release.
#: :func:`root_tree` copies them from a real root for the foreign-architecture runs.
ROOT_FACTS = ("var/lib/dpkg/status", "etc/apt/sources.list", "etc/apt/sources.list.d",
              "etc/apt/trusted.gpg.d", "etc/apt/keyrings", "usr/share/keyrings",
              "etc/os-release", "usr/lib/os-release", "etc/debian_version")
TOOLS = ("sfdisk", "mkfs.vfat", "mke2fs", "mcopy", "debugfs")


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None
            and not Path("/usr/sbin", t).exists() and not Path("/sbin", t).exists()]


def _tool(name: str) -> str:
    for base in ("", "/usr/sbin/", "/sbin/"):
        path = shutil.which(base + name) if base else shutil.which(name)
        if path:
            return path
    return name


def _inside(root: Path, path: Path) -> Path:
    """``path`` (in ``root``) with its symbolic links followed as if ``root`` were /."""
    for _ in range(40):
        if not path.is_symlink():
            return path
        target = Path(os.readlink(path))
        path = root / target.relative_to("/") if target.is_absolute() else path.parent / target
        path = root / Path(os.path.normpath(path.relative_to(root)))
    raise OSError(f"{path}: too many symbolic links")


def copy_facts(real: Path, root: Path, facts: tuple[str, ...] = ROOT_FACTS) -> list[str]:
    """Copy ``facts`` from the installed system ``real`` into the card's root tree
    ``root``, links followed inside ``real`` (debugfs reads files, not links); returns
    the files copied, relative to the root."""
    copied = []
    for fact in facts:
        source = _inside(real, real / fact)
        if source.is_dir():
            (root / fact).mkdir(parents=True, exist_ok=True)
            files = [(f, Path(fact) / f.relative_to(source)) for f in sorted(source.rglob("*"))]
        else:
            files = [(source, Path(fact))]
        for src, rel in files:
            src = _inside(real, src)
            if src.is_file():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, root / rel)
                copied.append(str(rel))
            elif src.is_dir():
                (root / rel).mkdir(parents=True, exist_ok=True)
    return copied


def root_tree(root: Path, *, dpkg_status: str = DPKG_STATUS, facts_from: Path | None = None
              ) -> Path:
    """The card's root partition as a directory: /etc/fstab, the dpkg status (given, or
    with ``facts_from`` an installed system's own :data:`ROOT_FACTS`)."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/fstab").write_text(FSTAB)
    (root / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
    if facts_from is not None:
        copy_facts(facts_from, root)
    else:
        (root / "var/lib/dpkg/status").write_text(dpkg_status)
    (root / "usr/lib/python3.11").mkdir(parents=True, exist_ok=True)
    (root / "boot/firmware").mkdir(parents=True, exist_ok=True)
    return root


def make_image(path: Path, root: Path, *, cmdline: str = CMDLINE) -> Path:
    """Write the image; ``root`` is the directory the ext4 root is filled from."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    total = (ROOT_START + ROOT_SECTORS) * SECTOR
    with open(path, "wb") as fh:
        fh.truncate(total)
    table = (f"label: dos\nlabel-id: 0x5e3da3da\n"
             f"start={BOOT_START}, size={BOOT_SECTORS}, type=c\n"
             f"start={ROOT_START}, size={ROOT_SECTORS}, type=83\n")
    subprocess.run([_tool("sfdisk"), "--quiet", str(path)], input=table.encode(), check=True)
    subprocess.run([_tool("mkfs.vfat"), "-F", "32", "-n", "bootfs", "--offset", str(BOOT_START),
                    str(path), str(BOOT_SECTORS // 2)], check=True, capture_output=True)
    spec = f"{path}@@{BOOT_START * SECTOR}"
    staging = path.parent / f"{path.name}.boot"
    staging.mkdir(exist_ok=True)
    (staging / "cmdline.txt").write_text(cmdline)
    (staging / "config.txt").write_text(CONFIG)
    (staging / "kernel8.img").write_bytes(b"\x00" * 4096)
    subprocess.run(["mcopy", "-i", spec, *(str(p) for p in sorted(staging.iterdir())), "::/"],
                   check=True, env=env)
    shutil.rmtree(staging)
    subprocess.run([_tool("mke2fs"), "-q", "-F", "-t", "ext4", "-L", "rootfs", "-d", str(root),
                    "-E", f"offset={ROOT_START * SECTOR}", str(path), f"{ROOT_SECTORS // 2}k"],
                   check=True, capture_output=True)
    return path


def mtools_read(image: Path, offset: int, name: str) -> bytes:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{name}", "-"],
                          check=True, capture_output=True, env=env).stdout


def mtools_list(image: Path, offset: int, directory: str = "") -> list[str]:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    out = subprocess.run(["mdir", "-b", "-i", f"{image}@@{offset}", f"::{directory}"],
                         check=True, capture_output=True, env=env, text=True).stdout
    return [line.rstrip("/").rsplit("/", 1)[-1] for line in out.splitlines() if line.strip()]
