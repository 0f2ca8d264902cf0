"""The agent end to end with net-snmp's tools: whole-tree walks in every SNMP version,
access control (wrong community or key, SET refused), the VACM write-view pitfall."""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.snmp import netsnmp
from tests.snmp.netsnmp import V1, V2C, V3_AUTHPRIV

PRINTMIB = (1, 3, 6, 1, 2, 1, 43)
HR_PRINTER = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1)
PPM_URI_1_1 = (1, 3, 6, 1, 4, 1, 2699, 1, 2, 1, 3, 1, 1, 4, 1, 1)
SYS_NAME = ".1.3.6.1.2.1.1.5.0"
SYS_CONTACT = ".1.3.6.1.2.1.1.4.0"
PRINTER_NAME = ".1.3.6.1.2.1.43.5.1.1.16.1"
TONER_LEVEL = ".1.3.6.1.2.1.43.11.1.1.9.1.1"
IF_HC_IN_OCTETS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6)


def assert_good_walk(walk: netsnmp.Walk, *, end: str) -> None:
    assert walk.returncode == 0, walk.stderr
    assert walk.stderr.strip() == "", walk.stderr
    oids = walk.oids
    assert len(oids) > 250
    bad = [(a, b) for a, b in itertools.pairwise(oids) if not a < b]
    assert not bad, f"OIDs not strictly increasing: {bad[:3]}"
    assert walk.end == end
    for prefix in (PRINTMIB, HR_PRINTER, PPM_URI_1_1):
        assert any(o[: len(prefix)] == prefix for o in oids), prefix


@pytest.mark.parametrize(
    ("tool", "auth"),
    [
        ("snmpwalk", V1),
        ("snmpwalk", V2C),
        ("snmpwalk", V3_AUTHPRIV),
        ("snmpbulkwalk", V2C),
        ("snmpbulkwalk", V3_AUTHPRIV),
    ],
    ids=["walk-v1", "walk-v2c", "walk-v3", "bulkwalk-v2c", "bulkwalk-v3"],
)
def test_whole_tree_walks_cleanly(host: str, tool: str, auth: list[str], agent: Daemon) -> None:
    walk = netsnmp.walk(tool, auth, host)
    # SNMPv1 has no endOfMibView: past the last object the agent answers noSuchName and
    # snmpwalk prints "End of MIB" (RFC 3584 §4.2.2.1); v2c/v3 end with endOfMibView.
    assert_good_walk(walk, end="End of MIB" if auth is V1 else "endOfMibView")
    has_counter64 = any(o[: len(IF_HC_IN_OCTETS)] == IF_HC_IN_OCTETS for o in walk.oids)
    assert has_counter64 == (auth is not V1), "SNMPv1 must skip Counter64 (RFC 3584 §4.2.2.1)"
    assert "Traceback" not in agent.log_path.read_text()


def test_bulk_and_plain_walks_agree(host: str) -> None:
    plain = netsnmp.walk("snmpwalk", V2C, host, ".1.3.6.1.2.1.43")
    bulk = netsnmp.walk("snmpbulkwalk", V3_AUTHPRIV, host, ".1.3.6.1.2.1.43")
    assert plain.oids == bulk.oids
    assert len(plain.oids) > 100


@pytest.mark.parametrize(
    "auth",
    [
        ["-v2c", "-c", "private"],
        ["-v1", "-c", "Public"],
        ["-v3", "-l", "authPriv", "-u", netsnmp.USER, "-a", "SHA-256", "-A", "wrong-phrase",
         "-x", "AES", "-X", netsnmp.PRIV_KEY],
        ["-v3", "-l", "authPriv", "-u", netsnmp.USER, "-a", "SHA-256", "-A", netsnmp.AUTH_KEY,
         "-x", "AES", "-X", "wrong-phrase"],
        ["-v3", "-l", "authPriv", "-u", "nobody", "-a", "SHA-256", "-A", netsnmp.AUTH_KEY,
         "-x", "AES", "-X", netsnmp.PRIV_KEY],
        ["-v3", "-l", "authNoPriv", "-u", netsnmp.USER, "-a", "SHA-256", "-A", netsnmp.AUTH_KEY],
        ["-v3", "-l", "noAuthNoPriv", "-u", netsnmp.USER],
    ],
    ids=["bad-community-v2c", "bad-community-v1", "bad-auth-key", "bad-priv-key",
         "unknown-user", "v3-without-privacy", "v3-without-auth"],
)
def test_wrong_credentials_get_nothing(host: str, auth: list[str]) -> None:
    result = netsnmp.run("snmpwalk", auth, host, ".1.3.6.1", timeout=0.3, retries=0)
    assert result.returncode != 0
    assert " = " not in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("auth", "error"),
    [(V1, "noSuchName"), (V2C, "noAccess"), (V3_AUTHPRIV, "noAccess")],
    ids=["v1", "v2c", "v3"],
)
def test_set_is_refused_and_nothing_changes(host: str, auth: list[str], error: str) -> None:
    before = netsnmp.get(V2C, host, SYS_NAME, SYS_CONTACT, PRINTER_NAME, TONER_LEVEL)
    for oid, kind, value in [(SYS_NAME, "s", "hacked"), (SYS_CONTACT, "s", "hacked"),
                             (PRINTER_NAME, "s", "hacked"), (TONER_LEVEL, "i", "1"),
                             (".1.3.6.1.2.1.43.5.1.1.3.1", "i", "4"),  # prtGeneralReset
                             (".1.3.6.1.4.1.99999.1.0", "i", "1")]:
        result = netsnmp.run("snmpset", auth, host, oid, kind, value)
        assert result.returncode != 0, result.stdout
        assert error in result.stderr, result.stderr
    assert netsnmp.get(V2C, host, SYS_NAME, SYS_CONTACT, PRINTER_NAME, TONER_LEVEL) == before


