"""Printer-MIB (RFC 3805): the alert table's life cycle, several printers, and — against a
real daemon — values that follow the emulated printer (paper out, clear, printing)."""

from __future__ import annotations

from pathlib import Path

from firmware.config import load_config
from firmware.printer import Identity, Printer
from firmware.snmp import iana_printer_mib as iana
from firmware.snmp import printer_mib as pm
from firmware.snmp.agent import build_mib
from firmware.snmp.context import AgentContext
from firmware.snmp.mib import NO_SUCH_INSTANCE, MibTable
from firmware.snmp.ppm_mib import PPM_PORT_ENTRY, PPM_PRINTER_ENTRY
from firmware.snmp.settings import load_settings
from firmware.system import System
from hal.port import PortCondition, PortStatus
from tests.daemon import Daemon, document, wait_for
from tests.snmp import netsnmp
from tests.snmp.netsnmp import V2C

ALERT = ".1.3.6.1.2.1.43.18.1.1"
HR_DEVICE_STATUS = ".1.3.6.1.2.1.25.3.2.1.5.1"
HR_PRINTER_STATUS = ".1.3.6.1.2.1.25.3.5.1.1.1"
HR_ERROR_STATE = ".1.3.6.1.2.1.25.3.5.1.2.1"
INPUT_STATUS = ".1.3.6.1.2.1.43.8.2.1.11.1.1"
INPUT_LEVEL = ".1.3.6.1.2.1.43.8.2.1.10.1.1"
LIFE_COUNT = ".1.3.6.1.2.1.43.10.2.1.4.1.1"
TONER_LEVEL = ".1.3.6.1.2.1.43.11.1.1.9.1.1"
DISPLAY = ".1.3.6.1.2.1.43.16.5.1.2.1.1"
LIGHT_ON, LIGHT_OFF = ".1.3.6.1.2.1.43.17.6.1.2.1.1", ".1.3.6.1.2.1.43.17.6.1.3.1.1"


def alert_rows(table: MibTable, device: int = 1) -> dict[int, dict[int, int | str]]:
    """prtAlertTable rows of a device: index → {column: value}."""
    rows: dict[int, dict[int, int | str]] = {}
    for oid in table.oids():
        if oid[: len(pm.ALERT_ENTRY)] == pm.ALERT_ENTRY and oid[-2] == device:
            value = table.get(oid)
            column = oid[len(pm.ALERT_ENTRY)]
            rows.setdefault(oid[-1], {})[column] = (str(value) if column == 8 else int(value))
    return rows


def test_alert_table_life_cycle(ctx: AgentContext) -> None:
    printer = ctx.system.default_printer
    table = build_mib(ctx)
    table.refresh()
    assert alert_rows(table) == {1: {1: 1, 2: 1, 3: 7, 4: 5, 5: -1, 6: -2, 7: 503,
                                     8: "Printer started", 9: 0}}
    printer.apply_port_status(PortStatus(frozenset({PortCondition.PAPER_OUT})))
    table.refresh()
    rows = alert_rows(table)
    assert rows[2][7] == iana.ALERT_CODE["inputMediaSupplyEmpty"]
    assert rows[2][2] == iana.SEVERITY_CRITICAL and rows[2][4] == iana.ALERT_GROUP["input"]
    assert rows[2][5] == 1 and rows[2][8] == "Out of paper"

    printer.apply_port_status(PortStatus(frozenset({PortCondition.PAPER_LOW})))
    table.refresh()
    rows = alert_rows(table)
    assert 2 not in rows  # a cleared binary alert leaves the table (RFC 3805 §2.2.13)
    assert sorted(rows) == [1, 3, 4]  # every event takes the next index
    removal = next(r for r in rows.values() if r[7] == 1801)
    low = next(r for r in rows.values() if r[7] == 807)
    assert removal[7] == iana.ALERT_CODE["alertRemovalOfBinaryChangeEntry"]
    assert removal[5] == 2 and removal[4] == iana.ALERT_GROUP["alert"]
    assert removal[2] == iana.SEVERITY_WARNING and removal[3] == 7
    assert low[7] == iana.ALERT_CODE["inputMediaSupplyLow"]
    assert low[2] == iana.SEVERITY_WARNING_BINARY
    general = (*pm.GENERAL_ENTRY,)
    assert int(table.get((*general, 18, 1))) == 1  # prtAlertCriticalEvents
    assert int(table.get((*general, 19, 1))) == 4  # prtAlertAllEvents


