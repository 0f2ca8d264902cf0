"""The job state machine: the RFC 8011 §5.3.7 ``job-state`` values and, in one table, the
changes between them that this printer makes.

RFC 8011 §5.3.7 (Figure 3, "IPP Job Life Cycle") draws a job going left to right::

                                                   +----> canceled
                                                  /
    +----> pending  -------> processing ---------+------> completed
    |         ^                   ^               \\
--->+         |                   |                +----> aborted
    |         v                   v               /
    +----> pending-held    processing-stopped ---+

and adds that a job may be canceled from 'pending', 'pending-held' and
'processing-stopped' too, that other changes are "unlikely but not forbidden", and that
'completed', 'canceled' and 'aborted' are terminal: the job has finished and its status
attributes have their final values.  The only way out of a terminal state is Restart-Job
(RFC 8011 §4.3.7), which queues a retained job again.

:data:`TRANSITIONS` lists every (from, to) pair a job may take here, each with a name (the
cause logged with every change) and what in the standards allows it; :meth:`Job.set_state
<firmware.job.Job.set_state>` refuses any other change with :class:`IllegalTransition`.
Setting the state a job is already in is not a transition: it only replaces the job's
``job-state-reasons`` (for example 'job-incoming' becomes 'job-queued' when the last
document of a pending job arrives) and is always allowed.

Two rows are not in the figure and exist for crash recovery (:meth:`firmware.spool.Spool.
load`): a job the daemon was printing when it stopped goes back to 'pending'
(:data:`REQUEUED_AFTER_RESTART`), and one whose every byte had already reached the printer
is then closed as 'completed' without printing it again (:data:`CLOSED_AFTER_RESTART`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class JobState(enum.IntEnum):
    """``job-state`` (RFC 8011 §5.3.7)."""

    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def keyword(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def terminal(self) -> bool:
        """'canceled', 'aborted' or 'completed': the job has finished (RFC 8011 §5.3.7)."""
        return self >= JobState.CANCELED


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed change of ``job-state``."""

    source: JobState
    target: JobState
    #: The cause, short; logged with the job's reasons whenever a job makes this change.
    name: str
    #: Where the standards allow it, and which operation or event causes it here.
    basis: str


class IllegalTransition(Exception):
    """A change of ``job-state`` that :data:`TRANSITIONS` does not allow."""

    def __init__(self, job_id: int, source: JobState, target: JobState) -> None:
        super().__init__(f"job {job_id}: {source.keyword} -> {target.keyword} is not an "
                         f"allowed job-state transition (RFC 8011 §5.3.7)")
        self.job_id = job_id
        self.source = source
        self.target = target


_P = JobState.PENDING
_H = JobState.PENDING_HELD
_R = JobState.PROCESSING
_S = JobState.PROCESSING_STOPPED
_C = JobState.CANCELED
_A = JobState.ABORTED
_D = JobState.COMPLETED

#: A job the daemon was printing when it stopped is queued again (spool recovery).
REQUEUED_AFTER_RESTART = "requeued after a restart"
#: A job delivered in full before a crash is closed, not printed again (worker).
CLOSED_AFTER_RESTART = "closed after a restart"

