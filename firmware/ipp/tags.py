"""IPP numeric code points: delimiter tags, value tags, operation ids and status codes.

Every value here is fixed by a specification, cited per enum.  Each enum offers
``member.keyword`` (the spelling IPP uses on the wire and in "operations-supported" style
documentation) and ``Enum.from_keyword(text)`` for the reverse.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cache
from typing import TypeVar, cast

__all__ = ["DelimiterTag", "Operation", "Status", "ValueTag"]


class DelimiterTag(IntEnum):
    """Begin-attribute-group and end-of-attributes tags, RFC 8010 §3.5.1.

    0x06/0x07 come from RFC 3995, 0x08/0x0A from PWG 5100.22 and 0x09 from PWG 5100.5;
    0x00 and 0x0B-0x0F are reserved and never valid on the wire.
    """

    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    RESOURCE = 0x08
    DOCUMENT = 0x09
    SYSTEM = 0x0A

    @property
    def keyword(self) -> str:
        """E.g. ``"operation-attributes-tag"``, ``"end-of-attributes-tag"``."""
        if self is DelimiterTag.END:
            return "end-of-attributes-tag"
        return self.name.lower().replace("_", "-") + "-attributes-tag"

    @classmethod
    def from_keyword(cls, keyword: str) -> DelimiterTag:
        """Inverse of :attr:`keyword`; raises ``KeyError`` for an unknown spelling."""
        return cast(DelimiterTag, _reverse(cls)[keyword])


class ValueTag(IntEnum):
    """Attribute value tags, RFC 8010 §3.5.2.

    Out-of-band 0x15-0x17 are from RFC 3380; the collection tags 0x34/0x37/0x4A from
    RFC 8010 §3.1.6 (originally RFC 3382).  Every other octet is reserved, and the decoder
    rejects it.
    """

    # Out-of-band values: value-length 0, no value (RFC 8010 §3.8).
    UNSUPPORTED = 0x10
    DEFAULT = 0x11
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    # Integer types.
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    # Octet-string types.
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEG_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    # Character-string types.
    TEXT_WITHOUT_LANGUAGE = 0x41
    NAME_WITHOUT_LANGUAGE = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A
    # The real (32-bit) tag is the first 4 octets of the value field.
    EXTENSION = 0x7F

    # Aliases for the two spellings people actually type.
    TEXT = 0x41
    NAME = 0x42

    @property
    def keyword(self) -> str:
        """The spelling used by RFC 8010/8011, e.g. ``"nameWithoutLanguage"``, ``"no-value"``."""
        return _VALUE_TAG_KEYWORDS[self]

    @property
    def is_out_of_band(self) -> bool:
        """True for 0x10-0x1F, whose values carry no data (RFC 8010 §3.8)."""
        return 0x10 <= self <= 0x1F

    @classmethod
    def from_keyword(cls, keyword: str) -> ValueTag:
        """Inverse of :attr:`keyword`; raises ``KeyError`` for an unknown spelling."""
        return cast(ValueTag, _reverse(cls)[keyword])


_VALUE_TAG_KEYWORDS: dict[ValueTag, str] = {
    ValueTag.UNSUPPORTED: "unsupported",
    ValueTag.DEFAULT: "default",
    ValueTag.UNKNOWN: "unknown",
    ValueTag.NO_VALUE: "no-value",
    ValueTag.NOT_SETTABLE: "not-settable",
    ValueTag.DELETE_ATTRIBUTE: "delete-attribute",
    ValueTag.ADMIN_DEFINE: "admin-define",
    ValueTag.INTEGER: "integer",
    ValueTag.BOOLEAN: "boolean",
    ValueTag.ENUM: "enum",
    ValueTag.OCTET_STRING: "octetString",
    ValueTag.DATE_TIME: "dateTime",
    ValueTag.RESOLUTION: "resolution",
    ValueTag.RANGE_OF_INTEGER: "rangeOfInteger",
    ValueTag.BEG_COLLECTION: "begCollection",
    ValueTag.TEXT_WITH_LANGUAGE: "textWithLanguage",
    ValueTag.NAME_WITH_LANGUAGE: "nameWithLanguage",
    ValueTag.END_COLLECTION: "endCollection",
    ValueTag.TEXT_WITHOUT_LANGUAGE: "textWithoutLanguage",
    ValueTag.NAME_WITHOUT_LANGUAGE: "nameWithoutLanguage",
    ValueTag.KEYWORD: "keyword",
    ValueTag.URI: "uri",
    ValueTag.URI_SCHEME: "uriScheme",
    ValueTag.CHARSET: "charset",
    ValueTag.NATURAL_LANGUAGE: "naturalLanguage",
    ValueTag.MIME_MEDIA_TYPE: "mimeMediaType",
    ValueTag.MEMBER_ATTR_NAME: "memberAttrName",
    ValueTag.EXTENSION: "extension",
}


class Operation(IntEnum):
    """Operation ids: RFC 8011 §5.4.15, RFC 3995/3996 (subscriptions and notifications),
    RFC 3998 (administrative operations) and PWG 5100.5/.11/.13/.17/.18/.22.

    Gaps (0x00, 0x01, 0x0F, 0x1D-0x21, 0x32) are reserved, deprecated or never reached
    a standard; a responder answers them with server-error-operation-not-supported.
    """

    PRINT_JOB = 0x0002
    PRINT_URI = 0x0003
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    SEND_URI = 0x0007
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B
    HOLD_JOB = 0x000C
    RELEASE_JOB = 0x000D
    RESTART_JOB = 0x000E
    PAUSE_PRINTER = 0x0010
    RESUME_PRINTER = 0x0011
    PURGE_JOBS = 0x0012
    # RFC 3380
    SET_PRINTER_ATTRIBUTES = 0x0013
    SET_JOB_ATTRIBUTES = 0x0014
    GET_PRINTER_SUPPORTED_VALUES = 0x0015
    # RFC 3995 / RFC 3996
    CREATE_PRINTER_SUBSCRIPTIONS = 0x0016
    CREATE_JOB_SUBSCRIPTIONS = 0x0017
    GET_SUBSCRIPTION_ATTRIBUTES = 0x0018
    GET_SUBSCRIPTIONS = 0x0019
    RENEW_SUBSCRIPTION = 0x001A
    CANCEL_SUBSCRIPTION = 0x001B
    GET_NOTIFICATIONS = 0x001C
    # RFC 3998
    ENABLE_PRINTER = 0x0022
    DISABLE_PRINTER = 0x0023
    PAUSE_PRINTER_AFTER_CURRENT_JOB = 0x0024
    HOLD_NEW_JOBS = 0x0025
    RELEASE_HELD_NEW_JOBS = 0x0026
    DEACTIVATE_PRINTER = 0x0027
    ACTIVATE_PRINTER = 0x0028
    RESTART_PRINTER = 0x0029
    SHUTDOWN_PRINTER = 0x002A
    STARTUP_PRINTER = 0x002B
    REPROCESS_JOB = 0x002C
    CANCEL_CURRENT_JOB = 0x002D
    SUSPEND_CURRENT_JOB = 0x002E
    RESUME_JOB = 0x002F
    PROMOTE_JOB = 0x0030
    SCHEDULE_JOB_AFTER = 0x0031
    # PWG 5100.5 (Document object)
    CANCEL_DOCUMENT = 0x0033
    GET_DOCUMENT_ATTRIBUTES = 0x0034
    GET_DOCUMENTS = 0x0035
    DELETE_DOCUMENT = 0x0036
    SET_DOCUMENT_ATTRIBUTES = 0x0037
    # PWG 5100.11 (job and printer extensions v2)
    CANCEL_JOBS = 0x0038
    CANCEL_MY_JOBS = 0x0039
    RESUBMIT_JOB = 0x003A
    CLOSE_JOB = 0x003B
    # PWG 5100.13 (job and printer extensions v3)
    IDENTIFY_PRINTER = 0x003C
    VALIDATE_DOCUMENT = 0x003D
    # PWG 5100.17 (scan)
    ADD_DOCUMENT_IMAGES = 0x003E
    # PWG 5100.18 (INFRA)
    ACKNOWLEDGE_DOCUMENT = 0x003F
    ACKNOWLEDGE_IDENTIFY_PRINTER = 0x0040
    ACKNOWLEDGE_JOB = 0x0041
    FETCH_DOCUMENT = 0x0042
    FETCH_JOB = 0x0043
    GET_OUTPUT_DEVICE_ATTRIBUTES = 0x0044
    UPDATE_ACTIVE_JOBS = 0x0045
    DEREGISTER_OUTPUT_DEVICE = 0x0046
    UPDATE_DOCUMENT_STATUS = 0x0047
    UPDATE_JOB_STATUS = 0x0048
    UPDATE_OUTPUT_DEVICE_ATTRIBUTES = 0x0049
    GET_NEXT_DOCUMENT_DATA = 0x004A
    # PWG 5100.22 (system service)
    ALLOCATE_PRINTER_RESOURCES = 0x004B
    CREATE_PRINTER = 0x004C
    DEALLOCATE_PRINTER_RESOURCES = 0x004D
    DELETE_PRINTER = 0x004E
    GET_PRINTERS = 0x004F
    SHUTDOWN_ONE_PRINTER = 0x0050
    STARTUP_ONE_PRINTER = 0x0051
    CANCEL_RESOURCE = 0x0052
    CREATE_RESOURCE = 0x0053
    INSTALL_RESOURCE = 0x0054
    SEND_RESOURCE_DATA = 0x0055
    SET_RESOURCE_ATTRIBUTES = 0x0056
    CREATE_RESOURCE_SUBSCRIPTIONS = 0x0057
    CREATE_SYSTEM_SUBSCRIPTIONS = 0x0058
    DISABLE_ALL_PRINTERS = 0x0059
    ENABLE_ALL_PRINTERS = 0x005A
    GET_SYSTEM_ATTRIBUTES = 0x005B
    GET_SYSTEM_SUPPORTED_VALUES = 0x005C
    PAUSE_ALL_PRINTERS = 0x005D
    PAUSE_ALL_PRINTERS_AFTER_CURRENT_JOB = 0x005E
    REGISTER_OUTPUT_DEVICE = 0x005F
    RESTART_SYSTEM = 0x0060
    RESUME_ALL_PRINTERS = 0x0061
    SET_SYSTEM_ATTRIBUTES = 0x0062
    SHUTDOWN_ALL_PRINTERS = 0x0063
    STARTUP_ALL_PRINTERS = 0x0064

    @property
    def keyword(self) -> str:
        """E.g. ``"Print-Job"``, ``"Get-Printer-Attributes"`` (RFC 8011 §5.4.15 spelling)."""
        return "-".join(part.capitalize() for part in self.name.split("_"))

    @classmethod
    def from_keyword(cls, keyword: str) -> Operation:
        """Inverse of :attr:`keyword`; raises ``KeyError`` for an unknown spelling."""
        return cast(Operation, _reverse(cls)[keyword])


class Status(IntEnum):
    """Status codes: RFC 8011 §4.1.6 and Appendix B, RFC 3380, RFC 3995/3996,
    PWG 5100.5/.11/.13/.16/.18.  Member names are the keywords, upper-cased."""

    SUCCESSFUL_OK = 0x0000
    SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES = 0x0001
    SUCCESSFUL_OK_CONFLICTING_ATTRIBUTES = 0x0002
    SUCCESSFUL_OK_IGNORED_SUBSCRIPTIONS = 0x0003
    SUCCESSFUL_OK_IGNORED_NOTIFICATIONS = 0x0004
    SUCCESSFUL_OK_TOO_MANY_EVENTS = 0x0005
    SUCCESSFUL_OK_BUT_CANCEL_SUBSCRIPTION = 0x0006
    SUCCESSFUL_OK_EVENTS_COMPLETE = 0x0007

    CLIENT_ERROR_BAD_REQUEST = 0x0400
    CLIENT_ERROR_FORBIDDEN = 0x0401
    CLIENT_ERROR_NOT_AUTHENTICATED = 0x0402
    CLIENT_ERROR_NOT_AUTHORIZED = 0x0403
    CLIENT_ERROR_NOT_POSSIBLE = 0x0404
    CLIENT_ERROR_TIMEOUT = 0x0405
    CLIENT_ERROR_NOT_FOUND = 0x0406
    CLIENT_ERROR_GONE = 0x0407
    CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE = 0x0408
    CLIENT_ERROR_REQUEST_VALUE_TOO_LONG = 0x0409
    CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
    CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED = 0x040B
    CLIENT_ERROR_URI_SCHEME_NOT_SUPPORTED = 0x040C
    CLIENT_ERROR_CHARSET_NOT_SUPPORTED = 0x040D
    CLIENT_ERROR_CONFLICTING_ATTRIBUTES = 0x040E
    CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED = 0x040F
    CLIENT_ERROR_COMPRESSION_ERROR = 0x0410
    CLIENT_ERROR_DOCUMENT_FORMAT_ERROR = 0x0411
    CLIENT_ERROR_DOCUMENT_ACCESS_ERROR = 0x0412
    CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE = 0x0413
    CLIENT_ERROR_IGNORED_ALL_SUBSCRIPTIONS = 0x0414
    CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS = 0x0415
    CLIENT_ERROR_IGNORED_ALL_NOTIFICATIONS = 0x0416
    CLIENT_ERROR_PRINT_SUPPORT_FILE_NOT_FOUND = 0x0417
    CLIENT_ERROR_DOCUMENT_PASSWORD_ERROR = 0x0418
    CLIENT_ERROR_DOCUMENT_PERMISSION_ERROR = 0x0419
    CLIENT_ERROR_DOCUMENT_SECURITY_ERROR = 0x041A
    CLIENT_ERROR_DOCUMENT_UNPRINTABLE_ERROR = 0x041B
    CLIENT_ERROR_ACCOUNT_INFO_NEEDED = 0x041C
    CLIENT_ERROR_ACCOUNT_CLOSED = 0x041D
    CLIENT_ERROR_ACCOUNT_LIMIT_REACHED = 0x041E
    CLIENT_ERROR_ACCOUNT_AUTHORIZATION_FAILED = 0x041F
    CLIENT_ERROR_NOT_FETCHABLE = 0x0420

    SERVER_ERROR_INTERNAL_ERROR = 0x0500
    SERVER_ERROR_OPERATION_NOT_SUPPORTED = 0x0501
    SERVER_ERROR_SERVICE_UNAVAILABLE = 0x0502
    SERVER_ERROR_VERSION_NOT_SUPPORTED = 0x0503
    SERVER_ERROR_DEVICE_ERROR = 0x0504
    SERVER_ERROR_TEMPORARY_ERROR = 0x0505
    SERVER_ERROR_NOT_ACCEPTING_JOBS = 0x0506
    SERVER_ERROR_BUSY = 0x0507
    SERVER_ERROR_JOB_CANCELED = 0x0508
    SERVER_ERROR_MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED = 0x0509
    SERVER_ERROR_PRINTER_IS_DEACTIVATED = 0x050A
    SERVER_ERROR_TOO_MANY_JOBS = 0x050B
    SERVER_ERROR_TOO_MANY_DOCUMENTS = 0x050C

    @property
    def keyword(self) -> str:
        """E.g. ``"client-error-bad-request"`` (RFC 8011 §4.1.6 spelling)."""
        return self.name.lower().replace("_", "-")

    @property
    def is_successful(self) -> bool:
        """True for the successful class 0x0000-0x00FF (RFC 8011 §4.1.6)."""
        return self < 0x0100

    @classmethod
    def from_keyword(cls, keyword: str) -> Status:
        """Inverse of :attr:`keyword`; raises ``KeyError`` for an unknown spelling."""
        return cast(Status, _reverse(cls)[keyword])


_E = TypeVar("_E", DelimiterTag, ValueTag, Operation, Status)


@cache
def _reverse(cls: type[_E]) -> dict[str, _E]:
    # Built lazily once per enum; members (not aliases) only, so each keyword maps back
    # to the canonical member.
    return {member.keyword: member for member in cls}
