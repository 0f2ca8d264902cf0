"""A print job: what was submitted, where its documents are, and how far it got.

Job states are the RFC 8011 §5.3.7 ``job-state`` enums; which changes between them are
allowed is :mod:`firmware.job_states`' table, and :meth:`Job.set_state` is the only way to
change one.  Everything here is plain data that the spool serialises to JSON; the IPP layer
turns it into job attributes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from firmware.job_states import IllegalTransition, JobState, allowed, transition

__all__ = ["Document", "IllegalTransition", "Job", "JobState"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Document:
    """One document of a job; its bytes live in the spool file ``path``."""

    number: int
    format: str = "application/octet-stream"
    name: str = ""
    size: int = 0
    path: str = ""  # relative to the spool directory
    compression: str = "none"
    attributes: dict[str, Any] = field(default_factory=dict)
    #: Cancel-Document (PWG 5100.5 §5.1): skipped when the job prints.
    canceled: bool = False


@dataclass(slots=True)
class Job:
    id: int
    printer: str
    name: str = "Untitled"
    user: str = "anonymous"
    origin: str = "ipp"  # ipp, lpd, raw, local
    host: str = ""
    state: JobState = JobState.PENDING
    reasons: list[str] = field(default_factory=lambda: ["none"])
    #: Job template attributes as JSON-safe values (ints, strings, dicts, lists).
    attributes: dict[str, Any] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    #: True while more documents may arrive (Create-Job before the last Send-Document).
    incoming: bool = False
    created: float = field(default_factory=time.time)
    processing_at: float | None = None
    completed_at: float | None = None
    bytes_sent: int = 0
    impressions: int = 0
    sheets: int = 0
    attempts: int = 0
    message: str = ""
    #: Set when a cancel arrives while the job is printing; the worker finishes the cancel.
    cancel_requested: bool = False
    #: Suspend-Current-Job (RFC 3998 §3.2.1): the worker stops sending until Resume-Job.
    suspended: bool = False
    #: Queue position: jobs print in ascending order (Promote-Job and Schedule-Job-After
    #: of RFC 3998 change it); the job id until then.
    order: float = 0.0
    #: False once a finished job's documents were deleted (then it cannot be reprinted).
    documents_retained: bool = True
    #: Every byte of the job reached the printer (persisted before the job is closed).
    delivered: bool = False

    def __post_init__(self) -> None:
        if not self.order:
            self.order = float(self.id)

    def printable_documents(self) -> list[Document]:
        return [d for d in self.documents if not d.canceled]

    @property
    def size(self) -> int:
        return sum(d.size for d in self.documents)

    @property
    def active(self) -> bool:
        return not self.state.terminal

    def can_become(self, state: JobState) -> bool:
        """Whether :meth:`set_state` would accept ``state`` now."""
        return allowed(self.state, state)

    def set_state(self, state: JobState, reason: str, *more_reasons: str) -> None:
        """Change the job's state, for ``reason`` (its ``job-state-reasons`` keyword,
        RFC 8011 §5.3.8; ``more_reasons`` follow it).  The reasons replace the job's
        (they are saved and reported with it) and the change is logged with its cause.

        Raises :class:`IllegalTransition`, changing nothing, when the table in
        :mod:`firmware.job_states` has no row for the change.  The state the job is
        already in is not a change: only the reasons are replaced.
        """
        if not reason:
            raise ValueError(f"job {self.id}: a job-state change needs a reason")
        reasons = [reason, *more_reasons]
        if state == self.state:
            self.reasons = reasons
            log.debug("job %d: still %s (%s)", self.id, state.keyword, ", ".join(reasons))
            return
        step = transition(self.state, state)
        if step is None:
            raise IllegalTransition(self.id, self.state, state)
        self.state = state
        self.reasons = reasons
        now = time.time()
        if state == JobState.PROCESSING and self.processing_at is None:
            self.processing_at = now
        if state.terminal:
            self.completed_at = now
        log.info("job %d: %s -> %s, %s (%s)", self.id, step.source.keyword, state.keyword,
                 step.name, ", ".join(reasons))

    def add_reason(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons = [r for r in self.reasons if r != "none"] + [reason]

    def remove_reason(self, reason: str) -> None:
        if reason in self.reasons:
            self.reasons = [r for r in self.reasons if r != reason] or ["none"]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = int(self.state)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        data = dict(data)
        data["state"] = JobState(data["state"])
        data["documents"] = [Document(**d) for d in data.get("documents", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
