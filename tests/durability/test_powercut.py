"""Power cut: the spool's file operations are replayed cut off at every point, and every
cut state must load to a consistent queue (the write protocol in firmware/spool.py).

A recorded run submits, prints and finishes jobs through the real System and Spool code;
after every file operation (each write of a document chunk, each rename, each unlink) the
spool directory is photographed.  A photograph is what the disk holds if the power fails
right then, since every step of the protocol is fsynced before the next begins; for each
temp file a torn variant (half written) is checked too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from firmware import spool as spool_module
from firmware.config import load_config
from firmware.job import JobState
from firmware.spool import Spool
from firmware.system import System

Photo = dict[str, bytes]


class Camera:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.photos: list[tuple[Photo, frozenset[str]]] = []
        self.acked: set[str] = set()  # job names whose submission was acknowledged
        self.finishing: set[str] = set()  # may legitimately leave the history from now on

    def snap(self) -> None:
        photo = {p.name: p.read_bytes() for p in self.directory.iterdir() if p.is_file()}
        self.photos.append((photo, frozenset(self.acked - self.finishing)))


@pytest.fixture
def camera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Camera:
    cam = Camera(tmp_path / "state" / "spool")
    real_replace, real_unlink = os.replace, Path.unlink
    real_write = spool_module.DocumentWriter.write

    class OsProxy:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def replace(src: Any, dst: Any) -> None:
            real_replace(src, dst)
            if Path(dst).parent == cam.directory:
                cam.snap()

    def unlink(self: Path, missing_ok: bool = False) -> None:
        real_unlink(self, missing_ok=missing_ok)
        if self.parent == cam.directory:
            cam.snap()

    def write(self: Any, chunk: bytes) -> None:
        real_write(self, chunk)
        self._fh.flush()
        cam.snap()

    monkeypatch.setattr(spool_module, "os", OsProxy())
    monkeypatch.setattr(Path, "unlink", unlink)
    monkeypatch.setattr(spool_module.DocumentWriter, "write", write)
    return cam


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 4096):
        yield data[i:i + 4096]


def record(tmp_path: Path, cam: Camera) -> None:
    config = load_config(None, "emulator", {"state_dir": str(tmp_path / "state")})
    config.history = 1  # so finished jobs are also deleted during the run

    async def scenario() -> None:
        system = System(config)
        printer = system.default_printer
        jobs = []
        for n in range(3):
            job = await system.submit(printer, chunks(bytes([65 + n]) * 10_000),
                                      name=f"job{n}")
            cam.acked.add(job.name)
            jobs.append(job)
        # A Create-Job whose documents never all arrive.
        open_job = await system.create_job(printer, name="open")
        await system.add_document(open_job, chunks(b"Z" * 5000), last=False)
        # Print the first two: processing, delivered, completed (and history trimming).
        for job in jobs[:2]:
            job.set_state(JobState.PROCESSING, "job-printing")
            await system.job_changed_durable(job)
            job.delivered = True
            await system.save_job(job)
            job.set_state(JobState.COMPLETED, "job-completed-successfully")
            cam.finishing.add(job.name)
            await system.job_finished(job)
        cam.finishing.add(jobs[2].name)
        await system.cancel_job(jobs[2])
        system.spool.executor.shutdown(wait=True)

    asyncio.run(scenario())


def test_every_cut_state_loads_consistently(tmp_path: Path, camera: Camera,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, camera)
    monkeypatch.undo()
    assert len(camera.photos) > 30  # the run really went through many file operations
    checked = 0
    for index, (photo, acked) in enumerate(camera.photos):
        variants = [photo]
        for name, data in photo.items():
            if name.endswith(".tmp") and len(data) > 1:
                torn = dict(photo)
                torn[name] = data[: len(data) // 2]
                variants.append(torn)
        for variant in variants:
            directory = tmp_path / f"cut{index}-{checked}"
            directory.mkdir()
            for name, data in variant.items():
                (directory / name).write_bytes(data)
            jobs = Spool(directory).load()  # must not raise
            check(directory, jobs, acked, index)
            checked += 1
    assert checked > len(camera.photos)


def check(directory: Path, jobs: list[Any], acked: frozenset[str], index: int) -> None:
    names = {j.name: j for j in jobs}
    left = os.listdir(directory)
    assert not [n for n in left if n.endswith(".tmp")], (index, left)
    referenced = {d.path for j in jobs for d in j.documents}
    assert {n for n in left if n.endswith(".doc")} <= referenced, (index, left)
    for job in jobs:
        if job.state in (JobState.PENDING, JobState.PENDING_HELD):
            assert not job.incoming, index
            for doc in job.documents:
                path = directory / doc.path
                assert path.exists() and path.stat().st_size == doc.size, (index, doc)
        assert job.state != JobState.PROCESSING, index  # repaired to pending on load
    for name in acked:
        # An acknowledged job that has not finished is never lost or aborted.
        assert name in names, (index, name)
        assert names[name].state != JobState.ABORTED, (index, name)