def test_set_with_wrong_community_gets_no_answer(host: str) -> None:
    result = netsnmp.run("snmpset", ["-v2c", "-c", "private"], host, SYS_NAME, "s", "x",
                         timeout=0.3, retries=0)
    assert result.returncode != 0
    assert "Timeout" in result.stderr


def test_get_of_absent_objects(host: str) -> None:
    got = netsnmp.get(V2C, host, ".1.3.6.1.2.1.1.5.1", ".1.3.6.1.2.1.1.99.0",
                      ".1.3.6.1.2.1.43.11.1.1.9.1.7")
    assert got[".1.3.6.1.2.1.1.5.1"].startswith("No Such Instance")
    assert got[".1.3.6.1.2.1.1.99.0"].startswith("No Such Object")
    assert got[".1.3.6.1.2.1.43.11.1.1.9.1.7"].startswith("No Such Instance")


def test_contact_from_config(host: str) -> None:
    got = netsnmp.get(V2C, host, SYS_CONTACT, ".1.3.6.1.2.1.43.5.1.1.4.1")
    assert all("Test Admin <admin@example.com>" in v for v in got.values())


def test_vacm_write_view_is_explicitly_empty(tmp_path: Path) -> None:
    """pysnmp grants access through a view name that has no entries; the agent's write
    view excludes the whole tree, so VACM itself says notInView for every SET."""
    from pysnmp.proto import errind
    from pysnmp.proto.error import StatusInformation
    from pysnmp.proto.rfc1902 import OctetString

    from firmware.config import load_config
    from firmware.snmp.agent import SnmpAgent
    from firmware.snmp.settings import load_settings
    from firmware.system import System

    config = load_config(None, "emulator", {"state_dir": tmp_path})
    settings = load_settings({"user.nms": "sha256:auth-phrase-1:aes:priv-phrase-1"})
    agent = SnmpAgent(System(config), settings)
    engine = agent._configure_engine()
    vacm = engine.access_control_model[3]
    oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
    community, user = OctetString("pb-c1"), OctetString("nms")
    cases = [(1, community, 1), (2, community, 1), (3, user, 3)]
    for model, name, level in cases:
        assert vacm.is_access_allowed(engine, model, name, level, "read", b"", oid) is None
        with pytest.raises(StatusInformation) as denied:
            vacm.is_access_allowed(engine, model, name, level, "write", b"", oid)
        assert denied.value["errorIndication"] == errind.notInView
    # Below the user's security level nothing is readable either.
    for level in (1, 2):
        with pytest.raises(StatusInformation):
            vacm.is_access_allowed(engine, 3, user, level, "read", b"", oid)


def test_v3_only_refuses_communities(make_daemon: type[Daemon]) -> None:
    netsnmp.require_tools()
    daemon = make_daemon(extra_config=netsnmp.SNMP_CONFIG + "v3_only = yes\n").start()
    host = f"udp:127.0.0.1:{daemon.snmp_port}"
    result = netsnmp.run("snmpget", V2C, host, SYS_NAME, timeout=0.3, retries=0)
    assert result.returncode != 0 and "Timeout" in result.stderr
    assert "STRING" in netsnmp.get(V3_AUTHPRIV, host, SYS_NAME)[SYS_NAME]


def test_engine_boots_count_restarts(make_daemon: type[Daemon]) -> None:
    netsnmp.require_tools()
    daemon = make_daemon(extra_config=netsnmp.SNMP_CONFIG).start()
    host = f"udp:127.0.0.1:{daemon.snmp_port}"
    engine_id, boots = ".1.3.6.1.6.3.10.2.1.1.0", ".1.3.6.1.6.3.10.2.1.2.0"
    first = netsnmp.get(V3_AUTHPRIV, host, engine_id, boots)
    daemon.stop()
    daemon.start()
    second = netsnmp.get(V3_AUTHPRIV, host, engine_id, boots)
    assert second[engine_id] == first[engine_id]
    assert netsnmp.integer(second[boots]) == netsnmp.integer(first[boots]) + 1


def test_bad_snmp_section_stops_the_daemon_before_it_runs(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon(extra_config="[snmp]\nuser.nms = sha256:short\n")
    with pytest.raises(AssertionError, match="daemon exited 1"):
        daemon.start()
    assert "pass phrases need 8 characters" in daemon.log()


def test_disabled_or_unbindable_agent_leaves_printing_alone(make_daemon: type[Daemon]) -> None:
    netsnmp.require_tools()
    disabled = make_daemon(extra_config="[snmp]\nenabled = no\n").start()
    result = netsnmp.run("snmpget", V2C, f"udp:127.0.0.1:{disabled.snmp_port}", SYS_NAME,
                         timeout=0.3, retries=0)
    assert "Timeout" in result.stderr
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        busy = make_daemon(snmp_port=taken.getsockname()[1]).start()
        assert busy.status()["state"] == "idle"
        assert "SNMP agent not started: cannot bind UDP" in busy.log()
