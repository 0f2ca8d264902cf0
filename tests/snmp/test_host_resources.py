"""HOST-RESOURCES-MIB: printer status combinations of RFC 3805 §2.2.13.2 and the
hrPrinterDetectedErrorState bits, from port conditions."""

from __future__ import annotations

import pytest

from firmware.job import Job, JobState
from firmware.snmp import host_resources as hr
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import NO_SUCH_INSTANCE, MibTable
from firmware.system import System
from hal.port import PortCondition, PortStatus


@pytest.mark.parametrize(
    ("condition", "octets"),
    [
        (PortCondition.PAPER_LOW, b"\x80\x00"),  # lowPaper: bit 0
        (PortCondition.PAPER_OUT, b"\x40\x00"),  # noPaper: bit 1
        (PortCondition.TONER_LOW, b"\x20\x00"),  # lowToner: bit 2
        (PortCondition.TONER_EMPTY, b"\x10\x00"),  # noToner: bit 3
        (PortCondition.COVER_OPEN, b"\x08\x00"),  # doorOpen: bit 4
        (PortCondition.JAM, b"\x04\x00"),  # jammed: bit 5
        (PortCondition.OFFLINE, b"\x02\x00"),  # offline: bit 6
        (PortCondition.UNPLUGGED, b"\x02\x00"),
        (PortCondition.ERROR, b"\x01\x00"),  # serviceRequested: bit 7
        (PortCondition.OUTPUT_FULL, b"\x00\x08"),  # outputFull: bit 12
        (PortCondition.BUSY, b"\x00\x00"),
    ],
)
def test_error_state_bits(system: System, condition: PortCondition, octets: bytes) -> None:
    printer = system.default_printer
    printer.apply_port_status(PortStatus(frozenset({condition})))
    assert hr.detected_error_state(printer) == octets


def test_bits_combine(system: System) -> None:
    printer = system.default_printer
    printer.apply_port_status(PortStatus(frozenset({PortCondition.PAPER_OUT,
                                                    PortCondition.TONER_LOW,
                                                    PortCondition.OUTPUT_FULL})))
    assert hr.detected_error_state(printer) == b"\x60\x08"


@pytest.mark.parametrize(
    ("conditions", "paused", "device", "status"),
    [
        (set(), False, hr.DEVICE_RUNNING, hr.PRINTER_IDLE),  # idle
        ({PortCondition.PAPER_LOW}, False, hr.DEVICE_WARNING, hr.PRINTER_IDLE),  # non-critical
        ({PortCondition.PAPER_OUT}, False, hr.DEVICE_DOWN, hr.PRINTER_OTHER),  # critical
        ({PortCondition.OFFLINE}, False, hr.DEVICE_DOWN, hr.PRINTER_OTHER),  # off-line
        (set(), True, hr.DEVICE_RUNNING, hr.PRINTER_OTHER),  # standby (paused)
    ],
    ids=["idle", "warning", "critical", "offline", "paused"],
)
def test_status_combinations(system: System, conditions: set[PortCondition], paused: bool,
                             device: int, status: int) -> None:
    printer = system.default_printer
    printer.paused = paused
    printer.apply_port_status(PortStatus(frozenset(conditions)))
    assert hr.device_status(printer) == device
    assert hr.printer_status(printer) == status


def test_printing(system: System) -> None:
    printer = system.default_printer
    printer.jobs[1] = Job(id=1, printer=printer.name, state=JobState.PROCESSING)
    printer.apply_port_status(PortStatus(frozenset({PortCondition.TONER_LOW})))
    assert hr.printer_status(printer) == hr.PRINTER_PRINTING
    assert hr.device_status(printer) == hr.DEVICE_WARNING
    assert printer.status_light.name == "PRINTING"


def test_one_device_row_per_printer(ctx: AgentContext) -> None:
    table = MibTable([hr.HostResourcesMib(ctx)])
    table.refresh()
    device_type = (*hr.HR_DEVICE_ENTRY, 2, 1)
    assert tuple(table.get(device_type)) == hr.HR_DEVICE_PRINTER
    assert table.get((*hr.HR_DEVICE_ENTRY, 2, 2)) is NO_SUCH_INSTANCE  # one printer only
    assert str(table.get((*hr.HR_DEVICE_ENTRY, 3, 1))) == "Printbridge Emulated LaserJet"


def test_date_and_time_is_rfc2579() -> None:
    import datetime

    when = datetime.datetime(2026, 3, 4, 5, 6, 7, 800_000,
                             tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)))
    assert hr.date_and_time(when) == bytes([0x07, 0xEA, 3, 4, 5, 6, 7, 8]) + b"-" + bytes([5, 30])
