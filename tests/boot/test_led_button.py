"""Status LED and button at the libgpiod v2 seam (tests/boot/fake_gpiod.py stands in for
the ``gpiod`` module), driven by a real System with the emulated printer."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.board import BoardIO, reset
from firmware.board.gpio import GpioOutput, LineSpec, NullOutput, chip_path, load_gpiod
from firmware.board.led import StatusLed, system_light
from firmware.config import Config, load_config
from firmware.printer import StatusLight
from firmware.system import System
from hal.port import PortCondition
from tests.boot import fake_gpiod

LED = {"chip": "pinctrl-bcm2711", "line": 17, "active_low": False}
BUTTON = {"chip": "pinctrl-bcm2711", "line": 27, "active_low": True, "bias": "pull-up"}


@pytest.fixture(autouse=True)
def gpiod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Two fake chips; the LED and button chip is found by its label."""
    fake_gpiod.reset()
    dev = tmp_path / "dev"
    dev.mkdir()
    for name, label in (("gpiochip0", "raspberrypi-exp-gpio"), ("gpiochip1", "pinctrl-bcm2711")):
        (dev / name).touch()
        fake_gpiod.CHIPS[str(dev / name)] = label
    monkeypatch.setattr("firmware.board.gpio.DEV_GLOB", str(dev / "gpiochip*"))
    yield fake_gpiod
    fake_gpiod.reset()


def config(tmp_path: Path, gpio: bool = True, rate: str = "0") -> Config:
    cfg = load_config(None, "emulator", {"state_dir": tmp_path / "state"})
    cfg.status_interval = 0.05
    cfg.printers[0].options["rate"] = rate
    if gpio:
        cfg.gpio = {"led": dict(LED), "button": dict(BUTTON)}
    return cfg


def toggles(req: fake_gpiod.LineRequest, since: float) -> list[float]:
    """Times the LED line changed value after ``since``."""
    return [t for t, _, _ in req.writes if t >= since]


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_chip_found_by_label_not_number(tmp_path: Path) -> None:
    for name in ("gpiochip0", "gpiochip1"):
        (tmp_path / name).touch()
    fake_gpiod.CHIPS.clear()
    fake_gpiod.CHIPS[str(tmp_path / "gpiochip0")] = "raspberrypi-exp-gpio"
    fake_gpiod.CHIPS[str(tmp_path / "gpiochip1")] = "pinctrl-rp1"
    glob = str(tmp_path / "gpiochip*")
    assert chip_path(fake_gpiod, "pinctrl-rp1", glob) == str(tmp_path / "gpiochip1")
    assert chip_path(fake_gpiod, "gpiochip4", glob) == "/dev/gpiochip4"
    assert chip_path(fake_gpiod, "/dev/gpiochip9", glob) == "/dev/gpiochip9"
    with pytest.raises(LookupError):
        chip_path(fake_gpiod, "pinctrl-bcm2835", glob)


def test_output_line_request_settings() -> None:
    out = GpioOutput(fake_gpiod, LineSpec("pinctrl-bcm2711", 17, active_low=True))
    req = fake_gpiod.REQUESTS[-1]
    assert req.path.endswith("/dev/gpiochip1") and req.consumer == "printbridge-led"
    settings = req.config[17]
    assert settings.direction is fake_gpiod.Direction.OUTPUT and settings.active_low
    assert settings.output_value is fake_gpiod.Value.INACTIVE
    out.set(True)
    out.set(True)  # no second write for the same value
    assert [v for _, _, v in req.writes] == [fake_gpiod.Value.ACTIVE]
    out.close()
    assert req.released and req.values[17] is fake_gpiod.Value.INACTIVE


