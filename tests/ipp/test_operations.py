"""IPP operations over a real socket against a running daemon, beyond what CUPS's suites
check: documents reach the printer intact, queue control changes what prints and when,
and state changes are visible through notifications (RFC 8011, RFC 3380, RFC 3995/3996,
RFC 3998, PWG 5100.5/5100.11)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.ipp import DelimiterTag, Message, Operation, Status, ValueTag, make_attribute
from tests.daemon import ROOT, Daemon, document, wait_for
from tests.ipp.client import Response, request, send

OK = Status.SUCCESSFUL_OK


ADMIN = ("admin", "operator secret")

#: Operations the admin group performs (they are refused to anyone else).
ADMIN_OPS = {Operation.PAUSE_PRINTER, Operation.RESUME_PRINTER, Operation.PURGE_JOBS,
             Operation.SET_PRINTER_ATTRIBUTES, Operation.ENABLE_PRINTER,
             Operation.DISABLE_PRINTER, Operation.HOLD_NEW_JOBS, Operation.RELEASE_HELD_NEW_JOBS,
             Operation.CANCEL_JOBS, Operation.CANCEL_CURRENT_JOB, Operation.PROMOTE_JOB,
             Operation.SCHEDULE_JOB_AFTER, Operation.SUSPEND_CURRENT_JOB,
             Operation.REPROCESS_JOB}


def add_admin(daemon: Daemon) -> None:
    subprocess.run([sys.executable, "-m", "firmware", "passwd", ADMIN[0], "--admin", "--stdin",
                    "--config", str(daemon.config)], input=ADMIN[1], text=True, check=True,
                   cwd=ROOT, capture_output=True)


class Client:
    """Sends as the user 'tester' in the clear, and as the administrator over TLS."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def __call__(self, op: Operation, *, job: dict[str, Any] | None = None,
                 data: bytes = b"", group: tuple[DelimiterTag, dict[str, Any]] | None = None,
                 **attrs: Any) -> Response:
        msg = request(op, self.daemon.uri, **attrs)
        if job:
            jg = msg.add_group(DelimiterTag.JOB)
            for name, value in job.items():
                jg.append(make_attribute(name, value))
        if group:
            g = msg.add_group(group[0])
            for name, value in group[1].items():
                g.append(make_attribute(name, value))
        if op in ADMIN_OPS:
            return send(self.daemon.ipp_port, msg, data, tls=True, auth=ADMIN)
        return send(self.daemon.ipp_port, msg, data)

    def print_job(self, data: bytes, **attrs: Any) -> int:
        attrs.setdefault("document_format", "application/octet-stream")
        reply = self(Operation.PRINT_JOB, data=data, **attrs)
        assert reply.status == OK, reply.find("status-message")
        return int(reply.find("job-id")[0])

    def job_state(self, job_id: int) -> int:
        reply = self(Operation.GET_JOB_ATTRIBUTES, job_id=job_id,
                     requested_attributes=["job-state"])
        return int(reply.find("job-state")[0])

    def wait_state(self, job_id: int, state: int, timeout: float = 20) -> None:
        wait_for(lambda: self.job_state(job_id) == state, timeout, f"job {job_id} state {state}")


def admin_daemon(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Daemon]:
    """A module's daemon with an administrator and no rate limit (the body of the
    ``server`` fixtures here and in the tests that share this client)."""
    daemon = Daemon(tmp_path_factory.mktemp(name), options={"rate": "200000"})
    add_admin(daemon)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    yield from admin_daemon(tmp_path_factory, "ops")


@pytest.fixture
def ipp(server: Daemon) -> Iterator[Client]:
    client = Client(server)
    yield client
    # Leave the printer as the next test expects it.
    server.emulate("clear")
    client(Operation.RESUME_PRINTER)
    client(Operation.RELEASE_HELD_NEW_JOBS)
    client(Operation.ENABLE_PRINTER)
    client(Operation.CANCEL_JOBS)


