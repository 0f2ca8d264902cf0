"""The emulated printer decodes with its own tables, written from the printer-language
manuals, not with the firmware's: PCL page sizes (HP PCL 5 TRM, Page Size command), the
logical page, and the raster decoders.  Proof that a PCL driver sending a wrong page-size
code is caught by the emulator, and so by the driver round trip; and that the emulator
runs without importing the firmware at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware.pipeline import DocumentSource
from firmware.pipeline.compression import delta_rows, packbits_rows, split_rows
from firmware.pipeline.drivers import select_driver
from hal.emulator import interpreter_for
from hal.emulator.pcl import PAGE_SIZES, PclInterpreter, undelta_row, unpackbits_row
from tests.pipeline.drivers import test_drivers as driver_tests
from tests.pipeline.drivers.test_drivers import convert, pwg_page

ESC = b"\x1b"
A4 = "iso_a4_210x297mm"
ROOT = Path(__file__).resolve().parents[2]

#: The Page Size command's values as the manual prints them (PCL 5 TRM Part I, Page Size
#: Command; 25 and 45 as later LaserJets take them): code -> name, width x length, unit.
#: Written out again here, not read from the emulator, so the test checks the table.
MANUAL = {
    1: ("Executive", 7.25, 10.5, "in"),
    2: ("Letter", 8.5, 11, "in"),
    3: ("Legal", 8.5, 14, "in"),
    6: ("Ledger", 11, 17, "in"),
    25: ("A5", 148, 210, "mm"),
    26: ("A4", 210, 297, "mm"),
    27: ("A3", 297, 420, "mm"),
    45: ("JIS B5", 182, 257, "mm"),
    80: ("Monarch", 3.875, 7.5, "in"),
    81: ("Com-10", 4.125, 9.5, "in"),
    90: ("International DL", 110, 220, "mm"),
    91: ("International C5", 162, 229, "mm"),
    100: ("International B5", 176, 250, "mm"),
}


def pixels(value: float, unit: str, res: int) -> int:
    return round(round(value * (2540 if unit == "in" else 100)) * res / 2540)


def interpret(data: bytes, out: Path, lang: str = "pcl5", **options: str) -> PclInterpreter:
    out.mkdir(parents=True, exist_ok=True)
    interp = interpreter_for(lang, data[:64], out, lambda new_sheet: True, options)
    assert isinstance(interp, PclInterpreter)
    assert interp.feed(data) == len(data)
    interp.finish()
    return interp


def one_page(code: int, x: int = 0, res: int = 300) -> bytes:
    """A page of size ``code`` with one row of 8 black dots at X = ``x`` (PCL units of
    1/``res`` inch), top margin 0."""
    return (ESC + b"E" + ESC + b"&u%dD" % res + ESC + b"&l%dA" % code + ESC + b"&l0E"
            + ESC + b"*t%dR" % res + ESC + b"*r8S" + ESC + b"*p%dx0Y" % x + ESC + b"*r1A"
            + ESC + b"*b1W\xff" + ESC + b"*rC\x0c")


def page_shape(out: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(out / "page-1.png") as image:
        return image.height, image.width


def test_the_table_is_the_manuals() -> None:
    assert sorted(PAGE_SIZES) == sorted(MANUAL)
    for code, (name, width, length, unit) in MANUAL.items():
        size = PAGE_SIZES[code]
        assert (size.code, size.name) == (code, name)
        scale = 2540 if unit == "in" else 100
        assert (size.width, size.length) == (round(width * scale), round(length * scale))
        # The logical page table: 1/4 inch on the US sizes, 71 dots on the ISO ones.
        assert size.offset == (75 if unit == "in" else 71), name


@pytest.mark.parametrize("code", sorted(MANUAL))
def test_each_page_size_code_selects_its_paper(tmp_path: Path, code: int) -> None:
    name, width, length, unit = MANUAL[code]
    interp = interpret(one_page(code), tmp_path, render="1")
    assert [s.name for s in interp.page_sizes] == [name]
    assert page_shape(tmp_path) == (pixels(length, unit, 300), pixels(width, unit, 300))


def test_an_unknown_code_is_ignored(tmp_path: Path) -> None:
    # "Other values ignored": the page keeps the size selected before (Letter here).
    data = one_page(2).replace(b"\x0c", b"") + ESC + b"&l4A" + ESC + b"*r1A" + ESC + (
        b"*b1W\xff" + ESC + b"*rC\x0c")
    interp = interpret(data, tmp_path, media="iso_a4_210x297mm")
    assert [s.name for s in interp.page_sizes] == ["Letter", "Letter"]
    plain = interpret(ESC + b"E" + ESC + b"&l999A" + b"\x0c", tmp_path / "default",
                      media="na_legal_8.5x14in")
    assert [s.name for s in plain.page_sizes] == ["Legal"]  # the paper loaded


@pytest.mark.parametrize("lang", ["pcl5", "pcl3"])
def test_a_driver_sending_a_wrong_page_size_code_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """The driver's table says A4 is code 2 (Letter's): the emulator, reading its own
    table, prints the A4 job on Letter, and the driver round trip fails.  (When the
    emulator read the driver's table, it decoded 2 as A4 and the round trip passed.)"""
    source, _ = pwg_page(tmp_path, A4, 300)
    doc = DocumentSource(source, "image/pwg-raster")
    good, _ = convert(select_driver("", lang), [doc])
    assert ESC + b"&l26A" in good
    assert [s.name for s in interpret(good, tmp_path / "good", lang).page_sizes] == ["A4"]

    from firmware.pipeline.drivers import pclraster

    monkeypatch.setitem(pclraster.PAGE_SIZES, A4, 2)  # the bug: A4 sent as Letter
    bad, _ = convert(select_driver("", lang), [doc])
    assert ESC + b"&l2A" in bad and ESC + b"&l26A" not in bad
    interp = interpret(bad, tmp_path / "bad", lang, render="1")
    assert [s.name for s in interp.page_sizes] == ["Letter"]  # what the printer took
    res = interp.last_res
    assert page_shape(tmp_path / "bad") == (pixels(11, "in", res), pixels(8.5, "in", res))
    # ... and the driver round trip, unchanged, fails on it: the sheet is not A4.
    (tmp_path / "round-trip").mkdir()
    letter_vs_a4 = r"\(3300, 2550\) == \(3508, 2480\)"  # printed.shape == page.shape
    with pytest.raises(AssertionError, match=letter_vs_a4):
        driver_tests.test_driver_round_trip(tmp_path / "round-trip", lang, lang, 300, A4, {})


def test_logical_page_offsets_from_the_manual(tmp_path: Path) -> None:
    def ink_x(code: int, res: int, out: Path) -> int:
        interpret(one_page(code, res=res), out, render="1")
        from PIL import Image

        with Image.open(out / "page-1.png") as image:
            page = np.asarray(image.convert("L"))
        return int(np.argwhere(page == 0)[:, 1].min())

    assert ink_x(2, 300, tmp_path / "letter") == 75  # 75 dots
    assert ink_x(26, 300, tmp_path / "a4") == 71  # 71 dots
    assert ink_x(26, 600, tmp_path / "a4-600") == 142
    assert ink_x(90, 300, tmp_path / "dl") == 71


def test_raster_decoders_are_the_manuals(tmp_path: Path) -> None:
    # Method 2 (PackBits): literal run, repeated byte, the -128 no-op, short row zero-filled.
    assert unpackbits_row(b"\x01\xaa\xbb" + b"\xfe\xcc" + b"\x80" + b"\x00\xdd", 8) == (
        b"\xaa\xbb\xcc\xcc\xcc\xdd\x00\x00")
    assert unpackbits_row(b"\xf9\x11", 4) == b"\x11" * 4  # a long row is truncated
    # Method 3 (delta row): 2 bytes at offset 1, then 1 byte 31 + 0 further on.
    seed = bytearray(40)
    assert undelta_row(b"\x21\x01\x02" + b"\x1f\x00\x09", seed) == bytearray(
        b"\x00\x01\x02" + bytes(31) + b"\x09" + bytes(5))
    # Offset 31 + 255 + 1 continues over two bytes; past the row's end is dropped.
    long_seed = bytearray(300)
    undelta_row(b"\x1f\xff\x01\x07", long_seed)
    assert long_seed[287] == 7 and long_seed.count(0) == 299
    assert undelta_row(b"\xe0" + b"\x05" * 8, bytearray(4)) == bytearray(b"\x05" * 4)


def test_raster_decoders_read_the_drivers_encoding() -> None:
    """Independent decoders against the firmware's encoders, on rows a page might have."""
    rng = np.random.default_rng(3)
    rows = (rng.random((64, 60)) < 0.3).astype(np.uint8) * rng.integers(0, 256, (64, 60),
                                                                        dtype=np.uint8)
    rows[10] = 0
    rows[11, :30] = 0xFF
    blob, lengths = packbits_rows(rows, trim=True)
    for row, data in zip(rows, split_rows(blob, lengths), strict=True):
        assert unpackbits_row(data, rows.shape[1]) == row.tobytes()
    seed = np.zeros(rows.shape[1], dtype=np.uint8)
    blob, lengths = delta_rows(rows, seed)
    plane = bytearray(rows.shape[1])
    for row, data in zip(rows, split_rows(blob, lengths), strict=True):
        assert bytes(undelta_row(data, plane)) == row.tobytes()


def test_the_emulator_runs_without_the_firmware(tmp_path: Path) -> None:
    """Import every emulator interpreter and the emulated port, interpret a PCL page:
    not one firmware module is loaded."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import hal.emulated, hal.emulator.pcl, hal.emulator.escp2, hal.emulator.escpos\n"
        "import hal.emulator.document, hal.emulator.png\n"
        "from hal.emulator import interpreter_for\n"
        f"data = {one_page(26)!r}\n"
        f"i = interpreter_for('pcl5', data, Path({str(tmp_path)!r}), lambda n: True, {{}})\n"
        "i.feed(data); i.finish()\n"
        "assert [s.name for s in i.page_sizes] == ['A4']\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'firmware')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
