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

import functools
from collections.abc import Callable
from pathlib import Path

from hal.emulator.base import Canvas, Interpreter, PaperOut
from hal.emulator.document import OpaqueInterpreter, PdfInterpreter, PostScriptInterpreter
from hal.emulator.escp2 import EscP2Interpreter
from hal.emulator.escpos import EscPosInterpreter
from hal.emulator.pcl import PclInterpreter

DEFAULT_LANGUAGE = "pcl5"

Factory = Callable[[Path, Callable[[bool], bool], dict[str, str]], Interpreter]

LANGUAGES: dict[str, Factory] = {
    "pcl5": PclInterpreter,
    "pcl3": functools.partial(PclInterpreter, color=True),
    "escp2": EscP2Interpreter,
    "escpos": EscPosInterpreter,
    "postscript": PostScriptInterpreter,
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
    if start.startswith(b"%PDF"):
        return PdfInterpreter(job_dir, eject_ok, options)
    if start.startswith(b"%!"):
        return PostScriptInterpreter(job_dir, eject_ok, options)
    if start.startswith(OPAQUE_MAGIC):
        return OpaqueInterpreter(job_dir, eject_ok, options)
    factory = LANGUAGES.get(language)
    if factory is None:
        raise ValueError(f"unknown emulator language {language!r}; "
                         f"known: {', '.join(sorted(LANGUAGES))}")
    return factory(job_dir, eject_ok, options)


__all__ = ["DEFAULT_LANGUAGE", "DEVICE_IDS", "LANGUAGES", "Canvas", "Interpreter",
           "PaperOut", "interpreter_for"]
