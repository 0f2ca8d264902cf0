"""IEEE 1284 device IDs and the printer status byte shared by every printer port.

A device ID is what a printer says it is: ``MFG:HP;MDL:LaserJet 1020;CMD:ZJS;...``.
IEEE 1284-2000 §7.6 defines it as a 2-byte big-endian length (counting itself) followed
by ``key:value{,value};`` pairs; the keys MANUFACTURER, COMMAND SET and MODEL (or their
abbreviations MFG, CMD, MDL) are required, CLASS/CLS and DESCRIPTION/DES are common.  The
same string comes back from a parallel port in nibble mode (IEEE 1284 §7.6), from the USB
printer class request GET_DEVICE_ID (USB Printer Class 1.1 §4.2.1) and from the Linux
ioctls LPIOC_GET_DEVICE_ID (usblp) and ``/proc/sys/dev/parport/*/autoprobe`` (which
prints the long key names, one per line).

The status byte is the Centronics status register, which USB's GET_PORT_STATUS (§4.2.2)
copies bit for bit: bit 5 PError (paper empty), bit 4 Select, bit 3 nFault (1 = no
error); on a real parallel port bit 7 is the inverted Busy line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hal.port import PortCondition

#: Long key names (IEEE 1284-2000 §7.6; Linux parport's autoprobe) → the short forms.
KEY_ALIASES: dict[str, str] = {
    "MANUFACTURER": "MFG",
    "MODEL": "MDL",
    "COMMAND SET": "CMD",
    "COMMANDSET": "CMD",
    "CLASS": "CLS",
    "DESCRIPTION": "DES",
    "SERIALNUMBER": "SN",
    "SERIAL NUMBER": "SN",
    "SERN": "SN",
}

#: Longest device ID read from a port (CUPS reads 1 KiB too; the length field allows 64 KiB).
MAX_DEVICE_ID = 1024


def _normalise_key(key: str) -> str:
    key = " ".join(key.strip().upper().split())
    return KEY_ALIASES.get(key, key)


@dataclass(frozen=True, slots=True)
class DeviceId:
    """A parsed device ID: ``fields`` keyed by the short key names, values unsplit."""

    raw: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> DeviceId:
        """Parse ``key:value;`` pairs; long keys become their short aliases.

        Tolerant as a host must be (IEEE 1284 §7.6 lets keys and values hold any character
        but ``:``, ``,`` and ``;``): newlines (Linux autoprobe) and surrounding blanks are
        ignored, a pair without a colon is skipped, the first occurrence of a key wins.
        """
        fields: dict[str, str] = {}
        for pair in text.replace("\r", "").replace("\n", "").split(";"):
            key, sep, value = pair.partition(":")
            if not sep or not key.strip():
                continue
            fields.setdefault(_normalise_key(key), value.strip())
        return cls(raw=text.strip(), fields=fields)

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(_normalise_key(key), default)

    def __bool__(self) -> bool:
        return bool(self.fields)

    @property
    def manufacturer(self) -> str:
        return self.get("MFG")

    @property
    def model(self) -> str:
        return self.get("MDL")

    @property
    def serial(self) -> str:
        return self.get("SN")

    @property
    def command_set(self) -> list[str]:
        """The page description languages the printer understands (``CMD``), in order."""
        return [v.strip() for v in self.get("CMD").split(",") if v.strip()]

    @property
    def make_and_model(self) -> str:
        """``MFG MDL`` without repeating the make (``HP HP LaserJet`` → ``HP LaserJet``)."""
        make, model = self.manufacturer, self.model
        if not model:
            return make
        if not make or model.lower().startswith(make.lower()):
            return model
        # HP printers say MFG:Hewlett-Packard;MDL:HP LaserJet 1020 (CUPS shortens the same).
        first = model.split()[0].lower()
        hp = first == "hp" and make.lower() == "hewlett-packard"
        if first == make.split()[0].lower() or hp:
            return model
        return f"{make} {model}"

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields.items())


def decode_length_prefixed(buf: bytes) -> str:
    """The device ID string from a buffer that starts with its 2-byte length.

    The length is big-endian and counts its own two bytes (IEEE 1284 §7.6; USB Printer
    Class 1.1 §4.2.1).  Some printers send it little-endian or leave the two bytes out of
    the count; like CUPS we take the big-endian value unless it cannot be right, then the
    little-endian one, and never read past the buffer.
    """
    if len(buf) < 2:
        return ""
    body = buf[2:]
    big = (buf[0] << 8) | buf[1]
    little = (buf[1] << 8) | buf[0]
    length = big
    if not 2 < big <= len(buf) and 2 < little <= len(buf):
        length = little
    length = max(0, min(length - 2, len(body)))
    return body[:length].decode("latin-1").split("\0", 1)[0].strip()


def encode_length_prefixed(device_id: str) -> bytes:
    """The wire form of a device ID (for fakes and tests): big-endian length + string."""
    data = device_id.encode("latin-1")
    return (len(data) + 2).to_bytes(2, "big") + data


# -- the status byte (Centronics status register; USB Printer Class 1.1 §4.2.2)
STATUS_BUSY_N = 0x80  # parallel only: 1 = not busy (the hardware inverts Busy)
STATUS_PAPER_EMPTY = 0x20
STATUS_SELECT = 0x10
STATUS_NOT_ERROR = 0x08

#: What a healthy, selected printer with paper reports.
STATUS_READY = STATUS_SELECT | STATUS_NOT_ERROR


def decode_status(byte: int, *, has_busy_line: bool = False) -> frozenset[PortCondition]:
    """Port conditions from a status byte.

    The rule, as Linux ``lp_check_status`` applies it to the same lines: paper empty →
    PAPER_OUT; not selected → OFFLINE; nFault asserted (bit 3 clear) → ERROR only when
    neither of those explains it, because printers pull nFault together with PError and
    with an off-line Select.  ``has_busy_line`` (a real parallel port) adds BUSY when the
    inverted Busy bit says so; USB has no such bit (its bits 7..6 are reserved).
    """
    conditions: set[PortCondition] = set()
    if byte & STATUS_PAPER_EMPTY:
        conditions.add(PortCondition.PAPER_OUT)
    if not byte & STATUS_SELECT:
        conditions.add(PortCondition.OFFLINE)
    if not byte & STATUS_NOT_ERROR and not conditions:
        conditions.add(PortCondition.ERROR)
    if has_busy_line and not byte & STATUS_BUSY_N:
        conditions.add(PortCondition.BUSY)
    return frozenset(conditions)
