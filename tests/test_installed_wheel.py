"""The wheel as users get it: everything the daemon reads at run time is inside it, and a
daemon installed from it answers on every front end.

The wheel is built from a copy of the working tree (tracked and untracked files that git
does not ignore, so uncommitted changes count and no ``build/`` or ``*.egg-info`` appears
in the tree), installed with its dependencies into a fresh venv outside the tree (no
``-e``, no ``PYTHONPATH``), and run from a directory outside the tree.  Then each front
end is used once: every web page and the files they reference, IPP (ipptool), SNMP
(snmpget), raw 9100, LPD, the admin socket (``printbridge status`` / ``print``) and
``printbridge probe``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon import ROOT, Daemon, document, wait_for
from tests.snmp import netsnmp
from tests.web.browser import Browser

PASSWORD = "correct horse battery"
PAGES = {"/": "Status", "/jobs": "Queue", "/settings": "Printer settings",
         "/network": "Host name", "/security": "Administrator password",
         "/maintenance": "Maintenance", "/login": "Log in"}
IPPTOOL_TESTS = Path("/usr/share/cups/ipptool")
#: Installed as data files (setup.cfg [options.data_files]): tree directory → where in
#: the install prefix the daemon (firmware/boards.py, firmware/image/provision.py) looks.
DATA_FILES = {"boards": ("share/printbridge/boards", ".toml"),
              "systemd": ("share/printbridge/systemd", ".service")}


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would let the installed code see
    the work tree or the dev venv (PYTHONPATH, VIRTUAL_ENV, PRINTBRIDGE_* overrides)."""
    dev_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PRINTBRIDGE_")) and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and p != dev_bin and not p.startswith(str(ROOT)))
    return env


