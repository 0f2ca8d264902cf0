"""firmware/pdl.py: one list of magic numbers, for raw 9100, LPD, IPP's octet-stream and
the pipeline's readers alike (they used to disagree on where a PDF header may start)."""

from __future__ import annotations

import pytest

from firmware.pdl import PDF_HEADER_WINDOW, detect_format
from firmware.pipeline.readers import ALL_READERS, reader_for

SAMPLES = {
    b"%PDF-1.7\n": "application/pdf",
    b"%!PS-Adobe-3.0\n": "application/postscript",
    b"RaS2PwgRaster": "image/pwg-raster",
    b"UNIRAST\x00": "image/urf",
    b"\xff\xd8\xff\xe0": "image/jpeg",
    b"\x1bE\x1b&l26A": "application/vnd.hp-PCL",
    b"\x1b%-12345X@PJL JOB\r\n": "application/vnd.hp-PCL",
    b"hello": "application/octet-stream",
}


@pytest.mark.parametrize(("head", "mime"), SAMPLES.items())
def test_each_reader_recognises_exactly_what_detection_names(head: bytes, mime: str) -> None:
    assert detect_format(head) == mime
    for reader in ALL_READERS:
        assert reader.sniff(head) == (mime in reader.formats), reader


def test_a_pdf_header_after_a_prefix_is_a_pdf_for_every_door() -> None:
    late = b"X-Spooler: mail\r\n" * 10 + b"%PDF-1.4\n"
    assert detect_format(late) == "application/pdf"
    reader = reader_for("application/octet-stream", late)
    assert reader is not None and "application/pdf" in reader.formats
    too_late = b"\n" * PDF_HEADER_WINDOW + b"%PDF-1.4\n"
    assert detect_format(too_late) == "application/octet-stream"
    assert reader_for("application/octet-stream", too_late) is None
    # A printer language that merely mentions %PDF- stays what it starts as.
    assert detect_format(b"\x1bE%PDF-") == "application/vnd.hp-PCL"
