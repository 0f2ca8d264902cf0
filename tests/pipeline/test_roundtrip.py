"""Round trips through IPP for every driver: a known PWG raster page, a JPEG and a PDF are
printed with Print-Job to a real daemon whose emulated printer speaks PCL 5, PCL 3,
ESC/P2, ESC/POS or PostScript; the pages its interpreter renders
(``output/<job>/page-N.png``) must match the source after halftoning (blurred MAE under
:data:`~tests.pipeline.helpers.THRESHOLD`).  Then media, orientation, copies, sides,
page-ranges, print-color-mode and print-quality, each checked on what was printed."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from firmware.ipp.values import Range
from firmware.pipeline.drivers import DRIVERS
from firmware.pipeline.readers.pwg import write_pwg
from firmware.pipeline.readers.urf import write_urf
from tests.daemon import Daemon
from tests.pipeline.helpers import (
    THRESHOLD,
    blurred_mae,
    fit_sheet,
    job_attributes,
    jpeg_bytes,
    load_gray,
    page_size_px,
    place_image,
    print_job,
    printable_box,
    printed_pages,
    printer_attributes,
    sample_page,
    sample_photo,
    whiten_outside,
)

A4 = "iso_a4_210x297mm"
LETTER = "na_letter_8.5x11in"


@dataclass(frozen=True)
class Printer:
    language: str
    driver: str
    resolution: int  # what the tests print at
    media: str
    options: tuple[tuple[str, str], ...] = ()
    attrs: tuple[tuple[str, object], ...] = ()  # job attributes every job gets


PRINTERS = {
    "pcl5": Printer("pcl5", "pcl5", 300, A4, (("duplex", "true"),), (("print_quality", 3),)),
    "pcl3": Printer("pcl3", "pcl3", 300, A4),
    "escp2": Printer("escp2", "escp2", 360, A4),
    "escpos": Printer("escpos", "escpos", 203, "om_receipt-80_80x297mm",
                      (("roll_width", "80"),)),
    "postscript": Printer("postscript", "ps", 300, A4,
                          (("duplex", "true"), ("render_dpi", "150"))),
}


@pytest.fixture(scope="module")
def daemons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Daemon]]:
    started: dict[str, Daemon] = {}

    class Lazy(dict[str, Daemon]):
        def __missing__(self, lang: str) -> Daemon:
            spec = PRINTERS[lang]
            options = {"rate": "0", "paper": "5000", "paper_capacity": "5000",
                       "toner_pages": "100000", "language": lang, **dict(spec.options)}
            daemon = Daemon(tmp_path_factory.mktemp(lang), options=options).start()
            started[lang] = daemon
            self[lang] = daemon
            return daemon

    yield Lazy()
    for daemon in started.values():
        daemon.stop()


@pytest.fixture(scope="module")
def pdf_a4(sample_documents: Path) -> Path:
    return sample_documents / "document-a4.pdf"


def run(daemon: Daemon, spec: Printer, data: bytes, fmt: str, **attrs: object) -> list[Path]:
    job_id = print_job(daemon, data, fmt, **{**dict(spec.attrs), **attrs})
    daemon.wait_job(job_id, timeout=60)
    return printed_pages(daemon, job_id)


def compare(png: Path, spec: Printer, sheet: np.ndarray, res: int | None = None) -> float:
    """Blurred MAE of a printed page against the whole-sheet ``sheet`` it should show."""
    res = res or spec.resolution
    printed = load_gray(png)
    size = (sheet.shape[1], sheet.shape[0])
    margins = DRIVERS[spec.driver](dict(spec.options)).capabilities.margins
    box = printable_box(res, size, margins)
    if spec.language == "escpos":  # a receipt: the printable strip, as long as printed
        left, top, _, bottom = box
        sheet = sheet[top:bottom, left:left + printed.shape[1]]
        box = (0, 0, printed.shape[1], min(bottom - top, printed.shape[0] - 30))
    elif spec.language == "postscript":  # Ghostscript rendered it at render_dpi
        scale = printed.shape[1] / sheet.shape[1]
        sheet = np.asarray(Image.fromarray(np.clip(sheet, 0, 255).astype(np.uint8)).resize(
            (printed.shape[1], printed.shape[0]), Image.Resampling.BOX), dtype=np.float64)
        res = round(res * scale)
        box = printable_box(res, (printed.shape[1], printed.shape[0]), margins)
    else:
        assert printed.shape == sheet.shape, (printed.shape, sheet.shape)
    return blurred_mae(printed, whiten_outside(sheet, box), res, box)


def pdfium_page(path: Path, index: int, res: int) -> np.ndarray:
    pdf = pdfium.PdfDocument(str(path))
    try:
        bitmap = pdf[index].render(scale=res / 72, grayscale=True).to_numpy()
    finally:
        pdf.close()
    return bitmap.reshape(bitmap.shape[0], bitmap.shape[1]).astype(np.float64)


@pytest.mark.parametrize("lang", list(PRINTERS))
def test_pwg_jpeg_and_pdf_round_trip(daemons: dict[str, Daemon], tmp_path: Path,
                                     pdf_a4: Path, lang: str) -> None:
    if lang == "postscript" and shutil.which("gs") is None:
        pytest.skip("the emulated PostScript printer renders with Ghostscript")
    spec = PRINTERS[lang]
    daemon = daemons[lang]
    res = spec.resolution
    width, height = page_size_px(spec.media, res)
    sheet_size = (width, height)
    margins = DRIVERS[spec.driver](dict(spec.options)).capabilities.margins
    # 1. PWG raster, at the printer's resolution, on its media.
    page = sample_page(width, height)
    pwg = write_pwg(tmp_path / "page.pwg", [page], res,
                    page_size=(round(width * 72 / res), round(height * 72 / res)))
    (png,) = run(daemon, spec, pwg.read_bytes(), "image/pwg-raster")
    assert compare(png, spec, page) < THRESHOLD
    # 2. JPEG, fitted to the printable area.
    photo = sample_photo(800, 600)
    data = jpeg_bytes(photo)
    (png,) = run(daemon, spec, data, "image/jpeg", print_scaling="fit",
                 orientation_requested=3)
    with Image.open(io.BytesIO(data)) as decoded:
        expected = place_image(decoded, sheet_size, printable_box(res, sheet_size, margins))
    assert compare(png, spec, expected) < THRESHOLD
    # 3. PDF (page 2 of a vector document).
    (png,) = run(daemon, spec, pdf_a4.read_bytes(), "application/pdf", page_ranges=Range(2, 2))
    if lang == "escpos":  # an A4 page fitted to the receipt's width
        rendered = Image.fromarray(pdfium_page(pdf_a4, 1, res).astype(np.uint8))
        expected = place_image(rendered, sheet_size, printable_box(res, sheet_size, margins))
    else:
        expected = fit_sheet(pdfium_page(pdf_a4, 1, res), height, width)
    assert compare(png, spec, expected) < THRESHOLD


@pytest.mark.parametrize("lang", list(PRINTERS))
def test_printer_advertises_what_its_pipeline_prints(daemons: dict[str, Daemon],
                                                     lang: str) -> None:
    spec = PRINTERS[lang]
    got = printer_attributes(daemons[lang], "document-format-supported", "printer-device-id",
                             "color-supported", "sides-supported", "media-supported",
                             "printer-resolution-supported", "urf-supported",
                             "pwg-raster-document-resolution-supported")
    formats = got["document-format-supported"]
    assert {"application/pdf", "image/jpeg", "image/pwg-raster", "image/urf",
            "application/octet-stream"} <= set(formats)
    assert ("application/vnd.hp-PCL" in formats) == lang.startswith("pcl")
    assert ("application/postscript" in formats) == (lang == "postscript")
    assert spec.media in got["media-supported"]
    resolutions = {r.x for r in got["printer-resolution-supported"]}
    assert spec.resolution in resolutions
    assert resolutions == {r.x for r in got["pwg-raster-document-resolution-supported"]}
    assert got["color-supported"] == [lang in ("pcl3", "escp2", "postscript")]
    duplex = ("duplex", "true") in spec.options
    assert ("two-sided-long-edge" in got["sides-supported"]) == duplex
    assert f"RS{'-'.join(str(r) for r in sorted(resolutions))}" in got["urf-supported"]


def test_media_orientation_and_quality_pcl5(daemons: dict[str, Daemon]) -> None:
    spec = PRINTERS["pcl5"]
    daemon = daemons["pcl5"]
    photo = sample_photo(800, 600)  # landscape
    data = jpeg_bytes(photo)
    margins = (423, 635, 635, 423)
    for media, quality, res in ((LETTER, 3, 300), (A4, 5, 600)):
        (png,) = run(daemon, spec, data, "image/jpeg", media=media, print_quality=quality,
                     print_scaling="fit", orientation_requested=3)
        size = page_size_px(media, res)
        with Image.open(png) as image:
            assert image.size == size and round(image.info["dpi"][0]) == res
        expected = place_image(photo, size, printable_box(res, size, margins))
        assert compare(png, spec, expected, res) < THRESHOLD
    size = page_size_px(A4, 300)
    box = printable_box(300, size, margins)
    for orientation, turn in ((4, 90), (5, -90)):
        (png,) = run(daemon, spec, data, "image/jpeg", print_scaling="fit",
                     orientation_requested=orientation)
        right = place_image(photo.rotate(turn, expand=True), size, box)
        wrong = place_image(photo.rotate(-turn, expand=True), size, box)
        assert compare(png, spec, right) < THRESHOLD < compare(png, spec, wrong)


def test_copies_sides_and_page_ranges_pcl5(daemons: dict[str, Daemon], pdf_a4: Path) -> None:
    spec = PRINTERS["pcl5"]
    daemon = daemons["pcl5"]
    paper = daemon.status()["trays"][0]["level"]
    job_id = print_job(daemon, pdf_a4.read_bytes(), "application/pdf", print_quality=3,
                       copies=2, sides="two-sided-long-edge", page_ranges=Range(1, 3))
    daemon.wait_job(job_id, timeout=60)
    received = daemon.output(job_id)
    assert received.count(b"\x1b&l1S") == 1 and received.count(b"\x1b*rC\x0c") == 8
    pages = printed_pages(daemon, job_id)
    assert len(pages) == 8  # 2 copies x (3 pages + the blank back of the 2nd sheet)
    attrs = job_attributes(daemon, job_id, "job-impressions-completed",
                           "job-media-sheets-completed")
    assert attrs == {"job-impressions-completed": 6, "job-media-sheets-completed": 4}
    assert daemon.status()["trays"][0]["level"] == paper - 4
    for k, png in enumerate(pages):
        if k % 4 == 3:
            assert load_gray(png).min() == 255
        else:
            expected = pdfium_page(pdf_a4, k % 4, 300)[:3508, :2480]
            assert compare(png, spec, expected) < THRESHOLD
    # page-ranges alone: pages 2 and 3, one-sided.
    (first, second) = run(daemon, spec, pdf_a4.read_bytes(), "application/pdf",
                          page_ranges=Range(2, 3))
    assert compare(first, spec, pdfium_page(pdf_a4, 1, 300)[:3508, :2480]) < THRESHOLD
    assert compare(first, spec, pdfium_page(pdf_a4, 0, 300)[:3508, :2480]) > THRESHOLD / 4
    assert compare(second, spec, pdfium_page(pdf_a4, 2, 300)[:3508, :2480]) < THRESHOLD


def test_urf_and_copies_of_a_raster(daemons: dict[str, Daemon], tmp_path: Path) -> None:
    spec = PRINTERS["pcl5"]
    daemon = daemons["pcl5"]
    width, height = page_size_px(A4, 300)
    page = sample_page(width, height, seed=11)
    urf = write_urf(tmp_path / "p.urf", [page], 300)
    pngs = run(daemon, spec, urf.read_bytes(), "image/urf", copies=3)
    assert len(pngs) == 3
    assert all(compare(png, spec, page) < THRESHOLD for png in pngs)


def test_print_color_mode_pcl3(daemons: dict[str, Daemon]) -> None:
    daemon = daemons["pcl3"]
    data = jpeg_bytes(sample_photo(800, 600))
    inks = set()
    for mode in ("color", "monochrome"):
        job_id = print_job(daemon, data, "image/jpeg", print_color_mode=mode)
        daemon.wait_job(job_id, timeout=60)
        (png,) = printed_pages(daemon, job_id)
        with Image.open(png) as image:
            colours = {tuple(c) for c in np.asarray(image.convert("RGB")).reshape(-1, 3)[::5]}
        inks.add((mode, bool(colours - {(0, 0, 0), (255, 255, 255)})))
        planes = b"\x1b*r-4U" if mode == "color" else b"\x1b*r1U"
        assert planes in daemon.output(job_id)
    assert inks == {("color", True), ("monochrome", False)}


def test_native_formats_pass_through_and_octet_stream_is_typed(
        daemons: dict[str, Daemon], pdf_a4: Path) -> None:
    pcl = daemons["pcl5"]
    native = b"\x1bE\x1b&l26A" + b"hello\x0c" + b"\x1bE"
    job_id = print_job(pcl, native, "application/vnd.hp-PCL")
    pcl.wait_job(job_id, timeout=30)
    assert pcl.output(job_id) == native  # the printer's own language, unchanged
    pdf = pdf_a4.read_bytes()
    job_id = print_job(pcl, pdf, "application/octet-stream")  # auto-typed as PDF
    pcl.wait_job(job_id, timeout=60)
    assert pcl.output(job_id).startswith(b"\x1b%-12345X@PJL")
    assert len(printed_pages(pcl, job_id)) == 3
    if shutil.which("gs") is None:
        return
    ps = daemons["postscript"]
    job_id = print_job(ps, pdf, "application/pdf")  # a PDF printer gets the PDF itself
    ps.wait_job(job_id, timeout=60)
    assert ps.output(job_id) == pdf and len(printed_pages(ps, job_id)) == 3
    assert job_attributes(ps, job_id, "job-impressions-completed") == {
        "job-impressions-completed": 3}  # counted by the printer


def test_malformed_document_aborts_the_job_only(daemons: dict[str, Daemon],
                                                tmp_path: Path) -> None:
    daemon = daemons["pcl5"]
    width, height = page_size_px(A4, 300)
    good = write_pwg(tmp_path / "g.pwg", [sample_page(width, height)], 300).read_bytes()
    job_id = print_job(daemon, good[:len(good) // 2], "image/pwg-raster")  # cut short
    daemon.wait_job(job_id, "aborted", timeout=30)
    reasons = job_attributes(daemon, job_id, "job-state-reasons")["job-state-reasons"]
    assert reasons == "document-format-error"
    after = print_job(daemon, good, "image/pwg-raster", print_quality=3)
    daemon.wait_job(after, timeout=30)
    assert len(printed_pages(daemon, after)) == 1
