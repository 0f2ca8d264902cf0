"""The printer's icon set (printer-icons, PWG 5100.13 §6.6.9; the favicon), drawn once."""

from __future__ import annotations

import io
from functools import cache

from aiohttp import web

SIZES = (48, 128, 512)


@cache
def icon_png(size: int) -> bytes:
    """A printer pictogram: body, paper in, paper out, status light."""
    from PIL import Image, ImageDraw  # on the first request: Pillow is not idle weight

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = size / 48
    draw.rectangle((12 * s, 4 * s, 36 * s, 18 * s), fill=(255, 255, 255), outline=(60, 60, 60),
                   width=max(1, round(s)))
    draw.rounded_rectangle((4 * s, 16 * s, 44 * s, 36 * s), radius=4 * s, fill=(45, 90, 160))
    draw.rectangle((12 * s, 30 * s, 36 * s, 44 * s), fill=(255, 255, 255), outline=(60, 60, 60),
                   width=max(1, round(s)))
    for i in range(3):
        y = (34 + 3 * i) * s
        draw.line((15 * s, y, 33 * s, y), fill=(150, 150, 150), width=max(1, round(s)))
    draw.ellipse((37 * s, 20 * s, 41 * s, 24 * s), fill=(80, 220, 120))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


async def icon(request: web.Request) -> web.Response:
    size = int(request.match_info.get("size", "48"))
    if size not in SIZES:
        raise web.HTTPNotFound()
    return web.Response(body=icon_png(size), content_type="image/png",
                        headers={"Cache-Control": "max-age=86400"})


async def favicon(request: web.Request) -> web.Response:
    return web.Response(body=icon_png(48), content_type="image/png")


def add_icon_routes(app: web.Application) -> None:
    app.router.add_get(r"/icon-{size:\d+}.png", icon)
    app.router.add_get("/favicon.ico", favicon)
