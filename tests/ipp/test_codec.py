"""Tests for the RFC 8010 codec: exact layouts, round trips, streaming and hostile input."""

from __future__ import annotations

import random
import string
import struct
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    DelimiterTag,
    ExtensionValue,
    IppEncodeError,
    IppParseError,
    Message,
    MessageParser,
    NameWithLanguage,
    Operation,
    OutOfBand,
    Range,
    Resolution,
    ResolutionUnits,
    Status,
    TextWithLanguage,
    ValueTag,
    datetime_from_ipp,
    datetime_to_ipp,
    decode,
    encode,
    iter_attributes,
)

BAD_REQUEST = Status.CLIENT_ERROR_BAD_REQUEST
TOO_LARGE = Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE


def short(n: int) -> bytes:
    return n.to_bytes(2, "big")


HEADER = b"\x02\x00\x00\x02\x00\x00\x00\x2a"  # IPP/2.0 Print-Job, request-id 42


# --------------------------------------------------------------------------- RFC 8010
# RFC 8010 Appendix A.1, Print-Job request, written out octet by octet from the table.
PRINT_JOB_REQUEST = (
    b"\x01\x01"  # version-number 1.1
    b"\x00\x02"  # operation-id Print-Job
    b"\x00\x00\x00\x01"  # request-id 1
    b"\x01"  # operation-attributes-tag
    b"\x47" b"\x00\x12" b"attributes-charset" b"\x00\x05" b"utf-8"
    b"\x48" b"\x00\x1b" b"attributes-natural-language" b"\x00\x05" b"en-us"
    b"\x45" b"\x00\x0b" b"printer-uri"
    b"\x00\x2c" b"ipp://printer.example.com/ipp/print/pinetree"
    b"\x42" b"\x00\x08" b"job-name" b"\x00\x06" b"foobar"
    b"\x22" b"\x00\x16" b"ipp-attribute-fidelity" b"\x00\x01" b"\x01"
    b"\x02"  # job-attributes-tag
    b"\x21" b"\x00\x06" b"copies" b"\x00\x04" b"\x00\x00\x00\x14"
    b"\x44" b"\x00\x05" b"sides" b"\x00\x13" b"two-sided-long-edge"
    b"\x03"  # end-of-attributes-tag
)  # fmt: skip
PDF = b"%PDF-1.7\n\x03\x03 binary \x00\x01\x02 document data follows"

# RFC 8010 Appendix A.2, Print-Job response (successful).
PRINT_JOB_RESPONSE = (
    b"\x01\x01" b"\x00\x00" b"\x00\x00\x00\x01"
    b"\x01"
    b"\x47" b"\x00\x12" b"attributes-charset" b"\x00\x05" b"utf-8"
    b"\x48" b"\x00\x1b" b"attributes-natural-language" b"\x00\x05" b"en-us"
    b"\x41" b"\x00\x0e" b"status-message" b"\x00\x0d" b"successful-ok"
    b"\x02"
    b"\x21" b"\x00\x06" b"job-id" b"\x00\x04" b"\x00\x00\x00\x93"
    b"\x45" b"\x00\x07" b"job-uri"
    b"\x00\x30" b"ipp://printer.example.com/ipp/print/pinetree/147"
    b"\x23" b"\x00\x09" b"job-state" b"\x00\x04" b"\x00\x00\x00\x03"
    b"\x03"
)  # fmt: skip


def print_job_message() -> Message:
    message = Message((1, 1), Operation.PRINT_JOB, 1)
    op = message.add_group(DelimiterTag.OPERATION)
    op.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    op.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en-us")
    op.add("printer-uri", ValueTag.URI, "ipp://printer.example.com/ipp/print/pinetree")
    op.add("job-name", ValueTag.NAME_WITHOUT_LANGUAGE, "foobar")
    op.add("ipp-attribute-fidelity", ValueTag.BOOLEAN, True)
    job = message.add_group(DelimiterTag.JOB)
    job.add("copies", ValueTag.INTEGER, 20)
    job.add("sides", ValueTag.KEYWORD, "two-sided-long-edge")
    return message


def test_rfc8010_a1_print_job_request_encodes_exactly() -> None:
    assert encode(print_job_message()) == PRINT_JOB_REQUEST


def test_rfc8010_a1_print_job_request_decodes_and_splits_document() -> None:
    message, offset = decode(PRINT_JOB_REQUEST + PDF)
    assert offset == len(PRINT_JOB_REQUEST)
    assert (PRINT_JOB_REQUEST + PDF)[offset:] == PDF
    assert message == print_job_message()
    assert message.version == (1, 1)
    assert message.code == Operation.PRINT_JOB
    assert message.request_id == 1
    assert message.operation is not None
    assert message.operation.value("job-name") == "foobar"
    assert message.find("copies") == Attribute("copies", ValueTag.INTEGER, [20])
    assert message.find("copies", DelimiterTag.OPERATION) is None
    assert message.find("sides", DelimiterTag.JOB) is not None
    assert [group.tag for group in message.groups] == [DelimiterTag.OPERATION, DelimiterTag.JOB]


def test_rfc8010_a2_print_job_response_round_trip() -> None:
    message, offset = decode(PRINT_JOB_RESPONSE)
    assert offset == len(PRINT_JOB_RESPONSE)
    assert message.code == Status.SUCCESSFUL_OK
    job = message.group(DelimiterTag.JOB)
    assert job is not None
    assert job["job-id"].value == 147
    assert job["job-state"] == Attribute("job-state", ValueTag.ENUM, [3])
    assert job.value("job-uri") == "ipp://printer.example.com/ipp/print/pinetree/147"
    assert encode(message) == PRINT_JOB_RESPONSE


def test_1setof_and_repeated_groups_layout() -> None:
    # RFC 8010 §3.1.5: additional values carry value-tag, name-length 0, value-length,
    # value; a Get-Jobs response repeats job-attributes-tag once per job (Appendix A.9).
    expected = (
        b"\x02\x00" b"\x00\x00" b"\x00\x00\x00\x07"
        b"\x01"
        b"\x44" + short(20) + b"requested-attributes" + short(6) + b"job-id"
        + b"\x44" + short(0) + short(8) + b"job-name"
        + b"\x02"
        + b"\x21" + short(6) + b"job-id" + short(4) + b"\x00\x00\x00\x01"
        + b"\x02"
        + b"\x21" + short(6) + b"job-id" + short(4) + b"\x00\x00\x00\x02"
        + b"\x03"
    )  # fmt: skip
    message = Message((2, 0), Status.SUCCESSFUL_OK, 7)
    message.add_group(DelimiterTag.OPERATION).add(
        "requested-attributes", ValueTag.KEYWORD, ["job-id", "job-name"]
    )
    message.add_group(DelimiterTag.JOB).add("job-id", ValueTag.INTEGER, 1)
    message.add_group(DelimiterTag.JOB).add("job-id", ValueTag.INTEGER, 2)
    assert encode(message) == expected
    decoded, _ = decode(expected)
    assert decoded == message
    assert [len(g) for g in decoded.groups_of(DelimiterTag.JOB)] == [1, 1]
    assert decoded.find("requested-attributes").values == ["job-id", "job-name"]  # type: ignore[union-attr]


