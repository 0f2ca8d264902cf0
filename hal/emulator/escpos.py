"""ESC/POS interpreter of the emulated printer (a thermal receipt printer).

EPSON ESC/POS Command Reference: ``ESC @`` initialise, ``GS v 0 m xL xH yL yH d...``
raster bit image, ``ESC J n`` feed n dots, ``ESC d n`` feed n lines, LF, ``GS V m [n]``
cut (m = 0, 1, 48, 49 take no argument; 65, 66 take one).  A receipt is everything
between two cuts; its image is as tall as what was printed and fed.  Other ``ESC``/``GS``
commands used for text (``ESC !``, ``ESC a``, ``GS !`` ...) take one argument and are
skipped; text is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hal.emulator.base import Canvas, Interpreter

#: Dots per line feed (default line spacing ~1/6 inch at 203 dpi).
LINE = 30
RESOLUTION = 203


class EscPosInterpreter(Interpreter):
    language = "escpos"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None) -> None:
        super().__init__(job_dir, eject_ok, options)
        roll = int(self.options.get("roll_width", "80") or 80)
        self.width = 384 if roll == 58 else 576
        self.blocks: list[tuple[int, np.ndarray]] = []
        self.y = 0

    def _eject(self, pos: int) -> None:
        height = max(1, self.y)
        canvas = Canvas(self.width, height, RESOLUTION, 1)
        for y, rows in self.blocks:
            canvas.put(0, y, 0, rows)
        self.emit_page(canvas, pos)
        self.blocks = []
        self.y = 0

    def finish(self) -> None:
        if self.blocks:
            self._eject(-1)

    def step(self, buf: bytes, pos: int) -> int | None:
        b = buf[pos]
        end = len(buf)
        if b == 0x0A:
            self.y += LINE
            return pos + 1
        if b not in (0x1B, 0x1D):
            nxt = [i for i in (buf.find(b"\x1b", pos), buf.find(b"\x1d", pos),
                               buf.find(b"\n", pos)) if i != -1]
            return min(nxt) if nxt else end
        if pos + 1 >= end:
            return None
        c = buf[pos + 1]
        if b == 0x1D and c == ord("v"):
            if pos + 8 > end:
                return None
            xb = buf[pos + 4] | buf[pos + 5] << 8
            rows = buf[pos + 6] | buf[pos + 7] << 8
            size = xb * rows
            if pos + 8 + size > end:
                return None
            data = np.frombuffer(buf, dtype=np.uint8, count=size, offset=pos + 8)
            self.blocks.append((self.y, data.reshape(rows, xb).copy()))
            self.y += rows
            return pos + 8 + size
        if b == 0x1D and c == ord("V"):
            if pos + 2 >= end:
                return None
            mode = buf[pos + 2]
            length = 4 if mode in (65, 66) else 3
            if pos + length > end:
                return None
            self._eject(pos)
            return pos + length
        if b == 0x1B and c == ord("@"):
            return pos + 2
        if pos + 2 >= end:
            return None
        if b == 0x1B and c == ord("J"):
            self.y += buf[pos + 2]
        elif b == 0x1B and c == ord("d"):
            self.y += buf[pos + 2] * LINE
        return pos + 3
