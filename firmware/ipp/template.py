"""Job template attributes: what a job asks for, checked against what the printer can do.

RFC 8011 §5.2 (job template attributes), §4.1.7 (unsupported attributes) and §4.2.1.1
(ipp-attribute-fidelity); PWG 5100.7 §6.3 (media-col), 5100.13 (print-color-mode ...).
The accepted values are stored on the job as JSON-safe data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware.capabilities import Capabilities
from firmware.ipp.codec import AttributeGroup
from firmware.ipp.tags import ValueTag
from firmware.ipp.values import Attribute, Collection, OutOfBand, Range, Resolution
from firmware.media import parse_media

PRINT_SCALING = ["auto", "auto-fit", "fill", "fit", "none"]
CONTENT_OPTIMIZE = ["auto", "graphic", "photo", "text", "text-and-graphic"]


@dataclass(slots=True)
class TemplateCheck:
    accepted: dict[str, Any] = field(default_factory=dict)
    unsupported: list[Attribute] = field(default_factory=list)
    conflicting: bool = False


def _single(attr: Attribute, tag: ValueTag) -> Any:
    if len(attr.values) != 1 or attr.tag != tag:
        raise _Bad
    return attr.values[0]


class _Bad(Exception):
    """The value is not one the printer supports."""


def _keyword_in(allowed: Callable[[Capabilities], list[str]]) -> Callable[..., Any]:
    def check(attr: Attribute, caps: Capabilities) -> Any:
        value = _single(attr, ValueTag.KEYWORD) if attr.tag == ValueTag.KEYWORD else None
        if value is None and attr.tag == ValueTag.NAME and len(attr.values) == 1:
            value = attr.values[0]
        if value not in allowed(caps):
            raise _Bad
        return value

    return check


def _int_range(lower: int, upper: Callable[[Capabilities], int] | int,
               tag: ValueTag = ValueTag.INTEGER) -> Callable[..., Any]:
    def check(attr: Attribute, caps: Capabilities) -> Any:
        value = _single(attr, tag)
        top = upper(caps) if callable(upper) else upper
        if not isinstance(value, int) or not lower <= value <= top:
            raise _Bad
        return value

    return check


def _enum_in(allowed: list[int]) -> Callable[..., Any]:
    def check(attr: Attribute, caps: Capabilities) -> Any:
        value = _single(attr, ValueTag.ENUM)
        if value not in allowed:
            raise _Bad
        return value

    return check


def _resolution(attr: Attribute, caps: Capabilities) -> Any:
    value = _single(attr, ValueTag.RESOLUTION)
    if not isinstance(value, Resolution) or value.x != value.y or (
        value.x not in caps.resolutions
    ) or int(value.units) != 3:
        raise _Bad
    return [value.x, value.y, 3]


def _page_ranges(attr: Attribute, caps: Capabilities) -> Any:
    if attr.tag != ValueTag.RANGE_OF_INTEGER:
        raise _Bad
    last = 0
    ranges = []
    for value in attr.values:
        if not isinstance(value, Range) or value.lower < 1 or value.lower > value.upper:
            raise _Bad
        if value.lower <= last:
            raise _Bad  # RFC 8011 §5.2.7: ascending, non-overlapping
        last = value.upper
        ranges.append([value.lower, value.upper])
    return ranges


def _finishings(attr: Attribute, caps: Capabilities) -> Any:
    if attr.tag != ValueTag.ENUM or any(v != 3 for v in attr.values):
        raise _Bad
    return [3]


def _media_col(attr: Attribute, caps: Capabilities) -> Any:
    col = _single(attr, ValueTag.BEG_COLLECTION)
    if not isinstance(col, Collection):
        raise _Bad
    out: dict[str, Any] = {}
    for member in col.attributes:
        name = member.name
        if name == "media-size":
            size = _single(member, ValueTag.BEG_COLLECTION)
            if not isinstance(size, Collection):
                raise _Bad
            x, y = size.value("x-dimension"), size.value("y-dimension")
            if not isinstance(x, int) or not isinstance(y, int):
                raise _Bad
            match = next((m for m in caps.media
                          if abs(parse_media(m).width - x) <= 100
                          and abs(parse_media(m).length - y) <= 100), None)
            if match is None:
                raise _Bad
            out["media-size"] = {"x-dimension": x, "y-dimension": y}
            out["media-size-name"] = match
        elif name == "media-size-name":
            value = _single(member, ValueTag.KEYWORD)
            if value not in caps.media:
                raise _Bad
            out.setdefault("media-size-name", value)
        elif name == "media-source":
            if _single(member, ValueTag.KEYWORD) not in [*caps.media_sources, "auto"]:
                raise _Bad
            out[name] = member.values[0]
        elif name == "media-type":
            if member.values[0] not in caps.media_types or len(member.values) != 1:
                raise _Bad
            out[name] = member.values[0]
        elif name.endswith("-margin"):
            value = _single(member, ValueTag.INTEGER)
            out[name] = value  # any margin is honoured by clipping to the printable area
        else:
            continue  # unknown members are ignored (PWG 5100.7 §6.3)
    return out


CHECKS: dict[str, Callable[[Attribute, Capabilities], Any]] = {
    "copies": _int_range(1, lambda c: c.max_copies),
    "finishings": _finishings,
    "job-hold-until": _keyword_in(lambda c: ["no-hold", "indefinite"]),
    "job-priority": _int_range(1, 100),
    "media": _keyword_in(lambda c: c.media),
    "media-col": _media_col,
    "multiple-document-handling": _keyword_in(
        lambda c: ["separate-documents-uncollated-copies", "separate-documents-collated-copies"]
    ),
    "orientation-requested": _enum_in([3, 4, 5, 6]),
    "output-bin": _keyword_in(lambda c: ["face-down"]),
    "page-ranges": _page_ranges,
    "print-color-mode": _keyword_in(lambda c: ["auto", *c.color_modes]),
    "print-content-optimize": _keyword_in(lambda c: CONTENT_OPTIMIZE),
    "print-quality": _enum_in([3, 4, 5]),
    "print-scaling": _keyword_in(lambda c: PRINT_SCALING),
    "printer-resolution": _resolution,
    "sides": _keyword_in(lambda c: c.sides),
}


def check_template(group: AttributeGroup | None, caps: Capabilities) -> TemplateCheck:
    """Split the job group into accepted values and the unsupported-attributes group."""
    result = TemplateCheck()
    if group is None:
        return result
    for attr in group.attributes:
        check = CHECKS.get(attr.name)
        if check is None:
            # Not a job template attribute we support at all: RFC 8011 §4.1.7 says to
            # return it with the out-of-band value 'unsupported'.
            result.unsupported.append(
                Attribute(attr.name, ValueTag.UNSUPPORTED, [OutOfBand(ValueTag.UNSUPPORTED)])
            )
            continue
        try:
            result.accepted[attr.name] = check(attr, caps)
        except _Bad:
            result.unsupported.append(attr)
    if "media" in result.accepted and "media-col" in result.accepted:
        result.conflicting = True
    return result


def ipp_value(name: str, value: Any) -> Any:
    """Turn a stored JSON value back into the IPP value type (for Get-Job-Attributes)."""
    if name == "printer-resolution":
        return Resolution(value[0], value[1])
    if name == "page-ranges":
        return [Range(lo, hi) for lo, hi in value]
    if name == "media-col":
        return {k: v for k, v in value.items() if k != "media-size-name"}
    return value
