"""The dependency plan: where each of Printbridge's requirements comes from on a target.

For every architecture a card or package targets, a requirement comes from a wheel on the
package index (:mod:`firmware.image.wheelhouse`) or, where the index has none for that
architecture, from the Debian package the target's own distribution ships
(:data:`STAND_INS`, fetched with :mod:`firmware.image.apt`).  32-bit Raspberry Pi OS is the
case this exists for: PyPI has no ``armv7l`` wheels for cryptography, Pillow, numpy or
gpiod, and none at all for ``armv6l`` (Pi Zero W, Pi 1); bookworm ships them as
python3-cryptography 38.0.4, python3-pil 9.4.0, python3-numpy 1.24.2 and python3-libgpiod
1.6.3 (the v1 API, which :mod:`firmware.board.gpiod_v1` drives).  The declared minimums in
setup.cfg are no higher than those, so the stand-ins satisfy them.

A requirement of an *extra* (``board``: the LED and button) is optional: with neither a
wheel nor a stand-in the box installs without it and says why.  Anything else missing
makes the plan fail, and ``make image`` refuse to write a card that could not boot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Python architecture (``platform.machine()`` / wheel tag) → Debian architecture.
DEB_ARCH = {"aarch64": "arm64", "armv7l": "armhf", "armv6l": "armhf", "x86_64": "amd64"}


@dataclass(frozen=True, slots=True)
class StandIn:
    """A Debian package that can stand in for a requirement without a wheel.  ``accepts``
    replaces the requirement's own version specifier where the product supports an older
    API than the wheel on the index (gpiod 1.x: the v1 bindings)."""

    package: str
    accepts: str | None = None


#: Requirement name (normalised, PEP 503) → the Debian package with the same module.
#: Those not listed (pysnmp 7, netifaces-plus, pypdfium2) are not in Debian.
STAND_INS: dict[str, StandIn] = {
    "cryptography": StandIn("python3-cryptography"),
    "pillow": StandIn("python3-pil"),
    "numpy": StandIn("python3-numpy"),
    "gpiod": StandIn("python3-libgpiod", ">=1.5"),
    "jinja2": StandIn("python3-jinja2"),
    "markupsafe": StandIn("python3-markupsafe"),
    "aiohttp": StandIn("python3-aiohttp"),
    "zeroconf": StandIn("python3-zeroconf"),
    "pyserial": StandIn("python3-serial"),
    "pyusb": StandIn("python3-usb"),
}

_SPEC = re.compile(r"\s*(===|==|!=|<=|>=|~=|<|>)\s*([^,\s]+)\s*")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _numbers(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    return tuple(int(x) for x in match[0].split(".")) if match else ()


def _cmp(a: str, b: str) -> int:
    x, y = _numbers(a), _numbers(b)
    width = max(len(x), len(y))
    x, y = x + (0,) * (width - len(x)), y + (0,) * (width - len(y))
    return (x > y) - (x < y)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One PEP 508 requirement as setup.cfg writes them: ``name[extra]>=1,<2`` (no
    markers, no URLs); release numbers compared numerically (PEP 440's release segment)."""

    text: str
    name: str
    specs: tuple[tuple[str, str], ...] = ()
    extra: str | None = None  # the setup.cfg extra it belongs to (None: always installed)

    @classmethod
    def parse(cls, text: str, extra: str | None = None) -> Requirement:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$", text)
        if not match or ";" in text or "@" in text:  # markers and URLs: not ours to judge
            raise ValueError(f"cannot read the requirement {text!r}")
        return cls(text.strip(), normalise(match[1]), parse_specs(match[3]), extra)

    def admits(self, version: str, specs: tuple[tuple[str, str], ...] | None = None) -> bool:
        return all(_admits(op, bound, version) for op, bound in
                   (self.specs if specs is None else specs))


def parse_specs(text: str) -> tuple[tuple[str, str], ...]:
    specs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _SPEC.fullmatch(part)
        if not match:
            raise ValueError(f"cannot read the version specifier {part!r}")
        specs.append((match[1], match[2]))
    return tuple(specs)


