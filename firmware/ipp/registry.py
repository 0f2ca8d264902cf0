"""The IPP attribute registry, as data: attribute name -> syntax.

The table below is written in the notation of RFC 8011 §5.1 ("1setOf (type2 keyword |
name(MAX))", "integer(1:MAX)", "text(127)") and parsed once at import.  It covers the
RFC 8011 §5 operation, Job Template, Job Description and Printer Description attributes,
the RFC 3995/3996 subscription and notification attributes, and the PWG 5100.x attributes
an IPP Everywhere (PWG 5100.14) printer uses.  Collection members are listed under their
collection with dotted names ("media-col.media-size.x-dimension"); ``collection(media-col)``
reuses another attribute's members.

Out-of-band values (RFC 8010 §3.8) allowed as the sole value of an attribute: Printer,
Job and Subscription description attributes may be 'unknown' or 'no-value' (a Printer
answering about a value it does not know or does not have); "xxx-default" attributes may
be 'no-value' (RFC 8011 §5.2: no default configured); so may anything whose syntax says
"| no-value" or "| unknown".  Operation attributes, Job Template attributes as sent by
clients, and collection members allow none.  Context-specific ones ('unsupported' in the
unsupported-attributes group, 'delete-attribute' in Set-*-Attributes) are for the
responder to judge, not this table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from firmware.ipp.tags import ValueTag
from firmware.ipp.values import (
    Attribute,
    Collection,
    ExtensionValue,
    NameWithLanguage,
    OutOfBand,
    Range,
    Resolution,
    TextWithLanguage,
)

__all__ = ["REGISTRY", "Syntax", "check", "lookup", "make_attribute", "value_tag_for"]

MIN: Final = -(2**31)
MAX: Final = 2**31 - 1

# ---------------------------------------------------------------------------- the table
# Sections set the out-of-band values allowed by default (see the module docstring).
# Names that are both operation and description attributes (job-id, job-name, ...) are
# listed once, under the description section.
_TABLE: Final = """
[operation]
# RFC 8011 §4 operation attributes
attributes-charset                  charset
attributes-natural-language         naturalLanguage
printer-uri                         uri
document-uri                        uri
requesting-user-name                name(MAX)
# RFC 3998 §3.3.2 Schedule-Job-After
job-id-after                        integer(1:MAX)
ipp-attribute-fidelity              boolean
document-name                       name(MAX)
compression                         type3 keyword
document-format                     mimeMediaType
document-natural-language           naturalLanguage
last-document                       boolean
message                             text(127)
requested-attributes                1setOf type2 keyword
which-jobs                          type2 keyword
limit                               integer(1:MAX)
my-jobs                             boolean
status-message                      text(255)
detailed-status-message             text(MAX)
document-access-error               text(MAX)
# PWG 5100.5 / 5100.11 / 5100.13
document-number                     integer(1:MAX)
first-index                         integer(1:MAX)
job-ids                             1setOf integer(1:MAX)
requesting-user-uri                 uri
document-password                   octetString(1023)
job-password                        octetString(255)
job-password-encryption             type2 keyword | name(MAX)
job-mandatory-attributes            1setOf type2 keyword
identify-actions                    1setOf type2 keyword
# RFC 3995 / RFC 3996 operation attributes
notify-subscription-ids             1setOf integer(1:MAX)
notify-sequence-numbers             1setOf integer(1:MAX)
notify-wait                         boolean
my-subscriptions                    boolean