def test_print_job_gzip_and_deflate_arrive_decompressed(ipp: Client, server: Daemon) -> None:
    data = document(50_000, seed=11)
    ids = [
        ipp.print_job(gzip.compress(data), compression="gzip"),
        ipp.print_job(zlib.compress(data)[2:-4], compression="deflate"),  # raw RFC 1951
        ipp.print_job(zlib.compress(data), compression="deflate"),  # zlib-wrapped
    ]
    for job_id in ids:
        ipp.wait_state(job_id, 9)
        assert server.output(job_id) == data
    bad = ipp(Operation.PRINT_JOB, data=b"not gzip at all", compression="gzip",
              document_format="application/octet-stream")
    assert bad.status == Status.CLIENT_ERROR_COMPRESSION_ERROR
    assert ipp(Operation.PRINT_JOB, data=b"x", compression="compress").status == (
        Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED)


def test_create_job_send_documents_close(ipp: Client, server: Daemon) -> None:
    reply = ipp(Operation.CREATE_JOB, job_name="two parts")
    assert reply.status == OK
    job_id = int(reply.find("job-id")[0])
    one, two = document(20_000, seed=12), document(30_000, seed=13)
    assert ipp(Operation.SEND_DOCUMENT, job_id=job_id, last_document=False, data=one,
               document_format="application/octet-stream").status == OK
    assert ipp.job_state(job_id) == 3  # pending, still incoming
    assert ipp(Operation.SEND_DOCUMENT, job_id=job_id, last_document=False, data=two,
               document_format="application/octet-stream").status == OK
    docs = ipp(Operation.GET_DOCUMENTS, job_id=job_id, requested_attributes=["all"])
    assert docs.find("document-number") == [1]  # first group; two groups in all
    assert len(docs.message.groups_of(DelimiterTag.DOCUMENT)) == 2  # type: ignore[union-attr]
    assert ipp(Operation.CLOSE_JOB, job_id=job_id).status == OK
    ipp.wait_state(job_id, 9)
    assert server.output(job_id) == one + two
    assert ipp(Operation.SEND_DOCUMENT, job_id=job_id, last_document=True, data=b"x",
               document_format="application/octet-stream").status == (
        Status.CLIENT_ERROR_NOT_POSSIBLE)


def test_fidelity_and_unsupported_values(ipp: Client) -> None:
    strict = ipp(Operation.VALIDATE_JOB, ipp_attribute_fidelity=True,
                 job={"media": "iso_a0_841x1189mm", "copies": 5})
    assert strict.status == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    unsupported = strict.message.group(DelimiterTag.UNSUPPORTED)  # type: ignore[union-attr]
    assert unsupported is not None and "media" in unsupported and "copies" not in unsupported
    lenient = ipp(Operation.VALIDATE_JOB, job={"media": "iso_a0_841x1189mm"})
    assert lenient.status == Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    assert ipp(Operation.VALIDATE_JOB, job={"media": "na_letter_8.5x11in", "copies": 2,
                                            "sides": "one-sided"}).status == OK
    fmt = ipp(Operation.VALIDATE_JOB, document_format="application/x-unknown")
    assert fmt.status == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED
    both = ipp(Operation.VALIDATE_JOB, job={
        "media": "iso_a4_210x297mm",
        "media-col": {"media-size": {"x-dimension": 21000, "y-dimension": 29700}}})
    assert both.status == Status.CLIENT_ERROR_CONFLICTING_ATTRIBUTES


def test_hold_release_and_job_attributes_echo(ipp: Client, server: Daemon) -> None:
    job_id = ipp.print_job(document(1000, seed=14), job={"job-hold-until": "indefinite",
                                                          "copies": 3})
    assert ipp.job_state(job_id) == 4  # pending-held
    attrs = ipp(Operation.GET_JOB_ATTRIBUTES, job_id=job_id)
    assert attrs.find("copies") == [3]
    assert attrs.find("job-originating-user-name") == ["tester"]
    assert ipp(Operation.SET_JOB_ATTRIBUTES, job_id=job_id,
               group=(DelimiterTag.JOB, {"job-name": "renamed"})).status == OK
    assert ipp(Operation.SET_JOB_ATTRIBUTES, job_id=job_id,
               group=(DelimiterTag.JOB, {"copies": 2})).status == (
        Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE)
    assert ipp(Operation.RELEASE_JOB, job_id=job_id).status == OK
    ipp.wait_state(job_id, 9)
    names = ipp(Operation.GET_JOB_ATTRIBUTES, job_id=job_id, requested_attributes=["job-name"])
    assert names.find("job-name") == ["renamed"]
    assert ipp(Operation.RELEASE_JOB, job_id=job_id).status == Status.CLIENT_ERROR_NOT_POSSIBLE


