"""firmware.http1: the strict request-head parser the IPP fast path relies on."""

from __future__ import annotations

import pytest

from firmware.http1 import MAX_HEAD, DateCache, head_complete, parse_head, response_head

GOOD = (b"POST /ipp/print HTTP/1.1\r\nHost: printer.local:631\r\n"
        b"Content-Type: application/ipp; charset=utf-8\r\nContent-Length: 42\r\n\r\n")


def test_a_plain_head() -> None:
    assert head_complete(GOOD + b"body") == len(GOOD)
    head = parse_head(GOOD)
    assert head is not None
    assert (head.method, head.target, head.version) == ("POST", "/ipp/print", "HTTP/1.1")
    assert head.fields["host"] == "printer.local:631"
    assert head.content_type == "application/ipp"
    assert head.content_length == 42
    assert head.keep_alive
    assert head.size == len(GOOD)


def test_incomplete_and_oversized_heads() -> None:
    assert head_complete(GOOD[:-2]) == 0
    assert head_complete(b"POST / HTTP/1.1\r\nX: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n") == 0


@pytest.mark.parametrize("head", [
    b"POST /ipp/print HTTP/1.0\r\nHost: x\r\n\r\n",  # HTTP/1.0: aiohttp's
    b"POST  /ipp/print HTTP/1.1\r\nHost: x\r\n\r\n",  # two spaces
    b"POST ipp/print HTTP/1.1\r\nHost: x\r\n\r\n",  # not origin-form
    b"PO ST /ipp/print HTTP/1.1\r\n\r\n",
    b"POST /ipp/print HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",  # repeated field
    b"POST /ipp/print HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  # obs-fold
    b"POST /ipp/print HTTP/1.1\r\nHost : x\r\n\r\n",  # space before the colon
    b"POST /ipp/print HTTP/1.1\r\nNoColon\r\n\r\n",
    "POST /ipp/print HTTP/1.1\r\nHost: \u00e9\r\n\r\n".encode(),  # not ASCII
])
def test_anything_unusual_is_not_for_the_fast_path(head: bytes) -> None:
    assert parse_head(head) is None


@pytest.mark.parametrize("value, expected", [
    ("0", 0), ("17", 17), ("-1", None), ("1e3", None), (" 5", 5), ("5,5", None),
    ("9" * 16, None),
])
def test_content_length(value: str, expected: int | None) -> None:
    head = parse_head(f"POST / HTTP/1.1\r\nContent-Length:{value}\r\n\r\n".encode())
    assert head is not None
    assert head.content_length == expected


def test_connection_close_and_response_head() -> None:
    head = parse_head(b"POST / HTTP/1.1\r\nConnection: Close\r\n\r\n")
    assert head is not None and not head.keep_alive
    assert response_head(200, "OK", [("Content-Length", "3")]) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
    date = DateCache().now()
    assert date.endswith(" GMT") and len(date) == 29


def test_options_asterisk_form() -> None:
    """RFC 9112 §3.2.4: ``*`` is a request target for OPTIONS only."""
    head = parse_head(b"OPTIONS * HTTP/1.1\r\nHost: printer.local\r\n\r\n")
    assert head is not None and (head.method, head.target) == ("OPTIONS", "*")
    assert not head.has_body
    assert parse_head(b"GET * HTTP/1.1\r\nHost: printer.local\r\n\r\n") is None


def test_upgrade_offers_and_the_head_without_them() -> None:
    """RFC 9110 §7.8: Upgrade counts with ``upgrade`` in Connection (§7.6.1); what
    libcups sends for HTTP_ENCRYPTION_REQUIRED, and the request once switched."""
    raw = (b"OPTIONS * HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\nHost: pb.local:631\r\n"
           b"Upgrade: TLS/1.3,TLS/1.2, TLS/1.1,TLS/1.0\r\n\r\n")
    head = parse_head(raw)
    assert head is not None
    assert head.upgrade_offers == [("tls", "1.3"), ("tls", "1.2"), ("tls", "1.1"),
                                   ("tls", "1.0")]
    assert head.without_upgrade() == (b"OPTIONS * HTTP/1.1\r\nconnection: keep-alive\r\n"
                                      b"host: pb.local:631\r\n\r\n")
    again = parse_head(head.without_upgrade())
    assert again is not None and again.upgrade_offers == [] and again.keep_alive
    only = parse_head(b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: TLS\r\n\r\n")
    assert only is not None and only.upgrade_offers == [("tls", "")]
    assert only.without_upgrade() == b"GET / HTTP/1.1\r\n\r\n"
    # Without "upgrade" in Connection the field is not for us.
    stray = parse_head(b"GET / HTTP/1.1\r\nUpgrade: TLS/1.2\r\n\r\n")
    assert stray is not None and stray.upgrade_offers == []


@pytest.mark.parametrize("fields, body", [
    ("", False), ("Content-Length: 0\r\n", False), ("Content-Length: 5\r\n", True),
    ("Transfer-Encoding: chunked\r\n", True), ("Content-Length: x\r\n", True),
])
def test_has_body(fields: str, body: bool) -> None:
    head = parse_head(f"POST / HTTP/1.1\r\n{fields}\r\n".encode())
    assert head is not None and head.has_body is body
