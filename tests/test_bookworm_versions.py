"""The declared minimums admit what Debian bookworm / 32-bit Raspberry Pi OS ships (issue 17).

On armhf and ARMv6 the package index has no wheels for these, so the first boot installs
Debian's python3-* packages instead, and pip must accept them: a minimum above these
versions stops the install (``No matching distribution found for cryptography>=41``).
The code is run against exactly these versions by running the SNMP, TLS, pipeline and
web tests in a venv that has them (``pip install cryptography==38.0.4 Pillow==9.4.0
numpy==1.24.2``).
"""

from __future__ import annotations

import configparser

import pytest
from packaging.requirements import Requirement

from tests.daemon import ROOT

#: Debian 12 (bookworm) versions: python3-cryptography, python3-pil, python3-numpy.
BOOKWORM = {"cryptography": "38.0.4", "pillow": "9.4.0", "numpy": "1.24.2"}


def install_requires() -> dict[str, Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].split("\n")
    requirements = (Requirement(line) for line in lines if line.strip())
    return {r.name.lower(): r for r in requirements}


@pytest.mark.parametrize(("name", "version"), BOOKWORM.items())
def test_bookworm_version_satisfies_the_declared_requirement(name: str, version: str) -> None:
    requirement = install_requires()[name]
    assert requirement.specifier.contains(version), (
        f"{requirement} refuses bookworm's {name} {version}")
