"""Factory reset: forget everything the box learnt since it was installed.

What is erased is the whole state directory (``/var/lib/printbridge`` on the image):

* ``spool/`` — every queued and finished job and its documents;
* ``printers/`` — printer identity (the UUID is made anew), page counters, and what an
  administrator changed at run time (location, info, paused, accepting);
* ``users`` — every user and password, including the administrator's;
* web sessions, TLS keys and certificates, and anything else the daemon keeps there
  (``output/`` for the emulated printer).

What stays is the configuration an installer or the user wrote outside it:
``/etc/printbridge/printbridge.conf`` (board, printer name and port) and the network
settings, so the box is still reachable afterwards.  The administrator password is set
again from the web page, ``printbridge passwd``, or ``admin_password`` in printbridge.txt.

The reset is two-phase so a crash in between cannot leave half a reset: the button writes
the marker :data:`MARKER` and the daemon exits with :data:`EXIT_RESTART` (the unit's
``RestartForceExitStatus=`` restarts it); the next start erases the directory before
anything opens a file in it.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "factory-reset.request"
#: EX_TEMPFAIL: "try again" — the service restarts with the reset applied.
EXIT_RESTART = 75
#: Never erased: the daemon's own live socket.
KEEP = {"printbridge.sock"}


def request(state_dir: Path) -> Path:
    """Mark the state directory for erasure at the next start."""
    marker = state_dir / MARKER
    marker.write_text("requested by the button\n")
    fd = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return marker


def safe_to_erase(path: Path) -> bool:
    """Never "/", "/var", "/home" ...: a state directory is at least two levels deep."""
    return len(path.resolve().parts) >= 3


def apply_pending(state_dir: Path) -> bool:
    """Erase the state directory's contents if a reset was requested; True if it was."""
    marker = state_dir / MARKER
    if not marker.exists():
        return False
    resolved = state_dir.resolve()
    if not safe_to_erase(resolved):
        raise RuntimeError(f"refusing to factory-reset {resolved}")
    for entry in resolved.iterdir():
        if entry.name in KEEP or entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    marker.unlink()  # last: an interrupted erase is finished at the next start
    log.warning("factory reset: erased %s", resolved)
    return True
