"""Hostile and broken requests over a real socket: each gets the right status or an HTTP
400, and the server keeps serving (RFC 8011 §4.1, RFC 8010 §3)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from firmware.ipp import Operation, Status, encode
from tests.daemon import Daemon
from tests.ipp.client import header, post, request, send

GPA = Operation.GET_PRINTER_ATTRIBUTES


def still_serving(daemon: Daemon) -> None:
    reply = send(daemon.ipp_port, request(GPA, daemon.uri, requested_attributes=["printer-state"]))
    assert reply.status == Status.SUCCESSFUL_OK
    assert reply.find("printer-state") == [3]


def charset_lang() -> bytes:
    return (b"\x01" + b"\x47\x00\x12attributes-charset\x00\x05utf-8"
            + b"\x48\x00\x1battributes-natural-language\x00\x02en")


def uri_attr(uri: str) -> bytes:
    return b"\x45\x00\x0bprinter-uri" + len(uri).to_bytes(2, "big") + uri.encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("malformed")).start()
    yield daemon
    daemon.stop()


def test_truncated_at_every_offset(server: Daemon) -> None:
    whole = encode(request(GPA, server.uri, requested_attributes=["all"]))
    for cut in range(0, len(whole) - 1, 7):
        reply = post(server.ipp_port, whole[:cut])
        if reply.http_status == 200:
            assert reply.status == Status.CLIENT_ERROR_BAD_REQUEST, cut
        else:
            assert reply.http_status == 400, cut
    still_serving(server)


def test_unknown_version(server: Daemon) -> None:
    msg = request(GPA, server.uri, version=(9, 9), request_id=42)
    reply = send(server.ipp_port, msg)
    assert reply.status == Status.SERVER_ERROR_VERSION_NOT_SUPPORTED
    assert reply.message is not None and reply.message.request_id == 42
    still_serving(server)


def test_request_id_zero(server: Daemon) -> None:
    assert send(server.ipp_port, request(GPA, server.uri, request_id=0)).status == (
        Status.CLIENT_ERROR_BAD_REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        b"\x0f\x00\x04name\x00\x01x\x03",  # reserved value tag before any group
        b"\x01\x0f\x00\x04name\x00\x01x\x03",  # reserved value tag 0x0f
        b"\x01\x47\x00\x12attributes-charset\x00\xffutf-8\x03",  # value length past the end
        b"\x01\x47\xff\xffattributes-charset\x00\x05utf-8\x03",  # name length past the end
        b"\x01\x21\x00\x01n\x00\x03abc\x03",  # integer with 3 octets
        b"\x01",  # no end-of-attributes tag
    ],
)
def test_bad_encodings(server: Daemon, body: bytes) -> None:
    reply = post(server.ipp_port, header((2, 0), GPA, 7) + body)
    assert reply.http_status == 200
    assert reply.status == Status.CLIENT_ERROR_BAD_REQUEST
    assert reply.message is not None and reply.message.request_id == 7
    still_serving(server)


def test_missing_charset_and_wrong_order(server: Daemon) -> None:
    lang_only = (b"\x01\x48\x00\x1battributes-natural-language\x00\x02en" + uri_attr(server.uri)
                 + b"\x03")
    assert post(server.ipp_port, header((2, 0), GPA, 3) + lang_only).status == (
        Status.CLIENT_ERROR_BAD_REQUEST)
    swapped = (b"\x01\x48\x00\x1battributes-natural-language\x00\x02en"
               + b"\x47\x00\x12attributes-charset\x00\x05utf-8" + uri_attr(server.uri) + b"\x03")
    assert post(server.ipp_port, header((2, 0), GPA, 4) + swapped).status == (
        Status.CLIENT_ERROR_BAD_REQUEST)
    bad_charset = (b"\x01" + b"\x47\x00\x12attributes-charset\x00\x0aiso-8859-9"
                   + b"\x48\x00\x1battributes-natural-language\x00\x02en" + uri_attr(server.uri)
                   + b"\x03")
    assert post(server.ipp_port, header((2, 0), GPA, 5) + bad_charset).status == (
        Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED)
    no_uri = charset_lang() + b"\x03"
    assert post(server.ipp_port, header((2, 0), GPA, 6) + no_uri).status == (
        Status.CLIENT_ERROR_BAD_REQUEST)
    still_serving(server)


def test_unknown_operation_and_printer(server: Daemon) -> None:
    body = charset_lang() + uri_attr(server.uri) + b"\x03"
    assert post(server.ipp_port, header((2, 0), 0x4001, 8) + body).status == (
        Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED)
    other = request(GPA, f"ipp://127.0.0.1:{server.ipp_port}/ipp/print/nope")
    assert send(server.ipp_port, other).status == Status.CLIENT_ERROR_NOT_FOUND


def test_ten_thousand_deep_collection(server: Daemon) -> None:
    depth = 10_000
    nest = b"".join(b"\x34\x00\x01c\x00\x00" if i == 0 else
                    b"\x4a\x00\x00\x00\x01m\x34\x00\x00\x00\x00" for i in range(depth))
    body = header((2, 0), GPA, 9) + charset_lang() + uri_attr(server.uri) + b"\x02" + nest
    reply = post(server.ipp_port, body + b"\x37\x00\x00\x00\x00" * depth + b"\x03")
    assert reply.status == Status.CLIENT_ERROR_BAD_REQUEST
    still_serving(server)


def test_hundred_megabytes_of_attributes(server: Daemon) -> None:
    """An endless attribute part is cut off at the limit without reading it all."""
    value = b"x" * 32000
    one = b"\x41\x00\x01t" + len(value).to_bytes(2, "big") + value
    size = 100 * 1024 * 1024
    count = size // len(one)

    def chunks() -> Iterator[bytes]:
        yield header((2, 0), GPA, 11) + charset_lang() + uri_attr(server.uri) + b"\x02"
        for _ in range(count):
            yield one

    start = time.monotonic()
    reply = post(server.ipp_port, chunks(), content_length=size + 200)
    assert time.monotonic() - start < 20
    if reply.http_status == 200:
        assert reply.status == Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
    else:
        assert reply.http_status in (400, 413)
    still_serving(server)
    assert server.rss_kib() < 200 * 1024


def test_not_ipp_content_type(server: Daemon) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.ipp_port, timeout=10)
    conn.request("POST", "/ipp/print", body=b"hello", headers={"Content-Type": "text/plain"})
    assert conn.getresponse().status == 400
    still_serving(server)
