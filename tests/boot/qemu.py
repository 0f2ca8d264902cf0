"""Foreign-architecture Debian roots for ``make test-image ARCH=arm64|armhf``.

The root's binaries run under qemu-user-static through binfmt_misc.  Inside
``systemd-nspawn`` the root has no qemu of its own, so the handler must carry the F
(fix-binary) flag: the kernel opens the interpreter when the handler is registered, not
when a binary starts, and so finds it whatever the container's file system holds.

This machine has no systemd as PID 1 (nothing ran ``systemd-binfmt`` when
qemu-user-static was installed), so :func:`binfmt_handlers` registers what is missing
from qemu-user-static's own ``binfmt.d`` lines, with F added, and takes away again at
the end what the test runs added: a handler makes every such binary on the machine run
under qemu, which is the machine's business, not a test's.  Test runs that overlap share
the handlers (a shared lock on :data:`LOCK`); the last one to finish removes them.
Handlers the machine had before are left as they are (one without F is replaced for the
run and put back).
"""

from __future__ import annotations

import fcntl
import os
import platform
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BINFMT = Path("/proc/sys/fs/binfmt_misc")
#: systemd-binfmt's search order: /etc overrides /run overrides /usr/lib.
CONF_DIRS = (Path("/etc/binfmt.d"), Path("/run/binfmt.d"), Path("/usr/local/lib/binfmt.d"),
             Path("/usr/lib/binfmt.d"), Path("/lib/binfmt.d"))
#: What the test runs registered (``created NAME``, ``replaced NAME LINE``, ``enabled
#: NAME``), so the last run to end can undo it, even after a killed run.
LOCK = Path("/run/printbridge-test-binfmt")
_held: list[int] = []  # this process holds LOCK (a second flock of it would wait forever)


@dataclass(frozen=True)
class Arch:
    """One Debian architecture the first-boot test can run on."""

    name: str  #: Debian's: amd64, arm64, armhf
    machine: str  #: the userland's ``uname -m`` and wheel spelling
    handler: str  #: qemu-user-static's binfmt handler name
    slow: int  #: how much longer things take there than natively on this machine

    @property
    def emulated(self) -> bool:
        return self.machine != platform.machine()


# Under qemu-user pip installs and Python's start-up are 5-10 times slower than native.
ARCHES = {
    "amd64": Arch("amd64", "x86_64", "qemu-x86_64", 8),
    "arm64": Arch("arm64", "aarch64", "qemu-aarch64", 8),
    "armhf": Arch("armhf", "armv7l", "qemu-arm", 10),
}
ALIASES = {a.machine: a.name for a in ARCHES.values()} | {"armv7": "armhf", "arm": "armhf"}


def selected(value: str | None = None) -> Arch:
    """The architecture ``make test-image ARCH=...`` asked for (default: amd64)."""
    if value is None:
        value = os.environ.get("PRINTBRIDGE_TEST_IMAGE_ARCH", "")
    value = value.strip() or "amd64"
    name = ALIASES.get(value, value)
    if name not in ARCHES:
        raise ValueError(f"PRINTBRIDGE_TEST_IMAGE_ARCH={value}: one of {', '.join(ARCHES)}")
    arch = ARCHES[name]
    if not arch.emulated:
        arch = Arch(arch.name, arch.machine, arch.handler, 1)
    return arch


def conf_line(handler: str) -> str | None:
    """qemu-user-static's registration line for ``handler`` (``:qemu-aarch64:M::...``)."""
    for folder in CONF_DIRS:
        try:
            text = (folder / f"{handler}.conf").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", ";")):
                return line
    return None


def with_flag_f(line: str) -> str:
    fields = line.split(":")
    if "F" not in fields[-1]:
        fields[-1] += "F"
    return ":".join(fields)


def interpreter(line: str) -> str:
    return line.split(":")[6]


def entry(handler: str) -> dict[str, str] | None:
    """The kernel's view of a registered handler, or None."""
    try:
        text = (BINFMT / handler).read_text()
    except FileNotFoundError:
        return None
    info = {"state": text.splitlines()[0].strip()}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(" ")
        info[key.rstrip(":")] = value.strip()
    return info


