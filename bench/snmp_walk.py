"""SNMP agent throughput: OIDs per second for ``snmpbulkwalk`` and the agent's memory.

Walks the Printer MIB (1.3.6.1.2.1.43) and the whole of mib-2 (1.3.6.1.2.1) on a
printbridge daemon with SNMPv2c and SNMPv3 authPriv, and — when net-snmp's ``snmpd`` is
installed — mib-2 on an ``snmpd`` started on a loopback port with a private
configuration, in the same run (snmpd has no Printer MIB: only mib-2 compares).  Prints
figures; not a test.

    python bench/snmp_walk.py [--seconds 3] [--repetitions 25]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daemon import Daemon, free_port, wait_for
from tests.snmp import netsnmp

PRINTER_MIB = "1.3.6.1.2.1.43"
MIB_2 = "1.3.6.1.2.1"


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def bulkwalk(auth: list[str], host: str, root: str, repetitions: int) -> int:
    """One snmpbulkwalk; the number of OIDs it returned."""
    result = subprocess.run(
        ["snmpbulkwalk", *auth, "-On", "-Oq", f"-Cr{repetitions}", host, root],
        capture_output=True, text=True, env=netsnmp.env(), timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"snmpbulkwalk failed: {result.stderr.strip()}")
    lines = result.stdout.splitlines()
    return sum(1 for line in lines if line.startswith(".") and "No Such Object" not in line
               and "No more variables" not in line)


def rate(auth: list[str], host: str, root: str, seconds: float, repetitions: int
         ) -> tuple[float, int, float]:
    """(OIDs per second, OIDs per walk, milliseconds per walk) over ``seconds``."""
    bulkwalk(auth, host, root, repetitions)  # warm up (engine discovery, caches)
    walks = oids = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or walks < 3:
        oids += bulkwalk(auth, host, root, repetitions)
        walks += 1
    elapsed = time.perf_counter() - start
    return oids / elapsed, oids // walks, 1000 * elapsed / walks


def start_snmpd(workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    snmpd = shutil.which("snmpd") or ("/usr/sbin/snmpd" if Path("/usr/sbin/snmpd").exists()
                                      else None)
    if snmpd is None:
        return None
    port = free_port(socket.SOCK_DGRAM)
    conf = workdir / "snmpd.conf"
    conf.write_text(f"agentaddress udp:127.0.0.1:{port}\nrocommunity public 127.0.0.1\n"
                    f"sysLocation bench\nsysContact bench\n")
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(workdir / "persist"), MIBS="",
               MIBDIRS=str(workdir))
    proc = subprocess.Popen([snmpd, "-f", "-C", "-c", str(conf), "-Lf", str(workdir / "log"),
                             "-p", str(workdir / "snmpd.pid")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"udp:127.0.0.1:{port}"

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"snmpd exited {proc.returncode}")
        probe = netsnmp.run("snmpget", netsnmp.V2C, host, ".1.3.6.1.2.1.1.3.0", timeout=0.2,
                            retries=0)
        return probe.returncode == 0

    wait_for(answers, 15, "snmpd to answer")
    return proc, host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--repetitions", type=int, default=25, help="GETBULK max-repetitions")
    args = parser.parse_args()
    if shutil.which("snmpbulkwalk") is None:
        sys.exit("snmpbulkwalk missing: apt-get install snmp")
    with tempfile.TemporaryDirectory(prefix="pb-bench-snmp-") as tmp:
        root = Path(tmp)
        daemon = Daemon(root / "state", extra_config=netsnmp.SNMP_CONFIG,
                        verbose=False).start()
        snmpd = None
        try:
            assert daemon.proc is not None
            host = f"udp:127.0.0.1:{daemon.snmp_port}"
            idle_rss, _ = memory_kib(daemon.proc.pid)
            print(f"snmpbulkwalk, max-repetitions {args.repetitions}, "
                  f"{args.seconds:.0f} s per figure (each walk is a new snmpbulkwalk process)")
            print(f"{'agent':<12} {'version':<9} {'subtree':<16} {'OIDs/s':>8} "
                  f"{'OIDs/walk':>9} {'ms/walk':>8}")
            for auth, version in ((netsnmp.V2C, "v2c"), (netsnmp.V3_AUTHPRIV, "v3 priv")):
                for subtree in (PRINTER_MIB, MIB_2):
                    per_s, per_walk, ms = rate(auth, host, subtree, args.seconds,
                                               args.repetitions)
                    print(f"{'printbridge':<12} {version:<9} {subtree:<16} {per_s:8.0f} "
                          f"{per_walk:9d} {ms:8.1f}")
            rss, hwm = memory_kib(daemon.proc.pid)
            snmpd = start_snmpd(root)
            if snmpd is None:
                print("snmpd       not installed (apt-get install snmpd): no comparison")
            else:
                proc, snmpd_host = snmpd
                for subtree in (PRINTER_MIB, MIB_2):
                    per_s, per_walk, ms = rate(netsnmp.V2C, snmpd_host, subtree, args.seconds,
                                               args.repetitions)
                    note = "   (snmpd has no Printer MIB)" if per_walk == 0 else ""
                    print(f"{'snmpd':<12} {'v2c':<9} {subtree:<16} {per_s:8.0f} "
                          f"{per_walk:9d} {ms:8.1f}{note}")
                snmpd_rss, snmpd_hwm = memory_kib(proc.pid)
            print(f"printbridge daemon RSS {idle_rss / 1024:.1f} MiB before the walks, "
                  f"{rss / 1024:.1f} MiB after (peak {hwm / 1024:.1f} MiB) — the whole daemon: "
                  f"IPP, web, spool and the SNMP agent")
            if snmpd is not None:
                print(f"snmpd RSS {snmpd_rss / 1024:.1f} MiB (peak {snmpd_hwm / 1024:.1f} MiB)")
        finally:
            daemon.stop()
            if snmpd is not None:
                proc = snmpd[0]
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(10)


if __name__ == "__main__":
    main()
