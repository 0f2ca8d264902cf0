"""Shared by the pipeline tests: test pages, the image metric, printing through IPP.

The metric (:func:`blurred_mae`): both images as grey 0..255, each blurred with a
Gaussian of sigma = resolution / 100 pixels (0.25 mm: wider than any halftone cell, far
narrower than the test pages' features; pages above 150 dpi are first box-averaged down
to about 150 dpi, which blurs too), then the mean absolute difference over the printable
area inset by 3 sigma.  A correct halftoned page scores about 1-3; a page
shifted by half a millimetre, with a band missing or with inverted rows scores far above
:data:`THRESHOLD` (the negative tests prove it for each kind of breakage).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from firmware.ipp import DelimiterTag, Operation, make_attribute
from firmware.media import parse_media
from tests.daemon import Daemon
from tests.ipp.client import request, send

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

#: Blurred mean absolute error (grey levels out of 255) a page must stay under.
THRESHOLD = 6.0


def page_size_px(media: str, res: int) -> tuple[int, int]:
    size = parse_media(media)
    return round(size.width * res / 2540), round(size.length * res / 2540)


def printable_box(res: int, size: tuple[int, int], margins: tuple[int, int, int, int],
                  ) -> tuple[int, int, int, int]:
    """left, top, right, bottom in pixels from IPP margins (bottom, left, right, top)."""
    bottom, left, right, top = (round(m * res / 2540) for m in margins)
    return left, top, size[0] - right, size[1] - bottom


def sample_page(width: int, height: int, seed: int = 7) -> U8:
    """A grey page with structure at every scale the metric sees: ramps, solid blocks,
    bars and an irregular pattern of tiles (so a shift or a lost band shows)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    page = np.full((height, width), 255, dtype=np.uint8)
    band = height // 6
    page[:band] = (xx[:band] * 255 // max(1, width - 1)).astype(np.uint8)  # horizontal ramp
    page[band:2 * band] = (255 - (yy[band:2 * band] - band) * 255 // band).astype(np.uint8)
    tile = max(8, width // 24)
    tiles = rng.integers(0, 4, (height // tile + 1, width // tile + 1)) * 85
    page[2 * band:4 * band] = tiles[yy[2 * band:4 * band] // tile,
                                    xx[2 * band:4 * band] // tile].astype(np.uint8)
    bars = ((xx[4 * band:5 * band] // max(4, width // 60)) % 2) * 255
    page[4 * band:5 * band] = bars.astype(np.uint8)
    page[5 * band:] = 230
    page[5 * band + band // 4:5 * band + band // 2, width // 8:width * 7 // 8] = 0
    # White lines between the blocks, as between paragraphs (blank raster rows).
    for k in range(1, 6):
        page[k * band - band // 10:k * band] = 255
    return page


def sample_photo(width: int, height: int) -> Image.Image:
    """An RGB picture: colour ramps, a disc and blocks of saturated colour."""
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[..., 0] = (xx * 255 // max(1, width - 1)).astype(np.uint8)
    rgb[..., 1] = (yy * 255 // max(1, height - 1)).astype(np.uint8)
    rgb[..., 2] = 160
    disc = (xx - width * 0.3) ** 2 + (yy - height * 0.4) ** 2 < (min(width, height) * 0.2) ** 2
    rgb[disc] = (250, 220, 40)
    rgb[height * 3 // 4:, : width // 3] = (200, 20, 20)
    rgb[height * 3 // 4:, width // 3: 2 * width // 3] = (20, 150, 40)
    rgb[height * 3 // 4:, 2 * width // 3:] = (10, 10, 10)
    return Image.fromarray(rgb, "RGB")


def jpeg_bytes(image: Image.Image, quality: int = 92) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def load_gray(path: Path) -> U8:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def fit_sheet(gray: F64 | U8, height: int, width: int) -> F64:
    """``gray`` cut or padded with white to ``height`` x ``width`` (renderers round a
    page's size up or down by a pixel)."""
    out = np.full((height, width), 255.0)
    h, w = min(height, gray.shape[0]), min(width, gray.shape[1])
    out[:h, :w] = gray[:h, :w]
    return out


def _image(gray: F64 | U8) -> Image.Image:
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(gray), "L")


def blurred_mae(printed: F64 | U8, expected: F64 | U8, res: int,
                box: tuple[int, int, int, int]) -> float:
    """The metric of this module's docstring; ``box`` is the printable area."""
    h = min(printed.shape[0], expected.shape[0])
    w = min(printed.shape[1], expected.shape[1])
    factor = max(1, round(res / 150))
    sigma = res / 100 / factor
    blurred = []
    for gray in (printed[:h, :w], expected[:h, :w]):
        image = _image(gray)
        if factor > 1:
            image = image.reduce(factor)
        blurred.append(np.asarray(image.filter(ImageFilter.GaussianBlur(sigma)),
                                  dtype=np.int16))
    inset = int(3 * sigma) + 1
    left, top, right, bottom = (v // factor for v in box)
    hh, ww = blurred[0].shape
    region = (slice(top + inset, min(hh, bottom) - inset),
              slice(left + inset, min(ww, right) - inset))
    return float(np.abs(blurred[0][region] - blurred[1][region]).mean())


def whiten_outside(page: F64 | U8, box: tuple[int, int, int, int]) -> F64:
    out = np.full(page.shape, 255.0)
    left, top, right, bottom = box
    out[top:bottom, left:right] = page[top:bottom, left:right]
    return out


def place_image(image: Image.Image, size: tuple[int, int], box: tuple[int, int, int, int],
                ) -> F64:
    """The page a photo should print as with print-scaling=fit: scaled to the printable
    area keeping its aspect, centred in it (PWG 5100.13), computed here independently."""
    left, top, right, bottom = box
    aw, ah = right - left, bottom - top
    scale = min(aw / image.width, ah / image.height)
    w, h = round(image.width * scale), round(image.height * scale)
    page = Image.new("L", size, 255)
    page.paste(image.convert("L").resize((w, h), Image.Resampling.BILINEAR),
               (round(left + (aw - w) / 2), round(top + (ah - h) / 2)))
    return np.asarray(page, dtype=np.float64)


# -- IPP ------------------------------------------------------------------------------------

def print_job(daemon: Daemon, data: bytes, fmt: str, **job: Any) -> int:
    """Print-Job with ``job`` as job template attributes (names with _ for -)."""
    msg = request(Operation.PRINT_JOB, daemon.uri, document_format=fmt, job_name="pipeline")
    if job:
        group = msg.add_group(DelimiterTag.JOB)
        for name, value in job.items():
            group.append(make_attribute(name.replace("_", "-"), value))
    reply = send(daemon.ipp_port, msg, data)
    assert reply.status == 0, (reply.status, reply.find("status-message"),
                               reply.message and reply.message.groups)
    return int(reply.find("job-id")[0])


def job_attributes(daemon: Daemon, job_id: int, *names: str) -> dict[str, Any]:
    msg = request(Operation.GET_JOB_ATTRIBUTES, daemon.uri, job_id=job_id,
                  requested_attributes=list(names))
    reply = send(daemon.ipp_port, msg)
    return {name: (reply.find(name) or [None])[0] for name in names}


def printer_attributes(daemon: Daemon, *names: str) -> dict[str, list[Any]]:
    msg = request(Operation.GET_PRINTER_ATTRIBUTES, daemon.uri,
                  requested_attributes=list(names))
    reply = send(daemon.ipp_port, msg)
    return {name: reply.find(name) for name in names}


def printed_pages(daemon: Daemon, job_id: int) -> list[Path]:
    pages = (daemon.state_dir / "output" / str(job_id)).glob("page-*.png")
    return sorted(pages, key=lambda p: int(p.stem.split("-")[1]))
