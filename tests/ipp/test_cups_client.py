"""CUPS as a real client: a private cupsd builds its driverless PPD from our attributes
(`lpadmin -m everywhere`) and prints a PDF and a JPEG through us."""

from __future__ import annotations

from pathlib import Path

from tests.cups import PrivateCups
from tests.daemon import Daemon, wait_for
from tests.samples import sample_jpeg, sample_pdf


def driverless_ppd(cups: PrivateCups, queue: str) -> str:
    """The PPD cupsd builds from Get-Printer-Attributes after lpadmin returns; a job
    sent before it is there can fail."""
    path = cups.server_root / "ppd" / f"{queue}.ppd"
    wait_for(lambda: "*PageSize" in (path.read_text(errors="replace") if path.exists() else ""),
             30, f"the PPD of {queue}")
    return path.read_text(errors="replace")


def test_lpadmin_everywhere_and_lp(make_daemon: type[Daemon], tmp_path: Path) -> None:
    daemon = make_daemon(options={"rate": "0"}).start()
    pdf = sample_pdf(tmp_path / "doc.pdf", "a4", 2)
    jpeg = sample_jpeg(tmp_path / "photo.jpg")
    with PrivateCups() as cups:
        cups.run("lpadmin", "-p", "T", "-E", "-v", daemon.uri, "-m", "everywhere")
        ppd = driverless_ppd(cups, "T")
        assert "*Manufacturer: \"Printbridge\"" in ppd, ppd[:600]  # from our attributes
        assert "*PageSize A4" in ppd and "*PageSize Letter" in ppd  # from media-supported
        cups.run("lp", "-d", "T", "-t", "pdf-job", str(pdf))
        cups.run("lp", "-d", "T", "-t", "jpeg-job", str(jpeg))
        assert cups.wait_idle(120), cups.error_log()

        def arrived() -> list[dict[str, object]]:
            jobs = [j for j in daemon.status()["jobs"] if j["state"] == "completed"]
            return jobs if len(jobs) >= 2 else []

        jobs = wait_for(arrived, 60, "both CUPS jobs to print")
        names = {str(j["name"]) for j in jobs}
        assert {"pdf-job", "jpeg-job"} <= names, names
        for job in jobs:
            assert len(daemon.output(int(job["id"]))) > 100  # something real reached paper


def test_cups_prints_over_ipps(make_daemon: type[Daemon], tmp_path: Path) -> None:
    """CUPS's ipp backend over TLS (self-signed: trusted on first use), a job end to end."""
    daemon = make_daemon(options={"rate": "0"}).start()
    pdf = sample_pdf(tmp_path / "doc.pdf", "a4", 1)
    with PrivateCups() as cups:
        cups.run("lpadmin", "-p", "S", "-E", "-v", daemon.uri.replace("ipp://", "ipps://"),
                 "-m", "everywhere")
        driverless_ppd(cups, "S")
        cups.run("lp", "-d", "S", "-t", "tls-job", str(pdf))
        assert cups.wait_idle(120), cups.error_log()
        try:
            job = wait_for(lambda: [j for j in daemon.status()["jobs"]
                                    if j["state"] == "completed"], 60, "the job over ipps")[0]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{cups.error_log()}\n{daemon.log()}") from None
        assert job["name"] == "tls-job"
        assert len(daemon.output(int(job["id"]))) > 100
