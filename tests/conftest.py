from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests import scratch
from tests.daemon import Daemon
from tests.samples import pwg_raster_samples, suite_documents

# No example database: a run replays nothing an earlier run found.  (Hypothesis's other
# files go in the run's directory: see pytest_configure.)
hypothesis_settings.register_profile("printbridge", database=None)
hypothesis_settings.load_profile("printbridge")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before any test or tool runs: this run's own HOME and TMPDIR (tests/scratch.py),
    pytest's ``tmp_path`` directories and Hypothesis's cache (not ``.hypothesis/`` in the
    work tree) in it."""
    run = scratch.start_run()
    if config.option.basetemp is None:  # short: daemons' admin sockets live below it
        config.option.basetemp = str(run.root / "t")
    set_hypothesis_home_dir(run.root / "hypothesis")
    config.addinivalue_line("markers", "run_last: runs after every other test of the session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker("run_last")]
    items[:] = [item for item in items if item not in last] + last


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """After the last fixture: the run's directories go; failing that fails the run."""
    problems = scratch.end_run()
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in problems:
            if reporter is not None:
                reporter.write_line(f"ERROR: {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def sample_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documents ipp-1.1.test names and ipptool's ``-f`` files (tests/samples.py),
    made for this run: no run reads what an earlier one generated."""
    return suite_documents(tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="session")
def ipptool_documents(sample_documents: Path) -> Path:
    """:func:`sample_documents` plus the PWG raster samples ipp-everywhere.test sends
    (300 and 600 dpi, ``black_1`` and ``sgray_8``: what the emulator advertises)."""
    return pwg_raster_samples(sample_documents, (300, 600), ("black_1", "sgray_8"))


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