def test_collection_layout_rfc8010_3_1_6() -> None:
    # media-col = {media-size = {x-dimension = 21000, y-dimension = 29700},
    #              media-source = "main"}, two such collections (1setOf collection).
    one = (
        b"\x4a" + short(0) + short(10) + b"media-size"
        + b"\x34" + short(0) + short(0)
        + b"\x4a" + short(0) + short(11) + b"x-dimension"
        + b"\x21" + short(0) + short(4) + struct.pack(">i", 21000)
        + b"\x4a" + short(0) + short(11) + b"y-dimension"
        + b"\x21" + short(0) + short(4) + struct.pack(">i", 29700)
        + b"\x37" + short(0) + short(0)
        + b"\x4a" + short(0) + short(12) + b"media-source"
        + b"\x44" + short(0) + short(4) + b"main"
        + b"\x37" + short(0) + short(0)
    )  # fmt: skip
    expected = (
        b"\x02\x00\x00\x02\x00\x00\x00\x01\x02"
        + b"\x34" + short(9) + b"media-col" + short(0) + one
        + b"\x34" + short(0) + short(0) + one
        + b"\x03"
    )  # fmt: skip
    size = Collection()
    size.add("x-dimension", ValueTag.INTEGER, 21000)
    size.add("y-dimension", ValueTag.INTEGER, 29700)
    media_col = Collection()
    media_col.add("media-size", ValueTag.BEG_COLLECTION, size)
    media_col.add("media-source", ValueTag.KEYWORD, "main")
    message = Message((2, 0), Operation.PRINT_JOB, 1)
    message.add_group(DelimiterTag.JOB).add(
        "media-col", ValueTag.BEG_COLLECTION, [media_col, media_col]
    )
    assert encode(message) == expected
    decoded, _ = decode(expected)
    assert decoded == message
    col = decoded.find("media-col")
    assert col is not None and len(col.values) == 2
    assert col.values[0]["media-size"].value["y-dimension"].value == 29700
    assert "media-source" in col.values[1]


@pytest.mark.parametrize(
    ("tag", "value", "wire"),
    [
        (ValueTag.INTEGER, -2, b"\xff\xff\xff\xfe"),
        (ValueTag.INTEGER, 2**31 - 1, b"\x7f\xff\xff\xff"),
        (ValueTag.ENUM, 3, b"\x00\x00\x00\x03"),
        (ValueTag.BOOLEAN, False, b"\x00"),
        (ValueTag.BOOLEAN, True, b"\x01"),
        (ValueTag.OCTET_STRING, b"\x00\xff\x03", b"\x00\xff\x03"),
        # RFC 2579 DateAndTime: 2024-03-05 14:07:09.3 +01:30
        (
            ValueTag.DATE_TIME,
            datetime(2024, 3, 5, 14, 7, 9, 300_000, timezone(timedelta(hours=1, minutes=30))),
            b"\x07\xe8\x03\x05\x0e\x07\x09\x03+\x01\x1e",
        ),
        (
            ValueTag.DATE_TIME,
            datetime(1999, 12, 31, 23, 59, 59, 0, timezone(timedelta(hours=-5))),
            b"\x07\xcf\x0c\x1f\x17\x3b\x3b\x00-\x05\x00",
        ),
        # resolution: x (4), y (4), units (1) = 9 octets
        (ValueTag.RESOLUTION, Resolution(600, 300, 3), b"\x00\x00\x02\x58\x00\x00\x01\x2c\x03"),
        # rangeOfInteger: lower (4), upper (4)
        (ValueTag.RANGE_OF_INTEGER, Range(1, 99), b"\x00\x00\x00\x01\x00\x00\x00\x63"),
        # textWithLanguage: language length, language, text length, text
        (
            ValueTag.TEXT_WITH_LANGUAGE,
            TextWithLanguage("grüß", "de"),
            b"\x00\x02de\x00\x06gr\xc3\xbc\xc3\x9f",
        ),
        (
            ValueTag.NAME_WITH_LANGUAGE,
            NameWithLanguage("Bob", "en-us"),
            b"\x00\x05en-us\x00\x03Bob",
        ),
        (ValueTag.TEXT_WITHOUT_LANGUAGE, "café ☕", "café ☕".encode()),
        (ValueTag.NAME_WITHOUT_LANGUAGE, "Büro", "Büro".encode()),
        (ValueTag.KEYWORD, "one-sided", b"one-sided"),
        (ValueTag.URI, "ipp://h/ipp/print", b"ipp://h/ipp/print"),
        (ValueTag.URI_SCHEME, "ipps", b"ipps"),
        (ValueTag.CHARSET, "utf-8", b"utf-8"),
        (ValueTag.NATURAL_LANGUAGE, "en-us", b"en-us"),
        (ValueTag.MIME_MEDIA_TYPE, "image/pwg-raster", b"image/pwg-raster"),
        (ValueTag.UNSUPPORTED, OutOfBand(ValueTag.UNSUPPORTED), b""),
        (ValueTag.DEFAULT, OutOfBand(ValueTag.DEFAULT), b""),
        (ValueTag.UNKNOWN, OutOfBand(ValueTag.UNKNOWN), b""),
        (ValueTag.NO_VALUE, OutOfBand(ValueTag.NO_VALUE), b""),
        (ValueTag.NOT_SETTABLE, OutOfBand(ValueTag.NOT_SETTABLE), b""),
        (ValueTag.DELETE_ATTRIBUTE, OutOfBand(ValueTag.DELETE_ATTRIBUTE), b""),
        (ValueTag.ADMIN_DEFINE, OutOfBand(ValueTag.ADMIN_DEFINE), b""),
        # extension: the real 32-bit tag is the first 4 octets of the value field
        (ValueTag.EXTENSION, ExtensionValue(0x40000001, b"xyz"), b"\x40\x00\x00\x01xyz"),
    ],
)
def test_every_value_tag_layout_and_round_trip(tag: ValueTag, value: Any, wire: bytes) -> None:
    expected = (
        b"\x02\x00\x00\x0b\x00\x00\x00\x2a\x04"
        + bytes([tag]) + short(1) + b"a" + short(len(wire)) + wire
        + b"\x03"
    )  # fmt: skip
    message = Message((2, 0), Operation.GET_PRINTER_ATTRIBUTES, 42)
    message.add_group(DelimiterTag.PRINTER).add("a", tag, value)
    assert encode(message) == expected
    decoded, offset = decode(expected)
    assert offset == len(expected)
    assert decoded == message
    assert decoded.find("a").tag is tag  # type: ignore[union-attr]


