"""The test run's scratch directories: nothing a test uses comes from an earlier run.

At the start of a pytest session (``tests/conftest.py``, before any test or tool runs)
:func:`start_run` makes a fresh directory ``pbrun-XXXXXXXX`` in the caller's
temporary directory and points ``HOME`` and ``TMPDIR`` (and ``XDG_RUNTIME_DIR``) at new,
empty directories inside it, for this process and every tool it starts.  pytest's
``tmp_path``, :mod:`tempfile`, Chromium's profile and font cache, net-snmp's persistent
directory, Ghostscript's temporary files, CUPS clients' ``~/.cups`` all land there;
:func:`end_run` removes it all when the session ends (``PRINTBRIDGE_KEEP_RUN=1`` keeps it
and says where it is).  Variables that would point a tool at state kept elsewhere (XDG
base directories, a session D-Bus, a CUPS server or net-snmp directories of the caller)
are removed for the run, and the locale is ``C.UTF-8`` whatever the caller's (a US
locale would load Letter in the emulated printers).

cupsd's filters and backends run as user ``lp`` and must reach their files, so those
live in :func:`lp_tmp`: this run's ``TMPDIR`` when every directory above it is searchable
by others (``/tmp`` is), otherwise a second run directory directly under ``/tmp`` that
:func:`end_run` removes as well.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Removed from the environment for the run: each could point a tool at state that
#: is not this run's (a home-like directory, a daemon, a persistent directory).
FOREIGN_STATE = (
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "DBUS_SESSION_BUS_ADDRESS", "CUPS_SERVER", "CUPS_SERVERROOT", "CUPS_STATEDIR",
    "CUPS_CACHEDIR", "CUPS_USER", "CUPS_ENCRYPTION", "SNMPCONFPATH",
    "SNMP_PERSISTENT_DIR", "MIBDIRS", "MIBS", "PYTEST_DEBUG_TEMPROOT",
)
#: The run's locale (C.UTF-8 is built into glibc), and the variables it replaces.
RUN_LOCALE = "C.UTF-8"
LOCALE = ("LC_ALL", "LC_PAPER", "LC_MESSAGES", "LANG", "LANGUAGE")
KEEP_ENV = "PRINTBRIDGE_KEEP_RUN"
PREFIX = "pbrun-"  # short: unix socket paths below it must stay under 108 bytes


@dataclass
class Run:
    root: Path
    home: Path
    tmp: Path
    started: float  # the run directory's ctime: files this run makes are no older
    caller_env: dict[str, str | None]  # what HOME, TMPDIR ... were before
    extra: list[Path] = field(default_factory=list)  # more directories end_run removes


_run: Run | None = None


def searchable_by_others(path: Path) -> bool:
    """Whether a process of another user (lp) can reach entries of ``path``: it and every
    directory above it have the others' search bit."""
    path = Path(path).resolve()
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


def start_run() -> Run:
    """Make this run's directories and point HOME, TMPDIR and XDG_RUNTIME_DIR at them."""
    global _run, _hooked
    if _run is not None:
        return _run
    base = Path(tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base)).resolve()
    # The file system's clock (coarser than time.time()): what this run makes is newer.
    started = root.stat().st_ctime
    # Searchable (not listable) by others, so that lp_tmp() can be inside it.
    os.chmod(root, 0o711)
    home, tmp, runtime = root / "home", root / "tmp", root / "runtime"
    home.mkdir(mode=0o700)
    tmp.mkdir()
    os.chmod(tmp, 0o755)
    runtime.mkdir(mode=0o700)
    names = ("HOME", "TMPDIR", "TEMP", "TMP", "XDG_RUNTIME_DIR", *LOCALE, *FOREIGN_STATE)
    caller_env = {name: os.environ.get(name) for name in names}
    for name in (*FOREIGN_STATE, "TEMP", "TMP"):
        os.environ.pop(name, None)
    os.environ["HOME"] = str(home)
    os.environ["TMPDIR"] = str(tmp)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    # One locale for every run: the daemons' default paper follows the locale (Letter in
    # the US and Canada), and tools' messages are parsed in English.
    for name in LOCALE:
        os.environ.pop(name, None)
    os.environ["LC_ALL"] = RUN_LOCALE
    tempfile.tempdir = None  # gettempdir() caches: read TMPDIR again
    assert tempfile.gettempdir() == str(tmp), tempfile.gettempdir()
    _run = Run(root, home, tmp, started, caller_env)
    if not _hooked:  # an audit hook cannot be removed: one for the process, idle between runs
        sys.addaudithook(_audit)
        _hooked = True
    return _run


