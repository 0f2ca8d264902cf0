"""Documents for CUPS's ipptool suites (ipp-1.1/2.x/everywhere.test), made locally.

Everything is drawn from a small PostScript program written here (text, shapes,
gradients) and rendered with Ghostscript; JPEGs are drawn with Pillow.  Nothing is
downloaded and no file from outside this module is used.

Run the suites with the generated directory as the *current directory*: ipptool resolves
a relative ``FILE``/``SKIP-IF-MISSING`` name against the cwd first and only then against
the directory of the .test file (/usr/share/cups/ipptool, where Debian ships no
documents).  A ``FILE`` that cannot be read is a *fatal parse error*: ipptool silently
stops that .test file there (one line on stderr), even inside a test that would have
been skipped.  Hence every file either suite names must exist:

* ipp-1.1.test (included by ipp-2.x and ipp-everywhere.test): ``document-a4.pdf``,
  ``document-letter.pdf``, ``document-a4.ps``, ``document-letter.ps``, ``color.jpg``,
  ``gray.jpg`` -- :func:`suite_documents`.
* ipp-everywhere.test: 144 files
  ``pwg-raster-samples-<res>dpi/<type>/<doc>-<type>-<res>dpi.pwg`` for every
  resolution in 150, 180, 300, 360, 600, 720 dpi and every type black-1, cmyk-8, sgray-8,
  srgb-8, srgb-16 (``<type>`` is the pwg-raster-document-type-supported keyword with
  "_" replaced by "-") -- :func:`pwg_raster_samples`.  A sample is *sent* only when the
  printer lists that resolution in pwg-raster-document-resolution-supported and that
  type in pwg-raster-document-type-supported, so only those need real content: the
  others are written as empty placeholders.  If the printer advertises a resolution or
  type you did not generate, the suite sends the empty placeholder: generate what the
  printer advertises.

Command line: ``python -m tests.samples DIR [--resolutions 300,600]
[--types black_1,sgray_8,srgb_8]`` generates everything into DIR and prints timings.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GS = shutil.which("gs") or "/usr/bin/gs"
EVERYWHERE_TEST = Path("/usr/share/cups/ipptool/ipp-everywhere.test")

#: Every resolution and raster type ipp-everywhere.test has samples for.
ALL_RESOLUTIONS: tuple[int, ...] = (150, 180, 300, 360, 600, 720)
ALL_TYPES: tuple[str, ...] = ("black_1", "cmyk_8", "sgray_8", "srgb_8", "srgb_16")

#: pwg-raster-document-type keyword -> Ghostscript pwgraster (cupsColorSpace,
#: cupsBitsPerColor).  3 = black (0 is white), 6 = CMYK, 18 = sGray, 19 = sRGB.
RASTER_TYPES: dict[str, tuple[int, int]] = {
    "black_1": (3, 1),
    "cmyk_8": (6, 8),
    "sgray_8": (18, 8),
    "srgb_8": (19, 8),
    "srgb_16": (19, 16),
}


@dataclass(frozen=True, slots=True)
class Media:
    pwg: str  # self-describing PWG 5101.1 name
    width: int  # points
    height: int  # points


MEDIA: dict[str, Media] = {
    "4x6": Media("na_index-4x6_4x6in", 288, 432),
    "a4": Media("iso_a4_210x297mm", 595, 842),
    "letter": Media("na_letter_8.5x11in", 612, 792),
}


@dataclass(frozen=True, slots=True)
class SampleDoc:
    media: str  # key of MEDIA
    pages: int
    kind: str  # "photo", "gray-photo" or "document"


#: The six sample documents of ipp-everywhere.test (names as in the suite).
SAMPLE_DOCS: dict[str, SampleDoc] = {
    "color.jpg-4x6": SampleDoc("4x6", 1, "photo"),
    "gray.jpg-4x6": SampleDoc("4x6", 1, "gray-photo"),
    "document-a4": SampleDoc("a4", 3, "document"),
    "document-letter": SampleDoc("letter", 3, "document"),
    "onepage-a4": SampleDoc("a4", 1, "document"),
    "onepage-letter": SampleDoc("letter", 1, "document"),
}


def docs_for_type(raster_type: str) -> tuple[str, ...]:
    """The sample documents ipp-everywhere.test prints for one raster type."""
    if raster_type == "srgb_16":
        return ("color.jpg-4x6",)
    if raster_type == "srgb_8":
        return tuple(d for d in SAMPLE_DOCS if d != "gray.jpg-4x6")
    return tuple(SAMPLE_DOCS)


def sample_relpath(resolution: int, raster_type: str, doc: str) -> str:
    dashed = raster_type.replace("_", "-")
    return (
        f"pwg-raster-samples-{resolution}dpi/{dashed}/{doc}-{dashed}-{resolution}dpi.pwg"
    )


def sample_path(root: Path, resolution: int, raster_type: str, doc: str) -> Path:
    return Path(root) / sample_relpath(resolution, raster_type, doc)


def all_sample_relpaths() -> set[str]:
    """Every sample path ipp-everywhere.test names (its ``FILE`` lines)."""
    return {
        sample_relpath(res, typ, doc)
        for res in ALL_RESOLUTIONS
        for typ in ALL_TYPES
        for doc in docs_for_type(typ)
    }


def suite_sample_relpaths(test_file: Path = EVERYWHERE_TEST) -> set[str]:
    """The sample paths read from the installed suite, to check :func:`all_sample_relpaths`."""
    text = Path(test_file).read_text()
    return set(re.findall(r"^\s*FILE\s+(pwg-raster-samples-\S+\.pwg)\s*$", text, re.M))


# -- PostScript ---------------------------------------------------------------------------

_PS_PROLOG = """\
/col { gray? { 0.114 mul exch 0.587 mul add exch 0.299 mul add setgray }
               { setrgbcolor } ifelse } bind def