def test_pause_promote_and_schedule(ipp: Client, server: Daemon) -> None:
    assert ipp(Operation.PAUSE_PRINTER).status == OK
    state = ipp(Operation.GET_PRINTER_ATTRIBUTES, requested_attributes=["printer-state",
                                                                        "printer-state-reasons"])
    assert state.find("printer-state") == [5] and "paused" in state.find("printer-state-reasons")
    a, b, c = (ipp.print_job(document(2000, seed=s)) for s in (15, 16, 17))
    assert ipp(Operation.PROMOTE_JOB, job_id=c).status == OK
    assert ipp(Operation.SCHEDULE_JOB_AFTER, job_id=a, job_id_after=b).status == OK
    assert ipp(Operation.RESUME_PRINTER).status == OK
    for job_id in (a, b, c):
        ipp.wait_state(job_id, 9)
    begun = [int(e[1]) for e in server.printer_log() if e[0] == "begin"]
    assert [j for j in begun if j in (a, b, c)] == [c, b, a]


def test_hold_new_jobs_and_disable(ipp: Client) -> None:
    assert ipp(Operation.HOLD_NEW_JOBS).status == OK
    job_id = ipp.print_job(document(1000, seed=18))
    assert ipp.job_state(job_id) == 4
    assert ipp(Operation.RELEASE_HELD_NEW_JOBS).status == OK
    ipp.wait_state(job_id, 9)
    assert ipp(Operation.DISABLE_PRINTER).status == OK
    refused = ipp(Operation.PRINT_JOB, data=b"x", document_format="application/octet-stream")
    assert refused.status == Status.SERVER_ERROR_NOT_ACCEPTING_JOBS
    assert ipp(Operation.ENABLE_PRINTER).status == OK
    ipp.print_job(b"x")


def test_cancel_suspend_resume_and_reprint(ipp: Client, server: Daemon) -> None:
    data = document(300_000, seed=19)  # 1.5 s at the emulator's 200 kB/s
    job_id = ipp.print_job(data)
    wait_for(lambda: server.job(job_id)["bytes_sent"] > 0, 10, "printing")
    assert ipp(Operation.SUSPEND_CURRENT_JOB).status == OK
    ipp.wait_state(job_id, 6)
    sent = server.job(job_id)["bytes_sent"]
    assert ipp(Operation.RESUME_JOB, job_id=job_id).status == OK
    ipp.wait_state(job_id, 9)
    assert server.output(job_id) == data and sent < len(data)
    assert ipp(Operation.CANCEL_JOB, job_id=job_id).status == Status.CLIENT_ERROR_NOT_POSSIBLE
    # Restart-Job prints the same job again; Reprocess-Job makes a new one.
    assert ipp(Operation.RESTART_JOB, job_id=job_id).status == OK
    ipp.wait_state(job_id, 9)
    assert server.log_events(job_id, "end") == 2
    copy = ipp(Operation.REPROCESS_JOB, job_id=job_id)
    assert copy.status == OK
    copy_id = int(copy.find("job-id")[0])
    assert copy_id != job_id
    ipp.wait_state(copy_id, 9)
    assert server.output(copy_id) == data
    # Cancel mid-print: the printer is reset and the next job prints cleanly.
    long_id = ipp.print_job(document(600_000, seed=20))
    wait_for(lambda: server.job(long_id)["bytes_sent"] > 0, 10, "printing")
    assert ipp(Operation.CANCEL_CURRENT_JOB).status == OK
    ipp.wait_state(long_id, 7)
    assert server.log_events(long_id, "cancel") == 1
    after = document(1000, seed=21)
    next_id = ipp.print_job(after)
    ipp.wait_state(next_id, 9)
    assert server.output(next_id) == after


