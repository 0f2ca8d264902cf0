"""The [snmp] section: communities, USM users, trap destinations, mistakes refused."""

from __future__ import annotations

import pytest

from firmware.snmp.settings import TrapDestination, UsmUser, load_settings


def test_defaults_are_one_public_community_and_no_traps() -> None:
    settings = load_settings(None, default_contact="ops@example.com")
    assert settings.enabled and settings.communities == ["public"]
    assert settings.users == [] and settings.trap_destinations == []
    assert settings.contact == "ops@example.com"


def test_full_section() -> None:
    settings = load_settings({
        "communities": "public, monitoring  lab",
        "user.nms": "SHA256:pass:with:colons:aes:priv-phrase",
        "user.watch": "sha:auth-only-phrase",
        "trap_destinations": "192.0.2.10, 192.0.2.11:1162 [2001:db8::1]:1163 2001:db8::2",
        "v3_only": "no",
        "contact": "Admin <a@example.com>",
        "enabled": "yes",
    })
    assert settings.communities == ["public", "monitoring", "lab"]
    assert settings.users == [
        UsmUser("nms", "sha256", "pass:with:colons", "aes", "priv-phrase"),
        UsmUser("watch", "sha", "auth-only-phrase"),
    ]
    assert settings.users[0].security_level == "authPriv"
    assert settings.users[1].security_level == "authNoPriv"
    assert settings.trap_destinations == [
        TrapDestination("192.0.2.10"), TrapDestination("192.0.2.11", 1162),
        TrapDestination("2001:db8::1", 1163), TrapDestination("2001:db8::2"),
    ]


def test_v3_only_drops_communities() -> None:
    settings = load_settings({"v3_only": "yes", "user.a": "sha256:12345678"})
    assert settings.active_communities == []


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"user.a": "rot13:12345678"}, "expected AUTH:PASSPHRASE"),
        ({"user.a": "sha256:short"}, "8 characters"),
        ({"user.a": "sha256:12345678:aes:short"}, "8 characters"),
        ({"v3_only": "yes"}, "needs at least one user"),
        ({"v3_only": "maybe"}, "yes or no"),
        ({"trap_user": "ghost"}, "not a configured user"),
        ({"colour": "blue"}, "unknown setting"),
    ],
)
def test_mistakes_are_refused(section: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings(section)