/hue { 1 1 sethsbcolor currentrgbcolor col } bind def
/F { exch findfont exch scalefont setfont } bind def
/circle { newpath 0 360 arc closepath } bind def
/rainbow { % x y w h steps -> horizontal hue gradient
  /n exch def /bh exch def /bw exch def /by exch def /bx exch def
  0 1 n 1 sub { /i exch def i n div hue
    bx bw i mul n div add by bw n div 0.6 add bh rectfill } for } bind def
/grayramp { % x y w h steps -> black-to-white ramp
  /n exch def /bh exch def /bw exch def /by exch def /bx exch def
  0 1 n 1 sub { /i exch def i n 1 sub div setgray
    bx bw i mul n div add by bw n div 0.6 add bh rectfill } for } bind def
/sky { % w h: vertical gradient from deep blue (top) to orange (bottom)
  /sh exch def /sw exch def
  0 2 sh { /y exch def /t y sh div def
    1.0 t 0.9 mul sub 0.6 t 0.3 mul sub 0.3 t 0.5 mul add col
    0 y sw 2.5 rectfill } for } bind def
"""

_TEXT = [
    "The quick brown fox jumps over the lazy dog.  0123456789",
    "PACK MY BOX WITH FIVE DOZEN LIQUOR JUGS!  (){}[]<>/\\|~",
    "Sphinx of black quartz, judge my vow.  +-*=%&#@$ ^_`'\"",
    "How vexingly quick daft zebras jump; waltz, bad nymph, for quick jigs vex.",
]


def _ps_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _photo_page(media: Media, title: str) -> str:
    w, h = media.width, media.height
    return f"""\
{w} {h} sky
1 0.85 0.2 col {w * 0.7:.1f} {h * 0.62:.1f} {w * 0.12:.1f} circle fill
0.25 0.45 0.2 col newpath 0 0 moveto 0 {h * 0.35:.1f} lineto {w * 0.3:.1f} {h * 0.55:.1f} lineto
  {w * 0.55:.1f} {h * 0.38:.1f} lineto {w * 0.8:.1f} {h * 0.5:.1f} lineto {w} {h * 0.3:.1f} lineto
  {w} 0 lineto closepath fill
0.45 0.3 0.15 col newpath 0 0 moveto 0 {h * 0.15:.1f} lineto {w * 0.4:.1f} {h * 0.25:.1f} lineto
  {w} {h * 0.12:.1f} lineto {w} 0 lineto closepath fill
1 1 1 col /Helvetica-Bold 16 F 18 {h - 34} moveto {_ps_string(title)} show
/Helvetica 9 F 18 {h - 48} moveto (Printbridge test photo) show
0 {h * 0.04:.1f} {w} {h * 0.04:.1f} 72 rainbow
"""


def _document_page(media: Media, title: str, page: int, pages: int) -> str:
    w, h = media.width, media.height
    m = 54  # 0.75 in margins
    lines = []
    y = h - m - 60
    for i in range(18):
        text = _TEXT[(i + page) % len(_TEXT)]
        lines.append(f"{m} {y} moveto {_ps_string(f'{i + 1:2d}. {text}')} show")
        y -= 14
    body = "\n".join(lines)
    cx = m + 60 + 20 * page
    return f"""\
