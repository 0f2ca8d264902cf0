"""``parallel:`` against a fake of the open/read/write/ioctl layer (lp + ppdev)."""

from __future__ import annotations

import errno
import random
import time

import pytest

from firmware.reasons import reasons_for
from hal.parallel import ParallelPort, discover
from hal.port import PortCondition, PortError
from hal.registry import create_port
from tests.hal.fake_devfiles import PPCLAIM, PPNEGOT, PPRELEASE, FakeFiles, ParallelPrinter

EPSON_ID = "MFG:EPSON;CMD:ESCPL2,BDC,D4;MDL:Stylus Color 670;CLS:PRINTER;"


def open_port(files: FakeFiles, uri: str = "parallel:/dev/lp0", **options: str) -> ParallelPort:
    port = ParallelPort(uri, options, files=files)
    port.open()
    return port


def test_registered() -> None:
    assert isinstance(create_port("parallel:/dev/lp0"), ParallelPort)


def test_device_id_by_nibble_mode_negotiation() -> None:
    files = FakeFiles()
    files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID))
    port = open_port(files)
    assert port.device_id() == EPSON_ID
    ppdev = [r for k, r in files.ioctls if k == "ppdev"]
    # claim, negotiate device ID, (read), back to compatibility mode, release
    assert ppdev == [PPCLAIM, PPNEGOT, PPNEGOT, PPRELEASE]
    assert files.ppdev["/dev/parport0"].mode == 1 << 8
    assert not files.ppdev["/dev/parport0"].claimed


def test_device_id_falls_back_to_the_kernels_autoprobe() -> None:
    files = FakeFiles()
    files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID, nibble=False))
    files.text["/proc/sys/dev/parport/parport0/autoprobe"] = (
        "CLASS:PRINTER;\nMODEL:Stylus Color 670;\nMANUFACTURER:EPSON;\n"
        "COMMAND SET:ESCPL2,BDC,D4;\n")
    port = open_port(files)
    assert "MANUFACTURER:EPSON;" in port.device_id()
    assert not files.ppdev["/dev/parport0"].claimed  # released after the failed negotiation
    found = discover(files=files)
    assert found[0].make_and_model == "EPSON Stylus Color 670"


@pytest.mark.parametrize(
    ("byte", "conditions", "reasons"),
    [
        (0x98, set(), []),
        (0x18, {PortCondition.BUSY}, []),
        (0xB8, {PortCondition.PAPER_OUT}, ["media-empty-error"]),
        (0xB0, {PortCondition.PAPER_OUT}, ["media-empty-error"]),  # nFault with PError
        (0x88, {PortCondition.OFFLINE}, ["offline-report"]),
        (0x90, {PortCondition.ERROR}, ["other-error"]),
    ],
)
def test_status_lines_through_ppdev(byte: int, conditions: set[PortCondition],
                                    reasons: list[str]) -> None:
    files = FakeFiles()
    printer = files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID, status=byte))
    port = open_port(files)
    status = port.status()
    assert status.conditions == conditions
    assert reasons_for(status.conditions) == reasons
    assert not printer.claimed  # released after every reading, so lp can write


def test_status_without_ppdev_uses_lpgetstatus() -> None:
    files = FakeFiles()
    files.add_parallel(0, ParallelPrinter(status=0xB8), ppdev=False)
    port = open_port(files)
    assert port.status().conditions == {PortCondition.PAPER_OUT}
    assert ("lp", 0x060B) in files.ioctls
    assert port.device_id() == ""


def test_data_intact_and_refusals_are_back_pressure() -> None:
    files = FakeFiles()
    printer = files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID))
    port = open_port(files)
    data = random.Random(3).randbytes(30_000)
    view = memoryview(data)
    while view:
        view = view[port.write(view, 0.1):]
    assert bytes(printer.received) == data
    for refusal in (errno.EAGAIN, errno.ENOSPC, errno.EIO):
        printer.refuse = refusal
        start = time.monotonic()
        assert port.write(b"more", 0.05) == 0
        assert time.monotonic() - start >= 0.04  # kept trying until the timeout
    printer.refuse = errno.ENODEV
    with pytest.raises(PortError):
        port.write(b"more", 0.05)


def test_soft_reset_pulses_init() -> None:
    files = FakeFiles()
    printer = files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID))
    open_port(files).soft_reset()
    assert printer.resets == 1


def test_missing_port_is_a_port_error_and_discovery() -> None:
    files = FakeFiles()
    with pytest.raises(PortError):
        open_port(files)
    files.add_parallel(0, ParallelPrinter(device_id=EPSON_ID))
    files.add_parallel(1, ParallelPrinter(device_id="", nibble=False))
    found = {f.key: f for f in discover(files=files)}
    assert found["parallel:/dev/lp0"].identified
    assert found["parallel:/dev/lp0"].uri == "parallel:/dev/lp0"
    assert not found["parallel:/dev/lp1"].identified  # nothing answered: not auto-queued
    assert not discover(files=files, skip_keys={"parallel:/dev/lp0"})[0].identified
