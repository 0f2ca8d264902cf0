"""DNS-SD names: what a valid name is, what to rename to on a conflict, and keeping it.

* Service instance names (RFC 6763 §4.1.1) are free-form UTF-8 up to 63 octets (one DNS
  label).  On a conflict the Bonjour convention is ``Name (2)``, ``Name (3)`` ...; the
  Bonjour Printing Specification asks printers to keep the chosen name across power
  cycles so that clients' saved queues keep working.
* The mDNS host name is one label of letters, digits and hyphens (RFC 6762 §16 allows
  UTF-8, but RFC 1123 §2.1 labels are what every resolver copes with); on a conflict it
  becomes ``host-2``, ``host-3`` ... (RFC 6762 §9 leaves the scheme to the host).

:class:`NameStore` keeps the chosen names in the state directory, with the base name
they were derived from: when the configured name changes, the stored one is dropped.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from firmware.spool import atomic_write

log = logging.getLogger(__name__)

LABEL_MAX = 63  # octets in one DNS label (RFC 1035 §2.3.4)
DEFAULT_HOST = "printbridge"

_SERVICE_SUFFIX = re.compile(r"^(?P<base>.*?) \((?P<n>\d+)\)$")
_HOST_SUFFIX = re.compile(r"^(?P<base>.*?)-(?P<n>\d+)$")


def _truncate_utf8(text: str, octets: int) -> str:
    data = text.encode()[:octets]
    return data.decode(errors="ignore")


def service_name(base: str) -> str:
    """A valid instance name for ``base``: printable, at most 63 octets of UTF-8."""
    clean = "".join(c for c in base if c.isprintable()).strip() or "Printbridge"
    return _truncate_utf8(clean, LABEL_MAX).rstrip()


def next_service_name(current: str, base: str) -> str:
    """The name after ``current`` in the ``Base (n)`` sequence (n starts at 2)."""
    match = _SERVICE_SUFFIX.match(current)
    n = int(match["n"]) + 1 if match and match["base"] == service_name(base) else 2
    suffix = f" ({n})"
    return _truncate_utf8(service_name(base), LABEL_MAX - len(suffix)).rstrip() + suffix


def host_label(name: str) -> str:
    """A host name label: letters, digits, hyphens; no leading or trailing hyphen."""
    label = re.sub(r"[^A-Za-z0-9-]+", "-", name.split(".", 1)[0]).strip("-")
    return label[:LABEL_MAX].rstrip("-") or DEFAULT_HOST


def next_host_name(current: str, base: str) -> str:
    """The name after ``current`` in the ``base-n`` sequence (n starts at 2)."""
    base = host_label(base)
    match = _HOST_SUFFIX.match(current)
    n = int(match["n"]) + 1 if match and match["base"] == base else 2
    suffix = f"-{n}"
    return base[: LABEL_MAX - len(suffix)].rstrip("-") + suffix


class NameStore:
    """The chosen host and service names, in ``<state>/net/names.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] = {"host": {}, "services": {}}
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                self._data.update(loaded)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("dnssd: ignoring unreadable %s: %s", path, exc)

    def host(self, base: str) -> str:
        """The host name to use for configured name ``base``."""
        entry = self._data.get("host") or {}
        if entry.get("base") == base and entry.get("chosen"):
            return str(entry["chosen"])
        return base

    def service(self, key: str, base: str) -> str:
        """The instance name to use for printer ``key`` whose configured name is ``base``."""
        entry = (self._data.get("services") or {}).get(key) or {}
        if entry.get("base") == base and entry.get("chosen"):
            return str(entry["chosen"])
        return base

    def set_host(self, base: str, chosen: str) -> None:
        if self._data.get("host") != {"base": base, "chosen": chosen}:
            self._data["host"] = {"base": base, "chosen": chosen}
            self._save()

    def set_service(self, key: str, base: str, chosen: str) -> None:
        services = self._data.setdefault("services", {})
        if services.get(key) != {"base": base, "chosen": chosen}:
            services[key] = {"base": base, "chosen": chosen}
            self._save()

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(self._data, indent=1).encode())
        except OSError as exc:
            log.warning("dnssd: could not save the chosen names in %s: %s", self.path, exc)