def test_led_follows_the_printer_model_through_events(tmp_path: Path) -> None:
    async def main() -> None:
        system = System(config(tmp_path, gpio=False))
        printer = system.default_printer
        led = StatusLed(system, NullOutput())
        assert led.light is StatusLight.READY
        printer.port_conditions = frozenset({PortCondition.JAM})
        assert led.light is StatusLight.READY  # nothing published yet: no copy of state
        printer.changed()
        assert led.light is StatusLight.ERROR is printer.status_light
        printer.port_conditions = frozenset({PortCondition.OFFLINE})
        printer.changed()
        assert led.light is StatusLight.ERROR  # offline blinks fast too
        printer.port_conditions = frozenset()
        printer.changed()
        assert led.light is StatusLight.READY
        await led.stop()
        system.spool.executor.shutdown()

    asyncio.run(main())


def test_led_patterns_on_the_line(tmp_path: Path) -> None:
    """Steady when ready, slow blink (500/500 ms) while printing, fast blink (100/100 ms)
    on paper-out; measured on the fake line request."""

    async def main() -> None:
        system = System(config(tmp_path, rate="2000"))
        await system.start()
        board = BoardIO(system, asyncio.Event(), gpiod=fake_gpiod)
        await board.start()
        req = next(r for r in fake_gpiod.REQUESTS if r.consumer == "printbridge-led")
        assert req.config[17].direction is fake_gpiod.Direction.OUTPUT
        await asyncio.sleep(0.3)
        assert req.values[17] is fake_gpiod.Value.ACTIVE
        assert len(req.writes) == 1  # steady: switched on once

        async def chunks():  # type: ignore[no-untyped-def]
            yield b"x" * 40000 + b"\f"  # 20 s at 2000 B/s

        printer = system.default_printer
        await system.submit(printer, chunks(), name="long")
        await wait_for(lambda: board.led is not None and board.led.light is StatusLight.PRINTING)
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(1.6)
        slow = toggles(req, start)
        gaps = [b - a for a, b in itertools.pairwise(slow)]
        assert 2 <= len(slow) <= 5, slow
        assert all(0.4 < g < 0.9 for g in gaps), gaps  # 500 ms on, 500 ms off

        worker = system.workers[printer.name]
        worker.port.inject("paper-out")  # type: ignore[attr-defined]
        worker.request_poll()
        await wait_for(lambda: board.led is not None and board.led.light is StatusLight.ERROR)
        assert system_light(system) is StatusLight.ERROR
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(1.0)
        fast = toggles(req, start)
        assert len(fast) >= 6, fast  # ~10 changes a second (slow blink: 2)

        for job in list(printer.jobs.values()):
            await system.cancel_job(job)
        worker.port.inject("clear")  # type: ignore[attr-defined]
        worker.request_poll()
        await wait_for(lambda: board.led is not None and board.led.light is StatusLight.READY)
        await asyncio.sleep(0.3)
        assert req.values[17] is fake_gpiod.Value.ACTIVE
        await board.stop()
        await system.stop()
        assert req.released and req.values[17] is fake_gpiod.Value.INACTIVE

    asyncio.run(main())


def button_system(tmp_path: Path, short_max: float = 0.5, hold: float = 0.6):  # type: ignore[no-untyped-def]
    cfg = config(tmp_path)
    system = System(cfg)
    stop = asyncio.Event()
    board = BoardIO(system, stop, gpiod=fake_gpiod, short_max=short_max, hold=hold)
    return system, stop, board


def test_button_short_press_prints_a_status_page(tmp_path: Path) -> None:
    async def main() -> None:
        system, stop, board = button_system(tmp_path)
        await system.start()
        await board.start()
        req = next(r for r in fake_gpiod.REQUESTS if r.consumer == "printbridge-button")
        settings = req.config[27]
        assert settings.direction is fake_gpiod.Direction.INPUT
        assert settings.edge_detection is fake_gpiod.Edge.BOTH
        assert settings.bias is fake_gpiod.Bias.PULL_UP and settings.active_low
        now = asyncio.get_running_loop().time()
        req.edge(27, True, now)
        await asyncio.sleep(0.05)
        req.edge(27, False, now + 0.2)
        printer = system.default_printer
        await wait_for(lambda: any(j.name == "Status page" for j in printer.jobs.values()))
        job = next(j for j in printer.jobs.values() if j.name == "Status page")
        assert job.user == "button" and job.origin == "button"
        await wait_for(lambda: job.state.keyword == "completed")
        received = (system.config.state_dir / "output" / str(job.id) / "received.bin").read_bytes()
        assert b"Printbridge test page" in received or len(received) > 1000
        assert not stop.is_set() and board.exit_code == 0
        await board.stop()
        await system.stop()

    asyncio.run(main())


