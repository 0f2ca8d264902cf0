"""PostScript and PDF as the emulated printer keeps them: as received.

A PostScript or PDF printer interprets the whole program; the emulator stores it
(``received.bin``) and counts its pages: PostScript by its DSC ``%%Page:`` comments
(Adobe TN 5001, Document Structuring Conventions 3.0), PDF by its page tree (PDFium).
For a person to look at, pages are rendered to ``page-N.png`` when a renderer is there:
PDFium for PDF, Ghostscript (if installed) for PostScript, at ``render_dpi`` (default 150).
Pages count as sheets two to a sheet when the program asks for ``/Duplex true``.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from hal.emulator.base import Interpreter

log = logging.getLogger(__name__)

_PAGE = re.compile(rb"(?:^|[\r\n])%%Page:")
_DUPLEX = re.compile(rb"/Duplex\s+true")


class DocumentInterpreter(Interpreter):
    """Keeps the stream; counts and renders pages when the job ends."""

    language = "document"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None) -> None:
        super().__init__(job_dir, eject_ok, options)
        self.dpi = int(self.options.get("render_dpi", "150") or 150)

    def step(self, buf: bytes, pos: int) -> int | None:
        return len(buf)

    def source(self) -> Path:
        return self.job_dir / "received.bin"

    def _eject_all(self, count: int, duplex: bool) -> None:
        for page in range(count):
            self.emit_page(None, -1, new_sheet=not duplex or page % 2 == 0)


class PostScriptInterpreter(DocumentInterpreter):
    language = "postscript"

    def __init__(self, job_dir: Path, eject_ok: Callable[[bool], bool],
                 options: dict[str, str] | None = None) -> None:
        super().__init__(job_dir, eject_ok, options)
        self.count = 0
        self.duplex = False
        self._tail = b""

    def feed(self, data: bytes) -> int:
        # Count page comments as they stream past (a comment may straddle two chunks).
        window = self._tail + data
        self.count += len(_PAGE.findall(window)) - len(_PAGE.findall(self._tail))
        self.duplex = self.duplex or bool(_DUPLEX.search(window))
        self._tail = window[-16:]
        return len(data)

    def finish(self) -> None:
        count = self.count or 1
        self._eject_all(count, self.duplex)
        gs = shutil.which("gs")
        if not self.render or gs is None:
            return
        try:
            subprocess.run(
                [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m",
                 f"-r{self.dpi}", f"-sOutputFile={self.job_dir / 'page-%d.png'}",
                 str(self.source())],
                check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("emulator: Ghostscript could not render the job: %s", exc)


class PdfInterpreter(DocumentInterpreter):
    language = "pdf"

    def finish(self) -> None:
        import pypdfium2 as pdfium

        from hal.pdfium import PDFIUM_LOCK

        try:
            with PDFIUM_LOCK:
                pdf = pdfium.PdfDocument(str(self.source()))
        except (pdfium.PdfiumError, OSError) as exc:
            log.warning("emulator: received PDF is unreadable: %s", exc)
            self._eject_all(1, False)
            return
        try:
            with PDFIUM_LOCK:
                count = len(pdf)
            for index in range(count):
                if not self.eject_ok(True):
                    break
                self.pages += 1
                self.sheets += 1
                if not self.render:
                    continue
                with PDFIUM_LOCK:
                    page = pdf[index]
                    try:
                        image = page.render(scale=self.dpi / 72, grayscale=True).to_pil()
                    finally:
                        page.close()
                image.save(self.job_dir / f"page-{self.pages}.png", dpi=(self.dpi, self.dpi))
        finally:
            with PDFIUM_LOCK:
                pdf.close()


class OpaqueInterpreter(DocumentInterpreter):
    """A format no printer reads (PWG/Apple raster, JPEG sent raw): one page, as the
    emulator always counted it."""

    language = "opaque"

    def finish(self) -> None:
        self._eject_all(1, False)