[job-template]
# RFC 8011 §5.2
copies                              integer(1:MAX)
copies-default                      integer(1:MAX)
copies-supported                    rangeOfInteger(1:MAX)
finishings                          1setOf type2 enum
finishings-default                  1setOf type2 enum
finishings-supported                1setOf type2 enum
job-hold-until                      type2 keyword | name(MAX)
job-hold-until-default              type2 keyword | name(MAX)
job-hold-until-supported            1setOf (type2 keyword | name(MAX))
job-priority                        integer(1:100)
job-priority-default                integer(1:100)
job-priority-supported              integer(1:100)
job-sheets                          type2 keyword | name(MAX)
job-sheets-default                  type2 keyword | name(MAX)
job-sheets-supported                1setOf (type2 keyword | name(MAX))
media                               type2 keyword | name(MAX)
media-default                       type2 keyword | name(MAX)
media-ready                         1setOf (type2 keyword | name(MAX))
media-supported                     1setOf (type2 keyword | name(MAX))
multiple-document-handling          type2 keyword
multiple-document-handling-default  type2 keyword
multiple-document-handling-supported 1setOf type2 keyword
number-up                           integer(1:MAX)
number-up-default                   integer(1:MAX)
number-up-supported                 1setOf (integer(1:MAX) | rangeOfInteger(1:MAX))
orientation-requested               type2 enum
orientation-requested-default       type2 enum
orientation-requested-supported     1setOf type2 enum
page-ranges                         1setOf rangeOfInteger(1:MAX)
page-ranges-supported               boolean
pdl-override-supported              type2 keyword
print-quality                       type2 enum
print-quality-default               type2 enum
print-quality-supported             1setOf type2 enum
printer-resolution                  resolution
printer-resolution-default          resolution
printer-resolution-supported        1setOf resolution
sides                               type2 keyword
sides-default                       type2 keyword
sides-supported                     1setOf type2 keyword
# PWG 5100.2 output-bin
output-bin                          type2 keyword | name(MAX)
output-bin-default                  type2 keyword | name(MAX)
output-bin-supported                1setOf (type2 keyword | name(MAX))
# PWG 5100.3 / 5100.7 media-col and the media-* printer attributes
media-col                           collection
media-col-default                   collection(media-col)
media-col-ready                     1setOf collection(media-col)
media-col-database                  1setOf collection(media-col)
media-col-supported                 1setOf type2 keyword
media-bottom-margin-supported       1setOf integer(0:MAX)
media-left-margin-supported         1setOf integer(0:MAX)
media-right-margin-supported        1setOf integer(0:MAX)
media-top-margin-supported          1setOf integer(0:MAX)
media-color-supported               1setOf (type2 keyword | name(MAX))
media-source-supported              1setOf (type2 keyword | name(MAX))
media-type-supported                1setOf (type2 keyword | name(MAX))
media-size-supported                1setOf collection
presentation-direction-number-up    type2 keyword
presentation-direction-number-up-default   type2 keyword
presentation-direction-number-up-supported 1setOf type2 keyword
# PWG 5100.1 finishings-col
finishings-col                      1setOf collection
finishings-col-default              1setOf collection(finishings-col)
finishings-col-ready                1setOf collection(finishings-col)
finishings-col-database             1setOf collection(finishings-col)
finishings-col-supported            1setOf type2 keyword
# PWG 5100.6 overrides
overrides                           1setOf collection
overrides-supported                 1setOf type2 keyword
# PWG 5100.13 (IPP Everywhere job template attributes)
print-color-mode                    type2 keyword
print-color-mode-default            type2 keyword
print-color-mode-supported          1setOf type2 keyword
print-content-optimize              type2 keyword
print-content-optimize-default      type2 keyword
print-content-optimize-supported    1setOf type2 keyword
print-rendering-intent              type2 keyword
print-rendering-intent-default      type2 keyword
print-rendering-intent-supported    1setOf type2 keyword
print-scaling                       type2 keyword
print-scaling-default               type2 keyword
print-scaling-supported             1setOf type2 keyword
job-error-action                    type2 keyword
job-error-action-default            type2 keyword
job-error-action-supported          1setOf type2 keyword
# PWG 5100.7 (job extensions)
job-account-id                      name(MAX)
job-account-id-default              name(MAX) | no-value
job-account-id-supported            boolean
job-accounting-user-id              name(MAX)
job-accounting-user-id-default      name(MAX) | no-value
job-accounting-user-id-supported    boolean
job-delay-output-until              type2 keyword | name(MAX)
job-delay-output-until-default      type2 keyword | name(MAX)
job-delay-output-until-supported    1setOf (type2 keyword | name(MAX))
job-delay-output-until-time         dateTime
job-hold-until-time                 dateTime
job-recipient-name                  name(MAX)
job-retain-until                    type2 keyword
job-retain-until-default            type2 keyword
job-retain-until-supported          1setOf type2 keyword
job-retain-until-interval           integer(0:MAX)
job-retain-until-time               dateTime
job-sheet-message                   text(MAX)
job-sheet-message-supported         boolean
job-pages-per-set                   integer(1:MAX)
job-pages-per-set-supported         boolean
# PWG 5100.11
job-cancel-after                    integer(1:MAX)
job-cancel-after-default            integer(1:MAX) | no-value
job-cancel-after-supported          rangeOfInteger(1:MAX)