def test_cancel_document_and_my_jobs(ipp: Client) -> None:
    ipp(Operation.PAUSE_PRINTER)
    reply = ipp(Operation.CREATE_JOB)
    job_id = int(reply.find("job-id")[0])
    for seed, last in ((22, False), (23, True)):
        ipp(Operation.SEND_DOCUMENT, job_id=job_id, last_document=last,
            data=document(500, seed=seed), document_format="application/octet-stream")
    assert ipp(Operation.CANCEL_DOCUMENT, job_id=job_id, document_number=1).status == OK
    doc = ipp(Operation.GET_DOCUMENT_ATTRIBUTES, job_id=job_id, document_number=1)
    assert doc.find("document-state") == [7]
    mine = ipp.print_job(b"mine")
    other_msg = request(Operation.PRINT_JOB, ipp.daemon.uri, user="someone-else",
                        document_format="application/octet-stream")
    other = int(send(ipp.daemon.ipp_port, other_msg, b"theirs").find("job-id")[0])
    assert ipp(Operation.CANCEL_MY_JOBS).status == OK
    assert ipp.job_state(mine) == 7 and ipp.job_state(job_id) == 7
    assert ipp.job_state(other) == 3
    listed = ipp(Operation.GET_JOBS, my_jobs=True, which_jobs="all", requested_attributes=[
        "job-id", "job-originating-user-name"])
    assert set(listed.find("job-originating-user-name")) == {"tester"}


def test_set_printer_attributes_persists(make_daemon: type[Daemon]) -> None:
    daemon = make_daemon()
    add_admin(daemon)
    daemon.start()
    ipp = Client(daemon)
    reply = ipp(Operation.SET_PRINTER_ATTRIBUTES, group=(DelimiterTag.PRINTER, {
        "printer-location": "Room 42", "printer-info": "Front desk laser"}))
    assert reply.status == OK
    refused = ipp(Operation.SET_PRINTER_ATTRIBUTES, group=(DelimiterTag.PRINTER, {
        "printer-name": "Renamed"}))
    assert refused.status == Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE
    daemon.stop()
    daemon.start()
    attrs = Client(daemon)(Operation.GET_PRINTER_ATTRIBUTES, requested_attributes=[
        "printer-location", "printer-info", "printer-name"])
    assert attrs.find("printer-location") == ["Room 42"]
    assert attrs.find("printer-info") == ["Front desk laser"]
    assert attrs.find("printer-name") == ["Test"]


def _subscribe(ipp: Client, op: Operation, events: list[str], **attrs: Any) -> int:
    msg = request(op, ipp.daemon.uri, **attrs)
    sub = msg.add_group(DelimiterTag.SUBSCRIPTION)
    sub.add("notify-pull-method", ValueTag.KEYWORD, "ippget")
    sub.add("notify-events", ValueTag.KEYWORD, events)
    reply = send(ipp.daemon.ipp_port, msg)
    assert reply.status == OK, reply.find("status-message")
    return int(reply.find("notify-subscription-id")[0])


def _events(reply: Response) -> list[dict[str, Any]]:
    assert reply.message is not None
    return [{a.name: a.values if len(a.values) > 1 else a.value for a in g.attributes}
            for g in reply.message.groups_of(DelimiterTag.EVENT_NOTIFICATION)]


def test_subscriptions_and_notifications(ipp: Client, server: Daemon) -> None:
    printer_sub = _subscribe(ipp, Operation.CREATE_PRINTER_SUBSCRIPTIONS,
                             ["printer-state-changed", "job-completed"])
    job_id = ipp.print_job(document(1000, seed=24))
    ipp.wait_state(job_id, 9)
    server.emulate("paper-out")
    wait_for(lambda: "media-empty-error" in server.status()["reasons"], 10, "paper out")
    server.emulate("clear")
    wait_for(lambda: server.status()["reasons"] == ["none"], 10, "cleared")
    reply = ipp(Operation.GET_NOTIFICATIONS, notify_subscription_ids=[printer_sub])
    assert reply.status == OK
    events = _events(reply)
    kinds = [e["notify-subscribed-event"] for e in events]
    assert "job-completed" in kinds and "printer-state-changed" in kinds
    assert any(e.get("job-id") == job_id and e.get("job-state") == 9 for e in events)
    assert any("media-empty-error" in (e.get("printer-state-reasons") or []) for e in events)
    sequence = [e["notify-sequence-number"] for e in events]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
    # Only newer events after the last sequence number seen.
    again = ipp(Operation.GET_NOTIFICATIONS, notify_subscription_ids=[printer_sub],
                notify_sequence_numbers=[max(sequence) + 1])
    assert _events(again) == []
    # A job subscription ends with its job: events-complete.
    ipp(Operation.PAUSE_PRINTER)
    held = ipp.print_job(document(500, seed=25))
    job_sub = _subscribe(ipp, Operation.CREATE_JOB_SUBSCRIPTIONS, ["job-completed"],
                         notify_job_id=held)
    ipp(Operation.RESUME_PRINTER)
    ipp.wait_state(held, 9)
    done = ipp(Operation.GET_NOTIFICATIONS, notify_subscription_ids=[job_sub])
    assert done.status == Status.SUCCESSFUL_OK_EVENTS_COMPLETE
    assert [e["job-id"] for e in _events(done)] == [held]
    attrs = ipp(Operation.GET_SUBSCRIPTION_ATTRIBUTES, notify_subscription_id=printer_sub)
    assert attrs.find("notify-events") == ["job-completed", "printer-state-changed"]
    assert ipp(Operation.CANCEL_SUBSCRIPTION, notify_subscription_id=printer_sub).status == OK
    assert ipp(Operation.GET_SUBSCRIPTION_ATTRIBUTES,
               notify_subscription_id=printer_sub).status == Status.CLIENT_ERROR_NOT_FOUND


