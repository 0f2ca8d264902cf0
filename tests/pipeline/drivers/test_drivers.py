"""Every driver in process: a known page through the pipeline and the driver, back
through the emulated printer's interpreter, compared with the source (blurred MAE, see
:mod:`tests.pipeline.helpers`); what each printer language stream must contain; driver
choice from IEEE 1284 device IDs; and proof that the comparison catches broken drivers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from firmware.pipeline import DocumentSource, Pipeline
from firmware.pipeline.drivers import DRIVERS, Driver, select_driver
from firmware.pipeline.drivers.pcl5 import Pcl5Driver
from firmware.pipeline.drivers.pclraster import PclRasterWriter
from firmware.pipeline.readers.pwg import write_pwg
from hal.emulator import interpreter_for
from tests.pipeline.helpers import (
    THRESHOLD,
    blurred_mae,
    load_gray,
    page_size_px,
    printable_box,
    sample_page,
    sample_photo,
    whiten_outside,
)

A4 = "iso_a4_210x297mm"


def convert(driver: Driver, docs: list[DocumentSource], **attrs: Any) -> tuple[bytes, Any]:
    conversion = Pipeline(driver).convert(docs, attrs)
    return b"".join(conversion), conversion


def interpret(lang: str, data: bytes, out: Path, step: int = 65536,
              **options: str) -> tuple[list[Path], Any]:
    out.mkdir(parents=True, exist_ok=True)
    if lang == "postscript":
        (out / "received.bin").write_bytes(data)
    interp = interpreter_for(lang, data[:64], out, lambda new_sheet: True,
                             {"render_dpi": options.pop("render_dpi", "300"), **options})
    for i in range(0, len(data), step):  # as the port gets it: arbitrary splits
        assert interp.feed(data[i:i + step]) == len(data[i:i + step])
    interp.finish()
    pages = sorted(out.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    return pages, interp


#: driver, emulator language, resolution, media, driver options
CASES = [
    ("pcl5", "pcl5", 300, A4, {}),
    ("pcl3", "pcl3", 300, A4, {}),
    ("escp2", "escp2", 360, A4, {}),
    ("escpos", "escpos", 203, "om_receipt-80_80x297mm", {}),
    ("ps", "postscript", 300, A4, {}),
]


def pwg_page(tmp_path: Path, media: str, res: int) -> tuple[Path, np.ndarray]:
    width, height = page_size_px(media, res)
    page = sample_page(width, height)
    size_pt = (round(width * 72 / res), round(height * 72 / res))
    path = write_pwg(tmp_path / "page.pwg", [page], res, raster_type="sgray_8",
                     page_size=size_pt)
    return path, page


@pytest.mark.parametrize(("name", "lang", "res", "media", "options"), CASES,
                         ids=[c[0] for c in CASES])
def test_driver_round_trip(tmp_path: Path, name: str, lang: str, res: int, media: str,
                           options: dict[str, str]) -> None:
    if lang == "postscript" and shutil.which("gs") is None:
        pytest.skip("Ghostscript renders what the PostScript driver sends")
    driver = select_driver("", name, options)
    source, page = pwg_page(tmp_path, media, res)
    data, conversion = convert(driver, [DocumentSource(source, "image/pwg-raster")])
    assert conversion.impressions == 1 and conversion.sheets == 1
    pages, interp = interpret(lang, data, tmp_path / "out", roll_width="80")
    assert len(pages) == 1 and interp.pages == 1
    printed = load_gray(pages[0])
    size = (page.shape[1], page.shape[0])
    box = printable_box(res, size, driver.capabilities.margins)
    if name == "escpos":
        # A receipt is the printable strip, as long as what was printed (then a feed).
        left, top, _, bottom = box
        assert printed.shape[1] == 576  # 72 mm at 8 dots/mm
        page = page[top:bottom, left:left + 576]
        box = (0, 0, 576, min(bottom - top, printed.shape[0] - 30))
    else:
        assert printed.shape == page.shape  # the whole sheet, at the device resolution
    expected = whiten_outside(page, box)
    score = blurred_mae(printed, expected, res, box)
    assert score < THRESHOLD, score
    # The same comparison fails a page shifted by half a millimetre.
    shift = round(0.5 * res / 25.4)
    assert blurred_mae(np.roll(printed, shift, axis=1), expected, res, box) > THRESHOLD


def test_metric_catches_broken_pages(tmp_path: Path) -> None:
    driver = select_driver("", "pcl5")
    source, page = pwg_page(tmp_path, A4, 300)
    data, _ = convert(driver, [DocumentSource(source, "image/pwg-raster")])
    (png,), _ = interpret("pcl5", data, tmp_path / "good")
    printed = load_gray(png)
    box = printable_box(300, (page.shape[1], page.shape[0]), driver.capabilities.margins)
    expected = whiten_outside(page, box)
    assert blurred_mae(printed, expected, 300, box) < THRESHOLD
    lost_band = np.concatenate([printed[:1000], printed[1064:], printed[-64:]])
    broken = {
        "missing band": lost_band,
        "upside down": printed[::-1],
        "negative": 255 - printed,
        "no halftone (threshold at 50 %)": np.where(whiten_outside(page, box) < 128, 0, 255),
    }
    for what, image in broken.items():
        assert blurred_mae(image, expected, 300, box) > THRESHOLD, what


class ForgetsBlankRows(PclRasterWriter):
    """A PCL writer with a bug: blank rows are neither sent nor skipped (what follows
    them prints too high)."""

    def write(self, lines: np.ndarray) -> None:
        super().write(lines[:, lines.any(axis=(0, 2))])


class DropsLastBand(Pcl5Driver):
    """A PCL 5 driver with a bug: the band that ends the page is lost."""

    def write_lines(self, y: int, lines: np.ndarray) -> None:
        assert self.page is not None
        if y + lines.shape[1] < self.page.device.printable_height:
            super().write_lines(y, lines)


class OmitsTopMargin(Pcl5Driver):
    """A PCL 5 driver with a bug: it forgets ESC&l0E, so the printer's default top
    margin (1/2 inch) moves the page down."""

    def page_prologue(self, page: Any) -> bytes:
        return super().page_prologue(page).replace(b"\x1b&l0E", b"")


@pytest.mark.parametrize("bug", [ForgetsBlankRows, OmitsTopMargin, DropsLastBand])
def test_broken_driver_fails_the_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            bug: type) -> None:
    if issubclass(bug, PclRasterWriter):
        monkeypatch.setattr("firmware.pipeline.drivers.pcl5.PclRasterWriter", bug)
        driver: Driver = select_driver("", "pcl5")
    else:
        driver = bug()
    source, page = pwg_page(tmp_path, A4, 300)
    data, _ = convert(driver, [DocumentSource(source, "image/pwg-raster")])
    (png,), _ = interpret("pcl5", data, tmp_path / "out")
    box = printable_box(300, (page.shape[1], page.shape[0]), driver.capabilities.margins)
    assert blurred_mae(load_gray(png), whiten_outside(page, box), 300, box) > THRESHOLD


def test_pcl5_stream_compression_and_duplex(tmp_path: Path) -> None:
    driver = select_driver("", "pcl5", {"duplex": "true"})
    source, page = pwg_page(tmp_path, A4, 300)
    three = write_pwg(tmp_path / "three.pwg", [page] * 3, 300)
    data, conversion = convert(driver, [DocumentSource(three, "image/pwg-raster")],
                               sides="two-sided-long-edge")
    assert data.startswith(b"\x1b%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=PCL\r\n\x1bE")
    assert b"\x1b&l1S" in data and b"\x1b&l26A" in data and b"\x1b*t300R" in data
    assert b"\x1b*b2m" in data and b"\x1b*b3m" in data  # both methods, chosen per row
    assert data.count(b"\x1b*rC\x0c") == 4  # 3 pages and a blank back side
    assert len(data) < 0.7 * 3 * page.size / 8  # below the bits, even for halftones
    assert (conversion.impressions, conversion.sheets) == (3, 2)
    pages, interp = interpret("pcl5", data, tmp_path / "out", duplex="true")
    assert (interp.pages, interp.sheets) == (4, 2)
    assert load_gray(pages[3]).min() == 255  # the pad page is blank
    blank, _ = convert(driver, [DocumentSource(write_pwg(
        tmp_path / "blank.pwg", [np.full_like(page, 255)], 300), "image/pwg-raster")])
    assert len(blank) < 300  # a white page is its setup and a form feed
    simplex, _ = convert(select_driver("", "pcl5"), [DocumentSource(source,
                                                                    "image/pwg-raster")],
                         sides="two-sided-long-edge")
    assert b"\x1b&l1S" not in simplex  # no duplexer: sides is not honoured


def test_pcl3_colour_and_monochrome(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    sample_photo(600, 800).save(photo, "JPEG", quality=92)
    driver = select_driver("MFG:HP;MDL:DeskJet 990C;CMD:PCL3GUI,PJL;")
    assert driver.name == "pcl3"
    color, _ = convert(driver, [DocumentSource(photo, "image/jpeg")],
                       **{"print-color-mode": "color"})
    assert b"\x1b*r-4U" in color and b"V" in color.split(b"\x1b*r1A", 1)[1][:40]
    (png,), _ = interpret("pcl3", color, tmp_path / "color")
    with Image.open(png) as image:
        rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert {(0, 255, 255), (255, 0, 255), (255, 255, 0)} <= set(map(tuple, rgb[::7]))
    mono, _ = convert(driver, [DocumentSource(photo, "image/jpeg")],
                      **{"print-color-mode": "monochrome"})
    assert b"\x1b*r1U" in mono and b"\x1b*r-4U" not in mono
    (png,), _ = interpret("pcl3", mono, tmp_path / "mono")
    with Image.open(png) as image:
        assert image.mode == "1"  # black ink only


def test_escpos_receipt_widths_and_cut(tmp_path: Path) -> None:
    for roll, dots in ((58, 384), (80, 576)):
        driver = select_driver("MFG:EPSON;CMD:ESC/POS;", options={"roll_width": str(roll)})
        media = driver.capabilities.media[0]
        assert media == f"om_receipt-{roll}_{roll}x297mm"
        source, _ = pwg_page(tmp_path, media, 203)
        data, _ = convert(driver, [DocumentSource(source, "image/pwg-raster")], copies=2)
        assert data.count(b"\x1dv0\x00") >= 1 and data.count(b"\x1dVB\x00") == 2
        assert b"\x1dv0\x00" + bytes((dots // 8, 0)) in data
        pages, _ = interpret("escpos", data, tmp_path / str(roll), roll_width=str(roll))
        assert len(pages) == 2
        with Image.open(pages[0]) as image:
            assert image.width == dots


def test_escp2_stream(tmp_path: Path) -> None:
    driver = select_driver("MFG:EPSON;CMD:ESCPL2,BDC,D4;MDL:Stylus Photo 1290;")
    assert driver.name == "escp2"
    photo = tmp_path / "photo.jpg"
    sample_photo(300, 400).save(photo, "JPEG")
    data, _ = convert(driver, [DocumentSource(photo, "image/jpeg")])
    assert data.startswith(b"\x1b@\x1b(G\x01\x00\x01")
    assert b"\x1b.\x01\x0a\x0a\x01" in data  # compressed raster, 360 dpi, one row
    assert {b"\x1br\x00", b"\x1br\x01", b"\x1br\x02", b"\x1br\x04"} <= {
        data[i:i + 3] for i in range(len(data) - 2) if data[i:i + 2] == b"\x1br"}


@pytest.mark.skipif(shutil.which("gs") is None, reason="needs Ghostscript")
def test_postscript_is_valid_level_2(tmp_path: Path) -> None:
    driver = select_driver("CMD:POSTSCRIPT;", options={"duplex": "true"})
    _, page = pwg_page(tmp_path, A4, 300)
    two = write_pwg(tmp_path / "two.pwg", [page, page], 300)
    data, _ = convert(driver, [DocumentSource(two, "image/pwg-raster")],
                      sides="two-sided-short-edge")
    assert data.startswith(b"%!PS-Adobe-3.0\n") and b"%%Pages: 2\n%%EOF" in data
    assert b"/Duplex true /Tumble true" in data
    path = tmp_path / "job.ps"
    path.write_bytes(data)
    result = subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dLanguageLevel=2",
                             "-sDEVICE=bbox", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.count("%%BoundingBox") == 2, result.stderr


@pytest.mark.parametrize(("device_id", "expected"), [
    ("MFG:HP;MDL:HP LaserJet 4050;CMD:PCL,PJL,POSTSCRIPT;", "pcl5"),
    ("MFG:HP;MDL:LaserJet P2055;COMMAND SET:PJL,PCL,PCLXL;", "pcl5"),
    ("MFG:HP;MDL:DeskJet 895C;CMD:PCL;", "pcl3"),
    ("MFG:HP;MDL:OfficeJet Pro;CMD:PCL3GUI,PJL;", "pcl3"),
    ("MFG:Lexmark;CMD:POSTSCRIPT,PJL;", "ps"),
    ("MFG:Brother;CMD:BR-SCRIPT3,PDF;", "ps"),
    ("MFG:EPSON;CMD:ESCPL2,BDC,D4,D4PX;", "escp2"),
    ("MFG:EPSON;CMD:ESC/P;MDL:LQ-570;", "escp2"),
    ("MFG:EPSON;CMD:ESC/POS;MDL:TM-T20;", "escpos"),
    ("", "pcl5"),
])
def test_driver_chosen_from_device_id(device_id: str, expected: str) -> None:
    assert select_driver(device_id).name == expected


def test_override_formats_and_capabilities() -> None:
    assert select_driver("CMD:ESC/POS;", "pcl5").name == "pcl5"
    with pytest.raises(ValueError, match="unknown driver"):
        select_driver("", "laserwriter")
    pcl = Pipeline(select_driver("CMD:PCL,PJL;")).capabilities
    assert pcl.formats == ["application/pdf", "image/jpeg", "image/pwg-raster", "image/urf",
                           "application/vnd.hp-PCL", "application/octet-stream"]
    assert (pcl.resolutions, pcl.color, pcl.duplex) == ([300, 600], False, False)
    ps = Pipeline(select_driver("CMD:POSTSCRIPT,PDF;")).capabilities
    assert "application/postscript" in ps.formats and "application/vnd.hp-PCL" not in ps.formats
    pos = Pipeline(select_driver("CMD:ESC/POS;")).capabilities
    assert "application/vnd.hp-PCL" not in pos.formats and pos.urf[-1] == "RS203"
    raw = Pipeline(select_driver("CMD:ZPL;", "raw")).capabilities
    assert raw.formats == ["application/octet-stream"]
    assert set(DRIVERS) == {"pcl5", "pcl3", "escp2", "escpos", "ps", "raw"}
    assert isinstance(select_driver("", "pcl5", {"resolution": "300"}), Pcl5Driver)
    assert select_driver("", "pcl5", {"resolution": "300"}).capabilities.default_resolution \
        == 300
