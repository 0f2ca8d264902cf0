"""The document pipeline: driverless formats in, the printer's language out.

``Pipeline(driver).convert(documents, job_attributes)`` is an iterator of printer bytes
for one job.  It reads each document a page and a band at a time (PWG raster, Apple
raster, JPEG, PDF: :mod:`firmware.pipeline.readers`), converts the band's colours and
halftones it for the driver (:mod:`firmware.pipeline.bands`), and calls the driver's
PAPPL-shaped callbacks (:mod:`firmware.pipeline.drivers`).  Formats the printer reads
natively pass through unchanged.  Memory is bounded by a band and an output chunk, never
by the document; the iterator is synchronous and meant to run on a worker thread.
numpy, Pillow and PDFium are imported when a job first needs them, not with this
package: a daemon that only passes documents through never loads them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from firmware.capabilities import Capabilities
from firmware.pipeline.drivers import Driver, Output, passthrough_formats
from firmware.pipeline.drivers.passthrough import RAW, stream_file
from firmware.pipeline.options import JobOptions
from firmware.pipeline.page import DevicePage, JobSetup, PageSetup
from firmware.pipeline.readers import DocumentError, RenderContext, reader_for
from firmware.pipeline.readers import formats as reader_formats

log = logging.getLogger(__name__)

#: Output is handed on in chunks of about this size.
CHUNK = 256 * 1024
SNIFF = 1024


@dataclass(slots=True, frozen=True)
class DocumentSource:
    path: Path
    format: str = RAW
    #: The PDF's password (IPP document-password, PWG 5100.13 §5.1.1), if it has one.
    password: bytes | None = None


class Conversion:
    """One job's conversion: iterate for printer bytes; afterwards ``impressions`` and
    ``sheets`` say what was printed (None when raw data of unknown length was sent)."""

    def __init__(self, pipeline: Pipeline, documents: Sequence[DocumentSource],
                 attributes: Mapping[str, Any], name: str = "") -> None:
        self.pipeline = pipeline
        self.documents = list(documents)
        self.caps = pipeline.capabilities
        self.options = JobOptions.from_attributes(attributes, self.caps, name)
        self.impressions: int | None = 0
        self.sheets: int | None = 0
        self.bytes = 0
        self._iter = self._run()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._iter)
        self.bytes += len(chunk)
        return chunk

    def close(self) -> None:
        self._iter.close()

    def _sequence(self) -> list[DocumentSource]:
        """Documents in print order with copies (RFC 8011 §5.2.4
        multiple-document-handling: collated A B A B, uncollated A A B B)."""
        copies = self.options.copies
        if self.options.collate:
            return [d for _ in range(copies) for d in self.documents]
        return [d for d in self.documents for _ in range(copies)]

    def _needs_processing(self) -> bool:
        """Does the job ask for what a document sent as it is would not get?  Then a
        format the printer reads natively (PDF) goes through the raster path instead."""
        opts = self.options
        return bool(opts.page_ranges) or opts.copies > 1 or opts.sides != "one-sided" \
            or opts.orientation not in (None, 3) \
            or opts.scaling not in ("auto", "auto-fit") \
            or (self.caps.color and not opts.wants_color(self.caps))

    def _run(self) -> Iterator[bytes]:
        pipeline, opts, caps = self.pipeline, self.options, self.caps
        driver = pipeline.driver.fresh()
        color = opts.wants_color(caps)
        sides = opts.duplex(caps)
        mode = driver.raster_mode(color)
        ctx = RenderContext(caps, opts)
        out = Output()
        started = False
        side = 0  # pages on the current sheet (0 or 1 when two-sided)
        number = 0
        last_device: DevicePage | None = None
        for doc in self._sequence():
            with open(doc.path, "rb") as fh:
                head = fh.read(SNIFF)
            reader = reader_for(doc.format, head)
            ctx.password = doc.password
            processing = self._needs_processing() or doc.password is not None
            if doc.format in pipeline.native and not (reader and processing):
                reader = None  # the printer reads it: send it as it is
            if reader is None or mode is None:
                if doc.format not in pipeline.native and doc.format != RAW:
                    raise DocumentError(f"{doc.format} cannot be printed by this printer")
                if started:
                    driver.end_job()
                    started = False
                if out.size:
                    yield out.take()
                self.impressions = self.sheets = None
                yield from stream_file(doc.path, CHUNK)
                side = 0
                continue
            from firmware.pipeline.bands import to_driver  # numpy: only once it is needed

            for page in reader().pages(doc.path, ctx):
                if not started:
                    driver.start_job(JobSetup(name=opts.name, sides=sides, color=color,
                                              resolution=page.device.resolution,
                                              quality=opts.quality, copies=opts.copies),
                                     out)
                    started = True
                number += 1
                back = sides != "one-sided" and side == 1
                driver.start_page(PageSetup(page.device, number, color, sides, back,
                                            quality=opts.quality))
                top = page.device.printable[1]
                for y, band in page.bands():
                    driver.write_lines(y, to_driver(band, page.space, mode, top + y,
                                                    driver.screen))
                    if out.size >= CHUNK:
                        yield out.take()
                driver.end_page()
                last_device = page.device
                if self.impressions is not None and self.sheets is not None:
                    self.impressions += 1
                    self.sheets += 0 if back else 1
                side = 0 if sides == "one-sided" or back else 1
            if side == 1 and last_device is not None:
                # Two-sided: the next document (or copy) starts on a new sheet.
                number += 1
                driver.start_page(PageSetup(last_device, number, color, sides, True,
                                            blank=True, quality=opts.quality))
                driver.end_page()
                side = 0
            if out.size >= CHUNK:
                yield out.take()
        if started:
            driver.end_job()
        if out.size:
            yield out.take()


class Pipeline:
    """A printer's conversion path: its driver, the readers, pass-through formats."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        native = passthrough_formats(driver.device_id, driver)
        #: Formats sent to the printer unchanged (the raw type included).
        self.native = [f for f in native if f != RAW]
        readable = reader_formats() if driver.raster_mode(False) is not None else []
        formats = [f for f in readable if f not in self.native] + native
        self.capabilities: Capabilities = replace(driver.capabilities, formats=formats)

    def convert(self, documents: Sequence[DocumentSource], attributes: Mapping[str, Any],
                name: str = "") -> Conversion:
        return Conversion(self, documents, attributes, name)

    def warm_up(self) -> None:
        """Do once, ahead of the first job, what would otherwise delay it: build the
        halftone tile and load the readers' libraries."""
        if self.driver.raster_mode(False) is None:
            return
        from firmware.pipeline import halftone

        halftone.thresholds(0)
        for fmt in self.capabilities.formats:
            reader = reader_for(fmt)
            if reader is not None:
                reader.available()
        import importlib

        for module in ("PIL.Image", "PIL.JpegImagePlugin", "pypdfium2"):
            try:
                importlib.import_module(module)
            except ImportError:
                log.debug("warm-up: %s not installed", module)


__all__ = ["CHUNK", "Conversion", "DocumentError", "DocumentSource", "Pipeline"]