def test_every_value_tag_is_covered() -> None:
    # Guard for the parametrized test above: a new tag needs a layout test too.
    structural = {ValueTag.BEG_COLLECTION, ValueTag.END_COLLECTION, ValueTag.MEMBER_ATTR_NAME}
    marks = test_every_value_tag_layout_and_round_trip.pytestmark  # type: ignore[attr-defined]
    tags = {case[0] for mark in marks if mark.name == "parametrize" for case in mark.args[1]}
    assert tags | structural == set(ValueTag)


def test_mixed_value_tags_in_one_1setof() -> None:
    # number-up-supported: 1setOf (integer(1:MAX) | rangeOfInteger(1:MAX))
    attribute = Attribute("number-up-supported", ValueTag.INTEGER, [1])
    attribute.append(Range(2, 4), ValueTag.RANGE_OF_INTEGER)
    attribute.append(6)
    assert attribute.value_tags == [ValueTag.INTEGER, ValueTag.RANGE_OF_INTEGER, ValueTag.INTEGER]
    message = Message((2, 0), 0, 1)
    message.add_group(DelimiterTag.PRINTER).append(attribute)
    data = encode(message)
    assert b"\x33\x00\x00\x00\x08\x00\x00\x00\x02\x00\x00\x00\x04" in data
    decoded, _ = decode(data)
    assert decoded == message
    assert list(decoded.find("number-up-supported").tagged()) == [  # type: ignore[union-attr]
        (ValueTag.INTEGER, 1),
        (ValueTag.RANGE_OF_INTEGER, Range(2, 4)),
        (ValueTag.INTEGER, 6),
    ]
    # An all-equal value_tags list is normalised away, so equal attributes compare equal.
    assert Attribute("x", ValueTag.KEYWORD, ["a", "b"], [ValueTag.KEYWORD] * 2).value_tags is None


def test_version_is_not_the_codecs_business() -> None:
    data = bytearray(PRINT_JOB_REQUEST)
    data[0:2] = b"\x09\x09"
    message, _ = decode(bytes(data))
    assert message.version == (9, 9)


def test_unknown_operation_and_negative_request_id_decode() -> None:
    data = b"\x02\x00\x7f\xff\xff\xff\xff\xff\x01\x03"
    message, offset = decode(data)
    assert (message.code, message.request_id, offset) == (0x7FFF, -1, 10)
    assert message.groups == [AttributeGroup(DelimiterTag.OPERATION)]


def test_decode_accepts_memoryview_and_bytearray() -> None:
    data = PRINT_JOB_REQUEST + PDF
    expected = decode(data)
    assert decode(bytearray(data)) == expected
    assert decode(memoryview(data)) == expected
    assert decode(memoryview(bytearray(data))[0:]) == expected
    with pytest.raises(TypeError):
        decode("not bytes")  # type: ignore[arg-type]


def test_datetime_helpers() -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, 600_000, UTC)
    assert datetime_from_ipp(datetime_to_ipp(moment)) == moment
    assert datetime_to_ipp(moment)[8:] == b"+\x00\x00"
    # Sub-decisecond precision is truncated, not rounded.
    assert datetime_from_ipp(datetime_to_ipp(moment.replace(microsecond=699_999))) == moment
    with pytest.raises(ValueError, match="naive"):
        datetime_to_ipp(datetime(2030, 1, 2))
    with pytest.raises(ValueError, match="whole number of minutes"):
        datetime_to_ipp(datetime(2030, 1, 2, tzinfo=timezone(timedelta(seconds=30))))
    # A leap second is clamped to :59.
    leap = datetime_from_ipp(b"\x07\xe8\x06\x1e\x17\x3b\x3c\x00+\x00\x00")
    assert (leap.minute, leap.second) == (59, 59)


def test_message_and_group_helpers() -> None:
    message, _ = decode(PRINT_JOB_REQUEST)
    op = message.operation
    assert op is not None and op.tag is DelimiterTag.OPERATION
    assert "job-name" in op and "copies" not in op
    assert op.get("nope") is None
    assert list(op)[:2] == ["attributes-charset", "attributes-natural-language"]
    assert [a.name for a in op.attributes][-1] == "ipp-attribute-fidelity"
    assert message.group(DelimiterTag.PRINTER) is None
    assert [(g.tag, a.name) for g, a in iter_attributes(message)][-1] == (
        DelimiterTag.JOB,
        "sides",
    )
    with pytest.raises(ValueError, match="already present"):
        op.add("job-name", ValueTag.NAME, "again")
    removed = op.remove("job-name")
    assert removed is not None and "job-name" not in op
    op.add("no-value-thing", ValueTag.NO_VALUE, None)
    assert op["no-value-thing"].values == [OutOfBand(ValueTag.NO_VALUE)]
    with pytest.raises(ValueError):
        AttributeGroup(DelimiterTag.END)
    assert ValueTag.TEXT is ValueTag.TEXT_WITHOUT_LANGUAGE


# --------------------------------------------------------------------------- tags


