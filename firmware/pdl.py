"""Printer-language detection from a document's first bytes, for protocols that carry
no document-format (raw 9100, LPD) and for IPP's application/octet-stream (the
pipeline's readers recognise their formats through it too: one list of magic numbers)."""

from __future__ import annotations

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "application/pdf"),
    (b"%!", "application/postscript"),
    (b"\x04%!", "application/postscript"),
    (b"RaS2", "image/pwg-raster"),
    (b"UNIRAST", "image/urf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x1bE", "application/vnd.hp-PCL"),
    (b"\x1b%-12345X", "application/vnd.hp-PCL"),  # PJL job header (UEL)
    (b"@PJL", "application/vnd.hp-PCL"),
)


#: How far into a document a PDF header may start: PDF readers accept it anywhere in the
#: first 1024 bytes (ISO 32000-1 Annex H.3, implementation note 13), after a mail or
#: spooler header for example.
PDF_HEADER_WINDOW = 1024


def detect_format(head: bytes, default: str = "application/octet-stream") -> str:
    """The MIME type a document's first bytes announce, or ``default``."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return "application/pdf"
    return default
