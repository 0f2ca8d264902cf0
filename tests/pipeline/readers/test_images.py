"""JPEG and PDF readers: scaling, rotation and placement on the sheet, checked against
placements computed independently (PIL for photos, PDFium's own full-page render for
PDF) with the blurred-MAE metric of :mod:`tests.pipeline.helpers`."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from firmware.capabilities import Capabilities
from firmware.pipeline.options import JobOptions
from firmware.pipeline.page import Page
from firmware.pipeline.readers import DocumentError, RenderContext
from firmware.pipeline.readers.jpeg import JpegReader
from firmware.pipeline.readers.pdf import PdfReader
from tests.pipeline.helpers import (
    THRESHOLD,
    blurred_mae,
    jpeg_bytes,
    place_image,
    printable_box,
    sample_photo,
    whiten_outside,
)

RES = 100
CAPS = Capabilities(resolutions=[RES], default_resolution=RES, color=True,
                    media=["iso_a4_210x297mm", "na_letter_8.5x11in"])


def context(**attrs: object) -> RenderContext:
    return RenderContext(CAPS, JobOptions.from_attributes(attrs, CAPS))


def sheet(page: Page) -> np.ndarray:
    dev = page.device
    full = page.render(0, dev.height, 0, dev.width)
    gray = full if full.ndim == 2 else np.asarray(Image.fromarray(full).convert("L"))
    return gray.astype(np.float64)


def box_of(page: Page) -> tuple[int, int, int, int]:
    return printable_box(RES, (page.device.width, page.device.height), CAPS.margins)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return sample_photo(600, 400)  # landscape


@pytest.mark.parametrize(("orientation", "turn"), [(3, 0), (4, 90), (5, -90), (6, 180),
                                                   (None, 90)])
def test_jpeg_fit_and_orientation(tmp_path: Path, photo: Image.Image,
                                  orientation: int | None, turn: int) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg_bytes(photo))
    attrs: dict[str, object] = {"print-scaling": "fit"}
    if orientation is not None:
        attrs["orientation-requested"] = orientation
    (gray,) = [(sheet(p), box_of(p), p.device) for p in JpegReader().pages(path,
                                                                         context(**attrs))]
    printed, box, device = gray
    with Image.open(path) as decoded:
        expected = place_image(decoded.rotate(turn, expand=True),
                               (device.width, device.height), box)
    assert blurred_mae(printed, expected, RES, box) < THRESHOLD / 3
    # The same page expected the wrong way round does not pass: the check can fail.
    with Image.open(path) as decoded:
        wrong = place_image(decoded.rotate(turn + 180, expand=True),
                            (device.width, device.height), box)
    assert blurred_mae(printed, wrong, RES, box) > THRESHOLD


def test_jpeg_exif_orientation_and_draft_decoding(tmp_path: Path) -> None:
    big = sample_photo(3000, 2000)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: display after a clockwise quarter turn
    path = tmp_path / "exif.jpg"
    out = io.BytesIO()
    big.save(out, "JPEG", quality=90, exif=exif)
    path.write_bytes(out.getvalue())
    displayed = big.transpose(Image.Transpose.ROTATE_270)  # portrait, as a viewer shows it
    for page in JpegReader().pages(path, context(**{"print-scaling": "fit"})):
        assert page.image.width < 1500  # type: ignore[attr-defined]  # decoded at 1/2 or less
        expected = place_image(displayed, (page.device.width, page.device.height),
                               box_of(page))
        assert blurred_mae(sheet(page), expected, RES, box_of(page)) < THRESHOLD / 3


def test_jpeg_fill_covers_the_printable_area_and_errors(tmp_path: Path,
                                                        photo: Image.Image) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg_bytes(photo))
    for page in JpegReader().pages(path, context(**{"print-scaling": "fill",
                                                   "orientation-requested": 3})):
        left, top, right, bottom = box_of(page)
        gray = sheet(page)
        assert gray[top:bottom, left:right].min() < 250  # inked to every edge ...
        assert (gray[top + 2:bottom - 2, left + 2] < 250).all()  # ... left edge covered
        assert (gray[:top] == 255).all()  # nothing outside the printable area
    assert list(JpegReader().pages(path, context(**{"page-ranges": [[2, 5]]}))) == []
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    with pytest.raises(DocumentError):
        list(JpegReader().pages(bad, context()))


@pytest.fixture(scope="module")
def pdf_a4(sample_documents: Path) -> Path:
    return sample_documents / "document-a4.pdf"


def test_pdf_bands_match_pdfium_and_page_ranges(pdf_a4: Path) -> None:
    pdf = pdfium.PdfDocument(str(pdf_a4))
    seen = []
    for page in PdfReader().pages(pdf_a4, context(**{"page-ranges": [[2, 3]],
                                                     "print-color-mode": "monochrome"})):
        assert page.device.media == "iso_a4_210x297mm"
        number = 2 + len(seen)
        oracle = pdf[number - 1].render(scale=RES / 72, grayscale=True).to_numpy()
        oracle = oracle.reshape(oracle.shape[0], oracle.shape[1]).astype(np.float64)
        box = box_of(page)
        printed = sheet(page)
        good = blurred_mae(printed, whiten_outside(oracle, box), RES, box)
        seen.append(number)
        other = pdf[0].render(scale=RES / 72, grayscale=True).to_numpy()
        other = other.reshape(other.shape[0], other.shape[1]).astype(np.float64)
        bad = blurred_mae(printed, whiten_outside(other, box), RES, box)
        assert good < 2.0 < bad  # the right page, not just any page of the document
    assert seen == [2, 3]
    pdf.close()


def test_pdf_media_follows_the_page_and_landscape_turns(tmp_path: Path, pdf_a4: Path) -> None:
    letter = pdf_a4.with_name("document-letter.pdf")
    (media,) = {p.device.media for p in PdfReader().pages(letter, context())}
    assert media == "na_letter_8.5x11in"
    forced = {p.device.media for p in PdfReader().pages(letter, context(media="iso_a4_210x297mm"))}
    assert forced == {"iso_a4_210x297mm"}
    landscape = sample_photo(1100, 850).convert("L")
    path = tmp_path / "land.pdf"
    landscape.save(path, "PDF", resolution=100.0)  # an 11 x 8.5 inch page
    for page in PdfReader().pages(path, context()):
        assert page.device.media == "na_letter_8.5x11in"  # matched either way round
        # auto-fit: the page fits the sheet once turned, so it prints at its own size
        turned = np.asarray(landscape.rotate(90, expand=True), dtype=np.float64)
        expected = whiten_outside(turned, box_of(page))
        assert blurred_mae(sheet(page), expected, RES, box_of(page)) < THRESHOLD / 3
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(DocumentError):
        list(PdfReader().pages(garbage, context()))
