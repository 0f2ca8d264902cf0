"""The first boot, for real: ``make image`` → the boot partition's files → firstboot.sh
inside ``systemd-nspawn`` on a Debian root built with debootstrap (cached between runs),
then that root booted with systemd as PID 1, where printbridge.service must come up
(Type=notify), answer Get-Printer-Attributes on port 631 as its own user, serve every
front end once as tests/test_installed_wheel.py asks of a wheel installed on the host
(web pages, IPP, SNMP, raw 9100, LPD, the admin socket, ``printbridge probe``: see
FRONTENDS), and be restarted by the systemd watchdog when its event loop blocks.

Slow (the first run debootstraps a Debian root): ``make test-image`` runs it; ``make
test`` skips it.  ``make test-image`` alone (or ``ARCH=amd64``) runs natively on an amd64
root with a wheelhouse built here for x86_64.  ``make test-image ARCH=arm64`` or
``ARCH=armhf`` (PRINTBRIDGE_TEST_IMAGE_ARCH) runs the same on a bookworm root of that
architecture under qemu-user-static (binfmt_misc handlers registered for the run,
:mod:`tests.boot.qemu`): the card's root partition carries that root's dpkg status, apt
sources and keys, and ``make image`` builds the wheelhouse (and whatever else it puts on
the card) itself, as a user's run does.  Timeouts and the watchdog's period scale with
the emulation (SLOW), and units known to fail only under qemu-user are tolerated by name
(TOLERATED_EMULATED); any other failed unit fails the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.image import wheelhouse
from tests.boot import qemu
from tests.boot.sdimage import BOOT_START, SECTOR, make_image, root_tree

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = Path(os.environ.get("PRINTBRIDGE_IMAGE_CACHE", "~/.cache/printbridge")).expanduser()
#: `make test-image ARCH=arm64|armhf|amd64` (PRINTBRIDGE_TEST_IMAGE_ARCH; default amd64).
ARCH = qemu.selected()
#: The debootstrapped root of that architecture, cached between runs.
DEBIAN = CACHE / ("bookworm-root" if ARCH.name == "amd64" else f"bookworm-{ARCH.name}-root")
#: Timeouts inside the container are multiplied by this (1 natively; emulation is 5-10
#: times slower).
SLOW = ARCH.slow
#: Each step's ceiling in seconds (measured: debootstrap 234 s arm64, 203 s armhf; first
#: boot 8 s natively, 58 s arm64; booted checks 11 s natively, 70 s arm64).
DEBOOTSTRAP_TIMEOUT = 3600 if ARCH.emulated else 1800
MAKE_IMAGE_TIMEOUT = 1800
FIRST_BOOT_TIMEOUT = 300 * SLOW if ARCH.emulated else 600
BOOT_TIMEOUT = 400 * SLOW
#: pytest-timeout's for the whole test: beyond every step's own, which runs out first and
#: kills its container (pytest-timeout's interruption would not).
TEST_TIMEOUT = (DEBOOTSTRAP_TIMEOUT + MAKE_IMAGE_TIMEOUT + FIRST_BOOT_TIMEOUT + BOOT_TIMEOUT
                + 900)


def apt_mirror() -> str:
    """The Debian mirror this machine's apt already uses (sources.list or deb822)."""
    sources = Path("/etc/apt")
    for path in [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["deb"] and len(words) > 2:
                return next(w for w in words[1:] if "://" in w)
            if words[:1] == ["URIs:"] and len(words) > 1:
                return words[1]
    raise RuntimeError("no Debian mirror configured for apt")


MIRROR = os.environ.get("PRINTBRIDGE_DEBIAN_MIRROR") or apt_mirror()
PACKAGES = "python3,systemd,systemd-sysv,dbus,passwd,udev,iproute2"

# Slow (a debootstrap and two container boots): `make test-image` runs it, `make test`
# deselects the marker.  Root and the tools are what `make test-image` provides.
pytestmark = [pytest.mark.image, pytest.mark.timeout(TEST_TIMEOUT)]

AMD64_STATUS = """Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u10

Package: python3
Status: install ok installed
Architecture: amd64
Version: 3.11.2-1+b1

"""

PRINTER = "Office"
ADMIN_PASSWORD = "first-boot-secret"
SETTINGS = f"""printer_name = {PRINTER}
printer_port = emulated:
hostname = pbtest
admin_password = {ADMIN_PASSWORD}
board = generic
"""
#: The web pages and a text each must show (tests/test_installed_wheel.py's list).
PAGES = {"/": "Status", "/jobs": "Queue", "/settings": "Printer settings",
         "/network": "Host name", "/security": "Administrator password",
         "/maintenance": "Maintenance", "/login": "Log in"}

IPP_PROBE = r'''
import http.client, struct, sys
def attr(tag, name, value):
    return (bytes([tag]) + struct.pack(">H", len(name)) + name
            + struct.pack(">H", len(value)) + value)
body = (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01"
        + attr(0x47, b"attributes-charset", b"utf-8")
        + attr(0x48, b"attributes-natural-language", b"en")
        + attr(0x45, b"printer-uri", b"ipp://localhost:631/ipp/print") + b"\x03")
conn = http.client.HTTPConnection("127.0.0.1", 631, timeout=60)
conn.request("POST", "/ipp/print", body, {"Content-Type": "application/ipp"})
reply = conn.getresponse().read()
status = struct.unpack(">H", reply[2:4])[0]
print("ipp-status=0x%04x" % status)
print("ipp-has-office=%s" % (b"Office" in reply))
print("ipp-has-printer-state=%s" % (b"printer-state" in reply))
'''

#: Every front end once against the daemon the first boot installed, from inside the
#: booted container (no net-snmp or ipptool there: the standard library, and pysnmp and
#: Pillow from /opt/printbridge's venv): each web page and what it links, the admin pages
#: after logging in (a test page that prints), IPP Get-Printer-Attributes and two Print-Jobs
#: (bytes as sent; a JPEG converted to PCL), an SNMP GET and Printer MIB walk, raw 9100 and
#: LPD jobs (bytes as sent), ``printbridge status`` and ``print`` over the admin socket and
#: ``printbridge probe``.  One ``key=ok`` (or ``key=FAIL why``) line per check; jobs are
#: followed through the admin socket and compared with what the emulated printer received.
FRONTENDS = (f"PRINTER = {PRINTER!r}\nPASSWORD = {ADMIN_PASSWORD!r}\nPAGES = {PAGES!r}\n"
             f"SLOW = {SLOW}  # timeouts scale with the emulation\n"
             + r'''
import asyncio, configparser, hashlib, http.client, http.cookiejar, io, json, random, re
import socket, struct, subprocess, time, urllib.error, urllib.parse, urllib.request
from pathlib import Path

STATE = Path("/var/lib/printbridge")
CONF = "/etc/printbridge/printbridge.conf"
CLI = "/opt/printbridge/bin/printbridge"
conf = configparser.ConfigParser(interpolation=None)
conf.read(CONF)
IPP = conf.getint("daemon", "ipp_port", fallback=631)
SNMP = conf.getint("daemon", "snmp_port", fallback=161)
RAW = conf.getint("daemon", "raw_port", fallback=9100)
LPD = conf.getint("daemon", "lpd_port", fallback=515)
COMMUNITY = conf.get("snmp", "communities", fallback="public").split(",")[0].strip()
BASE = f"http://127.0.0.1:{IPP}"


class Fail(Exception):
    pass


def need(condition, what):
    if not condition:
        raise Fail(what)


def report(key, check):
    """One line per check: key=ok, or key=FAIL and why (on one line)."""
    try:
        detail = check()
        line = "ok" if detail is None else str(detail)
    except Exception as exc:
        line = f"FAIL {type(exc).__name__}: {exc}"
    print(f"{key}={' | '.join(line.splitlines())[:2000]}", flush=True)


def document(size, seed, pages=1):
    """Printer data with exactly `pages` form feeds (the emulator counts a page each)."""
    body = bytearray(b if b != 0x0C else 0x20 for b in random.Random(seed).randbytes(size))
    for i in range(pages):
        body[min(size - 1, (i + 1) * (size // pages) - 1)] = 0x0C
    return bytes(body)


# -- the admin socket, through the installed package's own client: jobs and their states
def admin(request):
    from firmware.admin import call

    return call(STATE / "printbridge.sock", request)


def jobs():
    printers = admin({"command": "status"})["status"]["printers"]
    return {int(j["id"]): j for p in printers for j in p["jobs"]}


def finished(before, job_id=None, timeout=30 * SLOW):
    """The new job (job_id, or the one job not in `before`) once it ended: its id."""
    deadline = time.monotonic() + timeout
    while True:
        now = jobs()
        new = [i for i in now if i not in before] if job_id is None else [job_id]
        if len(new) == 1 and new[0] in now and now[new[0]]["state"] in (
                "completed", "aborted", "canceled"):
            need(now[new[0]]["state"] == "completed", f"job {now[new[0]]}")
            return new[0]
        need(len(new) <= 1, f"more than one new job: {new}")
        need(time.monotonic() < deadline, f"no finished job in {timeout} s: {now}")
        time.sleep(0.2)


def received(job_id):
    return (STATE / "output" / str(job_id) / "received.bin").read_bytes()


def same(job_id, data):
    got = received(job_id)
    need(got == data, f"job {job_id}: printer got {len(got)} bytes "
                      f"(sha256 {hashlib.sha256(got).hexdigest()[:12]}), sent {len(data)}")


# -- the web pages, one browser with cookies that does not follow redirects
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


browser = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)


def http_get(path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with browser.open(BASE + path, data=data, timeout=30 * SLOW) as reply:
            return reply.status, reply.headers.get_content_type(), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_content_type(), err.read()


referenced = set()


def page(path, text):
    def check():
        status, ctype, body = http_get(path)
        need((status, ctype) == (200, "text/html"), f"{status} {ctype} {body[:200]!r}")
        html = body.decode()
        need(text in html, f"no {text!r} on the page")
        need(PRINTER in html, f"no {PRINTER!r} on the page")
        referenced.update(re.findall(
            r'<(?:link|img|script)\b[^>]*?(?:href|src)="(/[^"?]*)"', html))
    return check


TYPES = {".css": "text/css", ".png": "image/", ".ico": "image/"}


def asset(path):
    def check():
        status, ctype, body = http_get(path)
        need(status == 200 and body, f"{status} {ctype} {body[:200]!r}")
        suffix = path[path.rfind("."):]
        need(ctype.startswith(TYPES.get(suffix, "")), f"content type {ctype}")
    return check


def logged_in():
    status, _, body = http_get("/login", {"user": "admin", "password": PASSWORD,
                                          "next": "/maintenance"})
    need(status == 303, f"login: {status} {body[:200]!r}")
    status, ctype, body = http_get("/maintenance")
    need((status, ctype) == (200, "text/html"), f"maintenance: {status} {ctype}")
    match = re.search(rb'name="csrf" value="([^"]+)"', body)
    need(match, "no CSRF token on the maintenance page after logging in")
    status, ctype, body = http_get("/maintenance/log")
    need((status, ctype) == (200, "text/plain") and body, f"log: {status} {ctype}")
    before = jobs()
    status, _, body = http_get("/maintenance/test-page", {"csrf": match[1].decode()})
    need(status == 303, f"test page: {status} {body[:200]!r}")
    finished(before)


# -- IPP
def attr(tag, name, value):
    return (bytes([tag]) + struct.pack(">H", len(name)) + name
            + struct.pack(">H", len(value)) + value)


def ipp(operation, attrs, data=b""):
    body = struct.pack(">BBHI", 2, 0, operation, 1) + b"\x01"
    for tag, name, value in [(0x47, "attributes-charset", "utf-8"),
                             (0x48, "attributes-natural-language", "en"),
                             (0x45, "printer-uri", f"ipp://localhost:{IPP}/ipp/print"), *attrs]:
        body += attr(tag, name.encode(), value.encode())
    conn = http.client.HTTPConnection("127.0.0.1", IPP, timeout=30 * SLOW)
    conn.request("POST", "/ipp/print", body + b"\x03" + data,
                 {"Content-Type": "application/ipp"})
    reply = conn.getresponse()
    raw = reply.read()
    need(reply.status == 200, f"HTTP {reply.status} {raw[:200]!r}")
    values, name, i = {}, "", 8
    while i < len(raw) and raw[i] != 0x03:
        tag, i = raw[i], i + 1
        if tag < 0x10:  # a group delimiter
            continue
        length = struct.unpack(">H", raw[i:i + 2])[0]
        name = raw[i + 2:i + 2 + length].decode() or name  # empty: another value of name
        i += 2 + length
        length = struct.unpack(">H", raw[i:i + 2])[0]
        values.setdefault(name, []).append(raw[i + 2:i + 2 + length])
        i += 2 + length
    status = struct.unpack(">H", raw[2:4])[0]
    need(status < 0x100, f"IPP status 0x{status:04x} {values.get('status-message')}")
    return values


def get_printer_attributes():
    values = ipp(0x000B, [(0x44, "requested-attributes", "all")])
    need(values.get("printer-name") == [PRINTER.encode()],
         f"printer-name {values.get('printer-name')}")
    for name in ("printer-state", "printer-make-and-model", "ipp-versions-supported",
                 "document-format-supported"):
        need(name in values, f"no {name}")


def print_job(data, fmt):
    before = jobs()
    values = ipp(0x0002, [(0x42, "requesting-user-name", "probe"),
                          (0x42, "job-name", f"probe {fmt}"), (0x49, "document-format", fmt)],
                 data)
    need("job-id" in values, f"no job-id in {sorted(values)}")
    return finished(before, struct.unpack(">i", values["job-id"][0])[0])


def ipp_print_job():
    data = document(40_000, seed=71, pages=2)
    same(print_job(data, "application/octet-stream"), data)


def ipp_print_jpeg():
    from PIL import Image  # the installed venv's Pillow, as the pipeline uses it

    jpeg = io.BytesIO()
    Image.new("L", (300, 200), 128).save(jpeg, "JPEG")
    job_id = print_job(jpeg.getvalue(), "image/jpeg")
    need(received(job_id).startswith(b"\x1b"), "the printer got no PCL for the JPEG")
    need((STATE / "output" / str(job_id) / "page-1.png").is_file(), "no page rendered")


# -- SNMP (pysnmp from the installed venv)
def snmp():
    from pysnmp.hlapi.v3arch.asyncio import (CommunityData, ContextData, ObjectIdentity,
                                             ObjectType, SnmpEngine, UdpTransportTarget,
                                             bulk_walk_cmd, get_cmd)

    async def run():
        engine = SnmpEngine()
        try:
            target = await UdpTransportTarget.create(("127.0.0.1", SNMP), timeout=3 * SLOW,
                                                    retries=1)
            community = CommunityData(COMMUNITY, mpModel=1)
            error, status, _, binds = await get_cmd(
                engine, community, target, ContextData(),
                ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")),
                ObjectType(ObjectIdentity("1.3.6.1.2.1.25.3.2.1.3.1")))
            need(not error and not int(status), f"GET: {error} {status}")
            descr, device = (str(value) for _, value in binds)
            rows = 0
            async for error, status, _, binds in bulk_walk_cmd(
                    engine, community, target, ContextData(), 0, 25,
                    ObjectType(ObjectIdentity("1.3.6.1.2.1.43")), lexicographicMode=False):
                need(not error and not int(status), f"walk: {error} {status}")
                rows += len(binds)
            return descr, device, rows
        finally:
            engine.close_dispatcher()

    descr, device, rows = asyncio.run(asyncio.wait_for(run(), 60 * SLOW))
    print(f"snmp-sysdescr={descr}")
    print(f"snmp-hrdevicedescr={device}")
    need(descr, "empty sysDescr")
    need(rows > 20, f"Printer MIB walk: {rows} values")


# -- raw 9100 and LPD
def raw_9100():
    data = document(60_000, seed=72)
    before = jobs()
    with socket.create_connection(("127.0.0.1", RAW), timeout=10 * SLOW) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        need(sock.recv(1) == b"", "the raw port sent something back")
    same(finished(before), data)


def lpd():
    data = document(5000, seed=73)
    control = b"Hhost1\nPalice\nJprobe lpd\nldfA001host1\nNlpd.txt\n"
    before = jobs()
    with socket.create_connection(("127.0.0.1", LPD), timeout=10 * SLOW) as sock:
        for part in (b"\x02lp\n", b"\x03%d dfA001host1\n" % len(data), data + b"\x00",
                     b"\x02%d cfA001host1\n" % len(control), control + b"\x00"):
            sock.sendall(part)
            need(sock.recv(1) == b"\x00", f"refused at {part[:20]!r}")
    job_id = finished(before)
    same(job_id, data)
    need(jobs()[job_id]["user"] == "alice", f"user {jobs()[job_id]['user']!r}")


# -- the command line: the admin socket and the port probe
def cli(*args):
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60 * SLOW)
    need(proc.returncode == 0,
         f"exit {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-1500:]}")
    return proc.stdout


def cli_status():
    text = cli("status", "--state-dir", str(STATE), "--config", CONF)
    need(f"Printer {PRINTER}: idle" in text and f":{IPP}/" in text, text)


def cli_probe():
    text = cli("probe")
    need("found (usb, usblp, parallel)" in text, text)
    text = cli("probe", "emulated:", "-o", "output=/var/tmp/probe-output")
    need("conditions ready" in text and "driver     pcl5" in text, text)


def cli_print(folder):
    def check():
        data = document(3000, seed=74)
        path = Path(folder) / "admin.prn"
        path.write_bytes(data)
        path.chmod(0o644)
        before = jobs()
        reply = cli("print", str(path), "--state-dir", str(STATE), "--config", CONF)
        need(re.fullmatch(r"job \d+ accepted\n", reply), reply)
        same(finished(before), data)
    return check


for path, text in PAGES.items():
    report(f"web{path}", page(path, text))
for path in sorted(referenced):
    report(f"web{path}", asset(path))
report("web-assets", lambda: " ".join(sorted(referenced)))
report("web-admin", logged_in)
report("ipp-attributes", get_printer_attributes)
report("ipp-print-job", ipp_print_job)
report("ipp-print-jpeg", ipp_print_jpeg)
report("snmp", snmp)
report("raw-9100", raw_9100)
report("lpd", lpd)
report("cli-status", cli_status)
report("cli-probe", cli_probe)
# `printbridge print` sends the document itself: files in root's /tmp and home print,
# although the unit's PrivateTmp= and ProtectHome= hide both from the daemon.
report("cli-print-tmp", cli_print("/tmp"))
report("cli-print-home", cli_print("/root"))
''')
#: Lines of result.txt that are not key=value results.
NOT_VALUES = ("journal:", "verify:", "stderr:", "failed:", "failed-journal:", "boot-warning:")
FRONTEND_CHECKS = [*(f"web{path}" for path in PAGES), "web/static/style.css",
                   "web/favicon.ico", "web/icon-48.png", "web-admin", "ipp-attributes",
                   "ipp-print-job", "ipp-print-jpeg", "snmp", "raw-9100", "lpd", "cli-status",
                   "cli-probe", "cli-print-tmp", "cli-print-home"]

#: The watchdog check: the unit's WatchdogSec= for the test (the daemon pings every half of
#: it) and how long the event loop is then blocked, far beyond it.  Under emulation the
#: daemon's own start-up work can hold its loop for seconds, so both scale.
WATCHDOG_SEC = 4 * SLOW
BLOCK = f'''
import json, socket
s = socket.socket(socket.AF_UNIX)
s.connect("/var/lib/printbridge/printbridge.sock")
s.sendall(json.dumps({{"command": "debug-block-loop", "seconds": {30 * SLOW}}}).encode() + b"\\n")
'''

#: Units allowed to fail in the booted container, by name, each with the only result it
#: may fail with (``Result``, ``ExecMainStatus``).  Natively none: any failed unit fails the
#: test (the amd64 run boots with no failed unit).
TOLERATED: dict[str, tuple[str, str]] = {}
#: Under qemu-user, the units with ``LoadCredential=`` end in 243/CREDENTIALS ("Failed at
#: step CREDENTIALS spawning ...: Invalid argument"): to set up /run/credentials/UNIT
#: systemd forks its child with clone(CLONE_NEWNS), a clone flag qemu-user refuses with
#: EINVAL (systemd/systemd#21511; systemd 254+ retries without a new mount namespace,
#: bookworm's 252 does not).  The same units and the same systemd start fine natively, so
#: this is the emulator, not the image.  systemd-tmpfiles-clean runs from a timer 15 min
#: after boot, so only a slow run sees it.
CREDENTIALS = ("exit-code", "243")
TOLERATED_EMULATED: dict[str, tuple[str, str]] = {
    "systemd-sysctl.service": CREDENTIALS,
    "systemd-sysusers.service": CREDENTIALS,
    "systemd-tmpfiles-setup-dev.service": CREDENTIALS,
    "systemd-tmpfiles-setup.service": CREDENTIALS,
    "systemd-tmpfiles-clean.service": CREDENTIALS,
}
#: The unit's sandbox (SystemCallArchitectures=, RestrictAddressFamilies=, RestrictNamespaces=
#: ...) is seccomp filters systemd attaches to the daemon, on top of the one nspawn gives
#: the whole container (counted in /proc/PID/status's Seccomp_filters, PID 1's subtracted).
#: Natively there must be some.  Under qemu-user systemd finds no usable seccomp (the
#: emulator does not pass a guest's filters to the kernel: they would be for the wrong
#: architecture) and applies none, so there 0 is accepted too.
def seccomp_ok(filters: str) -> bool:
    return int(filters) > 0 or (ARCH.emulated and int(filters) == 0)
if ARCH.emulated:
    TOLERATED = TOLERATED_EMULATED

CHECK = """#!/bin/sh
out=/boot/firmware/result.txt
wait_active() {
    for i in $(seq @WAIT@); do systemctl is-active -q printbridge.service && return 0; sleep 1; done
    return 1
}
wait_active
echo "active=$(systemctl is-active printbridge.service)" > $out
# (the monotonic clock is the machine's: count from the container's systemd start)
echo "active-after-boot-ms=$(( ($(systemctl show -P ActiveEnterTimestampMonotonic \\
    printbridge.service) - $(systemctl show -P UserspaceTimestampMonotonic)) / 1000 ))" >> $out
pid=$(systemctl show -P MainPID printbridge.service)
echo "user=$(stat -c %U /proc/$pid)" >> $out
# seccomp filters the unit added (nspawn filters the whole container: count from PID 1's)
filters() { awk '/^Seccomp_filters:/ {print $2}' "/proc/$1/status"; }
echo "seccomp-filters=$(( $(filters "$pid") - $(filters 1) ))" >> $out
/opt/printbridge/bin/python /usr/local/lib/ipp_probe.py >> $out 2>&1
started=$(date +%s)
timeout @FRONTENDS@ /opt/printbridge/bin/python /usr/local/lib/frontends.py >> $out \\
    2> /tmp/frontends.err
echo "frontends-rc=$?" >> $out
echo "frontends-seconds=$(( $(date +%s) - started ))" >> $out
sed 's/^/stderr: /' /tmp/frontends.err >> $out
echo "restarts-before=$(systemctl show -P NRestarts printbridge.service)" >> $out
echo "pid-before=$(systemctl show -P MainPID printbridge.service)" >> $out
/opt/printbridge/bin/python /usr/local/lib/block.py
started=$(date +%s)
sleep 6
for i in $(seq @RESTART@); do
    [ "$(systemctl show -P NRestarts printbridge.service)" -ge 1 ] && wait_active && break
    sleep 1
done
echo "restarts-after=$(systemctl show -P NRestarts printbridge.service)" >> $out
echo "pid-after=$(systemctl show -P MainPID printbridge.service)" >> $out
echo "restart-seconds=$(( $(date +%s) - started ))" >> $out
/opt/printbridge/bin/python /usr/local/lib/ipp_probe.py >> $out 2>&1
systemd-analyze verify /etc/systemd/system/printbridge.service \\
    /etc/systemd/system/printbridge-setup.service > /tmp/verify 2>&1
echo "verify-rc=$?" >> $out
sed 's/^/verify: /' /tmp/verify >> $out
echo "setup=$(systemctl is-active printbridge-setup.service)" >> $out
# Every unit that failed in this boot, with why (a test-side list tolerates known noise).
systemctl list-units --failed --all --plain --no-legend --no-pager > /tmp/failed
while read -r unit rest; do
    echo "failed: $unit $(systemctl show -P Result "$unit")" \\
        "$(systemctl show -P ExecMainStatus "$unit")"
    journalctl -b --no-pager -u "$unit" | tail -n 5 | sed 's/^/failed-journal: /'
done < /tmp/failed >> $out
echo "failed-units=$(wc -l < /tmp/failed)" >> $out
journalctl -b --no-pager -p warning | sed 's/^/boot-warning: /' >> $out
journalctl --no-pager -u printbridge.service | tail -n 40 | sed 's/^/journal: /' >> $out
journalctl -b --no-pager -u printbridge.service > /boot/firmware/printbridge-journal.txt
echo done >> $out
systemctl poweroff
""".replace("@WAIT@", str(60 * SLOW)).replace("@FRONTENDS@", str(120 * SLOW)).replace(
    "@RESTART@", str(30 * SLOW))


def build_root(arch: qemu.Arch, dest: Path, log=print) -> float:
    """Debootstrap bookworm for ``arch`` into ``dest`` (built beside it as ``.tmp`` and
    renamed when complete); returns the seconds it took.  A foreign architecture runs its
    second stage under qemu-user through binfmt_misc (the handler must be registered)."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = subprocess.run(["debootstrap", f"--arch={arch.name}", "--variant=minbase",
                           f"--include={PACKAGES}", "bookworm", str(tmp), MIRROR],
                          capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT)
    if proc.returncode != 0:
        log_file = tmp / "debootstrap/debootstrap.log"
        detail = log_file.read_text()[-3000:] if log_file.exists() else ""
        raise RuntimeError(f"debootstrap --arch={arch.name} failed ({proc.returncode}): "
                           f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}{detail}")
    machine = subprocess.run(["chroot", str(tmp), "python3", "-c",
                              "import platform; print(platform.machine())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert machine == arch.machine, f"{dest}: python3 says {machine}, not {arch.machine}"
    took = time.monotonic() - started
    (dest.parent / f"{dest.name}.built").write_text(
        f"debootstrap --arch={arch.name} {PACKAGES} from {MIRROR}: {took:.0f} s, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    tmp.rename(dest)
    log(f"debootstrapped {dest} in {took:.0f} s")
    return took


@pytest.fixture(scope="module")
def binfmt() -> Iterator[None]:
    """qemu-user-static's handler for a foreign ARCH, registered with F for the run."""
    if not ARCH.emulated:
        yield
        return
    if problems := qemu.missing([ARCH.handler]):
        pytest.fail("; ".join(problems) + " (make test-image installs qemu-user-static)")
    with qemu.binfmt_handlers([ARCH.handler]):
        yield


@pytest.fixture(scope="module")
def debian(binfmt: None) -> Path:
    if not (DEBIAN / "usr/bin/python3").exists():
        if shutil.which("debootstrap") is None:
            pytest.fail("no debootstrap (make test-image installs it)")
        build_root(ARCH, DEBIAN)
    return DEBIAN


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """x86_64: a wheelhouse built here and handed to ``make image``.  The emulated
    architectures get none: ``make image`` builds theirs from the package index, as a
    user's run does."""
    if ARCH.emulated:
        return None
    house = tmp_path_factory.mktemp("wheelhouse")
    manifest = wheelhouse.build(house, [ARCH.machine], "3.11")
    assert not manifest.missing, manifest.missing
    return house


def nspawn(root: Path, boot: Path, *args: str, timeout: float = 600
           ) -> subprocess.CompletedProcess[str]:
    """Run the container; past ``timeout`` (or interrupted) its init, nspawn's child and
    PID 1 of the container's PID namespace, is killed, which takes every process in it
    along: killing only nspawn would leave the container running."""
    command = ["systemd-nspawn", "-D", str(root), "--register=no", "--keep-unit", "-q",
               f"--bind={boot}:/boot/firmware", *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException as exc:
            try:
                children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
            except OSError:
                children = ""
            for child in children.split():
                try:
                    os.kill(int(child), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.kill()
            out, err = proc.communicate()
            if isinstance(exc, subprocess.TimeoutExpired):
                raise subprocess.TimeoutExpired(command, timeout, out, err) from None
            raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def make_env() -> dict[str, str]:
    """The environment for a nested ``make``: without what the outer make exports (its
    command line's variables, in MAKEFLAGS and as themselves), which would hand ``make
    test-image ARCH=arm64``'s ARCH to ``make image`` as its --arch override; the card's
    root says the architecture, as on a user's card."""
    drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARCH")
    return {k: v for k, v in os.environ.items() if k not in drop}


def untolerated(failed: list[str]) -> list[str]:
    """``failed: UNIT RESULT STATUS`` lines that TOLERATED does not name."""
    bad = []
    for line in failed:
        unit, result, status = [*line.split(), "", "", ""][1:4]
        if TOLERATED.get(unit) != (result, status):
            bad.append(line)
    return bad


def test_first_boot_in_nspawn_then_the_daemon_under_systemd(
        debian: Path, wheels: Path | None, tmp_path: Path) -> None:
    # 1. make image on a synthetic card whose root says which system boots: natively a
    #    made-up amd64 / Python 3.11 and a wheelhouse built here; emulated, the real root's
    #    dpkg status, apt sources and keys, and make image builds the wheelhouse itself
    if wheels is not None:
        tree = root_tree(tmp_path / "rootfs", dpkg_status=AMD64_STATUS)
        given = [f"WHEELHOUSE={wheels}"]
    else:
        tree = root_tree(tmp_path / "rootfs", facts_from=debian)
        given = []
    base = make_image(tmp_path / "base.img", tree)
    settings = tmp_path / "printbridge.txt"
    settings.write_text(SETTINGS)
    out = tmp_path / "printbridge.img"
    started = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", "image", f"BASE={base}", f"OUT={out}",
                           *given, f"CONFIG={settings}", f"PYTHON={sys.executable}", "ARCH="],
                          cwd=ROOT, capture_output=True, text=True, env=make_env(),
                          timeout=MAKE_IMAGE_TIMEOUT)
    print(proc.stdout[-3000:])
    print(f"make image took {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    if wheels is None:
        target = next((line for line in proc.stdout.splitlines()
                       if line.startswith("target:")), "")
        assert ARCH.machine in target.split(), proc.stdout[-3000:]

    # 2. the boot partition as the Pi mounts it (vfat shows every file as 0755)
    boot = tmp_path / "bootfs"
    boot.mkdir()
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-s", "-n", "-i", f"{out}@@{BOOT_START * SECTOR}", "::/*",
                    str(boot)], check=True, env=env)
    (boot / "printbridge/firstboot.sh").chmod(0o755)
    hooked = (boot / "cmdline.txt").read_text()
    assert "systemd.run=/boot/firmware/printbridge/firstboot.sh" in hooked

    # 3. the first boot: what systemd.run= would start, in a copy of the Debian root
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(debian), str(root)], check=True)
    started = time.monotonic()
    proc = nspawn(root, boot, "--private-network", "/boot/firmware/printbridge/firstboot.sh",
                  timeout=FIRST_BOOT_TIMEOUT)
    log = (boot / "printbridge/firstboot.log").read_text()
    assert proc.returncode == 0, log + proc.stderr
    print(f"first boot took {time.monotonic() - started:.1f} s")
    assert "== printbridge installed" in log
    assert f"python 3.11.2 {ARCH.machine}" in log, log
    cmdline = (boot / "cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and "systemd.run" not in cmdline
    assert "systemd.unit=kernel-command-line.target" not in cmdline
    assert cmdline.split() == [w for w in hooked.split() if not w.startswith("systemd.")]
    assert (root / "opt/printbridge/bin/printbridge").exists()
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "printbridge.service").is_symlink()
    assert (wants / "printbridge-setup.service").is_symlink()
    conf = (root / "etc/printbridge/printbridge.conf").read_text()
    assert "[printer:Office]" in conf and "port = emulated:" in conf
    assert "printbridge:" in (root / "etc/passwd").read_text()
    assert (root / "var/lib/printbridge/users").read_text().startswith("admin:admin:scrypt$")
    assert "first-boot-secret" not in (boot / "printbridge.txt").read_text()
    assert (root / "etc/hostname").read_text() == "pbtest\n"

    # 4. boot it with systemd; a check unit reports from inside and powers off
    (root / "usr/local/lib").mkdir(parents=True, exist_ok=True)
    (root / "usr/local/lib/ipp_probe.py").write_text(IPP_PROBE)
    (root / "usr/local/lib/block.py").write_text(BLOCK)
    (root / "usr/local/lib/frontends.py").write_text(FRONTENDS)
    check = root / "usr/local/bin/pbcheck.sh"
    check.write_text(CHECK)
    check.chmod(0o755)
    (root / "etc/systemd/system/pbcheck.service").write_text(textwrap.dedent(f"""\
        [Unit]
        After=printbridge.service
        Wants=printbridge.service
        [Service]
        Type=oneshot
        ExecStart=/usr/local/bin/pbcheck.sh
        TimeoutStartSec={300 * SLOW}
        """))
    (wants / "pbcheck.service").symlink_to("/etc/systemd/system/pbcheck.service")
    dropin = root / "etc/systemd/system/printbridge.service.d"
    dropin.mkdir()
    (dropin / "test.conf").write_text("[Service]\nEnvironment=PRINTBRIDGE_DEBUG_HOOKS=1\n"
                                      f"WatchdogSec={WATCHDOG_SEC}s\n")
    started = time.monotonic()
    proc = nspawn(root, boot, "--private-network", "-b", timeout=BOOT_TIMEOUT)
    print(f"boot and checks took {time.monotonic() - started:.1f} s")
    result = (boot / "result.txt").read_text() if (boot / "result.txt").exists() else ""
    print(result)
    values = dict(line.split("=", 1) for line in result.splitlines() if "=" in line
                  and not line.startswith(NOT_VALUES))
    assert values.get("active") == "active", result + proc.stdout[-3000:]
    assert values["user"] == "printbridge"
    assert seccomp_ok(values["seccomp-filters"]), result
    assert values["ipp-status"] == "0x0000" and values["ipp-has-office"] == "True"
    failed = {key: values.get(key, "missing") for key in FRONTEND_CHECKS
              if values.get(key) != "ok"}
    failed |= {key: why for key, why in values.items() if why.startswith("FAIL")}
    if failed:  # the daemon's whole journal says why (result.txt has its last lines)
        journal = boot / "printbridge-journal.txt"
        print(journal.read_text() if journal.exists() else "no printbridge-journal.txt")
    assert not failed, "\n".join(f"{key}: {why}" for key, why in failed.items()) + result
    assert values["restarts-before"] == "0"
    assert int(values["restarts-after"]) >= 1 and values["pid-after"] != values["pid-before"]
    assert result.count("ipp-status=0x0000") == 2  # answering again after the restart
    assert f"watchdog timeout (limit {WATCHDOG_SEC}s)" in result.lower()
    assert values["verify-rc"] == "0" and "verify:" not in result, result
    assert values["setup"] == "active"
    # nothing else failed in that boot but known emulation noise (TOLERATED, by name)
    assert "failed-units" in values, result
    units = [line for line in result.splitlines() if line.startswith("failed: ")]
    print(f"tolerated failed units: {len(units)}" if units else "no failed units")
    assert int(values["failed-units"]) == len(units), result
    assert not untolerated(units), "\n".join(untolerated(units)) + "\n" + result


def test_deb_installs_offline_in_nspawn(debian: Path, wheels: Path | None, tmp_path: Path
                                        ) -> None:
    """``make deb`` for amd64 with the same wheels, ``apt install ./printbridge.deb`` in a
    fresh copy of the Debian root without network: installed, provisioned, enabled; and
    ``apt purge`` takes it all away again.  amd64 only: the package's installer is the
    first boot's install.sh, which the emulated runs already cover on arm64 and armhf,
    and another emulated pip install would add many minutes."""
    if wheels is None:
        pytest.skip(f"amd64 only (this run: {ARCH.name})")
    deb = tmp_path / "printbridge.deb"
    proc = subprocess.run(["make", "--no-print-directory", "deb", f"DEB_OUT={deb}",
                           "DEB_ARCH=amd64", f"WHEELHOUSE={wheels}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True, env=make_env())
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(debian), str(root)], check=True)
    shutil.copyfile(deb, root / "var/tmp/printbridge.deb")  # nspawn mounts a tmpfs on /tmp
    empty = tmp_path / "boot"
    empty.mkdir()
    proc = nspawn(root, empty, "--private-network", "sh", "-c",
                  "apt-get install -y -q /var/tmp/printbridge.deb 2>&1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (root / "opt/printbridge/bin/printbridge").exists()
    assert (root / "lib/systemd/system/printbridge.service").exists()
    assert (root / "etc/systemd/system/multi-user.target.wants/printbridge.service").is_symlink()
    assert "[printer:Printbridge]" in (root / "etc/printbridge/printbridge.conf").read_text()
    assert "printbridge:" in (root / "etc/passwd").read_text()
    proc = nspawn(root, empty, "--private-network", "dpkg", "--purge", "printbridge")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (root / "opt/printbridge").exists()
    assert not (root / "lib/systemd/system/printbridge.service").exists()
    assert not (root / "etc/printbridge").exists()


@pytest.mark.timeout(int(120 + 60 * SLOW))
def test_the_pipeline_on_the_architectures_own_numpy(debian: Path, tmp_path: Path) -> None:
    """Every raster driver, and the emulator reading its output back, with the numpy and
    Pillow the target installs: Debian's python3-numpy 1.24 and python3-pil 9.4 (what
    the card's first boot installs on armhf, where numpy's index type is 32 bits; the
    first boot above only converts one JPEG and one test page).  Run from the source tree
    in a copy of the cached root, the packages fetched by its own apt."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(debian), str(root)], check=True)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        ["systemd-nspawn", "-D", str(root), "--register=no", "--keep-unit", "-q",
         f"--bind-ro={ROOT}:/src", f"--bind={out}:/out", "--setenv=PYTHONDONTWRITEBYTECODE=1",
         "sh", "-c", "apt-get install -y -q --no-install-recommends python3-numpy python3-pil"
         " > /out/apt.log 2>&1 || { tail -n 20 /out/apt.log; exit 3; }; "
         "python3 /src/tests/boot/pipeline_check.py /src /out"],
        capture_output=True, text=True, timeout=300 * SLOW)
    lines = proc.stdout.splitlines()
    print("\n".join(lines[:3]))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "numpy 1.24" in lines[0], lines[0]
    if ARCH.name == "armhf":
        assert "intp 32 bits" in lines[0], lines[0]
    ok = [line.split() for line in lines if line.startswith("ok ")]
    assert len(ok) == 5 * 6, proc.stdout  # pcl5, pcl3, escp2, escpos, ps x 6 documents
    assert all(words[-1] in ("1", "-") for words in ok), proc.stdout
