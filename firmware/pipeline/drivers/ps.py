"""PostScript Level 2 driver: each page is one 8-bit grey or RGB image.

PostScript Language Reference Manual, 3rd ed. (PLRM): the page is a type 1 image
dictionary (§4.10.5) read from ``currentfile`` through ``/ASCII85Decode`` (§3.13.3, so the
job is 7-bit clean for serial and parallel links) and ``/RunLengthDecode`` (PackBits,
128 = end of data), both LanguageLevel 2 filters; media by ``setpagedevice`` /PageSize,
two-sided printing by the /Duplex and /Tumble page device parameters (§6.2).  The
printer halftones, so lines stay 8-bit.  Document structure follows the DSC 3.0 (Adobe
TN 5001): ``%%Page:`` comments let spoolers and the emulated printer count pages.
"""

from __future__ import annotations

from firmware.capabilities import Capabilities
from firmware.pipeline.drivers.base import Driver, Output, RasterMode
from firmware.pipeline.page import U8, JobSetup, PageSetup
from hal.options import truthy

A85_LINE = 75


def a85_encode(data: bytes, final: bool = False) -> tuple[bytes, bytes]:
    """ASCII85 (PLRM §3.13.3) of whole 4-byte groups, vectorised; returns the text and
    the 0..3 bytes left over (encoded as a short group when ``final``)."""
    import numpy as np  # here, not at the top: see firmware.pipeline.page

    whole = len(data) // 4 * 4
    rest = data[whole:]
    words = np.frombuffer(data[:whole], dtype=">u4").astype(np.uint64)
    digits = np.empty((words.size, 5), dtype=np.uint8)
    for i in range(4, -1, -1):
        digits[:, i] = (words % 85 + 33).astype(np.uint8)
        words //= 85
    text = digits.tobytes()
    if final and rest:
        padded = int.from_bytes(rest + bytes(4 - len(rest)), "big")
        tail = bytearray(5)
        for i in range(4, -1, -1):
            tail[i] = padded % 85 + 33
            padded //= 85
        text += bytes(tail[:len(rest) + 1])
        rest = b""
    return text, rest


def wrap(text: bytes, width: int = A85_LINE) -> bytes:
    """Break ``text`` into lines of ``width`` characters (vectorised)."""
    import numpy as np

    if not text:
        return b""
    n = len(text)
    rows = -(-n // width)
    grid = np.full((rows, width + 1), ord("\n"), dtype=np.uint8)
    flat = np.frombuffer(text, dtype=np.uint8)
    body = grid[:, :width].reshape(-1)
    body[:n] = flat
    grid[:, :width] = body.reshape(rows, width)
    out = grid.tobytes()
    # The last line is shorter: drop the padding after its own characters.
    last = n - (rows - 1) * width
    return out[:(rows - 1) * (width + 1) + last] + b"\n"


class PsDriver(Driver):
    name = "ps"
    description = "PostScript Level 2 (each page an 8-bit image)"
    commands = ("POSTSCRIPT", "PS", "PS2", "PS3", "BR-SCRIPT", "BR-SCRIPT3", "KPDL",
                "POSTSCRIPT2", "POSTSCRIPT3")
    languages = ("PostScript",)
    native_formats = ("application/postscript",)

    def __init__(self, options: dict[str, str] | None = None, device_id: str = "") -> None:
        super().__init__(options, device_id)
        self._pages = 0
        self._media: str | None = None
        self._carry = b""
        self._rows = 0

    def make_capabilities(self) -> Capabilities:
        return Capabilities(
            languages=list(self.languages),
            resolutions=[300, 600],
            default_resolution=300,
            color=truthy(self.options.get("color", "true")),
            duplex=self.duplex,
            margins=(423, 423, 423, 423),
            ppm=20,
        )

    def raster_mode(self, color: bool) -> RasterMode:
        return RasterMode.RGB8 if color else RasterMode.GRAY8

    def start_job(self, job: JobSetup, out: Output) -> None:
        super().start_job(job, out)
        setup = b""
        if self.capabilities.duplex and job.sides != "one-sided":
            tumble = b"true" if job.sides == "two-sided-short-edge" else b"false"
            setup = b"[{\n<< /Duplex true /Tumble %s >> setpagedevice\n} stopped cleartomark\n" % (
                tumble)
        out.write(b"%!PS-Adobe-3.0\n%%Creator: Printbridge\n%%LanguageLevel: 2\n"
                  b"%%Pages: (atend)\n%%EndComments\n%%BeginSetup\n" + setup
                  + b"%%EndSetup\n")

    def start_page(self, page: PageSetup) -> None:
        self.page = page
        self._pages += 1
        dev = page.device
        pt = 72 / dev.resolution
        left, top, right, bottom = dev.printable
        w, h = dev.printable_width, dev.printable_height
        parts = [b"%%%%Page: %d %d\n" % (self._pages, self._pages)]
        if dev.media != self._media:
            parts.append(b"<< /PageSize [%.2f %.2f] >> setpagedevice\n"
                         % (dev.width * pt, dev.height * pt))
            self._media = dev.media
        color = self.raster_mode(page.color) is RasterMode.RGB8
        parts.append(
            b"gsave\n%.3f %.3f translate %.3f %.3f scale\n/Device%s setcolorspace\n"
            b"<< /ImageType 1 /Width %d /Height %d /BitsPerComponent 8 /Decode [%s]\n"
            b"   /ImageMatrix [%d 0 0 -%d 0 %d]\n"
            b"   /DataSource currentfile /ASCII85Decode filter /RunLengthDecode filter >>\n"
            b"image\n"
            % (left * pt, (dev.height - bottom) * pt, w * pt, h * pt,
               b"RGB" if color else b"Gray", w, h, b"0 1 0 1 0 1" if color else b"0 1",
               w, h, h))
        del right, top
        self.out.write(b"".join(parts))
        self._carry = b""
        self._rows = 0

    def _emit(self, coded: bytes, final: bool = False) -> None:
        text, self._carry = a85_encode(self._carry + coded, final)
        self.out.write(wrap(text))

    def write_lines(self, y: int, lines: U8) -> None:
        import numpy as np

        from firmware.pipeline.compression import packbits_rows

        assert self.page is not None
        rows = lines.shape[0]
        if y > self._rows:
            self._write_white(y - self._rows, lines.shape[1:])
        flat = np.ascontiguousarray(lines.reshape(rows, -1))
        data, _ = packbits_rows(flat, trim=False)
        self._emit(data.tobytes())
        self._rows = y + rows

    def _write_white(self, rows: int, shape: tuple[int, ...]) -> None:
        import numpy as np

        from firmware.pipeline.compression import packbits_rows

        width = int(np.prod(shape))
        white = np.full((min(rows, 64), width), 255, dtype=np.uint8)
        data, _ = packbits_rows(white, trim=False)
        row_code = data.tobytes()[: len(data) // white.shape[0]]
        self._emit(row_code * rows)

    def end_page(self) -> None:
        assert self.page is not None
        dev = self.page.device
        if self._rows < dev.printable_height:
            channels = 3 if self.raster_mode(self.page.color) is RasterMode.RGB8 else 1
            self._write_white(dev.printable_height - self._rows,
                              (dev.printable_width * channels,))
        self._emit(b"\x80", final=True)  # RunLengthDecode end of data
        self.out.write(b"~>\ngrestore\nshowpage\n")

    def end_job(self) -> None:
        self.out.write(b"%%%%Trailer\n%%%%Pages: %d\n%%%%EOF\n" % self._pages)
