"""The IPP operation table (firmware/ipp/operations.py) is the one place an operation is
described: this walks it and checks that what a client sees agrees with it, over a real
socket from a running daemon, and that the dispatcher calls each row's handler.

- operations-supported in a Get-Printer-Attributes answer is the table's codes, in order;
- every row's access rule is what a caller meets: an admin operation asks an anonymous
  caller to log in (HTTP 426 in the clear, 401 over TLS) and refuses a logged-in user
  who is not an administrator (client-error-not-authorized); an owner-or-admin
  operation refuses another user's request for a job; on a printer whose policy is
  'authenticated' the user and owner operations ask for a login and the others do not;
- the dispatcher calls the row's handler with the target the row names resolved, checks
  printer-is-accepting-jobs for the rows that take a new job and hands a document to
  those that carry one; an operation not in the table is
  server-error-operation-not-supported.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.config import load_config
from firmware.ipp import (
    DelimiterTag,
    Message,
    Operation,
    Status,
    ValueTag,
    document_ops,
    job_ops,
    make_attribute,
    operations,
    printer_ops,
    subscription_ops,
)
from firmware.ipp.operations import BY_CODE, SUPPORTED, TABLE, Access, OperationRow, Target
from firmware.ipp.request import AuthenticationRequired, Call, RequestContext
from firmware.ipp.responder import Responder
from firmware.system import System
from tests.daemon import ROOT, Daemon, document
from tests.ipp.client import Response, request, send

ADMIN = ("admin", "operator secret 1")
ALICE = ("alice", "alice secret 22")
LOCKED = "Locked"
#: Codes no row has: a reserved gap, Print-URI (not implemented) and a vendor code.
UNKNOWN = (0x0001, int(Operation.PRINT_URI), 0x0032, 0x4001)


def rows(access: Access) -> list[OperationRow]:
    return [row for row in TABLE if row.access is access]


def add_user(daemon: Daemon, name: str, password: str, *, admin: bool) -> None:
    subprocess.run([sys.executable, "-m", "firmware", "passwd", name, "--stdin",
                    "--config", str(daemon.config), *(["--admin"] if admin else [])],
                   input=password, text=True, check=True, cwd=ROOT, capture_output=True)


# -------------------------------------------------------------------- the table itself
def test_rows_are_well_formed() -> None:
    assert len(BY_CODE) == len(TABLE) == len(SUPPORTED)
    handler_modules = {job_ops.__name__, document_ops.__name__, printer_ops.__name__,
                       subscription_ops.__name__}
    for row in TABLE:
        assert isinstance(row.code, Operation)
        # The name is the standard's spelling of the code's name.
        assert row.name == "-".join(w.capitalize() for w in row.code.name.split("_")), row
        assert inspect.iscoroutinefunction(row.handler), row.name
        assert row.handler.__module__ in handler_modules, row.name
        assert row.spec.split()[0] in ("RFC", "PWG"), row.name
        assert not (row.creates_job and row.target is not Target.PRINTER), row.name
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.name = "x"  # type: ignore[misc]
    # Creating a job or carrying one's document needs a login where the printer asks.
    for row in TABLE:
        if row.creates_job or row.has_document:
            assert row.access.needs_login_when_authenticated, row.name
    with pytest.raises(ValueError):
        operations.by_code([TABLE[0], TABLE[0]])
    assert "To add an operation" in (operations.__doc__ or "")


# -------------------------------------------------------------------- over a socket
@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The default printer is open; the printer Locked asks for a login."""
    server = Daemon(tmp_path_factory.mktemp("optable"),
                    extra_config=f"[printer:{LOCKED}]\nport = emulated:\nrate = 0\n"
                                 "policy = authenticated\n")
    add_user(server, *ADMIN, admin=True)
    add_user(server, *ALICE, admin=False)
    server.start()
    yield server
    server.stop()


def locked_uri(daemon: Daemon) -> str:
    return f"{daemon.uri}/{LOCKED}"


def call(daemon: Daemon, row: OperationRow, uri: str, *, user: str = "tester",
         tls: bool = False, auth: tuple[str, str] | None = None,
         data: bytes = b"", **attrs: Any) -> Response:
    """``row``'s operation with the target attributes any row may need."""
    msg = request(row.code, uri, user=user, **attrs)
    return send(daemon.ipp_port, msg, data, tls=tls, auth=auth)


def ok(reply: Response) -> int:
    assert reply.http_status == 200, reply.body[:200]
    assert reply.status < 0x0100, reply.find("status-message")
    return reply.status


def test_operations_supported_is_the_table(daemon: Daemon) -> None:
    for uri in (daemon.uri, locked_uri(daemon)):
        reply = send(daemon.ipp_port, request(Operation.GET_PRINTER_ATTRIBUTES, uri,
                                              requested_attributes=["operations-supported"]))
        ok(reply)
        assert reply.find("operations-supported") == [int(row.code) for row in TABLE]
        assert reply.find("operations-supported") == list(SUPPORTED)
    # An operation without a row is answered, and refused, whoever asks.
    for code in UNKNOWN:
        msg = request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri)
        msg.code = code
        for tls, auth in ((False, None), (True, ADMIN)):
            reply = send(daemon.ipp_port, msg, tls=tls, auth=auth)
            assert reply.status == Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, hex(code)


