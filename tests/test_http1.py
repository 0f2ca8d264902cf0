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