def test_supply_levels_keep_the_special_values(ctx: AgentContext) -> None:
    printer = ctx.system.default_printer
    table = build_mib(ctx)
    table.refresh()
    level = (*pm.SUPPLIES_ENTRY, 9, 1, 1)
    for value in (-2, -3, 0, 42):
        printer.supplies[0].level = value
        assert int(table.get(level)) == value


def test_console_light_and_display_mirror_the_printer(ctx: AgentContext) -> None:
    printer = ctx.system.default_printer
    table = build_mib(ctx)
    table.refresh()
    on, off = (*pm.LIGHT_ENTRY, 2, 1, 1), (*pm.LIGHT_ENTRY, 3, 1, 1)
    text = (*pm.DISPLAY_BUFFER_ENTRY, 2, 1, 1)
    assert (int(table.get(on)), int(table.get(off))) == (1000, 0)  # steady: ready
    assert str(table.get(text)) == "Ready"
    printer.apply_port_status(PortStatus(frozenset({PortCondition.JAM,
                                                    PortCondition.TONER_LOW})))
    assert (int(table.get(on)), int(table.get(off))) == (100, 100)  # fast blink: error
    assert str(table.get(text)) == "Paper jam"


def test_channels_follow_the_configured_ports(system: System) -> None:
    system.config.lpd_port = 0
    ctx = AgentContext(system, load_settings(None))
    table = build_mib(ctx)
    table.refresh()
    kinds = [int(table.get((*pm.CHANNEL_ENTRY, 2, 1, n))) for n in (1, 3)]
    assert kinds == [iana.CH_IPP, iana.CH_PORT_TCP]
    assert table.get((*pm.CHANNEL_ENTRY, 2, 1, 2)) is NO_SUCH_INSTANCE
    info = str(table.get((*pm.CHANNEL_ENTRY, 9, 1, 1)))
    assert info.startswith(f"URI=ipp://127.0.0.1:{system.config.ipp_port}/ipp/print\n")


def test_several_printers_enumerate_with_one_device_index_each(tmp_path: Path) -> None:
    config_file = tmp_path / "printbridge.conf"
    config_file.write_text(
        f"[daemon]\nstate_dir = {tmp_path / 'state'}\n\n"
        "[printer:First]\nport = emulated:\nmake_and_model = First Laser\n\n"
        "[printer:Second]\nport = emulated:\nmake_and_model = Second Laser\n"
    )
    system = System(load_config(config_file, "emulator"))
    ctx = AgentContext(system, load_settings(None))
    table = build_mib(ctx)
    table.refresh()
    for device, name in ((1, "First"), (2, "Second")):
        assert str(table.get((1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, device))) == f"{name} Laser"
        assert str(table.get((*pm.GENERAL_ENTRY, 16, device))) == name
        assert int(table.get((*pm.MARKER_ENTRY, 4, device, 1))) == 0
        assert str(table.get((*PPM_PRINTER_ENTRY, 2, device))) == name
        assert int(table.get((*PPM_PRINTER_ENTRY, 6, device))) == device
    uri_2 = str(table.get((*PPM_PORT_ENTRY, 4, 2, 1)))
    assert uri_2 == f"ipp://127.0.0.1:{system.config.ipp_port}/ipp/print/Second"
    assert table.get((*pm.GENERAL_ENTRY, 16, 3)) is NO_SUCH_INSTANCE
    # Raw 9100 feeds the default printer only; LPD has a queue per printer.
    assert [int(table.get((*PPM_PRINTER_ENTRY, 4, d))) for d in (1, 2)] == [3, 2]
    assert int(table.get((*pm.CHANNEL_ENTRY, 2, 1, 3))) == iana.CH_PORT_TCP
    assert table.get((*pm.CHANNEL_ENTRY, 2, 2, 3)) is NO_SUCH_INSTANCE
    assert str(table.get((*pm.CHANNEL_ENTRY, 9, 2, 2))) == "Queue=Second\n"


def test_device_indexes_stay_stable_when_printers_come_and_go(tmp_path: Path) -> None:
    config_file = tmp_path / "printbridge.conf"
    config_file.write_text(f"[daemon]\nstate_dir = {tmp_path / 'state'}\n\n"
                           "[printer:First]\nport = emulated:\n\n"
                           "[printer:Second]\nport = emulated:\n")
    system = System(load_config(config_file, "emulator"))
    ctx = AgentContext(system, load_settings(None))
    table = build_mib(ctx)
    table.refresh()
    assert [(d, p.name) for d, p in ctx.printers()] == [(1, "First"), (2, "Second")]
    del system.printers["First"]  # unplugged (hotplug)
    system.printers["Third"] = Printer(Identity("Third"), "emulated:", system.events)
    table.refresh()
    assert [(d, p.name) for d, p in ctx.printers()] == [(2, "Second"), (3, "Third")]
    assert table.get((*pm.GENERAL_ENTRY, 16, 1)) is NO_SUCH_INSTANCE
    assert str(table.get((*pm.GENERAL_ENTRY, 16, 2))) == "Second"
    assert str(table.get((*pm.GENERAL_ENTRY, 16, 3))) == "Third"