[members]
# PWG 5100.7 §6.3 media-col member attributes
media-col.media-back-coating        type2 keyword | name(MAX)
media-col.media-bottom-margin       integer(0:MAX)
media-col.media-color               type2 keyword | name(MAX)
media-col.media-front-coating       type2 keyword | name(MAX)
media-col.media-grain               type2 keyword | name(MAX)
media-col.media-hole-count          integer(0:MAX)
media-col.media-info                text(255)
media-col.media-key                 type2 keyword | name(MAX)
media-col.media-left-margin         integer(0:MAX)
media-col.media-order-count         integer(1:MAX)
media-col.media-pre-printed         type2 keyword | name(MAX)
media-col.media-recycled            type2 keyword | name(MAX)
media-col.media-right-margin        integer(0:MAX)
media-col.media-size                collection
# media-col-database may describe custom size ranges with rangeOfInteger (5100.7 §6.3)
media-col.media-size.x-dimension    integer(0:MAX) | rangeOfInteger(0:MAX)
media-col.media-size.y-dimension    integer(0:MAX) | rangeOfInteger(0:MAX)
media-col.media-size-name           type2 keyword | name(MAX)
media-col.media-source              type2 keyword | name(MAX)
media-col.media-source-properties   collection
media-col.media-source-properties.media-source-feed-direction   type2 keyword
media-col.media-source-properties.media-source-feed-orientation type2 enum
media-col.media-thickness           integer(1:MAX)
media-col.media-tooth               type2 keyword | name(MAX)
media-col.media-top-margin          integer(0:MAX)
media-col.media-type                type2 keyword | name(MAX)
media-col.media-weight-metric       integer(0:MAX)
media-size-supported.x-dimension    integer(1:MAX) | rangeOfInteger(1:MAX)
media-size-supported.y-dimension    integer(1:MAX) | rangeOfInteger(1:MAX)
finishings-col.finishing-template   type2 keyword | name(MAX)
finishings-col.media-size           collection(media-col.media-size)
finishings-col.media-size-name      type2 keyword | name(MAX)
finishings-col.imposition-template  type2 keyword | name(MAX)
overrides.document-copies           1setOf rangeOfInteger(1:MAX)
overrides.document-numbers          1setOf rangeOfInteger(1:MAX)
overrides.pages                     1setOf rangeOfInteger(1:MAX)
printer-contact-col.contact-name    name(MAX)
printer-contact-col.contact-uri     uri
printer-contact-col.contact-vcard   1setOf text(MAX)
job-constraints-supported.resolver-name    name(MAX)
job-resolvers-supported.resolver-name      name(MAX)

[job-description]
# RFC 8011 §5.3 (and operation attributes of the same name)
job-uri                             uri
job-id                              integer(1:MAX)
job-printer-uri                     uri
job-more-info                       uri
job-name                            name(MAX)
job-originating-user-name           name(MAX)
job-state                           type1 enum
job-state-reasons                   1setOf type2 keyword
job-state-message                   text(MAX)
job-detailed-status-messages        1setOf text(MAX)
job-document-access-errors          1setOf text(MAX)
number-of-documents                 integer(0:MAX)
output-device-assigned              name(127)
time-at-creation                    integer(MIN:MAX)
time-at-processing                  integer(MIN:MAX)
time-at-completed                   integer(MIN:MAX)
job-printer-up-time                 integer(1:MAX)
date-time-at-creation               dateTime
date-time-at-processing             dateTime
date-time-at-completed              dateTime
number-of-intervening-jobs          integer(0:MAX)
job-message-from-operator           text(127)
job-k-octets                        integer(0:MAX)
job-impressions                     integer(0:MAX)
job-media-sheets                    integer(0:MAX)
job-k-octets-processed              integer(0:MAX)
job-impressions-completed           integer(0:MAX)
job-media-sheets-completed          integer(0:MAX)
# PWG 5100.7 / 5100.13
job-uuid                            uri(45)
job-originating-user-uri            uri
job-pages                           integer(0:MAX)
job-pages-completed                 integer(0:MAX)
job-processing-time                 integer(0:MAX)
compression-supplied                type3 keyword
document-format-supplied            mimeMediaType
document-format-detected            mimeMediaType
document-name-supplied              name(MAX)
job-printer-state-message           text(MAX)
job-printer-state-reasons           1setOf type2 keyword
# CUPS extension that clients display
job-originating-host-name           name(MAX)

