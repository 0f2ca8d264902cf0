"""The process's one PDFium: a lock every user of pypdfium2 takes.

PDFium is not thread-safe, and a process has one copy of it, whoever calls it: the
pipeline's PDF reader (:mod:`firmware.pipeline.readers.pdf`) and the emulated printer,
which renders the PDF it receives (:mod:`hal.emulator.document`), may run in threads of
the same daemon.  The lock lives here, in the lower layer, so that both can take it
without the hardware layer importing the firmware.
"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.Lock()

__all__ = ["PDFIUM_LOCK"]
