"""The vectorised run-length encoders against the per-packet decoders (which are written
from the specifications independently): PackBits / PCL method 2, delta row / PCL method 3,
PWG raster packets."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.pipeline.compression import (
    delta_rows,
    packbits_rows,
    ragged_arange,
    run_encode,
    split_rows,
    tiff_strips,
    undelta_row,
    unpackbits_row,
)
from firmware.pipeline.readers.pwg import encode_lines
from firmware.pipeline.readers.raster import LineDecoder


def bands(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.integers(1, 6))
    width = draw(st.integers(1, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Runs of every length around the packet limits, literals, zero tails.
    out = np.zeros((rows, width), dtype=np.uint8)
    for r in range(rows):
        x = 0
        while x < width:
            n = int(rng.choice([1, 2, 3, 127, 128, 129, 130, 257, int(rng.integers(1, 40))]))
            kind = rng.integers(0, 3)
            if kind == 0:
                out[r, x:x + n] = rng.integers(0, 256)
            elif kind == 1:
                out[r, x:x + n] = rng.integers(0, 256, min(n, width - x))
            x += n
        if rng.integers(0, 2):
            out[r, int(rng.integers(0, width)):] = 0
    return out


band_strategy = st.composite(bands)()


@settings(max_examples=150, deadline=None)
@given(band_strategy, st.booleans())
def test_packbits_round_trip(band: np.ndarray, trim: bool) -> None:
    data, lengths = packbits_rows(band, trim=trim)
    rows = split_rows(data, lengths)
    for r, coded in enumerate(rows):
        assert unpackbits_row(coded, band.shape[1]) == band[r].tobytes()
        assert not coded.startswith(b"\x80")  # never the no-op header


@settings(max_examples=150, deadline=None)
@given(band_strategy)
def test_delta_row_round_trip(band: np.ndarray) -> None:
    seed = np.roll(band[0], 3)
    data, lengths = delta_rows(band, seed)
    row = bytearray(seed.tobytes())
    for r, coded in enumerate(split_rows(data, lengths)):
        row = undelta_row(coded, row)
        assert bytes(row) == band[r].tobytes()


@settings(max_examples=80, deadline=None)
@given(band_strategy, st.sampled_from([1, 3, 4]))
def test_pwg_packets_round_trip(band: np.ndarray, bpp: int) -> None:
    width = band.shape[1] // bpp * bpp
    if width == 0:
        return
    rows = np.ascontiguousarray(band[:, :width])
    rows = np.concatenate([rows, rows[-1:], rows[-1:]])  # exercise line repeats
    coded = encode_lines(rows, bpp, 255)
    decoder = LineDecoder(io.BytesIO(coded), width, bpp, 255)
    decoded: list[bytes] = []
    while len(decoded) < rows.shape[0]:
        line, repeat = decoder.line_group()
        decoded.extend([line] * repeat)
    assert b"".join(decoded) == rows.tobytes()
    assert decoder.leftover() == b""


def test_encoders_compress() -> None:
    blank = np.zeros((3, 620), dtype=np.uint8)
    assert packbits_rows(blank)[1].tolist() == [0, 0, 0]  # PCL zero-fills a short row
    solid = np.full((1, 620), 0xFF, dtype=np.uint8)
    _, lengths = packbits_rows(solid)
    assert lengths[0] == 2 * 5  # 620 = 4 x 128 + 108: five repeat packets
    assert delta_rows(solid, solid[0])[1].tolist() == [0]  # unchanged row: nothing
    one = solid.copy()
    one[0, 300] = 0
    # command byte, offset 300 = 31 + 255 + 14 (two extension bytes), one data byte
    assert delta_rows(one, solid[0])[1].tolist() == [4]


def test_delta_offsets_beyond_one_extension_byte() -> None:
    seed = np.zeros(2000, dtype=np.uint8)
    row = seed.copy()
    row[[0, 31, 600, 1999]] = 7
    data, lengths = delta_rows(row[None], seed)
    assert bytes(undelta_row(split_rows(data, lengths)[0], bytearray(2000))) == row.tobytes()


def test_pwg_fill_to_white_code() -> None:
    # One line group: repeat 1, two literal pixels, then 128 = white to the end.
    coded = bytes([0, 255, 10, 20, 128])
    line, repeat = LineDecoder(io.BytesIO(coded), 8, 1, 255).line_group()
    assert repeat == 1 and line == bytes([10, 20, 255, 255, 255, 255, 255, 255])


def test_ragged_arange() -> None:
    assert ragged_arange(np.array([3, 0, 2])).tolist() == [0, 1, 2, 0, 1]


def test_run_encode_rejects_multibyte_tiff() -> None:
    with pytest.raises(ValueError):
        run_encode(np.zeros((1, 4, 3), dtype=np.uint8), style="tiff")


@pytest.mark.parametrize("rows", [1, 2, 3, 700])
def test_tiff_strips_match_pillow(rows: int) -> None:
    """The strip table read from the bytes is the one Pillow's TIFF reader finds (one
    strip: values inline in the IFD entry; several: behind an offset)."""
    from PIL import Image

    band = np.random.default_rng(rows).integers(0, 4, (rows, 37), dtype=np.uint8) * 85
    out = io.BytesIO()
    Image.frombytes("L", (37, rows), band.tobytes()).save(out, "TIFF", compression="packbits",
                                                         tiffinfo={278: 1})
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as tiff:
        expected = (list(tiff.tag_v2[273]), list(tiff.tag_v2[279]))
    assert tiff_strips(data) == expected
    with pytest.raises(ValueError):
        tiff_strips(b"GIF89a" + data[6:])


def test_a_pillow_that_ignores_rows_per_strip_is_not_used(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Pillow before 10 (Debian bookworm's 9.4, on 32-bit Raspberry Pi OS) ignores
    RowsPerStrip and packs several rows into one strip: then the rows are coded without
    libtiff, and still right."""
    from firmware.pipeline.compression import have_libtiff

    def several_rows_per_strip(rows: np.ndarray) -> list[bytes]:
        return [run_encode(rows, style="tiff", trim=False)[0].tobytes()]

    # The module have_libtiff reads its helper from (whatever imported it first).
    module_globals = have_libtiff.__wrapped__.__globals__  # type: ignore[attr-defined]
    have_libtiff.cache_clear()
    monkeypatch.setitem(module_globals, "_libtiff_packbits", several_rows_per_strip)
    try:
        assert not have_libtiff()
        band = np.random.default_rng(5).integers(0, 3, (40, 64)).astype(np.uint8) * 85
        data, lengths = packbits_rows(band)
        for r, coded in enumerate(split_rows(data, lengths)):
            assert unpackbits_row(coded, 64) == band[r].tobytes()
    finally:
        have_libtiff.cache_clear()
