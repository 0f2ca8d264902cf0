"""JPEG (``image/jpeg``) reader: Pillow decodes, scales, rotates and places the photo.

The image is decoded once, at no more than the resolution the page needs (Pillow's
``draft`` lets the JPEG decoder scale by 1/2, 1/4 or 1/8 while decoding), turned per the
Exif ``Orientation`` tag (0x0112; CIPA DC-008, Exif 2.3) and
``orientation-requested``, then resampled band by band with ``Image.resize(box=...)`` —
Pillow's C resampler — onto the printable area (print-scaling, see
:mod:`firmware.pipeline.layout`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firmware.pipeline.layout import Placement, place, rotation_for
from firmware.pipeline.page import U8, DevicePage, Page, Space, blank
from firmware.pipeline.readers.base import DocumentError, Reader, RenderContext

#: Largest decoded image kept (pixels), against decompression bombs.
MAX_PIXELS = 80_000_000

#: EXIF orientation -> (clockwise degrees, mirrored).
EXIF_TURNS = {1: (0, False), 2: (0, True), 3: (180, False), 4: (180, True),
              5: (90, True), 6: (90, False), 7: (270, True), 8: (270, False)}


def _turn(image: Any, degrees: int) -> Any:
    from PIL import Image

    turns = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
             270: Image.Transpose.ROTATE_90}
    return image.transpose(turns[degrees]) if degrees in turns else image


class ImagePage(Page):
    """A decoded image resampled onto device rows on demand."""

    def __init__(self, device: DevicePage, image: Any, placement: Placement) -> None:
        super().__init__(device)
        self.image = image
        self.placement = placement
        self.space = Space.RGB if image.mode == "RGB" else Space.GRAY

    def render(self, y0: int, y1: int, x0: int, x1: int) -> U8:
        import numpy as np
        from PIL import Image

        out = blank(self.space, y1 - y0, x1 - x0)
        p = self.placement
        bx0, by0, bx1, by1 = p.device_box
        # The part of the band the image covers, in whole device pixels.
        cx0, cy0 = max(x0, int(np.ceil(bx0 - 0.5))), max(y0, int(np.ceil(by0 - 0.5)))
        cx1, cy1 = min(x1, int(np.floor(bx1 - 0.5)) + 1), min(y1, int(np.floor(by1 - 0.5)) + 1)
        if cx1 <= cx0 or cy1 <= cy0:
            return out
        iw, ih = self.image.size
        box = (
            min(iw, max(0.0, (cx0 - p.x) / p.scale_x)),
            min(ih, max(0.0, (cy0 - p.y) / p.scale_y)),
            min(iw, max(0.0, (cx1 - p.x) / p.scale_x)),
            min(ih, max(0.0, (cy1 - p.y) / p.scale_y)),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            return out
        part = self.image.resize((cx1 - cx0, cy1 - cy0), Image.Resampling.BILINEAR, box=box,
                                 reducing_gap=None)
        out[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = np.asarray(part)
        return out

    def close(self) -> None:
        self.image.close()


class JpegReader(Reader):
    formats = ("image/jpeg",)

    @classmethod
    def available(cls) -> bool:
        return importlib.util.find_spec("PIL") is not None

    def pages(self, path: Path, ctx: RenderContext) -> Iterator[Page]:
        from PIL import Image, UnidentifiedImageError

        if not ctx.opts.page_selected(1):
            return
        try:
            image = Image.open(path)
        except (UnidentifiedImageError, OSError) as exc:
            raise DocumentError(f"unreadable JPEG: {exc}") from None
        with image:
            if image.format != "JPEG":
                raise DocumentError(f"not a JPEG image ({image.format})")
            if image.width * image.height > MAX_PIXELS:
                raise DocumentError(f"image too large ({image.width}x{image.height})")
            exif_turn, mirrored = EXIF_TURNS.get(image.getexif().get(0x0112, 1), (0, False))
            width, height = image.size
            if exif_turn in (90, 270):
                width, height = height, width
            dpi = image.info.get("dpi", (72, 72))
            dpi_x = float(dpi[0]) if dpi and float(dpi[0]) > 1 else 72.0
            dpi_y = float(dpi[1]) if dpi and float(dpi[1]) > 1 else dpi_x
            device = ctx.device_page(None)
            res = device.resolution
            turn = rotation_for(ctx.opts, width, height, device)
            if turn in (90, 270):
                width, height, dpi_x, dpi_y = height, width, dpi_y, dpi_x
            placement = place(device, width, height, res / dpi_x, res / dpi_y,
                              ctx.opts.scaling, image=True, rotation=turn)
            color = ctx.opts.wants_color(ctx.caps) and image.mode not in ("L", "1")
            mode = "RGB" if color else "L"
            # Decode no larger than the placed size needs (in the file's orientation).
            need_w = width * placement.scale_x
            need_h = height * placement.scale_y
            if (exif_turn + turn) % 180 == 90:
                need_w, need_h = need_h, need_w
            try:
                image.draft(mode, (max(1, int(need_w)), max(1, int(need_h))))
                image.load()
            except OSError as exc:
                raise DocumentError(f"damaged JPEG: {exc}") from None
            decoded = image.convert(mode) if image.mode != mode else image
            if mirrored:
                decoded = decoded.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            decoded = _turn(decoded, (exif_turn + turn) % 360)
            # Placement was computed in the image's own pixels; draft may have shrunk it.
            shrink_x = decoded.width / width
            shrink_y = decoded.height / height
            placement = Placement(turn, placement.scale_x / shrink_x,
                                  placement.scale_y / shrink_y, placement.x, placement.y,
                                  decoded.width, decoded.height)
            page = ImagePage(device, decoded, placement)
            try:
                yield page
            finally:
                page.close()