def registration(handler: str, info: dict[str, str]) -> str:
    """The line that registers ``info`` (an :func:`entry`) again."""
    flags = info.get("flags", "")
    if "extension" in info:
        return f":{handler}:E::{info['extension']}::{info['interpreter']}:{flags}"

    def escaped(hexdigits: str) -> str:
        return "".join(f"\\x{hexdigits[i:i + 2]}" for i in range(0, len(hexdigits), 2))

    return (f":{handler}:M:{info.get('offset', '0')}:{escaped(info['magic'])}:"
            f"{escaped(info.get('mask', ''))}:{info['interpreter']}:{flags}")


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _undo(records: list[str]) -> None:
    """Take back what earlier runs registered, newest first."""
    for record in reversed(records):
        kind, handler, *rest = record.split(" ", 2)
        try:
            if kind in ("created", "replaced") and (BINFMT / handler).exists():
                _write(BINFMT / handler, "-1")
            if kind == "replaced":
                _write(BINFMT / "register", rest[0])
            if kind == "enabled" and (BINFMT / handler).exists():
                _write(BINFMT / handler, "0")
        except OSError:
            pass


def missing(handlers: list[str]) -> list[str]:
    """What stops :func:`binfmt_handlers` from working here, in words (empty: nothing)."""
    problems = []
    for handler in handlers:
        line = conf_line(handler)
        if line is None:
            problems.append(f"no binfmt.d/{handler}.conf (apt-get install qemu-user-static)")
        elif not Path(interpreter(line)).exists():
            problems.append(f"no {interpreter(line)} (apt-get install qemu-user-static)")
    if os.geteuid() != 0:
        problems.append("binfmt_misc handlers can only be registered as root")
    return problems


@contextmanager
def binfmt_handlers(handlers: list[str], log=print) -> Iterator[list[str]]:
    """The handlers registered with F while the block runs; yields what was done."""
    if _held:  # nested in this process: the outer block keeps them
        for handler in handlers:
            info = entry(handler)
            if not info or info["state"] != "enabled" or "F" not in info.get("flags", ""):
                raise RuntimeError(f"binfmt_handlers: {handler} not held by the outer block")
        yield []
        return
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a+") as lock:
        done = []
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            lock.seek(0)
            records = [r for r in lock.read().splitlines() if r.strip()]
            for handler in handlers:
                info = entry(handler)
                line = with_flag_f(conf_line(handler) or "")
                if info is None:
                    _write(BINFMT / "register", line)
                    records.append(f"created {handler}")
                elif "F" not in info.get("flags", ""):
                    old = registration(handler, info)
                    _write(BINFMT / handler, "-1")
                    _write(BINFMT / "register", line)
                    records.append(f"replaced {handler} {old}")
                    if info["state"] != "enabled":
                        records.append(f"enabled {handler}")
                elif info["state"] != "enabled":
                    _write(BINFMT / handler, "1")
                    records.append(f"enabled {handler}")
                else:
                    continue
                done.append(records[-1].split(" ", 2)[0] + " " + handler)
                info = entry(handler)
                assert info and info["state"] == "enabled" and "F" in info["flags"], info
            lock.seek(0)
            lock.truncate()
            lock.write("".join(r + "\n" for r in records))
            lock.flush()
        finally:
            fcntl.flock(lock, fcntl.LOCK_SH)  # held while the run uses the handlers
        if done:
            log(f"binfmt_misc: {', '.join(done)} (with F) for this run")
        _held.append(1)
        try:
            yield done
        finally:
            _held.pop()
            # The last run to end (the only one able to lock alone) undoes it all.
            fcntl.flock(lock, fcntl.LOCK_UN)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another run holds the lock: it undoes it when it ends
            else:
                lock.seek(0)
                records = [r for r in lock.read().splitlines() if r.strip()]
                _undo(records)
                lock.seek(0)
                lock.truncate()
                lock.flush()
                if records:
                    log(f"binfmt_misc: undone: {'; '.join(r[:40] for r in records)}")
                fcntl.flock(lock, fcntl.LOCK_UN)
