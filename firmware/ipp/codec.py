"""RFC 8010 IPP message encoding and decoding, free of I/O.

A message (RFC 8010 §3.1.1) is an 8-octet header (version-number, operation-id or
status-code, request-id), attribute groups each opened by a delimiter tag, an
end-of-attributes tag, then document data.  :func:`encode` and :func:`decode` handle a
complete message in memory; :class:`MessageParser` takes the bytes of an HTTP body as
they arrive, buffers only the attribute part and hands back where the document starts.

Decoding is strict (anything outside RFC 8010 §3 is an :class:`IppParseError` with the
status a responder should answer with) but does not judge semantics: any version,
operation or request-id decodes, and it is the responder's job to refuse them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

from firmware.ipp.tags import DelimiterTag, Status, ValueTag
from firmware.ipp.values import (
    Attribute,
    AttributeMap,
    Collection,
    ExtensionValue,
    NameWithLanguage,
    OutOfBand,
    Range,
    Resolution,
    TextWithLanguage,
    datetime_from_ipp,
    datetime_to_ipp,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "Attribute",
    "AttributeGroup",
    "IppEncodeError",
    "IppParseError",
    "Message",
    "MessageParser",
    "decode",
    "encode",
    "iter_attributes",
]

#: Default cap on the attribute part (header to end-of-attributes tag inclusive).
DEFAULT_MAX_SIZE: Final = 1 << 20
#: Default cap on collection nesting; real attributes (media-col) nest 2-3 deep.
DEFAULT_MAX_DEPTH: Final = 32

#: RFC 8010 §3.2: name-length and value-length are SIGNED-SHORT.
_MAX_LENGTH: Final = 0x7FFF

_HEADER = struct.Struct(">BBHi")
_INT = struct.Struct(">i")
_UINT = struct.Struct(">I")
_SHORT = struct.Struct(">H")
_RANGE = struct.Struct(">ii")
_RESOLUTION = struct.Struct(">iib")
_TAG_AND_LENGTH = struct.Struct(">BH")

_BAD_REQUEST: Final = Status.CLIENT_ERROR_BAD_REQUEST
_TOO_LARGE: Final = Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE


class IppParseError(Exception):
    """A message that is not valid RFC 8010 encoding, or is over a configured limit.

    ``status`` is what to answer with (client-error-bad-request, or
    client-error-request-entity-too-large for the size limit).  ``request_id``,
    ``operation`` and ``version`` are filled in once the 8-octet header was read, so the
    error response can echo the request-id (RFC 8011 §4.1.1).
    """

    def __init__(
        self,
        message: str,
        status: Status = _BAD_REQUEST,
        *,
        offset: int | None = None,
        request_id: int | None = None,
        operation: int | None = None,
        version: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.offset = offset
        self.request_id = request_id
        self.operation = operation
        self.version = version

    def __str__(self) -> str:
        return f"{self.message} ({self.status.keyword})"


class IppEncodeError(ValueError):
    """A :class:`Message` that cannot be encoded (wrong Python type for a value tag,
    a value longer than 32767 octets, ...).  Always a bug in the caller."""


class AttributeGroup(AttributeMap):
    """One attribute group (RFC 8010 §3.1.2): a delimiter tag and ordered attributes,
    looked up by name like a dict (``group.get(name)``, ``name in group``)."""

    __slots__ = ("tag",)

    def __init__(self, tag: DelimiterTag | int, attributes: Iterable[Attribute] = ()) -> None:
        tag = DelimiterTag(tag)
        if tag is DelimiterTag.END:
            raise ValueError("end-of-attributes-tag does not open a group")
        self.tag = tag
        super().__init__(attributes)

    @classmethod
    def of(cls, tag: DelimiterTag | int, members: dict[str, Attribute]) -> AttributeGroup:
        """A group holding a copy of ``members`` (name -> attribute, so unique already):
        one dict copy, for answers built from cached selections."""
        group = cls(tag)
        group._members = dict(members)
        return group

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AttributeGroup):
            return NotImplemented
        return self.tag == other.tag and AttributeMap.__eq__(self, other) is True

    __hash__ = None

    def __repr__(self) -> str:
        return f"AttributeGroup({self.tag.name}, {self.attributes!r})"


@dataclass(slots=True)
class Message:
    """An IPP request or response (RFC 8010 §3.1.1).

    ``code`` is the operation-id of a request or the status-code of a response.  Groups
    keep their order and a tag may repeat (one job group per job in Get-Jobs).
    """

    version: tuple[int, int] = (2, 0)
    code: int = 0
    request_id: int = 1
    groups: list[AttributeGroup] = field(default_factory=list)

    @property
    def operation(self) -> AttributeGroup | None:
        """The first operation-attributes group, if any."""
        return self.group(DelimiterTag.OPERATION)

    def group(self, tag: DelimiterTag) -> AttributeGroup | None:
        """The first group with ``tag``, if any."""
        for group in self.groups:
            if group.tag == tag:
                return group
        return None

    def groups_of(self, tag: DelimiterTag) -> list[AttributeGroup]:
        """Every group with ``tag``, in order."""
        return [group for group in self.groups if group.tag == tag]

    def add_group(self, tag: DelimiterTag | int) -> AttributeGroup:
        """Append a new, empty group and return it."""
        group = AttributeGroup(tag)
        self.groups.append(group)
        return group

    def find(self, name: str, group_tag: DelimiterTag | None = None) -> Attribute | None:
        """The first attribute called ``name`` (in groups with ``group_tag`` if given)."""
        for group in self.groups:
            if group_tag is None or group.tag == group_tag:
                attribute = group.get(name)
                if attribute is not None:
                    return attribute
        return None


# =========================================================================== encoding


class EncodedAttribute(Attribute):
    """An attribute whose wire form was computed once (:func:`pre_encode`).

    Responses repeat most printer attributes unchanged from one request to the next;
    keeping their bytes makes encoding them a copy instead of a walk over every value.
    """

    __slots__ = ("wire",)

    def __init__(self, attribute: Attribute, wire: bytes) -> None:
        super().__init__(attribute.name, attribute.tag, attribute.values, attribute.value_tags)
        self.wire = wire


def pre_encode(attribute: Attribute) -> EncodedAttribute:
    """Encode a top-level attribute now; :func:`encode` then copies its bytes."""
    out = bytearray()
    _encode_attribute(out, attribute, attribute.name, 0)
    return EncodedAttribute(attribute, bytes(out))


def encode(message: Message) -> bytes:
    """Encode ``message`` per RFC 8010 §3.1-§3.9 (attribute part only: append document
    data yourself).  Raises :class:`IppEncodeError` for a value that cannot be encoded."""
    try:
        header = _HEADER.pack(*message.version, message.code, message.request_id)
    except struct.error as exc:
        raise IppEncodeError(f"bad message header: {exc}") from None
    out = bytearray(header)
    for group in message.groups:
        out.append(group.tag)
        for attribute in group._members.values():
            if type(attribute) is EncodedAttribute:
                out += attribute.wire
            else:
                _encode_attribute(out, attribute, attribute.name, 0)
    out.append(DelimiterTag.END)
    return bytes(out)


def _encode_attribute(out: bytearray, attribute: Attribute, name: str, depth: int) -> None:
    # `name` is the attribute name at top level and "" for collection members, whose
    # names travel in memberAttrName values instead (RFC 8010 §3.1.6).
    if not attribute.values:
        raise IppEncodeError(f"attribute {attribute.name!r} has no values")
    name_bytes = _ascii(name, attribute.name, "name")
    for tag, value in attribute.tagged():
        if tag == ValueTag.BEG_COLLECTION:
            if not isinstance(value, Collection):
                raise IppEncodeError(
                    f"attribute {attribute.name!r}: begCollection value must be a "
                    f"Collection, not {type(value).__name__}"
                )
            _encode_collection(out, value, name_bytes, attribute.name, depth + 1)
        else:
            data = _encode_value(tag, value, attribute.name)
            _put(out, tag, name_bytes, data, attribute.name)
        # Additional values of a 1setOf carry a zero-length name (RFC 8010 §3.1.5).
        name_bytes = b""


def _encode_collection(
    out: bytearray, collection: Collection, name_bytes: bytes, owner: str, depth: int
) -> None:
    # RFC 8010 §3.1.6: begCollection (empty value), then per member a memberAttrName whose
    # VALUE is the member name followed by the member's values, all with empty names,
    # then endCollection.
    if depth > DEFAULT_MAX_DEPTH:
        raise IppEncodeError(f"collection {owner!r} nests deeper than {DEFAULT_MAX_DEPTH}")
    _put(out, ValueTag.BEG_COLLECTION, name_bytes, b"", owner)
    for member in collection._members.values():
        _put(out, ValueTag.MEMBER_ATTR_NAME, b"", _ascii(member.name, owner, "member name"), owner)
        _encode_attribute(out, member, "", depth)
    out += b"\x37\x00\x00\x00\x00"  # endCollection, empty name and value


def _put(out: bytearray, tag: int, name_bytes: bytes, data: bytes, owner: str) -> None:
    if len(name_bytes) > _MAX_LENGTH:
        raise IppEncodeError(f"attribute name {owner[:40]!r}... is longer than 32767 octets")
    if len(data) > _MAX_LENGTH:
        raise IppEncodeError(f"a value of {owner!r} is {len(data)} octets, more than 32767")
    out += _TAG_AND_LENGTH.pack(tag, len(name_bytes))
    out += name_bytes
    out += _SHORT.pack(len(data))
    out += data


def _ascii(text: Any, owner: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise IppEncodeError(f"{what} of {owner!r} must be str, not {type(text).__name__}")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise IppEncodeError(f"{what} of {owner!r} is not US-ASCII: {text!r}") from None


# US-ASCII string syntaxes (RFC 8010 §3.9); memberAttrName is handled structurally.
_ASCII_TAGS: Final = frozenset(
    {
        ValueTag.KEYWORD,
        ValueTag.URI,
        ValueTag.URI_SCHEME,
        ValueTag.CHARSET,
        ValueTag.NATURAL_LANGUAGE,
        ValueTag.MIME_MEDIA_TYPE,
    }
)


def _encode_value(tag: ValueTag, value: Any, owner: str) -> bytes:
    """The value field for one non-collection value (RFC 8010 §3.9)."""
    try:
        if tag in _ASCII_TAGS:
            return _ascii(value, owner, f"{tag.keyword} value")
        if tag == ValueTag.TEXT_WITHOUT_LANGUAGE or tag == ValueTag.NAME_WITHOUT_LANGUAGE:
            if isinstance(value, str):
                return value.encode("utf-8")
        elif tag == ValueTag.INTEGER or tag == ValueTag.ENUM:
            if isinstance(value, int):
                return _INT.pack(value)
        elif tag == ValueTag.BOOLEAN:
            if value is True or value is False or value in (0, 1):
                return b"\x01" if value else b"\x00"
        elif 0x10 <= tag <= 0x1F:
            return b""
        elif tag == ValueTag.OCTET_STRING:
            if isinstance(value, bytes | bytearray | memoryview):
                return bytes(value)
            if isinstance(value, str):
                return value.encode("utf-8")
        elif tag == ValueTag.DATE_TIME:
            if isinstance(value, datetime):
                return datetime_to_ipp(value)
        elif tag == ValueTag.RESOLUTION:
            if isinstance(value, Resolution):
                return _RESOLUTION.pack(value.x, value.y, value.units)
        elif tag == ValueTag.RANGE_OF_INTEGER:
            if isinstance(value, Range):
                return _RANGE.pack(value.lower, value.upper)
        elif tag == ValueTag.TEXT_WITH_LANGUAGE or tag == ValueTag.NAME_WITH_LANGUAGE:
            if isinstance(value, TextWithLanguage | NameWithLanguage):
                # RFC 8010 §3.9: a SIGNED-SHORT length and the language, then a
                # SIGNED-SHORT length and the text, all inside the one value field.
                language = value.language.encode("ascii")
                text = value.text.encode("utf-8")
                return _SHORT.pack(len(language)) + language + _SHORT.pack(len(text)) + text
        elif tag == ValueTag.EXTENSION:
            if isinstance(value, ExtensionValue):
                if not 0 <= value.tag <= 0x7FFFFFFF:
                    raise IppEncodeError(f"extension tag {value.tag:#x} of {owner!r} too large")
                return _UINT.pack(value.tag) + bytes(value.data)
        else:
            raise IppEncodeError(f"{tag.keyword} is not a value syntax (attribute {owner!r})")
    except (struct.error, UnicodeEncodeError, ValueError, OverflowError) as exc:
        if isinstance(exc, IppEncodeError):
            raise
        raise IppEncodeError(
            f"cannot encode {value!r} as {tag.keyword} for {owner!r}: {exc}"
        ) from None
    raise IppEncodeError(
        f"cannot encode {type(value).__name__} {value!r} as {tag.keyword} for {owner!r}"
    )


# =========================================================================== decoding

# Value kinds, looked up by tag octet so the hot loop does a list index instead of
# building an enum member per value.  Structural kinds sort last (see the loop).
_K_ASCII, _K_UTF8, _K_INT, _K_OOB, _K_BOOL, _K_OCTETS, _K_DATE, _K_RES = range(8)
_K_RANGE, _K_LANG, _K_EXT, _K_BEG, _K_END, _K_MEMBER = range(8, 14)

_KINDS: list[int | None] = [None] * 256
_TAGS: list[ValueTag | None] = [None] * 256
for _tag in ValueTag:
    _TAGS[_tag] = _tag
    if _tag in _ASCII_TAGS:
        _KINDS[_tag] = _K_ASCII
    elif _tag.is_out_of_band:
        _KINDS[_tag] = _K_OOB
_KINDS[ValueTag.TEXT_WITHOUT_LANGUAGE] = _KINDS[ValueTag.NAME_WITHOUT_LANGUAGE] = _K_UTF8
_KINDS[ValueTag.INTEGER] = _KINDS[ValueTag.ENUM] = _K_INT
_KINDS[ValueTag.BOOLEAN] = _K_BOOL
_KINDS[ValueTag.OCTET_STRING] = _K_OCTETS
_KINDS[ValueTag.DATE_TIME] = _K_DATE
_KINDS[ValueTag.RESOLUTION] = _K_RES
_KINDS[ValueTag.RANGE_OF_INTEGER] = _K_RANGE
_KINDS[ValueTag.TEXT_WITH_LANGUAGE] = _KINDS[ValueTag.NAME_WITH_LANGUAGE] = _K_LANG
_KINDS[ValueTag.BEG_COLLECTION] = _K_BEG
_KINDS[ValueTag.END_COLLECTION] = _K_END
_KINDS[ValueTag.MEMBER_ATTR_NAME] = _K_MEMBER
_KINDS[ValueTag.EXTENSION] = _K_EXT
_OUT_OF_BAND: list[OutOfBand | None] = [
    OutOfBand(tag) if tag is not None and tag.is_out_of_band else None for tag in _TAGS
]
_FIXED_SIZE = {_K_INT: 4, _K_BOOL: 1, _K_DATE: 11, _K_RES: 9, _K_RANGE: 8}
_GROUP_TAGS: list[DelimiterTag | None] = [None] * 16
for _dtag in DelimiterTag:
    _GROUP_TAGS[_dtag] = _dtag
del _tag, _dtag

_Buffer = bytes | bytearray | memoryview
_Fail = Callable[..., IppParseError]  # builds an error carrying the header's context


def decode(
    data: _Buffer, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH
) -> tuple[Message, int]:
    """Decode the attribute part of a message (RFC 8010 §3.1).

    Returns the message and the offset just past the end-of-attributes tag, where the
    document data starts.  Raises :class:`IppParseError`, and nothing else, for any
    content of ``data``: client-error-request-entity-too-large when the attribute part
    would exceed ``max_size`` octets, client-error-bad-request otherwise.
    """
    if isinstance(data, memoryview):
        # The loop slices and .decode()s; a memoryview slice cannot, so copy out the
        # part that can hold attributes (at most max_size octets, never the document).
        data = data.cast("B")[:max_size].tobytes() if data.c_contiguous else data.tobytes()
        return _decode(data, len(data), max_size, max_depth)
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"decode() needs a bytes-like object, not {type(data).__name__}")
    return _decode(data, len(data), max_size, max_depth)


class _Frame:
    """An open collection while decoding: where its member values go."""

    __slots__ = ("collection", "member", "owner", "pending")

    def __init__(self, collection: Collection, owner: str) -> None:
        self.collection = collection
        self.member: Attribute | None = None  # member receiving additional values
        self.pending: str | None = None  # member name read, no value yet
        self.owner = owner  # for error messages


def _decode(data: bytes | bytearray, n: int, max_size: int, max_depth: int) -> tuple[Message, int]:
    # One flat loop over tags with an explicit stack for collections: no recursion, so
    # hostile nesting cannot reach the interpreter's recursion limit, and little call
    # overhead per attribute.  Error messages are built only on the failure paths.
    if n < 8:
        raise IppParseError(
            f"message of {n} octets is shorter than the 8-octet header (RFC 8010 §3.1.1)",
            offset=0,
        )
    major, minor, code, request_id = _HEADER.unpack_from(data, 0)
    context: dict[str, Any] = {
        "request_id": request_id,
        "operation": code,
        "version": (major, minor),
    }

    def fail(message: str, offset: int, status: Status = _BAD_REQUEST) -> IppParseError:
        return IppParseError(message, status, offset=offset, **context)

    limit = n if n < max_size else max_size
    message = Message((major, minor), code, request_id, [])
    groups = message.groups
    members: dict[str, Attribute] | None = None  # current group's attributes
    attribute: Attribute | None = None  # receives zero-length-name additional values
    stack: list[_Frame] = []
    kinds = _KINDS
    tags = cast("list[ValueTag]", _TAGS)  # entries are set wherever kinds[t] is not None
    from_bytes = int.from_bytes
    name_len = 0
    pos = start = 8
    while True:
        if pos >= limit:
            if pos >= max_size:
                raise fail(f"attribute part larger than {max_size} bytes", pos, _TOO_LARGE)
            raise fail(f"message ends at offset {pos} without end-of-attributes-tag", pos)
        t = data[pos]
        if t < 0x10:
            # Delimiter tag (RFC 8010 §3.5.1).
            if stack:
                raise fail(
                    f"collection {stack[-1].owner!r} not closed by endCollection before "
                    f"delimiter tag {t:#04x} at offset {pos}",
                    pos,
                )
            if t == 0x03:
                return message, pos + 1
            group_tag = _GROUP_TAGS[t]
            if group_tag is None:
                raise fail(f"reserved delimiter tag {t:#04x} at offset {pos}", pos)
            group = AttributeGroup(group_tag)
            groups.append(group)
            members = group._members
            attribute = None
            pos += 1
            continue

        # An attribute-with-one-value or additional-value (RFC 8010 §3.1.4, §3.1.5):
        # value-tag, name-length, name, value-length, value.
        kind = kinds[t]
        if kind is None:
            raise fail(f"reserved value tag {t:#04x} at offset {pos}", pos)
        if members is None:
            raise fail(f"value tag {t:#04x} at offset {pos} before any group tag", pos)
        start = pos
        if pos + 3 > limit:
            raise _short(fail, pos + 3, max_size, f"truncated attribute header at offset {pos}")
        name_len = (data[pos + 1] << 8) | data[pos + 2]
        p = pos + 3 + name_len
        if name_len > _MAX_LENGTH:
            raise fail(f"name-length {name_len} at offset {pos + 1} exceeds 32767", pos + 1)
        if p + 2 > limit:
            raise _short(
                fail,
                p + 2,
                max_size,
                f"truncated name at offset {pos + 3}: length {name_len} past end of message",
            )
        value_len = (data[p] << 8) | data[p + 1]
        vs = p + 2
        pos = vs + value_len
        if value_len > _MAX_LENGTH:
            what = _label(data, start, name_len, stack, attribute)
            raise fail(f"value-length {value_len} of {what!r} at offset {p} exceeds 32767", p)
        if pos > limit:
            what = _label(data, start, name_len, stack, attribute)
            raise _short(
                fail,
                pos,
                max_size,
                f"truncated value of {what!r} at offset {start}: length {value_len} "
                "past end of message",
            )
        tag = tags[t]

        # Decode the value; structural tags (kind >= _K_BEG) carry none.
        try:
            if kind == _K_ASCII:
                value: Any = data[vs:pos].decode("ascii")
            elif kind == _K_UTF8:
                value = data[vs:pos].decode("utf-8")
            elif kind == _K_INT:
                if value_len != 4:
                    raise ValueError(f"has length {value_len}, not 4")
                value = from_bytes(data[vs:pos], "big", signed=True)
            elif kind == _K_OOB:
                # RFC 8010 §3.8: the value has no meaning; any octets are ignored.
                value = _OUT_OF_BAND[t]
            elif kind < _K_BEG:
                value = _decode_value(kind, t, data, vs, pos)
            elif kind == _K_BEG:
                if value_len:
                    raise ValueError("has a value (must be empty)")
                if len(stack) >= max_depth:
                    raise fail(f"collection nesting deeper than {max_depth}", start)
                value = Collection()
            elif kind == _K_MEMBER:
                _member_name(stack, name_len, value_len, data, vs, pos, start, fail)
                continue
            else:  # _K_END
                if not stack:
                    raise fail(f"endCollection outside a collection at offset {start}", start)
                if name_len or value_len:
                    raise fail(f"endCollection at offset {start} is not empty", start)
                frame = stack.pop()
                if frame.pending is not None:
                    raise fail(
                        f"member {frame.pending!r} of collection {frame.owner!r} has no "
                        f"value (offset {start})",
                        start,
                    )
                continue
        except ValueError as exc:  # includes UnicodeDecodeError
            if isinstance(exc, IppParseError):
                raise
            detail = (
                f"is not {'US-ASCII' if kind == _K_ASCII else 'UTF-8'}"
                if isinstance(exc, UnicodeDecodeError)
                else str(exc)
            )
            keyword = tag.keyword
            what = _label(data, start, name_len, stack, attribute)
            raise fail(
                f"{keyword} value of {what!r} at offset {start} {detail}",
                start,
            ) from None

        # Attach the value where it belongs.
        if stack:
            frame = stack[-1]
            if name_len:
                what = _label(data, start, name_len, stack, attribute)
                raise fail(
                    f"value with a name ({what!r}) inside collection {frame.owner!r} at "
                    f"offset {start}",
                    start,
                )
            member = frame.member
            if frame.pending is not None:
                member = Attribute.__new__(Attribute)
                member.name, member.tag, member.values = frame.pending, tag, [value]
                member.value_tags = None
                frame.collection._members[frame.pending] = member
                frame.member = member
                frame.pending = None
            elif member is not None:
                _add_value(member, tag, value)
            else:
                raise fail(
                    f"value in collection {frame.owner!r} at offset {start} without a "
                    "memberAttrName",
                    start,
                )
            owner = member.name
        elif name_len:
            try:
                name = data[start + 3 : p].decode("ascii")
            except UnicodeDecodeError:
                raise fail(
                    f"attribute name at offset {start + 3} is not US-ASCII", start + 3
                ) from None
            if name in members:
                raise fail(f"attribute {name!r} repeated in one group (offset {start})", start)
            attribute = Attribute.__new__(Attribute)
            attribute.name, attribute.tag, attribute.values = name, tag, [value]
            attribute.value_tags = None
            members[name] = attribute
            owner = name
        elif attribute is not None:
            _add_value(attribute, tag, value)
            owner = attribute.name
        else:
            raise fail(f"additional value at offset {start} follows no attribute", start)
        if kind == _K_BEG:
            stack.append(_Frame(value, owner))


def _label(
    data: bytes | bytearray,
    start: int,
    name_len: int,
    stack: list[_Frame],
    attribute: Attribute | None,
) -> str:
    """The attribute (or member) the value at ``start`` belongs to, for messages."""
    if name_len:
        return data[start + 3 : start + 3 + name_len].decode("ascii", "replace")
    if stack:
        frame = stack[-1]
        return frame.pending or (frame.member.name if frame.member else frame.owner)
    return attribute.name if attribute is not None else ""


def _member_name(
    stack: list[_Frame],
    name_len: int,
    value_len: int,
    data: bytes | bytearray,
    vs: int,
    ve: int,
    start: int,
    fail: _Fail,
) -> None:
    """Handle a memberAttrName (RFC 8010 §3.1.6): its value names the next member."""
    if not stack:
        raise fail(f"memberAttrName outside a collection at offset {start}", start)
    frame = stack[-1]
    if name_len:
        raise fail(f"memberAttrName at offset {start} has a name", start)
    if not value_len:
        raise fail(f"empty memberAttrName at offset {start}", start)
    if frame.pending is not None:
        raise fail(
            f"member {frame.pending!r} of collection {frame.owner!r} has no value (offset {start})",
            start,
        )
    try:
        member_name = data[vs:ve].decode("ascii")
    except UnicodeDecodeError:
        raise fail(f"memberAttrName at offset {start} is not US-ASCII", start) from None
    if member_name in frame.collection._members:
        raise fail(
            f"member {member_name!r} repeated in collection {frame.owner!r} (offset {start})",
            start,
        )
    frame.pending = member_name
    frame.member = None


def _short(fail: _Fail, needed: int, max_size: int, message: str) -> IppParseError:
    """The error for running out of bytes: too large if the limit is what cut it off."""
    if needed > max_size:
        return fail(f"attribute part larger than {max_size} bytes", needed, _TOO_LARGE)
    return fail(message, needed)


def _add_value(attribute: Attribute, tag: ValueTag, value: Any) -> None:
    # Attribute.append without the enum coercion; tags here are already ValueTag.
    if tag is attribute.tag:
        if attribute.value_tags is not None:
            attribute.value_tags.append(tag)
    else:
        if attribute.value_tags is None:
            attribute.value_tags = [attribute.tag] * len(attribute.values)
        attribute.value_tags.append(tag)
    attribute.values.append(value)


def _decode_value(kind: int, t: int, data: bytes | bytearray, vs: int, ve: int) -> Any:
    """Decode the less common syntaxes (RFC 8010 §3.9).  Raises ``ValueError`` with the
    tail of a message ("has length 3, not 8") for the caller to complete."""
    size = _FIXED_SIZE.get(kind)
    if size is not None and ve - vs != size:
        raise ValueError(f"has length {ve - vs}, not {size}")
    if kind == _K_BOOL:
        octet = data[vs]
        if octet > 1:
            raise ValueError(f"is {octet}, not 0 or 1")
        return octet == 1
    if kind == _K_OCTETS:
        return bytes(data[vs:ve])
    if kind == _K_RANGE:
        lower, upper = _RANGE.unpack_from(data, vs)
        return Range(lower, upper)
    if kind == _K_RES:
        x, y, units = _RESOLUTION.unpack_from(data, vs)
        return Resolution(x, y, units)
    if kind == _K_DATE:
        try:
            return datetime_from_ipp(bytes(data[vs:ve]))
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"is not a valid date: {exc}") from None
    if kind == _K_LANG:
        # Two SIGNED-SHORT length-prefixed strings that must exactly fill the value.
        if ve - vs < 4:
            raise ValueError("is too short for a language and a text")
        lang_len = (data[vs] << 8) | data[vs + 1]
        p = vs + 2 + lang_len
        if p + 2 > ve:
            raise ValueError(f"has a language of {lang_len} octets that overruns it")
        text_len = (data[p] << 8) | data[p + 1]
        if p + 2 + text_len != ve:
            raise ValueError(f"has a text length {text_len} that does not match its length")
        try:
            language = data[vs + 2 : p].decode("ascii")
            text = data[p + 2 : ve].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("has a language not US-ASCII or a text not UTF-8") from None
        if t == ValueTag.TEXT_WITH_LANGUAGE:
            return TextWithLanguage(text, language)
        return NameWithLanguage(text, language)
    # _K_EXT: the first 4 octets of the value are the real tag (RFC 8010 §3.5.2).
    if ve - vs < 4:
        raise ValueError("is shorter than 4 octets")
    real_tag = _UINT.unpack_from(data, vs)[0]
    if real_tag > 0x7FFFFFFF:
        raise ValueError(f"has the high bit set in its tag {real_tag:#x}")
    return ExtensionValue(real_tag, bytes(data[vs + 4 : ve]))


# =========================================================================== streaming


class MessageParser:
    """Incremental decoder for a message arriving in chunks (e.g. an HTTP body).

    :meth:`feed` buffers only the attribute part.  It walks the tag/length structure as
    bytes arrive, remembering its position, so total work is linear in the attribute
    part however the input is chunked; and it fails as soon as the attribute part is
    certain to exceed ``max_size``.  Once the end-of-attributes tag is seen the message is
    decoded and returned, and :attr:`remainder` holds the bytes of that last chunk that
    follow it: the start of the document data, which the caller streams on itself.
    """

    __slots__ = ("_buf", "_error", "_max_depth", "_max_size", "_message", "_remainder", "_scan")

    def __init__(
        self, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH
    ) -> None:
        if max_size < 9:
            raise ValueError("max_size must allow at least a header and an end tag (9)")
        self._max_size = max_size
        self._max_depth = max_depth
        self._buf = bytearray()
        self._scan = 8  # offset of the next tag to examine
        self._message: Message | None = None
        self._remainder = b""
        self._error: IppParseError | None = None

    @property
    def message(self) -> Message | None:
        """The decoded message once complete, else ``None``."""
        return self._message

    @property
    def done(self) -> bool:
        """True once the end-of-attributes tag was seen and the message decoded."""
        return self._message is not None

    @property
    def remainder(self) -> bytes:
        """Bytes received after the end-of-attributes tag (the start of document data)."""
        return self._remainder

    @property
    def buffered(self) -> int:
        """Octets of attribute part held so far (never more than ``max_size``)."""
        return len(self._buf)

    def feed(self, chunk: _Buffer) -> Message | None:
        """Take the next bytes; return the :class:`Message` when it is complete.

        Raises :class:`IppParseError` (and keeps raising it on later calls) for a bad or
        oversized message.  Feeding after completion is a usage error (``RuntimeError``):
        document data belongs to the caller.
        """
        if self._error is not None:
            raise self._error
        if self._message is not None:
            raise RuntimeError("message already complete; stream the document yourself")
        view = memoryview(chunk).cast("B") if not isinstance(chunk, bytes) else chunk
        if not view:
            return None
        buf = self._buf
        # Never hold more than max_size octets: if the end tag is not within them, the
        # attribute part is too large whatever follows.
        room = self._max_size - len(buf)
        buf += view[:room]
        try:
            end = self._walk()
            if end < 0:
                if len(view) > room:
                    raise self._too_large(self._max_size)
                return None
            message, offset = _decode(buf, end + 1, self._max_size, self._max_depth)
        except IppParseError as exc:
            self._error = exc
            self._buf = bytearray()
            raise
        tail = view[room:] if len(view) > room else b""
        self._remainder = bytes(buf[offset:]) + bytes(tail)
        self._message = message
        self._buf = bytearray()
        return message

    def close(self) -> None:
        """Signal end of input; raises :class:`IppParseError` if the message is incomplete."""
        if self._error is not None:
            raise self._error
        if self._message is None:
            self._error = IppParseError(
                f"message ended after {len(self._buf)} octets, before the end-of-attributes-tag",
                offset=len(self._buf),
                **self._context(),
            )
            raise self._error

    def _walk(self) -> int:
        """Advance over complete tags; return the end tag's offset or -1."""
        buf = self._buf
        n = len(buf)
        s = self._scan
        try:
            while s < n:
                t = buf[s]
                if t == 0x03:
                    return s
                if t < 0x10:
                    s += 1
                    continue
                if s + 3 > n:
                    self._check_need(s + 3)
                    break
                p = s + 3 + ((buf[s + 1] << 8) | buf[s + 2])
                if p + 2 > n:
                    self._check_need(p + 2)
                    break
                s = p + 2 + ((buf[p] << 8) | buf[p + 1])
            else:
                # Positioned at a tag we have not received yet.
                self._check_need(s + 1)
            return -1
        finally:
            self._scan = s

    def _check_need(self, needed: int) -> None:
        # Raise as soon as the structure read so far proves the attribute part is over
        # the limit, without waiting for those bytes to arrive.
        if needed > self._max_size:
            raise self._too_large(needed)

    def _too_large(self, offset: int) -> IppParseError:
        return IppParseError(
            f"attribute part larger than {self._max_size} bytes",
            _TOO_LARGE,
            offset=offset,
            **self._context(),
        )

    def _context(self) -> dict[str, Any]:
        if len(self._buf) < 8:
            return {}
        major, minor, code, request_id = _HEADER.unpack_from(self._buf, 0)
        return {"request_id": request_id, "operation": code, "version": (major, minor)}


def iter_attributes(message: Message) -> Iterator[tuple[AttributeGroup, Attribute]]:
    """Every (group, attribute) pair of ``message`` in wire order."""
    for group in message.groups:
        for attribute in group._members.values():
            yield group, attribute
