"""The wheelhouse: every wheel the target needs to install Printbridge without network.

``pip download --only-binary=:all: --platform TAG --python-version X.Y --implementation
cp --abi cpXY`` resolves the runtime requirements (``install_requires`` in setup.cfg, plus
the ``board`` extra: gpiod for the LED and button) for a platform other than this one.
Platform tags are the manylinux ones the target's glibc accepts (PEP 600:
``manylinux_2_N_ARCH`` for N up to the target's glibc minor, and the legacy
``manylinux2014_ARCH`` alias), for each architecture in userland spelling (``aarch64``
for 64-bit Raspberry Pi OS, ``armv7l`` for 32-bit).

PyPI does not have wheels for everything (armv7l: numpy, Pillow, cryptography and gpiod 2;
armv6l: anything compiled).  Such a requirement is resolved by :mod:`firmware.image.plan`:
a Debian package stands in for it (the installer's virtualenv sees the system's site
packages), an optional one is dropped with its reason, and anything else is *missing* — the
plan fails.  All wheels go into one flat directory: on the target, pip picks the ones
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
from pathlib import Path

from firmware.image.plan import STAND_INS, Need, Plan, PlanError, Requirement

SOURCE = Path(__file__).resolve().parent.parent.parent
EXTRAS = ("board",)


def requirements(source: Path = SOURCE, extras: tuple[str, ...] = EXTRAS
                 ) -> list[Requirement]:
    """``install_requires`` and the named extras from setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(source / "setup.cfg")
    reqs = [Requirement.parse(r) for r in cfg.get("options", "install_requires").splitlines()
            if r.strip()]
    for extra in extras:
        if cfg.has_option("options.extras_require", extra):
            reqs += [Requirement.parse(r, extra) for r in
                     cfg.get("options.extras_require", extra).splitlines() if r.strip()]
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
          source: Path = SOURCE, log: Callable[[str], object] = print) -> Plan:
    """Our wheel, pip, and for every arch the wheels of the runtime requirements that have
    one, into ``dest``; the plan says what stands in for the rest (Debian packages, not
    fetched here: :mod:`firmware.image.apt`), what is dropped and what is missing."""
    dest.mkdir(parents=True, exist_ok=True)
    plan = Plan(python, arches)
    build_own_wheel(dest, source)
    reqs = requirements(source)
    with tempfile.TemporaryDirectory(prefix="printbridge-wh-") as tmp:
        for arch in arches:
            part = Path(tmp) / arch
            part.mkdir()
            without = download([*(r.text for r in reqs), "pip"], part, arch, python, glibc)
            wheeled = reqs
            if without:
                log(f"wheelhouse: no {arch} wheel for Python {python}: {', '.join(without)}")
                wheeled = [r for r in reqs if r.text not in without]
                for req in (r for r in reqs if r.text in without):
                    _stand_in(plan, arch, req, log)
                shutil.rmtree(part)
                part.mkdir()
                # What remains must resolve together, as pip will resolve it on the box.
                if download([*(r.text for r in wheeled), "pip"], part, arch, python, glibc):
                    plan.missing.setdefault(arch, []).append(
                        "the requirements that have wheels do not resolve together: "
                        + ", ".join(r.text for r in wheeled))
            plan.extras[arch] = sorted({r.extra for r in reqs if r.extra} - {
                r.extra for r in reqs if r.extra and r not in wheeled})
            for wheel in part.iterdir():
                shutil.copyfile(wheel, dest / wheel.name)
    plan.wheels = sorted(p.name for p in dest.glob("*.whl"))
    (dest / "MANIFEST.txt").write_text(plan.text())
    return plan


def _stand_in(plan: Plan, arch: str, req: Requirement, log: Callable[[str], object]) -> None:
    stand_in = STAND_INS.get(req.name)
    if stand_in is not None:
        plan.debian.setdefault(arch, []).append(Need(arch, req, stand_in))
    elif req.extra:
        why = (f"{req.text} (extra {req.extra!r}): no {arch} wheel and no Debian package "
               "stands in for it; installed without it")
        plan.dropped.setdefault(arch, []).append(why)
        log(f"wheelhouse: {arch}: {why}")
    else:
        plan.missing.setdefault(arch, []).append(
            f"{req.text}: no wheel for {arch} on the package index, and no Debian package "
            "stands in for it")


__all__ = ["Plan", "PlanError", "Requirement", "build", "build_own_wheel", "download",
           "requirements"]