def test_identify_and_get_jobs_filters(ipp: Client) -> None:
    assert ipp(Operation.IDENTIFY_PRINTER, identify_actions=["flash"]).status == OK
    reasons = ipp(Operation.GET_PRINTER_ATTRIBUTES,
                  requested_attributes=["printer-state-reasons"]).find("printer-state-reasons")
    assert "identify-printer-requested" in reasons
    done = ipp(Operation.GET_JOBS, which_jobs="completed", limit=2)
    assert len(done.message.groups_of(DelimiterTag.JOB)) == 2  # type: ignore[union-attr]
    bad = ipp(Operation.GET_JOBS, which_jobs="fetchable")
    assert bad.status == Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED


def test_response_echoes_version(ipp: Client) -> None:
    for version in ((1, 1), (2, 0), (2, 1), (2, 2)):
        msg: Message = request(Operation.GET_PRINTER_ATTRIBUTES, ipp.daemon.uri, version=version,
                               request_id=77)
        reply = send(ipp.daemon.ipp_port, msg)
        assert reply.message is not None and reply.message.version == version
        assert reply.message.request_id == 77


def test_encrypted_pdf_prints_with_its_document_password(ipp: Client, server: Daemon,
                                                         tmp_path: Path) -> None:
    """document-password (PWG 5100.13 §5.1.1) opens an encrypted PDF; without it, or
    with a wrong one, the job is aborted; the password is never echoed back."""
    attrs = ipp(Operation.GET_PRINTER_ATTRIBUTES,
                requested_attributes=["document-password-supported"])
    assert attrs.find("document-password-supported") == [1023]
    source = tmp_path / "plain.ps"
    source.write_text("%!PS\n/Helvetica findfont 40 scalefont setfont 72 500 moveto"
                      " (secret page) show showpage\n")
    locked = tmp_path / "locked.pdf"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                    "-sOwnerPassword=owner", "-sUserPassword=open sesame",
                    f"-sOutputFile={locked}", str(source)], check=True, timeout=60)
    data = locked.read_bytes()
    import pypdfium2 as pdfium
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)  # really encrypted
    good = ipp.print_job(data, document_format="application/pdf",
                         document_password=b"open sesame")
    bad = ipp.print_job(data, document_format="application/pdf",
                        document_password=b"wrong")
    none = ipp.print_job(data, document_format="application/pdf")
    ipp.wait_state(good, 9)
    ipp.wait_state(bad, 8)
    ipp.wait_state(none, 8)
    assert (server.state_dir / "output" / str(good) / "page-1.png").exists()
    reply = ipp(Operation.GET_JOB_ATTRIBUTES, job_id=good, requested_attributes=["all"])
    assert reply.find("document-password") is None
    msg = request(Operation.PRINT_JOB, server.uri, document_format="application/pdf")
    msg.groups[0].add("document-password", ValueTag.OCTET_STRING, b"x" * 1024)
    too_long = send(server.ipp_port, msg, data)
    assert too_long.status in (Status.CLIENT_ERROR_BAD_REQUEST,
                               Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED)


