"""Colour conversion and halftoning, vectorised (numpy): no per-pixel Python loop.

Grey to one bit is a threshold (ordered) dither with one of two screens, chosen by the
driver.  *Blue noise* (inkjets, thermal heads): a 64 x 64 tile whose thresholds are
spread so that the dots of any grey level are evenly spaced with no low-frequency
pattern (R. Ulichney, "The void-and-cluster method for dither array generation", Proc.
SPIE 1913, 1993).  *Clustered dot* (lasers): an 8 x 8 tile holding two dots of a 45°
screen (106 lines per inch at 600 dpi) that grow from their centres, as laser engines
render stably and as PCL's run-length methods compress well (Ulichney, *Digital
Halftoning*, MIT Press 1987, ch. 5).  A threshold dither is stateless, so a band
can be halftoned knowing only its first row number: bands stream independently, which
error diffusion (a serial recurrence over every pixel) cannot do without a per-pixel
loop.  In colour (:func:`dither_kcmy`) black takes the low thresholds of the tile and
cyan, magenta and yellow the thresholds above black's, so colour dots never fall on
black ones and the page averages to exactly the ink asked for (two independent dithers
would overlap and print light).

Conventions: grey is 0 = black .. 255 = white (PWG 5102.4 sGray); ink planes are
0 = no ink .. 255 = full ink; packed one-bit planes are MSB-first with 1 = ink (PCL,
ESC/P2, ESC/POS and PWG "black_1" all use this).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]

TILE = 64
BLUE_NOISE = "blue-noise"
CLUSTERED = "clustered"
#: Tile offsets (rows, columns) per colourant: K, C, M, Y.
PLANE_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (21, 37), (43, 11), (9, 53))


@functools.lru_cache(maxsize=1)
def blue_noise(size: int = TILE, sigma: float = 1.5, seed: int = 0x5EED) -> NDArray[np.int64]:
    """A ``size`` x ``size`` void-and-cluster rank matrix (0 .. size²-1), deterministic.

    The energy of a pattern is its toroidal Gaussian blur; the algorithm repeatedly
    moves/ranks the pixel in the tightest cluster or the largest void.  Each step is an
    ``argmax`` and the addition of one rolled kernel: array operations on the tile.
    """
    n = size * size
    ax = np.arange(size)
    d = np.minimum(ax, size - ax)
    kernel = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma * sigma))

    def splat(energy: NDArray[np.float64], index: int, sign: float) -> None:
        y, x = divmod(index, size)
        energy += sign * np.roll(np.roll(kernel, y, 0), x, 1)

    rng = np.random.default_rng(seed)
    pattern = np.zeros(n, dtype=bool)
    pattern[rng.choice(n, n // 10, replace=False)] = True
    energy = np.zeros((size, size))
    for i in np.flatnonzero(pattern):
        splat(energy, int(i), 1.0)
    flat = energy.reshape(-1)
    # Phase 0: make the initial pattern homogeneous (move cluster -> void until stable).
    while True:
        tight = int(np.argmax(np.where(pattern, flat, -np.inf)))
        pattern[tight] = False
        splat(energy, tight, -1.0)
        void = int(np.argmin(np.where(pattern, np.inf, flat)))
        if void == tight:
            pattern[tight] = True
            splat(energy, tight, 1.0)
            break
        pattern[void] = True
        splat(energy, void, 1.0)
    ones = int(pattern.sum())
    rank = np.zeros(n, dtype=np.int64)
    # Phase 1: rank the initial ones from the tightest cluster down.
    proto, e1 = pattern.copy(), energy.copy()
    f1 = e1.reshape(-1)
    for r in range(ones - 1, -1, -1):
        tight = int(np.argmax(np.where(proto, f1, -np.inf)))
        proto[tight] = False
        splat(e1, tight, -1.0)
        rank[tight] = r
    # Phases 2 and 3: fill the largest voids up to a full tile.
    for r in range(ones, n):
        void = int(np.argmin(np.where(pattern, np.inf, flat)))
        pattern[void] = True
        splat(energy, void, 1.0)
        rank[void] = r
    return rank.reshape(size, size)


@functools.lru_cache(maxsize=1)
def clustered_dot(period: int = 8) -> NDArray[np.int64]:
    """A ``period`` x ``period`` rank matrix with two dots of a 45° screen (centres at the
    corner and the middle of the tile): pixels rank by their distance to the nearest
    centre (toroidal), so each dot grows as a disc until the dots touch, then the white
    holes between them shrink."""
    n = period
    yy, xx = np.mgrid[0:n, 0:n] + 0.5

    def distance(cy: float, cx: float) -> NDArray[np.float64]:
        dy = np.abs(yy - cy)
        dx = np.abs(xx - cx)
        return np.hypot(np.minimum(dy, n - dy), np.minimum(dx, n - dx))

    spot = np.minimum(distance(0, 0), distance(n / 2, n / 2)).ravel()
    order = np.lexsort((np.arange(n * n), spot))
    rank = np.empty(n * n, dtype=np.int64)
    rank[order] = np.arange(n * n)
    return rank.reshape(n, n)


@functools.lru_cache(maxsize=8)
def thresholds(plane: int = 0, screen: str = BLUE_NOISE) -> U8:
    """Thresholds 1..255 for a colourant: a pixel gets ink when ``value > 255 - t``
    (ink planes) or ``grey < t`` (grey), so 0 never and 255 always prints."""
    rank = clustered_dot() if screen == CLUSTERED else blue_noise()
    dy, dx = PLANE_SHIFTS[plane % len(PLANE_SHIFTS)] if screen == BLUE_NOISE else (0, 0)
    t = 1 + (np.roll(rank, (dy, dx), (0, 1)) * 255) // rank.size
    return t.astype(np.uint8)


@functools.lru_cache(maxsize=16)
def _row_tile(plane: int, width: int, screen: str) -> U8:
    """The threshold matrix tiled across ``width`` columns (tile rows x width)."""
    t = thresholds(plane, screen)
    reps = -(-width // t.shape[1])
    return np.ascontiguousarray(np.tile(t, (1, reps))[:, :width])


def threshold_band(rows: int, width: int, y0: int, plane: int = 0,
                   screen: str = BLUE_NOISE) -> U8:
    """The thresholds for band rows ``y0 .. y0 + rows - 1`` of a page."""
    tile = _row_tile(plane, width, screen)
    return tile[(y0 + np.arange(rows)) % tile.shape[0]]


def dither_gray(gray: U8, y0: int, plane: int = 0, screen: str = BLUE_NOISE) -> U8:
    """Grey band (0 black .. 255 white) -> packed one-bit ink rows (1 = black dot)."""
    rows, width = gray.shape
    ink = gray < threshold_band(rows, width, y0, plane, screen)
    return np.packbits(ink, axis=1)


def dither_kcmy(k: U8, c: U8, m: U8, y: U8, y0: int) -> U8:
    """Ink bands (0 none .. 255 full) -> packed planes ``(4, rows, bytes)``, K C M Y.

    With one tile value ``u`` (0..254) per pixel: black where ``u < K``; a colour where
    ``K <= u < K + colour``.  Each channel's coverage is then K + colour exactly (capped
    at full), which is what the subtractive model R = 255 - C - K asks for."""
    rows, width = k.shape
    u = (255 - threshold_band(rows, width, y0, 0)).astype(np.int16)
    black = k.astype(np.int16)
    planes = [np.packbits(u < black, axis=1)]
    above = u >= black
    for ink in (c, m, y):
        planes.append(np.packbits(above & (u < black + ink), axis=1))
    return np.stack(planes)


def dither_ink(ink: U8, y0: int, plane: int = 0) -> U8:
    """Ink band (0 none .. 255 full) -> packed one-bit rows."""
    rows, width = ink.shape
    # ink > 255 - t  <=>  (255 - ink) < t: the grey rule on the complement.
    dots = np.invert(ink) < threshold_band(rows, width, y0, plane)
    return np.packbits(dots, axis=1)


# -- colour conversion ----------------------------------------------------------------------

def rgb_to_gray(rgb: U8) -> U8:
    """sRGB -> grey with Rec. 601 luma weights (77, 150, 29)/256, integer arithmetic."""
    r = rgb[..., 0].astype(np.uint16)
    g = rgb[..., 1].astype(np.uint16)
    b = rgb[..., 2].astype(np.uint16)
    return ((77 * r + 150 * g + 29 * b + 128) >> 8).astype(np.uint8)


def cmyk_to_rgb(cmyk: U8) -> U8:
    """Device CMYK (0 = no ink) -> RGB by the naive complement, as CUPS does."""
    k = cmyk[..., 3].astype(np.uint16)
    out = np.empty((*cmyk.shape[:-1], 3), dtype=np.uint8)
    for i in range(3):
        out[..., i] = (255 - np.minimum(255, cmyk[..., i].astype(np.uint16) + k)).astype(
            np.uint8)
    return out


def gray_to_rgb(gray: U8) -> U8:
    return np.repeat(gray[..., None], 3, axis=-1)


def unpack_black(packed: U8, width: int) -> U8:
    """PWG black_1 rows (1 = black) -> grey (0 black, 255 white)."""
    bits = np.unpackbits(packed, axis=1, count=width)
    return (1 - bits) * np.uint8(255)


def rgb_to_kcmy(rgb: U8) -> tuple[U8, U8, U8, U8]:
    """sRGB -> K, C, M, Y ink with full grey-component replacement: neutral greys and
    text print with black only, colours with the remaining C, M, Y."""
    c = np.invert(rgb[..., 0])
    m = np.invert(rgb[..., 1])
    y = np.invert(rgb[..., 2])
    k = np.minimum(np.minimum(c, m), y)
    return (k, c - k, m - k, y - k)


def kcmy_to_rgb(k: U8, c: U8, m: U8, y: U8) -> U8:
    """Ink planes (0/1 or 0..255) -> the RGB a page would show (for the emulator)."""
    scale = 255 if max(int(k.max(initial=0)), int(c.max(initial=0)), int(m.max(initial=0)),
                       int(y.max(initial=0))) <= 1 else 1
    kk = k.astype(np.uint16) * scale
    out = np.empty((*k.shape, 3), dtype=np.uint8)
    for i, plane in enumerate((c, m, y)):
        out[..., i] = (255 - np.minimum(255, plane.astype(np.uint16) * scale + kk)).astype(
            np.uint8)
    return out
