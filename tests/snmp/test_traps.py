"""Traps: coldStart at start and printerV2Alert for a critical alert — as SNMPv2c traps to
a plain UDP receiver, and as SNMPv3 authPriv traps to net-snmp's snmptrapd."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyasn1.codec.ber import decoder
from pysnmp.proto import api

from tests.daemon import Daemon, free_port, wait_for
from tests.snmp import netsnmp

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
COLD_START = (1, 3, 6, 1, 6, 3, 1, 1, 5, 1)
PRINTER_V2_ALERT = (1, 3, 6, 1, 2, 1, 43, 18, 2, 0, 1)
ALERT_ENTRY = (1, 3, 6, 1, 2, 1, 43, 18, 1, 1)


def decode(data: bytes) -> tuple[str, str, dict[tuple[int, ...], Any]]:
    """(community, PDU type name, var-binds) of an SNMPv1/v2c message."""
    module = api.PROTOCOL_MODULES[int(api.decodeMessageVersion(data))]
    message, _ = decoder.decode(data, asn1Spec=module.Message())
    pdu = module.apiMessage.get_pdu(message)
    binds = {tuple(oid): value for oid, value in module.apiPDU.get_varbinds(pdu)}
    return str(module.apiMessage.get_community(message)), type(pdu).__name__, binds


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def next_trap(sock: socket.socket) -> tuple[str, str, dict[tuple[int, ...], Any]]:
    data, _ = sock.recvfrom(65535)
    return decode(data)


def test_v2c_cold_start_and_printer_alert(make_daemon: type[Daemon],
                                          receiver: socket.socket) -> None:
    port = receiver.getsockname()[1]
    daemon = make_daemon(extra_config=netsnmp.SNMP_CONFIG
                         + f"trap_destinations = 127.0.0.1:{port}\n").start()
    community, kind, binds = next_trap(receiver)
    assert (community, kind) == ("public", "SNMPv2TrapPDU")
    oids = list(binds)
    assert oids[:2] == [(1, 3, 6, 1, 2, 1, 1, 3, 0), SNMP_TRAP_OID]
    assert tuple(binds[SNMP_TRAP_OID]) == COLD_START

    daemon.emulate("paper-out")
    _, kind, binds = next_trap(receiver)
    assert tuple(binds[SNMP_TRAP_OID]) == PRINTER_V2_ALERT
    columns = {oid[len(ALERT_ENTRY)]: int(value)
               for oid, value in binds.items() if oid[: len(ALERT_ENTRY)] == ALERT_ENTRY}
    index = columns[1]
    assert columns == {1: index, 2: 3, 4: 8, 5: 1, 6: -2, 7: 808}  # critical input 808
    assert all(oid[-2:] == (1, index) for oid in binds if oid[: len(ALERT_ENTRY)] == ALERT_ENTRY)

    # Clearing is not critical: no trap for it.
    daemon.emulate("clear")
    receiver.settimeout(1.0)
    with pytest.raises(TimeoutError):
        next_trap(receiver)


@pytest.fixture
def snmptrapd(tmp_path: Path) -> Iterator[tuple[int, Path, str]]:
    """net-snmp's snmptrapd on a loopback port, knowing the agent's USM user for the
    engine ID the test gives the agent; stopped by PID."""
    if shutil.which("snmptrapd") is None:
        pytest.skip("snmptrapd missing: apt-get install snmptrapd (scripts/setup-system.sh test)")
    engine_id = "80004fb805" + "7072696e74627269"
    port = free_port(socket.SOCK_DGRAM)
    conf = tmp_path / "snmptrapd.conf"
    conf.write_text(f"createUser -e 0x{engine_id} {netsnmp.USER} SHA-256 {netsnmp.AUTH_KEY} "
                    f"AES {netsnmp.PRIV_KEY}\nauthUser log {netsnmp.USER} priv\n"
                    "doNotRetainNotificationLogs yes\n")
    log = tmp_path / "traps.log"
    env = dict(netsnmp.env(), SNMP_PERSISTENT_DIR=str(tmp_path / "persist"))
    proc = subprocess.Popen(
        ["snmptrapd", "-f", "-C", "-c", str(conf), "-On", "-Lf", str(log), "-M", str(tmp_path),
         f"udp:127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: log.exists() and "NET-SNMP version" in log.read_text(), 10,
                 "snmptrapd to start")
        yield port, log, engine_id
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)


def test_v3_traps_reach_snmptrapd(make_daemon: type[Daemon], tmp_path: Path,
                                  snmptrapd: tuple[int, Path, str]) -> None:
    port, log, engine_id = snmptrapd
    daemon = make_daemon(extra_config=netsnmp.SNMP_CONFIG
                         + f"v3_only = yes\ntrap_destinations = 127.0.0.1:{port}\n")
    # The agent keeps its engine ID in the state directory; give it the one snmptrapd knows.
    (daemon.state_dir / "snmp-engine.json").write_text(
        json.dumps({"engine_id": engine_id, "boots": 0}))
    daemon.start()
    wait_for(lambda: ".1.3.6.1.6.3.1.1.5.1" in log.read_text(), 10, "coldStart at snmptrapd")
    daemon.emulate("jam")
    wait_for(lambda: ".1.3.6.1.2.1.43.18.2.0.1" in log.read_text(), 10, "printerV2Alert")
    text = log.read_text()
    assert ".1.3.6.1.2.1.43.18.1.1.7.1." in text  # prtAlertCode of the new row
    assert "INTEGER: 8" in text.split(".1.3.6.1.2.1.43.18.2.0.1", 1)[1]  # jam(8)
