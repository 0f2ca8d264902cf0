"""[network] settings: board TOML values and INI strings, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.config import load_config
from firmware.net.settings import parse_settings


def test_ini_strings_and_toml_values() -> None:
    s = parse_settings({"mode": "dhcp", "interfaces": "eth0, wlan0", "dnssd": "no",
                        "dhcp_nodelay": "yes", "poll_interval": "0.5", "hostname": "shop"})
    assert (s.mode, s.interfaces, s.dnssd, s.dhcp_nodelay) == ("dhcp", ["eth0", "wlan0"],
                                                               False, True)
    assert (s.poll_interval, s.hostname, s.ipv4ll) == (0.5, "shop", True)
    s = parse_settings({"mode": "watch", "interfaces": ["lo"], "dnssd": True, "wifi": "wlan0"})
    assert (s.mode, s.interfaces, s.dnssd) == ("watch", ["lo"], True)
    s = parse_settings({"mode": "static", "interfaces": "eth0", "address": "192.0.2.5/24",
                        "gateway": "192.0.2.1", "dns": "192.0.2.1 192.0.2.2"})
    assert (s.address, s.gateway, s.dns) == ("192.0.2.5/24", "192.0.2.1",
                                             ["192.0.2.1", "192.0.2.2"])


@pytest.mark.parametrize("raw", [
    {"mode": "bridge"},
    {"mode": "dhcp"},                                          # no interface
    {"mode": "static", "interfaces": "eth0", "address": "192.0.2.5"},     # no prefix
    {"mode": "static", "interfaces": "eth0,eth1", "address": "192.0.2.5/24"},
    {"mode": "static", "interfaces": "eth0", "address": "192.0.2.5/24", "gateway": "x"},
    {"mode": "watch", "dnssd": "maybe"},
    {"mode": "watch", "poll_interval": "0"},
])
def test_refused(raw: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        parse_settings(raw)


def test_unknown_key_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_settings({"mode": "watch", "dnsd": "no"}).dnssd is True
    assert "dnsd" in caplog.text


def test_boards_and_config_file(tmp_path: Path) -> None:
    emulator = parse_settings(load_config(board="emulator").network)
    assert (emulator.mode, emulator.interfaces) == ("watch", ["lo"])
    conf = tmp_path / "printbridge.conf"
    conf.write_text("[daemon]\nboard = generic-dhcp\n[network]\ninterfaces = enp3s0\n"
                    "[printer:P]\nport = emulated:\n")
    managed = parse_settings(load_config(conf).network)
    assert (managed.mode, managed.interfaces, managed.ipv4ll) == ("dhcp", ["enp3s0"], True)
