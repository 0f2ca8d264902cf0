"""The wheelhouse: every wheel the target needs to install Printbridge without network.

``pip download --only-binary=:all: --platform TAG --python-version X.Y --implementation
cp --abi cpXY`` resolves the runtime requirements (``install_requires`` in setup.cfg, plus
the ``board`` extra: gpiod for the LED and button) for a platform other than this one.
Platform tags are the manylinux ones the target's glibc accepts (PEP 600:
``manylinux_2_N_ARCH`` for N up to the target's glibc minor, and the legacy
``manylinux2014_ARCH`` alias), for each architecture in userland spelling (``aarch64``
for 64-bit Raspberry Pi OS, ``armv7l`` for 32-bit).

PyPI does not have armv7l wheels for everything (at the time of writing numpy, Pillow,
cryptography and gpiod 2 publish none).  Such a requirement is left out and listed in the
manifest; the installer's virtualenv sees the system's site packages, so Debian's
``python3-numpy`` and friends can stand in, and ``install.sh`` retries without the
``board`` extra.  All wheels go into one flat directory: on the target, pip picks the ones
whose tags the interpreter supports, which is right even for 32-bit userland on a 64-bit
kernel (where ``uname -m`` would say aarch64).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent.parent
EXTRAS = ("board",)


@dataclass
class Manifest:
    python: str
    arches: list[str]
    wheels: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"python {self.python}", f"arches {' '.join(self.arches)}"]
        for arch, reqs in sorted(self.missing.items()):
            lines.append(f"missing {arch}: {', '.join(reqs)}")
        lines += [f"wheel {name}" for name in sorted(self.wheels)]
        return "\n".join(lines) + "\n"


def requirements(source: Path = SOURCE, extras: tuple[str, ...] = EXTRAS) -> list[str]:
    """``install_requires`` and the named extras from setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(source / "setup.cfg")
    reqs = [r.strip() for r in cfg.get("options", "install_requires").splitlines() if r.strip()]
    for extra in extras:
        if cfg.has_option("options.extras_require", extra):
            reqs += [r.strip() for r in cfg.get("options.extras_require", extra).splitlines()
                     if r.strip()]
    return reqs


def platform_tags(arch: str, glibc: tuple[int, int] = (2, 36)) -> list[str]:
    major, minor = glibc
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
    return [*tags, f"manylinux2014_{arch}"]


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip"]


def download(reqs: list[str], dest: Path, arch: str, python: str,
             glibc: tuple[int, int] = (2, 36)) -> list[str]:
    """Wheels for ``reqs`` into ``dest``; returns the requirements that have none."""
    abi = "cp" + python.replace(".", "")
    base = [*_pip(), "download", "--disable-pip-version-check", "--quiet", "--dest", str(dest),
            "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
            "--abi", abi, "--abi", "abi3", "--abi", "none"]
    for tag in platform_tags(arch, glibc):
        base += ["--platform", tag]
    if subprocess.run([*base, *reqs], capture_output=True).returncode == 0:
        return []
    # Something has no wheel: find out what, one requirement at a time.
    missing = []
    for req in reqs:
        if subprocess.run([*base, req], capture_output=True).returncode != 0:
            missing.append(req)
    return missing


def build_own_wheel(dest: Path, source: Path = SOURCE) -> Path:
    """Printbridge's own wheel, built from a clean copy of the source tree (tracked and
    untracked-but-not-ignored files), so the build leaves nothing in the work tree."""
    with tempfile.TemporaryDirectory(prefix="printbridge-src-") as tmp:
        copy = Path(tmp) / "src"
        listed = subprocess.run(["git", "-C", str(source), "ls-files", "-co", "--exclude-standard"],
                                capture_output=True, text=True)
        if listed.returncode == 0 and listed.stdout.strip():
            for rel in listed.stdout.splitlines():
                src = source / rel
                if src.is_file():
                    (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, copy / rel)
        else:
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
                ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", "tests"))
        subprocess.run([*_pip(), "wheel", "--disable-pip-version-check", "--quiet", "--no-deps",
                        "--wheel-dir", str(dest), str(copy)], check=True)
    wheels = sorted(dest.glob("printbridge-*.whl"))
    if not wheels:
        raise RuntimeError("pip wheel made no printbridge wheel")
    return wheels[-1]


def build(dest: Path, arches: list[str], python: str, glibc: tuple[int, int] = (2, 36),
          source: Path = SOURCE, log: Callable[[str], object] = print) -> Manifest:
    """Our wheel, pip, and the runtime requirements for every arch, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(python, arches)
    build_own_wheel(dest, source)
    reqs = requirements(source)
    with tempfile.TemporaryDirectory(prefix="printbridge-wh-") as tmp:
        for arch in arches:
            part = Path(tmp) / arch
            part.mkdir()
            missing = download([*reqs, "pip"], part, arch, python, glibc)
            if missing:
                manifest.missing[arch] = missing
                log(f"wheelhouse: no {arch} wheel for Python {python}: "
                    f"{', '.join(missing)}")
            for wheel in part.iterdir():
                shutil.copyfile(wheel, dest / wheel.name)
    manifest.wheels = sorted(p.name for p in dest.glob("*.whl"))
    (dest / "MANIFEST.txt").write_text(manifest.text())
    return manifest
