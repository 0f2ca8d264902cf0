"""Client-side tools the network tests run *inside* a namespace (``ip netns exec A``).

``python -m tests.net.tools browse --bind 198.51.100.1 --type _ipp._tcp.local. ...``
    a python-zeroconf browser bound to one address; prints one JSON list of the resolved
    instances (name, type, server, port, addresses, TXT).
``python -m tests.net.tools gpa URI [--host H]``
    Get-Printer-Attributes over HTTP with ``Host: H`` (what a DNS-SD client sends);
    prints the attributes as JSON.
``python -m tests.net.tools await --bind ADDR --name N --address A [--type T]``
    prints ``ready`` once listening, then (as JSON) the CLOCK_MONOTONIC time at which
    instance N of type T first resolves (from this browser's cache, as a client would
    see it) with address A; for bench/dnssd_latency.py.
``python -m tests.net.tools set URI NAME VALUE --user U:P``
    Set-Printer-Attributes (RFC 3380) of one text attribute, as administrator ``U``
    over TLS (``ipps://``, HTTP Basic); prints the IPP status code.
``python -m tests.net.tools tls HOST PORT [--min V] [--max V] [--upgrade]``
    a TLS handshake with the printer (no verification; ``--upgrade``: on a plain
    connection after ``OPTIONS * ... Upgrade: TLS/1.2``, RFC 2817); prints (as JSON) the
    version negotiated and the certificate's subject alternative names, or the error.
    HOST may be ``fe80::1%eth0``.

URIs may name an IPv6 link-local address with its zone, ``ipp://[fe80::1%25eth0]:631/``
(RFC 6874).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import socket
import ssl
import sys
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from firmware.ipp import DelimiterTag, Message, Operation, ValueTag, decode, encode
from firmware.net.txt import plain


async def browse(bind: str, types: list[str], timeout: float, want: list[str]) -> list[dict]:
    """Browse ``types`` for up to ``timeout`` s; stop early once every instance name in
    ``want`` (``Name`` or ``Name|type``) has been resolved."""
    azc = AsyncZeroconf(interfaces=[bind], ip_version=IPVersion.V4Only)
    seen: dict[tuple[str, str], None] = {}

    def handler(zeroconf: Zeroconf, service_type: str, name: str,
                state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed:
            seen[(service_type, name)] = None

    browser = AsyncServiceBrowser(azc.zeroconf, types, handlers=[handler])
    found: dict[tuple[str, str], dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for type_, name in list(seen):
                if (type_, name) in found:
                    continue
                info = AsyncServiceInfo(type_, name)
                if await info.async_request(azc.zeroconf, 1500):
                    found[(type_, name)] = {
                        "type": type_,
                        "name": name[: -len(type_.split("._sub.")[-1]) - 1],
                        "server": info.server,
                        "port": info.port,
                        "addresses": info.parsed_addresses(),
                        "txt": {k.decode(): (v.decode() if v is not None else None)
                                for k, v in (info.properties or {}).items()},
                    }
            names = {f["name"] for f in found.values()} | {
                f"{f['name']}|{f['type']}" for f in found.values()}
            if want and all(w in names for w in want):
                break
            await asyncio.sleep(0.1)
    finally:
        await browser.async_cancel()
        await azc.async_close()
    return list(found.values())


async def await_resolvable(bind: str, type_: str, name: str, address: str,
                           timeout: float) -> float | None:
    """Poll this browser's view of ``name`` every 20 ms until it has ``address``."""
    azc = AsyncZeroconf(interfaces=[bind], ip_version=IPVersion.V4Only)
    browser = AsyncServiceBrowser(azc.zeroconf, [type_], handlers=[lambda **_: None])
    await azc.zeroconf.async_wait_for_start()
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    found: float | None = None
    try:
        while time.monotonic() < deadline:
            info = AsyncServiceInfo(type_, f"{name}.{type_}")
            if await info.async_request(azc.zeroconf, 100) and \
                    info.parsed_addresses() == [address]:
                found = time.monotonic()
                break
            await asyncio.sleep(0.02)
    finally:
        await browser.async_cancel()
        await azc.async_close()
    return found


def _json_safe(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, dict):
        return {k: [_json_safe(v) for v in vs] for k, vs in value.items()}
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def _request(op: Operation, uri: str) -> Message:
    msg = Message(version=(2, 0), code=op, request_id=1)
    group = msg.add_group(DelimiterTag.OPERATION)
    group.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    group.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en")
    group.add("printer-uri", ValueTag.URI, uri)
    group.add("requesting-user-name", ValueTag.NAME, "tester")
    return msg


