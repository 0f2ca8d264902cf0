"""Local users and groups with scrypt password hashes (``<state-dir>/users``).

One line per user: ``name:group,group:scrypt$N$r$p$salt$hash`` (base64).  Written with
the spool's atomic write protocol and mode 0600.  ``printbridge passwd USER`` manages it;
the web pages and (later) IPP authentication check against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from firmware.spool import atomic_write

ADMIN_GROUP = "admin"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
# RFC 7914 parameters: 2^14 costs about 16 MiB and 50 ms on a Pi Zero 2 W class CPU.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(slots=True)
class User:
    name: str
    groups: set[str] = field(default_factory=set)
    hash: str = ""

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


class UserDB:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, User]:
        users: dict[str, User] = {}
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return users
        for line in lines:
            parts = line.split(":")
            if len(parts) != 3 or not _NAME.match(parts[0]):
                continue
            users[parts[0]] = User(parts[0], {g for g in parts[1].split(",") if g}, parts[2])
        return users

    def save(self, users: dict[str, User]) -> None:
        text = "".join(f"{u.name}:{','.join(sorted(u.groups))}:{u.hash}\n"
                       for u in users.values())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, text.encode())
        os.chmod(self.path, 0o600)

    def set_password(self, name: str, password: str, groups: set[str] | None = None) -> User:
        if not _NAME.match(name):
            raise ValueError("user names are 1-32 of A-Z a-z 0-9 . _ -")
        if len(password) < 8:
            raise ValueError("passwords need at least 8 characters")
        users = self.load()
        user = users.get(name) or User(name)
        if groups is not None:
            user.groups = groups
        elif name not in users and not any(u.is_admin for u in users.values()):
            user.groups = {ADMIN_GROUP}  # the first user administers the printer
        user.hash = hash_password(password)
        users[name] = user
        self.save(users)
        return user

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.load().get(name)
        if user is None:
            hash_password(password)  # same work either way: no user-name oracle by timing
            return None
        return user if verify_password(password, user.hash) else None

    def has_admin(self) -> bool:
        return any(u.is_admin for u in self.load().values())
