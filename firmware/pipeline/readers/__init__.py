"""Document readers: every driverless format in, pages placed on the device out.

:func:`readers` lists the readers whose libraries are installed; :func:`reader_for`
picks one by document-format, or by content for ``application/octet-stream``.
"""

from __future__ import annotations

from firmware.pipeline.readers.base import DocumentError, Reader, RenderContext
from firmware.pipeline.readers.jpeg import JpegReader
from firmware.pipeline.readers.pdf import PdfReader
from firmware.pipeline.readers.pwg import PwgReader
from firmware.pipeline.readers.urf import UrfReader

ALL_READERS: tuple[type[Reader], ...] = (PdfReader, JpegReader, PwgReader, UrfReader)


def readers() -> list[type[Reader]]:
    """The readers usable here (their libraries are importable)."""
    return [r for r in ALL_READERS if r.available()]


def formats() -> list[str]:
    """MIME types the installed readers print."""
    return [fmt for r in readers() for fmt in r.formats]


def reader_for(fmt: str, head: bytes = b"") -> type[Reader] | None:
    """The reader for ``fmt``; for ``application/octet-stream`` the one whose magic
    matches ``head`` (auto-typing, as CUPS does), else None (raw)."""
    for reader in readers():
        if fmt in reader.formats:
            return reader
    if fmt == "application/octet-stream":
        for reader in readers():
            if reader.sniff(head):
                return reader
    return None


__all__ = ["ALL_READERS", "DocumentError", "Reader", "RenderContext", "formats",
           "reader_for", "readers"]