# -- against a real daemon: values follow the emulated printer
def snmp_alerts(host: str) -> dict[int, dict[int, str]]:
    walk = netsnmp.walk("snmpwalk", V2C, host, ALERT)
    rows: dict[int, dict[int, str]] = {}
    for oid, value in walk.rows:
        rows.setdefault(oid[-1], {})[oid[len(pm.ALERT_ENTRY)]] = value
    return rows


def test_paper_out_and_clear(agent: Daemon, host: str) -> None:
    def state() -> dict[str, str]:
        return netsnmp.get(V2C, host, HR_DEVICE_STATUS, HR_PRINTER_STATUS, HR_ERROR_STATE,
                           INPUT_STATUS, LIGHT_ON, LIGHT_OFF)

    before = state()
    assert netsnmp.integer(before[HR_DEVICE_STATUS]) == 2  # running
    assert netsnmp.integer(before[HR_PRINTER_STATUS]) == 3  # idle
    assert netsnmp.hex_octets(before[HR_ERROR_STATE]) == b"\x00\x00"
    assert not any(r.get(7, "").endswith(" 808") for r in snmp_alerts(host).values())

    agent.emulate("paper-out")
    out = wait_for(lambda: (s := state()) and netsnmp.hex_octets(s[HR_ERROR_STATE])[0] & 0x40
                   and s, 5, "noPaper bit")
    assert netsnmp.integer(out[HR_DEVICE_STATUS]) == 5  # down
    assert netsnmp.integer(out[HR_PRINTER_STATUS]) == 1  # other
    assert netsnmp.integer(out[INPUT_STATUS]) & pm.CRITICAL
    assert (netsnmp.integer(out[LIGHT_ON]), netsnmp.integer(out[LIGHT_OFF])) == (100, 100)
    raised = [i for i, r in snmp_alerts(host).items() if netsnmp.integer(r[7]) == 808]
    assert len(raised) == 1
    assert netsnmp.hex_octets(snmp_alerts(host)[raised[0]][8]) == b"Out of paper"

    agent.emulate("clear")
    cleared = wait_for(lambda: (s := state()) and netsnmp.hex_octets(s[HR_ERROR_STATE])
                       == b"\x00\x00" and s, 5, "noPaper bit cleared")
    assert netsnmp.integer(cleared[HR_DEVICE_STATUS]) == 2
    assert netsnmp.integer(cleared[HR_PRINTER_STATUS]) == 3
    assert netsnmp.integer(cleared[INPUT_STATUS]) & pm.CRITICAL == 0
    rows = snmp_alerts(host)
    assert raised[0] not in rows
    removals = [r for r in rows.values() if netsnmp.integer(r[7]) == 1801]
    assert [netsnmp.integer(r[5]) for r in removals] == raised  # points at the removed row


def test_printing_counts_pages_and_uses_toner(agent: Daemon, host: str, tmp_path: Path) -> None:
    before = netsnmp.get(V2C, host, LIFE_COUNT, TONER_LEVEL, INPUT_LEVEL)
    path = tmp_path / "three-pages.prn"
    path.write_bytes(document(30_000, pages=3))
    agent.wait_job(agent.print_file(path))

    def after() -> dict[str, str] | None:
        now = netsnmp.get(V2C, host, LIFE_COUNT, TONER_LEVEL, INPUT_LEVEL)
        done = netsnmp.integer(now[LIFE_COUNT]) == netsnmp.integer(before[LIFE_COUNT]) + 3
        return now if done else None

    now = wait_for(after, 5, "prtMarkerLifeCount + 3")
    # toner_pages = 100: three pages use 3 % of the cartridge; three sheets leave the tray.
    assert netsnmp.integer(now[TONER_LEVEL]) == netsnmp.integer(before[TONER_LEVEL]) - 3
    assert netsnmp.integer(now[INPUT_LEVEL]) == netsnmp.integer(before[INPUT_LEVEL]) - 3