[printer-description]
# RFC 8011 §5.4
printer-uri-supported               1setOf uri
uri-security-supported              1setOf type2 keyword
uri-authentication-supported        1setOf type2 keyword
printer-name                        name(127)
printer-location                    text(127)
printer-info                        text(127)
printer-more-info                   uri
printer-driver-installer            uri
printer-make-and-model              text(127)
printer-more-info-manufacturer      uri
printer-state                       type1 enum
printer-state-reasons               1setOf type2 keyword
printer-state-message               text(MAX)
ipp-versions-supported              1setOf type2 keyword
operations-supported                1setOf type2 enum
multiple-document-jobs-supported    boolean
charset-configured                  charset
charset-supported                   1setOf charset
natural-language-configured         naturalLanguage
generated-natural-language-supported 1setOf naturalLanguage
document-format-default             mimeMediaType
document-format-supported           1setOf mimeMediaType
printer-is-accepting-jobs           boolean
queued-job-count                    integer(0:MAX)
printer-message-from-operator       text(127)
color-supported                     boolean
reference-uri-schemes-supported     1setOf uriScheme
printer-up-time                     integer(1:MAX)
printer-current-time                dateTime
multiple-operation-time-out         integer(1:MAX)
compression-supported               1setOf type3 keyword
job-k-octets-supported              rangeOfInteger(0:MAX)
job-impressions-supported           rangeOfInteger(0:MAX)
job-media-sheets-supported          rangeOfInteger(0:MAX)
pages-per-minute                    integer(0:MAX)
pages-per-minute-color              integer(0:MAX)
# What driverless clients read beyond the PWG specifications: Windows' IPP class driver
# and Mopria (see firmware.ipp.printer_attributes)
document-format-preferred           mimeMediaType
mopria-certified                    text(MAX)
# PWG 5100.11 / 5100.13 / 5100.14 (IPP Everywhere)
document-format-varying-attributes  1setOf type2 keyword
document-password-supported         integer(0:1023)
identify-actions-default            1setOf type2 keyword
identify-actions-supported          1setOf type2 keyword
ipp-features-supported              1setOf type2 keyword
job-creation-attributes-supported   1setOf type2 keyword
job-ids-supported                   boolean
job-password-supported              integer(0:255)
job-password-encryption-supported   1setOf (type2 keyword | name(MAX))
job-spooling-supported              type2 keyword
jpeg-k-octets-supported             rangeOfInteger(0:MAX)
jpeg-x-dimension-supported          rangeOfInteger(0:65535)
jpeg-y-dimension-supported          rangeOfInteger(1:65535)
landscape-orientation-requested-preferred type2 enum
multiple-operation-time-out-action  type2 keyword
pdf-k-octets-supported              rangeOfInteger(0:MAX)
pdf-versions-supported              1setOf type2 keyword
preferred-attributes-supported      boolean
printer-alert                       1setOf octetString(MAX)
printer-alert-description           1setOf text(MAX)
printer-charge-info                 text(MAX)
printer-charge-info-uri             uri
printer-config-change-date-time     dateTime
printer-config-change-time          integer(1:MAX)
printer-contact-col                 collection
printer-device-id                   text(1023)
printer-dns-sd-name                 name(63)
printer-firmware-name               1setOf name(MAX)
printer-firmware-patches            1setOf text(MAX)
printer-firmware-string-version     1setOf text(MAX)
printer-firmware-version            1setOf octetString(64)
printer-geo-location                uri
printer-get-attributes-supported    1setOf type2 keyword
printer-icc-profiles                1setOf collection
printer-icons                       1setOf uri
printer-impressions-completed       integer(0:MAX)
printer-input-tray                  1setOf octetString(MAX)
printer-kind                        1setOf (type2 keyword | name(MAX))
printer-mandatory-job-attributes    1setOf type2 keyword
printer-media-sheets-completed      integer(0:MAX)
printer-organization                1setOf text(MAX)
printer-organizational-unit         1setOf text(MAX)
printer-output-tray                 1setOf octetString(MAX)
printer-pages-completed             integer(0:MAX)
printer-state-change-date-time      dateTime
printer-state-change-time           integer(1:MAX)
printer-strings-languages-supported 1setOf naturalLanguage
printer-strings-uri                 uri
printer-supply                      1setOf octetString(MAX)
printer-supply-description          1setOf text(MAX)
printer-supply-info-uri             uri
printer-uuid                        uri(45)
pwg-raster-document-resolution-supported 1setOf resolution
pwg-raster-document-sheet-back      type2 keyword
pwg-raster-document-type-supported  1setOf type2 keyword
urf-supported                       1setOf type2 keyword
which-jobs-supported                1setOf type2 keyword
job-constraints-supported           1setOf collection
job-resolvers-supported             1setOf collection
# CUPS extensions that desktop clients read for supply levels (CUPS IPP spec)
marker-change-time                  integer(0:MAX)
marker-colors                       1setOf name(MAX)
marker-high-levels                  1setOf integer(0:100)
marker-levels                       1setOf integer(-3:100)
marker-low-levels                   1setOf integer(0:100)
marker-message                      text(MAX)
marker-names                        1setOf name(MAX)
marker-types                        1setOf type3 keyword
# RFC 3380 (Set-Printer-Attributes / Set-Job-Attributes)
job-settable-attributes-supported   1setOf type2 keyword
printer-settable-attributes-supported 1setOf type2 keyword
document-settable-attributes-supported 1setOf type2 keyword
# PWG 5100.11 §7.1 job privacy
job-privacy-attributes              1setOf type2 keyword
job-privacy-attributes-supported    1setOf type2 keyword
job-privacy-scope                   type2 keyword
job-privacy-scope-supported         1setOf type2 keyword
# RFC 3995 §5.3 printer description attributes for subscriptions
notify-attributes-supported         1setOf type2 keyword
notify-events-default               1setOf type2 keyword
notify-events-supported             1setOf type2 keyword
notify-lease-duration-default       integer(0:67108863)
notify-lease-duration-supported     1setOf (integer(0:67108863) | rangeOfInteger(0:67108863))
notify-max-events-supported         integer(2:MAX)
notify-pull-method-supported        1setOf type2 keyword
notify-schemes-supported            1setOf uriScheme
# RFC 3996 §5.2 / §7 (ippget)
ippget-event-life                   integer(15:MAX)