def test_enum_values_match_the_specifications() -> None:
    assert [int(t) for t in DelimiterTag] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expected_value_tags = {
        "UNSUPPORTED": 0x10, "DEFAULT": 0x11, "UNKNOWN": 0x12, "NO_VALUE": 0x13,
        "NOT_SETTABLE": 0x15, "DELETE_ATTRIBUTE": 0x16, "ADMIN_DEFINE": 0x17,
        "INTEGER": 0x21, "BOOLEAN": 0x22, "ENUM": 0x23, "OCTET_STRING": 0x30,
        "DATE_TIME": 0x31, "RESOLUTION": 0x32, "RANGE_OF_INTEGER": 0x33,
        "BEG_COLLECTION": 0x34, "TEXT_WITH_LANGUAGE": 0x35, "NAME_WITH_LANGUAGE": 0x36,
        "END_COLLECTION": 0x37, "TEXT_WITHOUT_LANGUAGE": 0x41, "NAME_WITHOUT_LANGUAGE": 0x42,
        "KEYWORD": 0x44, "URI": 0x45, "URI_SCHEME": 0x46, "CHARSET": 0x47,
        "NATURAL_LANGUAGE": 0x48, "MIME_MEDIA_TYPE": 0x49, "MEMBER_ATTR_NAME": 0x4A,
        "EXTENSION": 0x7F,
    }  # fmt: skip
    assert {t.name: int(t) for t in ValueTag} == expected_value_tags
    ops = {
        "PRINT_JOB": 0x02, "PRINT_URI": 0x03, "VALIDATE_JOB": 0x04, "CREATE_JOB": 0x05,
        "SEND_DOCUMENT": 0x06, "SEND_URI": 0x07, "CANCEL_JOB": 0x08,
        "GET_JOB_ATTRIBUTES": 0x09, "GET_JOBS": 0x0A, "GET_PRINTER_ATTRIBUTES": 0x0B,
        "HOLD_JOB": 0x0C, "RELEASE_JOB": 0x0D, "RESTART_JOB": 0x0E, "PAUSE_PRINTER": 0x10,
        "RESUME_PRINTER": 0x11, "PURGE_JOBS": 0x12, "SET_PRINTER_ATTRIBUTES": 0x13,
        "SET_JOB_ATTRIBUTES": 0x14, "GET_PRINTER_SUPPORTED_VALUES": 0x15,
        "CREATE_PRINTER_SUBSCRIPTIONS": 0x16, "CREATE_JOB_SUBSCRIPTIONS": 0x17,
        "GET_SUBSCRIPTION_ATTRIBUTES": 0x18, "GET_SUBSCRIPTIONS": 0x19,
        "RENEW_SUBSCRIPTION": 0x1A, "CANCEL_SUBSCRIPTION": 0x1B, "GET_NOTIFICATIONS": 0x1C,
        "ENABLE_PRINTER": 0x22, "DISABLE_PRINTER": 0x23, "HOLD_NEW_JOBS": 0x25,
        "RELEASE_HELD_NEW_JOBS": 0x26, "CANCEL_CURRENT_JOB": 0x2D, "CANCEL_JOBS": 0x38,
        "CANCEL_MY_JOBS": 0x39, "RESUBMIT_JOB": 0x3A, "CLOSE_JOB": 0x3B,
        "IDENTIFY_PRINTER": 0x3C, "VALIDATE_DOCUMENT": 0x3D, "GET_SYSTEM_ATTRIBUTES": 0x5B,
        "STARTUP_ALL_PRINTERS": 0x64,
    }  # fmt: skip
    for name, value in ops.items():
        assert Operation[name] == value, name
    statuses = {
        "successful-ok": 0x0000,
        "successful-ok-ignored-or-substituted-attributes": 0x0001,
        "successful-ok-conflicting-attributes": 0x0002,
        "successful-ok-events-complete": 0x0007,
        "client-error-bad-request": 0x0400, "client-error-forbidden": 0x0401,
        "client-error-not-authenticated": 0x0402, "client-error-not-authorized": 0x0403,
        "client-error-not-possible": 0x0404, "client-error-timeout": 0x0405,
        "client-error-not-found": 0x0406, "client-error-gone": 0x0407,
        "client-error-request-entity-too-large": 0x0408,
        "client-error-request-value-too-long": 0x0409,
        "client-error-document-format-not-supported": 0x040A,
        "client-error-attributes-or-values-not-supported": 0x040B,
        "client-error-uri-scheme-not-supported": 0x040C,
        "client-error-charset-not-supported": 0x040D,
        "client-error-conflicting-attributes": 0x040E,
        "client-error-compression-not-supported": 0x040F,
        "client-error-compression-error": 0x0410,
        "client-error-document-format-error": 0x0411,
        "client-error-document-access-error": 0x0412,
        "client-error-attributes-not-settable": 0x0413,
        "client-error-ignored-all-subscriptions": 0x0414,
        "client-error-too-many-subscriptions": 0x0415,
        "client-error-document-password-error": 0x0418,
        "client-error-not-fetchable": 0x0420,
        "server-error-internal-error": 0x0500,
        "server-error-operation-not-supported": 0x0501,
        "server-error-service-unavailable": 0x0502,
        "server-error-version-not-supported": 0x0503, "server-error-device-error": 0x0504,
        "server-error-temporary-error": 0x0505, "server-error-not-accepting-jobs": 0x0506,
        "server-error-busy": 0x0507, "server-error-job-canceled": 0x0508,
        "server-error-multiple-document-jobs-not-supported": 0x0509,
        "server-error-printer-is-deactivated": 0x050A, "server-error-too-many-jobs": 0x050B,
        "server-error-too-many-documents": 0x050C,
    }  # fmt: skip
    for keyword, value in statuses.items():
        assert Status.from_keyword(keyword) == value, keyword
        assert Status(value).keyword == keyword


def test_keywords() -> None:
    assert Operation.PRINT_JOB.keyword == "Print-Job"
    assert Operation.GET_PRINTER_ATTRIBUTES.keyword == "Get-Printer-Attributes"
    assert Operation.PAUSE_PRINTER_AFTER_CURRENT_JOB.keyword == "Pause-Printer-After-Current-Job"
    assert Status.CLIENT_ERROR_BAD_REQUEST.keyword == "client-error-bad-request"
    assert Status.SUCCESSFUL_OK.is_successful and not Status.SERVER_ERROR_BUSY.is_successful
    assert DelimiterTag.OPERATION.keyword == "operation-attributes-tag"
    assert DelimiterTag.EVENT_NOTIFICATION.keyword == "event-notification-attributes-tag"
    assert DelimiterTag.END.keyword == "end-of-attributes-tag"
    assert ValueTag.NAME_WITHOUT_LANGUAGE.keyword == "nameWithoutLanguage"
    assert ValueTag.NO_VALUE.keyword == "no-value"
    assert ValueTag.NO_VALUE.is_out_of_band and not ValueTag.INTEGER.is_out_of_band
    for enum in (DelimiterTag, ValueTag, Operation, Status):
        for member in enum:  # type: ignore[attr-defined]
            assert enum.from_keyword(member.keyword) is member  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        Operation.from_keyword("Print-Jobs")


# --------------------------------------------------------------------------- encode errors


@pytest.mark.parametrize(
    ("tag", "value", "match"),
    [
        (ValueTag.INTEGER, "3", "cannot encode"),
        (ValueTag.INTEGER, 2**31, "cannot encode"),
        (ValueTag.BOOLEAN, 2, "cannot encode"),
        (ValueTag.KEYWORD, "naïve", "not US-ASCII"),
        (ValueTag.KEYWORD, 5, "must be str"),
        (ValueTag.TEXT, b"bytes", "cannot encode"),
        (ValueTag.DATE_TIME, datetime(2020, 1, 1), "naive"),
        (ValueTag.RESOLUTION, (300, 300), "cannot encode"),
        (ValueTag.BEG_COLLECTION, {"a": 1}, "must be a Collection"),
        (ValueTag.END_COLLECTION, None, "not a value syntax"),
        (ValueTag.MEMBER_ATTR_NAME, "x", "not a value syntax"),
        (ValueTag.TEXT, "x" * 40000, "more than 32767"),
        (ValueTag.EXTENSION, ExtensionValue(0x80000000, b""), "too large"),
    ],
)
def test_encode_rejects_what_it_cannot_encode(tag: ValueTag, value: Any, match: str) -> None:
    message = Message()
    message.add_group(DelimiterTag.OPERATION).append(Attribute("a", tag, [value]))
    with pytest.raises(IppEncodeError, match=match):
        encode(message)


