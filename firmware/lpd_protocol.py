"""RFC 1179 (Line Printer Daemon protocol) as pure, I/O-free parsing.

The asyncio server in :mod:`firmware.lpd` feeds lines and byte counts to these
functions; nothing here touches a socket.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

ACK = b"\x00"
NACK = b"\x01"  # RFC 1179 §7: any non-zero octet means the request failed
MAX_LINE = 1024


class LpdError(ValueError):
    """A malformed request; the server answers NACK and closes the connection."""


class Command(enum.IntEnum):
    """Daemon commands, RFC 1179 §5."""

    PRINT_WAITING = 1
    RECEIVE_JOB = 2
    SHORT_QUEUE = 3
    LONG_QUEUE = 4
    REMOVE_JOBS = 5


class SubCommand(enum.IntEnum):
    """Receive-job subcommands, RFC 1179 §6."""

    ABORT = 1
    CONTROL_FILE = 2
    DATA_FILE = 3


@dataclass(slots=True, frozen=True)
class Request:
    command: Command
    queue: str
    operands: tuple[str, ...] = ()


def _text(line: bytes) -> str:
    if len(line) > MAX_LINE:
        raise LpdError("line too long")
    if not line.endswith(b"\n"):
        raise LpdError("line not terminated by LF")
    try:
        return line[1:-1].decode("ascii")
    except UnicodeDecodeError:
        raise LpdError("non-ASCII command line") from None


def parse_command(line: bytes) -> Request:
    """A daemon command line: code, queue name, operands (RFC 1179 §5.1-§5.5)."""
    if not line:
        raise LpdError("empty command")
    try:
        command = Command(line[0])
    except ValueError:
        raise LpdError(f"unknown command code {line[0]}") from None
    words = _text(line).split()
    if not words:
        raise LpdError("missing queue name")
    if command in (Command.REMOVE_JOBS,) and len(words) < 2:
        raise LpdError("remove jobs needs an agent")
    return Request(command, words[0], tuple(words[1:]))


@dataclass(slots=True, frozen=True)
class FileHeader:
    sub: SubCommand
    size: int
    name: str


def parse_subcommand(line: bytes) -> FileHeader:
    """A receive-job subcommand: ``\\x02count cfA001host`` or ``\\x03count dfA001host``.

    A count of 0 for a data file means "until the connection closes" (an LPRng
    extension some clients use when they cannot know the size in advance).
    """
    if not line:
        raise LpdError("empty subcommand")
    try:
        sub = SubCommand(line[0])
    except ValueError:
        raise LpdError(f"unknown subcommand code {line[0]}") from None
    if sub is SubCommand.ABORT:
        return FileHeader(sub, 0, "")
    words = _text(line).split()
    if len(words) != 2 or not words[0].isdigit():
        raise LpdError("subcommand needs a byte count and a file name")
    size, name = int(words[0]), words[1]
    prefix = "cf" if sub is SubCommand.CONTROL_FILE else "df"
    if not name.startswith(prefix) or len(name) < 6:
        raise LpdError(f"bad file name {name!r}")
    if sub is SubCommand.CONTROL_FILE and size == 0:
        raise LpdError("empty control file")
    return FileHeader(sub, size, name)


@dataclass(slots=True)
class ControlFile:
    """The parts of a control file (RFC 1179 §7) a print server uses."""

    host: str = ""
    user: str = ""
    job_name: str = ""
    title: str = ""
    source_name: str = ""
    #: data file name -> the format letter that prints it ('l' literal, 'o' PostScript ...)
    prints: dict[str, str] = field(default_factory=dict)


#: Control-file format letters (RFC 1179 §7.12-§7.30) -> MIME type.
FORMAT_LETTERS = {
    "l": "application/octet-stream",  # print file leaving control characters (raw)
    "o": "application/postscript",
    "f": "text/plain",
    "p": "text/plain",
}


def parse_control_file(data: bytes) -> ControlFile:
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    control = ControlFile()
    for line in text.splitlines():
        if not line:
            continue
        key, value = line[0], line[1:]
        if key == "H":
            control.host = value[:31]
        elif key == "P":
            control.user = value[:31]
        elif key == "J":
            control.job_name = value[:99]
        elif key == "T":
            control.title = value[:79]
        elif key == "N":
            control.source_name = value[:131]
        elif key.islower() and value.startswith("df"):
            control.prints.setdefault(value, key)
    return control


def job_number(file_name: str) -> int:
    """The three-digit job number in ``cfA123host`` (RFC 1179 §6.2)."""
    digits = file_name[3:6]
    return int(digits) if digits.isdigit() else 0