def test_button_middle_press_does_nothing_and_hold_resets(tmp_path: Path) -> None:
    async def main() -> None:
        system, stop, board = button_system(tmp_path, short_max=0.2, hold=0.6)
        await system.start()
        await board.start()
        req = next(r for r in fake_gpiod.REQUESTS if r.consumer == "printbridge-button")
        loop = asyncio.get_running_loop()
        # 0.4 s: longer than a short press, shorter than the hold
        t = loop.time()
        req.edge(27, True, t)
        await asyncio.sleep(0.4)
        req.edge(27, False, t + 0.4)
        await asyncio.sleep(0.4)
        assert not system.default_printer.jobs and not stop.is_set()
        # hold: fires while still pressed
        req.edge(27, True, loop.time())
        await asyncio.wait_for(stop.wait(), 3)
        assert board.reset_requested and board.exit_code == reset.EXIT_RESTART == 75
        assert (system.config.state_dir / reset.MARKER).exists()
        req.edge(27, False, loop.time())  # the release after a hold is no short press
        await asyncio.sleep(0.1)
        assert not system.default_printer.jobs
        await board.stop()
        await system.stop()

    asyncio.run(main())


def test_factory_reset_erases_the_state_dir(tmp_path: Path) -> None:
    state = tmp_path / "var" / "printbridge"
    (state / "spool").mkdir(parents=True)
    (state / "spool" / "j00001.json").write_text("{}")
    (state / "printers").mkdir()
    (state / "printers" / "Office.json").write_text("{}")
    (state / "users").write_text("admin:admin:scrypt$...\n")
    (state / "tls").mkdir()
    (state / "printbridge.sock").touch()
    assert not reset.apply_pending(state)  # nothing requested: nothing erased
    assert (state / "users").exists()
    reset.request(state)
    assert reset.apply_pending(state)
    assert sorted(p.name for p in state.iterdir()) == ["printbridge.sock"]
    assert not reset.apply_pending(state)


def test_factory_reset_refuses_shallow_paths(tmp_path: Path) -> None:
    assert not reset.safe_to_erase(Path("/"))
    assert not reset.safe_to_erase(Path("/var"))
    assert not reset.safe_to_erase(Path("/var/lib/.."))
    assert reset.safe_to_erase(Path("/var/lib/printbridge"))
    assert reset.safe_to_erase(tmp_path)


def test_no_gpiod_means_a_quiet_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        monkeypatch.setattr("firmware.board.load_gpiod", lambda: None)
        system = System(config(tmp_path))
        board = BoardIO(system, asyncio.Event())
        await board.start()
        assert board.led is not None and board.button is None
        assert isinstance(board.led.output, NullOutput)
        await board.stop()
        # the emulator board has no lines at all
        system2 = System(config(tmp_path / "2", gpio=False))
        board2 = BoardIO(system2, asyncio.Event(), gpiod=fake_gpiod)
        await board2.start()
        assert not fake_gpiod.REQUESTS and board2.button is None
        await board2.stop()
        system.spool.executor.shutdown()
        system2.spool.executor.shutdown()

    asyncio.run(main())


def test_load_gpiod_rejects_the_v1_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    v1 = types.ModuleType("gpiod")
    v1.__version__ = "1.5.4"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gpiod", v1)
    assert load_gpiod() is None
    monkeypatch.setitem(sys.modules, "gpiod", fake_gpiod)
    assert load_gpiod() is fake_gpiod
