"""Tests for the attribute registry: the table itself, check() and make_attribute()."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from firmware.ipp import (
    Attribute,
    Collection,
    DelimiterTag,
    Message,
    NameWithLanguage,
    Operation,
    OutOfBand,
    Range,
    Resolution,
    Status,
    TextWithLanguage,
    ValueTag,
    check,
    decode,
    encode,
    lookup,
    make_attribute,
    value_tag_for,
)
from firmware.ipp.registry import MAX, MIN, REGISTRY, Syntax, _parse_syntax

# --------------------------------------------------------------------------- the table


def test_table_is_well_formed() -> None:
    assert len(REGISTRY) > 250
    for name, syntax in REGISTRY.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert syntax.tags or syntax.out_of_band, name
        assert len(set(syntax.tags)) == len(syntax.tags), name
        if ValueTag.BEG_COLLECTION in syntax.tags:
            assert syntax.members is not None, name
        # "xxx-supported" keyword lists are 1setOf, except these single-valued ones
        # (RFC 8011 §5.4.28, PWG 5100.7 §6.9.x).
        single = {"pdl-override-supported", "job-spooling-supported"}
        if name.endswith("-supported") and syntax.tags == (ValueTag.KEYWORD,):
            assert syntax.set_of is (name not in single), name


def test_everything_an_ipp_everywhere_printer_reports_is_registered() -> None:
    # PWG 5100.14 §5.1 required printer attributes (and the job ones a client reads).
    required = """
        charset-configured charset-supported color-supported compression-supported
        copies-default copies-supported document-format-default document-format-supported
        generated-natural-language-supported identify-actions-default
        identify-actions-supported ipp-features-supported ipp-versions-supported
        job-creation-attributes-supported job-ids-supported media-bottom-margin-supported
        media-col-database media-col-default media-col-ready media-col-supported
        media-default media-left-margin-supported media-ready media-right-margin-supported
        media-size-supported media-source-supported media-supported
        media-top-margin-supported media-type-supported multiple-document-jobs-supported
        multiple-operation-time-out multiple-operation-time-out-action
        natural-language-configured operations-supported output-bin-default
        output-bin-supported pdl-override-supported print-color-mode-default
        print-color-mode-supported print-quality-default print-quality-supported
        printer-config-change-date-time printer-config-change-time printer-current-time
        printer-device-id printer-dns-sd-name printer-geo-location
        printer-get-attributes-supported printer-icons printer-info printer-input-tray
        printer-is-accepting-jobs printer-kind printer-location printer-make-and-model
        printer-more-info printer-name printer-organization printer-organizational-unit
        printer-output-tray printer-resolution-default printer-resolution-supported
        printer-state printer-state-change-date-time printer-state-change-time
        printer-state-message printer-state-reasons printer-supply
        printer-supply-description printer-supply-info-uri printer-up-time
        printer-uri-supported printer-uuid pwg-raster-document-resolution-supported
        pwg-raster-document-sheet-back pwg-raster-document-type-supported queued-job-count
        sides-default sides-supported uri-authentication-supported uri-security-supported
        which-jobs-supported job-id job-uri job-state job-state-reasons job-uuid
        notify-events notify-subscription-id notify-lease-duration notify-pull-method
        print-scaling print-content-optimize job-account-id job-accounting-user-id
    """.split()
    assert [name for name in required if lookup(name) is None] == []


@pytest.mark.parametrize(
    ("name", "tags", "set_of", "max_length", "bounds"),
    [
        ("attributes-charset", (ValueTag.CHARSET,), False, 63, None),
        ("printer-uri", (ValueTag.URI,), False, 1023, None),
        ("printer-state", (ValueTag.ENUM,), False, None, (1, MAX)),
        ("printer-name", (ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE), False, 127, None),
        ("job-name", (ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE), False, 255, None),
        ("printer-info", (ValueTag.TEXT, ValueTag.TEXT_WITH_LANGUAGE), False, 127, None),
        ("job-state-message", (ValueTag.TEXT, ValueTag.TEXT_WITH_LANGUAGE), False, 1023, None),
        ("document-format-supported", (ValueTag.MIME_MEDIA_TYPE,), True, 255, None),
        ("copies", (ValueTag.INTEGER,), False, None, (1, MAX)),
        ("copies-supported", (ValueTag.RANGE_OF_INTEGER,), False, None, (1, MAX)),
        ("job-priority", (ValueTag.INTEGER,), False, None, (1, 100)),
        ("time-at-creation", (ValueTag.INTEGER,), False, None, (MIN, MAX)),
        (
            "number-up-supported",
            (ValueTag.INTEGER, ValueTag.RANGE_OF_INTEGER),
            True,
            None,
            (1, MAX),
        ),
        (
            "media-supported",
            (ValueTag.KEYWORD, ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE),
            True,
            255,
            None,
        ),
        ("printer-resolution-supported", (ValueTag.RESOLUTION,), True, None, None),
        ("printer-current-time", (ValueTag.DATE_TIME,), False, None, None),
        ("printer-supply", (ValueTag.OCTET_STRING,), True, 1023, None),
        ("printer-firmware-version", (ValueTag.OCTET_STRING,), True, 64, None),
        ("printer-uuid", (ValueTag.URI,), False, 45, None),
        ("reference-uri-schemes-supported", (ValueTag.URI_SCHEME,), True, 63, None),
        ("notify-lease-duration", (ValueTag.INTEGER,), False, None, (0, 67108863)),
        ("notify-user-data", (ValueTag.OCTET_STRING,), False, 63, None),
        ("ipp-attribute-fidelity", (ValueTag.BOOLEAN,), False, None, None),
        ("media-col", (ValueTag.BEG_COLLECTION,), False, None, None),
        ("media-col-database", (ValueTag.BEG_COLLECTION,), True, None, None),
    ],
)
def test_lookup(
    name: str,
    tags: tuple[ValueTag, ...],
    set_of: bool,
    max_length: int | None,
    bounds: tuple[int, int] | None,
) -> None:
    syntax = lookup(name)
    assert syntax is not None
    assert (syntax.tags, syntax.set_of, syntax.max_length, syntax.range) == (
        tags,
        set_of,
        max_length,
        bounds,
    )


def test_lookup_unknown() -> None:
    assert lookup("no-such-attribute") is None
    assert lookup("media-col.media-size") is None  # members are not top-level names


def test_collection_members_and_references() -> None:
    media_col = lookup("media-col")
    assert media_col is not None and media_col.members is not None
    size = media_col.members["media-size"]
    assert size.tags == (ValueTag.BEG_COLLECTION,)
    assert size.members is not None
    assert size.members["x-dimension"].tags == (ValueTag.INTEGER, ValueTag.RANGE_OF_INTEGER)
    assert media_col.members["media-source"].tags[0] == ValueTag.KEYWORD
    assert media_col.members["media-bottom-margin"].range == (0, MAX)
    for name in ("media-col-default", "media-col-ready", "media-col-database"):
        syntax = lookup(name)
        assert syntax is not None and syntax.members is not None
        assert dict(syntax.members) == dict(media_col.members), name
    supported = lookup("media-size-supported")
    assert supported is not None and supported.members is not None
    assert supported.members["x-dimension"].range == (1, MAX)
    finishings = lookup("finishings-col")
    assert finishings is not None and finishings.members is not None
    assert finishings.members["media-size"].members == size.members


def test_out_of_band_policy() -> None:
    def oob(name: str) -> frozenset[ValueTag]:
        syntax = lookup(name)
        assert syntax is not None
        return syntax.out_of_band

    assert oob("printer-uri") == frozenset()  # operation attribute
    assert oob("copies") == frozenset()  # job template as sent by a client
    assert oob("copies-default") == {ValueTag.NO_VALUE}  # RFC 8011 §5.2
    assert oob("printer-geo-location") == {ValueTag.UNKNOWN, ValueTag.NO_VALUE}
    assert oob("job-account-id-default") == {ValueTag.NO_VALUE}
    assert ValueTag.NO_VALUE in oob("date-time-at-completed")


def test_syntax_notation_parser() -> None:
    syntax, ref = _parse_syntax("1setOf (type2 keyword | name(MAX))", frozenset())
    assert syntax == Syntax(
        (ValueTag.KEYWORD, ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE),
        set_of=True,
        max_length=255,
        text="1setOf (type2 keyword | name(MAX))",
    )
    assert ref is None
    syntax, ref = _parse_syntax("1setOf collection(media-col)", frozenset())
    assert (syntax.tags, syntax.set_of, ref) == ((ValueTag.BEG_COLLECTION,), True, "media-col")
    syntax, _ = _parse_syntax("integer(-3:100) | no-value | unknown", frozenset())
    assert syntax.range == (-3, 100)
    assert syntax.out_of_band == {ValueTag.NO_VALUE, ValueTag.UNKNOWN}
    with pytest.raises((ValueError, KeyError)):
        _parse_syntax("integer[1:2]", frozenset())
    with pytest.raises(KeyError):
        _parse_syntax("float", frozenset())


# --------------------------------------------------------------------------- make_attribute


def test_make_attribute_examples_from_the_design() -> None:
    assert make_attribute("printer-state", 3) == Attribute("printer-state", ValueTag.ENUM, [3])
    assert make_attribute("printer-name", "Office") == Attribute(
        "printer-name", ValueTag.NAME_WITHOUT_LANGUAGE, ["Office"]
    )
    formats = ["application/pdf", "image/pwg-raster", "image/urf"]
    assert make_attribute("document-format-supported", formats) == Attribute(
        "document-format-supported", ValueTag.MIME_MEDIA_TYPE, formats
    )
    media_col = make_attribute(
        "media-col-default",
        {"media-size": {"x-dimension": 21000, "y-dimension": 29700}, "media-source": "main"},
    )
    size = Collection()
    size.add("x-dimension", ValueTag.INTEGER, 21000)
    size.add("y-dimension", ValueTag.INTEGER, 29700)
    expected = Collection()
    expected.add("media-size", ValueTag.BEG_COLLECTION, size)
    expected.add("media-source", ValueTag.KEYWORD, "main")
    assert media_col == Attribute("media-col-default", ValueTag.BEG_COLLECTION, [expected])


@pytest.mark.parametrize(
    ("name", "value", "tag"),
    [
        ("printer-is-accepting-jobs", True, ValueTag.BOOLEAN),
        ("queued-job-count", 0, ValueTag.INTEGER),
        ("operations-supported", 2, ValueTag.ENUM),
        ("media-default", "iso_a4_210x297mm", ValueTag.KEYWORD),
        ("media-default", NameWithLanguage("Letterhead", "en"), ValueTag.NAME_WITH_LANGUAGE),
        ("printer-info", "Front desk", ValueTag.TEXT_WITHOUT_LANGUAGE),
        ("printer-info", TextWithLanguage("Accueil", "fr"), ValueTag.TEXT_WITH_LANGUAGE),
        ("printer-uri-supported", "ipp://h/ipp/print", ValueTag.URI),
        ("reference-uri-schemes-supported", "http", ValueTag.URI_SCHEME),
        ("charset-configured", "utf-8", ValueTag.CHARSET),
        ("natural-language-configured", "en", ValueTag.NATURAL_LANGUAGE),
        ("printer-supply", b"index=1;", ValueTag.OCTET_STRING),
        ("printer-supply", "index=1;", ValueTag.OCTET_STRING),
        ("printer-current-time", datetime(2025, 5, 1, tzinfo=UTC), ValueTag.DATE_TIME),
        ("printer-resolution-default", Resolution(300, 300), ValueTag.RESOLUTION),
        ("copies-supported", Range(1, 99), ValueTag.RANGE_OF_INTEGER),
        ("number-up-supported", 1, ValueTag.INTEGER),
        ("number-up-supported", Range(1, 4), ValueTag.RANGE_OF_INTEGER),
        ("media-col", {}, ValueTag.BEG_COLLECTION),
        ("printer-geo-location", OutOfBand(ValueTag.UNKNOWN), ValueTag.UNKNOWN),
    ],
)
def test_value_tag_for(name: str, value: Any, tag: ValueTag) -> None:
    assert value_tag_for(name, value) is tag


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("printer-state", "idle"),
        ("printer-name", 5),
        ("copies", True),  # bool is not an integer here
        ("printer-is-accepting-jobs", 1),
        ("copies-supported", (1, 99)),
        ("printer-current-time", 1700000000),
        ("printer-uri", b"ipp://h/"),
    ],
)
def test_value_tag_for_rejects_values_that_do_not_fit(name: str, value: Any) -> None:
    with pytest.raises(TypeError, match=re.escape(name)):
        value_tag_for(name, value)


def test_unknown_names_need_an_explicit_tag() -> None:
    with pytest.raises(KeyError, match="pass tag= explicitly"):
        make_attribute("x-vendor-thing", "value")
    with pytest.raises(KeyError):
        value_tag_for("x-vendor-thing", "value")
    attribute = make_attribute("x-vendor-thing", ["a", "b"], tag=ValueTag.KEYWORD)
    assert attribute == Attribute("x-vendor-thing", ValueTag.KEYWORD, ["a", "b"])
    # The override also wins for registered names (e.g. a name instead of a keyword).
    assert make_attribute("media-default", "My paper", tag=ValueTag.NAME).tag is ValueTag.NAME
    assert check(make_attribute("media-default", "My paper", tag=ValueTag.NAME)) is None


def test_out_of_band_values() -> None:
    attribute = make_attribute("printer-geo-location", None, tag=ValueTag.UNKNOWN)
    assert attribute == Attribute(
        "printer-geo-location", ValueTag.UNKNOWN, [OutOfBand(ValueTag.UNKNOWN)]
    )
    assert make_attribute("copies-default", OutOfBand(ValueTag.NO_VALUE)).tag is ValueTag.NO_VALUE
    with pytest.raises(ValueError, match="'no-value' is not allowed"):
        make_attribute("printer-uri", OutOfBand(ValueTag.NO_VALUE))
    # Without validation the caller gets what it asked for.
    assert make_attribute("printer-uri", None, tag=ValueTag.NO_VALUE, validate=False).values == [
        OutOfBand(ValueTag.NO_VALUE)
    ]


def test_make_attribute_validates() -> None:
    with pytest.raises(ValueError, match="takes one value, not 2"):
        make_attribute("printer-state", [3, 4])
    with pytest.raises(ValueError, match="out of range 1:100"):
        make_attribute("job-priority", 101)
    with pytest.raises(ValueError, match="longer than 127"):
        make_attribute("printer-name", "x" * 128)
    with pytest.raises(ValueError, match="longer than 127"):
        make_attribute("printer-location", "é" * 64)  # 128 octets of UTF-8
    with pytest.raises(ValueError, match="lower > upper"):
        make_attribute("copies-supported", Range(5, 1))
    with pytest.raises(ValueError, match="no values"):
        make_attribute("printer-state-reasons", [])
    assert make_attribute("job-priority", 101, validate=False).values == [101]


def test_make_attribute_collections() -> None:
    # 1setOf collection with nested members, all typed from the registry.
    database = make_attribute(
        "media-col-database",
        [
            {
                "media-size": {"x-dimension": 21000, "y-dimension": 29700},
                "media-type": "stationery",
                "media-bottom-margin": 423,
            },
            {"media-size": {"x-dimension": Range(7620, 21590), "y-dimension": 27940}},
        ],
    )
    assert database.tag is ValueTag.BEG_COLLECTION and len(database.values) == 2
    first, second = database.values
    assert first["media-type"].tag is ValueTag.KEYWORD
    assert first["media-bottom-margin"].tag is ValueTag.INTEGER
    assert second["media-size"].value["x-dimension"].tag is ValueTag.RANGE_OF_INTEGER
    # Unregistered members must be given as explicit Attributes.
    with pytest.raises(KeyError, match="'media-vendor' is not a registered member"):
        make_attribute("media-col", {"media-vendor": "x"})
    vendor = Attribute("media-vendor", ValueTag.KEYWORD, ["x"])
    assert make_attribute("media-col", {"media-vendor": vendor}).value["media-vendor"] is vendor
    with pytest.raises(ValueError, match="holds attribute"):
        make_attribute("media-col", {"media-x": vendor})
    # A Collection value passes through untouched.
    ready = Collection([Attribute("media-source", ValueTag.KEYWORD, ["tray-1"])])
    assert make_attribute("media-col-ready", [ready]).values == [ready]
    # Member values are validated too.
    with pytest.raises(ValueError, match="member 'media-size': member 'x-dimension'"):
        make_attribute("media-col", {"media-size": {"x-dimension": -1, "y-dimension": 1}})
    with pytest.raises(TypeError):
        make_attribute("media-col", {"media-size": "iso_a4_210x297mm"})


# --------------------------------------------------------------------------- check


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        (Attribute("printer-state", ValueTag.ENUM, [3]), None),
        (Attribute("printer-state", ValueTag.INTEGER, [3]), "value tag integer not allowed"),
        (Attribute("printer-state", ValueTag.ENUM, [3, 4]), "takes one value, not 2"),
        (Attribute("printer-state", ValueTag.ENUM, [0]), "0 is out of range 1:MAX"),
        (Attribute("printer-state", ValueTag.ENUM, []), "has no values"),
        (Attribute("printer-state", ValueTag.ENUM, [True]), "must be int"),
        (Attribute("printer-state", ValueTag.UNKNOWN, [OutOfBand(ValueTag.UNKNOWN)]), None),
        (
            Attribute(
                "printer-state-reasons",
                ValueTag.KEYWORD,
                ["none", OutOfBand(ValueTag.UNKNOWN)],
                [ValueTag.KEYWORD, ValueTag.UNKNOWN],
            ),
            "must be the only value",
        ),
        (
            Attribute("printer-uri", ValueTag.NO_VALUE, [OutOfBand(ValueTag.NO_VALUE)]),
            "not allowed",
        ),
        (Attribute("job-name", ValueTag.NAME_WITH_LANGUAGE, [NameWithLanguage("n", "en")]), None),
        (Attribute("job-name", ValueTag.TEXT, ["n"]), "value tag textWithoutLanguage"),
        (Attribute("job-name", ValueTag.NAME, ["x" * 256]), "256 octets, longer than 255"),
        (Attribute("job-name", ValueTag.NAME, [b"bytes"]), "must be str"),
        (
            Attribute(
                "number-up-supported",
                ValueTag.INTEGER,
                [1, Range(2, 4)],
                [ValueTag.INTEGER, ValueTag.RANGE_OF_INTEGER],
            ),
            None,
        ),
        (Attribute("copies-supported", ValueTag.RANGE_OF_INTEGER, [Range(0, 9)]), "out of range"),
        (
            Attribute("printer-resolution-default", ValueTag.RESOLUTION, [Resolution(1, 1, 5)]),
            "bad resolution",
        ),
        (Attribute("printer-is-accepting-jobs", ValueTag.BOOLEAN, [1]), "must be bool"),
        (Attribute("printer-current-time", ValueTag.DATE_TIME, ["now"]), "must be datetime"),
        (Attribute("printer-supply", ValueTag.OCTET_STRING, [b"x" * 1024]), "longer than 1023"),
        (Attribute("media-col", ValueTag.BEG_COLLECTION, ["x"]), "must be Collection"),
        (
            Attribute(
                "media-col",
                ValueTag.BEG_COLLECTION,
                [Collection([Attribute("media-source", ValueTag.INTEGER, [1])])],
            ),
            "member 'media-source': value tag integer not allowed",
        ),
        (
            Attribute(
                "media-col",
                ValueTag.BEG_COLLECTION,
                [Collection([Attribute("x-vendor", ValueTag.INTEGER, [1])])],
            ),
            None,
        ),
        (Attribute("x-not-registered", ValueTag.INTEGER, ["anything"]), None),
    ],
)  # fmt: skip
def test_check(attribute: Attribute, reason: str | None) -> None:
    result = check(attribute)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result, result


def test_check_decoded_request() -> None:
    # What a responder does: decode, then check each attribute against the registry.
    request = Message((2, 0), Operation.PRINT_JOB, 5)
    op = request.add_group(DelimiterTag.OPERATION)
    op.append(make_attribute("attributes-charset", "utf-8"))
    op.append(make_attribute("attributes-natural-language", "en"))
    op.append(make_attribute("printer-uri", "ipp://localhost/ipp/print"))
    op.add("job-name", ValueTag.KEYWORD, "sent as a keyword")  # a buggy client
    op.add("copies", ValueTag.INTEGER, 0)
    decoded, _ = decode(encode(request))
    reasons = {a.name: check(a) for a in decoded.operation.attributes}  # type: ignore[union-attr]
    assert reasons["printer-uri"] is None
    assert "value tag keyword not allowed" in reasons["job-name"]  # type: ignore[operator]
    assert "out of range" in reasons["copies"]  # type: ignore[operator]


def test_get_printer_attributes_response_round_trip() -> None:
    values: dict[str, Any] = {
        "printer-uri-supported": ["ipp://printbridge.local/ipp/print"],
        "uri-security-supported": ["none"],
        "uri-authentication-supported": ["none"],
        "printer-name": "Office",
        "printer-state": 3,
        "printer-state-reasons": ["none"],
        "printer-is-accepting-jobs": True,
        "ipp-versions-supported": ["1.1", "2.0"],
        "operations-supported": [int(op) for op in Operation][:20],
        "document-format-supported": ["application/pdf", "image/pwg-raster"],
        "copies-supported": Range(1, 99),
        "printer-resolution-supported": [Resolution(300, 300), Resolution(600, 600)],
        "printer-current-time": datetime(2025, 6, 1, 8, 30, tzinfo=UTC),
        "printer-geo-location": OutOfBand(ValueTag.UNKNOWN),
        "media-col-default": {
            "media-size": {"x-dimension": 21000, "y-dimension": 29700},
            "media-source": "main",
            "media-type": "stationery",
        },
        "media-size-supported": [
            {"x-dimension": 21000, "y-dimension": 29700},
            {"x-dimension": Range(7620, 21590), "y-dimension": Range(12700, 35560)},
        ],
        "printer-supply": [b"index=1;class=supplyThatIsConsumed;type=toner;level=40;"],
        "marker-levels": [40],
        "printer-uuid": "urn:uuid:4509a320-00a0-008f-00b6-002507510eca",
        "number-up-supported": [1, Range(2, 4)],
    }
    response = Message((2, 0), Status.SUCCESSFUL_OK, 77)
    op = response.add_group(DelimiterTag.OPERATION)
    op.append(make_attribute("attributes-charset", "utf-8"))
    op.append(make_attribute("attributes-natural-language", "en"))
    printer = response.add_group(DelimiterTag.PRINTER)
    for name, value in values.items():
        printer.append(make_attribute(name, value))
    decoded, _ = decode(encode(response))
    assert decoded == response
    for attribute in decoded.group(DelimiterTag.PRINTER).attributes:  # type: ignore[union-attr]
        assert check(attribute) is None, attribute.name
    number_up = decoded.find("number-up-supported")
    assert number_up is not None
    assert number_up.value_tags == [ValueTag.INTEGER, ValueTag.RANGE_OF_INTEGER]
