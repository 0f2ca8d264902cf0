"""``serial:`` port: an RS-232 printer through pyserial (``/dev/ttyS0``, ``/dev/ttyUSB0``).

Line settings come from the printer's options (board profile or ``[printer:NAME]``),
and the URI's query may override them: ``serial:/dev/ttyUSB0?baud=9600&flow=xonxoff``.

``baud``       bits per second (default 9600)
``data_bits``  5, 6, 7 or 8 (default 8)
``parity``     none, even, odd, mark or space (or N/E/O/M/S; default none)
``stop_bits``  1, 1.5 or 2 (default 1)
``flow``       none, rtscts (hardware: the printer drops CTS when its buffer is full),
               xonxoff (software: it sends XOFF, 13h, and later XON, 11h) or dsrdtr
               (default none)
``dsr_offline`` yes: DSR low means the printer is off line (many serial printers hold
               DSR high while selected); default no, because a 3-wire cable has no DSR

Flow control is done by the kernel's tty layer (``CRTSCTS``, ``IXON`` in termios): while
the printer holds us off, the output buffer fills, ``select(2)`` stops reporting the port
writable, and :meth:`SerialPort.write` returns 0 — back-pressure.  A cancelled job's
bytes still in the kernel's buffer are dropped (``tcflush(TCOFLUSH)``) by
:meth:`SerialPort.soft_reset`.  Nothing on a serial line identifies a printer, so there
is no device ID and no discovery.
"""

from __future__ import annotations

import errno
import select
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

import serial

from hal.options import truthy
from hal.port import Port, PortCondition, PortError, PortStatus
from hal.registry import register

PARITY = {
    "none": serial.PARITY_NONE, "n": serial.PARITY_NONE,
    "even": serial.PARITY_EVEN, "e": serial.PARITY_EVEN,
    "odd": serial.PARITY_ODD, "o": serial.PARITY_ODD,
    "mark": serial.PARITY_MARK, "m": serial.PARITY_MARK,
    "space": serial.PARITY_SPACE, "s": serial.PARITY_SPACE,
}
DATA_BITS = {"5": serial.FIVEBITS, "6": serial.SIXBITS, "7": serial.SEVENBITS,
             "8": serial.EIGHTBITS}
STOP_BITS = {"1": serial.STOPBITS_ONE, "1.5": serial.STOPBITS_ONE_POINT_FIVE,
             "2": serial.STOPBITS_TWO}
FLOW = ("none", "rtscts", "xonxoff", "dsrdtr")


def line_settings(options: Mapping[str, str]) -> dict[str, object]:
    """pyserial keyword arguments from printer options; ValueError on a bad value."""

    def pick(key: str, table: Mapping[str, object], default: str) -> object:
        value = str(options.get(key, default)).strip().lower()
        if value not in table:
            raise ValueError(f"serial {key} must be one of {sorted(table)}, not {value!r}")
        return table[value]

    flow = str(options.get("flow", "none")).strip().lower()
    if flow not in FLOW:
        raise ValueError(f"serial flow must be one of {list(FLOW)}, not {flow!r}")
    baud = int(options.get("baud", "9600"))
    if baud <= 0:
        raise ValueError(f"serial baud must be positive, not {baud}")
    return {
        "baudrate": baud,
        "bytesize": pick("data_bits", DATA_BITS, "8"),
        "parity": pick("parity", PARITY, "none"),
        "stopbits": pick("stop_bits", STOP_BITS, "1"),
        "rtscts": flow == "rtscts",
        "xonxoff": flow == "xonxoff",
        "dsrdtr": flow == "dsrdtr",
    }


@register
class SerialPort(Port):
    scheme = "serial"

    def __init__(self, uri: str, options: Mapping[str, str] | None = None) -> None:
        super().__init__(uri, options)
        parts = urlsplit(uri)
        self.path = unquote(parts.path or parts.netloc)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.settings = line_settings({**self.options, **query})
        self.dsr_offline = truthy({**self.options, **query}.get("dsr_offline"))
        self.ser: serial.Serial | None = None

    def open(self) -> None:
        self.close()
        try:
            # write_timeout=0: pyserial's write is non-blocking and returns the count taken.
            self.ser = serial.Serial(self.path, timeout=0, write_timeout=0, **self.settings)
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"{self.path}: {exc}") from exc

    def close(self) -> None:
        if self.ser is not None:
            ser, self.ser = self.ser, None
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass

    def _require(self) -> serial.Serial:
        if self.ser is None:
            raise PortError(f"{self.uri}: port not open")
        return self.ser

    def write(self, data: bytes | memoryview, timeout: float) -> int:
        ser = self._require()
        try:
            _, writable, _ = select.select([], [ser.fileno()], [], max(0.0, timeout))
            if not writable:
                return 0  # held off by CTS or XOFF, or the line is just slower than us
            return int(ser.write(data) or 0)
        except (serial.SerialException, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.EAGAIN, errno.EINTR):
                return 0
            self.close()  # a USB-serial adapter pulled out: ENODEV/EIO
            raise PortError(f"{self.path}: write failed: {exc}") from exc

    def read(self, size: int, timeout: float) -> bytes:
        """Whatever the printer sent back (status text some printers send; XON/XOFF are
        consumed by the tty layer when ``flow = xonxoff``)."""
        ser = self._require()
        try:
            readable, _, _ = select.select([ser.fileno()], [], [], max(0.0, timeout))
            return bytes(ser.read(size)) if readable else b""
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise PortError(f"{self.path}: read failed: {exc}") from exc

    def status(self) -> PortStatus:
        ser = self._require()
        if not self.dsr_offline:
            return PortStatus()
        try:
            dsr = ser.dsr
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise PortError(f"{self.path}: {exc}") from exc
        return PortStatus(frozenset() if dsr else frozenset({PortCondition.OFFLINE}))

    def soft_reset(self) -> None:
        """Drop the bytes of a cancelled job still queued in the kernel (TCOFLUSH)."""
        ser = self._require()
        try:
            ser.reset_output_buffer()
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"{self.path}: {exc}") from exc
