"""Interpreters for what the emulated printer receives, one file per language.

The emulated printer's ``language`` option (board profile or config) says what it is:
a PCL 5 monochrome laser (default), a PCL 3 colour inkjet, an ESC/P2 inkjet, an ESC/POS
receipt printer or a PostScript printer.  Its IEEE 1284 device ID follows, so the
firmware picks the matching driver exactly as it would for a real printer.  Like most
real printers it recognises PDF and PostScript jobs by their first bytes whatever its
language (keeping them as received), and counts raster formats that no printer reads
(PWG, Apple raster, JPEG sent raw) as one page, as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hal.emulator.base import Interpreter

DEFAULT_LANGUAGE = "pcl5"

#: language -> (module, class, keyword arguments).  The interpreters (numpy and all) are
#: imported when the emulated printer first receives a job, not when it is configured.
LANGUAGES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "pcl5": ("hal.emulator.pcl", "PclInterpreter", {}),
    "pcl3": ("hal.emulator.pcl", "PclInterpreter", {"color": True}),
    "escp2": ("hal.emulator.escp2", "EscP2Interpreter", {}),
    "escpos": ("hal.emulator.escpos", "EscPosInterpreter", {}),
    "postscript": ("hal.emulator.document", "PostScriptInterpreter", {}),
}

#: IEEE 1284 device IDs (MFG, MDL, CMD) of the emulated printers.
DEVICE_IDS: dict[str, str] = {
    "pcl5": "MFG:Printbridge;MDL:Emulated LaserJet;CMD:PCL,PJL;CLS:PRINTER;"
            "DES:Printbridge emulated 20 ppm monochrome laser;",
    "pcl3": "MFG:Printbridge;MDL:Emulated DeskJet;CMD:PCL3,PCL3GUI,PJL;CLS:PRINTER;"
            "DES:Printbridge emulated colour inkjet;",
    "escp2": "MFG:EPSON;MDL:Emulated Stylus;CMD:ESCPL2,BDC;CLS:PRINTER;"
             "DES:Printbridge emulated ESC/P2 inkjet;",
    "escpos": "MFG:EPSON;MDL:Emulated TM Receipt;CMD:ESC/POS;CLS:PRINTER;"
              "DES:Printbridge emulated thermal receipt printer;",
    "postscript": "MFG:Printbridge;MDL:Emulated PostScript Laser;CMD:POSTSCRIPT,PDF,PJL;"
                  "CLS:PRINTER;DES:Printbridge emulated PostScript laser;",
}

OPAQUE_MAGIC = (b"RaS2", b"UNIRAST", b"\xff\xd8\xff")


def interpreter_for(language: str, head: bytes, job_dir: Path,
                    eject_ok: Callable[[bool], bool], options: dict[str, str]) -> Interpreter:
    """The interpreter for a job that starts with ``head``."""
    start = head.lstrip(b"\x04\r\n\t ")
    entry: tuple[str, str, dict[str, Any]] | None
    if start.startswith(b"%PDF"):
        entry = ("hal.emulator.document", "PdfInterpreter", {})
    elif start.startswith(b"%!"):
        entry = ("hal.emulator.document", "PostScriptInterpreter", {})
    elif start.startswith(OPAQUE_MAGIC):
        entry = ("hal.emulator.document", "OpaqueInterpreter", {})
    else:
        entry = LANGUAGES.get(language)
    if entry is None:
        raise ValueError(f"unknown emulator language {language!r}; "
                         f"known: {', '.join(sorted(LANGUAGES))}")
    module, name, kwargs = entry
    factory: Callable[..., Interpreter] = getattr(importlib.import_module(module), name)
    return factory(job_dir, eject_ok, options, **kwargs)


__all__ = ["DEFAULT_LANGUAGE", "DEVICE_IDS", "LANGUAGES", "interpreter_for"]