def test_encode_rejects_empty_attribute_and_bad_header() -> None:
    message = Message()
    message.add_group(DelimiterTag.OPERATION).append(Attribute("a", ValueTag.INTEGER, []))
    with pytest.raises(IppEncodeError, match="no values"):
        encode(message)
    with pytest.raises(IppEncodeError, match="header"):
        encode(Message(request_id=2**31))
    deep = Collection()
    for _ in range(40):
        outer = Collection()
        outer.add("c", ValueTag.BEG_COLLECTION, deep)
        deep = outer
    message = Message()
    message.add_group(DelimiterTag.JOB).add("c", ValueTag.BEG_COLLECTION, deep)
    with pytest.raises(IppEncodeError, match="deeper"):
        encode(message)


# --------------------------------------------------------------------------- streaming


def chunked(data: bytes, sizes: list[int]) -> Iterator[bytes]:
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)] if sizes else len(data)
        yield data[pos : pos + max(1, size)]
        pos += max(1, size)
        i += 1


def stream(data: bytes, sizes: list[int], **limits: int) -> tuple[Message, bytes]:
    """Feed ``data`` in chunks; return the message and all document bytes seen."""
    parser = MessageParser(**limits)
    document = bytearray()
    message: Message | None = None
    for chunk in chunked(data, sizes):
        if message is None:
            message = parser.feed(chunk)
            if message is not None:
                document += parser.remainder
        else:
            document += chunk  # what the caller does with the rest of the body
    parser.close()
    assert message is not None
    return message, bytes(document)


def test_streaming_one_byte_at_a_time() -> None:
    data = PRINT_JOB_REQUEST + PDF
    parser = MessageParser()
    for i in range(len(PRINT_JOB_REQUEST) - 1):
        assert parser.feed(data[i : i + 1]) is None
        assert not parser.done
    message = parser.feed(data[len(PRINT_JOB_REQUEST) - 1 : len(PRINT_JOB_REQUEST)])
    assert message == print_job_message()
    assert parser.done and parser.message is message
    assert parser.remainder == b""
    assert parser.buffered == 0  # the attribute buffer is released once decoded
    with pytest.raises(RuntimeError):
        parser.feed(PDF)


@pytest.mark.parametrize("seed", range(25))
def test_streaming_random_chunkings(seed: int) -> None:
    rng = random.Random(seed)
    data = encode(rich_message()) + PDF
    sizes = [rng.randint(1, 64) for _ in range(rng.randint(1, 8))]
    message, document = stream(data, sizes)
    assert message == rich_message()
    assert document == PDF


def test_streaming_whole_body_in_one_chunk() -> None:
    parser = MessageParser()
    message = parser.feed(PRINT_JOB_REQUEST + PDF)
    assert message == print_job_message()
    assert parser.remainder == PDF
    parser.close()  # complete: no error


def test_end_tag_octet_inside_values_is_not_the_end() -> None:
    # 0x03 everywhere: in lengths, integers, names and strings.
    message = Message((2, 0), 3, 0x03030303)
    group = message.add_group(DelimiterTag.OPERATION)
    group.add("\x03" * 3, ValueTag.INTEGER, 0x03030303)
    group.add("x" * 0x0303, ValueTag.OCTET_STRING, b"\x03" * 0x0303)
    group.add("enum", ValueTag.ENUM, [3, 3, 3])
    data = encode(message) + b"\x03\x03"
    for sizes in ([1], [2, 3], [7], [1000]):
        decoded, document = stream(data, sizes)
        assert decoded == message
        assert document == b"\x03\x03"


def test_parser_close_before_end_and_sticky_errors() -> None:
    parser = MessageParser()
    assert parser.feed(PRINT_JOB_REQUEST[:-1]) is None
    with pytest.raises(IppParseError) as info:
        parser.close()
    assert info.value.status == BAD_REQUEST
    assert info.value.request_id == 1
    assert info.value.operation == Operation.PRINT_JOB
    with pytest.raises(IppParseError):
        parser.feed(b"\x03")

    parser = MessageParser()
    with pytest.raises(IppParseError) as first:
        parser.feed(b"\x01\x01\x00\x02\x00\x00\x00\x05\x0f\x03")
    with pytest.raises(IppParseError) as second:
        parser.feed(b"more")
    assert first.value is second.value
    assert parser.buffered == 0


def test_parser_accepts_memoryview_and_bytearray_chunks() -> None:
    parser = MessageParser()
    data = bytearray(PRINT_JOB_REQUEST + PDF)
    assert parser.feed(memoryview(data)[:10]) is None
    assert parser.feed(bytearray(data[10:20])) is None
    message = parser.feed(memoryview(data)[20:])
    assert message == print_job_message()
    assert parser.remainder == PDF


def test_size_limit_boundary() -> None:
    size = len(PRINT_JOB_REQUEST)
    assert decode(PRINT_JOB_REQUEST + PDF, max_size=size)[1] == size
    with pytest.raises(IppParseError) as info:
        decode(PRINT_JOB_REQUEST + PDF, max_size=size - 1)
    assert info.value.status == TOO_LARGE
    assert info.value.request_id == 1
    assert stream(PRINT_JOB_REQUEST + PDF, [5], max_size=size)[1] == PDF
    with pytest.raises(IppParseError) as info:
        stream(PRINT_JOB_REQUEST + PDF, [5], max_size=size - 1)
    assert info.value.status == TOO_LARGE
    assert str(info.value) == (
        f"attribute part larger than {size - 1} bytes (client-error-request-entity-too-large)"
    )


def test_declared_length_past_limit_fails_before_the_bytes_arrive() -> None:
    # A value-length of 32767 cannot fit in a 1000-byte attribute part: no need to wait.
    parser = MessageParser(max_size=1000)
    head = b"\x02\x00\x00\x02\x00\x00\x00\x09\x01\x41" + short(1) + b"t" + short(0x7FFF)
    with pytest.raises(IppParseError) as info:
        parser.feed(head)
    assert info.value.status == TOO_LARGE
    assert info.value.request_id == 9


CHUNK = 64 * 1024
# Additional keyword values (zero-length name), 32 octets each, full of 0x03 octets that
# are not end tags; the prefix is 32 octets too, so every 64 KiB chunk is whole entries.
ENTRY = b"\x44" + short(0) + short(27) + b"\x03" * 27
PREFIX = HEADER + b"\x01" + b"\x44" + short(1) + b"k" + short(17) + b"\x03" * 17
TOTAL = 100 * 1024 * 1024


