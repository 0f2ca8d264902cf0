"""The emulated printer's interpreters on hand-written streams (not the drivers' output):
PCL raster placement and every compression method, escape-sequence framing across
chunk boundaries, duplex sheets and paper, ESC/P2 and ESC/POS raster, PostScript and PDF
page counts, and the device ID that follows the configured language."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hal.emulated import EmulatedPort
from hal.emulator import DEVICE_IDS, interpreter_for
from hal.registry import create_port
from tests.samples import sample_pdf, sample_ps

ESC = b"\x1b"


def port(tmp_path: Path, **options: str) -> EmulatedPort:
    p = create_port("emulated:", {"output": str(tmp_path), "rate": "0", **options})
    assert isinstance(p, EmulatedPort)
    p.open()
    return p


def send_all(p: EmulatedPort, data: bytes) -> None:
    view = memoryview(data)
    end = time.monotonic() + 5
    while view:
        assert time.monotonic() < end, "port never took the data"
        view = view[p.write(view, 0.1):]


def run(tmp_path: Path, lang: str, data: bytes, step: int | None = None,
        **options: str) -> tuple[list[np.ndarray], int]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    interp = interpreter_for(lang, data[:64], tmp_path, lambda new: True, options)
    step = step or len(data) or 1
    for i in range(0, len(data), step):
        assert interp.feed(data[i:i + step]) == len(data[i:i + step])
    interp.finish()
    pages = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    images = []
    for page in pages:
        with Image.open(page) as image:
            images.append(np.asarray(image.convert("L")))
    return images, interp.sheets


#: Where X = 0 of A4's logical page is, at 300 dpi: 71 dots in (PCL 5 TRM Part I, ch. 2).
A4_X0 = 71


def pcl_page(rows: bytes, mode: int = 0, x: int = 0, y: int = 0) -> bytes:
    return (ESC + b"E" + ESC + b"&l26A" + ESC + b"&l0E" + ESC + b"&u300D" + ESC + b"*t300R"
            + ESC + b"*r16S" + ESC + b"*p%dx%dY" % (x, y) + ESC + b"*r1A"
            + ESC + b"*b%dM" % mode + rows + ESC + b"*rC\x0c")


def test_pcl_raster_lands_where_the_cursor_was(tmp_path: Path) -> None:
    # Two rows, mode 0: 16 black pixels, then the left 8.
    data = pcl_page(ESC + b"*b2W\xff\xff" + ESC + b"*b1W\xff", x=100, y=200)
    (page,), sheets = run(tmp_path, "pcl5", data)
    assert page.shape == (3508, 2480) and sheets == 1  # A4 at the raster's 300 dpi
    ink = np.argwhere(page == 0)
    # x: on A4 the logical page starts 71 dots in (PCL 5 TRM); y: top margin 0.
    assert ink[:, 0].min() == 200 and ink[:, 0].max() == 201
    assert ink[:, 1].min() == 171 and ink[:, 1].max() == 186
    assert (page[201, 171:179] == 0).all() and (page[201, 179:187] == 255).all()


@pytest.mark.parametrize(("mode", "rows"), [
    (1, ESC + b"*b4W\x00\xff\x00\x0f" + ESC + b"*b2W\x01\xf0"),  # run-length pairs
    (2, ESC + b"*b3W\x01\xff\x0f" + ESC + b"*b2W\x00\xf0"),  # PackBits literals
    (3, ESC + b"*b3W\x20\xff\x0f" + ESC + b"*b2W\x01\xf0"),  # delta against the seed
])
def test_pcl_compression_methods(tmp_path: Path, mode: int, rows: bytes) -> None:
    (page,), _ = run(tmp_path, "pcl5", pcl_page(rows, mode))
    first, second = page[0, A4_X0:A4_X0 + 16], page[1, A4_X0:A4_X0 + 16]
    assert (first[:8] == 0).all() and (first[8:12] == 255).all() and (first[12:] == 0).all()
    expected_second = {1: (0, 255), 2: (0, 255), 3: (0, 255)}[mode]
    assert second[0] == expected_second[0] or mode == 3
    if mode == 3:  # delta: byte 1 replaced by 0xF0, byte 0 kept from the seed
        assert (second[:8] == 0).all() and (second[8:12] == 0).all() and (
            second[12:] == 255).all()
    else:  # a whole new row: first byte 0xF0 (mode 1) / 0x00 0xF0 (mode 2)
        assert (second[12:] == 255).all()


def test_pcl_y_offset_clears_the_seed_and_moves_down(tmp_path: Path) -> None:
    rows = ESC + b"*b2W\x00\xff" + ESC + b"*b5Y" + ESC + b"*b2W\x00\x0f"
    (page,), _ = run(tmp_path, "pcl5", pcl_page(rows, 3))
    x = A4_X0
    assert (page[0, x:x + 8] == 0).all() and (page[1:6, x:x + 16] == 255).all()
    assert (page[6, x:x + 4] == 255).all() and (page[6, x + 4:x + 8] == 0).all()  # seed 0


def test_pcl_framing_survives_any_split_and_noise(tmp_path: Path) -> None:
    body = (ESC + b"%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=PCL\r\n"
            + pcl_page(ESC + b"*b2W\xff\xff", x=50) + ESC + b"(s4W\x0c\x0c\x0c\x0c"
            + b"text\r\n" + ESC + b"*c2W\x0c\x0c" + b"\x0c" + ESC + b"%-12345X")
    whole, sheets = run(tmp_path / "whole", "pcl5", body)
    split, _ = run(tmp_path / "split", "pcl5", body, step=1)
    assert len(whole) == len(split) == 2 and sheets == 2  # data bytes are not form feeds
    assert all(np.array_equal(a, b) for a, b in zip(whole, split, strict=True))
    noise = random.Random(5).randbytes(200_000)
    pages, _ = run(tmp_path / "noise", "pcl5", noise, step=4096, render="0")
    assert pages == []  # nothing rendered, nothing raised


def test_duplex_sheets_and_paper(tmp_path: Path) -> None:
    p = port(tmp_path, paper="1", duplex="true")
    three = ESC + b"E" + ESC + b"&l1S" + b"a\x0cb\x0cc\x0c"
    p.begin_job(1, "duplex")
    taken = p.write(three, 0.1)
    assert three[taken:] == b"\x0c"  # two pages on the one sheet; the third waits
    assert p.status().paper_level == 0 and not p.status().ready
    p.inject("paper", 1)
    send_all(p, three[taken:])
    p.end_job(1, completed=True)
    assert p.status().page_count == 3 and p.status().paper_level == 0
    assert len(list((tmp_path / "1").glob("page-*.png"))) == 3
    simplex = port(tmp_path / "simplex", paper="10")  # no duplexer: ESC&l1S is ignored
    simplex.begin_job(2, "x")
    send_all(simplex, three)
    simplex.end_job(2, completed=True)
    assert simplex.status().paper_level == 7


def test_escp2_raster(tmp_path: Path) -> None:
    unit = ESC + b"(U\x01\x00\x0a"  # 1/360 inch
    paper = ESC + b"(S\x08\x00" + (720).to_bytes(4, "little") + (720).to_bytes(4, "little")
    margins = ESC + b"(c\x08\x00" + (36).to_bytes(4, "little") + (700).to_bytes(4, "little")
    row = ESC + b"r\x02" + ESC + b".\x01\x0a\x0a\x01\x10\x00" + b"\xfe\xff\x00\xff" + b"\r"
    down = ESC + b"(v\x04\x00" + (10).to_bytes(4, "little", signed=True)
    data = ESC + b"@" + unit + paper + margins + row + down + row + b"\x0c"
    (page,), _ = run(tmp_path, "escp2", data)
    assert page.shape == (720, 720)
    left = round(300 * 360 / 2540)  # the hardware left margin
    assert (page[36, left:left + 16] < 255).all() and (page[37:46, left] == 255).all()
    assert (page[46, left:left + 16] < 255).all()


def test_escpos_receipts(tmp_path: Path) -> None:
    image = b"\x1dv0\x00" + bytes((2, 0, 3, 0)) + b"\xff\x00" * 3
    data = (ESC + b"@" + ESC + b"J\x0a" + image + b"\n" + b"\x1dVB\x00" + image
            + b"\x1dV\x01")
    pages, sheets = run(tmp_path, "escpos", data, step=3, roll_width="58")
    assert len(pages) == 2 and sheets == 2
    first = pages[0]
    assert first.shape == (10 + 3 + 30, 384)
    assert (first[10:13, :8] == 0).all() and (first[10:13, 8:16] == 255).all()
    assert (first[:10] == 255).all()


def test_postscript_and_pdf_are_kept_and_counted(tmp_path: Path) -> None:
    ps = sample_ps(tmp_path / "doc.ps", "a4", 3).read_bytes()
    pdf = sample_pdf(tmp_path / "doc.pdf", "a4", 2).read_bytes()
    p = port(tmp_path / "out", paper="10", render="0")
    for job, data in ((1, ps), (2, pdf)):
        p.begin_job(job, "doc")
        send_all(p, data)
        p.end_job(job, completed=True)
        assert (tmp_path / "out" / str(job) / "received.bin").read_bytes() == data
    assert p.status().page_count == 5 and p.status().paper_level == 5
    rendered = port(tmp_path / "png", render_dpi="50")
    rendered.begin_job(3, "pdf")
    send_all(rendered, pdf)
    rendered.end_job(3, completed=True)
    with Image.open(tmp_path / "png" / "3" / "page-2.png") as page:
        assert page.size == (math.ceil(595 * 50 / 72), math.ceil(842 * 50 / 72))


def test_language_sets_the_device_id(tmp_path: Path) -> None:
    assert "CMD:PCL,PJL;" in port(tmp_path).device_id()
    for lang in ("pcl3", "escp2", "escpos", "postscript"):
        assert port(tmp_path, language=lang).device_id() == DEVICE_IDS[lang]
    with pytest.raises(ValueError, match="unknown language"):
        port(tmp_path, language="zpl")
