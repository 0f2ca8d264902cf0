"""HTTP/1.1 request heads (RFC 9112 §2-§3, §5, §6.3) as pure, I/O-free code.

Used by the IPP fast path (:mod:`firmware.ipp.fastpath`), which answers the plainest
requests without aiohttp.  The parser is strict on purpose: it accepts only what it
can frame with certainty — a request line, fields, a single decimal ``Content-Length``
— and says "not mine" (``None`` from :func:`parse_head`) for everything else, so that
aiohttp's full HTTP implementation handles the request instead.

It also reads what an upgrade to TLS on the plain port needs (RFC 2817 §3, RFC 9110
§7.8): the protocols a request offers in ``Upgrade`` when ``Connection`` lists
``upgrade``, and the head again without those fields.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formatdate

#: Longest request head the fast path looks at; a longer one goes to aiohttp.
MAX_HEAD = 16 * 1024
HEAD_END = b"\r\n\r\n"


@dataclass(slots=True, frozen=True)
class RequestHead:
    """One request line and its fields (names lower-cased, values stripped)."""

    method: str
    target: str
    version: str
    fields: dict[str, str]
    size: int  # octets of the head, blank line included

    @property
    def content_length(self) -> int | None:
        """RFC 9112 §6.3: the body length, when given once as a plain decimal."""
        value = self.fields.get("content-length")
        if value is None or not value.isdigit() or len(value) > 15:
            return None
        return int(value)

    @property
    def content_type(self) -> str:
        return self.fields.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 connections persist unless the client says close (RFC 9112 §9.3)."""
        return "close" not in self.fields.get("connection", "").lower()

    @property
    def has_body(self) -> bool:
        """A body follows the head (RFC 9112 §6.3): a non-zero or unreadable
        ``Content-Length``, or any ``Transfer-Encoding``."""
        return "transfer-encoding" in self.fields or (
            "content-length" in self.fields and self.content_length != 0)

    @property
    def upgrade_offers(self) -> list[tuple[str, str]]:
        """(protocol, version) pairs, lower-cased, the client offers to switch to
        (RFC 9110 §7.8): ``Upgrade`` counts only when ``Connection`` lists ``upgrade``
        (§7.6.1 — an Upgrade field a proxy passed on without it is not meant for us)."""
        # Every plain request asks this: no Upgrade field is the common answer, and cheap.
        if "upgrade" not in self.fields or "upgrade" not in tokens(
                self.fields.get("connection", "")):
            return []
        offers = []
        for item in tokens(self.fields.get("upgrade", "")):
            name, _, version = item.partition("/")
            offers.append((name.strip(), version.strip()))
        return offers

    def without_upgrade(self) -> bytes:
        """This head again, minus ``Upgrade`` and the ``upgrade`` connection option:
        the request as it continues once the switch is done (RFC 2817 §3.3)."""
        lines = [f"{self.method} {self.target} {self.version}"]
        for name, value in self.fields.items():
            if name == "upgrade":
                continue
            if name == "connection":
                value = ", ".join(t for t in tokens(value) if t != "upgrade")
                if not value:
                    continue
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def tokens(value: str) -> list[str]:
    """The items of a comma-separated field value (RFC 9110 §5.6.1), lower-cased,
    empty ones dropped."""
    return [item.strip().lower() for item in value.split(",") if item.strip()]


def head_complete(buffer: bytes | bytearray) -> int:
    """The size of the request head at the start of ``buffer``; 0 while incomplete."""
    end = buffer.find(HEAD_END, 0, MAX_HEAD + len(HEAD_END))
    return 0 if end < 0 else end + len(HEAD_END)


def parse_head(data: bytes) -> RequestHead | None:
    """Parse one complete request head (``data`` ends with the blank line).

    ``None`` means "not for the fast path": anything unusual (obsolete line folding, a
    repeated field, a non-token method, bytes outside ASCII, HTTP/1.0) is left to the
    full HTTP implementation, which knows how to answer or reject it.
    """
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text[: -len(HEAD_END)].split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    # origin-form, or the asterisk-form of a server-wide OPTIONS (RFC 9112 §3.2.1, §3.2.4)
    form_ok = target.startswith("/") or (target == "*" and method == "OPTIONS")
    if version != "HTTP/1.1" or not method.isalpha() or not form_ok:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name or "\t" in name:
            return None  # includes obs-fold continuation lines (RFC 9112 §5.2)
        key = name.lower()
        if key in fields:
            return None  # repeated fields (Content-Length twice, say) are aiohttp's
        fields[key] = value.strip(" \t")
    return RequestHead(method, target, version, fields, len(data))


class DateCache:
    """The ``Date`` field value (RFC 9110 §6.6.1), formatted once per second."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._value = formatdate(second, usegmt=True)
        return self._value


def response_head(status: int, reason: str, fields: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{n}: {v}" for n, v in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
