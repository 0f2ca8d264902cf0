"""dhcpcd's configuration and our hook script, without dhcpcd: the hook is run by hand
with the variables dhcpcd-run-hooks(8) documents, against a stand-in admin socket.  And
the address watcher on a stand-in netifaces."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from firmware.net import addresses
from firmware.net.addresses import usable_ipv4
from firmware.net.dhcp import DhcpClient
from firmware.net.settings import parse_settings


def test_conf_and_command(tmp_path: Path) -> None:
    settings = parse_settings({"mode": "dhcp", "interfaces": "eth0", "dhcp_nodelay": "yes",
                               "dhcpcd": "/sbin/dhcpcd"})
    client = DhcpClient(settings, "shop", tmp_path / "net", tmp_path / "pb.sock")
    client.write_files()
    conf = client.conf_path.read_text()
    assert "hostname shop\n" in conf and "nodelay\n" in conf and "persistent\n" in conf
    assert "noipv4ll" not in conf  # RFC 3927 fallback stays on
    assert client.command == ["/sbin/dhcpcd", "-f", str(client.conf_path), "-c",
                              str(client.hook_path), "-4", "-B", "eth0"]
    assert os.stat(client.hook_path).st_mode & 0o777 == 0o700


def test_hook_reports_and_touches_nothing(tmp_path: Path) -> None:
    sock_path = tmp_path / "pb.sock"
    received: list[dict[str, object]] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            received.append(json.loads(conn.makefile().readline()))
            conn.sendall(b'{"ok": true}\n')

    thread = threading.Thread(target=serve)
    thread.start()
    settings = parse_settings({"mode": "dhcp", "interfaces": "eth0"})
    client = DhcpClient(settings, "shop", tmp_path / "net", sock_path)
    client.write_files()
    env = {"PATH": "/usr/bin:/bin", "reason": "BOUND", "interface": "eth0",
           "new_ip_address": "198.51.100.57", "new_subnet_cidr": "24",
           "new_routers": "198.51.100.1", "new_domain_name_servers": "198.51.100.1",
           "new_dhcp_lease_time": "3600", "new_dhcp_server_identifier": "198.51.100.1",
           "new_host_name": "evil"}  # dhcpcd passes it; the hook must not use it
    subprocess.run([str(client.hook_path)], env=env, check=True, timeout=20, cwd=tmp_path)
    thread.join(10)
    server.close()
    event = received[0]["event"]
    assert received[0]["command"] == "dhcp-event"
    assert isinstance(event, dict) and "new_host_name" not in event
    lease = client.handle_event(event)
    assert (lease.reason, lease.address, lease.prefix, lease.routers, lease.lease_time) == (
        "BOUND", "198.51.100.57", 24, ["198.51.100.1"], 3600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net", "pb.sock"]
    # Without a daemon listening the hook still exits 0 (dhcpcd carries on).
    sock_path.unlink()
    subprocess.run([str(client.hook_path)], env=env, check=True, timeout=20)


def test_lease_bookkeeping(tmp_path: Path) -> None:
    client = DhcpClient(parse_settings({"mode": "dhcp", "interfaces": "eth0"}), "shop",
                        tmp_path, tmp_path / "pb.sock")
    client.handle_event({"reason": "IPV4LL", "interface": "eth0",
                         "new_ip_address": "169.254.7.8", "new_subnet_cidr": "16"})
    assert client.leases["eth0"].reason == "IPV4LL"
    client.handle_event({"reason": "BOUND", "interface": "eth0",
                         "new_ip_address": "198.51.100.60", "new_subnet_cidr": "24"})
    client.handle_event({"reason": "IPV4LL", "interface": "eth0"})  # LL dropped afterwards
    assert client.leases["eth0"].address == "198.51.100.60"
    client.handle_event({"reason": "EXPIRE", "interface": "eth0"})
    assert "eth0" not in client.leases


def test_usable_addresses() -> None:
    # RFC 3927 §1.9: with a routable address, the link-local one is not used.
    assert usable_ipv4("eth0", ["169.254.7.8", "198.51.100.60"]) == ("198.51.100.60",)
    assert usable_ipv4("eth0", ["169.254.7.8"]) == ("169.254.7.8",)
    assert usable_ipv4("eth0", ["127.0.0.1", "0.0.0.0"]) == ()
    assert usable_ipv4("lo", ["127.0.0.1"]) == ("127.0.0.1",)


def test_watcher_reports_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """AddressWatcher.poll: usable IPv4, IPv6 link-local without its scope, listeners
    told once per change."""
    table: dict[str, dict[int, list[dict[str, str]]]] = {"eth0": {}}

    def ifaddresses(name: str) -> dict[int, list[dict[str, str]]]:
        if name not in table:
            raise ValueError(name)
        return table[name]

    monkeypatch.setattr(addresses.netifaces, "ifaddresses", ifaddresses)
    watcher = addresses.AddressWatcher(["eth0", "wlan0"])
    seen: list[addresses.Snapshot] = []
    watcher.subscribe(seen.append)
    assert not watcher.poll() and watcher.ipv4 == []
    table["eth0"] = {
        addresses.netifaces.AF_INET: [{"addr": "169.254.7.8"}],
        addresses.netifaces.AF_INET6: [{"addr": "fe80::1%eth0"}, {"addr": "2001:db8::5"}],
    }
    assert watcher.poll() and not watcher.poll()
    assert watcher.ipv4 == ["169.254.7.8"] and watcher.ipv6_link_local == ["fe80::1"]
    assert watcher.snapshot[0].link_local_only
    table["eth0"][addresses.netifaces.AF_INET].append({"addr": "198.51.100.60"})
    assert watcher.poll() and watcher.ipv4 == ["198.51.100.60"]
    assert len(seen) == 2 and seen[-1][1] == addresses.InterfaceAddresses("wlan0")
