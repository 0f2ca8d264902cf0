"""The agent's MIB: one sorted table of OID → value source, searched by bisection.

Every instance the agent serves is one row ``(object OID, instance index, getter)``; the
getter reads the printer model (or the OS) when a request asks, so answers are never
stale.  GETNEXT and GETBULK (RFC 3416 §4.2.2, §4.2.3) need the lexicographic successor of
an OID: Python compares ``tuple[int, ...]`` exactly as RFC 3416 §4.1 orders OIDs, so the
successor is one ``bisect`` away.

Tables are described as data — a list of :class:`Column` and a list of rows — and expanded
by :func:`table`.  Row sets change at run time (alerts come and go, interfaces appear);
each MIB module reports a cheap *layout* key, and the table is rebuilt only when a key
changes.
"""

from __future__ import annotations

import bisect
import contextvars
import itertools
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pysnmp.proto import rfc1902, rfc1905

log = logging.getLogger(__name__)

OID = tuple[int, ...]
#: An SNMP value: one of the pyasn1 types of RFC 2578 (``pysnmp.proto.rfc1902``).
Value = Any
Getter = Callable[[], Value | None]
R = TypeVar("R")

MIB_2: OID = (1, 3, 6, 1, 2, 1)
ZERO_DOT_ZERO: OID = (0, 0)

NO_SUCH_OBJECT = rfc1905.noSuchObject
NO_SUCH_INSTANCE = rfc1905.noSuchInstance
END_OF_MIB_VIEW = rfc1905.endOfMibView

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


# -- RFC 2578 §7.1 value constructors (clamped or wrapped as the type demands)
def integer(value: int) -> Value:
    """Integer32 / INTEGER enumerations."""
    return rfc1902.Integer32(min(max(int(value), _INT32_MIN), _INT32_MAX))


def octets(value: str | bytes, size: int = 255) -> Value:
    """OCTET STRING / DisplayString / SnmpAdminString, UTF-8, cut to ``size`` octets."""
    data = value.encode("utf-8", "replace") if isinstance(value, str) else value
    return rfc1902.OctetString(data[:size])


def gauge(value: int) -> Value:
    """Gauge32: latches at 2^32-1 (RFC 2578 §7.1.7)."""
    return rfc1902.Gauge32(min(max(int(value), 0), 2**32 - 1))


def counter(value: int) -> Value:
    """Counter32: wraps at 2^32 (RFC 2578 §7.1.6)."""
    return rfc1902.Counter32(int(value) % 2**32)


def counter64(value: int) -> Value:
    """Counter64 (RFC 2578 §7.1.10); SNMPv1 requests never see it (RFC 3584 §4.2.2.1)."""
    return rfc1902.Counter64(int(value) % 2**64)


def ticks(hundredths: int | float) -> Value:
    """TimeTicks: hundredths of a second, modulo 2^32 (RFC 2578 §7.1.8)."""
    return rfc1902.TimeTicks(int(hundredths) % 2**32)


def oid(value: OID) -> Value:
    return rfc1902.ObjectIdentifier(value)


def truth(value: bool) -> Value:
    """TruthValue (RFC 2579): true(1), false(2)."""
    return rfc1902.Integer32(1 if value else 2)


def ip_address(dotted: str) -> Value:
    return rfc1902.IpAddress(dotted)


# -- the request being answered, for the few values that depend on who asks
_REQUEST: contextvars.ContextVar[Callable[[], tuple[str, int] | None]] = contextvars.ContextVar(
    "snmp_request_peer", default=lambda: None
)


def set_request_peer(peer: Callable[[], tuple[str, int] | None]) -> contextvars.Token[Any]:
    """Make the current request's client address available to value sources."""
    return _REQUEST.set(peer)


def reset_request_peer(token: contextvars.Token[Any]) -> None:
    _REQUEST.reset(token)


def request_peer() -> tuple[str, int] | None:
    """The (address, port) the request being answered came from, if known."""
    return _REQUEST.get()()


