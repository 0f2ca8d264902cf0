"""A private CUPS scheduler (cupsd) for tests that use CUPS as a client of our printer.

Usage::

    with PrivateCups() as cups:             # its own 0755 directory, removed after
        cups.run("lpadmin", "-p", "T", "-E", "-v", daemon.uri, "-m", "everywhere")
        cups.run("lp", "-d", "T", str(document))
        assert cups.wait_idle(60)

Everything cupsd reads or writes lives under ``root``: configuration (ServerRoot), spool
(RequestRoot), TempDir, CacheDir, StateDir and logs.  It listens on ``127.0.0.1:<port>``
and on the domain socket ``root/cups.sock``; clients started through :meth:`run` (or
with :attr:`env`) talk to that socket only, never to the host's scheduler.  cupsd runs
in the foreground (``-f``) as a child of the test and is stopped by its own PID.

Permissions: cupsd runs as root here and checks (and, as root, "repairs") the owner and
mode of its directories at start-up: ServerRoot 0755 root:lp, cupsd.conf and
cups-files.conf 0640 root:lp, RequestRoot 0710 root:lp, TempDir 01770 root:lp, CacheDir
0770 root:lp, StateDir 0755 root:lp.  They are created that way up front so that the
scheduler does not need to change anything.  ``root`` itself must be at least 0711:
filters and backends run as user ``lp`` and must reach the spool and TempDir below it
(``mkdtemp`` gives 0700, so the mode is set explicitly), and so must every directory
above it: under pytest's ``tmp_path`` (below /tmp/pytest-of-root, mode 0700) the filters
cannot even open the queue's PPD ("The PPD file could not be opened.") and jobs stay
pending.  Hence the default ``root=None``: a fresh ``cups-XXXX`` (0755) in
:func:`tests.scratch.lp_tmp` -- the test run's TMPDIR when lp can reach it, /tmp outside
a test run -- that :meth:`stop` removes again (the run's directory goes at the end of
the session in any case).  A given ``root`` is checked and refused when user lp could
not reach it.  The domain-socket path must stay under 108 bytes, so keep ``root`` short.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from tests.scratch import lp_tmp

CUPSD = "/usr/sbin/cupsd"
SOCKET_PATH_MAX = 107


def lp_blocking_ancestor(path: Path) -> Path | None:
    """The first existing directory above ``path`` that others cannot search, if any."""
    for parent in Path(path).resolve().parents:
        try:
            mode = parent.stat().st_mode
        except FileNotFoundError:
            continue
        if not mode & 0o001:
            return parent
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCups:
    """cupsd with its own configuration, state and sockets under ``root``."""

    def __init__(
        self, root: Path | None = None, port: int | None = None, log_level: str = "debug",
        prefix: Sequence[str] = (), extra_env: dict[str, str] | None = None,
    ) -> None:
        """``prefix`` goes before cupsd and every client (``ip netns exec NS`` runs them
        in a network namespace); ``extra_env`` is added to their environment and, as
        ``SetEnv``, to the filters' and backends' (e.g. a private D-Bus for DNS-SD)."""
        self.prefix = list(prefix)
        self.extra_env = dict(extra_env or {})
        self.own_root = root is None
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="cups-", dir=lp_tmp()))
        self.root = Path(root).resolve()
        blocked = lp_blocking_ancestor(self.root)
        if blocked is not None:
            if self.own_root:
                shutil.rmtree(self.root, ignore_errors=True)
            raise ValueError(
                f"{blocked} is not searchable by others (mode {blocked.stat().st_mode & 0o7777:o}):"
                " cupsd's filters run as user lp and could not reach the spool or the PPDs;"
                " use PrivateCups() (a directory of its own) or a world-searchable parent"
            )
        self.port = port or free_port()
        self.log_level = log_level
        self.socket_path = self.root / "cups.sock"
        if len(str(self.socket_path)) > SOCKET_PATH_MAX:
            raise ValueError(f"socket path too long for AF_UNIX: {self.socket_path}")
        self.server_root = self.root / "etc"
        self.log_dir = self.root / "log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    # -- what clients need
    @property
    def env(self) -> dict[str, str]:
        """Environment for CUPS clients (lpadmin, lp, lpstat, cancel, lpoptions...)."""
        env = dict(os.environ)
        env["CUPS_SERVER"] = str(self.socket_path)
        # Client-side configuration (client.conf, lpoptions) from our ServerRoot too.
        env["CUPS_SERVERROOT"] = str(self.server_root)
        env.pop("CUPS_USER", None)
        env.pop("CUPS_ENCRYPTION", None)
        env.update(self.extra_env)
        return env

    @property
    def url(self) -> str:
        """The scheduler over TCP, e.g. for ``ipptool ipp://.../printers/T``."""
        return f"ipp://127.0.0.1:{self.port}"

    def printer_uri(self, name: str) -> str:
        return f"{self.url}/printers/{name}"

    def run(
        self, *cmd: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run a CUPS client against this scheduler; raises with its output on failure."""
        proc = subprocess.run(
            [*self.prefix, *cmd], env=self.env, capture_output=True, text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {proc.returncode}\nstdout: {proc.stdout}\n"
                f"stderr: {proc.stderr}\n--- cupsd error_log (tail) ---\n{self.error_log()}"
            )
        return proc

    # -- lifecycle
    def write_config(self) -> None:
        lp_gid = grp.getgrnam("lp").gr_gid
        root_uid = os.getuid()
        layout = {
            self.root: 0o755,
            self.server_root: 0o755,
            self.server_root / "ppd": 0o755,
            self.server_root / "ssl": 0o700,
            self.root / "spool": 0o710,
            self.root / "spool" / "tmp": 0o1770,
            self.root / "cache": 0o770,
            self.root / "cache" / "rss": 0o775,
            self.root / "state": 0o755,
            self.root / "state" / "certs": 0o511,
            self.log_dir: 0o755,
        }
        for path, mode in layout.items():
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, mode)
            if path == self.root:
                continue
            if path.name == "certs":  # owner User, group SystemGroup (root here)
                os.chown(path, pwd.getpwnam("lp").pw_uid, 0)
            else:
                os.chown(path, root_uid, lp_gid)
        cupsd_conf = f"""\
LogLevel {self.log_level}
MaxLogSize 0
Listen 127.0.0.1:{self.port}
Listen {self.socket_path}
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
DefaultAuthType None
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow 127.0.0.1
  Allow localhost
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""" + "".join(f"SetEnv {k} {v}\n" for k, v in self.extra_env.items())
        files_conf = f"""\
ServerRoot {self.server_root}
RequestRoot {self.root / "spool"}
TempDir {self.root / "spool" / "tmp"}
CacheDir {self.root / "cache"}
StateDir {self.root / "state"}
ServerKeychain {self.server_root / "ssl"}
AccessLog {self.log_dir / "access_log"}
ErrorLog {self.log_dir / "error_log"}
PageLog {self.log_dir / "page_log"}
Printcap {self.root / "printcap"}
User lp
Group lp
SystemGroup root
CreateSelfSignedCerts no
"""
        for name, text in (("cupsd.conf", cupsd_conf), ("cups-files.conf", files_conf)):
            path = self.server_root / name
            path.write_text(text)
            os.chmod(path, 0o640)
            os.chown(path, root_uid, lp_gid)
        # Copy the host's raw.types/raw.convs (ServerRoot-local MIME rules) if present,
        # so "raw" queues behave as on a normal install.
        for name in ("raw.types", "raw.convs"):
            host = Path("/etc/cups") / name
            if host.exists():
                shutil.copyfile(host, self.server_root / name)

    def start(self, timeout: float = 20) -> PrivateCups:
        if self.proc is not None:
            raise RuntimeError("already started")
        began = time.monotonic()
        self.write_config()
        out = open(self.log_dir / "cupsd.out", "ab")
        try:
            self.proc = subprocess.Popen(
                [*self.prefix, CUPSD, "-f", "-c", str(self.server_root / "cupsd.conf"),
                 "-s", str(self.server_root / "cups-files.conf")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, **self.extra_env},
            )
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"cupsd exited {self.proc.returncode}:\n{self.output()}\n{self.error_log()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"cupsd did not start in {timeout}s:\n{self.error_log()}")
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - began
        return self

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        proc = subprocess.run(
            ["lpstat", "-r"], env=self.env, capture_output=True, text=True, timeout=10
        )
        return proc.returncode == 0 and "is running" in proc.stdout

    def stop(self, timeout: float = 15, keep_files: bool = False) -> None:
        """SIGTERM to our cupsd only (by PID); SIGKILL if it does not go.  A directory
        this object created itself is removed unless ``keep_files``."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.proc = None
        if self.own_root and not keep_files:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateCups:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # On an exception keep the logs (error_log, access_log) for the post-mortem.
        self.stop(keep_files=exc_type is not None)

    # -- state
    def wait_idle(self, timeout: float = 60, poll: float = 0.2) -> bool:
        """Wait until no job is queued or printing and no queue is busy.

        Returns False on timeout (the caller decides whether that is a failure)."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.run("lpstat", "-o", check=False)
            printers = self.run("lpstat", "-p", check=False)
            busy = jobs.stdout.strip() or " now printing " in printers.stdout
            if not busy:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)

    def completed_jobs(self) -> str:
        return self.run("lpstat", "-W", "completed", "-o", check=False).stdout

    def output(self) -> str:
        path = self.log_dir / "cupsd.out"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def error_log(self, tail: int = 8000) -> str:
        path = self.log_dir / "error_log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""
