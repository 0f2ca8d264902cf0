"""Document pipeline throughput, beside CUPS's own C filters on the same pages.

    python bench/pipeline.py [--pages 10]

Cases (an A4 sample page: text, shapes, gradients, drawn by tests.samples with
Ghostscript):

* PCL 5 mono from a 600 dpi ``sgray_8`` PWG raster page: PWG decoding, blue-noise
  halftoning, PCL methods 2/3 chosen per row.  Also from the 600 dpi ``black_1`` page
  (already one bit), which is exactly the input CUPS's ``rastertohp`` reads with the
  LaserJet PPD of ``drv:///sample.drv`` (its header's cupsCompression set to 2 or 3:
  rastertohp compresses with that one PCL method).
* PCL 3 colour from a 300 dpi ``srgb_8`` page (halftoned to KCMY here), beside
  ``rastertohp`` with the DeskJet PPD reading the KCMY one-bit banded CUPS raster that
  Ghostscript's ``cups`` device makes from the same page (so the C filter does not
  halftone: that work is Ghostscript's and is not timed).

Pages per second are over ``--pages`` copies of the page in one document, best of three
runs (the C filter's time includes starting the process, a few milliseconds); bytes are
what the printer gets per page.  Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.pipeline import DocumentSource, Pipeline
from firmware.pipeline.drivers import select_driver
from tests.samples import GS, MEDIA, SAMPLE_DOCS, render_pwg, sample_postscript

RASTERTOHP = Path("/usr/lib/cups/filter/rastertohp")
SAMPLE_DRV = Path("/usr/share/cups/drv/sample.drv")


def multiply_pwg(src: Path, dst: Path, copies: int, compression: int | None = None) -> Path:
    """``copies`` pages of a one-page PWG raster (optionally with cupsCompression set)."""
    data = src.read_bytes()
    page = bytearray(data[4:])
    if compression is not None:
        struct.pack_into(">I", page, 404, compression)
    dst.write_bytes(data[:4] + bytes(page) * copies)
    return dst


#: Each figure is the best of this many runs (the machine may be busy with other work).
RUNS = 3


def ours(driver: str, path: Path, attrs: dict[str, object]) -> tuple[float, int]:
    pipeline = Pipeline(select_driver("", driver))
    for _ in pipeline.convert([DocumentSource(path, "image/pwg-raster")], attrs):
        break  # warm up (halftone tile, imports)
    best, size = float("inf"), 0
    for _ in range(RUNS):
        began = time.perf_counter()
        size = sum(len(chunk) for chunk in pipeline.convert(
            [DocumentSource(path, "image/pwg-raster")], attrs))
        best = min(best, time.perf_counter() - began)
    return best, size


def c_filter(ppd: Path, raster: Path) -> tuple[float, int]:
    env = {**os.environ, "PPD": str(ppd)}
    best, size = float("inf"), 0
    for _ in range(RUNS):
        began = time.perf_counter()
        result = subprocess.run([str(RASTERTOHP), "1", "bench", "bench", "1", "", str(raster)],
                                env=env, capture_output=True, check=True)
        best = min(best, time.perf_counter() - began)
        size = len(result.stdout)
    return best, size


def row(name: str, seconds: float, size: int, pages: int) -> None:
    print(f"  {name:<58} {pages / seconds:8.2f} pages/s {size / pages / 1e3:10.1f} kB/page")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    n = args.pages
    with tempfile.TemporaryDirectory(prefix="pb-pipeline-") as tmp:
        root = Path(tmp)
        ps = root / "page.ps"
        ps.write_text(sample_postscript("onepage-a4"))
        doc = SAMPLE_DOCS["onepage-a4"]
        one = {}
        for res, kind in ((600, "sgray_8"), (600, "black_1"), (300, "srgb_8")):
            one[kind] = root / f"one-{kind}.pwg"
            render_pwg(ps, one[kind], res, kind, doc)
        have_c = RASTERTOHP.exists() and shutil.which("ppdc") is not None

        print(f"PCL 5 mono, A4 at 600 dpi, {n} pages")
        gray = multiply_pwg(one["sgray_8"], root / "gray.pwg", n)
        row("Printbridge  sgray_8 -> halftone -> PCL 5 (methods 2+3)",
            *ours("pcl5", gray, {"print-quality": 5}), n)
        black = multiply_pwg(one["black_1"], root / "black.pwg", n)
        row("Printbridge  black_1 -> PCL 5 (methods 2+3)",
            *ours("pcl5", black, {"print-quality": 5}), n)
        if have_c:
            subprocess.run(["ppdc", "-d", str(root), str(SAMPLE_DRV)], check=True,
                           capture_output=True)
            for mode in (2, 3):
                raster = multiply_pwg(one["black_1"], root / f"black-m{mode}.pwg", n, mode)
                row(f"rastertohp   black_1, LaserJet PPD, method {mode} (C)",
                    *c_filter(root / "laserjet.ppd", raster), n)
        else:
            print("  (CUPS rastertohp or ppdc not installed: no C filter to compare)")

        print(f"PCL 3 colour, A4 at 300 dpi, {n} pages")
        color = multiply_pwg(one["srgb_8"], root / "color.pwg", n)
        row("Printbridge  srgb_8 -> KCMY halftone -> PCL 3 (methods 2+3)",
            *ours("pcl3", color, {"print-quality": 4}), n)
        if have_c:
            kcmy = root / "kcmy.ras"
            media = MEDIA[doc.media]
            pages_ps = root / "pages.ps"
            pages_ps.write_text(sample_postscript("onepage-a4", pages=n))
            subprocess.run([GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=cups",
                            "-r300", "-dcupsColorSpace=8", "-dcupsColorOrder=1",
                            "-dcupsBitsPerColor=1", "-dcupsCompression=2",
                            f"-dDEVICEWIDTHPOINTS={media.width}",
                            f"-dDEVICEHEIGHTPOINTS={media.height}",
                            f"-sOutputFile={kcmy}", str(pages_ps)],
                           check=True, capture_output=True)
            row("rastertohp   KCMY 1-bit banded (gs-halftoned), DeskJet PPD (C)",
                *c_filter(root / "deskjet.ppd", kcmy), n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
