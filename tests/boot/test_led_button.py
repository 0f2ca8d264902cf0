"""Status LED and button at the libgpiod seam, driven by a real System with the emulated
printer.  The ``gpiod`` fixture runs each test against both bindings: the v2 API
(tests/boot/fake_gpiod.py, PyPI ``gpiod`` >= 2 on 64-bit Raspberry Pi OS) and the v1 API
(tests/boot/fake_gpiod_v1.py, Debian's ``python3-libgpiod`` 1.6.3 on 32-bit)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from firmware.board import BoardIO, reset
from firmware.board.button import Button
from firmware.board.gpio import (
    GpioInput,
    LineSpec,
    NullOutput,
    chip_path,
    load_gpiod,
    open_input,
    open_output,
)
from firmware.board.gpiod_v1 import V1Input, V1Output
from firmware.board.led import StatusLed, system_light
from firmware.config import Config, load_config
from firmware.printer import StatusLight
from firmware.system import System
from hal.port import PortCondition
from tests.boot import fake_gpiod, fake_gpiod_v1

LED = {"chip": "pinctrl-bcm2711", "line": 17, "active_low": False}
BUTTON = {"chip": "pinctrl-bcm2711", "line": 27, "active_low": True, "bias": "pull-up"}


FAKES = {"v2": fake_gpiod, "v1": fake_gpiod_v1}


@pytest.fixture(autouse=True)
def chips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two fake chips (in both fakes); the LED and button chip is found by its label."""
    for fake in FAKES.values():
        fake.reset()
    dev = tmp_path / "dev"
    dev.mkdir()
    for name, label in (("gpiochip0", "raspberrypi-exp-gpio"), ("gpiochip1", "pinctrl-bcm2711")):
        (dev / name).touch()
        for fake in FAKES.values():
            fake.CHIPS[str(dev / name)] = label
    monkeypatch.setattr("firmware.board.gpio.DEV_GLOB", str(dev / "gpiochip*"))
    yield
    for fake in FAKES.values():
        fake.reset()


@pytest.fixture(params=list(FAKES))
def gpiod(request: pytest.FixtureRequest) -> ModuleType:
    """The fake ``gpiod`` module: the v2 API, then the v1 API."""
    return FAKES[request.param]


def active(gpiod: ModuleType) -> Any:
    return fake_gpiod.Value.ACTIVE if gpiod is fake_gpiod else 1


def inactive(gpiod: ModuleType) -> Any:
    return fake_gpiod.Value.INACTIVE if gpiod is fake_gpiod else 0


def requested(gpiod: ModuleType, consumer: str) -> Any:
    """The fake's request (v2 ``LineRequest``, v1 ``Line``) made for ``consumer``."""
    return next(r for r in gpiod.REQUESTS if r.consumer == consumer)


def settings(gpiod: ModuleType, req: Any, offset: int) -> dict[str, Any]:
    """What was asked for the line, in terms common to both APIs."""
    if gpiod is fake_gpiod:
        cfg = req.config[offset]
        bias = {fake_gpiod.Bias.PULL_UP: "pull-up", fake_gpiod.Bias.PULL_DOWN: "pull-down",
                fake_gpiod.Bias.DISABLED: "disabled"}.get(cfg.bias, "")
        return {"output": cfg.direction is fake_gpiod.Direction.OUTPUT,
                "both_edges": cfg.edge_detection is fake_gpiod.Edge.BOTH,
                "active_low": cfg.active_low, "bias": bias}
    v1 = fake_gpiod_v1
    assert req.offset() == offset
    bias = {v1.LINE_REQ_FLAG_BIAS_PULL_UP: "pull-up", v1.LINE_REQ_FLAG_BIAS_PULL_DOWN: "pull-down",
            v1.LINE_REQ_FLAG_BIAS_DISABLE: "disabled"}
    return {"output": req.req_type == v1.LINE_REQ_DIR_OUT,
            "both_edges": req.req_type == v1.LINE_REQ_EV_BOTH_EDGES,
            "active_low": bool(req.flags & v1.LINE_REQ_FLAG_ACTIVE_LOW),
            "bias": next((name for flag, name in bias.items() if req.flags & flag), "")}


def chip_closed(gpiod: ModuleType, req: Any) -> bool:
    """v1 lines keep their chip open until released; v2 requests hold no chip."""
    return gpiod is fake_gpiod or req.owner().closed


