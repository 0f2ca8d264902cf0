"""``serial:`` — real pyserial on a pty pair: the test holds the master (the printer)."""

from __future__ import annotations

import os
import random
import select
import termios
import threading
import time
from collections.abc import Iterator

import pytest

from hal.port import PortError
from hal.registry import create_port
from hal.serial import SerialPort, line_settings

XON, XOFF = b"\x11", b"\x13"


class Printer:
    """The master side of a pty: reads what the port sends, can send XON/XOFF."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        # Our slave descriptor stays open: without any, reading the master fails with EIO.
        self.path = os.ttyname(self.slave)
        self.received = bytearray()
        self._stop = False
        self.reading = threading.Event()  # cleared: the printer is busy, not reading
        self.reading.set()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop:
            self.reading.wait()
            try:
                ready, _, _ = select.select([self.master], [], [], 0.02)
                if ready and self.reading.is_set():
                    self.received += os.read(self.master, 65536)
            except (OSError, ValueError):
                return

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        self._stop = True
        self.reading.set()
        self._thread.join(1)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def printer() -> Iterator[Printer]:
    p = Printer()
    yield p
    if not p._stop:
        p.close()


def open_port(printer: Printer, query: str = "", **options: str) -> SerialPort:
    port = create_port(f"serial:{printer.path}{query}", options)
    assert isinstance(port, SerialPort)
    port.open()
    return port


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_line_settings_reach_termios(printer: Printer) -> None:
    port = open_port(printer, "?parity=even&stop_bits=2", baud="19200", data_bits="7",
                     flow="rtscts")
    assert port.ser is not None
    iflag, _, cflag, _, ispeed, ospeed, _ = termios.tcgetattr(port.ser.fileno())
    assert ispeed == ospeed == termios.B19200
    assert cflag & termios.CSTOPB
    assert cflag & termios.CRTSCTS
    assert not iflag & termios.IXON
    # A pty forces CS8 and no parity (drivers/tty/pty.c), so those two are checked on
    # what pyserial was asked to set.
    assert (port.ser.bytesize, port.ser.parity) == (7, "E")
    port.close()
    port = open_port(printer, flow="xonxoff", parity="O")
    assert port.ser is not None and port.ser.parity == "O"
    iflag, _, cflag, *_ = termios.tcgetattr(port.ser.fileno())
    assert iflag & termios.IXON and not cflag & termios.CRTSCTS


@pytest.mark.parametrize("bad", [{"parity": "purple"}, {"flow": "smoke"}, {"baud": "0"},
                                 {"data_bits": "9"}])
def test_bad_settings_are_rejected(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        line_settings(bad)


def test_data_arrives_intact(printer: Printer) -> None:
    port = open_port(printer, baud="115200")
    data = random.Random(4).randbytes(200_000)
    view = memoryview(data)
    while view:
        view = view[port.write(view, 0.2):]
    wait_until(lambda: len(printer.received) >= len(data))
    assert bytes(printer.received) == data


def test_xoff_holds_the_port_off_and_xon_resumes(printer: Printer) -> None:
    port = open_port(printer, flow="xonxoff")
    printer.send(XOFF)
    time.sleep(0.1)
    data = random.Random(5).randbytes(50_000).replace(XON, b"A").replace(XOFF, b"B")
    view = memoryview(data)
    while (taken := port.write(view, 0.1)) > 0:
        view = view[taken:]
    assert view, "the port should have filled up while held off"
    assert len(printer.received) == 0  # nothing went out while held off
    printer.send(XON)
    while view:
        view = view[port.write(view, 0.2):]
    wait_until(lambda: len(printer.received) >= len(data))
    assert bytes(printer.received) == data


def test_soft_reset_flushes_the_output_queue(printer: Printer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """After a cancel the port drops what is still queued for the line (TCOFLUSH).  A pty
    hands bytes to the other side at once, so there is nothing in flight to drop here:
    the test checks the flush reaches the kernel and the next job goes out whole."""
    flushes: list[tuple[int, int]] = []
    real = termios.tcflush

    def spy(fd: int, queue: int) -> None:
        flushes.append((fd, queue))
        real(fd, queue)

    monkeypatch.setattr(termios, "tcflush", spy)
    port = open_port(printer)
    assert port.ser is not None
    assert port.write(b"cancelled job", 0.1) == 13
    wait_until(lambda: len(printer.received) == 13)
    flushes.clear()  # pyserial flushes input on open
    port.soft_reset()
    assert flushes == [(port.ser.fileno(), termios.TCOFLUSH)]
    assert port.write(b"next job", 0.2) == 8
    wait_until(lambda: printer.received == b"cancelled jobnext job")


def test_printer_gone_is_a_port_error(printer: Printer) -> None:
    port = open_port(printer)
    printer.close()
    with pytest.raises(PortError):
        for _ in range(100):
            port.write(b"x" * 1000, 0.05)
    assert port.ser is None


def test_missing_device_is_a_port_error() -> None:
    with pytest.raises(PortError):
        create_port("serial:/dev/ttyDOESNOTEXIST").open()
