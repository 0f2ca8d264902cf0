from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.config import load_config
from firmware.snmp.context import AgentContext
from firmware.snmp.settings import load_settings
from firmware.system import System
from tests.daemon import Daemon
from tests.snmp import netsnmp


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon per test module with the test communities and USM user; stopped by PID."""
    netsnmp.require_tools()
    daemon = Daemon(tmp_path_factory.mktemp("snmp") / "state",
                    options={"toner_pages": "100"}, extra_config=netsnmp.SNMP_CONFIG)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def host(agent: Daemon) -> str:
    return f"udp:127.0.0.1:{agent.snmp_port}"


@pytest.fixture
def system(tmp_path: Path) -> System:
    """A System of the emulator board, not started: its printer model is what tests poke."""
    return System(load_config(None, "emulator", {"state_dir": tmp_path / "state"}))


@pytest.fixture
def ctx(system: System) -> AgentContext:
    return AgentContext(system, load_settings({"contact": "ops@example.com"}))
