"""Drive net-snmp's command-line tools against a test daemon.

Net-snmp here has no MIB files: every OID is numeric (``-On``) and strings are printed
in hex (``-Ox``) when a whole tree is walked, so each value stays on one line.  The tools
read no host configuration and keep their persistent state (``SNMP_PERSISTENT_DIR``, what
would be /var/lib/snmp and ~/.snmp) in a directory made for this process in TMPDIR --
the test run's own (tests/scratch.py) -- and removed when the process ends.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The USM users the SNMP tests configure (pass phrases of 8+ characters, RFC 3414).
USER = "nms"
AUTH_KEY = "auth-phrase-1"
PRIV_KEY = "priv-phrase-1"
V3_AUTHPRIV = ["-v3", "-l", "authPriv", "-u", USER, "-a", "SHA-256", "-A", AUTH_KEY,
               "-x", "AES", "-X", PRIV_KEY]
V2C = ["-v2c", "-c", "public"]
V1 = ["-v1", "-c", "public"]
SNMP_CONFIG = f"""[snmp]
communities = public
user.{USER} = sha256:{AUTH_KEY}:aes:{PRIV_KEY}
contact = Test Admin <admin@example.com>
"""

END_OF_VIEW = "No more variables left in this MIB View"
_LINE = re.compile(r"^(\.\d+(?:\.\d+)*) = (.*)$")


def require_tools() -> None:
    if shutil.which("snmpwalk") is None:
        pytest.skip("net-snmp tools missing: apt-get install snmp (scripts/setup-system.sh test)")


_private: Path | None = None


def private_dir() -> Path:
    """The clients' configuration, MIB and persistent directory: empty when first made."""
    global _private
    if _private is None or not _private.is_dir():
        _private = Path(tempfile.mkdtemp(prefix="netsnmp-clients-"))
        atexit.register(shutil.rmtree, _private, True)
        # The tools make this on first use and say so on stderr ("Created directory:"),
        # which tests read for the agent's faults: on a machine's first run too.
        (_private / "cert_indexes").mkdir(mode=0o700)
    return _private


def env() -> dict[str, str]:
    private = str(private_dir())
    return dict(os.environ, SNMPCONFPATH=private, SNMP_PERSISTENT_DIR=private, MIBS="",
                MIBDIRS=private, HOME=private)


def run(tool: str, auth: list[str], host: str, *args: str, timeout: float = 1.0,
        retries: int = 1) -> subprocess.CompletedProcess[str]:
    command = [tool, *auth, "-On", "-t", str(timeout), "-r", str(retries), host, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env(), timeout=60)


@dataclass(slots=True)
class Walk:
    """A parsed walk: (OID, value text) in the order received, and how it ended:
    ``endOfMibView`` (SNMPv2c/v3), ``End of MIB`` (SNMPv1's noSuchName) or None."""

    rows: list[tuple[tuple[int, ...], str]]
    end: str | None
    returncode: int
    stderr: str

    @property
    def oids(self) -> list[tuple[int, ...]]:
        return [oid for oid, _ in self.rows]

    def value(self, oid: str) -> str:
        want = tuple(int(x) for x in oid.strip(".").split("."))
        return next(v for o, v in self.rows if o == want)


def parse(stdout: str) -> tuple[list[tuple[tuple[int, ...], str]], str | None]:
    rows = []
    end = None
    for line in stdout.splitlines():
        if line == "End of MIB":
            end = line
            continue
        match = _LINE.match(line)
        if not match:
            if not rows:
                raise AssertionError(f"unexpected output line {line!r}")
            rows[-1] = (rows[-1][0], f"{rows[-1][1]} {line.strip()}")  # a wrapped value
            continue
        oid = tuple(int(x) for x in match[1].strip(".").split("."))
        if match[2].startswith(END_OF_VIEW):
            end = "endOfMibView"
            continue
        rows.append((oid, match[2]))
    return rows, end


def walk(tool: str, auth: list[str], host: str, root: str = ".1.3.6.1",
         *options: str) -> Walk:
    """``snmpwalk``/``snmpbulkwalk`` of ``root`` with hex strings (one line per value)."""
    result = run(tool, auth, host, "-Ox", *options, root)
    rows, end = parse(result.stdout)
    return Walk(rows, end, result.returncode, result.stderr)


def get(auth: list[str], host: str, *oids: str) -> dict[str, str]:
    """``snmpget``: OID → value text (as net-snmp prints it, ``-Oqv``-free)."""
    result = run("snmpget", auth, host, *oids)
    if result.returncode != 0:
        raise AssertionError(f"snmpget failed: {result.stderr}")
    rows, _ = parse(result.stdout)
    return {"." + ".".join(map(str, oid)): value for oid, value in rows}


def integer(text: str) -> int:
    """The number in ``INTEGER: 5`` / ``Counter32: 7`` / ``Gauge32: 1``."""
    return int(text.split(":", 1)[1].strip().split()[0])


def hex_octets(text: str) -> bytes:
    """Octets of ``Hex-STRING: 40 00`` (or ``""``)."""
    if text == '""':
        return b""
    return bytes.fromhex(text.split(":", 1)[1].replace(" ", "").strip())
