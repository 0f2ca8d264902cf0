"""What every reader shares: the render context and the reader registry."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from firmware.capabilities import Capabilities
from firmware.pdl import detect_format
from firmware.pipeline.layout import device_page
from firmware.pipeline.options import JobOptions
from firmware.pipeline.page import DevicePage, Page, Space

#: Largest page the readers accept (pixels per side), against hostile headers.
MAX_SIDE = 64000


class DocumentError(ValueError):
    """The document is malformed or uses a feature the reader does not support."""


@dataclass(slots=True)
class RenderContext:
    """The printer and the job a document is rendered for.

    The device resolution is fixed for the whole job at its first page: a raster page
    proposes its own, everything else follows ``print-quality``/``printer-resolution``.
    """

    caps: Capabilities
    opts: JobOptions
    resolution: int | None = None
    #: The password of the document being read (an encrypted PDF), if given.
    password: bytes | None = None

    def device_resolution(self, document: int | None = None) -> int:
        if self.resolution is None:
            self.resolution = self.opts.device_resolution(self.caps, document)
        return self.resolution

    def device_page(self, content_hmm: tuple[int, int] | None,
                    document_resolution: int | None = None) -> DevicePage:
        return device_page(self.caps, self.opts, self.device_resolution(document_resolution),
                           content_hmm)


@dataclass(slots=True, frozen=True)
class RasterSpec:
    """One raster page's geometry and coding, whatever the container."""

    width: int
    height: int
    xdpi: int
    ydpi: int
    bits: int
    channels: int
    space: Space
    invert: bool
    bytes_per_line: int
    bytes_per_pixel: int
    white: int
    size_hmm: tuple[int, int]


class Reader(abc.ABC):
    """A document format the pipeline can print."""

    #: MIME media types read (document-format values).
    formats: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def available(cls) -> bool:
        """False when a library the reader needs is missing (then the format is not
        advertised)."""
        return True

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """Does a document starting with ``head`` look like this format?  By
        :func:`firmware.pdl.detect_format`, the one list of magic numbers."""
        return detect_format(head) in cls.formats

    @abc.abstractmethod
    def pages(self, path: Path, ctx: RenderContext) -> Iterator[Page]:
        """The document's selected pages (page-ranges applied), one at a time.  The
        caller closes each page before asking for the next."""