0 0 0 col /Helvetica-Bold 18 F {m} {h - m - 18} moveto {_ps_string(title)} show
/Helvetica 10 F {m} {h - m - 34} moveto (Printbridge IPP Everywhere sample document) show
0.2 setlinewidth {m} {h - m - 42} moveto {w - m} {h - m - 42} lineto stroke
/Times-Roman 10 F
{body}
0 0 0.8 col {m} {y - 130} 150 100 rectfill
0.85 0.1 0.1 col {cx + 160} {y - 80} 50 circle fill
0.1 0.6 0.2 col newpath {m + 300} {y - 130} moveto {m + 400} {y - 130} lineto
  {m + 350} {y - 30} lineto closepath fill
0 0 0 col 2 setlinewidth {m + 5} {y - 125} 140 90 rectstroke
1 setlinewidth {m} {y - 150} moveto {w - m} {y - 30} lineto stroke
{m} {m + 90} {w - 2 * m} 36 96 rainbow
{m} {m + 40} {w - 2 * m} 36 64 grayramp
0 0 0 col /Helvetica 10 F {w / 2 - 30:.1f} {m - 20} moveto (Page {page} of {pages}) show
"""


def sample_postscript(
    doc: str, pages: int | None = None, media: str | None = None, title: str | None = None
) -> str:
    """PostScript source for one of :data:`SAMPLE_DOCS` (or a custom page count/size)."""
    spec = SAMPLE_DOCS[doc]
    title = title or doc
    med = MEDIA[media or spec.media]
    count = pages or spec.pages
    gray = "true" if spec.kind == "gray-photo" else "false"
    out = [
        "%!PS-Adobe-3.0",
        f"%%BoundingBox: 0 0 {med.width} {med.height}",
        f"%%Pages: {count}",
        f"%%Title: {title}",
        "%%EndComments",
        "%%BeginProlog",
        f"/gray? {gray} def",
        _PS_PROLOG,
        "%%EndProlog",
        "%%BeginSetup",
        f"<< /PageSize [{med.width} {med.height}] >> setpagedevice",
        "%%EndSetup",
    ]
    for page in range(1, count + 1):
        out.append(f"%%Page: {page} {page}")
        out.append("gsave")
        if spec.kind == "document":
            out.append(_document_page(med, title, page, count))
        else:
            out.append(_photo_page(med, title))
        out.append("grestore showpage")
    out.append("%%EOF\n")
    return "\n".join(out)


def _gs(args: list[str], timeout: float = 120) -> None:
    cmd = [GS, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")


def _done(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


# -- PWG raster ---------------------------------------------------------------------------

def render_pwg(
    ps_file: Path, out: Path, resolution: int, raster_type: str, doc: SampleDoc
) -> None:
    """Render PostScript to a PWG raster file with Ghostscript's ``pwgraster`` device."""
    color_space, bits = RASTER_TYPES[raster_type]
    media = MEDIA[doc.media]
    tmp = _atomic_target(out)
    header = (
        f"<< /cupsPageSizeName ({media.pwg}) /cupsInteger0 {doc.pages} "
        f"/cupsRenderingIntent (perceptual) >> setpagedevice"
    )
    try:
        _gs([
            "-sDEVICE=pwgraster", f"-r{resolution}",
            f"-dcupsColorSpace={color_space}", f"-dcupsBitsPerColor={bits}",
            f"-dDEVICEWIDTHPOINTS={media.width}", f"-dDEVICEHEIGHTPOINTS={media.height}",
            f"-sOutputFile={tmp}", "-c", header, "-f", str(ps_file),
        ])
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def pwg_raster_samples(
    root: Path,
    resolutions: Iterable[int] = (300, 600),
    types: Iterable[str] = ("black_1", "sgray_8", "srgb_8"),
    *,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
) -> Path:
    """Write the ``pwg-raster-samples-*`` tree ipp-everywhere.test expects under ``root``.

    Real rasters for every (resolution, type) asked for, empty placeholders for the
    rest of the suite's 144 paths (see the module docstring).  Existing non-empty files
    are kept (cache); a placeholder is replaced when its combination is asked for.
    ``timings`` (if given) receives seconds per generated file.  Returns ``root``."""
    root = Path(root)
    resolutions = tuple(int(r) for r in resolutions)
    types = tuple(types)
    unknown = [t for t in types if t not in RASTER_TYPES]
    if unknown:
        raise ValueError(f"unknown raster types {unknown}; known: {list(RASTER_TYPES)}")
    root.mkdir(parents=True, exist_ok=True)
    wanted = [
        (res, typ, doc)
        for res in resolutions
        for typ in types
        for doc in docs_for_type(typ)
        if not _done(sample_path(root, res, typ, doc))
    ]
    if wanted:
        with tempfile.TemporaryDirectory(prefix="pwg-src-") as src:
            sources: dict[str, Path] = {}
            for doc in {d for _, _, d in wanted}:
                sources[doc] = Path(src) / f"{doc}.ps"
                sources[doc].write_text(sample_postscript(doc))

            def job(item: tuple[int, str, str]) -> tuple[str, float]:
                res, typ, doc = item
                began = time.monotonic()
                render_pwg(sources[doc], sample_path(root, res, typ, doc), res, typ,
                           SAMPLE_DOCS[doc])
                return sample_relpath(res, typ, doc), time.monotonic() - began

            # Biggest first, so the long renders do not end up alone at the end.
            wanted.sort(key=lambda it: -it[0] * SAMPLE_DOCS[it[2]].pages)
            with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
                for rel, seconds in pool.map(job, wanted):
                    if timings is not None:
                        timings[rel] = seconds
    for rel in all_sample_relpaths():
        path = root / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    return root


