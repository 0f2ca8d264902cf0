"""TLS for IPPS and HTTPS on the IPP port: the certificate and the server context.

A self-signed certificate is made on first start (cryptography; ECDSA P-256).  Its
subject alternative names are what clients reach the printer by (RFC 6125 §6.4, §6.2.1
for IP addresses; RFC 5280 §4.2.1.6):

* the ``.local`` host name DNS-SD claimed (RFC 6762 §8) — after a conflict renaming
  (``printbridge-2.local``) too — and ``localhost``;
* every address the printer serves: the usable IPv4 and IPv6 link-local addresses of
  its interfaces (an X.509 IP SAN carries no ``%scope``), and loopback.

:class:`ServerTls` owns the one :class:`ssl.SSLContext` every connection uses.  When
the name or the addresses change (a lease after link-local, a renaming), the network
code calls :meth:`ServerTls.update`: the certificate is issued again with the same key
(clients that trust it on first use, as CUPS does, see a renewal of the same key rather
than a stranger) and loaded into the same context, so new handshakes present it at
once.  A certificate the user installs (``[tls] certificate`` / ``key``) is used as is.

Only TLS 1.2 and newer are offered (RFC 8996 deprecates 1.0 and 1.1).
:data:`MINIMUM_VERSION` is the one place that says so: the context, the DNS-SD ``TLS``
key (:data:`TXT_VERSION`) and the HTTP Upgrade answer (:data:`UPGRADE_TOKEN`) follow it.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)

#: The oldest protocol version the server accepts (RFC 8996: nothing before 1.2).
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2
_VERSION_LABELS = {ssl.TLSVersion.TLSv1_2: "1.2", ssl.TLSVersion.TLSv1_3: "1.3"}
#: The DNS-SD TXT ``TLS`` value, "major.minor": the TLS version the printer accepts
#: (Bonjour Printing Specification 1.2.1, TXT record keys for IPP; PWG 5100.14-2020,
#: IPP Everywhere v1.1, DNS-SD TXT record keys).  What the printer negotiates at the
#: least, as CUPS and PAPPL advertise it: "1.2" while TLS 1.2 is accepted (TLS 1.3
#: clients connect too).  The PWG self-certification test B-5 checks ``^[1-9]\.[0-9]``.
TXT_VERSION = _VERSION_LABELS[MINIMUM_VERSION]
#: The protocol named in a ``101 Switching Protocols`` answer (RFC 2817 §3.3).
UPGRADE_TOKEN = f"TLS/{TXT_VERSION}"


@dataclass(slots=True, frozen=True)
class Credentials:
    certificate: Path
    key: Path

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, as browsers show it."""
        cert = x509.load_pem_x509_certificate(self.certificate.read_bytes())
        digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()


def wanted_names(hostname: str, addresses: Iterable[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) for host ``hostname`` (one label, or a name ending in
    ``.local``) serving at ``addresses``; wildcards and IPv6 scopes are dropped."""
    label = hostname.removesuffix(".").removesuffix(".local")
    names = sorted({f"{label}.local", "localhost"})
    ips = set()
    for text in [*addresses, "127.0.0.1", "::1"]:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if not address.is_unspecified:
            ips.add(str(address))
    return names, sorted(ips, key=lambda a: (":" in a, ipaddress.ip_address(a).packed))


def certificate_names(cert_path: Path) -> tuple[list[str], list[str]] | None:
    """(DNS names, IP addresses) of the certificate's subject alternative names."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return (sorted(san.get_values_for_type(x509.DNSName)),
            sorted(ips, key=lambda a: (":" in a, ipaddress.ip_address(a).packed)))


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, ec.EllipticCurvePrivateKey) else None


def generate(directory: Path, hostname: str, addresses: Iterable[str]) -> Credentials:
    """Make (or reuse) the self-signed certificate under ``directory`` for ``hostname``
    and ``addresses``; a new certificate keeps the existing key."""
    directory.mkdir(parents=True, exist_ok=True)
    creds = Credentials(directory / "server.crt", directory / "server.key")
    names, ips = wanted_names(hostname, addresses)
    key = _load_key(creds.key)
    if key is not None and certificate_names(creds.certificate) == (names, ips):
        return creds
    if key is None:
        key = ec.generate_private_key(ec.SECP256R1())
        fd = os.open(creds.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    log.info("tls: issuing a self-signed certificate for %s", ", ".join(names + ips))
    common_name = next(n for n in names if n.endswith(".local"))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Printbridge")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in names]
            + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    # Whole file or nothing: a reader (the context reload, a second start) never sees
    # half a certificate.
    temp = creds.certificate.with_suffix(".tmp")
    temp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    temp.replace(creds.certificate)
    return creds


def server_context(creds: Credentials) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = MINIMUM_VERSION
    context.load_cert_chain(creds.certificate, creds.key)
    # No TLS 1.3 session tickets (RFC 8446 §4.6.1).  They arrive after the handshake, and
    # a CUPS (GnuTLS) client waiting with an I/O timeout for the IPP response, such as
    # ipptool -T, takes that unexpected record for a failed read and drops the
    # connection.  A printer gains little from resumption anyway.
    context.num_tickets = 0
    return context


class ServerTls:
    """The server's TLS context and the certificate behind it (see the module doc).

    ``installed``: the user's own certificate, never re-issued.  ``on_change`` is called
    with the credentials after each new certificate (the web page shows its
    fingerprint)."""

    def __init__(self, directory: Path, hostname: str, addresses: Iterable[str], *,
                 installed: Credentials | None = None,
                 on_change: Callable[[Credentials], None] | None = None) -> None:
        self.directory = directory
        self.installed = installed is not None
        self.on_change = on_change
        self.credentials = installed or generate(directory, hostname, addresses)
        self.context = server_context(self.credentials)

    @property
    def names(self) -> tuple[list[str], list[str]] | None:
        return certificate_names(self.credentials.certificate)

    def update(self, hostname: str, addresses: Iterable[str]) -> bool:
        """Re-issue the self-signed certificate if ``hostname`` or ``addresses`` are not
        the ones it names; True if it changed.  New handshakes present it at once."""
        if self.installed:
            return False
        wanted = wanted_names(hostname, addresses)
        if self.names == wanted:
            return False
        try:
            self.credentials = generate(self.directory, hostname, wanted[1])
            # Loading a chain again replaces the context's certificate for every later
            # handshake (SSL_CTX_use_certificate); connections already open keep theirs.
            self.context.load_cert_chain(self.credentials.certificate, self.credentials.key)
        except (OSError, ValueError, ssl.SSLError) as exc:
            log.error("tls: could not issue a certificate for %s: %s", hostname, exc)
            return False
        if self.on_change is not None:
            self.on_change(self.credentials)
        return True


def local_hostname() -> str:
    return socket.gethostname().split(".")[0] or "printbridge"