[subscription]
# RFC 3995 §5.3 subscription template / description, §9 event notification attributes
notify-attributes                   1setOf type2 keyword
notify-charset                      charset
notify-events                       1setOf type2 keyword
notify-get-interval                 integer(0:MAX)
notify-job-id                       integer(1:MAX)
notify-lease-duration               integer(0:67108863)
notify-lease-expiration-time        integer(0:MAX)
notify-natural-language             naturalLanguage
notify-printer-up-time              integer(1:MAX)
notify-printer-uri                  uri
notify-pull-method                  type2 keyword
notify-recipient-uri                uri
notify-sequence-number              integer(0:MAX)
notify-status-code                  type2 enum
notify-subscribed-event             type2 keyword
notify-subscriber-user-name         name(MAX)
notify-subscriber-user-uri          uri
notify-subscription-id              integer(1:MAX)
notify-text                         text(MAX)
notify-time-interval                integer(0:MAX)
notify-user-data                    octetString(63)
printer-state-change-reasons        1setOf type2 keyword
"""

# Section -> out-of-band tags allowed by default.
_DESCRIPTION_OOB: Final = frozenset({ValueTag.UNKNOWN, ValueTag.NO_VALUE})
_SECTION_OOB: Final[dict[str, frozenset[ValueTag]]] = {
    "operation": frozenset(),
    "job-template": frozenset(),
    "members": frozenset(),
    "job-description": _DESCRIPTION_OOB,
    "printer-description": _DESCRIPTION_OOB,
    "subscription": _DESCRIPTION_OOB,
}

# ----------------------------------------------------------------------------- syntaxes

_STRING_TAGS: Final = (
    ValueTag.KEYWORD,
    ValueTag.NAME_WITHOUT_LANGUAGE,
    ValueTag.TEXT_WITHOUT_LANGUAGE,
    ValueTag.URI,
    ValueTag.URI_SCHEME,
    ValueTag.CHARSET,
    ValueTag.NATURAL_LANGUAGE,
    ValueTag.MIME_MEDIA_TYPE,
    ValueTag.OCTET_STRING,
)

# base syntax -> (value tags, default max octets, default numeric bounds), RFC 8011 §5.1
_BASES: Final[dict[str, tuple[tuple[ValueTag, ...], int | None, tuple[int, int] | None]]] = {
    "text": ((ValueTag.TEXT_WITHOUT_LANGUAGE, ValueTag.TEXT_WITH_LANGUAGE), 1023, None),
    "name": ((ValueTag.NAME_WITHOUT_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE), 255, None),
    "keyword": ((ValueTag.KEYWORD,), 255, None),
    "enum": ((ValueTag.ENUM,), None, (1, MAX)),
    "uri": ((ValueTag.URI,), 1023, None),
    "uriScheme": ((ValueTag.URI_SCHEME,), 63, None),
    "charset": ((ValueTag.CHARSET,), 63, None),
    "naturalLanguage": ((ValueTag.NATURAL_LANGUAGE,), 63, None),
    "mimeMediaType": ((ValueTag.MIME_MEDIA_TYPE,), 255, None),
    "octetString": ((ValueTag.OCTET_STRING,), 1023, None),
    "boolean": ((ValueTag.BOOLEAN,), None, None),
    "integer": ((ValueTag.INTEGER,), None, (MIN, MAX)),
    "rangeOfInteger": ((ValueTag.RANGE_OF_INTEGER,), None, (MIN, MAX)),
    "dateTime": ((ValueTag.DATE_TIME,), None, None),
    "resolution": ((ValueTag.RESOLUTION,), None, None),
    "collection": ((ValueTag.BEG_COLLECTION,), None, None),
}


@dataclass(frozen=True, slots=True)
class Syntax:
    """The syntax of one attribute (RFC 8011 §5.1).

    ``tags`` are the allowed value tags, in the order :func:`value_tag_for` prefers them;
    ``max_length`` bounds string/octetString values in octets; ``range`` bounds integer,
    enum and rangeOfInteger values; ``out_of_band`` lists the out-of-band tags allowed as
    the sole value; ``members`` gives member syntaxes for a collection.
    """

    tags: tuple[ValueTag, ...]
    set_of: bool = False
    max_length: int | None = None
    range: tuple[int, int] | None = None
    out_of_band: frozenset[ValueTag] = frozenset()
    members: Mapping[str, Syntax] | None = field(default=None, compare=False)
    text: str = ""


_TERM = re.compile(r"^(?:type[123]\s+)?([A-Za-z-]+)(?:\(([^)]*)\))?$")


def _bound(token: str) -> int:
    return {"MIN": MIN, "MAX": MAX}.get(token.strip()) or int(token)


def _parse_syntax(text: str, default_oob: frozenset[ValueTag]) -> tuple[Syntax, str | None]:
    """Parse RFC 8011 §5.1 notation; returns the syntax (without members) and, for
    ``collection(ref)``, the name whose members to reuse."""
    body = text.strip()
    set_of = body.startswith("1setOf")
    if set_of:
        body = body[len("1setOf") :].strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    tags: list[ValueTag] = []
    oob = set(default_oob)
    max_length: int | None = None
    low: int | None = None
    high: int | None = None
    ref: str | None = None
    for term in body.split("|"):
        match = _TERM.match(term.strip())
        if match is None:
            raise ValueError(f"bad syntax term {term!r} in {text!r}")
        base, arg = match.groups()
        if base in ("no-value", "unknown"):
            oob.add(ValueTag.from_keyword(base))
            continue
        base_tags, length, bounds = _BASES[base]
        tags.extend(base_tags)
        if base == "collection":
            ref = arg
        elif bounds is not None:
            if arg:
                lo_text, _, hi_text = arg.partition(":")
                bounds = (_bound(lo_text), _bound(hi_text))
            low = bounds[0] if low is None else min(low, bounds[0])
            high = bounds[1] if high is None else max(high, bounds[1])
        elif length is not None:
            if arg and arg != "MAX":
                length = int(arg)
            max_length = length if max_length is None else max(max_length, length)
    syntax = Syntax(
        tags=tuple(tags),
        set_of=set_of,
        max_length=max_length,
        range=None if low is None or high is None else (low, high),
        out_of_band=frozenset(oob),
        text=text.strip(),
    )
    return syntax, ref


def _load(table: str) -> dict[str, Syntax]:
    """Parse the table; attach collection members (dotted names, collection(ref))."""
    flat: dict[str, tuple[Syntax, str | None]] = {}
    oob: frozenset[ValueTag] = frozenset()
    section = ""
    for line in table.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            oob = _SECTION_OOB[section]
            continue
        name, text = line.split(None, 1)
        if name in flat:
            raise ValueError(f"attribute {name!r} listed twice in the registry")
        default = oob | {ValueTag.NO_VALUE} if name.endswith("-default") else oob
        if section == "members":
            default = frozenset()
        flat[name] = _parse_syntax(text, default)

    children: dict[str, list[str]] = {}
    for path in flat:
        parent, _, child = path.rpartition(".")
        if parent:
            if parent not in flat or ValueTag.BEG_COLLECTION not in flat[parent][0].tags:
                raise ValueError(f"{path!r}: {parent!r} is not a collection in the registry")
            children.setdefault(parent, []).append(child)

    built: dict[str, Syntax] = {}

    def build(path: str, seen: tuple[str, ...] = ()) -> Syntax:
        if path in built:
            return built[path]
        if path in seen:
            raise ValueError(f"collection reference cycle through {path!r}")
        syntax, ref = flat[path]
        if ValueTag.BEG_COLLECTION in syntax.tags:
            members: dict[str, Syntax] = {}
            if ref is not None:
                if ref not in flat:
                    raise ValueError(f"{path!r} refers to unknown collection {ref!r}")
                members.update(build(ref, (*seen, path)).members or {})
            for child in children.get(path, ()):
                members[child] = build(f"{path}.{child}", (*seen, path))
            syntax = Syntax(
                tags=syntax.tags,
                set_of=syntax.set_of,
                max_length=syntax.max_length,
                range=syntax.range,
                out_of_band=syntax.out_of_band,
                members=MappingProxyType(members),
                text=syntax.text,
            )
        built[path] = syntax
        return syntax

    return {path: build(path) for path in flat if "." not in path}


#: Every registered top-level attribute.
REGISTRY: Final[Mapping[str, Syntax]] = MappingProxyType(_load(_TABLE))


def lookup(name: str) -> Syntax | None:
    """The syntax of attribute ``name``, or ``None`` if it is not registered."""
    return REGISTRY.get(name)


# -------------------------------------------------------------------------------- check


def check(attribute: Attribute) -> str | None:
    """Check ``attribute``'s value tags, value count, lengths and ranges against the
    registry.  Returns ``None`` if they fit (or the name is not registered: nothing to
    check against), else a human-readable reason.  Collection members are checked
    recursively; members the registry does not know are accepted."""
    syntax = REGISTRY.get(attribute.name)
    return None if syntax is None else _check(attribute, syntax)


def _check(attribute: Attribute, syntax: Syntax) -> str | None:
    values = attribute.values
    if not values:
        return "has no values"
    for tag, _ in attribute.tagged():
        if tag.is_out_of_band:
            if len(values) > 1:
                return f"out-of-band '{tag.keyword}' must be the only value"
            if tag not in syntax.out_of_band:
                return f"'{tag.keyword}' is not allowed (syntax {syntax.text})"
            return None
    if len(values) > 1 and not syntax.set_of:
        return f"takes one value, not {len(values)} (syntax {syntax.text})"
    for tag, value in attribute.tagged():
        if tag not in syntax.tags:
            return f"value tag {tag.keyword} not allowed (syntax {syntax.text})"
        reason = _check_value(tag, value, syntax)
        if reason is not None:
            return reason
    return None


def _octets(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _check_value(tag: ValueTag, value: Any, syntax: Syntax) -> str | None:
    if tag in _STRING_TAGS:
        if tag == ValueTag.OCTET_STRING and isinstance(value, bytes | bytearray):
            size = len(value)
        elif isinstance(value, str):
            size = _octets(value)
        else:
            return f"{tag.keyword} value must be str, not {type(value).__name__}"
        if syntax.max_length is not None and size > syntax.max_length:
            return f"value is {size} octets, longer than {syntax.max_length}"
        return None
    if tag in (ValueTag.INTEGER, ValueTag.ENUM):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{tag.keyword} value must be int, not {type(value).__name__}"
        return _in_range(value, syntax)
    if tag == ValueTag.RANGE_OF_INTEGER:
        if not isinstance(value, Range):
            return f"rangeOfInteger value must be Range, not {type(value).__name__}"
        if value.lower > value.upper:
            return f"range {value.lower}-{value.upper} has lower > upper"
        return _in_range(value.lower, syntax) or _in_range(value.upper, syntax)
    if tag == ValueTag.BOOLEAN:
        return None if isinstance(value, bool) else "boolean value must be bool"
    if tag in (ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE):
        if not isinstance(value, TextWithLanguage | NameWithLanguage):
            return f"{tag.keyword} value must be TextWithLanguage or NameWithLanguage"
        size = _octets(value.text)
        if syntax.max_length is not None and size > syntax.max_length:
            return f"value is {size} octets, longer than {syntax.max_length}"
        return None
    if tag == ValueTag.RESOLUTION:
        if not isinstance(value, Resolution):
            return "resolution value must be Resolution"
        if value.x <= 0 or value.y <= 0 or value.units not in (3, 4):
            return f"bad resolution {value.x}x{value.y} units {value.units}"
        return None
    if tag == ValueTag.DATE_TIME:
        return None if isinstance(value, datetime) else "dateTime value must be datetime"
    if tag == ValueTag.BEG_COLLECTION:
        if not isinstance(value, Collection):
            return "collection value must be Collection"
        members = syntax.members or {}
        for member in value.attributes:
            member_syntax = members.get(member.name)
            if member_syntax is not None:
                reason = _check(member, member_syntax)
                if reason is not None:
                    return f"member {member.name!r}: {reason}"
        return None
    return None


def _in_range(number: int, syntax: Syntax) -> str | None:
    if syntax.range is not None and not syntax.range[0] <= number <= syntax.range[1]:
        low, high = syntax.range
        return f"{number} is out of range {'MIN' if low == MIN else low}:" + (
            "MAX" if high == MAX else str(high)
        )
    return None


# ------------------------------------------------------------------------ make_attribute


def value_tag_for(name: str, python_value: Any) -> ValueTag:
    """The value tag to encode ``python_value`` with as a value of ``name``.

    ``bool`` -> boolean, ``int`` -> integer or enum, ``str`` -> the first string syntax
    the attribute allows (so ``type2 keyword | name(MAX)`` gives keyword; pass a
    :class:`NameWithLanguage` or an explicit tag for a name), mappings -> collection, and
    the classes of :mod:`firmware.ipp.values` -> their own syntax.  Raises ``KeyError``
    for an unregistered name and ``TypeError`` for a value the syntax cannot hold.
    """
    syntax = REGISTRY.get(name)
    if syntax is None:
        raise KeyError(f"attribute {name!r} is not in the registry; pass tag= explicitly")
    return _tag_for(name, syntax, python_value)


def _tag_for(name: str, syntax: Syntax, value: Any) -> ValueTag:
    candidates: tuple[ValueTag, ...]
    if isinstance(value, OutOfBand):
        return value.tag
    if isinstance(value, bool):
        candidates = (ValueTag.BOOLEAN,)
    elif isinstance(value, int):
        candidates = (ValueTag.INTEGER, ValueTag.ENUM)
    elif isinstance(value, str):
        candidates = _STRING_TAGS
    elif isinstance(value, bytes | bytearray):
        candidates = (ValueTag.OCTET_STRING,)
    elif isinstance(value, datetime):
        candidates = (ValueTag.DATE_TIME,)
    elif isinstance(value, Resolution):
        candidates = (ValueTag.RESOLUTION,)
    elif isinstance(value, Range):
        candidates = (ValueTag.RANGE_OF_INTEGER,)
    elif isinstance(value, TextWithLanguage):
        candidates = (ValueTag.TEXT_WITH_LANGUAGE,)
    elif isinstance(value, NameWithLanguage):
        candidates = (ValueTag.NAME_WITH_LANGUAGE,)
    elif isinstance(value, Mapping):
        candidates = (ValueTag.BEG_COLLECTION,)
    elif isinstance(value, ExtensionValue):
        return ValueTag.EXTENSION
    else:
        candidates = ()
    for tag in syntax.tags:  # the syntax's own order decides between candidates
        if tag in candidates:
            return tag
    raise TypeError(f"{type(value).__name__} value {value!r} does not fit {name!r} ({syntax.text})")


def make_attribute(
    name: str, value: Any, tag: ValueTag | int | None = None, *, validate: bool = True
) -> Attribute:
    """Build an :class:`Attribute` from plain Python values, typed by the registry.

    A list or tuple makes a 1setOf; a dict makes a collection whose members are typed by
    the registry too (an :class:`Attribute` given as a member value is used as is).
    ``tag`` overrides the registry (and is required for unregistered names, which
    otherwise raise ``KeyError``); an out-of-band ``tag`` needs no value.  With
    ``validate`` the result is checked with :func:`check` and ``ValueError`` raised if
    it does not fit.
    """
    syntax = REGISTRY.get(name)
    if syntax is None and tag is None:
        raise KeyError(f"attribute {name!r} is not in the registry; pass tag= explicitly")
    attribute = _build(name, value, None if tag is None else ValueTag(tag), syntax)
    if validate and syntax is not None:
        reason = _check(attribute, syntax)
        if reason is not None:
            raise ValueError(f"{name!r}: {reason}")
    return attribute


def _build(name: str, value: Any, tag: ValueTag | None, syntax: Syntax | None) -> Attribute:
    if tag is not None and tag.is_out_of_band:
        return Attribute(name, tag, [OutOfBand(tag)])
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise ValueError(f"{name!r}: no values given")
    tags: list[ValueTag] = []
    built: list[Any] = []
    for item in values:
        if tag is not None:
            item_tag = tag
        else:
            assert syntax is not None  # make_attribute guarantees one of the two
            item_tag = _tag_for(name, syntax, item)
        if item_tag == ValueTag.BEG_COLLECTION and not isinstance(item, Collection):
            if not isinstance(item, Mapping):
                raise TypeError(f"{name!r}: a collection value must be a mapping")
            item = _build_collection(name, item, syntax)
        tags.append(item_tag)
        built.append(item)
    return Attribute(name, tags[0], built, tags)


def _build_collection(owner: str, members: Mapping[str, Any], syntax: Syntax | None) -> Collection:
    known = (syntax.members if syntax is not None else None) or {}
    collection = Collection()
    for member_name, member_value in members.items():
        if isinstance(member_value, Attribute):
            if member_value.name != member_name:
                raise ValueError(
                    f"{owner!r}: member key {member_name!r} holds attribute {member_value.name!r}"
                )
            collection.append(member_value)
            continue
        member_syntax = known.get(member_name)
        if member_syntax is None:
            raise KeyError(
                f"{member_name!r} is not a registered member of {owner!r}; give it as an Attribute"
            )
        collection.append(_build(member_name, member_value, None, member_syntax))
    return collection