def _print_held(daemon: Daemon, uri: str, **kw: Any) -> int:
    """A job that stays pending-held on ``uri``'s printer."""
    msg = request(Operation.PRINT_JOB, uri, document_format="application/octet-stream",
                  user=kw.pop("user", "tester"))
    job = msg.add_group(DelimiterTag.JOB)
    job.append(make_attribute("job-hold-until", "indefinite"))
    reply = send(daemon.ipp_port, msg, document(300, seed=181), **kw)
    ok(reply)
    return int(reply.find("job-id")[0])


def _job_state(daemon: Daemon, job_id: int) -> tuple[int, list[str]]:
    reply = send(daemon.ipp_port, request(Operation.GET_JOB_ATTRIBUTES, daemon.uri,
                                          job_id=job_id, requested_attributes=[
                                              "job-state", "job-state-reasons"]),
                 tls=True, auth=ADMIN)
    ok(reply)
    return int(reply.find("job-state")[0]), list(reply.find("job-state-reasons"))


def _printer_state(daemon: Daemon) -> tuple[Any, ...]:
    reply = send(daemon.ipp_port, request(
        Operation.GET_PRINTER_ATTRIBUTES, daemon.uri, requested_attributes=[
            "printer-state", "printer-is-accepting-jobs", "printer-info",
            "queued-job-count"]))
    ok(reply)
    return (reply.find("printer-state"), reply.find("printer-is-accepting-jobs"),
            reply.find("printer-info"), reply.find("queued-job-count"))


def test_admin_rows_refuse_everyone_else(daemon: Daemon) -> None:
    assert rows(Access.ADMIN)
    job_id = _print_held(daemon, daemon.uri)
    before = _printer_state(daemon), _job_state(daemon, job_id)
    attrs: dict[str, Any] = {"job_id": job_id, "job_id_after": job_id}
    for row in rows(Access.ADMIN):
        # Anonymous: asked to log in, over TLS (RFC 2817 §4.2 in the clear; RFC 7617).
        assert call(daemon, row, daemon.uri, **attrs).http_status == 426, row.name
        assert call(daemon, row, daemon.uri, tls=True, **attrs).http_status == 401, row.name
        # Logged in, not an administrator: refused by IPP.
        reply = call(daemon, row, daemon.uri, tls=True, auth=ALICE, **attrs)
        assert reply.status == Status.CLIENT_ERROR_NOT_AUTHORIZED, row.name
    # None of them reached its handler.
    assert (_printer_state(daemon), _job_state(daemon, job_id)) == before
    # An administrator is let through (the handler's answer may still be an error).
    pause = BY_CODE[Operation.PAUSE_PRINTER]
    resume = BY_CODE[Operation.RESUME_PRINTER]
    assert ok(call(daemon, pause, daemon.uri, tls=True, auth=ADMIN)) == Status.SUCCESSFUL_OK
    ok(call(daemon, resume, daemon.uri, tls=True, auth=ADMIN))
    ok(call(daemon, BY_CODE[Operation.CANCEL_JOB], daemon.uri, tls=True, auth=ADMIN,
            job_id=job_id))


def test_owner_rows_refuse_other_users(daemon: Daemon) -> None:
    """alice's job, open for more documents and holding one: mallory may change none of
    it (each handler checks the owner once it has judged the rest); alice may."""
    assert rows(Access.OWNER)
    create = send(daemon.ipp_port, request(Operation.CREATE_JOB, daemon.uri, user="alice"))
    ok(create)
    job_id = int(create.find("job-id")[0])
    ok(send(daemon.ipp_port, request(Operation.SEND_DOCUMENT, daemon.uri, user="alice",
                                     job_id=job_id, last_document=False,
                                     document_format="application/octet-stream"),
            document(300, seed=182)))
    before = _job_state(daemon, job_id)
    attrs: dict[str, Any] = {"job_id": job_id, "last_document": False, "document_number": 1}
    for row in rows(Access.OWNER):
        reply = call(daemon, row, daemon.uri, user="mallory", **attrs)
        assert reply.status == Status.CLIENT_ERROR_NOT_AUTHORIZED, row.name
    assert _job_state(daemon, job_id) == before
    # Her own request goes through.
    ok(call(daemon, BY_CODE[Operation.CLOSE_JOB], daemon.uri, user="alice", job_id=job_id))
    ok(call(daemon, BY_CODE[Operation.CANCEL_JOB], daemon.uri, user="alice", job_id=job_id))