def hundred_megabytes_of_attributes() -> Iterator[bytes]:
    yield PREFIX + ENTRY * (CHUNK // len(ENTRY) - 1)
    body = ENTRY * (CHUNK // len(ENTRY))
    for _ in range(TOTAL // CHUNK - 1):
        yield body


def test_hundred_megabytes_of_attributes_streamed_fail_fast_and_small() -> None:
    parser = MessageParser()
    fed = 0
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(IppParseError) as info:
            for chunk in hundred_megabytes_of_attributes():
                fed += len(chunk)
                parser.feed(chunk)
                assert parser.buffered <= 1 << 20
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.status == TOO_LARGE
    assert info.value.request_id == 42
    assert fed <= (1 << 20) + CHUNK  # stopped at the first chunk past the limit
    assert elapsed < 2.0
    assert peak < 8 * (1 << 20)


def test_hundred_megabytes_in_memory_decode_fails_fast() -> None:
    data = PREFIX + ENTRY * (TOTAL // len(ENTRY) - 1)
    started = time.perf_counter()
    with pytest.raises(IppParseError) as info:
        decode(data)
    assert info.value.status == TOO_LARGE
    assert time.perf_counter() - started < 2.0


def test_one_huge_chunk_is_not_buffered_whole() -> None:
    parser = MessageParser(max_size=4096)
    with pytest.raises(IppParseError) as info:
        parser.feed(b"\x02\x00\x00\x02\x00\x00\x00\x01\x01" + b"\x44\x00\x00\x00\x00" * 100_000)
    assert info.value.status == TOO_LARGE
    assert parser.buffered == 0


# --------------------------------------------------------------------------- malformed


def bad(data: bytes, match: str, status: Status = BAD_REQUEST) -> IppParseError:
    with pytest.raises(IppParseError, match=match) as info:
        decode(data)
    assert info.value.status == status
    # The streaming parser agrees, byte by byte and in one go.
    for sizes in ([1], [len(data) + 1]):
        with pytest.raises(IppParseError):
            stream(data, sizes)
    return info.value


def test_truncation_at_every_offset() -> None:
    data = encode(rich_message())
    for cut in range(len(data)):
        with pytest.raises(IppParseError) as info:
            decode(data[:cut])
        assert info.value.status == BAD_REQUEST
        if cut >= 8:
            assert info.value.request_id == rich_message().request_id
        parser = MessageParser()
        assert parser.feed(data[:cut]) is None
        with pytest.raises(IppParseError):
            parser.close()


def test_truncated_value_message_is_precise() -> None:
    prefix = HEADER + b"\x01" + b"\x47" + short(18) + b"attributes-charset" + short(5) + b"utf-8"
    data = prefix + b"\x42" + short(8) + b"job-name" + short(300) + b"short"
    error = bad(data, "truncated")
    assert error.message == (
        f"truncated value of 'job-name' at offset {len(prefix)}: length 300 past end of message"
    )
    assert (error.request_id, error.operation, error.version) == (42, 2, (2, 0))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\x0f\x03", "reserved delimiter tag 0x0f"),
        (b"\x00\x03", "reserved delimiter tag 0x00"),
        (b"\x01\x0b\x03", "reserved delimiter tag 0x0b"),
        (b"\x44" + short(1) + b"k" + short(1) + b"v\x03", "before any group tag"),
        (b"\x01\x20" + short(1) + b"k" + short(0) + b"\x03", "reserved value tag 0x20"),
        (b"\x01\x43" + short(1) + b"k" + short(0) + b"\x03", "reserved value tag 0x43"),
        (b"\x01\x14" + short(1) + b"k" + short(0) + b"\x03", "reserved value tag 0x14"),
        (b"\x01\x60" + short(1) + b"k" + short(0) + b"\x03", "reserved value tag 0x60"),
        (b"\x01\xff" + short(1) + b"k" + short(0) + b"\x03", "reserved value tag 0xff"),
        (b"\x01\x44" + short(0) + short(1) + b"v\x03", "follows no attribute"),
        (b"\x01\x44" + b"\x80\x00", "name-length 32768"),
        (b"\x01\x44" + short(1) + b"k" + b"\xff\xff", "value-length 65535"),
        (b"\x01\x21" + short(1) + b"k" + short(3) + b"\x00\x00\x01\x03", "length 3, not 4"),
        (b"\x01\x22" + short(1) + b"k" + short(1) + b"\x02\x03", "is 2, not 0 or 1"),
        (b"\x01\x31" + short(1) + b"k" + short(11) + bytes(11) + b"\x03", "dateTime"),
        (b"\x01\x32" + short(1) + b"k" + short(8) + bytes(8) + b"\x03", "length 8, not 9"),
        (b"\x01\x33" + short(1) + b"k" + short(9) + bytes(9) + b"\x03", "length 9, not 8"),
        (b"\x01\x35" + short(1) + b"k" + short(3) + b"\x00\x01x\x03", "too short"),
        (b"\x01\x35" + short(1) + b"k" + short(5) + b"\x00\x09xy\x00\x03", "overruns"),
        (b"\x01\x36" + short(1) + b"k" + short(5) + b"\x00\x00\x00\x05x\x03", "does not match"),
        (b"\x01\x41" + short(1) + b"k" + short(2) + b"\xc3\x28\x03", "not UTF-8"),
        (b"\x01\x44" + short(1) + b"k" + short(2) + b"\xc3\xa9\x03", "not US-ASCII"),
        (b"\x01\x44" + short(1) + b"\xff" + short(0) + b"\x03", "name at offset 12 is not"),
        (b"\x01\x7f" + short(1) + b"k" + short(2) + b"\x00\x00\x03", "shorter than 4"),
        (b"\x01\x7f" + short(1) + b"k" + short(4) + b"\x80\x00\x00\x00\x03", "high bit"),
        (
            b"\x01\x44" + short(1) + b"k" + short(1) + b"a" + b"\x44" + short(1) + b"k"
            + short(1) + b"b\x03",
            "'k' repeated in one group",
        ),
    ],
)  # fmt: skip
def test_malformed_messages(body: bytes, match: str) -> None:
    error = bad(HEADER + body, match)
    assert error.request_id == 42


def test_collection_structure_errors() -> None:
    def beg(name: bytes = b"") -> bytes:
        return b"\x34" + short(len(name)) + name + short(0)

    def member(name: bytes) -> bytes:
        return b"\x4a" + short(0) + short(len(name)) + name

    end = b"\x37" + short(0) + short(0)
    one = b"\x21" + short(0) + short(4) + b"\x00\x00\x00\x01"
    g = HEADER + b"\x02"
    bad(g + member(b"m") + b"\x03", "memberAttrName outside a collection")
    bad(g + end + b"\x03", "endCollection outside a collection")
    bad(g + beg(b"c") + member(b"m") + one + b"\x03", "not closed by endCollection")
    bad(g + beg(b"c") + member(b"m") + end + b"\x03", "'m' of collection 'c' has no value")
    bad(g + beg(b"c") + member(b"m") + member(b"n") + one + end + b"\x03", "has no value")
    bad(g + beg(b"c") + one + end + b"\x03", "without a memberAttrName")
    bad(g + beg(b"c") + member(b"") + one + end + b"\x03", "empty memberAttrName")
    bad(g + beg(b"c") + b"\x4a" + short(1) + b"x" + short(1) + b"m" + end + b"\x03", "has a name")
    bad(
        g + beg(b"c") + member(b"m") + b"\x21" + short(1) + b"x" + short(4) + bytes(4) + end
        + b"\x03",
        "value with a name",
    )  # fmt: skip
    bad(g + beg(b"c") + member(b"m") + one + member(b"m") + one + end + b"\x03", "repeated")
    bad(g + b"\x34" + short(1) + b"c" + short(1) + b"x" + end + b"\x03", "has a value")
    bad(g + beg(b"c") + member(b"m") + one + b"\x37" + short(0) + short(1) + b"x\x03", "not empty")
    bad(g + beg(b"c") + member(b"\xff") + one + end + b"\x03", "not US-ASCII")
    # The well-formed version of the same decodes.
    message, _ = decode(g + beg(b"c") + member(b"m") + one + one + end + beg() + end + b"\x03")
    col = message.find("c")
    assert col is not None and len(col.values) == 2
    assert col.values[0]["m"].values == [1, 1] and len(col.values[1]) == 0


def nested(depth: int) -> bytes:
    parts = [HEADER, b"\x02", b"\x34", short(1), b"c", short(0)]
    parts += [b"\x4a" + short(0) + short(1) + b"m" + b"\x34" + short(0) + short(0)] * (depth - 1)
    parts += [b"\x37" + short(0) + short(0)] * depth
    parts.append(b"\x03")
    return b"".join(parts)


def test_collection_depth_limit() -> None:
    message, _ = decode(nested(32))
    depth, value = 0, message.find("c").value  # type: ignore[union-attr]
    while True:
        depth += 1
        if "m" not in value:
            break
        value = value["m"].value
    assert depth == 32
    assert encode(message) == nested(32)
    bad(nested(33), "collection nesting deeper than 32")
    with pytest.raises(IppParseError, match="deeper than 3"):
        decode(nested(4), max_depth=3)


def test_ten_thousand_deep_collections_no_recursion_error() -> None:
    data = nested(10_000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # prove no recursion is involved
    try:
        error = bad(data, "collection nesting deeper than 32")
    finally:
        sys.setrecursionlimit(limit)
    assert error.request_id == 42


def test_out_of_band_value_octets_are_ignored() -> None:
    # RFC 8010 §3.8: the value of an out-of-band tag has no meaning.
    message, _ = decode(HEADER + b"\x04\x13" + short(1) + b"k" + short(2) + b"zz\x03")
    assert message.find("k") == Attribute("k", ValueTag.NO_VALUE, [OutOfBand(ValueTag.NO_VALUE)])


def test_header_too_short() -> None:
    for data in (b"", b"\x02", HEADER[:7]):
        with pytest.raises(IppParseError, match="shorter than the 8-octet header") as info:
            decode(data)
        assert info.value.request_id is None


# --------------------------------------------------------------------------- hypothesis

NAMES = st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=12)
INT32 = st.integers(-(2**31), 2**31 - 1)
ASCII = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=16)
UNICODE = st.text(max_size=16)
DATETIMES = st.builds(
    lambda moment, deci, minutes: moment.replace(
        microsecond=deci * 100_000, tzinfo=timezone(timedelta(minutes=minutes))
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(0, 9),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59),
)
VALUES: dict[ValueTag, st.SearchStrategy[Any]] = {
    ValueTag.INTEGER: INT32,
    ValueTag.ENUM: INT32,
    ValueTag.BOOLEAN: st.booleans(),
    ValueTag.OCTET_STRING: st.binary(max_size=16),
    ValueTag.DATE_TIME: DATETIMES,
    ValueTag.RESOLUTION: st.builds(Resolution, INT32, INT32, st.integers(-128, 127)),
    ValueTag.RANGE_OF_INTEGER: st.builds(Range, INT32, INT32),
    ValueTag.TEXT_WITH_LANGUAGE: st.builds(TextWithLanguage, UNICODE, ASCII),
    ValueTag.NAME_WITH_LANGUAGE: st.builds(NameWithLanguage, UNICODE, ASCII),
    ValueTag.TEXT_WITHOUT_LANGUAGE: UNICODE,
    ValueTag.NAME_WITHOUT_LANGUAGE: UNICODE,
    ValueTag.KEYWORD: ASCII,
    ValueTag.URI: ASCII,
    ValueTag.URI_SCHEME: ASCII,
    ValueTag.CHARSET: ASCII,
    ValueTag.NATURAL_LANGUAGE: ASCII,
    ValueTag.MIME_MEDIA_TYPE: ASCII,
    ValueTag.EXTENSION: st.builds(ExtensionValue, st.integers(0, 0x7FFFFFFF), st.binary()),
}
for _tag in ValueTag:
    if _tag.is_out_of_band:
        VALUES[_tag] = st.just(OutOfBand(_tag))


def simple_attribute(tag: ValueTag) -> st.SearchStrategy[Attribute]:
    return st.builds(
        lambda name, values: Attribute(name, tag, values),
        NAMES,
        st.lists(VALUES[tag], min_size=1, max_size=3),
    )


MIXED = st.builds(
    lambda name, values: Attribute(
        name, values[0][0], [v for _, v in values], [t for t, _ in values]
    ),
    NAMES,
    st.lists(
        st.one_of(
            INT32.map(lambda v: (ValueTag.INTEGER, v)),
            st.builds(Range, INT32, INT32).map(lambda v: (ValueTag.RANGE_OF_INTEGER, v)),
            ASCII.map(lambda v: (ValueTag.KEYWORD, v)),
            VALUES[ValueTag.NO_VALUE].map(lambda v: (ValueTag.NO_VALUE, v)),
        ),
        min_size=1,
        max_size=4,
    ),
)


def with_collections(children: st.SearchStrategy[Attribute]) -> st.SearchStrategy[Attribute]:
    collection = st.lists(children, max_size=4, unique_by=lambda a: a.name).map(Collection)
    return st.builds(
        lambda name, values: Attribute(name, ValueTag.BEG_COLLECTION, values),
        NAMES,
        st.lists(collection, min_size=1, max_size=2),
    )


ATTRIBUTES = st.recursive(
    st.one_of(st.sampled_from(sorted(VALUES)).flatmap(simple_attribute), MIXED),
    with_collections,
    max_leaves=8,
)
GROUPS = st.builds(
    AttributeGroup,
    st.sampled_from([t for t in DelimiterTag if t is not DelimiterTag.END]),
    st.lists(ATTRIBUTES, max_size=5, unique_by=lambda a: a.name),
)
MESSAGES = st.builds(
    Message,
    st.tuples(st.integers(0, 255), st.integers(0, 255)),
    st.integers(0, 0xFFFF),
    INT32,
    st.lists(GROUPS, max_size=4),
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(MESSAGES)
def test_round_trip_property(message: Message) -> None:
    data = encode(message)
    decoded, offset = decode(data)
    assert offset == len(data)
    assert decoded == message
    assert encode(decoded) == data


@FUZZ
@given(st.binary(max_size=300))
def test_decode_of_arbitrary_bytes_only_raises_ipp_parse_error(data: bytes) -> None:
    check_robust(data)


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_after_a_valid_header(data: bytes) -> None:
    check_robust(HEADER + b"\x01" + data)


@FUZZ
@given(MESSAGES, st.data())
def test_mutations_of_valid_messages(message: Message, data: st.DataObject) -> None:
    wire = bytearray(encode(message))
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(wire)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and where < len(wire):
            wire[where] = data.draw(st.integers(0, 255))
        elif action == "insert":
            wire[where:where] = data.draw(st.binary(min_size=1, max_size=4))
        elif action == "delete":
            del wire[where : where + data.draw(st.integers(1, 4))]
        elif action == "truncate":
            del wire[where:]
    check_robust(bytes(wire), data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=5)))


