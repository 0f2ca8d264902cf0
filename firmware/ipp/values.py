"""Typed Python values for the IPP attribute syntaxes that have no natural builtin type.

Mapping between wire syntax (RFC 8010 §3.9) and Python:

==========================  =========================================================
integer, enum               ``int``
boolean                     ``bool``
octetString                 ``bytes``
dateTime                    aware ``datetime.datetime`` (see :func:`datetime_to_ipp`)
resolution                  :class:`Resolution`
rangeOfInteger              :class:`Range`
textWithLanguage            :class:`TextWithLanguage`
nameWithLanguage            :class:`NameWithLanguage`
begCollection ...           :class:`Collection` (members are :class:`Attribute`)
every other string syntax   ``str``
out-of-band (0x10-0x1F)     :class:`OutOfBand`
extension (0x7F)            :class:`ExtensionValue`
==========================  =========================================================

:class:`Attribute` lives here rather than in ``codec`` because collections are made of
attributes; ``codec`` re-exports it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum
from typing import Any

from firmware.ipp.tags import ValueTag

__all__ = [
    "Attribute",
    "Collection",
    "ExtensionValue",
    "NameWithLanguage",
    "OutOfBand",
    "Range",
    "Resolution",
    "ResolutionUnits",
    "TextWithLanguage",
    "datetime_from_ipp",
    "datetime_to_ipp",
]


class ResolutionUnits(IntEnum):
    """Units of a resolution value, RFC 8010 §3.9 (the 9th octet)."""

    DPI = 3  # dots per inch
    DPCM = 4  # dots per centimetre


@dataclass(slots=True, frozen=True)
class Resolution:
    """resolution: cross-feed and feed direction resolution, RFC 8010 §3.9 (9 octets)."""

    x: int
    y: int
    units: int = ResolutionUnits.DPI


@dataclass(slots=True, frozen=True)
class Range:
    """rangeOfInteger: inclusive bounds, RFC 8010 §3.9 (8 octets)."""

    lower: int
    upper: int


@dataclass(slots=True, frozen=True)
class TextWithLanguage:
    """textWithLanguage: text plus its natural language, RFC 8010 §3.9."""

    text: str
    language: str


@dataclass(slots=True, frozen=True)
class NameWithLanguage:
    """nameWithLanguage: name plus its natural language, RFC 8010 §3.9."""

    text: str
    language: str


@dataclass(slots=True, frozen=True)
class OutOfBand:
    """An out-of-band value ('unknown', 'no-value', ...), RFC 8010 §3.8: the tag is all."""

    tag: ValueTag


@dataclass(slots=True, frozen=True)
class ExtensionValue:
    """A value under the 0x7F extension tag, RFC 8010 §3.5.2: the first 4 octets of the
    value field carry the real 31-bit tag; ``data`` is the rest, kept opaque."""

    tag: int
    data: bytes


# --------------------------------------------------------------------------- dateTime

_DATETIME = struct.Struct(">HBBBBBBcBB")


def datetime_to_ipp(value: datetime) -> bytes:
    """Encode an aware datetime as an 11-octet RFC 2579 DateAndTime (RFC 8010 §3.9).

    Precision is a tenth of a second (the deci-seconds octet); the UTC offset must be a
    whole number of minutes.  A naive datetime is refused rather than guessed at.
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"dateTime needs a timezone-aware datetime, got naive {value!r}")
    seconds = int(offset.total_seconds())
    if seconds % 60 or offset.microseconds:
        raise ValueError(f"dateTime UTC offset {offset} is not a whole number of minutes")
    direction = b"+" if seconds >= 0 else b"-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return _DATETIME.pack(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 100_000,
        direction,
        hours,
        minutes,
    )


def datetime_from_ipp(data: bytes) -> datetime:
    """Decode an 11-octet RFC 2579 DateAndTime into an aware datetime.

    A leap second (60) becomes 59, since ``datetime`` cannot hold it.  Raises
    ``ValueError`` for a wrong length or any field out of range.
    """
    if len(data) != 11:
        raise ValueError(f"dateTime must be 11 octets, not {len(data)}")
    year, month, day, hour, minute, second, deci, direction, tz_h, tz_m = _DATETIME.unpack(data)
    if direction not in (b"+", b"-"):
        raise ValueError(f"dateTime direction from UTC must be '+' or '-', not {direction!r}")
    if deci > 9:
        raise ValueError(f"dateTime deci-seconds {deci} out of range 0-9")
    if second > 60:
        raise ValueError(f"dateTime seconds {second} out of range 0-60")
    if tz_m > 59:
        raise ValueError(f"dateTime UTC offset minutes {tz_m} out of range 0-59")
    offset = timedelta(hours=tz_h, minutes=tz_m)
    if direction == b"-":
        offset = -offset
    tz = UTC if not offset else timezone(offset)  # raises ValueError past 24 h
    return datetime(year, month, day, hour, minute, min(second, 59), deci * 100_000, tz)


# --------------------------------------------------------------------------- attributes


