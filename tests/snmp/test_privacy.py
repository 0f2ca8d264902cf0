"""SNMPv3 privacy (authPriv) with every protocol the agent offers, over a real socket with
net-snmp's snmpget, with the installed cryptography and with a cryptography that looks
like Debian bookworm's python3-cryptography 38.0.4 to pysnmp.

pysnmp 7.1 imports its ciphers from ``cryptography.hazmat.decrepit`` (cryptography 43
and 47 made it); without that module every authPriv message fails silently as a
decryptionError.  :mod:`firmware.snmp.crypto_compat` gives pysnmp's cipher modules the
classes from where an older cryptography keeps them.  The ``pre-43`` daemons run with
the ``sitecustomize`` below, which hides ``cryptography.hazmat.decrepit`` from pysnmp as
bookworm's cryptography lacks it, so the newest cryptography proves the shim too:
without it those users are refused (and without that refusal the GETs time out).  Run
with bookworm's versions (a venv with cryptography 38.0.4), both variants exercise the
shim for real.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import ROOT, Daemon
from tests.snmp import netsnmp

SYS_NAME = ".1.3.6.1.2.1.1.5.0"

#: user → (config auth, config priv, net-snmp -a, net-snmp -x).  AES-192 with SHA-1 needs
#: the key extended past the 20-byte digest (Blumenthal's draft, as net-snmp does it).
USERS = {
    "aes": ("sha256", "aes", "SHA-256", "AES"),
    "aes192": ("sha", "aes192", "SHA", "AES-192"),
    "aes256": ("sha512", "aes256", "SHA-512", "AES-256"),
    "des": ("md5", "des", "MD5", "DES"),
}

#: Makes cryptography look older than 43 to pysnmp: an import statement in a pysnmp
#: module's body cannot import ``cryptography.hazmat.decrepit``.  Everyone else still
#: can: since 43 cryptography's own Rust core imports that module while making a cipher
#: (through ``__import__``, but from no module body).
HIDE_DECREPIT = '''\
import builtins
import sys

PREFIX = "cryptography.hazmat.decrepit"
real_import = builtins.__import__


def hiding_import(name, globals=None, locals=None, fromlist=(), level=0):
    if (level == 0 and (name == PREFIX or name.startswith(PREFIX + "."))
            and str((globals or {}).get("__name__", "")).startswith("pysnmp.")
            and sys._getframe(1).f_code.co_name == "<module>"):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return real_import(name, globals, locals, fromlist, level)


builtins.__import__ = hiding_import
'''


def snmp_config() -> str:
    lines = ["[snmp]", "v3_only = yes"]
    for user, (auth, priv, _, _) in USERS.items():
        lines.append(f"user.{user} = {auth}:{netsnmp.AUTH_KEY}:{priv}:{netsnmp.PRIV_KEY}")
    return "\n".join(lines) + "\n"


def auth_args(user: str) -> list[str]:
    _, _, auth, priv = USERS[user]
    return ["-v3", "-l", "authPriv", "-u", user, "-a", auth, "-A", netsnmp.AUTH_KEY,
            "-x", priv, "-X", netsnmp.PRIV_KEY]


@pytest.fixture(scope="module")
def hide_decrepit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose ``sitecustomize`` hides cryptography's decrepit module."""
    directory = tmp_path_factory.mktemp("pre43")
    (directory / "sitecustomize.py").write_text(HIDE_DECREPIT)
    return directory


@pytest.fixture(scope="module", params=["installed", "pre-43"])
def privacy_agent(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  hide_decrepit: Path) -> Iterator[Daemon]:
    netsnmp.require_tools()
    daemon = Daemon(tmp_path_factory.mktemp("snmp-priv") / "state", extra_config=snmp_config())
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "pre-43":
            mp.setenv("PYTHONPATH", os.pathsep.join(
                filter(None, [str(hide_decrepit), os.environ.get("PYTHONPATH")])))
        daemon.start()  # the environment is the daemon's from here on
    yield daemon
    daemon.stop()


