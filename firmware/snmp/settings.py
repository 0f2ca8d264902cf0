"""The ``[snmp]`` section of ``printbridge.conf``: communities, SNMPv3 users, traps.

``firmware.config`` collects the section as strings; this module gives it meaning::

    [snmp]
    enabled = yes
    communities = public, monitoring     ; read-only SNMPv1/v2c communities
    v3_only = no                         ; yes: no communities at all, USM users only
    user.nms = sha256:AUTH-PASSPHRASE:aes:PRIV-PASSPHRASE
    user.watcher = sha:AUTH-PASSPHRASE   ; authNoPriv
    trap_destinations = 192.0.2.10, 192.0.2.11:1162
    trap_community = public              ; default: the first community
    trap_user = nms                      ; v3_only: the user traps are sent as
    contact = Printer admin <admin@example.com>
    location = Room 12                   ; default: the first printer's location

User names are lower-case (INI keys are case-folded).  Pass phrases are at least 8
characters (RFC 3414 §11.2) and are localized to the agent's engine ID (RFC 3414 §2.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from firmware.config import yes_no

#: Authentication protocols (RFC 3414 §6, RFC 7860 §4.2) by config keyword.
AUTH_PROTOCOLS = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
#: Privacy protocols (RFC 3826 AES-128; DES of RFC 3414 §8 for old managers).
PRIV_PROTOCOLS = ("aes", "aes128", "aes192", "aes256", "des")

_USER = re.compile(
    rf"^(?P<auth>{'|'.join(AUTH_PROTOCOLS)}):(?P<auth_key>.+?)"
    rf"(?::(?P<priv>{'|'.join(PRIV_PROTOCOLS)}):(?P<priv_key>.+))?$",
    re.IGNORECASE,
)


@dataclass(slots=True, frozen=True)
class UsmUser:
    """One SNMPv3 User-based Security Model user (RFC 3414)."""

    name: str
    auth_protocol: str
    auth_key: str
    priv_protocol: str | None = None
    priv_key: str | None = None

    @property
    def security_level(self) -> str:
        return "authPriv" if self.priv_protocol else "authNoPriv"


@dataclass(slots=True, frozen=True)
class TrapDestination:
    host: str
    port: int = 162


@dataclass(slots=True)
class SnmpSettings:
    enabled: bool = True
    communities: list[str] = field(default_factory=lambda: ["public"])
    users: list[UsmUser] = field(default_factory=list)
    v3_only: bool = False
    trap_destinations: list[TrapDestination] = field(default_factory=list)
    trap_community: str = ""
    trap_user: str = ""
    contact: str = ""
    location: str = ""

    @property
    def active_communities(self) -> list[str]:
        return [] if self.v3_only else self.communities


def _list(value: str) -> list[str]:
    return [v for v in re.split(r"[\s,]+", value.strip()) if v]


def parse_user(name: str, value: str) -> UsmUser:
    """``AUTH:KEY[:PRIV:KEY]`` (e.g. ``sha256:secret-one:aes:secret-two``)."""
    match = _USER.match(value.strip())
    if not match:
        raise ValueError(
            f"[snmp] user.{name}: expected AUTH:PASSPHRASE[:PRIV:PASSPHRASE] with AUTH one of "
            f"{', '.join(AUTH_PROTOCOLS)} and PRIV one of {', '.join(PRIV_PROTOCOLS)}"
        )
    user = UsmUser(
        name=name,
        auth_protocol=match["auth"].lower(),
        auth_key=match["auth_key"],
        priv_protocol=match["priv"].lower() if match["priv"] else None,
        priv_key=match["priv_key"],
    )
    for key in (user.auth_key, user.priv_key):
        if key is not None and len(key) < 8:
            raise ValueError(f"[snmp] user.{name}: pass phrases need 8 characters or more")
    return user


def parse_destination(value: str) -> TrapDestination:
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port or (host.count(":") and not host.startswith("[")):
        return TrapDestination(value.strip("[]"))
    return TrapDestination(host.strip("[]"), int(port))


def load_settings(section: dict[str, str] | None, default_contact: str = "") -> SnmpSettings:
    """Settings from the ``[snmp]`` section (absent: defaults, community ``public``)."""
    section = section or {}
    settings = SnmpSettings(contact=default_contact)
    for key, value in section.items():
        if key == "enabled":
            settings.enabled = yes_no("snmp", key, value)
        elif key == "communities":
            settings.communities = _list(value)
        elif key == "v3_only":
            settings.v3_only = yes_no("snmp", key, value)
        elif key.startswith("user."):
            settings.users.append(parse_user(key[5:], value))
        elif key == "trap_destinations":
            settings.trap_destinations = [parse_destination(v) for v in _list(value)]
        elif key == "trap_community":
            settings.trap_community = value.strip()
        elif key == "trap_user":
            settings.trap_user = value.strip()
        elif key == "contact":
            settings.contact = value.strip()
        elif key == "location":
            settings.location = value.strip()
        else:
            raise ValueError(f"unknown setting [snmp] {key}")
    if settings.v3_only and not settings.users:
        raise ValueError("[snmp] v3_only = yes needs at least one user.NAME")
    names = {u.name for u in settings.users}
    if settings.trap_user and settings.trap_user not in names:
        raise ValueError(f"[snmp] trap_user {settings.trap_user!r} is not a configured user")
    return settings