def test_login_rules_on_an_authenticated_printer(daemon: Daemon) -> None:
    uri = locked_uri(daemon)
    job_id = _print_held(daemon, uri, tls=True, auth=ALICE)
    sub = send(daemon.ipp_port, _subscribe(uri))
    ok(sub)
    sub_id = int(sub.find("notify-subscription-id")[0])
    attrs: dict[str, Any] = {"job_id": job_id, "notify_subscription_id": sub_id,
                             "last_document": False, "document_number": 1}
    for row in TABLE:
        if row.access is Access.ADMIN:
            continue  # the test above
        reply = call(daemon, row, uri, **attrs)
        if row.access.needs_login_when_authenticated:
            assert reply.http_status == 426, row.name  # come back over TLS and log in
            assert call(daemon, row, uri, tls=True, **attrs).http_status == 401, row.name
        else:
            # Answered without a login (the answer itself may be an error: a missing
            # attribute, say), but never a refusal for want of one.
            assert reply.http_status == 200, row.name
            assert reply.status != Status.CLIENT_ERROR_NOT_AUTHORIZED, row.name
    ok(call(daemon, BY_CODE[Operation.CANCEL_JOB], uri, tls=True, auth=ALICE, job_id=job_id))


def _subscribe(uri: str) -> Message:
    msg = request(Operation.CREATE_PRINTER_SUBSCRIPTIONS, uri)
    group = msg.add_group(DelimiterTag.SUBSCRIPTION)
    group.add("notify-pull-method", ValueTag.KEYWORD, "ippget")
    group.add("notify-events", ValueTag.KEYWORD, "printer-state-changed")
    return msg


# -------------------------------------------------------------------- the dispatcher
def test_the_dispatcher_calls_each_rows_handler(tmp_path: Path) -> None:
    """In process, with every row's handler replaced by a spy: the request for a code
    reaches the handler of that code's row, with the row's target resolved."""
    asyncio.run(_dispatch(tmp_path))


async def _dispatch(tmp_path: Path) -> None:
    system = System(load_config(None, "emulator", {"state_dir": tmp_path / "state"}))
    try:
        seen: list[tuple[Operation, object, Call]] = []

        def spy(row: OperationRow) -> OperationRow:
            async def handler(call: Call) -> None:
                seen.append((row.code, row.handler, call))

            return dataclasses.replace(row, handler=handler)

        responder = Responder(system, [spy(row) for row in TABLE])
        assert set(responder.operations) == set(BY_CODE)
        printer = system.default_printer
        job = await system.create_job(printer, name="t", user="admin", host="",
                                      origin="ipp", attributes={})
        sub = responder.subscriptions.create(printer=printer.name, events={"job-completed"},
                                             user="admin", job_id=None, lease=60,
                                             time_interval=0, user_data=b"")
        admin = RequestContext(host="localhost:631", path="/ipp/print",
                               authenticated_user="admin", admin=True, secure=True)

        def message(code: int) -> Message:
            msg = request(Operation.GET_PRINTER_ATTRIBUTES, "ipp://localhost:631/ipp/print",
                          job_id=job.id, notify_subscription_id=sub.id)
            msg.code = code
            return msg

        async def body() -> Any:
            yield b"data"

        for row in TABLE:
            seen.clear()
            reply = await responder.handle(message(row.code), body(), admin)
            assert reply.code == Status.SUCCESSFUL_OK, (row.name, reply.operation)
            assert len(seen) == 1, row.name
            code, handler, call = seen[0]
            assert code == row.code and handler is row.handler, row.name
            assert call.printer is printer
            assert (call.job is job) == (row.target is Target.JOB), row.name
            assert (call.subscription is sub) == (row.target is Target.SUBSCRIPTION), row.name
            assert (call.document is not None) == row.has_document, row.name
            if call.document is not None:
                assert [chunk async for chunk in call.document] == [b"data"]
        # The rows that take a new job are refused while the printer is not accepting.
        printer.accepting = False
        for row in TABLE:
            seen.clear()
            reply = await responder.handle(message(row.code), None, admin)
            if row.creates_job:
                assert reply.code == Status.SERVER_ERROR_NOT_ACCEPTING_JOBS, row.name
                assert not seen, row.name
            else:
                assert reply.code == Status.SUCCESSFUL_OK and seen, row.name
        printer.accepting = True
        # No row, no handler.
        for unknown in UNKNOWN:
            seen.clear()
            reply = await responder.handle(message(unknown), None, admin)
            assert reply.code == Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, hex(unknown)
            assert not seen
        # The access rule is the row's: nobody logged in, an admin row asks for a login;
        # a user who is not an administrator is refused.
        anonymous = RequestContext(host="localhost:631", path="/ipp/print")
        alice = RequestContext(host="localhost:631", path="/ipp/print",
                               authenticated_user="alice", secure=True)
        for row in TABLE:
            seen.clear()
            if row.access is Access.ADMIN:
                with pytest.raises(AuthenticationRequired):
                    await responder.handle(message(row.code), None, anonymous)
                reply = await responder.handle(message(row.code), None, alice)
                assert reply.code == Status.CLIENT_ERROR_NOT_AUTHORIZED, row.name
                assert not seen, row.name
            else:
                reply = await responder.handle(message(row.code), None, anonymous)
                assert reply.code == Status.SUCCESSFUL_OK and seen, row.name
    finally:
        await system.stop()
