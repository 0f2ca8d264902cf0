"""``emulated:`` port: a printer that lives in software (board ``emulator``).

It behaves like a real printer at the end of a real cable: it takes bytes no faster than
its link and engine allow, counts pages (a form feed ends a page), uses a sheet of paper
and some toner per page, and stalls its port while a fault is active — exactly as a real
printer stops acking bulk-OUT transfers when it runs out of paper.  What it receives is
kept per job under ``output/<job-id>/`` so tests and people can see what was printed.

Options (board profile / ``[printer:NAME]`` section):

``rate``        bytes per second the link takes (default 1,000,000: USB full speed, which
                a 20 ppm laser keeps busy); 0 means unlimited.
``paper``       sheets in the tray (default 250); ``paper_capacity`` (default 250).
``toner_pages`` pages a full toner cartridge prints (default 3000).
``output``      directory for received jobs.
``language``    pcl5 (default: a monochrome laser), pcl3, escp2, escpos or postscript.
``duplex``      true when the printer has a duplexer (PCL ``ESC&l#S`` is honoured).
``roll_width``  58 or 80 (mm), for escpos.
``render``      false to skip writing page images; ``render_dpi`` for PDF/PostScript pages.
``device_id``   the IEEE 1284 device ID to report (default: one for the language).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from hal.emulator import DEFAULT_LANGUAGE, DEVICE_IDS, LANGUAGES, interpreter_for
from hal.port import Port, PortCondition, PortError, PortStatus
from hal.registry import register

if TYPE_CHECKING:
    from hal.emulator.base import Interpreter

#: Faults that ``printbridge emulate`` can inject, by their command-line names.
FAULTS: dict[str, PortCondition] = {
    "paper-out": PortCondition.PAPER_OUT,
    "jam": PortCondition.JAM,
    "offline": PortCondition.OFFLINE,
    "cover-open": PortCondition.COVER_OPEN,
    "error": PortCondition.ERROR,
    "unplug": PortCondition.UNPLUGGED,
}

#: The default emulated printer's IEEE 1284 device ID: a PCL 5 laser.
DEFAULT_DEVICE_ID = DEVICE_IDS[DEFAULT_LANGUAGE]


@register
class EmulatedPort(Port):
    scheme = "emulated"

    def __init__(self, uri: str, options: dict[str, str] | None = None) -> None:
        super().__init__(uri, options)
        opts = self.options
        self.rate = float(opts.get("rate", "1000000"))
        self.paper_capacity = int(opts.get("paper_capacity", "250"))
        self.toner_pages = max(1, int(opts.get("toner_pages", "3000")))
        self.output_dir = Path(opts.get("output", "output"))
        self.language = str(opts.get("language", DEFAULT_LANGUAGE)).strip().lower()
        if self.language not in LANGUAGES:
            raise ValueError(f"emulated printer: unknown language {self.language!r}; "
                             f"known: {', '.join(sorted(LANGUAGES))}")
        self._device_id = opts.get("device_id", DEVICE_IDS[self.language])
        self._state_file = self.output_dir / "emulator.json"
        self._lock = threading.Lock()
        self._unstalled = threading.Event()
        self._faults: set[PortCondition] = set()
        self.paper = int(opts.get("paper", str(self.paper_capacity)))
        self.toner_used = 0  # pages printed on the current cartridge
        self.page_count = 0  # life counter, never reset
        self._job: int | None = None
        self._fh: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self._job_bytes = 0
        self._job_dir: Path | None = None
        self._interp: Interpreter | None = None
        self._is_open = False
        self._open_job: int | None = self._open_job_from_log()
        self._load_state()
        self._update_stall()

    def _open_job_from_log(self) -> int | None:
        """The job begun and not yet ended or cancelled, from jobs.log: one append-only,
        fsynced record, so "ended" and "open" can never disagree after a crash."""
        try:
            lines = (self.output_dir / "jobs.log").read_text().splitlines()
        except OSError:
            return None
        open_job = None
        for line in lines:
            words = line.split()
            if len(words) >= 3 and words[2].isdigit():
                if words[1] == "begin":
                    open_job = int(words[2])
                elif words[1] in ("end", "cancel") and int(words[2]) == open_job:
                    open_job = None
        return open_job

    # -- persistence: a real printer remembers its counters and consumables
    def _load_state(self) -> None:
        try:
            saved = json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return
        self.paper = int(saved.get("paper", self.paper))
        self.toner_used = int(saved.get("toner_used", 0))
        self.page_count = int(saved.get("page_count", 0))

    def _save_state(self) -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {"paper": self.paper, "toner_used": self.toner_used,
                 "page_count": self.page_count}
            )
        )
        os.replace(tmp, self._state_file)

    # -- Port interface
    def open(self) -> None:
        if PortCondition.UNPLUGGED in self._faults:
            raise PortError("emulated printer is unplugged")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._is_open = True

    def close(self) -> None:
        with self._lock:
            self._close_job_file()
            self._is_open = False

    def device_id(self) -> str:
        return self._device_id

    def soft_reset(self) -> None:
        with self._lock:
            self._log("reset", self._job or 0)

    def begin_job(self, job_id: int, name: str) -> None:
        with self._lock:
            self._close_job_file()
            job_dir = self.output_dir / str(job_id)
            job_dir.mkdir(parents=True, exist_ok=True)
            # A restarted job starts over, as the page would on paper.
            for old in job_dir.glob("page-*.png"):
                old.unlink(missing_ok=True)
            self._fh = open(job_dir / "received.bin", "wb")
            self._job = job_id
            self._job_dir = job_dir
            self._hash = hashlib.sha256()
            self._job_bytes = 0
            self._interp = None
            # Like a printer's own memory: which job is open survives a power cycle (the
            # log is the record; see _open_job_from_log).
            self._open_job = job_id
            self._log("begin", job_id)

    def end_job(self, job_id: int, *, completed: bool) -> None:
        with self._lock:
            if job_id not in (self._job, self._open_job):
                return  # closed already, before the host crashed: nothing to finish
            self._open_job = None
            self._close_job_file()
            if completed and self._interp is not None:
                self._interp.finish()
            pages = self._interp.pages if self._interp is not None else 0
            self._interp = None
            self._log(
                "end" if completed else "cancel",
                job_id,
                f"{self._job_bytes} {self._hash.hexdigest()} {pages}",
            )
            self._job = None
            self._save_state()

    def _close_job_file(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def _log(self, what: str, job_id: int, extra: str = "") -> None:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with open(self.output_dir / "jobs.log", "a") as log:
            log.write(f"{time.time():.3f} {what} {job_id} {extra}".rstrip() + "\n")
            log.flush()
            os.fsync(log.fileno())

    def write(self, data: bytes | memoryview, timeout: float) -> int:
        if not self._is_open:
            raise PortError("port not open")
        if PortCondition.UNPLUGGED in self._faults:
            raise PortError("emulated printer is unplugged")
        if not self._unstalled.wait(timeout):
            return 0
        view = memoryview(data)
        # Take at most 0.1 s worth of data per call so a fault injected meanwhile
        # stalls the port within a tenth of a second, mid-page, as on a real cable.
        limit = len(view) if self.rate <= 0 else max(1, int(self.rate * min(timeout, 0.1)))
        chunk = view[:limit]
        if self.rate > 0:
            time.sleep(len(chunk) / self.rate)
        with self._lock:
            if not self._unstalled.is_set():
                return 0
            taken = self._consume(chunk)
        return taken

    def _consume(self, chunk: memoryview) -> int:
        """Accept bytes up to the page that can no longer be printed (paper runs out):
        the interpreter stops before the command that would eject it."""
        raw = chunk.tobytes()
        if self._interp is None:
            self._interp = interpreter_for(self.language, raw[:64],
                                           self._job_dir or self.output_dir, self._eject,
                                           dict(self.options))
        taken = self._interp.feed(raw)
        if self.paper <= 0:
            self._update_stall()
        if taken:
            piece = raw[:taken]
            if self._fh is not None:
                self._fh.write(piece)
                self._fh.flush()  # what the printer took is on paper, even if we crash
            self._hash.update(piece)
            self._job_bytes += taken
        return taken

    def _eject(self, new_sheet: bool) -> bool:
        """A sheet side leaves the printer; False when a new sheet is needed and the
        tray is empty (the interpreter then waits before that page)."""
        if new_sheet:
            if self.paper <= 0:
                return False
            self.paper -= 1
        self.page_count += 1
        self.toner_used = min(self.toner_pages, self.toner_used + 1)
        return True

    def status(self) -> PortStatus:
        with self._lock:
            conditions = set(self._faults)
            if self.paper <= 0:
                conditions.add(PortCondition.PAPER_OUT)
            elif self.paper <= max(1, self.paper_capacity // 20):
                conditions.add(PortCondition.PAPER_LOW)
            level = self.toner_level
            if level <= 0:
                conditions.add(PortCondition.TONER_EMPTY)
            elif level <= 10:
                conditions.add(PortCondition.TONER_LOW)
            return PortStatus(
                conditions=frozenset(conditions),
                marker_levels={"black": level},
                paper_level=self.paper,
                page_count=self.page_count,
            )

    @property
    def toner_level(self) -> int:
        return round(100 * (self.toner_pages - self.toner_used) / self.toner_pages)

    # -- fault injection (``printbridge emulate ...``)
    def inject(self, command: str, value: int | None = None) -> None:
        """Apply one ``printbridge emulate`` command: a fault name, clear, toner or paper."""
        with self._lock:
            if command in FAULTS:
                self._faults.add(FAULTS[command])
            elif command == "clear":
                self._faults.clear()
            elif command == "toner":
                if value is None or not 0 <= value <= 100:
                    raise ValueError("toner needs a level 0..100")
                self.toner_used = round(self.toner_pages * (100 - value) / 100)
            elif command == "paper":
                if value is None or value < 0:
                    raise ValueError("paper needs a sheet count >= 0")
                self.paper = value
            else:
                raise ValueError(f"unknown emulate command {command!r}")
            self._update_stall()
            self._save_state()

    def _update_stall(self) -> None:
        stalled = bool(self._faults) or self.paper <= 0 or self.toner_level <= 0
        if stalled:
            self._unstalled.clear()
        else:
            self._unstalled.set()
