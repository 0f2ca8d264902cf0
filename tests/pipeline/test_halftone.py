"""The blue-noise halftone: right tone, no low-frequency pattern, bands join seamlessly."""

from __future__ import annotations

import numpy as np

from firmware.pipeline import halftone


def test_matrix_is_a_deterministic_permutation() -> None:
    rank = halftone.blue_noise()
    assert sorted(rank.ravel().tolist()) == list(range(64 * 64))
    assert np.array_equal(rank, halftone.blue_noise.__wrapped__())


def test_every_grey_level_prints_its_tone() -> None:
    levels = np.repeat(np.arange(256, dtype=np.uint8), 64)[None, :].repeat(64, axis=0)
    ink = np.unpackbits(halftone.dither_gray(levels, 0), axis=1)
    coverage = ink.reshape(64, 256, 64).mean(axis=(0, 2))
    expected = (255 - np.arange(256)) / 255
    assert np.abs(coverage - expected).max() < 1 / 255 + 1e-9
    assert coverage[0] == 1.0 and coverage[255] == 0.0  # black is solid, white is clean


def _low_frequency_share(pattern: np.ndarray) -> float:
    spectrum = np.abs(np.fft.fft2(pattern - pattern.mean())) ** 2
    low = spectrum[:6, :6].sum() + spectrum[-5:, :6].sum() + spectrum[:6, -5:].sum() \
        + spectrum[-5:, -5:].sum()
    return float(low / spectrum.sum())


def test_blue_noise_has_no_low_frequency_energy() -> None:
    rank = halftone.blue_noise()
    white = np.random.default_rng(1).permutation(64 * 64).reshape(64, 64)
    for level in (512, 2048, 3584):  # 12 %, 50 %, 88 % coverage
        assert _low_frequency_share((rank < level).astype(float)) < \
            0.1 * _low_frequency_share((white < level).astype(float))


def test_bands_join_seamlessly_and_planes_differ() -> None:
    gray = np.random.default_rng(2).integers(0, 256, (200, 130)).astype(np.uint8)
    whole = halftone.dither_gray(gray, 17)
    parts = np.concatenate([halftone.dither_gray(gray[:77], 17),
                            halftone.dither_gray(gray[77:], 17 + 77)])
    assert np.array_equal(whole, parts)
    flat = np.full((64, 64), 128, dtype=np.uint8)
    planes = [halftone.dither_ink(flat, 0, p) for p in range(4)]
    assert all(not np.array_equal(planes[0], other) for other in planes[1:])


def test_colour_dots_never_fall_on_black() -> None:
    k = np.full((64, 128), 60, dtype=np.uint8)
    c = np.full((64, 128), 100, dtype=np.uint8)
    m = np.full((64, 128), 200, dtype=np.uint8)  # K + M > full: capped
    y = np.zeros((64, 128), dtype=np.uint8)
    planes = np.unpackbits(halftone.dither_kcmy(k, c, m, y, 5), axis=2).astype(bool)
    assert not (planes[0] & planes[1]).any() and not (planes[0] & planes[2]).any()
    coverage = [(planes[0] | planes[p]).mean() for p in (1, 2, 3)]
    assert abs(coverage[0] - 160 / 255) < 0.01 and coverage[1] > 0.99
    assert abs(coverage[2] - 60 / 255) < 0.01


def test_colour_separation() -> None:
    rgb = np.array([[[128, 128, 128], [255, 0, 0], [255, 255, 255]]], dtype=np.uint8)
    k, c, m, y = halftone.rgb_to_kcmy(rgb)
    assert (k[0, 0], c[0, 0], m[0, 0], y[0, 0]) == (127, 0, 0, 0)  # neutral: black only
    assert (k[0, 1], c[0, 1], m[0, 1], y[0, 1]) == (0, 0, 255, 255)  # red = M + Y
    assert (k[0, 2], c[0, 2], m[0, 2], y[0, 2]) == (0, 0, 0, 0)
    assert halftone.rgb_to_gray(rgb)[0].tolist() == [128, 77, 255]


def test_clustered_screen_tone_and_dots() -> None:
    rank = halftone.clustered_dot()
    assert sorted(rank.ravel().tolist()) == list(range(64))
    levels = np.repeat(np.arange(256, dtype=np.uint8), 8)[None, :].repeat(64, axis=0)
    ink = np.unpackbits(halftone.dither_gray(levels, 3, screen=halftone.CLUSTERED), axis=1)
    coverage = ink.reshape(64, 256, 8).mean(axis=(0, 2))
    # 64 thresholds: every level within one step of its tone, black solid, white clean.
    assert np.abs(coverage - (255 - np.arange(256)) / 255).max() <= 1 / 64 + 1e-9
    assert coverage[0] == 1.0 and coverage[255] == 0.0
    # At 20 % a tile holds two compact dots: far fewer ink/paper edges than blue noise.
    flat = np.full((64, 64), 204, dtype=np.uint8)

    def edges(screen: str) -> int:
        bits = np.unpackbits(halftone.dither_gray(flat, 0, screen=screen), axis=1)
        return int(np.abs(np.diff(bits.astype(int), axis=1)).sum())

    assert edges(halftone.CLUSTERED) < 0.7 * edges(halftone.BLUE_NOISE)
