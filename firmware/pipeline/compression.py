"""Run-length codecs for raster rows, vectorised over a whole band with numpy.

Encoders work on a band (many rows) at once: every step is an array operation, so the
cost per pixel is a handful of C-level passes and the Python cost is per band.  PackBits
uses libtiff's encoder through Pillow when it is there (a C loop, about 30 times faster
on halftoned rows than the numpy encoder, which remains the fallback and the PWG
encoder).  Decoders (used by the emulated printer's interpreters and the raster readers)
walk the packets of one row in Python, which is per packet, not per pixel.

Formats:

* **PackBits** — TIFF 6.0 §9 "PackBits Compression"; HP PCL 5 Technical Reference
  Manual, Raster Graphics, "Compression Method 2 (TIFF rev. 4.0)"; also Epson ESC/P2
  "ESC . 1" run-length graphics and PostScript ``RunLengthDecode`` (PLRM 3rd ed. §3.13.3,
  where 128 is end-of-data).  Control byte ``n``: 0..127 → ``n + 1`` literal bytes follow;
  129..255 → the next byte repeated ``257 - n`` times.
* **PWG raster / Apple URF packets** — PWG 5102.4 (the page data after each §4.3 page
  header; CUPS raster v2): the same run lengths with the meanings swapped and counted in
  *pixels*: 0..127 → the next pixel repeated ``n + 1`` times; 129..255 → ``257 - n``
  literal pixels; 128 → fill the rest of the line with white.  Each line group starts
  with a line-repeat byte.
* **Delta row** — HP PCL 5 Technical Reference, "Compression Method 3 (Delta Row)":
  only the bytes that differ from the previous (seed) row are sent, as commands
  ``(count - 1) << 5 | offset`` with ``offset`` 31 extended by further bytes.
"""

from __future__ import annotations

import functools
import io
import struct
from typing import Literal

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]

Style = Literal["tiff", "pwg"]

#: Longest run one packet can carry (both styles).
MAX_PACKET = 128


def ragged_arange(counts: I64) -> I64:
    """``concatenate([arange(c) for c in counts])`` without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, _index(counts))


def _index(values: I64) -> np.ndarray:
    """Counts and bins as numpy's index type: ``np.repeat`` and ``np.bincount`` refuse
    int64 where that is 32 bits (armhf: 32-bit Raspberry Pi OS), 'Cannot cast ...
    according to the rule safe'."""
    return np.asarray(values).astype(np.intp, copy=False)


def _expand(values: I64, counts: I64) -> I64:
    return np.repeat(np.asarray(values, dtype=np.int64), _index(counts))


