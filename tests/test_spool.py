"""The spool's files and what load() makes of a crash."""

from __future__ import annotations

import os
from pathlib import Path

from firmware.job import Document, Job, JobState
from firmware.spool import RESTARTED_REASON, Spool


def spooled(spool: Spool, job_id: int, state: JobState, incoming: bool = False) -> Job:
    job = Job(id=job_id, printer="P", state=state, incoming=incoming)
    path = spool.document_path(job, 1)
    path.write_bytes(b"data")
    job.documents.append(Document(1, size=4, path=path.name))
    spool.save(job)
    return job


def test_ids_never_repeat(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    ids = [spool.next_id() for _ in range(3)]
    assert ids == [1, 2, 3]
    assert Spool(tmp_path).next_id() == 4


def test_load_repairs_crash_states(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spooled(spool, 1, JobState.COMPLETED)
    spooled(spool, 2, JobState.PROCESSING)
    spooled(spool, 3, JobState.PENDING)
    spooled(spool, 4, JobState.PENDING, incoming=True)
    (tmp_path / "j00000005.json.tmp").write_text("{half")
    (tmp_path / "j00000009-1.doc").write_bytes(b"orphan")
    jobs = {j.id: j for j in Spool(tmp_path).load()}
    assert jobs[1].state == JobState.COMPLETED
    assert jobs[2].state == JobState.PENDING and RESTARTED_REASON in jobs[2].reasons
    assert jobs[3].state == JobState.PENDING
    assert jobs[4].state == JobState.ABORTED and "submission-interrupted" in jobs[4].reasons
    assert not (tmp_path / "j00000004-1.doc").exists()
    assert not (tmp_path / "j00000005.json.tmp").exists()
    assert not (tmp_path / "j00000009-1.doc").exists()
    # The repair itself was saved.
    assert {j.id: j.state for j in Spool(tmp_path).load()}[2] == JobState.PENDING


def test_missing_document_aborts(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    job = spooled(spool, 1, JobState.PENDING)
    os.unlink(spool.path_of(job.documents[0]))
    assert spool.load()[0].state == JobState.ABORTED


def test_corrupt_metadata_is_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spooled(spool, 1, JobState.PENDING)
    (tmp_path / "j00000002.json").write_text("not json")
    jobs = spool.load()
    assert [j.id for j in jobs] == [1]
    assert (tmp_path / "j00000002.corrupt").exists()


def test_document_writer_commit_and_abort(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    job = Job(id=1, printer="P")
    writer = spool.open_document(job, 1)
    writer.write(b"abc")
    writer.commit()
    assert spool.document_path(job, 1).read_bytes() == b"abc"
    writer = spool.open_document(job, 2)
    writer.write(b"x")
    writer.abort()
    assert not spool.document_path(job, 2).exists()
    assert not list(tmp_path.glob("*.tmp"))
