"""What the emulated printer's interpreters share: streaming input, paper, page images.

An interpreter consumes the byte stream of one job as it arrives (:meth:`feed` takes any
split of the stream), composes each page on a :class:`Canvas` of one-bit ink planes and
writes it to ``page-N.png`` when the page is ejected.  Every eject asks the port for
paper first (:attr:`Interpreter.eject_ok`); without paper the interpreter stops *before*
the command that would eject, and :meth:`feed` reports how many bytes it took, so the
port stalls there exactly as a real printer stops taking data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

U8 = NDArray[np.uint8]

def _palette() -> list[tuple[int, int, int]]:
    """Index K<<3 | C<<2 | M<<1 | Y -> the colour the inks make on white paper."""
    colors = []
    for index in range(16):
        k, c, m, y = (index >> 3) & 1, (index >> 2) & 1, (index >> 1) & 1, index & 1
        colors.append((0, 0, 0) if k else (255 - 255 * c, 255 - 255 * m, 255 - 255 * y))
    return colors


_PALETTE = _palette()


class PaperOut(Exception):
    """Raised inside an interpreter when a page cannot be ejected (no paper)."""

    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


class Canvas:
    """One sheet side: ``planes`` one-bit ink planes (K, C, M, Y), packed MSB first."""

    def __init__(self, width: int, height: int, resolution: int, planes: int = 1) -> None:
        self.width = max(8, width)
        self.height = max(1, height)
        self.resolution = resolution
        self.stride = (self.width + 7) // 8
        self.planes = np.zeros((planes, self.height, self.stride), dtype=np.uint8)
        self.marked = False

    def put(self, plane: int, y: int, x: int, rows: U8, width: int | None = None) -> None:
        """OR packed ink ``rows`` (n, bytes) onto ``plane`` at pixel (x, y), clipped."""
        if rows.size == 0 or plane >= self.planes.shape[0]:
            return
        n = rows.shape[0]
        bits = np.unpackbits(rows, axis=1)
        if width is not None:
            bits = bits[:, :width]
        y0, y1 = max(0, y), min(self.height, y + n)
        x0, x1 = max(0, x), min(self.width, x + bits.shape[1])
        if y1 <= y0 or x1 <= x0:
            return
        part = bits[y0 - y:y1 - y, x0 - x:x1 - x]
        # Align to the canvas bytes: pad to whole bytes from x0 rounded down.
        lead = x0 % 8
        padded = np.zeros((part.shape[0], lead + part.shape[1] + 7), dtype=np.uint8)
        padded[:, lead:lead + part.shape[1]] = part
        packed = np.packbits(padded[:, : (lead + part.shape[1] + 7) // 8 * 8], axis=1)
        bx = x0 // 8
        bw = min(packed.shape[1], self.stride - bx)
        self.planes[plane, y0:y1, bx:bx + bw] |= packed[:, :bw]
        if part.any():
            self.marked = True

    def save(self, path: Path) -> None:
        """PNG: one-bit grey for black only, a 16-colour palette (ink combinations)
        otherwise; written from the packed planes (see :mod:`hal.emulator.png`)."""
        from hal.emulator.png import write_png

        colored = self.planes.shape[0] > 1 and bool(self.planes[1:].any())
        planes = self.planes if colored else self.planes[:1]
        write_png(path, planes, self.width, self.resolution, _PALETTE if colored else None)


class Interpreter:
    """Base class: stream handling and page output; subclasses parse one language."""

    language = ""

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None) -> None:
        self.job_dir = job_dir
        #: Called before a sheet side leaves: ``eject_ok(new_sheet)`` is False when
        #: there is no paper for a new sheet (then nothing is counted).
        self.eject_ok = eject_ok
        self.options = options or {}
        self.render = self.options.get("render", "1").lower() not in ("0", "false", "no")
        self.pages = 0
        self.sheets = 0
        self._pending = b""

    # -- the stream
    def feed(self, data: bytes) -> int:
        """Consume ``data``; returns how many of its bytes were taken (fewer when the
        paper ran out before a page could be ejected)."""
        old = len(self._pending)
        buf = self._pending + data if old else data
        pos = 0
        try:
            while pos < len(buf):
                new = self.step(buf, pos)
                if new is None:
                    break
                pos = new
        except PaperOut as stop:
            if stop.pos >= old:
                self._pending = b""
                return stop.pos - old
            self._pending = buf[stop.pos:old]
            return 0
        self._pending = buf[pos:]
        return len(data)

    def step(self, buf: bytes, pos: int) -> int | None:
        """Interpret one command at ``pos``; the position after it, or None when the
        command is not complete in ``buf`` yet."""
        raise NotImplementedError

    def finish(self) -> None:
        """End of the job: a page with marks still on it is ejected."""

    # -- pages
    def emit_page(self, canvas: Canvas | None, pos: int, new_sheet: bool = True) -> None:
        """Eject a sheet side (asking for paper); write its PNG.  ``pos`` < 0: at the end
        of a job, where the printer cannot wait (a page without paper is lost)."""
        if not self.eject_ok(new_sheet):
            if pos < 0:
                log.warning("emulator: no paper for the last page of the job")
                return
            raise PaperOut(pos)
        self.pages += 1
        if new_sheet:
            self.sheets += 1
        if self.render and canvas is not None:
            try:
                canvas.save(self.job_dir / f"page-{self.pages}.png")
            except OSError as exc:  # a full disk must not stop the printer
                log.warning("emulator: cannot write page %d: %s", self.pages, exc)