def run_encode(
    rows: U8,
    *,
    style: Style = "tiff",
    trim: bool = False,
    min_run: int | None = None,
    white: int = 0,
) -> tuple[U8, I64]:
    """Encode every row of a band with PackBits-style packets.

    ``rows`` is ``(R, W)`` bytes or ``(R, W, B)`` pixels of ``B`` bytes (PWG style only
    counts pixels; TIFF style is bytes).  With ``trim`` the trailing run of ``white``
    pixels of each row is dropped (PCL zero-fills a short row).  Returns the
    concatenated encodings and the encoded length of each row.
    """
    if rows.ndim == 2:
        rows = rows[:, :, None]
    n_rows, width, bpp = rows.shape
    if style == "tiff" and bpp != 1:
        raise ValueError("TIFF PackBits packs bytes, not multi-byte pixels")
    if min_run is None:
        min_run = 3 if style == "tiff" else 2
    lengths = np.zeros(n_rows, dtype=np.int64)
    if n_rows == 0 or width == 0:
        return np.zeros(0, dtype=np.uint8), lengths
    pix = np.ascontiguousarray(rows).reshape(n_rows * width, bpp)
    total = n_rows * width
    # 1. Runs of equal pixels, broken at row starts.
    boundary = np.empty(total, dtype=bool)
    boundary[0] = True
    if bpp == 1:
        np.not_equal(pix[1:, 0], pix[:-1, 0], out=boundary[1:])
    else:
        np.any(pix[1:] != pix[:-1], axis=1, out=boundary[1:])
    boundary[::width] = True
    starts = np.flatnonzero(boundary).astype(np.int64)
    run_len = np.diff(np.append(starts, total))
    run_row = starts // width
    if trim:
        ends_row = (starts + run_len) % width == 0
        is_white = np.all(pix[starts] == white, axis=1)
        keep = ~(ends_row & is_white)
        starts, run_len, run_row = starts[keep], run_len[keep], run_row[keep]
    if starts.size == 0:
        return np.zeros(0, dtype=np.uint8), lengths
    # 2. Each run: a repeated part (whole packets) and a literal tail of 0..2 pixels.
    repeat = run_len >= min_run
    rem = run_len % MAX_PACKET
    lit_tail = np.where(repeat, np.where(rem == 1, 1, 0), run_len)
    rep_part = run_len - lit_tail
    # 3. Literal segments: consecutive literal tails in one row, not split by a repeat.
    same_row_prev = np.zeros(starts.size, dtype=bool)
    same_row_prev[1:] = run_row[1:] == run_row[:-1]
    prev_lit = np.zeros(starts.size, dtype=bool)
    prev_lit[1:] = lit_tail[:-1] > 0
    continues = (rep_part == 0) & prev_lit & same_row_prev
    has_lit = lit_tail > 0
    new_seg = has_lit & ~continues
    lit_runs = np.flatnonzero(has_lit)
    seg_id = np.cumsum(new_seg[lit_runs]) - 1
    n_segs = int(new_seg.sum())
    seg_len = np.bincount(_index(seg_id), weights=lit_tail[lit_runs],
                          minlength=n_segs).astype(np.int64)
    seg_first = lit_runs[new_seg[lit_runs]]
    seg_start = starts[seg_first] + rep_part[seg_first]
    # 4. Packets: position, pixel count, kind.
    rep_runs = np.flatnonzero(rep_part > 0)
    n_rep = -(-rep_part[rep_runs] // MAX_PACKET)
    rep_j = ragged_arange(n_rep)
    rep_pos = _expand(starts[rep_runs], n_rep) + MAX_PACKET * rep_j
    rep_cnt = np.minimum(MAX_PACKET, _expand(rep_part[rep_runs], n_rep) - MAX_PACKET * rep_j)
    n_lit = -(-seg_len // MAX_PACKET)
    lit_j = ragged_arange(n_lit)
    lit_pos = _expand(seg_start, n_lit) + MAX_PACKET * lit_j
    lit_cnt = np.minimum(MAX_PACKET, _expand(seg_len, n_lit) - MAX_PACKET * lit_j)
    pos = np.concatenate([rep_pos, lit_pos])
    cnt = np.concatenate([rep_cnt, lit_cnt])
    is_rep = np.concatenate([np.ones(rep_pos.size, bool), np.zeros(lit_pos.size, bool)])
    order = np.argsort(pos, kind="stable")
    pos, cnt, is_rep = pos[order], cnt[order], is_rep[order]
    # 5. Headers and sizes.
    if style == "tiff":
        header = np.where(is_rep, 257 - cnt, cnt - 1)
    else:
        # PWG: a one-pixel literal is written as a repeat of one (header 0).
        header = np.where(is_rep | (cnt == 1), cnt - 1, 257 - cnt)
    payload = np.where(is_rep, 1, cnt) * bpp
    size = 1 + payload
    offsets = np.cumsum(size) - size
    out = np.empty(int(size.sum()), dtype=np.uint8)
    out[offsets] = header.astype(np.uint8)
    # 6. Payload bytes: one pixel for repeats, ``cnt`` pixels for literals.
    n_pix = np.where(is_rep, 1, cnt)
    pix_idx = _expand(pos, n_pix) + ragged_arange(n_pix)
    dst_pix = _expand(offsets + 1, n_pix) + ragged_arange(n_pix) * bpp
    if bpp == 1:
        out[dst_pix] = pix[pix_idx, 0]
    else:
        for b in range(bpp):  # per byte of a pixel (B <= 8), not per pixel
            out[dst_pix + b] = pix[pix_idx, b]
    lengths = np.bincount(_index(pos // width), weights=size, minlength=n_rows).astype(np.int64)
    return out, lengths


#: Rows are grouped by their trimmed length in steps of this many bytes for libtiff.
TRIM_STEP = 32


@functools.lru_cache(maxsize=1)
def have_libtiff() -> bool:
    """Pillow with libtiff that writes one row per strip when asked (RowsPerStrip, TIFF
    6.0 §3), so that each strip is one PackBits-coded row.  Pillow before 10 (Debian
    bookworm's python3-pil 9.4, what 32-bit Raspberry Pi OS installs) ignores the request
    and packs many rows into a strip: then rows are coded here (:func:`run_encode`)."""
    try:
        from PIL import features

        if not features.check("libtiff"):
            return False
        probe = np.arange(12, dtype=np.uint8).reshape(3, 4)
        return len(_libtiff_packbits(probe)) == 3
    except (ImportError, OSError, ValueError, KeyError):
        return False


def _libtiff_packbits(rows: U8) -> list[bytes]:
    """Each row PackBits-coded by libtiff: a one-row-per-strip TIFF of the rows."""
    from PIL import Image

    n, width = rows.shape
    image = Image.frombytes("L", (width, n), np.ascontiguousarray(rows).tobytes())
    out = io.BytesIO()
    image.save(out, "TIFF", compression="packbits", tiffinfo={278: 1})  # RowsPerStrip
    data = out.getvalue()
    offsets, counts = tiff_strips(data)
    return [data[o:o + c] for o, c in zip(offsets, counts, strict=True)]


#: TIFF field types whose values are read here: SHORT and LONG (TIFF 6.0 §2).
_TIFF_TYPES = {3: "H", 4: "I"}


def tiff_strips(data: bytes) -> tuple[list[int], list[int]]:
    """StripOffsets (273) and StripByteCounts (279) of a TIFF's first IFD (TIFF 6.0 §2,
    §3): read straight from the bytes, which costs far less than opening the image."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack_from(order + "H", data, 2)[0] != 42:
        raise ValueError("not a TIFF")
    ifd = struct.unpack_from(order + "I", data, 4)[0]
    (entries,) = struct.unpack_from(order + "H", data, ifd)
    found: dict[int, list[int]] = {}
    for i in range(entries):
        tag, kind, count, value = struct.unpack_from(order + "HHII", data, ifd + 2 + 12 * i)
        if tag in (273, 279) and kind in _TIFF_TYPES:
            fmt = f"{order}{count}{_TIFF_TYPES[kind]}"
            where = ifd + 2 + 12 * i + 8 if struct.calcsize(fmt) <= 4 else value
            found[tag] = list(struct.unpack_from(fmt, data, where))
    return found[273], found[279]


def packbits_rows(rows: U8, *, trim: bool = True) -> tuple[U8, I64]:
    """PCL compression method 2 / TIFF PackBits for every row of a band.

    With ``trim`` a row's trailing zero bytes are not coded (PCL zero-fills a short
    row): rows are coded at their used width rounded up to :data:`TRIM_STEP` bytes."""
    n_rows, width = rows.shape
    if not have_libtiff() or n_rows == 0 or width == 0:
        return run_encode(rows, style="tiff", trim=trim)
    if trim:
        nonzero = rows != 0
        used = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 0)
        widths = np.minimum(width, -(-used // TRIM_STEP) * TRIM_STEP)
    else:
        widths = np.full(n_rows, width)
    coded: list[bytes] = [b""] * n_rows
    for w in np.unique(widths).tolist():
        if w == 0:
            continue
        index = np.flatnonzero(widths == w)
        for i, row in zip(index.tolist(), _libtiff_packbits(rows[index, :w]), strict=True):
            coded[i] = row
    lengths = np.fromiter((len(c) for c in coded), dtype=np.int64, count=n_rows)
    return np.frombuffer(b"".join(coded), dtype=np.uint8), lengths


def delta_rows(rows: U8, seed: U8) -> tuple[U8, I64]:
    """PCL compression method 3 (delta row) for every row, each against the row before
    it (the first against ``seed``).  Returns concatenated commands and per-row lengths.

    HP PCL 5 Technical Reference Manual, "Compression Method 3": command byte bits 7-5
    are the replacement count minus one (1..8 bytes), bits 4-0 the offset from the end
    of the previous replacement; offset 31 is extended by following bytes that add up
    (each 255 means "and more"), then the replacement bytes.
    """
    n_rows, width = rows.shape
    lengths = np.zeros(n_rows, dtype=np.int64)
    if n_rows == 0 or width == 0:
        return np.zeros(0, dtype=np.uint8), lengths
    prev = np.empty_like(rows)
    prev[0] = seed
    prev[1:] = rows[:-1]
    changed = (rows != prev).ravel()
    if not changed.any():
        return np.zeros(0, dtype=np.uint8), lengths
    flat = rows.ravel()

    # Runs of changed bytes, broken at row starts.
    start_mask = changed.copy()
    start_mask[1:] &= ~changed[:-1]
    start_mask[::width] = changed[::width]
    starts = np.flatnonzero(start_mask).astype(np.int64)
    end_mask = changed.copy()
    end_mask[:-1] &= ~changed[1:]
    end_mask[width - 1::width] = changed[width - 1::width]
    ends = np.flatnonzero(end_mask).astype(np.int64) + 1
    run_len = ends - starts
    row = starts // width
    col = starts - row * width
    prev_end = np.zeros(starts.size, dtype=np.int64)
    prev_end[1:] = ends[:-1] - (row[1:] * width)
    first_in_row = np.ones(starts.size, dtype=bool)
    first_in_row[1:] = row[1:] != row[:-1]
    prev_end[first_in_row] = 0
    run_off = col - prev_end
    # Commands: chunks of at most 8 bytes; only the first chunk of a run has an offset.
    n_cmd = -(-run_len // 8)
    j = ragged_arange(n_cmd)
    cmd_pos = _expand(starts, n_cmd) + 8 * j
    cmd_cnt = np.minimum(8, _expand(run_len, n_cmd) - 8 * j)
    cmd_off = np.where(j == 0, _expand(run_off, n_cmd), 0)
    extra = np.where(cmd_off >= 31, (cmd_off - 31) // 255 + 1, 0)
    size = 1 + extra + cmd_cnt
    offsets = np.cumsum(size) - size
    out = np.empty(int(size.sum()), dtype=np.uint8)
    out[offsets] = (((cmd_cnt - 1) << 5) | np.minimum(cmd_off, 31)).astype(np.uint8)
    # Offset extension bytes: 255 ... 255, then the remainder.
    ext_k = ragged_arange(extra)
    ext_dst = _expand(offsets + 1, extra) + ext_k
    ext_last = ext_k == _expand(extra, extra) - 1
    ext_val = np.where(ext_last, (_expand(cmd_off, extra) - 31) % 255, 255)
    out[ext_dst] = ext_val.astype(np.uint8)
    data_k = ragged_arange(cmd_cnt)
    out[_expand(offsets + 1 + extra, cmd_cnt) + data_k] = flat[_expand(cmd_pos, cmd_cnt) + data_k]
    lengths = np.bincount(_index(cmd_pos // width), weights=size, minlength=n_rows).astype(np.int64)
    return out, lengths


def split_rows(data: U8, lengths: I64) -> list[bytes]:
    """Turn an encoder's (data, lengths) into one ``bytes`` per row."""
    blob = data.tobytes()
    ends = np.cumsum(lengths).tolist()
    out = []
    start = 0
    for end in ends:
        out.append(blob[start:end])
        start = end
    return out


# -- decoders (per packet) ----------------------------------------------------------------

def unpackbits_row(data: bytes | memoryview, width: int) -> bytes:
    """Decode one PackBits row (TIFF / PCL method 2 / ESC/P2 RLE) to ``width`` bytes,
    zero-filled or truncated as PCL does with a row that is short or long."""
    out = bytearray()
    pos, end = 0, len(data)
    while pos < end and len(out) < width:
        n = data[pos]
        pos += 1
        if n < 128:
            out += data[pos:pos + n + 1]
            pos += n + 1
        elif n > 128:
            if pos < end:
                out += bytes((data[pos],)) * (257 - n)
            pos += 1
        # 128: no operation
    if len(out) < width:
        out += bytes(width - len(out))
    return bytes(out[:width])


def undelta_row(data: bytes | memoryview, seed: bytearray) -> bytearray:
    """Apply one PCL method 3 (delta row) row to ``seed`` (modified and returned)."""
    pos, end, col, width = 0, len(data), 0, len(seed)
    while pos < end:
        cmd = data[pos]
        pos += 1
        count = (cmd >> 5) + 1
        offset = cmd & 31
        if offset == 31:
            while pos < end:
                more = data[pos]
                pos += 1
                offset += more
                if more != 255:
                    break
        col += offset
        chunk = data[pos:pos + count]
        pos += count
        if col < width:
            take = min(len(chunk), width - col)
            seed[col:col + take] = chunk[:take]
        col += len(chunk)
    return seed
