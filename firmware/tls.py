"""TLS for IPPS and HTTPS on the IPP port: the certificate and the server context.

A self-signed certificate is made on first start (cryptography; ECDSA P-256) with
subject alternative names for ``<host>`` , ``<host>.local`` and the addresses the
daemon listens on, and made again when the host name changes; a certificate the user
installs (``[tls] certificate`` / ``key``) is used as is.  Only TLS 1.2 and newer are
offered (RFC 8996 deprecates 1.0 and 1.1).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)


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


def wanted_names(hostname: str, addresses: list[str]) -> tuple[list[str], list[str]]:
    names = sorted({hostname, f"{hostname}.local", "localhost"})
    ips = sorted({a for a in [*addresses, "127.0.0.1", "::1"] if a not in ("0.0.0.0", "::")})
    return names, ips


def _current_names(cert_path: Path) -> tuple[list[str], list[str]] | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    return (sorted(san.get_values_for_type(x509.DNSName)),
            sorted(str(ip) for ip in san.get_values_for_type(x509.IPAddress)))


def generate(directory: Path, hostname: str, addresses: list[str]) -> Credentials:
    """Make (or reuse) the self-signed certificate under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    creds = Credentials(directory / "server.crt", directory / "server.key")
    names, ips = wanted_names(hostname, addresses)
    if creds.key.exists() and _current_names(creds.certificate) == (names, ips):
        return creds
    log.info("tls: making a self-signed certificate for %s", ", ".join(names + ips))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{hostname}.local"),
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
    fd = os.open(creds.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    creds.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return creds


def server_context(creds: Credentials) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(creds.certificate, creds.key)
    # No TLS 1.3 session tickets (RFC 8446 §4.6.1).  They arrive after the handshake, and
    # a CUPS (GnuTLS) client waiting with an I/O timeout for the IPP response, such as
    # ipptool -T, takes that unexpected record for a failed read and drops the
    # connection.  A printer gains little from resumption anyway.
    context.num_tickets = 0
    return context


def local_hostname() -> str:
    return socket.gethostname().split(".")[0] or "printbridge"
