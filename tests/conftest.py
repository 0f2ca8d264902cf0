from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[type[Daemon]]:
    """Factory for daemons; every daemon a test starts is stopped by PID afterwards."""
    started: list[Daemon] = []

    def factory(*args: object, **kwargs: object) -> Daemon:
        kwargs.setdefault("state_dir", tmp_path / f"state{len(started)}")
        daemon = Daemon(*args, **kwargs)  # type: ignore[arg-type]
        started.append(daemon)
        return daemon

    yield factory  # type: ignore[misc]
    for daemon in started:
        daemon.stop()


@pytest.fixture
def daemon(make_daemon: type[Daemon]) -> Daemon:
    return make_daemon().start()