def current() -> Run | None:
    """This session's run, or None outside a test session (benchmarks)."""
    return _run


def lp_tmp() -> Path:
    """A directory whose fresh 0755 children user lp can reach (cupsd's spool and PPDs,
    a private D-Bus socket for cupsd's backends).  Outside a test run: TMPDIR or /tmp."""
    tmp = Path(tempfile.gettempdir())
    if searchable_by_others(tmp):
        return tmp
    if _run is None:
        return Path("/tmp")
    if _run.extra:
        return _run.extra[0]
    # The caller's TMPDIR is private (mktemp -d makes it 0700): a second run directory.
    shared = Path(tempfile.mkdtemp(prefix=PREFIX, dir="/tmp"))
    os.chmod(shared, 0o755)
    _run.extra.append(shared)
    return shared


def owns(path: Path | str) -> bool:
    """Whether ``path`` lies in a directory of this run (removed by :func:`end_run`)."""
    if _run is None:
        return False
    text = os.path.abspath(path)
    return any(text == str(d) or text.startswith(f"{d}{os.sep}")
               for d in (_run.root, *_run.extra))


def end_run() -> list[str]:
    """Remove the run's directories and give the caller's environment back.  Returns
    what could not be removed (a process of the run still writing, a mount left)."""
    global _run
    run, _run = _run, None
    if run is None:
        return []
    problems: list[str] = []
    for name, value in run.caller_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tempfile.tempdir = None
    if os.environ.get(KEEP_ENV):
        print(f"\n{KEEP_ENV}: this run's files are in {run.root} {run.extra}", file=sys.stderr)
        return []
    errors: list[str] = []
    for path in (run.root, *run.extra):
        shutil.rmtree(path, onerror=lambda _f, p, e: errors.append(f"{p}: {e[1]}"))
        if os.path.lexists(path):
            problems.append(f"{path} not removed: {errors[:5]}")
    return problems


# -- what the test process itself made outside the run --------------------------------------
#
# An audit hook (PEP 578) notes every file, directory, socket or link the test process
# creates outside the run's directories; :func:`left_behind` lists those still there.
# Only this process is watched, so other processes on the machine (other test runs
# included) cannot make it fail; the tools a test starts are covered by HOME and TMPDIR.

_WATCHED = frozenset({"open", "os.mkdir", "os.rename", "os.link", "os.symlink", "socket.bind"})
_SYSTEM = ("/proc/", "/sys/", "/dev/")
_NO_FD = (None, -1)
_created: list[str] = []
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in _WATCHED or _run is None:
        return
    try:
        if event == "open":  # open() and os.open(): (path, mode, flags)
            path = args[0]
            if not isinstance(args[2], int) or not args[2] & os.O_CREAT:
                return
        elif event == "socket.bind":  # (socket, address): a str is a unix socket's path
            path = args[1]
        elif event == "os.mkdir" or event == "os.symlink":  # (..., path, dir_fd)
            path = args[0] if event == "os.mkdir" else args[1]
            if args[2] not in _NO_FD:
                return
        else:  # os.rename (and os.replace), os.link: (src, dst, src_dir_fd, dst_dir_fd)
            path = args[1]
            if args[3] not in _NO_FD:
                return
        if not isinstance(path, str | bytes | os.PathLike):
            return
        text = os.fsdecode(path)
        if not text or text[0] == "\0":  # an abstract unix socket: no file
            return
        text = os.path.abspath(text)
        if text.startswith(_SYSTEM) or owns(text) or os.path.lexists(text):
            return
        _created.append(text)
    except Exception:  # an audit hook must never break what it watches
        return


def left_behind(allowed: tuple[Path, ...] = ()) -> list[str]:
    """What this process created outside the run's directories and did not remove (the
    top of each tree), Python's and pytest's caches and ``allowed`` directories aside."""
    found: list[str] = []
    for path in sorted({p for p in _created if os.path.lexists(p)}):
        if owns(path):  # made before it became the run's (lp_tmp's second directory)
            continue
        parts = Path(path).parts
        if "__pycache__" in parts or ".pytest_cache" in parts:
            continue
        if any(path == str(a) or path.startswith(f"{a}{os.sep}") for a in allowed):
            continue
        if any(path.startswith(f"{top}{os.sep}") for top in found):
            continue
        found.append(path)
    return found
