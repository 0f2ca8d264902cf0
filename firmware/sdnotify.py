"""systemd service notifications (sd_notify(3)) without libsystemd.

A service started with ``Type=notify`` finds the address of the service manager's
notification socket in ``$NOTIFY_SOCKET``: a file-system path, or ``@name`` for a socket in
the abstract namespace.  The protocol is one ``AF_UNIX``/``SOCK_DGRAM`` datagram per
notification holding newline-separated ``KEY=VALUE`` assignments (sd_notify(3)):

* ``READY=1`` — start-up finished; systemd moves the unit from *activating* to *active*.
* ``STATUS=...`` — a one-line status shown by ``systemctl status``.
* ``STOPPING=1`` — shutdown began.
* ``WATCHDOG=1`` — keep-alive.  With ``WatchdogSec=`` set the manager passes the interval
  in ``$WATCHDOG_USEC`` (and the PID it is meant for in ``$WATCHDOG_PID``,
  sd_watchdog_enabled(3)); a service that misses it is killed with SIGABRT and, with
  ``Restart=on-failure``, started again.  The recommended ping period is half the interval.

The pings come from a task on the daemon's asyncio loop, so they stop exactly when the loop
stops turning: a blocked loop (a stuck callback, a synchronous call that hangs) gets the
daemon restarted, which is the point.  Without ``$NOTIFY_SOCKET`` (a developer's shell, the
tests) every call is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _address(value: str) -> str | None:
    """The ``connect()`` address for a ``$NOTIFY_SOCKET`` value; ``@`` means abstract."""
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None  # vsock:... and anything else this implementation does not speak


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification datagram; True when a service manager was there to get it."""
    environ = os.environ if env is None else env
    address = _address(environ.get("NOTIFY_SOCKET", ""))
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        log.debug("sd_notify %r failed: %s", state, exc)
        return False
    return True


def watchdog_period(env: Mapping[str, str] | None = None, pid: int | None = None
                    ) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half of ``$WATCHDOG_USEC``), or None when the
    watchdog is off or meant for another process (sd_watchdog_enabled(3))."""
    environ = os.environ if env is None else env
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner and owner.isdigit() and int(owner) != (os.getpid() if pid is None else pid):
        return None
    return usec / 2 / 1_000_000


class Notifier:
    """The daemon's side of ``Type=notify``: readiness, status, stop and watchdog pings."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)
        self.period = watchdog_period(self.env)
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return _address(self.env.get("NOTIFY_SOCKET", "")) is not None

    def send(self, state: str) -> bool:
        return self.enabled and notify(state, self.env)

    def ready(self, status: str = "") -> None:
        """``READY=1`` (call once every server is listening) and start the watchdog."""
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        if self.enabled and self.period and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watchdog())

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    async def stopping(self) -> None:
        """``STOPPING=1`` and end the pings (a stopping daemon is not watched)."""
        self.send("STOPPING=1")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watchdog(self) -> None:
        assert self.period is not None
        while True:
            self.send("WATCHDOG=1")
            await asyncio.sleep(self.period)
