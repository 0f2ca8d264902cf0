"""A small IPP client for tests: builds requests with the product's codec, sends them over a
real socket, and decodes the answer (so a test can also send bytes the codec would never
produce)."""

from __future__ import annotations

import http.client
import socket
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


def post(port: int, body: bytes | Iterable[bytes], *, path: str = "/ipp/print",
         content_length: int | None = None, timeout: float = 30) -> Response:
    """POST application/ipp; an iterable body is sent from a thread while the answer is read,
    so a server that answers early (and stops reading) does not deadlock the test."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if isinstance(body, bytes):
            chunks: Iterable[bytes] = [body]
            length = len(body)
        else:
            chunks = body
            assert content_length is not None
            length = content_length
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/ipp\r\nContent-Length: {length}\r\n\r\n").encode()

        def send() -> None:
            try:
                sock.sendall(head)
                for chunk in chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered and closed: what we are testing

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        reply = http.client.HTTPResponse(sock)
        reply.begin()
        data = reply.read()
        sender.join(timeout)
        return Response(reply.status, data)
    finally:
        sock.close()


def send(port: int, message: Message, document: bytes = b"", path: str = "/ipp/print") -> Response:
    return post(port, encode(message) + document, path=path)