def _post(uri: str, host: str | None, msg: Message, user: str | None = None) -> Message:
    parts = urlsplit(uri)
    address = unquote(parts.hostname or "")  # fe80::1%25eth0 -> fe80::1%eth0 (RFC 6874)
    conn: http.client.HTTPConnection
    if parts.scheme == "ipps":  # the printer's self-signed certificate: not verified
        conn = http.client.HTTPSConnection(address, parts.port or 631, timeout=20,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(address, parts.port or 631, timeout=20)
    conn.putrequest("POST", parts.path or "/", skip_host=True)
    conn.putheader("Host", host or parts.netloc)
    if user:
        conn.putheader("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    body = encode(msg)
    conn.putheader("Content-Type", "application/ipp")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status != 200:
        raise SystemExit(f"HTTP {reply.status}")
    return decode(data)[0]


def gpa(uri: str, host: str | None) -> dict[str, list[Any]]:
    msg = _request(Operation.GET_PRINTER_ATTRIBUTES, uri)
    msg.groups[0].add("requested-attributes", ValueTag.KEYWORD, ["all", "media-col-database"])
    answer = _post(uri, host, msg)
    printer = answer.group(DelimiterTag.PRINTER)
    assert printer is not None, f"no printer group, status {answer.code:#x}"
    return {name: [_json_safe(v) for v in attr.values] for name, attr in printer.items()}


TLS_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def tls_probe(host: str, port: int, minimum: str | None, maximum: str | None,
              upgrade: bool) -> dict[str, Any]:
    """One TLS handshake; the version and the peer certificate's names."""
    from cryptography import x509

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if minimum or maximum:
        context.set_ciphers("DEFAULT@SECLEVEL=0")  # let OpenSSL offer old versions at all
    if minimum:
        context.minimum_version = TLS_VERSIONS[minimum]
    if maximum:
        context.maximum_version = TLS_VERSIONS[maximum]
    try:
        with socket.create_connection((host, port), timeout=10) as raw:
            if upgrade:
                raw.sendall(b"OPTIONS * HTTP/1.1\r\nHost: printer\r\nConnection: Upgrade\r\n"
                            b"Upgrade: TLS/1.2\r\n\r\n")
                head = b""
                while b"\r\n\r\n" not in head:
                    more = raw.recv(1)
                    if not more:
                        return {"error": f"closed after {head!r}"}
                    head += more
                if not head.startswith(b"HTTP/1.1 101 "):
                    return {"error": head.decode("latin-1")}
            with context.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
                version = tls.version()
                answer = b""
                if upgrade:  # RFC 2817 §3.3: the answer to OPTIONS follows, over TLS
                    while b"\r\n\r\n" not in answer:
                        more = tls.recv(4096)
                        if not more:
                            break
                        answer += more
    except (OSError, ssl.SSLError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    assert der is not None
    san = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    return {"version": version,
            "dns": sorted(san.get_values_for_type(x509.DNSName)),
            "ip": sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress)),
            "answer": answer.decode("latin-1")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.net.tools")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("browse")
    b.add_argument("--bind", required=True, help="IPv4 address to do mDNS on")
    b.add_argument("--type", action="append", required=True, dest="types")
    b.add_argument("--timeout", type=float, default=8)
    b.add_argument("--want", action="append", default=[])
    g = sub.add_parser("gpa")
    g.add_argument("uri")
    g.add_argument("--host")
    w = sub.add_parser("await")
    w.add_argument("--bind", required=True)
    w.add_argument("--type", default="_ipp._tcp.local.")
    w.add_argument("--name", required=True)
    w.add_argument("--address", required=True)
    w.add_argument("--timeout", type=float, default=60)
    s = sub.add_parser("set")
    s.add_argument("uri")
    s.add_argument("name")
    s.add_argument("value")
    s.add_argument("--user", help="NAME:PASSWORD")
    t = sub.add_parser("tls")
    t.add_argument("host")
    t.add_argument("port", type=int)
    t.add_argument("--min", choices=sorted(TLS_VERSIONS))
    t.add_argument("--max", choices=sorted(TLS_VERSIONS))
    t.add_argument("--upgrade", action="store_true")
    args = parser.parse_args(argv)
    result: Any
    if args.command == "tls":
        result = tls_probe(args.host, args.port, args.min, args.max, args.upgrade)
    elif args.command == "browse":
        result = asyncio.run(browse(args.bind, args.types, args.timeout, args.want))
    elif args.command == "await":
        result = asyncio.run(await_resolvable(args.bind, args.type, args.name, args.address,
                                              args.timeout))
    elif args.command == "gpa":
        result = gpa(args.uri, args.host)
    else:
        msg = _request(Operation.SET_PRINTER_ATTRIBUTES, args.uri)
        msg.add_group(DelimiterTag.PRINTER).add(args.name, ValueTag.TEXT, args.value)
        result = _post(args.uri, None, msg, args.user).code
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
