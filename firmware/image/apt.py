"""The card's own Debian packages: resolved with ``apt-get`` against the card's root file
system, on the machine that builds the image, without touching that machine's apt.

A 32-bit Raspberry Pi OS has no wheels on the package index for some of Printbridge's
compiled dependencies; Raspberry Pi OS ships them as ``python3-*`` packages.  To install
them at first boot *without network*, ``make image`` must know before it writes anything
which ``.deb`` files the card lacks, and put exactly those on it.  apt already knows how to
answer that, given the card's facts:

* ``/var/lib/dpkg/status`` — what the card has installed (nothing already there is taken);
* ``/etc/apt/sources.list`` and ``sources.list.d/`` — where its packages come from
  (``raspbian.raspberrypi.com`` for 32-bit Raspberry Pi OS, ``deb.debian.org`` for Debian);
* the keyrings those sources trust (``trusted.gpg.d/``, ``signed-by=`` files), so the
  downloads are verified as the card itself would verify them;
* the architecture (``armhf``, ``arm64``).

Everything lives in a private root given to apt as ``Dir`` (apt.conf(5): relative ``Dir::*``
paths are below it; the technique of devscripts' ``chdist``), read through ``APT_CONFIG``,
so neither root nor the host's sources are involved.  ``apt-get install --download-only``
then both checks that the set is installable on that card and fetches the archives.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


class AptError(Exception):
    """apt could not resolve or fetch the packages; the message says what and why."""


@dataclass(slots=True)
class CardApt:
    """A private apt for one card and one Debian architecture."""

    root: Path
    arch: str
    sources: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, arch: str, *, status: str, etc_apt: Path | None = None,
               keyrings: Path | None = None, sources: Iterable[str] = ()) -> CardApt:
        """Lay out the private root: the card's dpkg status, its sources (``etc_apt``:
        a copy of the card's /etc/apt; ``sources``: one-line ``deb`` entries that replace
        them) and its keyrings (``keyrings``: a copy of /usr/share/keyrings)."""
        for sub in ("etc/apt/sources.list.d", "etc/apt/trusted.gpg.d", "etc/apt/apt.conf.d",
                    "etc/apt/preferences.d", "var/lib/dpkg", "var/lib/apt/lists/partial",
                    "var/cache/apt/archives/partial", "var/log/apt", "keyrings"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "var/lib/dpkg/status").write_text(status)
        if keyrings is not None and keyrings.is_dir():
            for key in keyrings.iterdir():
                if key.is_file():
                    shutil.copyfile(key, root / "keyrings" / key.name)
        lines = list(sources)
        if etc_apt is not None and not lines:
            trusted = etc_apt / "trusted.gpg.d"
            if trusted.is_dir():
                for key in trusted.iterdir():
                    if key.is_file() and key.suffix in (".gpg", ".asc"):
                        shutil.copyfile(key, root / "etc/apt/trusted.gpg.d" / key.name)
            if (etc_apt / "trusted.gpg").is_file():
                shutil.copyfile(etc_apt / "trusted.gpg", root / "etc/apt/trusted.gpg")
            lines = card_sources(etc_apt)
        if not lines:
            raise AptError("the card names no package sources (/etc/apt/sources.list)")
        own = cls(root, arch, [_private_keys(line, root) for line in lines])
        (root / "etc/apt/sources.list").write_text("\n".join(own.sources) + "\n")
        (root / "apt.conf").write_text(
            f'Dir "{root}/";\n'
            f'APT::Architecture "{arch}";\nAPT::Architectures {{ "{arch}"; }};\n'
            # Runs as whoever builds the image, in a folder apt's _apt user cannot enter.
            'APT::Sandbox::User "root";\nDebug::NoLocking "true";\n'
            'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
            'Acquire::Languages "none";\nAcquire::Retries "2";\n'
            'Dir::Etc::preferencesparts "preferences.d";\n')
        return own

    def _run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "APT_CONFIG": str(self.root / "apt.conf"), "LC_ALL": "C.UTF-8",
               "DEBIAN_FRONTEND": "noninteractive"}
        try:
            return subprocess.run(list(args), capture_output=True, text=True, env=env,
                                  timeout=timeout)
        except FileNotFoundError as exc:
            raise AptError(f"{args[0]} is not installed on this machine (apt)") from exc

    def update(self) -> None:
        proc = self._run("apt-get", "update", "-q")
        problems = [line for line in (proc.stdout + proc.stderr).splitlines()
                    if line.startswith(("E:", "W:", "Err:"))]
        if proc.returncode or any(p.startswith(("E:", "Err:")) for p in problems):
            raise AptError(f"cannot read the card's package sources ({'; '.join(self.sources)}):"
                           f" {' '.join(problems) or proc.stderr.strip()}")

    def candidate(self, package: str) -> str | None:
        """The version apt would install for ``package`` (None: no such package)."""
        proc = self._run("apt-cache", "show", "--no-all-versions", package)
        if proc.returncode:
            return None
        match = re.search(r"^Version: (\S+)", proc.stdout, re.M)
        return match[1] if match else None

    def download(self, packages: list[str], dest: Path) -> list[Path]:
        """The archives that installing ``packages`` on the card needs (dependencies
        included, nothing the card has), into ``dest``, each checked against the hash its
        (signed) index gives."""
        if not packages:
            return []
        listed = self._run("apt-get", "install", "-q", "-y", "--print-uris", *packages)
        if listed.returncode:
            errors = [line for line in (listed.stdout + listed.stderr).splitlines()
                      if line.startswith("E:") or (line.startswith(" ") and "Depends" in line)]
            raise AptError(f"apt cannot install {' '.join(packages)} on this card: "
                           + " ".join(e.strip() for e in errors))
        wanted = [_uri_line(line) for line in listed.stdout.splitlines()
                  if line.startswith("'")]
        fetched = self._run("apt-get", "install", "-q", "-y", "--download-only", *packages)
        if fetched.returncode:
            raise AptError(f"apt could not fetch {' '.join(packages)}: "
                           + " ".join(line for line in fetched.stderr.splitlines()
                                      if line.startswith(("E:", "Err:"))))
        dest.mkdir(parents=True, exist_ok=True)
        archives = self.root / "var/cache/apt/archives"
        got = []
        for uri, name, digest in wanted:
            # apt leaves file: archives where they are instead of copying them.
            src = archives / name if (archives / name).exists() else Path(
                urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
            shutil.copyfile(src, dest / name)
            algo, _, value = digest.partition(":")
            if value and algo.lower() in hashlib.algorithms_available and hashlib.new(
                    algo.lower(), (dest / name).read_bytes()).hexdigest() != value:
                raise AptError(f"{name}: its {algo} is not what the package index says")
            got.append(dest / name)
        return got


def _uri_line(line: str) -> tuple[str, str, str]:
    """One line of ``--print-uris``: ``'URI' FILENAME SIZE HASH``."""
    uri, _, rest = line[1:].partition("' ")
    words = rest.split()
    return uri, words[0], words[2] if len(words) > 2 else ""


def card_sources(etc_apt: Path) -> list[str]:
    """The card's enabled sources as one-line ``deb`` entries (sources.list(5): one-line
    ``.list`` files and deb822 ``.sources`` files)."""
    lines: list[str] = []
    files = [etc_apt / "sources.list"]
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        files += sorted(parts.iterdir())
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            lines += _deb822(text)
        elif path.suffix == ".list" or path.name == "sources.list":
            lines += [line.strip() for line in text.splitlines()
                      if line.strip().startswith("deb ")]
    return lines


def _deb822(text: str) -> list[str]:
    out = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get(
                "enabled", "yes").lower() == "no":
            continue
        options = f" [signed-by={fields['signed-by']}]" if "signed-by" in fields else ""
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                out.append(f"deb{options} {uri} {suite} {fields.get('components', '')}".strip())
    return out


def _private_keys(line: str, root: Path) -> str:
    """A ``signed-by=`` keyring path of the card, pointed at its private copy."""
    def swap(match: re.Match[str]) -> str:
        path = Path(match[1])
        copy = root / "keyrings" / path.name
        return f"signed-by={copy}" if copy.exists() else match[0]
    return re.sub(r"signed-by=(/[^\s\]]+)", swap, line)


def upstream_version(debian: str) -> str:
    """Debian's version without epoch, revision and repack suffixes (deb-version(5)):
    ``1:1.24.2-1+deb12u1`` → ``1.24.2``; ``9.4.0-1.1+deb12u1`` → ``9.4.0``."""
    version = debian.split(":", 1)[-1]
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    match = re.match(r"\d+(?:\.\d+)*", version)
    return match[0] if match else version
