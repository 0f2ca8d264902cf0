"""PWG raster (PWG 5102.4) and Apple raster decoding: every colour space, depth and
coding corner; malformed streams are refused, not guessed."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from firmware.capabilities import Capabilities
from firmware.pipeline.options import JobOptions
from firmware.pipeline.page import Page, Space
from firmware.pipeline.readers import DocumentError, RenderContext
from firmware.pipeline.readers.pwg import PwgHeader, PwgReader, header_bytes, write_pwg
from firmware.pipeline.readers.raster import shift_bits
from firmware.pipeline.readers.urf import UrfReader, write_urf
from tests.samples import read_pwg_headers


def context(**attrs: object) -> RenderContext:
    caps = Capabilities(resolutions=[150, 300], default_resolution=300, color=True)
    return RenderContext(caps, JobOptions.from_attributes(attrs, caps))


def picture(height: int = 90, width: int = 70) -> np.ndarray:
    rng = np.random.default_rng(3)
    gray = np.full((height, width), 255, dtype=np.uint8)
    gray[10:40, 5:60] = rng.integers(0, 256, (30, 55))
    gray[50:] = np.arange(width, dtype=np.uint8)[None, :] * 3
    return gray


def placed(page: Page) -> np.ndarray:
    """The raster as the page placed it (the source area of the whole sheet)."""
    dev = page.device
    full = page.render(0, dev.height, 0, dev.width)
    if page.space is Space.BITS:
        full = np.unpackbits(full, axis=1, count=dev.width)
    p = page.placement  # type: ignore[attr-defined]
    x, y = int(p.x), int(p.y)
    return full[y:y + round(p.height * p.scale_y), x:x + round(p.width * p.scale_x)]


@pytest.mark.parametrize("raster_type", ["black_1", "sgray_8", "sgray_16", "srgb_8",
                                         "srgb_16", "cmyk_8"])
def test_every_raster_type_decodes(tmp_path: Path, raster_type: str) -> None:
    gray = picture()
    pixels = {
        "black_1": gray < 128,
        "sgray_8": gray, "sgray_16": gray,
        "srgb_8": np.stack([gray, 255 - gray, gray // 2], -1),
        "srgb_16": np.stack([gray, 255 - gray, gray // 2], -1),
        "cmyk_8": np.stack([gray, gray // 3, 255 - gray, gray // 5], -1),
    }[raster_type]
    path = write_pwg(tmp_path / "a.pwg", [pixels, pixels], 300, raster_type=raster_type)
    headers = read_pwg_headers(path)  # the suite's own reader agrees on the framing
    assert [h["Width"] for h in headers] == [70, 70]
    pages = 0
    for page in PwgReader().pages(path, context()):
        expected = pixels.astype(np.uint8) if raster_type != "black_1" else pixels
        assert page.space is {"black_1": Space.BITS, "srgb_8": Space.RGB,
                              "srgb_16": Space.RGB, "cmyk_8": Space.CMYK}.get(
                                  raster_type, Space.GRAY)
        assert np.array_equal(placed(page), expected)
        pages += 1
    assert pages == 2


def test_ghostscript_samples_decode_with_their_headers(ipptool_documents: Path) -> None:
    path = (ipptool_documents
            / "pwg-raster-samples-300dpi/sgray-8/document-a4-sgray-8-300dpi.pwg")
    headers = read_pwg_headers(path)
    pages = list(PwgReader().pages(path, context()))  # each closed as the next comes
    assert len(pages) == len(headers) == 3
    assert pages[0].device.media == "iso_a4_210x297mm" and pages[0].device.resolution == 300


def test_page_ranges_and_lower_resolution_scaled(tmp_path: Path) -> None:
    pages = [np.full((20, 16), v, dtype=np.uint8) for v in (10, 100, 200)]
    path = write_pwg(tmp_path / "r.pwg", pages, 150)
    ctx = context(**{"page-ranges": [[2, 3]], "printer-resolution": [300, 300, 3]})
    seen = []
    for page in PwgReader().pages(path, ctx):
        assert page.device.resolution == 300
        region = placed(page)
        assert region.shape == (40, 32)  # 150 dpi doubled to the device's 300
        seen.append(int(region[0, 0]))
        assert (region == seen[-1]).all()
    assert seen == [100, 200]


def test_malformed_streams_are_refused(tmp_path: Path) -> None:
    good = write_pwg(tmp_path / "g.pwg", [picture()], 300).read_bytes()
    cases = {
        "sync": b"RaS3" + good[4:],
        "truncated header": good[:200],
        "truncated data": good[:-5],
    }
    for offset, value in ((392, 999), (400, 48), (384, 4), (372, 0)):
        bad = bytearray(good)  # BytesPerLine, ColorSpace Device1, BitsPerColor, Width
        struct.pack_into(">I", bad, 4 + offset, value)
        cases[f"field {offset}"] = bytes(bad)
    for name, data in cases.items():
        path = tmp_path / f"{name}.pwg"
        path.write_bytes(data)
        with pytest.raises(DocumentError):
            for page in PwgReader().pages(path, context()):
                page.render(0, page.device.height, 0, page.device.width)
    empty = tmp_path / "empty.pwg"
    empty.write_bytes(b"")
    assert list(PwgReader().pages(empty, context())) == []


def test_header_fields() -> None:
    header = PwgHeader.parse(header_bytes(width=10, height=5, resolution=600, color_space=19,
                                          bits_per_color=8, channels=3,
                                          page_size_name="iso_a4_210x297mm", duplex=True))
    assert header.resolution == (600, 600) and header.bytes_per_line == 30
    assert header.duplex and header.page_size_name == "iso_a4_210x297mm"
    assert header.layout() == (Space.RGB, 3, False)


def test_urf_gray_and_rgb(tmp_path: Path) -> None:
    gray = picture()
    rgb = np.stack([gray, 255 - gray, gray // 2], -1)
    path = write_urf(tmp_path / "a.urf", [gray], 300)
    for page in UrfReader().pages(path, context()):
        assert page.space is Space.GRAY and np.array_equal(placed(page), gray)
    path = write_urf(tmp_path / "b.urf", [rgb, rgb], 300, color=True)
    count = 0
    for page in UrfReader().pages(path, context()):
        assert page.space is Space.RGB and np.array_equal(placed(page), rgb)
        count += 1
    assert count == 2
    assert UrfReader.sniff(path.read_bytes()[:8]) and not PwgReader.sniff(b"UNIRAST")
    bad = tmp_path / "bad.urf"
    bad.write_bytes(path.read_bytes()[:12] + bytes([24, 9]) + path.read_bytes()[14:])
    with pytest.raises(DocumentError):
        list(UrfReader().pages(bad, context()))


def test_one_bit_rows_are_recut_by_shifting() -> None:
    rng = np.random.default_rng(9)
    for _ in range(300):
        width = int(rng.integers(1, 60))
        bits = rng.integers(0, 2, (3, width)).astype(np.uint8)
        start, nbytes = int(rng.integers(-80, 80)), int(rng.integers(1, 12))
        got = np.unpackbits(shift_bits(np.packbits(bits, axis=1), start, nbytes), axis=1)
        expected = np.zeros((3, nbytes * 8), dtype=np.uint8)
        lo, hi = max(0, -start), min(nbytes * 8, width - start)
        if hi > lo:
            expected[:, lo:hi] = bits[:, lo + start:hi + start]
        assert np.array_equal(got, expected), (width, start, nbytes)