@dataclass(slots=True)
class Attribute:
    """One attribute: a name, a value tag and one or more values (RFC 8010 §3.1.4-§3.1.5).

    More than one value makes it a 1setOf.  When the values do not all share ``tag``
    (e.g. ``number-up-supported`` mixing integer and rangeOfInteger, RFC 8011 §5.2.9),
    ``value_tags`` holds one tag per value; otherwise it is ``None``.
    """

    name: str
    tag: ValueTag
    values: list[Any]
    value_tags: list[ValueTag] | None = field(default=None)

    def __post_init__(self) -> None:
        self.tag = ValueTag(self.tag)
        if not isinstance(self.values, list):
            self.values = list(self.values)
        if self.value_tags is not None:
            tags = [ValueTag(t) for t in self.value_tags]
            if len(tags) != len(self.values):
                raise ValueError(
                    f"attribute {self.name!r}: {len(tags)} value tags for {len(self.values)} values"
                )
            if tags and tags[0] != self.tag:
                raise ValueError(f"attribute {self.name!r}: value_tags[0] must equal tag")
            # Keep one canonical form so equal attributes compare equal.
            self.value_tags = None if all(t == self.tag for t in tags) else tags

    @property
    def value(self) -> Any:
        """The first (for most attributes, the only) value."""
        return self.values[0]

    def tag_of(self, index: int) -> ValueTag:
        """The value tag of ``values[index]``."""
        return self.tag if self.value_tags is None else self.value_tags[index]

    def tagged(self) -> Iterator[tuple[ValueTag, Any]]:
        """Yield ``(value_tag, value)`` pairs."""
        if self.value_tags is None:
            tag = self.tag
            for value in self.values:
                yield tag, value
        else:
            yield from zip(self.value_tags, self.values, strict=True)

    def append(self, value: Any, tag: ValueTag | None = None) -> None:
        """Add a value, with its own tag if it differs from :attr:`tag`."""
        if tag is None or tag == self.tag:
            if self.value_tags is not None:
                self.value_tags.append(self.tag)
        else:
            if self.value_tags is None:
                self.value_tags = [self.tag] * len(self.values)
            self.value_tags.append(ValueTag(tag))
        self.values.append(value)


def as_values(tag: ValueTag, value_or_values: Any) -> list[Any]:
    """Normalise the ``value_or_values`` argument of the ``add`` helpers to a list.

    A list or tuple is a 1setOf; anything else a single value.  ``None`` under an
    out-of-band tag stands for :class:`OutOfBand` of that tag.
    """
    if isinstance(value_or_values, list | tuple):
        return list(value_or_values)
    if value_or_values is None and 0x10 <= tag <= 0x1F:
        return [OutOfBand(ValueTag(tag))]
    return [value_or_values]


class AttributeMap(Mapping[str, Attribute]):
    """Ordered name -> :class:`Attribute` mapping shared by attribute groups and
    collections.  Iteration yields names (as for a dict); :attr:`attributes` the
    attributes in order.  Names are unique (RFC 8011 §5.1.6 for collection members)."""

    __slots__ = ("_members",)

    def __init__(self, attributes: Iterable[Attribute] = ()) -> None:
        attributes = list(attributes)
        self._members: dict[str, Attribute] = {a.name: a for a in attributes}
        if len(self._members) != len(attributes):
            self._members = {}
            for attribute in attributes:
                self.append(attribute)  # raises for the repeated name

    def __getitem__(self, name: str) -> Attribute:
        return self._members[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __delitem__(self, name: str) -> None:
        del self._members[name]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, AttributeMap):
            return NotImplemented
        # Order matters: it is part of what goes on the wire.
        return list(self._members.values()) == list(other._members.values())

    __hash__ = None  # type: ignore[assignment]

    @property
    def attributes(self) -> list[Attribute]:
        """The attributes, in order (a new list)."""
        return list(self._members.values())

    def append(self, attribute: Attribute) -> Attribute:
        """Add an attribute; a name already present raises ``ValueError``."""
        if attribute.name in self._members:
            raise ValueError(f"attribute {attribute.name!r} is already present")
        self._members[attribute.name] = attribute
        return attribute

    def add(self, name: str, tag: ValueTag | int, value_or_values: Any) -> Attribute:
        """Add ``name`` with value tag ``tag``; a list/tuple of values makes a 1setOf."""
        tag = ValueTag(tag)
        return self.append(Attribute(name, tag, as_values(tag, value_or_values)))

    def value(self, name: str, default: Any = None) -> Any:
        """The first value of ``name``, or ``default`` when absent."""
        attribute = self._members.get(name)
        return default if attribute is None else attribute.values[0]

    def remove(self, name: str) -> Attribute | None:
        """Remove and return ``name`` (``None`` if it was absent)."""
        return self._members.pop(name, None)


class Collection(AttributeMap):
    """collection value (RFC 8010 §3.1.6, RFC 8011 §5.1.6): ordered member attributes,
    any of which may hold further collections."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Collection({self.attributes!r})"
