"""A test network: namespaces joined by veth pairs, and the daemons that run in them.

Nothing here touches the host's interfaces, its avahi-daemon or its resolv.conf:

* every namespace gets ``/etc/netns/NS/resolv.conf`` and ``hosts`` (``ip netns exec``
  bind-mounts them over /etc), so tools inside never see the host's files;
* mDNS runs only on the veths and ``lo`` inside the namespaces;
* a private D-Bus and avahi-daemon run inside a namespace, avahi with a tmpfs over
  ``/run`` in its own mount namespace (its pid file cannot meet the host's);
* :meth:`Lab.close` ends every process started here and every process still inside a
  namespace of the lab (dhcpcd started by a daemon) by PID, deletes the namespaces (and
  with them the veths), the ``/etc/netns`` folders and dhcpcd's lease files of our veths.

Addresses: 198.51.100.0/24 (TEST-NET-2, RFC 5737) and 169.254/16 (RFC 3927); IPv6
only where a test asks for it, and then link-local only (fe80::/64 on the veths, the
kernel's own addresses).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.daemon import Daemon
from tests.daemon import wait_for as daemon_wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
LEASE_DIR = Path("/var/lib/dhcpcd")
ETC_NETNS = Path("/etc/netns")
_serial = itertools.count(1)


def sh(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


@dataclass
class Namespace:
    name: str
    lab: Lab

    def cmd(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, *args: str, check: bool = True, timeout: float = 30,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.cmd(*args), capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT)
        if check and proc.returncode != 0:
            raise AssertionError(f"[{self.name}] {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return proc

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "-n", self.name, *args, check=check)

    def addresses(self, iface: str) -> list[str]:
        out = self.ip("-4", "-o", "addr", "show", "dev", iface).stdout
        return re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out)

    def link_local6(self, iface: str) -> list[str]:
        """The interface's IPv6 link-local addresses (fe80::/10), without scope."""
        out = self.ip("-6", "-o", "addr", "show", "dev", iface, "scope", "link").stdout
        return re.findall(r"inet6 (fe80:[0-9a-f:]+)/", out)

    def spawn(self, args: list[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        return self.lab.spawn(self.cmd(*args), log, env=env, cwd=cwd)


class Lab:
    """Namespaces, links and processes of one test; :meth:`close` removes all of it."""

    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        # Short (interface names have 15 characters at most) and unique even when several
        # test runs share the machine.
        self.tag = f"{secrets.token_hex(2)}{next(_serial)}"
        self.namespaces: list[Namespace] = []
        self.links: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self._made_etc_netns = False

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- building
    def namespace(self, role: str) -> Namespace:
        ns = Namespace(f"pbt-{role}-{self.tag}", self)
        sh("ip", "netns", "add", ns.name)
        self.namespaces.append(ns)
        if not ETC_NETNS.exists():
            self._made_etc_netns = True
        etc = ETC_NETNS / ns.name
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("# printbridge test namespace: no DNS\n")
        (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        ns.ip("link", "set", "lo", "up")
        return ns

    def link_name(self, role: str) -> str:
        name = f"pb{role}{self.tag}"
        assert len(name) <= 15, name
        return name

    def veth(self, a: Namespace, a_role: str, b: Namespace, b_role: str, *,
             ipv6: bool = False) -> tuple[str, str]:
        """A veth pair, ``a``'s end and ``b``'s end, both up.  IPv6 off (no DAD, no
        router solicitations: nothing but what a test sends) unless ``ipv6``: then each
        end has the kernel's link-local address (fe80::/64, RFC 4862 §5.3), usable at
        once (no duplicate address detection on a link of two)."""
        name_a, name_b = self.link_name(a_role), self.link_name(b_role)
        sh("ip", "link", "add", name_a, "type", "veth", "peer", "name", name_b)
        self.links += [name_a, name_b]
        sh("ip", "link", "set", name_a, "netns", a.name)
        sh("ip", "link", "set", name_b, "netns", b.name)
        for ns, name in ((a, name_a), (b, name_b)):
            if ipv6:
                ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=0")
                ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.accept_dad=0")
                ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.accept_ra=0")
            else:
                ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=1")
            ns.ip("link", "set", name, "up")
        if ipv6:
            for ns, name in ((a, name_a), (b, name_b)):
                wait_for(lambda ns=ns, name=name: ns.link_local6(name), 10,
                         f"an IPv6 link-local address on {name}")
        return name_a, name_b

    def bridge(self, ns: Namespace, role: str, ports: list[str]) -> str:
        name = self.link_name(role)
        ns.ip("link", "add", name, "type", "bridge")
        ns.run("sysctl", "-q", "-w", f"net.ipv6.conf.{name}.disable_ipv6=1")
        for port in ports:
            ns.ip("link", "set", port, "master", name)
        ns.ip("link", "set", name, "up")
        return name

    def spawn(self, cmd: list[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd,
                                    env={**os.environ, **(env or {})}, start_new_session=True)
        self.procs.append(proc)
        return proc

    # -- tearing down
    @staticmethod
    def _end(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        for proc in reversed(self.procs):  # our children: terminate and reap, by PID
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for ns in self.namespaces:
            # Whatever still runs in our namespace is ours (dhcpcd a daemon started).
            pids = sh("ip", "netns", "pids", ns.name, check=False).stdout.split()
            for pid in pids:
                self._end(int(pid))
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns.name, check=False)
            shutil.rmtree(ETC_NETNS / ns.name, ignore_errors=True)
        if self._made_etc_netns:
            with contextlib.suppress(OSError):  # only if empty: others may use it now
                ETC_NETNS.rmdir()
        for link in self.links:
            for lease in LEASE_DIR.glob(f"{link}*.lease*"):
                lease.unlink(missing_ok=True)
        self.namespaces.clear()
        self.procs.clear()


#: The network checks run commands (avahi-browse, ip): they poll every 0.2 s.
wait_for = functools.partial(daemon_wait_for, interval=0.2)


class Printbridge(Daemon):
    """printbridge in a namespace, on a board that owns its interface.

    The namespace is its own: it gets the real ports (IPP 631, SNMP 161, raw 9100, LPD
    515) rather than free ports picked on the host, which may coincide.
    """

    def __init__(self, state_dir: Path, ns: Namespace, iface: str, *,
                 printer: str = "Office", hostname: str = "pbtest", mode: str = "dhcp",
                 board: str = "generic-dhcp", network: dict[str, str] | None = None,
                 options: dict[str, str] | None = None, listen: str | None = None) -> None:
        net = {"mode": mode, "interfaces": iface, "hostname": hostname, "dnssd": "yes",
               "dhcp_nodelay": "yes", "poll_interval": "0.25", **(network or {})}
        super().__init__(state_dir, options=options, printer=printer, netns=ns.name,
                         board=board, network=net, listen=listen)
        self.ipp_port, self.snmp_port, self.raw_port, self.lpd_port = 631, 161, 9100, 515
        self.ns = ns
        self.iface = iface

    def net(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call({"command": "net-status"})["network"]
        return result

    def dnssd(self) -> dict[str, Any]:
        result: dict[str, Any] = self.net()["dnssd"]
        return result

    def advertised(self, address: str | None = None, name: str | None = None) -> bool:
        """Advertising (at ``address``, as ``name``), the announcements sent."""
        d = self.dnssd()
        if d["state"] != "advertising":
            return False
        if address is not None and d["addresses"] != [address]:
            return False
        ad = d["printers"][self.printer]
        return ad["registered"] and (name is None or ad["name"] == name)

    def wait_advertised(self, address: str | None = None, name: str | None = None,
                        timeout: float = 30) -> dict[str, Any]:
        wait_for(lambda: self.advertised(address, name), timeout,
                 f"{self.printer} advertised at {address or 'an address'}")
        return self.dnssd()

    def address(self) -> str:
        addrs: list[str] = self.dnssd()["addresses"]
        return addrs[0]


class Dnsmasq:
    """A DHCP server (no DNS) on one interface of a namespace (test-recipes.md)."""

    def __init__(self, ns: Namespace, iface: str, work: Path,
                 pool: tuple[str, str] = ("198.51.100.50", "198.51.100.99")) -> None:
        self.ns, self.iface, self.work, self.pool = ns, iface, work, pool
        self.proc: subprocess.Popen[bytes] | None = None
        work.mkdir(parents=True, exist_ok=True)

    def start(self) -> Dnsmasq:
        self.proc = self.ns.spawn([
            "dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--port=0",
            f"--interface={self.iface}", "--bind-interfaces", "--except-interface=lo",
            f"--dhcp-range={self.pool[0]},{self.pool[1]},255.255.255.0,1h",
            f"--dhcp-leasefile={self.work / 'leases'}", f"--pid-file={self.work / 'pid'}",
            "--no-ping", "--dhcp-authoritative", f"--log-facility={self.work / 'log'}",
        ], self.work / "out")
        wait_for(lambda: (self.work / "pid").exists(), 10, "dnsmasq to start")
        return self

    def leases(self) -> list[str]:
        try:
            return (self.work / "leases").read_text().splitlines()
        except FileNotFoundError:
            return []


DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
host-name=pbobserver{tag}
use-ipv4=yes
use-ipv6={ipv6}
allow-interfaces={iface}
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
disable-publishing=yes
[reflector]
enable-reflector=no
"""


def unescape_avahi(text: str) -> str:
    """avahi-browse -p escapes names: ``\\032`` (decimal) and ``\\.``."""
    text = re.sub(r"\\(\d{3})", lambda m: chr(int(m[1])), text)
    return re.sub(r"\\(.)", r"\1", text)


class PrivateAvahi:
    """dbus-daemon and avahi-daemon inside namespace ``ns``, on ``iface`` only; mDNS
    over IPv6 as well with ``ipv6`` (the link then needs IPv6: :meth:`Lab.veth`)."""

    def __init__(self, ns: Namespace, iface: str, work: Path, ipv6: bool = False) -> None:
        self.ns, self.iface, self.work, self.ipv6 = ns, iface, work, ipv6
        work.mkdir(parents=True, exist_ok=True)
        os.chmod(work, 0o755)  # cupsd's backends run as lp and use the bus too
        self.bus = work / "bus"

    @property
    def env(self) -> dict[str, str]:
        return {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={self.bus}"}

    def start(self) -> PrivateAvahi:
        (self.work / "dbus.conf").write_text(DBUS_CONF.format(socket=self.bus))
        (self.work / "avahi.conf").write_text(
            AVAHI_CONF.format(tag=self.ns.lab.tag, iface=self.iface,
                              ipv6="yes" if self.ipv6 else "no"))
        self.ns.spawn(["dbus-daemon", f"--config-file={self.work / 'dbus.conf'}", "--nofork",
                       "--nopidfile"], self.work / "dbus.log")
        wait_for(self.bus.exists, 10, "the private D-Bus")
        # tmpfs over /run in this process's own mount namespace (ip netns exec made it):
        # avahi's /run/avahi-daemon/pid never meets the host's.
        self.ns.spawn(["sh", "-c", "mount -t tmpfs -o mode=755 pbtest /run && exec "
                       f"avahi-daemon -f {self.work / 'avahi.conf'} --no-drop-root "
                       "--no-chroot --no-rlimits"], self.work / "avahi.log", env=self.env)
        wait_for(lambda: "Server startup complete" in self.log(), 15, "avahi-daemon")
        return self

    def log(self) -> str:
        try:
            return (self.work / "avahi.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def browse(self, service_type: str = "_ipp._tcp") -> list[dict[str, Any]]:
        """``avahi-browse -rpt``: the resolved instances, names and TXT decoded."""
        out = self.ns.run("avahi-browse", "-rpt", service_type, env=self.env, timeout=30).stdout
        found = []
        for line in out.splitlines():
            if not line.startswith("="):
                continue
            parts = line.split(";", 9)
            txt = {}
            for item in re.findall(r'"((?:[^"\\]|\\.)*)"', parts[9]):
                key, _, value = unescape_avahi(item).partition("=")
                txt[key] = value
            found.append({"interface": parts[1], "name": unescape_avahi(parts[3]),
                          "type": parts[4], "host": parts[6], "address": parts[7],
                          "port": int(parts[8]), "txt": txt})
        return found

    def resolve_host(self, name: str, family: int = 4) -> str:
        """``avahi-resolve-host-name -4`` (an mDNS A query through the private avahi),
        or ``-6`` (AAAA)."""
        out = self.ns.run("avahi-resolve-host-name", f"-{family}", name,
                          env=self.env).stdout.split()
        return out[1] if len(out) == 2 and out[0] == name else ""

    def ippfind(self, *args: str, timeout: float = 3) -> list[str]:
        """``ippfind -T timeout ARGS -x echo ...``: one ``name|host|port|rp|UUID`` line per
        printer found."""
        out = self.ns.run("ippfind", "-T", str(timeout), *args, "-x", "echo",
                          "{service_name}|{service_hostname}|{service_port}|{txt_rp}|"
                          "{txt_UUID}|{txt_ty}", ";", env=self.env, timeout=timeout + 20).stdout
        return [line for line in out.splitlines() if line.strip()]


@dataclass
class Link:
    """Two hosts on one link: A (the clients' side) and B (printbridge's)."""

    lab: Lab
    a: Namespace
    b: Namespace
    va: str
    vb: str
    a_addr: str = "198.51.100.1"

    def avahi(self, ipv6: bool = False) -> PrivateAvahi:
        return PrivateAvahi(self.a, self.va, self.lab.work / "avahi", ipv6).start()


def tool(ns: Namespace, *args: str, timeout: float = 60) -> Any:
    """Run ``python -m tests.net.tools ARGS`` in ``ns``; its JSON output."""
    import json

    return json.loads(ns.run(PYTHON, "-m", "tests.net.tools", *args, timeout=timeout).stdout)


def zeroconf_browse(ns: Namespace, bind: str, types: list[str], timeout: float = 8,
                    want: list[str] | None = None) -> list[dict[str, Any]]:
    args = ["browse", "--bind", bind, "--timeout", str(timeout)]
    for t in types:
        args += ["--type", t]
    for w in want or []:
        args += ["--want", w]
    result: list[dict[str, Any]] = tool(ns, *args, timeout=timeout + 30)
    return result