@pytest.mark.parametrize("user", list(USERS))
def test_authpriv_get_with_every_privacy_protocol(privacy_agent: Daemon, user: str) -> None:
    host = f"udp:127.0.0.1:{privacy_agent.snmp_port}"
    result = netsnmp.run("snmpget", auth_args(user), host, SYS_NAME, timeout=1.0, retries=1)
    assert result.returncode == 0, (result.stderr, privacy_agent.log()[-2000:])
    assert "STRING" in result.stdout, result.stdout
    log = privacy_agent.log()
    assert "not added" not in log and "Traceback" not in log


def _pysnmp_cipher_flags(pythonpath: Path, before: str, after: str) -> str:
    """pysnmp's "no cipher" flags for AES and DES, with code run before and after pysnmp
    loads them."""
    code = (f"{before}\n"
            "import pysnmp.entity.engine\n"
            f"{after}\n"
            "from pysnmp.proto.secmod.rfc3826.priv import aes\n"
            "from pysnmp.proto.secmod.rfc3414.priv import des\n"
            "print(aes.PysnmpCryptoError, des.PysnmpCryptoError)\n")
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hidden_decrepit_breaks_pysnmp_as_bookworm_does_and_the_shim_mends_it(
        hide_decrepit: Path) -> None:
    """The ``pre-43`` simulation is faithful: pysnmp alone loses its ciphers (what it does
    with cryptography 38.0.4); ``crypto_compat.install`` gives them back."""
    install = "from firmware.snmp import crypto_compat; crypto_compat.install()"
    assert _pysnmp_cipher_flags(hide_decrepit, "", "") == "True True"
    assert _pysnmp_cipher_flags(hide_decrepit, "", install) == "False False"
    assert _pysnmp_cipher_flags(hide_decrepit, install, "") == "False False"


def test_user_whose_privacy_cannot_work_is_left_out_with_a_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from pysnmp.entity import config as snmp_config  # before aes: pysnmp's import order
    from pysnmp.proto.secmod.rfc3826.priv import aes

    from firmware.config import load_config
    from firmware.snmp import crypto_compat
    from firmware.snmp.agent import SnmpAgent
    from firmware.snmp.settings import load_settings
    from firmware.system import System

    crypto_compat.install()  # DES works, whatever the cryptography
    # Then pysnmp without its AES cipher, and nothing crypto_compat.install knows to mend.
    monkeypatch.setattr(aes, "PysnmpCryptoError", True)
    monkeypatch.setattr(crypto_compat, "_CIPHER_MODULES", {})
    assert "Ciphering services not available" in (
        crypto_compat.privacy_problem(snmp_config.USM_PRIV_CFB128_AES) or "")
    assert crypto_compat.privacy_problem(snmp_config.USM_PRIV_CBC56_DES) is None

    settings = load_settings({
        "user.nms": f"sha256:{netsnmp.AUTH_KEY}:aes:{netsnmp.PRIV_KEY}",
        "user.old": f"md5:{netsnmp.AUTH_KEY}:des:{netsnmp.PRIV_KEY}",
        "user.watcher": f"sha:{netsnmp.AUTH_KEY}",
    })
    agent = SnmpAgent(System(load_config(None, "emulator", {"state_dir": tmp_path})), settings)
    with caplog.at_level(logging.ERROR, logger="firmware.snmp.agent"):
        engine = agent._configure_engine()
    assert agent.refused_users == ["nms"]
    assert "SNMPv3 user nms not added: AES privacy does not work here" in caplog.text
    assert _usm_user_names(engine) == {"old", "watcher"}


def _usm_user_names(engine: Any) -> set[str]:
    """usmUserName of every row of the engine's usmUserTable (RFC 3414 §5)."""
    (column,) = engine.get_mib_builder().import_symbols("SNMP-USER-BASED-SM-MIB",
                                                        "usmUserName")
    return {str(instance.syntax) for instance in column._vars.values()}
