"""The persistent spool: an accepted job survives a restart and a power cut.

Layout under ``<state-dir>/spool/``::

    sequence          last job id handed out (so ids never repeat)
    j00000042.json    job metadata
    j00000042-1.doc   document 1 of job 42, exactly as received (after HTTP decoding)

Write protocol (every change to a file goes this way, so that a power cut at any point
leaves either the old or the new file, never a torn one):

1. write the new content to ``NAME.tmp`` in the same directory;
2. ``fsync`` the temp file (its data reaches the disk);
3. ``rename`` it over ``NAME`` (atomic on POSIX file systems);
4. ``fsync`` the directory (the rename itself reaches the disk).

A job is acknowledged to the client only after its document went through 1-4 *and* its
metadata saying "not incoming" did.  On load, leftover ``*.tmp`` files are deleted, a job
still marked incoming was never acknowledged and is aborted (``submission-interrupted``),
and a job found ``processing`` was cut off mid-print and is queued again from its start
(the state machine's ``processing -> pending`` row, :data:`firmware.job_states.
REQUEUED_AFTER_RESTART`; one whose every byte had reached the printer is queued only to be
closed, :data:`~firmware.job_states.CLOSED_AFTER_RESTART`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from firmware.job import Document, Job, JobState

log = logging.getLogger(__name__)

_META = re.compile(r"^j(\d{8})\.json$")

#: Reason shown on a job that was printing when the daemon stopped and is printed again.
RESTARTED_REASON = "job-restartable"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Steps 1-4 of the write protocol for a small file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class DocumentWriter:
    """Streams one document into the spool; :meth:`commit` makes it durable."""

    __slots__ = ("_fh", "final", "size", "tmp")

    def __init__(self, final: Path) -> None:
        self.final = final
        self.tmp = final.with_name(final.name + ".tmp")
        self._fh: BinaryIO | None = open(self.tmp, "wb")
        self.size = 0

    def write(self, chunk: bytes | memoryview) -> None:
        assert self._fh is not None
        self._fh.write(chunk)
        self.size += len(chunk)

    def commit(self) -> None:
        """fsync, rename into place, fsync the directory (blocking: run in a thread)."""
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        os.replace(self.tmp, self.final)
        fsync_dir(self.final.parent)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.tmp.unlink(missing_ok=True)


class Spool:
    """Files only; the asyncio side calls the blocking methods through :attr:`executor`.

    One I/O thread keeps metadata writes in the order they were asked for, so a slow
    fsync can never let an older state of a job overwrite a newer one.
    """

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._sequence_file = self.dir / "sequence"

    # -- ids
    def next_id(self) -> int:
        try:
            last = int(self._sequence_file.read_text().strip() or 0)
        except (OSError, ValueError):
            last = 0
        highest = max((int(m.group(1)) for m in map(_META.match, os.listdir(self.dir)) if m),
                      default=0)
        job_id = max(last, highest) + 1
        atomic_write(self._sequence_file, f"{job_id}\n".encode())
        return job_id

    # -- paths
    def meta_path(self, job_id: int) -> Path:
        return self.dir / f"j{job_id:08d}.json"

    def document_path(self, job: Job, number: int) -> Path:
        return self.dir / f"j{job.id:08d}-{number}.doc"

    def path_of(self, document: Document) -> Path:
        return self.dir / document.path

    # -- writes
    def save(self, job: Job) -> None:
        atomic_write(self.meta_path(job.id), json.dumps(job.to_json()).encode())

    def encode(self, job: Job) -> bytes:
        """Snapshot a job now (on the event loop) so a later write stores this state."""
        return json.dumps(job.to_json()).encode()

    def write_snapshot(self, job_id: int, snapshot: bytes) -> None:
        atomic_write(self.meta_path(job_id), snapshot)

    def open_document(self, job: Job, number: int) -> DocumentWriter:
        return DocumentWriter(self.document_path(job, number))

    def remove_documents(self, job: Job) -> None:
        for doc in job.documents:
            (self.dir / doc.path).unlink(missing_ok=True)

    def delete(self, job: Job) -> None:
        self.remove_documents(job)
        self.meta_path(job.id).unlink(missing_ok=True)

    # -- load
    def load(self) -> list[Job]:
        """Read every job back and repair what a crash left (see the module docstring)."""
        jobs: list[Job] = []
        for name in sorted(os.listdir(self.dir)):
            path = self.dir / name
            if name.endswith(".tmp"):
                path.unlink(missing_ok=True)
                continue
            if not _META.match(name):
                continue
            try:
                job = Job.from_json(json.loads(path.read_bytes()))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                # Atomic writes make this impossible short of disk corruption; keep the
                # file for a human instead of deleting evidence.
                log.error("spool: cannot read %s (%s); moved aside", path, exc)
                path.rename(path.with_suffix(".corrupt"))
                continue
            if self._repair(job):
                self.save(job)
            jobs.append(job)
        jobs.sort(key=lambda j: j.id)
        # Document files whose job metadata is gone are orphans of a crash mid-create.
        known = {d.path for j in jobs for d in j.documents}
        for name in os.listdir(self.dir):
            if name.endswith(".doc") and name not in known:
                (self.dir / name).unlink(missing_ok=True)
        return jobs

    def _repair(self, job: Job) -> bool:
        if job.state.terminal:
            return False
        if job.incoming:
            job.incoming = False
            job.set_state(JobState.ABORTED, "submission-interrupted", "aborted-by-system")
            self.remove_documents(job)
            return True
        missing = [d for d in job.documents if not self.path_of(d).exists()]
        if missing:
            job.set_state(JobState.ABORTED, "document-access-error", "aborted-by-system")
            return True
        if job.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
            # Requeued after a restart (firmware.job_states.REQUEUED_AFTER_RESTART).  A
            # suspension (RFC 3998 Suspend-Current-Job) ends with the job it held: left
            # set, the requeued job would take Resume-Job into processing without printing.
            job.suspended = False
            if job.delivered:
                # Only the closing of the job was lost: it is finished, not reprinted.
                job.set_state(JobState.PENDING, "job-queued")
                return True
            job.set_state(JobState.PENDING, "job-queued", RESTARTED_REASON)
            job.bytes_sent = 0
            return True
        return False

    def trim_history(self, jobs: list[Job], keep: int) -> list[Job]:
        """Delete the oldest finished jobs beyond ``keep``; returns the ones removed."""
        finished = [j for j in jobs if j.state.terminal]
        drop = finished[: max(0, len(finished) - keep)]
        for job in drop:
            self.delete(job)
        return drop
