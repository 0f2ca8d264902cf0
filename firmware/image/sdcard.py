"""SD-card images without mounting: the MBR, the FAT boot partition through mtools, the
ext4 root through debugfs.

Raspberry Pi OS images are MBR-partitioned: a FAT32 ``bootfs`` (type 0x0c, 512 MiB at
sector 8192 in current images) holding the firmware, ``config.txt`` and ``cmdline.txt``,
then the ext4 ``rootfs`` (type 0x83).  mtools reaches a file system at a byte offset
inside an image file with ``-i IMAGE@@OFFSET``; debugfs with ``IMAGE?offset=OFFSET``.
Neither needs root or a loop device.
"""

from __future__ import annotations

import lzma
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

SECTOR = 512
FAT_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}
LINUX_TYPE = 0x83
CHUNK = 4 << 20


class ImageError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Partition:
    number: int
    type: int
    start: int  # sectors
    sectors: int

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR


def partitions(image: Path) -> list[Partition]:
    """The four primary MBR entries that are in use (the boot sector's table at 446)."""
    with open(image, "rb") as fh:
        mbr = fh.read(SECTOR)
    if len(mbr) < SECTOR or mbr[510:512] != b"\x55\xaa":
        raise ImageError(f"{image}: no MBR partition table (is it a Raspberry Pi OS image?)")
    found = []
    for number in range(4):
        entry = mbr[446 + 16 * number: 446 + 16 * (number + 1)]
        ptype = entry[4]
        start, sectors = struct.unpack("<II", entry[8:16])
        if ptype and sectors:
            found.append(Partition(number + 1, ptype, start, sectors))
    return found


def boot_partition(image: Path) -> Partition:
    for part in partitions(image):
        if part.type in FAT_TYPES:
            return part
    raise ImageError(f"{image}: no FAT boot partition")


def root_partition(image: Path) -> Partition | None:
    return next((p for p in partitions(image) if p.type == LINUX_TYPE), None)


def _copy_sparse(src_fh: object, dst: Path, read: object) -> None:
    """Write chunks from ``read`` to ``dst``, seeking over all-zero chunks (sparse file)."""
    zero = bytes(CHUNK)
    with open(dst, "wb") as out:
        size = 0
        while chunk := read(CHUNK):  # type: ignore[operator]
            if chunk == zero[: len(chunk)]:
                out.seek(len(chunk), os.SEEK_CUR)
            else:
                out.write(chunk)
            size += len(chunk)
        out.truncate(size)


def copy_image(base: Path, out: Path) -> None:
    """``base`` (a raw ``.img`` or an ``.img.xz``) to ``out`` as a sparse raw image."""
    if base.suffix == ".xz":
        with lzma.open(base, "rb") as fh:
            _copy_sparse(fh, out, fh.read)
        return
    with open(base, "rb") as fh:
        try:  # copy only the data extents of a sparse source (SEEK_DATA/SEEK_HOLE)
            size = os.fstat(fh.fileno()).st_size
            with open(out, "wb") as dst:
                pos = 0
                while pos < size:
                    try:
                        data = os.lseek(fh.fileno(), pos, os.SEEK_DATA)
                    except OSError:  # ENXIO: only a hole is left
                        break
                    hole = os.lseek(fh.fileno(), data, os.SEEK_HOLE)
                    fh.seek(data)
                    dst.seek(data)
                    remaining = hole - data
                    while remaining:
                        chunk = fh.read(min(CHUNK, remaining))
                        dst.write(chunk)
                        remaining -= len(chunk)
                    pos = hole
                dst.truncate(size)
        except (AttributeError, OSError):
            fh.seek(0)
            _copy_sparse(fh, out, fh.read)


class Fat:
    """The FAT file system at ``offset`` in ``image``, through mtools."""

    def __init__(self, image: Path, offset: int) -> None:
        if shutil.which("mcopy") is None:
            raise ImageError("mtools is not installed (apt-get install mtools)")
        self.spec = f"{image}@@{offset}"
        self.env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}

    def _run(self, *argv: str, data: bytes | None = None) -> bytes:
        proc = subprocess.run([argv[0], "-i", self.spec, *argv[1:]], input=data,
                              capture_output=True, env=self.env)
        if proc.returncode:
            raise ImageError(f"{' '.join(argv)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def read(self, path: str) -> bytes:
        return self._run("mcopy", "-n", f"::{path}", "-")

    def exists(self, path: str) -> bool:
        try:
            self._run("mdir", "-b", f"::{path}")
        except ImageError:
            return False
        return True

    def mkdir(self, path: str) -> None:
        parts = [p for p in path.strip("/").split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if not self.exists(sub):
                self._run("mmd", f"::{sub}")

    def write(self, path: str, data: bytes) -> None:
        self._run("mcopy", "-o", "-", f"::{path}", data=data)

    def put(self, files: list[Path], directory: str) -> None:
        """Copy local files into ``directory`` (overwriting), in batches."""
        for i in range(0, len(files), 50):
            self._run("mcopy", "-o", *map(str, files[i:i + 50]), f"::{directory}/")

    def listdir(self, path: str = "") -> list[str]:
        out = self._run("mdir", "-b", f"::{path}").decode(errors="replace")
        return [line.rstrip("/").rsplit("/", 1)[-1] for line in out.splitlines() if line.strip()]

    def free_bytes(self) -> int:
        """Free space, from ``minfo``'s boot sector and ``mdir``'s summary."""
        out = self._run("mdir", "::").decode(errors="replace")
        for line in out.splitlines():
            words = line.split()
            if "free" in words and words[-1] == "free":
                return int("".join(words[:-2]).replace(",", "").replace(" ", ""))
        return -1


def debugfs_cat(image: Path, offset: int, path: str) -> bytes | None:
    """A file from the ext4 root file system at ``offset`` (``debugfs -R 'cat PATH'``)."""
    if shutil.which("debugfs") is None:
        return None
    proc = subprocess.run(["debugfs", "-R", f"cat {path}", f"{image}?offset={offset}"],
                          capture_output=True)
    if proc.returncode or not proc.stdout:
        return None
    return proc.stdout


def debugfs_rdump(image: Path, offset: int, path: str, dest: Path) -> Path | None:
    """A directory of the ext4 root, copied with its contents to ``dest/<its name>``
    (``debugfs -R 'rdump PATH DEST'``); None where it is not there."""
    if shutil.which("debugfs") is None:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["debugfs", "-R", f"rdump {path} {dest}", f"{image}?offset={offset}"],
                   capture_output=True)
    got = dest / Path(path).name
    return got if got.is_dir() else None
