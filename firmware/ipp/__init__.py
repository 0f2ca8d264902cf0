"""IPP: the printer's IPP front end.

The package holds two kinds of module, and only the first kind is free of I/O:

* the protocol as pure code — the RFC 8010 codec (``codec.py``, ``tags.py``), the
  attribute registry as data (``registry.py``), the operation table (``operations.py``),
  and the attribute builders and operations, which read and act on the printer model;
* the I/O around them — the aiohttp handler (``http.py``) and the asyncio fast path
  (``fastpath.py``).

This package exports the codec.  Typical use by a responder::

    parser = MessageParser()
    for chunk in body:
        request = parser.feed(chunk)
        if request is not None:
            break
    document_start = parser.remainder  # then keep streaming the body yourself

    response = Message(request.version, Status.SUCCESSFUL_OK, request.request_id)
    group = response.add_group(DelimiterTag.OPERATION)
    group.append(make_attribute("attributes-charset", "utf-8"))
    ...
    body = encode(response)
"""

from firmware.ipp.codec import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_SIZE,
    Attribute,
    AttributeGroup,
    IppEncodeError,
    IppParseError,
    Message,
    MessageParser,
    decode,
    encode,
    iter_attributes,
)
from firmware.ipp.registry import Syntax, check, lookup, make_attribute, value_tag_for
from firmware.ipp.tags import DelimiterTag, Operation, Status, ValueTag
from firmware.ipp.values import (
    Collection,
    ExtensionValue,
    NameWithLanguage,
    OutOfBand,
    Range,
    Resolution,
    ResolutionUnits,
    TextWithLanguage,
    datetime_from_ipp,
    datetime_to_ipp,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "Attribute",
    "AttributeGroup",
    "Collection",
    "DelimiterTag",
    "ExtensionValue",
    "IppEncodeError",
    "IppParseError",
    "Message",
    "MessageParser",
    "NameWithLanguage",
    "Operation",
    "OutOfBand",
    "Range",
    "Resolution",
    "ResolutionUnits",
    "Status",
    "Syntax",
    "TextWithLanguage",
    "ValueTag",
    "check",
    "datetime_from_ipp",
    "datetime_to_ipp",
    "decode",
    "encode",
    "iter_attributes",
    "lookup",
    "make_attribute",
    "value_tag_for",
]