def tree_files() -> list[str]:
    """Files of the working tree as the wheel should see them: tracked and untracked, not
    ignored, not deleted."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    return sorted({p for p in listed.split("\0") if p and (ROOT / p).is_file()})


def expected_data(files: list[str], data_dir: str) -> dict[str, str]:
    """Every non-Python file under firmware/ and hal/, and the data files setup.cfg
    installs under the prefix: tree path → path in the wheel."""
    wanted = {}
    for path in files:
        top, _, rest = path.partition("/")
        if top in ("firmware", "hal") and not path.endswith((".py", ".pyc")):
            wanted[path] = path
        elif top in DATA_FILES and "/" not in rest and rest.endswith(DATA_FILES[top][1]):
            wanted[path] = f"{data_dir}/data/{DATA_FILES[top][0]}/{rest}"
    return wanted


def run(argv: list[str | Path], cwd: Path, timeout: float = 120, input: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=clean_env(), input=input,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv} exited {result.returncode}:\n{result.stdout}\n"
                             f"{result.stderr}")
    return result


@dataclass
class Installed:
    wheel: Path
    venv: Path
    work: Path  # the current directory of everything run from the install
    files: list[str]  # the tree's files the wheel was built from

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("installed-wheel")
    assert not base.resolve().is_relative_to(ROOT)
    try:
        src, dist, work = base / "src", base / "dist", base / "work"
        work.mkdir()
        files = tree_files()
        for path in files:
            (src / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, src / path)
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src], base)
        shutil.rmtree(src)  # with the build/ and egg-info the build left there
        (wheel,) = dist.glob("printbridge-*.whl")
        run([sys.executable, "-m", "venv", base / "venv"], base)
        run([base / "venv" / "bin" / "python", "-m", "pip", "install", "-q", wheel], base,
            timeout=300)
        yield Installed(wheel, base / "venv", work, files)
    finally:
        shutil.rmtree(base, ignore_errors=True)


class InstalledDaemon(Daemon):
    """tests.daemon.Daemon, but started as the venv's ``printbridge`` console script, from
    a directory outside the tree and with the cleaned environment."""

    def __init__(self, installed: Installed, state_dir: Path, **kwargs: object) -> None:
        super().__init__(state_dir, **kwargs)  # type: ignore[arg-type]
        self.installed = installed

    def start(self) -> InstalledDaemon:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.installed.bin / "printbridge"), "-v", "run",
                 "--config", str(self.config),
                 "--ipp-port", str(self.ipp_port), "--snmp-port", str(self.snmp_port),
                 "--raw-port", str(self.raw_port), "--lpd-port", str(self.lpd_port)],
                cwd=self.installed.work, env=clean_env(), stdout=log,
                stderr=subprocess.STDOUT)
        wait_for(self._ready, 30, "installed daemon to start")
        return self


@pytest.fixture(scope="module")
def daemon(installed: Installed) -> Iterator[InstalledDaemon]:
    d = InstalledDaemon(installed, installed.work / "state",
                        extra_config="[snmp]\ncommunities = public\n")
    run([installed.bin / "printbridge", "passwd", "admin", "--stdin", "--config", d.config],
        installed.work, input=PASSWORD)
    try:
        yield d.start()
    finally:
        d.stop()


def new_completed_job(daemon: Daemon, seen: set[int], timeout: float = 30) -> int:
    def done() -> int | None:
        for job in daemon.status()["jobs"]:
            if job["state"] == "completed" and int(job["id"]) not in seen:
                return int(job["id"])
        return None
    job_id: int = wait_for(done, timeout, "a new completed job")
    seen.add(job_id)
    return job_id


def job_ids(daemon: Daemon) -> set[int]:
    return {int(j["id"]) for j in daemon.status()["jobs"]}


# -- the wheel


def test_wheel_carries_every_run_time_data_file(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
    (data_dir,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".data")}
    wanted = expected_data(installed.files, data_dir)
    assert "firmware/web/templates/status.html" in wanted  # the list is the tree's
    assert "boards/emulator.toml" in wanted and "hal/quirks.toml" in wanted
    missing = sorted(path for path, member in wanted.items() if member not in names)
    assert not missing, f"not in {installed.wheel.name}: {missing}"
    modules = {p for p in installed.files
               if p.startswith(("firmware/", "hal/")) and p.endswith(".py")}
    assert not sorted(modules - names), "modules missing from the wheel"


def test_installed_daemon_runs_from_the_venv(installed: Installed,
                                             daemon: InstalledDaemon) -> None:
    assert daemon.proc is not None
    site = installed.venv / "lib"
    found = run([installed.bin / "python", "-c",
                 "import firmware, hal, firmware.boards as b; print(firmware.__file__); "
                 "print(hal.__file__); print(*b.board_dirs(), sep='\\n')"],
                installed.work).stdout.split()
    assert len(found) >= 3
    for path in found:
        assert Path(path).is_relative_to(installed.venv), path
        assert not Path(path).resolve().is_relative_to(ROOT), path
    for pth in site.glob("python*/site-packages/*.pth"):
        assert str(ROOT) not in pth.read_text(), f"{pth} points into the work tree"
    assert not list(site.glob("python*/site-packages/__editable__*"))
    # The process itself: the venv's console script, no file of the tree or dev venv mapped.
    pid = daemon.proc.pid
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[1].decode() == str(installed.bin / "printbridge"), cmdline
    assert cmdline[0].decode().startswith(str(installed.bin)), cmdline
    assert str(ROOT) not in Path(f"/proc/{pid}/maps").read_text()
    assert not Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(ROOT)
    assert "PYTHONPATH" not in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")


# -- the front ends


def test_every_web_page_and_what_it_references(daemon: InstalledDaemon) -> None:
    browser = Browser(daemon.ipp_port)
    referenced: set[str] = set()
    for path, text in PAGES.items():
        status, ctype, body, _ = browser.fetch(path)
        assert (status, ctype) == (200, "text/html"), (path, status, body[:300], daemon.log())
        page = body.decode()
        assert text in page and daemon.printer in page, path
        referenced |= set(re.findall(r'<(?:link|img|script)\b[^>]*?(?:href|src)="(/[^"?]*)"',
                                     page))
    assert {"/static/style.css", "/favicon.ico", "/icon-48.png"} <= referenced
    types = {".css": "text/css", ".png": "image/", ".ico": "image/"}
    for path in sorted(referenced):
        status, ctype, body, _ = browser.fetch(path)
        assert status == 200 and body, (path, status, daemon.log())
        assert ctype.startswith(types.get(Path(path).suffix, "")), (path, ctype)
    # Logged in: the admin forms, the log download, and a test page that prints.
    seen = job_ids(daemon)
    status, _, _, _ = browser.fetch("/login", {"user": "admin", "password": PASSWORD,
                                              "next": "/maintenance"})
    assert status == 303
    status, ctype, body, _ = browser.fetch("/maintenance")
    assert (status, ctype) == (200, "text/html")
    match = re.search(rb'name="csrf" value="([^"]+)"', body)
    assert match, "no CSRF token on the maintenance page: not logged in?"
    status, ctype, body, _ = browser.fetch("/maintenance/log")
    assert (status, ctype) == (200, "text/plain") and body
    status, _, _, _ = browser.fetch("/maintenance/test-page", {"csrf": match[1].decode()})
    assert status == 303
    new_completed_job(daemon, seen)


def ipptool(daemon: InstalledDaemon, test: str, *args: str) -> str:
    result = run(["ipptool", "-tv", "-T", "30", *args, daemon.uri, IPPTOOL_TESTS / test],
                 daemon.installed.work, check=False)
    assert result.returncode == 0, f"{test}:\n{result.stdout[-3000:]}\n{result.stderr}"
    return result.stdout


def test_ipp_attributes_and_jobs(daemon: InstalledDaemon) -> None:
    text = ipptool(daemon, "get-printer-attributes.test")
    assert "printer-make-and-model" in text and "ipp-versions-supported" in text
    seen = job_ids(daemon)
    work = daemon.installed.work
    data = document(40_000, seed=71, pages=2)
    (work / "ipp-job.prn").write_bytes(data)  # .prn: application/octet-stream, as is
    ipptool(daemon, "print-job.test", "-f", str(work / "ipp-job.prn"))
    assert daemon.output(new_completed_job(daemon, seen)) == data
    # A JPEG is converted (numpy and Pillow, as installed from the wheel's requirements).
    from PIL import Image

    jpeg = io.BytesIO()
    Image.new("L", (300, 200), 128).save(jpeg, "JPEG")
    (work / "photo.jpg").write_bytes(jpeg.getvalue())
    ipptool(daemon, "print-job.test", "-f", str(work / "photo.jpg"))
    job_id = new_completed_job(daemon, seen)
    assert daemon.output(job_id).startswith(b"\x1b")  # PCL, not the JPEG
    assert (daemon.state_dir / "output" / str(job_id) / "page-1.png").is_file()


def snmp(daemon: InstalledDaemon, tool: str, *args: str) -> list[tuple[tuple[int, ...], str]]:
    """A net-snmp tool (numeric OIDs, no MIB files) with its state in the test's directory."""
    state = daemon.installed.work / "netsnmp"
    state.mkdir(exist_ok=True)
    env = dict(clean_env(), SNMPCONFPATH=str(state), SNMP_PERSISTENT_DIR=str(state), MIBS="",
               MIBDIRS=str(state), HOME=str(state))
    result = subprocess.run([tool, *netsnmp.V2C, "-On", "-t", "2", "-r", "1",
                             f"127.0.0.1:{daemon.snmp_port}", *args], cwd=daemon.installed.work,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{tool} {args}: {result.stderr}"
    return netsnmp.parse(result.stdout)[0]


def test_snmp(daemon: InstalledDaemon) -> None:
    values = dict(snmp(daemon, "snmpget", ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.25.3.2.1.3.1"))
    assert values[(1, 3, 6, 1, 2, 1, 1, 1, 0)].startswith("STRING:"), values
    assert "Printbridge Test Laser" in values[(1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, 1)], values
    assert len(snmp(daemon, "snmpbulkwalk", "-Ox", ".1.3.6.1.2.1.43")) > 20  # Printer MIB


def test_raw_9100_and_lpd_jobs(daemon: InstalledDaemon) -> None:
    seen = job_ids(daemon)
    raw = document(60_000, seed=72)
    with socket.create_connection(("127.0.0.1", daemon.raw_port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""
    assert daemon.output(new_completed_job(daemon, seen)) == raw

    data = document(5000, seed=73)
    control = b"Hhost1\nPalice\nJinstalled lpd\nldfA001host1\nNlpd.txt\n"
    with socket.create_connection(("127.0.0.1", daemon.lpd_port), timeout=10) as sock:
        for part in (b"\x02lp\n", b"\x03%d dfA001host1\n" % len(data), data + b"\x00",
                     b"\x02%d cfA001host1\n" % len(control), control + b"\x00"):
            sock.sendall(part)
            assert sock.recv(1) == b"\x00", part[:20]
    job_id = new_completed_job(daemon, seen)
    assert daemon.output(job_id) == data
    assert daemon.job(job_id)["user"] == "alice"


def test_admin_socket(daemon: InstalledDaemon) -> None:
    installed = daemon.installed
    cli = [installed.bin / "printbridge"]
    text = run([*cli, "status", "--state-dir", daemon.state_dir], installed.work).stdout
    assert f"Printer {daemon.printer}: idle" in text, text
    assert f":{daemon.ipp_port}/" in text
    seen = job_ids(daemon)
    data = document(3000, seed=74)
    (installed.work / "admin.prn").write_bytes(data)
    reply = run([*cli, "print", installed.work / "admin.prn", "--state-dir", daemon.state_dir],
                installed.work).stdout
    assert re.fullmatch(r"job \d+ accepted\n", reply), reply
    assert daemon.output(new_completed_job(daemon, seen)) == data


def test_probe(installed: Installed) -> None:
    text = run([installed.bin / "printbridge", "probe"], installed.work, timeout=60).stdout
    assert "found (usb, usblp, parallel)" in text, text
    out = installed.work / "probe-output"
    text = run([installed.bin / "printbridge", "probe", "emulated:", "-o", f"output={out}"],
               installed.work, timeout=60).stdout
    assert "conditions ready" in text and "driver     pcl5" in text, text