def generated_samples(root: Path) -> set[tuple[int, str]]:
    """(resolution, type) pairs under ``root`` that have real (non-empty) samples."""
    return {
        (res, typ)
        for res in ALL_RESOLUTIONS
        for typ in ALL_TYPES
        if all(_done(sample_path(root, res, typ, doc)) for doc in docs_for_type(typ))
    }


def read_pwg_headers(path: Path) -> list[dict[str, Any]]:
    """Page headers of a PWG raster file (PWG 5102.4), walking the compressed bitmaps.

    Raises ValueError on a malformed stream.  Keys: MediaClass, MediaType,
    PrintContentOptimize, HWResolution, PageSize, Width, Height, BitsPerColor,
    BitsPerPixel, BytesPerLine, ColorOrder, ColorSpace, NumColors, TotalPageCount,
    RenderingIntent, PageSizeName."""
    data = Path(path).read_bytes()
    if data[:4] != b"RaS2":
        raise ValueError(f"{path}: not a PWG raster stream (sync word {data[:4]!r})")
    pos, pages = 4, []
    while pos < len(data):
        h = data[pos:pos + 1796]
        if len(h) < 1796:
            raise ValueError(f"{path}: truncated page header at byte {pos}")
        pos += 1796

        def u32(off: int, h: bytes = h) -> int:
            return int(struct.unpack_from(">I", h, off)[0])

        def s64(off: int, h: bytes = h) -> str:
            return h[off:off + 64].split(b"\0")[0].decode("ascii", "replace")

        page = {
            "MediaClass": s64(0), "MediaType": s64(128), "PrintContentOptimize": s64(192),
            "HWResolution": (u32(276), u32(280)), "PageSize": (u32(352), u32(356)),
            "Width": u32(372), "Height": u32(376), "BitsPerColor": u32(384),
            "BitsPerPixel": u32(388), "BytesPerLine": u32(392), "ColorOrder": u32(396),
            "ColorSpace": u32(400), "NumColors": u32(420), "TotalPageCount": u32(452),
            "RenderingIntent": s64(1668), "PageSizeName": s64(1732),
        }
        pages.append(page)
        step = max(1, page["BitsPerPixel"] // 8)
        line_bytes = page["BytesPerLine"]
        y = 0
        try:
            while y < page["Height"]:
                y += data[pos] + 1
                pos += 1
                x = 0
                while x < line_bytes:
                    code = data[pos]
                    pos += 1
                    if code < 128:
                        pos += step
                        x += (code + 1) * step
                    else:
                        count = (257 - code) * step
                        pos += count
                        x += count
        except IndexError:
            raise ValueError(f"{path}: truncated bitmap on page {len(pages)}") from None
        if pos > len(data):
            raise ValueError(f"{path}: truncated bitmap on page {len(pages)}")
    return pages


# -- other documents -----------------------------------------------------------------------

def sample_pdf(path: Path, media: str = "a4", pages: int = 3) -> Path:
    """A small vector PDF (text, shapes, gradients), ``pages`` pages of ``media``
    (a key of :data:`MEDIA`: "a4", "letter" or "4x6")."""
    path = Path(path)
    tmp = _atomic_target(path)
    with tempfile.NamedTemporaryFile("w", suffix=".ps", delete=False) as src:
        src.write(sample_postscript("document-a4", pages, media, title=path.name))
    try:
        _gs(["-sDEVICE=pdfwrite", "-dCompatibilityLevel=1.4", f"-sOutputFile={tmp}",
             src.name])
        os.replace(tmp, path)
    finally:
        os.unlink(src.name)
        tmp.unlink(missing_ok=True)
    return path


def sample_ps(path: Path, media: str = "a4", pages: int = 3) -> Path:
    """A small DSC-conforming PostScript document (``media`` as for :func:`sample_pdf`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sample_postscript("document-a4", pages, media, title=path.name))
    return path


def sample_jpeg(
    path: Path, size: tuple[int, int] = (600, 900), gray: bool = False, quality: int = 85
) -> Path:
    """A small baseline JPEG: sky gradient, sun, hills, a hue strip and a caption."""
    from PIL import Image, ImageDraw  # the project depends on Pillow; import lazily

    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)],
                  fill=(int(25 + 230 * t), int(75 + 80 * t), int(205 - 125 * t)))
    r = width // 8
    draw.ellipse([width * 0.7 - r, height * 0.38 - r, width * 0.7 + r, height * 0.38 + r],
                 fill=(255, 215, 50))
    draw.polygon([(0, height), (0, height * 0.65), (width * 0.3, height * 0.45),
                  (width * 0.55, height * 0.62), (width * 0.8, height * 0.5),
                  (width, height * 0.7), (width, height)], fill=(64, 115, 50))
    strip = height // 25
    for x in range(width):
        hue = int(255 * x / max(1, width - 1))
        color = Image.new("HSV", (1, 1), (hue, 255, 255)).convert("RGB").getpixel((0, 0))
        draw.line([(x, height - 2 * strip), (x, height - strip)], fill=color)
    draw.text((width // 20, height // 30), "Printbridge test photo", fill=(255, 255, 255))
    if gray:
        image = image.convert("L")
    path = Path(path)
    tmp = _atomic_target(path)
    try:
        image.save(tmp, "JPEG", quality=quality)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def sample_text(path: Path, lines: int = 60) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{i + 1:3d} {_TEXT[i % len(_TEXT)]}\n" for i in range(lines)))
    return path


def suite_documents(root: Path, timings: dict[str, float] | None = None) -> Path:
    """The fixed documents ipp-1.1.test names (``FILE document-a4.pdf`` ...), plus
    ``testfile.{jpg,pdf,ps,txt}`` for ipptool's ``-f`` (pass an absolute path; the
    test file is printed with Print-Job/Send-Document and its extension decides
    ``$filetype``, so it must be a format the printer supports -- Validate-Job with
    it must succeed).  Existing files are kept."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    makers = {
        "document-a4.pdf": lambda p: sample_pdf(p, "a4", 3),
        "document-letter.pdf": lambda p: sample_pdf(p, "letter", 3),
        "document-a4.ps": lambda p: sample_ps(p, "a4", 3),
        "document-letter.ps": lambda p: sample_ps(p, "letter", 3),
        "color.jpg": lambda p: sample_jpeg(p),
        "gray.jpg": lambda p: sample_jpeg(p, gray=True),
        "testfile.jpg": lambda p: sample_jpeg(p, size=(300, 450)),
        "testfile.pdf": lambda p: sample_pdf(p, "a4", 1),
        "testfile.ps": lambda p: sample_ps(p, "a4", 1),
        "testfile.txt": lambda p: sample_text(p),
    }
    for name, make in makers.items():
        path = root / name
        if _done(path):
            continue
        began = time.monotonic()
        make(path)
        if timings is not None:
            timings[name] = time.monotonic() - began
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the ipptool suite documents.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--resolutions", default="300,600")
    parser.add_argument("--types", default="black_1,sgray_8,srgb_8")
    args = parser.parse_args(argv)
    resolutions = [int(r) for r in args.resolutions.split(",") if r]
    types = [t for t in args.types.split(",") if t]
    timings: dict[str, float] = {}
    began = time.monotonic()
    suite_documents(args.directory, timings)
    docs_done = time.monotonic()
    pwg_raster_samples(args.directory, resolutions, types, timings=timings)
    end = time.monotonic()
    for name, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:6.2f}s  {name}")
    print(f"documents {docs_done - began:.2f}s, rasters {end - docs_done:.2f}s, "
          f"total {end - began:.2f}s ({len(timings)} files generated) in {args.directory}")
    if EVERYWHERE_TEST.exists() and suite_sample_relpaths() != all_sample_relpaths():
        print("WARNING: the installed ipp-everywhere.test names other sample files",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
