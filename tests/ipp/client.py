"""A small IPP client for tests: builds requests with the product's codec, sends them over a
real socket, and decodes the answer (so a test can also send bytes the codec would never
produce)."""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import struct
import threading
from collections.abc import Iterable
from typing import Any

from firmware.ipp import (
    DelimiterTag,
    Message,
    Operation,
    ValueTag,
    decode,
    encode,
    make_attribute,
)


def request(op: Operation, uri: str, *, request_id: int = 1, version: tuple[int, int] = (2, 0),
            user: str = "tester", **attrs: Any) -> Message:
    msg = Message(version=version, code=op, request_id=request_id)
    group = msg.add_group(DelimiterTag.OPERATION)
    group.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    group.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    group.add("printer-uri", ValueTag.URI, uri)
    group.add("requesting-user-name", ValueTag.NAME, user)
    for name, value in attrs.items():
        group.append(make_attribute(name.replace("_", "-"), value))
    return msg


def header(version: tuple[int, int], code: int, request_id: int) -> bytes:
    return struct.pack(">BBHi", *version, code, request_id)


class Response:
    def __init__(self, http_status: int, body: bytes) -> None:
        self.http_status = http_status
        self.body = body
        self.message: Message | None = decode(body)[0] if http_status == 200 and body else None

    @property
    def status(self) -> int:
        assert self.message is not None, f"HTTP {self.http_status}: {self.body[:200]!r}"
        return self.message.code

    def find(self, name: str) -> Any:
        assert self.message is not None
        attr = self.message.find(name)
        return None if attr is None else attr.values


def tls_client() -> ssl.SSLContext:
    """A client context for the printer's self-signed certificate (TLS 1.2+)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def post(port: int, body: bytes | Iterable[bytes], *, path: str = "/ipp/print",
         content_length: int | None = None, timeout: float = 30, tls: bool = False,
         auth: tuple[str, str] | None = None, host: str | None = None) -> Response:
    """POST application/ipp (``host``: the Host header, default the address used); an
    iterable body is sent from a thread while the answer is read, so a server that answers
    early (and stops reading) does not deadlock the test."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        sock = tls_client().wrap_socket(sock)
    try:
        if isinstance(body, bytes):
            chunks: Iterable[bytes] = [body]
            length = len(body)
        else:
            chunks = body
            assert content_length is not None
            length = content_length
        login = ""
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            login = f"Authorization: Basic {token}\r\n"
        head = (f"POST {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{login}"
                f"Content-Type: application/ipp\r\nContent-Length: {length}\r\n\r\n").encode()

        def send() -> None:
            try:
                sock.sendall(head)
                for chunk in chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered and closed: what we are testing

        # An SSL socket must not be read and written from two threads at once: over TLS
        # the request goes out first (the tests only send small bodies that way).
        sender = threading.Thread(target=send, daemon=True)
        if tls:
            send()
        else:
            sender.start()
        reply = http.client.HTTPResponse(sock)
        reply.begin()
        data = reply.read()
        if not tls:
            sender.join(timeout)
        return Response(reply.status, data)
    finally:
        sock.close()


def send(port: int, message: Message, document: bytes = b"", path: str = "/ipp/print",
         tls: bool = False, auth: tuple[str, str] | None = None,
         host: str | None = None) -> Response:
    return post(port, encode(message) + document, path=path, tls=tls, auth=auth, host=host)