def test_paths_ignore_case(make_daemon: type[Daemon]) -> None:
    """Windows and Mopria lowercase the rp they discovered: /ipp/print/office reaches
    the printer named Office, in the URI and in the HTTP path alike."""
    daemon = make_daemon(extra_config="[printer:Office]\nport = emulated:\nrate = 0\n").start()
    for path in ("/ipp/print/office", "/ipp/print/OFFICE", "/ipp/print/Office"):
        uri = f"ipp://127.0.0.1:{daemon.ipp_port}{path}"
        msg = request(Operation.GET_PRINTER_ATTRIBUTES, uri,
                      requested_attributes=["printer-name", "mopria-certified",
                                            "document-format-preferred"])
        reply = send(daemon.ipp_port, msg, path=path)
        assert reply.status == OK, (path, reply.find("status-message"))
        assert reply.find("printer-name") == ["Office"]
        assert reply.find("mopria-certified") == ["1.3"]
        assert reply.find("document-format-preferred") == ["image/pwg-raster"]
    missing = request(Operation.GET_PRINTER_ATTRIBUTES,
                      f"ipp://127.0.0.1:{daemon.ipp_port}/ipp/print/offices")
    assert send(daemon.ipp_port, missing, path="/ipp/print/offices").status == (
        Status.CLIENT_ERROR_NOT_FOUND)


#: Hosts a client may have reached the printer by: its .local name, an IPv6 link-local
#: literal with its zone, and an address and port of a port forward.
CLIENT_HOSTS = ["pbtest.local:631", "[fe80::1%25eth0]:8631", "203.0.113.9:16310"]


@pytest.mark.parametrize("host", CLIENT_HOSTS)
def test_uris_follow_the_host_the_client_used(ipp: Client, server: Daemon, host: str) -> None:
    """Every URI the printer reports is built from the Host the request came with, so a
    client that came by address, by .local name or through a port forward can use them
    (printer, job and document URIs; icons, more-info, supply-info)."""
    uri = f"ipp://{host}/ipp/print"
    msg = request(Operation.GET_PRINTER_ATTRIBUTES, uri)
    reply = send(server.ipp_port, msg, host=host)  # a poll: the fast path answers it
    assert reply.status == OK, reply.find("status-message")
    uris = [*reply.find("printer-uri-supported"), *reply.find("printer-icons"),
            *reply.find("printer-more-info"), *reply.find("printer-supply-info-uri")]
    assert len(uris) >= 6
    for value in uris:
        assert value.split("/")[2] == host, value
    job = request(Operation.PRINT_JOB, uri, document_format="application/octet-stream")
    printed = send(server.ipp_port, job, document(1000, seed=3), host=host)  # aiohttp's path
    assert printed.status == OK, printed.find("status-message")
    assert printed.find("job-uri")[0].split("/")[2] == host
    job_id = int(printed.find("job-id")[0])
    attrs = send(server.ipp_port, request(Operation.GET_JOB_ATTRIBUTES, uri, job_id=job_id),
                 host=host)
    for name in ("job-uri", "job-printer-uri", "job-more-info"):
        assert attrs.find(name)[0].split("/")[2] == host, name
    docs = send(server.ipp_port, request(Operation.GET_DOCUMENT_ATTRIBUTES, uri, job_id=job_id,
                                         document_number=1), host=host)
    assert docs.status == OK, docs.find("status-message")
    for name in ("document-job-uri", "document-printer-uri"):
        assert docs.find(name)[0].split("/")[2] == host, name


@pytest.mark.parametrize("host", ["evil.example/x?", "user@printer:631", "a b"])
def test_a_host_that_is_not_host_port_is_refused(ipp: Client, server: Daemon,
                                                 host: str) -> None:
    """A Host the URIs cannot be built from is a bad request (RFC 9112 §3.2), on the fast
    path and aiohttp's alike; the printer goes on serving everyone else."""
    reply = send(server.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES, server.uri),
                 host=host)
    assert reply.http_status == 400 or reply.status == Status.CLIENT_ERROR_BAD_REQUEST
    job = request(Operation.PRINT_JOB, server.uri, document_format="application/octet-stream")
    reply = send(server.ipp_port, job, b"data", host=host)
    assert reply.http_status == 400 or reply.status == Status.CLIENT_ERROR_BAD_REQUEST
    assert ipp(Operation.GET_PRINTER_ATTRIBUTES).status == OK