def config(tmp_path: Path, gpio: bool = True, rate: str = "0") -> Config:
    cfg = load_config(None, "emulator", {"state_dir": tmp_path / "state"})
    cfg.status_interval = 0.05
    cfg.printers[0].options["rate"] = rate
    if gpio:
        cfg.gpio = {"led": dict(LED), "button": dict(BUTTON)}
    return cfg


def toggles(req: Any, since: float) -> list[float]:
    """Times the LED line changed value after ``since``."""
    return [t for t, _, _ in req.writes if t >= since]


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_chip_found_by_label_not_number(tmp_path: Path, gpiod: ModuleType) -> None:
    for name in ("gpiochip0", "gpiochip1", "gpiochip2"):
        (tmp_path / name).touch()
    gpiod.CHIPS.clear()
    gpiod.CHIPS[str(tmp_path / "gpiochip0")] = "raspberrypi-exp-gpio"
    gpiod.CHIPS[str(tmp_path / "gpiochip2")] = "pinctrl-rp1"  # gpiochip1: not a chip
    glob = str(tmp_path / "gpiochip*")
    assert chip_path(gpiod, "pinctrl-rp1", glob) == str(tmp_path / "gpiochip2")
    assert chip_path(gpiod, "gpiochip4", glob) == "/dev/gpiochip4"
    assert chip_path(gpiod, "/dev/gpiochip9", glob) == "/dev/gpiochip9"
    with pytest.raises(LookupError):
        chip_path(gpiod, "pinctrl-bcm2835", glob)


def test_output_line_request_settings(gpiod: ModuleType) -> None:
    out = open_output(gpiod, LineSpec("pinctrl-bcm2711", 17, active_low=True))
    assert isinstance(out, V1Output) == (gpiod is fake_gpiod_v1)
    req = gpiod.REQUESTS[-1]
    assert req.path.endswith("/dev/gpiochip1") and req.consumer == "printbridge-led"
    assert settings(gpiod, req, 17) == {"output": True, "both_edges": False,
                                        "active_low": True, "bias": ""}
    assert req.values[17] == inactive(gpiod)  # requested switched off
    out.set(True)
    out.set(True)  # no second write for the same value
    assert [v for _, _, v in req.writes] == [active(gpiod)]
    out.close()
    assert req.released and req.values[17] == inactive(gpiod) and chip_closed(gpiod, req)


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


def test_led_patterns_on_the_line(tmp_path: Path, gpiod: ModuleType) -> None:
    """Steady when ready, slow blink (500/500 ms) while printing, fast blink (100/100 ms)
    on paper-out; measured on the fake line request."""

    async def main() -> None:
        system = System(config(tmp_path, rate="2000"))
        await system.start()
        board = BoardIO(system, asyncio.Event(), gpiod=gpiod)
        await board.start()
        req = requested(gpiod, "printbridge-led")
        assert settings(gpiod, req, 17)["output"]
        await asyncio.sleep(0.3)
        assert req.values[17] == active(gpiod)
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
        assert req.values[17] == active(gpiod)
        await board.stop()
        await system.stop()
        assert req.released and req.values[17] == inactive(gpiod) and chip_closed(gpiod, req)

    asyncio.run(main())


def button_system(tmp_path: Path, gpiod: ModuleType,  # type: ignore[no-untyped-def]
                  short_max: float = 0.5, hold: float = 0.6):
    cfg = config(tmp_path)
    system = System(cfg)
    stop = asyncio.Event()
    board = BoardIO(system, stop, gpiod=gpiod, short_max=short_max, hold=hold)
    return system, stop, board


def test_button_short_press_prints_a_status_page(tmp_path: Path, gpiod: ModuleType) -> None:
    async def main() -> None:
        system, stop, board = button_system(tmp_path, gpiod)
        await system.start()
        await board.start()
        req = requested(gpiod, "printbridge-button")
        if gpiod is fake_gpiod:
            assert req.config[27].direction is fake_gpiod.Direction.INPUT
        assert settings(gpiod, req, 27) == {"output": False, "both_edges": True,
                                            "active_low": True, "bias": "pull-up"}
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
        assert req.released and chip_closed(gpiod, req)

    asyncio.run(main())


def test_button_middle_press_does_nothing_and_hold_resets(tmp_path: Path,
                                                          gpiod: ModuleType) -> None:
    async def main() -> None:
        system, stop, board = button_system(tmp_path, gpiod, short_max=0.2, hold=0.6)
        await system.start()
        await board.start()
        req = requested(gpiod, "printbridge-button")
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