_TABLE = (
    # -- waiting: held and released
    Transition(_P, _H, "held",
               "RFC 8011 §4.3.5 Hold-Job; RFC 3380 §4.2 Set-Job-Attributes job-hold-until; "
               "a job closed with job-hold-until or under Hold-New-Jobs (RFC 3998) "
               "(job-hold-until-specified)"),
    Transition(_H, _P, "released",
               "RFC 8011 §4.3.6 Release-Job; RFC 3998 Release-Held-New-Jobs; RFC 3380 §4.2 "
               "Set-Job-Attributes job-hold-until no-hold (job-queued)"),
    # -- printing
    Transition(_P, _R, "started",
               "RFC 8011 §5.3.7: the printer starts the job (the worker; job-printing)"),
    Transition(_R, _S, "stopped",
               "RFC 8011 §5.3.7 processing-stopped: the printer stopped (printer-stopped) "
               "or RFC 3998 Suspend-Current-Job (job-suspended)"),
    Transition(_S, _R, "resumed",
               "RFC 8011 §5.3.7: back to processing once the printer's condition clears, "
               "or RFC 3998 Resume-Job (job-printing)"),
    # -- finished: completed
    Transition(_R, _D, "completed",
               "RFC 8011 §5.3.7: every byte reached the printer "
               "(job-completed-successfully)"),
    Transition(_S, _D, "completed while stopped",
               "RFC 8011 §5.3.7 ('other transitions ... are not forbidden'): the printer "
               "took the last bytes but a condition stopped it before the worker saw it "
               "clear (job-completed-successfully)"),
    Transition(_P, _D, CLOSED_AFTER_RESTART,
               "RFC 8011 §5.3.7 ('other transitions ... are not forbidden'): every byte "
               "reached the printer before a crash and only the job's closing was lost; "
               "after the restart the worker closes it at the printer without printing it "
               "again (job-completed-successfully)"),
    # -- finished: canceled (RFC 8011 §5.3.7: from pending, pending-held and
    #    processing-stopped as well as processing)
    Transition(_P, _C, "canceled",
               "RFC 8011 §4.3.3 Cancel-Job; Cancel-Jobs/Cancel-My-Jobs (PWG 5100.11), "
               "Cancel-Document of the last document (PWG 5100.5 §5.1), Purge-Jobs "
               "(RFC 8011 §4.2.9), LPD remove (RFC 1179 §5.5), the web page "
               "(job-canceled-by-user, job-canceled-by-operator)"),
    Transition(_H, _C, "canceled",
               "RFC 8011 §4.3.3 Cancel-Job of a held job, as for pending"),
    Transition(_R, _C, "canceled",
               "RFC 8011 §4.3.3 Cancel-Job of a printing job: the worker stops at a stop "
               "point (processing-to-stop-point), resets the printer and cancels it"),
    Transition(_S, _C, "canceled",
               "RFC 8011 §4.3.3 Cancel-Job of a stopped or suspended job, as for processing"),
    # -- finished: aborted by the system (RFC 8011 §5.3.8 aborted-by-system)
    Transition(_P, _A, "aborted",
               "RFC 8011 §5.3.7/§5.3.8: a submission that never completed (the client went "
               "away: submission-interrupted; Create-Job left open past "
               "multiple-operation-time-out or closed without documents: "
               "job-data-insufficient), or its documents gone after a restart "
               "(document-access-error)"),
    Transition(_H, _A, "aborted",
               "RFC 8011 §5.3.7/§5.3.8: a held job's documents gone after a restart "
               "(document-access-error)"),
    Transition(_R, _A, "aborted",
               "RFC 8011 §5.3.7/§5.3.8: the document cannot be printed "
               "(document-format-error) or printing failed (aborted-by-system)"),
    Transition(_S, _A, "aborted",
               "RFC 8011 §5.3.7 (processing-stopped -> aborted in Figure 3): as for "
               "processing"),
    # -- crash recovery: back to pending
    Transition(_R, _P, REQUEUED_AFTER_RESTART,
               "RFC 8011 §5.3.7 ('other transitions ... are not forbidden'): the daemon "
               "stopped while printing the job; the spool queues it again to print from its "
               "first byte (job-queued, job-restartable), or only to close it if every byte "
               "had reached the printer"),
    Transition(_S, _P, REQUEUED_AFTER_RESTART,
               "as processing -> pending: the daemon stopped while the job was stopped"),
    # -- out of a terminal state: only Restart-Job
    Transition(_C, _P, "restarted",
               "RFC 8011 §4.3.7 Restart-Job of a retained job (job-queued)"),
    Transition(_A, _P, "restarted",
               "RFC 8011 §4.3.7 Restart-Job of a retained job (job-queued)"),
    Transition(_D, _P, "restarted",
               "RFC 8011 §4.3.7 Restart-Job of a retained job (job-queued)"),
)

#: Every allowed (from, to) change of job-state; anything else is an IllegalTransition.
TRANSITIONS: Mapping[tuple[JobState, JobState], Transition] = MappingProxyType(
    {(t.source, t.target): t for t in _TABLE})
assert len(TRANSITIONS) == len(_TABLE), "a (from, to) pair is listed twice"


def transition(source: JobState, target: JobState) -> Transition | None:
    """The table's row for ``source -> target``; None when that change is not allowed."""
    return TRANSITIONS.get((source, target))


def allowed(source: JobState, target: JobState) -> bool:
    """Whether a job in ``source`` may be set to ``target`` (the same state always may:
    that only replaces its reasons)."""
    return source == target or (source, target) in TRANSITIONS
