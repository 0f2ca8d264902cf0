"""The daemon end to end through the spool API: printing, crashes, faults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.daemon import ROOT, Daemon, distinct_ports, document, free_port, wait_for


def write_doc(tmp_path: Path, size: int, seed: int = 1, pages: int = 1) -> tuple[Path, bytes]:
    data = document(size, seed, pages)
    path = tmp_path / f"doc-{seed}.prn"
    path.write_bytes(data)
    return path, data


def test_job_arrives_byte_identical(daemon: Daemon, tmp_path: Path) -> None:
    path, data = write_doc(tmp_path, 1_000_000, pages=3)
    job_id = daemon.print_file(path)
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data
    status = daemon.status()
    assert status["counters"]["jobs"] == 1
    assert status["counters"]["impressions"] == 3
    assert status["state"] == "idle"


def test_kill_after_ack_before_print_prints_once(make_daemon: type[Daemon], tmp_path: Path) -> None:
    daemon = make_daemon().start()
    daemon.emulate("offline")  # the printer takes nothing: the job is acknowledged, not printed
    path, data = write_doc(tmp_path, 200_000, seed=2)
    job_id = daemon.print_file(path)
    wait_for(lambda: daemon.status()["state"] == "stopped", what="printer stopped")
    assert daemon.log_events(job_id, "end") == 0
    daemon.kill()
    daemon.start()  # the emulator powers up without the fault
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data
    assert daemon.log_events(job_id, "end") == 1


def test_kill_during_print_reprints_from_start(make_daemon: type[Daemon], tmp_path: Path) -> None:
    daemon = make_daemon(options={"rate": "100000"}).start()
    first, first_data = write_doc(tmp_path, 400_000, seed=3)
    second, second_data = write_doc(tmp_path, 50_000, seed=4)
    job1 = daemon.print_file(first)
    job2 = daemon.print_file(second)
    wait_for(lambda: daemon.job(job1)["bytes_sent"] > 50_000, what="printing under way")
    daemon.kill()
    saved = {j["id"]: j for j in daemon.saved_jobs()}
    assert saved[job1]["state"] == 5 and saved[job2]["state"] == 3
    daemon.start()
    assert "job-restartable" in daemon.job(job1)["reasons"]
    daemon.wait_job(job1)
    daemon.wait_job(job2)
    assert daemon.output(job1) == first_data
    assert daemon.output(job2) == second_data
    assert daemon.log_events(job1, "begin") == 2  # cut off once, printed again from its start
    assert daemon.log_events(job1, "end") == 1
    assert daemon.log_events(job2, "end") == 1


def test_paper_out_mid_job_stops_and_resumes(make_daemon: type[Daemon], tmp_path: Path) -> None:
    daemon = make_daemon(options={"rate": "100000"}).start()
    path, data = write_doc(tmp_path, 300_000, seed=5, pages=2)
    job_id = daemon.print_file(path)
    wait_for(lambda: daemon.job(job_id)["bytes_sent"] > 20_000, what="printing under way")
    daemon.emulate("paper-out")
    wait_for(lambda: daemon.status()["state"] == "stopped", what="printer stopped")
    status = daemon.status()
    assert "media-empty-error" in status["reasons"]
    wait_for(lambda: daemon.job(job_id)["state"] == "processing-stopped", what="job stopped")
    sent = daemon.job(job_id)["bytes_sent"]
    assert 0 < sent < len(data)
    daemon.emulate("clear")
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data  # nothing lost, nothing repeated
    assert daemon.status()["reasons"] == ["none"]
    assert daemon.log_events(job_id, "begin") == 1


def test_jam_stops_the_job_until_cleared(daemon: Daemon, tmp_path: Path) -> None:
    daemon.emulate("jam")
    path, _ = write_doc(tmp_path, 10_000, seed=6)
    job_id = daemon.print_file(path)
    wait_for(lambda: daemon.job(job_id)["state"] == "processing-stopped", what="job stopped")
    assert "media-jam-error" in daemon.status()["reasons"]
    daemon.emulate("clear")
    daemon.wait_job(job_id)


def test_uuid_and_counters_survive_restart(make_daemon: type[Daemon], tmp_path: Path) -> None:
    daemon = make_daemon().start()
    path, _ = write_doc(tmp_path, 1000, seed=7)
    daemon.wait_job(daemon.print_file(path))
    before = daemon.status()
    daemon.stop()
    daemon.start()
    after = daemon.status()
    assert after["uuid"] == before["uuid"]
    assert after["counters"] == before["counters"]


def test_cli_status_and_emulate(daemon: Daemon) -> None:
    def cli(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "firmware", *args, "--state-dir", str(daemon.state_dir)],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout

    assert "Test: idle (none)" in cli("status")
    cli("emulate", "toner", "5")
    wait_for(lambda: "Black Toner 5%" in cli("status"), what="toner level shown")
    cli("emulate", "cover-open")
    wait_for(lambda: "cover-open-error" in cli("status"), what="cover open shown")
    bad = subprocess.run([sys.executable, "-m", "firmware", "emulate", "toner",
                          "--state-dir", str(daemon.state_dir)], cwd=ROOT, capture_output=True)
    assert bad.returncode != 0


def test_make_run_starts_the_emulator(tmp_path: Path) -> None:
    """`make run` as a user types it, then `printbridge status` in a second shell."""
    state = tmp_path / "var"
    ipp, raw, lpd = distinct_ports(3)
    ports = f"--ipp-port {ipp} --snmp-port {free_port()} --raw-port {raw} --lpd-port {lpd}"
    proc = subprocess.Popen(
        ["make", "-s", "run", f"STATE_DIR={state}", f"RUN_FLAGS={ports}",
         f"VENV={Path(sys.executable).parent.parent}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        def status() -> str:
            result = subprocess.run(
                [sys.executable, "-m", "firmware", "status", "--state-dir", str(state)],
                cwd=ROOT, capture_output=True, text=True,
            )
            return result.stdout if result.returncode == 0 else ""

        out = wait_for(status, 60, "make run to come up")
        assert "Printbridge-Emulator: idle (none)" in out
    finally:
        os.killpg(proc.pid, 2)  # Ctrl-C, to the process group make run started
        assert proc.wait(20) == 0 or proc.returncode in (2, -2)


def test_converter_libraries_load_only_for_a_convertible_document(
        daemon: Daemon, tmp_path: Path) -> None:
    """Idle, the daemon has not loaded numpy, Pillow or PDFium (idle memory on a Pi
    Zero); a JPEG job makes it load them, and prints."""
    from tests.samples import sample_jpeg

    def loaded() -> set[str]:
        assert daemon.proc is not None
        maps = Path(f"/proc/{daemon.proc.pid}/maps").read_text()
        # Native parts only are mapped: numpy/ and numpy.libs/, PIL/, pypdfium2_raw/.
        return {lib for lib in ("numpy", "PIL", "pypdfium2") if f"/{lib}" in maps}

    assert loaded() == set()
    job_id = daemon.print_file(sample_jpeg(tmp_path / "photo.jpg"), "image/jpeg")
    daemon.wait_job(job_id)
    assert {"numpy", "PIL", "pypdfium2"} <= loaded()


def test_cli_prints_a_file_only_the_caller_can_see(daemon: Daemon, tmp_path: Path) -> None:
    """``printbridge print`` sends the document over the admin socket: a file in the
    caller's private /tmp (the service has PrivateTmp=, so it would not see it by name)
    prints, byte for byte.  Here the file lives on a tmpfs mounted in a mount namespace
    of the caller's own, which the daemon cannot see."""
    data = document(300_000, seed=21)
    (tmp_path / "src.prn").write_bytes(data)
    hidden = tmp_path / "private"
    hidden.mkdir()
    script = (f"mount -t tmpfs tmpfs {hidden} && cp {tmp_path / 'src.prn'} {hidden}/doc.prn "
              f"&& {sys.executable} -m firmware print {hidden}/doc.prn "
              f"--state-dir {daemon.state_dir}")
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not (hidden / "doc.prn").exists()  # really out of the daemon's sight
    job_id = int(proc.stdout.split()[1])
    daemon.wait_job(job_id)
    assert daemon.output(job_id) == data
    assert daemon.job(job_id)["name"] == "doc.prn"


def test_admin_print_cut_short_keeps_nothing(daemon: Daemon) -> None:
    """A document that ends before its announced size is refused and its bytes are not
    kept; the daemon no longer opens paths it is sent."""
    import json
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(daemon.state_dir / "printbridge.sock"))
        sock.sendall(json.dumps({"command": "print", "size": 100_000}).encode() + b"\n")
        sock.sendall(b"x" * 1000)
        sock.shutdown(socket.SHUT_WR)
        reply = json.loads(sock.makefile().readline())
    assert reply["ok"] is False and "short" in reply["error"]
    jobs = daemon.status()["jobs"]  # the job is on record as aborted, its bytes are not
    assert [(j["state"], j["size"]) for j in jobs] == [("aborted", 0)]
    assert not list((daemon.state_dir / "spool").glob("*.doc*"))
    path_request = {"command": "print", "path": "/etc/hostname"}
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(daemon.state_dir / "printbridge.sock"))
        sock.sendall(json.dumps(path_request).encode() + b"\n")
        reply = json.loads(sock.makefile().readline())
    assert reply["ok"] is False and "size" in reply["error"]
    assert len(daemon.status()["jobs"]) == 1
