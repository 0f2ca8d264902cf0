"""SNMPv3 privacy with the cryptography Debian bookworm ships (python3-cryptography 38.0.4).

Why this exists: pysnmp 7.1 imports its privacy ciphers from
``cryptography.hazmat.decrepit`` — ``decrepit.ciphers.modes.CFB`` for AES (RFC 3826,
and the AES-192/256 of Blumenthal's draft, which subclass it) and
``decrepit.ciphers.algorithms.TripleDES`` for DES (RFC 3414 §8) and 3DES.  cryptography
added ``decrepit.ciphers.algorithms`` in 43.0.0 and ``decrepit.ciphers.modes`` in
47.0.0, moving those very classes there from ``cryptography.hazmat.primitives.ciphers``;
pysnmp declares no cryptography version at all.  With an older cryptography pysnmp's
import fails, it catches the ImportError and sets its module flag ``PysnmpCryptoError``,
and from then on every authPriv message fails as ``decryptionError`` /
``encryptionError``: no log, no traceback, managers just time out.  (The "circular
import" seen when ``pysnmp...rfc3826.priv.aes`` is imported on its own is unrelated:
pysnmp's import order, with any cryptography.)

:func:`install` finds the pysnmp cipher modules whose import failed that way and gives
them the names their failed ``try`` block would have bound, from where cryptography kept
those classes before it moved them (the same classes, so the ciphertext is the same), and
clears the flag.  Nothing changes with cryptography 47 or newer.  The cryptography
package itself is not touched: since 43 its Rust core imports the decrepit module by
name, so a stand-in module there would break it.

:func:`privacy_problem` encrypts and decrypts one message through pysnmp's own privacy
service, so that the agent can refuse a user whose privacy would not work (a later
pysnmp that moves these names again, say) with a logged reason, rather than answer every
request with a silent failure.
"""

from __future__ import annotations

import importlib
import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _aes_names() -> dict[str, Any]:
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return {"default_backend": default_backend, "CFB": modes.CFB,
            "algorithms": algorithms, "Cipher": Cipher}


def _des_names() -> dict[str, Any]:
    # TripleDES lives in primitives.ciphers.algorithms up to 42 (and, deprecated, after).
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return {"default_backend": default_backend, "algorithms": algorithms,
            "Cipher": Cipher, "modes": modes}


#: pysnmp 7.1's cipher modules and what their ``try: from cryptography... import``
#: binds (pysnmp's AES-192/256 modules subclass the AES one and import no cipher).
_CIPHER_MODULES: dict[str, Callable[[], dict[str, Any]]] = {
    "pysnmp.proto.secmod.rfc3826.priv.aes": _aes_names,
    "pysnmp.proto.secmod.rfc3414.priv.des": _des_names,
    "pysnmp.proto.secmod.eso.priv.des3": _des_names,
}

#: The pysnmp modules :func:`install` mended (none with cryptography >= 47).
mended: list[str] = []


def install() -> list[str]:
    """Give pysnmp's cipher modules the cryptography names their import could not find
    (cryptography < 47); returns the modules mended.  Safe to call more than once."""
    # pysnmp's USM package first: importing a cipher module before it is pysnmp's own
    # circular import.
    importlib.import_module("pysnmp.proto.secmod.rfc3414")
    for name, names in _CIPHER_MODULES.items():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            log.warning("snmp: pysnmp has no %s (%s); its privacy protocol is off", name, exc)
            continue
        if not getattr(module, "PysnmpCryptoError", False):
            continue
        try:
            with warnings.catch_warnings():
                # A cryptography that has the decrepit module yet fails pysnmp's import
                # (43-46 for AES) warns about TripleDES at the old place; harmless here.
                warnings.simplefilter("ignore")
                values = names()
        except ImportError as exc:
            log.warning("snmp: no cipher for %s in this cryptography (%s)", name, exc)
            continue
        for attribute, value in values.items():
            setattr(module, attribute, value)
        # The module's methods read these globals at call time.
        module.PysnmpCryptoError = False
        mended.append(name)
    if mended:
        import cryptography
        log.debug("snmp: pysnmp's ciphers taken from cryptography %s's old places: %s",
                  cryptography.__version__, ", ".join(sorted(set(mended))))
    return mended


def privacy_problem(priv_protocol: tuple[int, ...]) -> str | None:
    """None if pysnmp can encrypt and decrypt with USM privacy protocol ``priv_protocol``
    (an OID such as ``usmAesCfb128Protocol``), else what goes wrong."""
    from pyasn1.type import univ
    from pysnmp.proto.error import StatusInformation
    from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel

    service = SnmpUSMSecurityModel.PRIV_SERVICES.get(tuple(priv_protocol))
    if service is None:
        return "pysnmp does not know this privacy protocol"
    key = univ.OctetString(bytes(range(32)))
    message = b"printbridge privacy probe".ljust(32, b".")
    try:
        ciphertext, salt = service.encrypt_data(key, (1, 1, b""), message)
        plaintext = service.decrypt_data(key, (1, 1, salt), ciphertext)
    except StatusInformation as exc:
        return _reason(str(exc.get("errorIndication", exc)))
    except Exception as exc:  # any failure inside the cipher is the same verdict
        return _reason(f"{type(exc).__name__}: {exc}")
    if bytes(plaintext)[: len(message)] != message:
        return _reason("a message did not decrypt to what was encrypted")
    return None


def _reason(what: str) -> str:
    version = getattr(sys.modules.get("cryptography"), "__version__", "unknown")
    return f"pysnmp's cipher fails with cryptography {version}: {what}"