def _admits(op: str, bound: str, version: str) -> bool:
    if op == "~=":
        upper = _numbers(bound)[:-1]
        return _cmp(version, bound) >= 0 and _numbers(version)[:len(upper)] == upper
    c = _cmp(version, bound)
    return {"==": c == 0, "===": c == 0, "!=": c != 0, "<=": c <= 0, ">=": c >= 0,
            "<": c < 0, ">": c > 0}[op]


@dataclass(slots=True)
class Need:
    """A Debian package the target must install, for which requirement and which arch."""

    arch: str
    requirement: Requirement
    stand_in: StandIn
    version: str | None = None  # the Debian version apt would install, once resolved

    @property
    def specs(self) -> tuple[tuple[str, str], ...]:
        return (parse_specs(self.stand_in.accepts) if self.stand_in.accepts is not None
                else self.requirement.specs)

    @property
    def wanted(self) -> str:
        accepts = self.stand_in.accepts if self.stand_in.accepts is not None else ",".join(
            op + bound for op, bound in self.requirement.specs)
        return f"{self.requirement.name}{accepts}"


@dataclass(slots=True)
class Plan:
    """What a wheelhouse holds and what it cannot, per architecture."""

    python: str
    arches: list[str]
    wheels: list[str] = field(default_factory=list)
    #: arch → the Debian packages standing in for requirements without a wheel
    debian: dict[str, list[Need]] = field(default_factory=dict)
    #: arch → the extras pip installs there (``board`` when its wheels are all there)
    extras: dict[str, list[str]] = field(default_factory=dict)
    #: arch → what cannot be met, one reason each (the plan fails)
    missing: dict[str, list[str]] = field(default_factory=dict)
    #: arch → optional parts left out, one reason each (the box installs without them)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    #: Debian architecture → archive file names under ``debs/<arch>/``
    debs: dict[str, list[str]] = field(default_factory=dict)

    def unmet(self, need: Need, why: str) -> None:
        """The stand-in for ``need`` cannot be had: an extra's is dropped (the box
        installs without it), anything else is missing (the plan fails)."""
        text = (f"{need.requirement.text}: no wheel for {need.arch}, and Debian's "
                f"{need.stand_in.package} ({need.wanted}) cannot be had: {why}")
        if need.requirement.extra:
            self.dropped.setdefault(need.arch, []).append(
                f"{text}; installed without the {need.requirement.extra!r} extra")
        else:
            self.missing.setdefault(need.arch, []).append(text)

    def problems(self) -> list[str]:
        return [f"{arch}: {why}" for arch, whys in sorted(self.missing.items()) for why in whys]

    def install_spec(self, deb_arch: str) -> str:
        """What pip installs on a box of this Debian architecture: the extras only where
        every Python architecture sharing it has their wheels (armhf: armv6l and armv7l)."""
        sets = [set(self.extras.get(a, [])) for a in self.arches if DEB_ARCH.get(a) == deb_arch]
        extras = sorted(set.intersection(*sets)) if sets else []
        return f"printbridge[{','.join(extras)}]" if extras else "printbridge"

    def text(self) -> str:
        """MANIFEST.txt: read by people and by install.sh (the ``install`` lines)."""
        lines = [f"python {self.python}", f"arches {' '.join(self.arches)}"]
        for deb_arch in sorted({DEB_ARCH.get(a, a) for a in self.arches}):
            lines.append(f"install {deb_arch} {self.install_spec(deb_arch)}")
        for arch, needs in sorted(self.debian.items()):
            for need in needs:
                lines.append(f"debian {arch}: {need.requirement.text} from {need.stand_in.package}"
                             f" {need.version or '(unresolved)'}")
        for arch, whys in sorted(self.dropped.items()):
            lines += [f"dropped {arch}: {why}" for why in whys]
        for arch, whys in sorted(self.missing.items()):
            lines += [f"missing {arch}: {why}" for why in whys]
        lines += [f"wheel {name}" for name in sorted(self.wheels)]
        for deb_arch, names in sorted(self.debs.items()):
            lines += [f"deb {deb_arch} {name}" for name in sorted(names)]
        return "\n".join(lines) + "\n"


class PlanError(Exception):
    """The target's dependencies cannot all be met; ``problems`` lists each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the target's dependencies cannot all be met:\n  "
                         + "\n  ".join(problems))
        self.problems = problems