# Well-framed tag/length/value tokens with random tags, names and values: reaches the
# collection and group logic far more often than random bytes do.
TOKENS = st.one_of(
    st.sampled_from([b"\x01", b"\x02", b"\x04", b"\x05", b"\x0f"]),
    st.builds(
        lambda tag, name, value: bytes([tag]) + short(len(name)) + name + short(len(value)) + value,
        st.sampled_from([0x10, 0x13, 0x20, 0x21, 0x22, 0x23, 0x30, 0x31, 0x33, 0x34, 0x35,
                         0x37, 0x41, 0x44, 0x4A, 0x4A, 0x7F]),
        st.sampled_from([b"", b"", b"a", b"b", b"\xff"]),
        st.one_of(st.binary(max_size=12), st.sampled_from([b"m", b"n", b"\x00\x00\x00\x01"])),
    ),
)  # fmt: skip


@FUZZ
@given(st.lists(TOKENS, max_size=30))
def test_well_framed_token_soup(tokens: list[bytes]) -> None:
    check_robust(HEADER + b"\x01" + b"".join(tokens) + b"\x03")


def check_robust(data: bytes, sizes: list[int] | None = None) -> None:
    """decode and the streaming parser raise only IppParseError, and agree."""
    try:
        expected: tuple[Message, int] | None = decode(data, max_size=256, max_depth=4)
    except IppParseError as error:
        assert isinstance(error.status, Status)
        expected = None
    parser = MessageParser(max_size=256, max_depth=4)
    got: Message | None = None
    try:
        for chunk in chunked(data, sizes or [7]):
            got = parser.feed(chunk)
            if got is not None:
                break
        parser.close()
    except IppParseError:
        assert expected is None
        return
    assert expected is not None and got == expected[0]
    assert parser.remainder == data[expected[1] :][: len(parser.remainder)]


