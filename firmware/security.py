"""Security settings and checks shared by the front ends: who may do what, and limits.

``[security]`` in printbridge.conf::

    max_connections = 1000     ; open HTTP/IPP connections, all clients together
    client_rate = 1000         ; IPP requests per second per client address (0: no limit)
    max_job_size = 0           ; bytes per document (0: no limit but the free disk)
    min_free_space = 64M       ; below this the printer stops accepting jobs
    first_byte_timeout = 30    ; seconds a new connection may stay silent
    body_timeout = 60          ; seconds a request body may stall

``[tls] enabled = yes`` (certificate and key optional).  Per printer,
``policy = open | authenticated``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass, field

from firmware.config import Config
from firmware.users import User, UserDB
from hal.options import truthy

_SUFFIX = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    text = text.strip().lower().rstrip("b")
    if text and text[-1] in _SUFFIX:
        return int(float(text[:-1]) * _SUFFIX[text[-1]])
    return int(text or 0)


@dataclass(slots=True)
class Limits:
    max_connections: int = 1000
    client_rate: float = 1000.0
    max_job_size: int = 0
    min_free_space: int = 64 << 20
    first_byte_timeout: float = 30.0
    body_timeout: float = 60.0

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        section = config.sections.get("security", {})
        limits = cls()
        for key in ("max_connections",):
            if key in section:
                setattr(limits, key, int(section[key]))
        for key in ("client_rate", "first_byte_timeout", "body_timeout"):
            if key in section:
                setattr(limits, key, float(section[key]))
        for key in ("max_job_size", "min_free_space"):
            if key in section:
                setattr(limits, key, parse_size(section[key]))
        return limits


def tls_enabled(config: Config) -> bool:
    return truthy(config.sections.get("tls", {}).get("enabled"), default=True)


@dataclass(slots=True)
class RateLimiter:
    """A token bucket per client address (burst of two seconds' worth)."""

    rate: float
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        tokens, stamp = self.buckets.get(client, (2 * self.rate, now))
        tokens = min(2 * self.rate, tokens + (now - stamp) * self.rate)
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return False
        self.buckets[client] = (tokens - 1, now)
        if len(self.buckets) > 4096:  # forget idle clients
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 10}
        return True


class BasicAuth:
    """HTTP Basic (RFC 7617) against the users file; verified logins are remembered for a
    minute so scrypt's cost is paid once per client, not once per request."""

    def __init__(self, users: UserDB) -> None:
        self.users = users
        self._cache: dict[str, tuple[float, User]] = {}

    def check(self, header: str) -> User | None:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        key = hashlib.sha256(encoded.encode()).hexdigest()
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit and now - hit[0] < 60:
            return hit[1]
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = self.users.authenticate(name, password)
        if user is not None:
            self._cache[key] = (now, user)
        return user
