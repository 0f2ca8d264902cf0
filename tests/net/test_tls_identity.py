"""The printer's TLS identity as a client on the link sees it.

* The certificate names what clients reach the printer by (RFC 6125 §6.4, RFC 5280
  §4.2.1.6): the ``.local`` host name DNS-SD advertises (not the OS host name) and
  every address it serves, and follows an address change with the same key.
* The DNS-SD ``TLS`` key says the version the server accepts at the least (Bonjour
  Printing Specification 1.2.1; PWG 5100.14-2020): a TLS 1.2 handshake works, 1.1 does
  not.
* An HTTP Upgrade to TLS on the plain port (RFC 2817 §3): ``101 Switching Protocols``,
  the handshake on the same connection, then the answer to ``OPTIONS *`` over TLS.

(The renamed host's certificate is checked in test_conflicts.py.)
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

from firmware.tls import TXT_VERSION, Credentials, ServerTls, certificate_names, wanted_names
from tests.net.lab import Link, Printbridge, tool, wait_for


def _served_names(context: ssl.SSLContext) -> tuple[list[str], list[str]]:
    """The names of the certificate a handshake with ``context`` presents."""
    from cryptography import x509

    async def handshake() -> bytes:
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0,
                                            ssl=context)
        port = server.sockets[0].getsockname()[1]
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        server.close()
        return bytes(der)

    san = x509.load_der_x509_certificate(asyncio.run(handshake())).extensions \
        .get_extension_for_class(x509.SubjectAlternativeName).value
    return (sorted(san.get_values_for_type(x509.DNSName)),
            sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress)))


def test_server_tls_reissues_in_place(tmp_path: Path) -> None:
    """New name or addresses: a new certificate, same key, loaded into the same context
    (new handshakes present it); nothing new when nothing changed; a user's certificate
    is never replaced."""
    changes: list[Credentials] = []
    tls = ServerTls(tmp_path / "tls", "office", ["0.0.0.0", "198.51.100.2"],
                    on_change=changes.append)
    assert tls.names == (["localhost", "office.local"], ["127.0.0.1", "198.51.100.2", "::1"])
    assert _served_names(tls.context) == tls.names
    key = tls.credentials.key.read_bytes()
    context = tls.context
    assert not tls.update("office.local.", ["198.51.100.2"]) and not changes
    assert tls.update("office-2", ["198.51.100.2", "fe80::1%eth0"])
    assert tls.context is context and changes == [tls.credentials]
    assert _served_names(context) == (["localhost", "office-2.local"],
                                      ["127.0.0.1", "198.51.100.2", "::1", "fe80::1"])
    assert tls.credentials.key.read_bytes() == key
    # A restart finds the certificate it made and keeps it.
    again = ServerTls(tmp_path / "tls", "office-2", ["198.51.100.2", "fe80::1"])
    assert again.credentials.fingerprint == tls.credentials.fingerprint
    # The user's own certificate stays, whatever the names.
    mine = ServerTls(tmp_path / "other", "x", [], installed=tls.credentials)
    assert not mine.update("y", ["198.51.100.9"])
    assert certificate_names(mine.credentials.certificate) == tls.names
    assert wanted_names("printer.local", ["::", "0.0.0.0", "bogus"]) == (
        ["localhost", "printer.local"], ["127.0.0.1", "::1"])


def test_certificate_names_and_tls_key(link: Link,
                                       printbridge: Callable[..., Printbridge]) -> None:
    link.b.ip("addr", "add", "198.51.100.2/24", "dev", link.vb)
    avahi = link.avahi()
    pb = printbridge(link.b, link.vb, printer="Office", mode="watch").start()
    pb.wait_advertised("198.51.100.2", "Office")

    first = tool(link.a, "tls", "198.51.100.2", str(pb.ipp_port))
    assert "error" not in first, first
    assert first["dns"] == ["localhost", "pbtest.local"], first
    assert first["ip"] == ["127.0.0.1", "198.51.100.2", "::1"], first
    os_name = socket.gethostname().split(".")[0]
    if os_name != "pbtest":
        assert f"{os_name}.local" not in first["dns"] and os_name not in first["dns"]

    # TLS=1.2 in DNS-SD (both _ipp and _ipps records) is what the server accepts at
    # the least: 1.2 works, 1.1 does not, and a client that can do 1.3 gets 1.3.
    records = wait_for(lambda: [e for e in avahi.browse("_ipps._tcp") if e["name"] == "Office"],
                       15, "avahi to resolve Office (_ipps._tcp)")
    assert {e["txt"]["TLS"] for e in records} == {TXT_VERSION} == {"1.2"}
    ipp = [e for e in avahi.browse("_ipp._tcp") if e["name"] == "Office"]
    assert {e["txt"]["TLS"] for e in ipp} == {TXT_VERSION}
    at_least = tool(link.a, "tls", "198.51.100.2", str(pb.ipp_port), "--max", TXT_VERSION)
    assert at_least.get("version") == f"TLSv{TXT_VERSION}", at_least
    below = tool(link.a, "tls", "198.51.100.2", str(pb.ipp_port), "--min", "1.0",
                 "--max", "1.1")
    assert "error" in below, below
    assert first["version"] == "TLSv1.3"

    # RFC 2817: Upgrade on the plain port, then the OPTIONS answer over TLS.
    upgraded = tool(link.a, "tls", "198.51.100.2", str(pb.ipp_port), "--upgrade")
    assert "error" not in upgraded, upgraded
    assert upgraded["dns"] == first["dns"]
    assert upgraded["answer"].startswith("HTTP/1.1 200 OK\r\n"), upgraded
    assert "Allow: GET, HEAD, OPTIONS, POST" in upgraded["answer"]

    # A new address: the certificate is issued again for it, with the same key.
    key = (pb.state_dir / "tls" / "server.key").read_bytes()
    # (Deleting the primary address first: it would take a secondary one with it.)
    link.b.ip("addr", "del", "198.51.100.2/24", "dev", link.vb)
    link.b.ip("addr", "add", "198.51.100.7/24", "dev", link.vb)
    pb.wait_advertised("198.51.100.7", "Office")

    def renewed() -> dict[str, object] | None:
        cert = tool(link.a, "tls", "198.51.100.7", str(pb.ipp_port))
        return cert if "198.51.100.7" in cert.get("ip", []) else None

    moved = wait_for(renewed, 10, "a certificate for 198.51.100.7")
    assert moved["ip"] == ["127.0.0.1", "198.51.100.7", "::1"], moved
    assert moved["dns"] == first["dns"]
    assert (pb.state_dir / "tls" / "server.key").read_bytes() == key