# --------------------------------------------------------------------------- speed


def rich_message() -> Message:
    """A realistic ~2 KB IPP Everywhere Print-Job request."""
    message = Message((2, 0), Operation.PRINT_JOB, 314159)
    op = message.add_group(DelimiterTag.OPERATION)
    op.add("attributes-charset", ValueTag.CHARSET, "utf-8")
    op.add("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en-us")
    op.add("printer-uri", ValueTag.URI, "ipp://printbridge.local:631/ipp/print")
    op.add("requesting-user-name", ValueTag.NAME, "alice")
    op.add("job-name", ValueTag.NAME, "Quarterly report — final (3).pdf")
    op.add("document-format", ValueTag.MIME_MEDIA_TYPE, "application/pdf")
    op.add("document-name", ValueTag.NAME_WITH_LANGUAGE, NameWithLanguage("Rapport", "fr"))
    op.add("ipp-attribute-fidelity", ValueTag.BOOLEAN, False)
    op.add("job-k-octets", ValueTag.INTEGER, 1234)
    op.add("compression", ValueTag.KEYWORD, "none")
    op.add("requested-attributes", ValueTag.KEYWORD, ["job-id", "job-state", "job-uri"] * 3)
    job = message.add_group(DelimiterTag.JOB)
    job.add("copies", ValueTag.INTEGER, 2)
    job.add("sides", ValueTag.KEYWORD, "two-sided-long-edge")
    job.add("print-color-mode", ValueTag.KEYWORD, "monochrome")
    job.add("print-quality", ValueTag.ENUM, 4)
    job.add("printer-resolution", ValueTag.RESOLUTION, Resolution(600, 600, ResolutionUnits.DPI))
    job.add("page-ranges", ValueTag.RANGE_OF_INTEGER, [Range(1, 3), Range(5, 9)])
    job.add("finishings", ValueTag.ENUM, [3])
    job.add("orientation-requested", ValueTag.ENUM, 3)
    job.add("print-scaling", ValueTag.KEYWORD, "auto-fit")
    job.add("job-hold-until-time", ValueTag.DATE_TIME, datetime(2025, 1, 1, 12, 0, tzinfo=UTC))
    job.add("job-sheet-message", ValueTag.TEXT, "Please deliver to room 4.12 " * 8)
    job.add("media-type", ValueTag.KEYWORD, "stationery")
    job.add("output-bin", ValueTag.KEYWORD, "face-down")
    for index in range(6):
        size = Collection()
        size.add("x-dimension", ValueTag.INTEGER, 21000)
        size.add("y-dimension", ValueTag.INTEGER, 29700)
        media_col = Collection()
        media_col.add("media-size", ValueTag.BEG_COLLECTION, size)
        media_col.add("media-source", ValueTag.KEYWORD, "main")
        media_col.add("media-type", ValueTag.KEYWORD, "stationery")
        for side in ("bottom", "left", "right", "top"):
            media_col.add(f"media-{side}-margin", ValueTag.INTEGER, 423)
        job.add(f"media-col-{index}", ValueTag.BEG_COLLECTION, media_col)
    job.add("vendor-x", ValueTag.EXTENSION, ExtensionValue(0x40001234, b"\x01\x02"))
    return message


def test_rich_message_is_about_2kb_and_round_trips() -> None:
    data = encode(rich_message())
    assert 1500 < len(data) < 3000
    assert decode(data)[0] == rich_message()


def test_decode_speed_of_a_typical_request() -> None:
    data = encode(rich_message())
    decode(data)
    best = min(_time_per_call(lambda: decode(data), 200) for _ in range(5))
    # Well under 100 µs on a desktop; the bound leaves room for slow CI machines.
    assert best < 1e-3, f"decode of {len(data)} bytes took {best * 1e6:.0f} µs"


def test_streaming_speed_is_linear() -> None:
    data = encode(rich_message()) + PDF
    one_shot = min(_time_per_call(lambda: stream(data, [len(data)]), 50) for _ in range(3))
    byte_wise = min(_time_per_call(lambda: stream(data, [1]), 5) for _ in range(3))
    # Byte-at-a-time pays a call per byte but must not re-parse: far from quadratic.
    assert byte_wise < one_shot * len(data)


def _time_per_call(call: Any, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) / repeat