# -- entries and tables as data
@dataclass(slots=True, frozen=True)
class Entry:
    """One instance: ``obj`` is the object type's OID (scalar or column), ``index`` the
    instance identifier (``(0,)`` for scalars, RFC 2578 §7.7 for table rows)."""

    obj: OID
    index: OID
    get: Getter

    @property
    def oid(self) -> OID:
        return self.obj + self.index


def scalar(obj: OID, get: Getter) -> Entry:
    """A scalar object's single instance ``obj.0``."""
    return Entry(obj, (0,), get)


@dataclass(slots=True, frozen=True)
class Column(Generic[R]):
    """A column of a conceptual table: its sub-identifier under the entry OID and how to
    read it from a row."""

    sub: int
    name: str
    value: Callable[[R], Value | None]


def table(entry: OID, columns: Sequence[Column[R]],
          rows: Iterable[tuple[OID, R]]) -> Iterator[Entry]:
    """Expand a conceptual table (RFC 2578 §7.1.12): one instance per column and row."""
    rows = list(rows)
    for column in columns:
        obj = (*entry, column.sub)
        for index, row in rows:
            yield Entry(obj, index, _bind(column.value, row))


def _bind(fn: Callable[[R], Value | None], row: R) -> Getter:
    return lambda: fn(row)


class MibModule(Protocol):
    """A MIB module implementation: its instances and a key that changes with its rows."""

    def layout(self) -> Hashable:
        """Cheap to compute; equal keys mean :meth:`entries` would yield the same OIDs."""

    def entries(self) -> Iterable[Entry]:
        """Every instance, in any order."""


class MibTable:
    """The sorted table of every module's instances (RFC 3416 §4.1 lexicographic order)."""

    def __init__(self, modules: Sequence[MibModule]) -> None:
        self.modules = list(modules)
        self._layout: tuple[Hashable, ...] | None = None
        self._oids: list[OID] = []
        self._getters: list[Getter] = []
        self._objects: list[OID] = []
        self.rebuilds = 0

    def refresh(self) -> None:
        """Rebuild the sorted table if any module's rows changed."""
        layout = tuple(m.layout() for m in self.modules)
        if layout == self._layout:
            return
        entries = sorted(
            (e for m in self.modules for e in m.entries()), key=lambda e: e.oid
        )
        oids = [e.oid for e in entries]
        for a, b in itertools.pairwise(oids):
            if a == b:
                raise ValueError(f"OID {'.'.join(map(str, a))} registered twice")
        self._oids = oids
        self._getters = [e.get for e in entries]
        self._objects = sorted({e.obj for e in entries})
        self._layout = layout
        self.rebuilds += 1

    def __len__(self) -> int:
        return len(self._oids)

    def oids(self) -> list[OID]:
        return list(self._oids)

    def _read(self, position: int) -> Value | None:
        try:
            return self._getters[position]()
        except LookupError:  # the row went away between rebuilds
            return None
        except Exception:
            log.exception("SNMP value source for %s failed",
                          ".".join(map(str, self._oids[position])))
            return None

    def get(self, name: OID) -> Value:
        """The value of exactly ``name`` (RFC 3416 §4.2.1), or noSuchObject/noSuchInstance."""
        position = bisect.bisect_left(self._oids, name)
        if position < len(self._oids) and self._oids[position] == name:
            value = self._read(position)
            return NO_SUCH_INSTANCE if value is None else value
        below = bisect.bisect_right(self._objects, name) - 1
        if below >= 0 and name[: len(self._objects[below])] == self._objects[below]:
            return NO_SUCH_INSTANCE
        return NO_SUCH_OBJECT

    def next(self, name: OID, accept: Callable[[OID, Value], bool] | None = None
             ) -> tuple[OID, Value] | None:
        """The first instance after ``name`` that has a value (and that ``accept`` lets
        through: the access-control view); None at the end of the MIB view."""
        position = bisect.bisect_right(self._oids, name)
        while position < len(self._oids):
            value = self._read(position)
            if value is not None:
                found = self._oids[position]
                if accept is None or accept(found, value):
                    return found, value
            position += 1
        return None
