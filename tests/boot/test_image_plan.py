"""``make image`` resolves the whole dependency plan before it writes a card (issue 17).

For a 32-bit card (armhf, Python armv7l) PyPI has no wheels for some requirements; Debian
packages stand in for them, resolved by apt against the card's own dpkg status.  Here the
card's packages come from a local flat repository of small fake ``.deb`` files (built with
dpkg-deb, served to the real apt-get through ``APT_SOURCE``), and the wheels from the real
package index through the real pip: nothing of the plan is mocked.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.image.apt import card_sources, upstream_version
from firmware.image.build import detect_target
from firmware.image.plan import STAND_INS, Need, Plan, Requirement
from firmware.image.wheelhouse import requirements
from tests.boot.sdimage import (
    BOOT_START,
    DPKG_STATUS,
    SECTOR,
    make_image,
    mtools_list,
    mtools_read,
    root_tree,
)

ROOT = Path(__file__).resolve().parent.parent.parent
ARMHF_STATUS = DPKG_STATUS.replace("Architecture: arm64", "Architecture: armhf")


# -- the pure parts


def test_requirements_admit_versions_as_pip_would() -> None:
    req = Requirement.parse("pysnmp>=7.1,<8")
    assert req.name == "pysnmp" and req.specs == ((">=", "7.1"), ("<", "8"))
    assert req.admits("7.1") and req.admits("7.1.30") and not req.admits("8.0")
    assert not req.admits("7.0.9")
    assert Requirement.parse("Pillow>=9.4").admits("9.4.0")
    assert not Requirement.parse("Pillow>=10").admits("9.4.0")
    assert Requirement.parse("netifaces_plus>=0.12").name == "netifaces-plus"
    assert Requirement.parse("foo~=1.4").admits("1.9") and not Requirement.parse(
        "foo~=1.4").admits("2.0")
    with pytest.raises(ValueError):
        Requirement.parse("foo>=1;bar")


def test_debian_versions_compare_by_their_upstream_part() -> None:
    assert upstream_version("1:1.24.2-1+deb12u1") == "1.24.2"
    assert upstream_version("9.4.0-1.1+deb12u1") == "9.4.0"
    assert upstream_version("38.0.4-3+deb12u1") == "38.0.4"
    assert upstream_version("2.12.1+dfsg-5") == "2.12.1"


def test_every_required_stand_in_satisfies_the_declared_minimum_on_bookworm() -> None:
    """The minimums in setup.cfg are no higher than what bookworm (and so 32-bit Raspberry
    Pi OS) ships for the requirements PyPI has no armv7l wheels for."""
    bookworm = {"python3-cryptography": "38.0.4", "python3-pil": "9.4.0",
                "python3-numpy": "1.24.2", "python3-libgpiod": "1.6.3"}
    reqs = {r.name: r for r in requirements()}
    for name in ("cryptography", "pillow", "numpy", "gpiod"):
        need = Need("armv7l", reqs[name], STAND_INS[name])
        assert reqs[name].admits(bookworm[need.stand_in.package], need.specs), need.wanted


def test_card_sources_read_both_formats(tmp_path: Path) -> None:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list").write_text(
        "# comment\ndeb http://raspbian.raspberrypi.com/raspbian/ bookworm main contrib\n"
        "deb-src http://raspbian.raspberrypi.com/raspbian/ bookworm main\n")
    (etc / "sources.list.d/raspi.list").write_text(
        "deb http://archive.raspberrypi.com/debian/ bookworm main\n")
    (etc / "sources.list.d/debian.sources").write_text(
        "Types: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm "
        "bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian.gpg\n\n"
        "Types: deb\nURIs: http://example.invalid/\nSuites: x\nComponents: y\nEnabled: no\n")
    assert card_sources(etc) == [
        "deb http://raspbian.raspberrypi.com/raspbian/ bookworm main contrib",
        "deb [signed-by=/usr/share/keyrings/debian.gpg] http://deb.debian.org/debian "
        "bookworm main",
        "deb [signed-by=/usr/share/keyrings/debian.gpg] http://deb.debian.org/debian "
        "bookworm-updates main",
        "deb http://archive.raspberrypi.com/debian/ bookworm main"]


def test_a_raspbian_card_targets_armv6_as_well() -> None:
    raspbian = ["deb http://raspbian.raspberrypi.com/raspbian/ bookworm main"]
    assert detect_target(None, ARMHF_STATUS, raspbian).arches == ["armv6l", "armv7l"]
    assert detect_target(None, ARMHF_STATUS, ["deb http://deb.debian.org/debian bookworm "
                                              "main"]).arches == ["armv7l"]
    assert detect_target(None, DPKG_STATUS, raspbian).arches == ["aarch64"]


def test_the_board_extra_is_installed_only_where_every_arch_has_it() -> None:
    plan = Plan("3.11", ["aarch64", "armv6l", "armv7l"],
                extras={"aarch64": ["board"], "armv7l": ["board"], "armv6l": []})
    assert plan.install_spec("arm64") == "printbridge[board]"
    assert plan.install_spec("armhf") == "printbridge"
    assert "install arm64 printbridge[board]\ninstall armhf printbridge\n" in plan.text()


# -- make image with the real pip and apt-get


def fake_deb(repo: Path, package: str, version: str, depends: str = "") -> None:
    pkg = repo / f"build-{package}"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "usr/share/doc" / package).mkdir(parents=True)
    (pkg / "usr/share/doc" / package / "README").write_text(f"{package} {version}\n")
    (pkg / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: armhf\n"
        "Maintainer: test <test@localhost>\n" + (f"Depends: {depends}\n" if depends else "")
        + f"Description: stands in for {package}\n")
    out = repo / f"{package}_{version.split(':')[-1]}_armhf.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(pkg), str(out)],
                   check=True, capture_output=True)


def flat_repo(repo: Path) -> str:
    """Packages and Release for a flat repository (the format apt reads, by hand)."""
    stanzas = []
    for deb in sorted(repo.glob("*.deb")):
        control = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True,
                                 capture_output=True, text=True).stdout.rstrip("\n")
        data = deb.read_bytes()
        stanzas.append(f"{control}\nFilename: ./{deb.name}\nSize: {len(data)}\n"
                       f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
    packages = "\n".join(stanzas).encode()
    (repo / "Packages").write_bytes(packages)
    (repo / "Release").write_text(
        "Origin: test\nLabel: test\nSuite: stable\nCodename: test\n"
        "Date: Mon, 07 Dec 2026 00:00:00 UTC\nArchitectures: armhf\nSHA256:\n"
        f" {hashlib.sha256(packages).hexdigest()} {len(packages)} Packages\n")
    return f"deb [trusted=yes] file:{repo} ./"


def minimum(name: str) -> str:
    """The version setup.cfg asks for at least (whatever it is when the test runs)."""
    req = next(r for r in requirements() if r.name == name)
    return next(bound for op, bound in req.specs if op == ">=")


def run_make_image(base: Path, out: Path, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "image", f"BASE={base}", f"OUT={out}",
         "ARCH=armv7l", f"APT_SOURCE={source}", f"PYTHON={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture
def card(tmp_path: Path) -> Path:
    """A synthetic 32-bit card: its root says armhf, Python 3.11, glibc 2.36."""
    return make_image(tmp_path / "raspios-armhf.img",
                      root_tree(tmp_path / "rootfs", dpkg_status=ARMHF_STATUS))


def test_make_image_refuses_a_card_whose_dependencies_cannot_be_met(
        card: Path, tmp_path: Path) -> None:
    """No armv7l wheel for cryptography and the card's sources lack python3-cryptography;
    their python3-pil is older than setup.cfg asks: make image fails with the list and
    writes no card (nor a partial one), and leaves the base image as it was."""
    repo = tmp_path / "repo"
    repo.mkdir()
    fake_deb(repo, "python3-pil", "9.0.0-1")
    fake_deb(repo, "python3-numpy", f"1:{minimum('numpy')}.2-1")
    source = flat_repo(repo)
    before = hashlib.sha256(card.read_bytes()).hexdigest()
    out = tmp_path / "printbridge.img"
    proc = run_make_image(card, out, source)
    assert proc.returncode != 0, proc.stdout
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    assert hashlib.sha256(card.read_bytes()).hexdigest() == before
    problems = [line.strip() for line in proc.stderr.splitlines() if line.startswith("  ")]
    assert any(p.startswith("armv7l: cryptography>=") and "do not have it" in p
               for p in problems), proc.stderr
    assert any(p.startswith("armv7l: Pillow>=") and "have 9.0.0-1" in p
               for p in problems), proc.stderr
    assert not any("numpy" in p for p in problems), proc.stderr  # that one was there
    assert len(problems) == 2, proc.stderr


def test_make_image_puts_the_resolved_debian_packages_on_the_card(
        card: Path, tmp_path: Path) -> None:
    """Every stand-in at the version setup.cfg asks, one with a dependency of its own:
    the card gets exactly those archives (apt's closure, nothing the card has) and a
    manifest telling the installer to install without the board extra on armhf."""
    repo = tmp_path / "repo"
    repo.mkdir()
    fake_deb(repo, "python3-cryptography", f"{minimum('cryptography')}.4-3",
             depends="python3-cffi-backend")
    fake_deb(repo, "python3-cffi-backend", "1.15.1-5")
    fake_deb(repo, "python3-pil", f"{minimum('pillow')}.0-1")
    fake_deb(repo, "python3-numpy", f"1:{minimum('numpy')}.2-1")
    fake_deb(repo, "python3-libgpiod", "1.6.3-1")
    fake_deb(repo, "python3-unrelated", "1.0-1")
    out = tmp_path / "printbridge.img"
    proc = run_make_image(card, out, flat_repo(repo))
    assert proc.returncode == 0, proc.stderr
    offset = BOOT_START * SECTOR
    debs = sorted(mtools_list(out, offset, "printbridge/debs/armhf"))
    assert [name.split("_")[0] for name in debs] == [
        "python3-cffi-backend", "python3-cryptography", "python3-libgpiod", "python3-numpy",
        "python3-pil"]
    manifest = mtools_read(out, offset, "printbridge/wheelhouse/MANIFEST.txt").decode()
    assert "install armhf printbridge\n" in manifest
    assert "debian armv7l: gpiod>=" in manifest and "from python3-libgpiod 1.6.3-1" in manifest
    wheels = [line.split()[1] for line in manifest.splitlines() if line.startswith("wheel ")]
    assert any(w.startswith("aiohttp-") and "armv7l" in w for w in wheels)
    assert not any(w.lower().startswith(("pillow-", "cryptography-", "numpy-"))
                   for w in wheels)
    for name in debs:  # the archives are the repository's, byte for byte
        got = subprocess.run(["mcopy", "-n", "-i", f"{out}@@{offset}",
                              f"::printbridge/debs/armhf/{name}", "-"], check=True,
                             capture_output=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
        assert got.stdout == next(repo.glob(f"{name.split('_')[0]}_*.deb")).read_bytes()