def test_load_gpiod_uses_the_v1_api_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """32-bit Raspberry Pi OS: Debian's python3-libgpiod 1.6.3 is the v1 API, and is used."""
    import sys

    monkeypatch.setitem(sys.modules, "gpiod", fake_gpiod_v1)
    assert load_gpiod() is fake_gpiod_v1
    monkeypatch.setitem(sys.modules, "gpiod", fake_gpiod)
    assert load_gpiod() is fake_gpiod
    neither = ModuleType("gpiod")
    monkeypatch.setitem(sys.modules, "gpiod", neither)
    assert load_gpiod() is None
    monkeypatch.setitem(sys.modules, "gpiod", None)  # not installed
    assert load_gpiod() is None


def test_v1_missing_bias_support_warns_and_continues(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """libgpiod < 1.5 has no bias flags: the button is requested without bias, with a
    logged reason, and still works active-low."""
    monkeypatch.delattr(fake_gpiod_v1, "LINE_REQ_FLAG_BIAS_PULL_UP")
    with caplog.at_level(logging.WARNING, "firmware.board.gpiod_v1"):
        line = open_input(fake_gpiod_v1, LineSpec("pinctrl-bcm2711", 27, True, "pull-up"))
    req = requested(fake_gpiod_v1, "printbridge-button")
    assert req.flags == fake_gpiod_v1.LINE_REQ_FLAG_ACTIVE_LOW
    assert "LINE_REQ_FLAG_BIAS_PULL_UP" in caplog.text and "without pull-up bias" in caplog.text
    line.close()


def test_v1_kernel_refusing_bias_warns_and_continues(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(fake_gpiod_v1, "KERNEL_REJECTS_BIAS", True)
    with caplog.at_level(logging.WARNING, "firmware.board.gpiod_v1"):
        line = open_input(fake_gpiod_v1, LineSpec("pinctrl-bcm2711", 27, True, "pull-up"))
    req = requested(fake_gpiod_v1, "printbridge-button")
    assert req.flags == fake_gpiod_v1.LINE_REQ_FLAG_ACTIVE_LOW
    assert "kernel refused pull-up bias" in caplog.text
    line.close()


def test_v1_bad_line_is_an_os_error_and_closes_the_chip(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Any] = []
    real_chip = fake_gpiod_v1.Chip

    def chip(path: str) -> Any:
        opened.append(real_chip(path))
        return opened[-1]

    monkeypatch.setattr(fake_gpiod_v1, "Chip", chip)
    with pytest.raises(OSError):
        open_output(fake_gpiod_v1, LineSpec("pinctrl-bcm2711", 99))
    assert opened and all(c.closed for c in opened)


def test_v1_bounce_is_not_a_press() -> None:
    """No kernel debounce in the v1 uAPI: a press released within ``min_press`` is bounce,
    so a bouncing contact gives one status page, not two.  (v2: the kernel debounces.)"""

    async def main() -> None:
        shorts: list[int] = []
        holds: list[int] = []

        async def short() -> None:
            shorts.append(1)

        async def hold() -> None:
            holds.append(1)

        spec = LineSpec("pinctrl-bcm2711", 27, True, "pull-up")
        line = V1Input(fake_gpiod_v1, spec, chip_path(fake_gpiod_v1, spec.chip))
        req = requested(fake_gpiod_v1, "printbridge-button")
        button = Button(line, short, hold, short_max=0.5, hold=5.0)
        assert button.min_press == line.min_press == 0.02
        button.start()
        t = asyncio.get_running_loop().time()
        for pressed, dt in ((True, 0.0), (False, 0.003), (True, 0.006), (False, 0.2),
                            (True, 0.203), (False, 0.205)):
            req.edge(27, pressed, t + dt)
        await wait_for(lambda: bool(shorts))
        await asyncio.sleep(0.1)
        assert shorts == [1] and not holds
        await button.stop()
        assert req.released and req.owner().closed

    asyncio.run(main())


def test_v2_input_keeps_kernel_debounce_and_no_min_press() -> None:
    line = GpioInput(fake_gpiod, LineSpec("pinctrl-bcm2711", 27, True, "pull-up"))
    assert not hasattr(line, "min_press")

    async def noop() -> None:
        pass

    assert Button(line, noop, noop).min_press == 0.0
    assert fake_gpiod.REQUESTS[-1].config[27].debounce_period.total_seconds() == 0.02
    line.close()
