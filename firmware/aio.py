"""asyncio helpers the daemon's long-lived tasks share."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float | None) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass (None: no limit); True if it was set.

    ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 ``wait_for`` returns the
    result when the event fires in the same turn as a cancel and so swallows the cancel
    (CPython gh-86296, fixed in 3.12 by building ``wait_for`` on ``timeout``); a task being
    stopped at that moment then waits for ever, and so does whoever awaits it (seen: the
    status LED's task hung the daemon's shutdown when a job completed as it stopped).
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
