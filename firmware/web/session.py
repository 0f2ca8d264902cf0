"""Admin sessions for the web pages: a signed cookie and a CSRF token per session.

The cookie holds ``user|expiry|nonce`` and an HMAC-SHA256 over it with a per-device
secret (``<state-dir>/web-secret``, mode 0600), so nothing is stored server-side and a
restart keeps people logged in.  Forms that change anything carry the session's CSRF
token, HMAC(secret, "csrf" + nonce): a page on another site can make a browser post a
form here with the cookie, but cannot read the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "pb_session"
LIFETIME = 8 * 3600


@dataclass(slots=True, frozen=True)
class Session:
    user: str
    expires: int
    nonce: str


class SessionKeeper:
    def __init__(self, secret_path: Path) -> None:
        try:
            self.secret = secret_path.read_bytes()
        except FileNotFoundError:
            self.secret = b""
        if len(self.secret) < 32:
            self.secret = secrets.token_bytes(32)
            secret_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.secret)

    def _mac(self, message: str) -> str:
        digest = hmac.new(self.secret, message.encode("utf-8", "surrogateescape"),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, user: str) -> str:
        payload = f"{user}|{int(time.time()) + LIFETIME}|{secrets.token_urlsafe(12)}"
        return f"{payload}|{self._mac(payload)}"

    def check(self, cookie: str | None) -> Session | None:
        if not cookie or cookie.count("|") != 3:
            return None
        payload, mac = cookie.rsplit("|", 1)
        # Compare bytes: a forged cookie may hold any characters.
        if not hmac.compare_digest(mac.encode("utf-8", "replace"),
                                   self._mac(payload).encode()):
            return None
        user, expires, nonce = payload.split("|")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        return Session(user, int(expires), nonce)

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf|" + session.nonce)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode("utf-8", "replace"),
                                                   self.csrf_token(session).encode())
