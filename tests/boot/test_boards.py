"""Board profiles (boards/*.toml) and board ``auto`` (the device tree's model string)."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.boards import available, detect_board, load_board, read_model
from firmware.config import load_config

PI_BOARDS = ("rpi-zero-w", "rpi1", "rpi-zero2w", "rpi3", "rpi4", "rpi5")
#: The ARMv6 boards: 32-bit Raspberry Pi OS only.
ARMV6_BOARDS = ("rpi-zero-w", "rpi1")
CPU_CLASSES = {"low", "mid", "high", "pc"}


def model_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model"
    path.write_bytes(text.encode() + b"\0")  # the kernel's property: NUL-terminated
    return path


def test_every_board_has_a_profile() -> None:
    assert set(PI_BOARDS) | {"generic", "emulator"} <= set(available())


@pytest.mark.parametrize("name", [*PI_BOARDS, "generic", "emulator"])
def test_profile_keys(name: str) -> None:
    board = load_board(name)
    assert board["name"] == name and board["description"]
    assert board["cpu_class"] in CPU_CLASSES
    assert isinstance(board["network"]["interfaces"], list)
    assert board["printers"] and board["printers"][0]["port"]
    if name == "emulator":
        assert "led" not in board and "button" not in board  # no GPIO: the LED is a no-op
        return
    assert board["daemon"]["state_dir"] == "/var/lib/printbridge"
    assert isinstance(board["ports"]["discover"], list) and board["ports"]["serial"]
    if name in PI_BOARDS:
        assert board["network"]["wifi"] == "wlan0"
        for line in ("led", "button"):
            assert board[line]["chip"].startswith("pinctrl-")
            assert isinstance(board[line]["line"], int) and 0 <= board[line]["line"] < 54
        assert board["led"]["line"] != board["button"]["line"]
        if name in ARMV6_BOARDS:
            assert board["arch"] == ["armv6l"]
        else:
            assert set(board["arch"]) <= {"aarch64", "armv7l"}


@pytest.mark.parametrize(("model", "board"), [
    ("Raspberry Pi Zero 2 W Rev 1.0", "rpi-zero2w"),
    ("Raspberry Pi 3 Model B Rev 1.2", "rpi3"),
    ("Raspberry Pi 3 Model B Plus Rev 1.3", "rpi3"),
    ("Raspberry Pi 4 Model B Rev 1.4", "rpi4"),
    ("Raspberry Pi 400 Rev 1.0", "rpi4"),
    ("Raspberry Pi Compute Module 4 Rev 1.0", "rpi4"),
    ("Raspberry Pi 5 Model B Rev 1.0", "rpi5"),
    ("Raspberry Pi Zero W Rev 1.1", "rpi-zero-w"),
    ("Raspberry Pi Zero Rev 1.3", "rpi-zero-w"),
    ("Raspberry Pi Model B Rev 2", "rpi1"),
    ("Raspberry Pi Model B Plus Rev 1.2", "rpi1"),
    ("Raspberry Pi Model A Plus Rev 1.1", "rpi1"),
    ("Raspberry Pi Compute Module Rev 1.0", "rpi1"),
    ("Raspberry Pi Compute Module 3 Rev 1.0", "generic"),  # no profile yet
    ("Pine64 RockPro64 v2.1", "generic"),
])
def test_auto_detects_from_the_device_tree(tmp_path: Path, model: str, board: str) -> None:
    path = model_file(tmp_path, model)
    assert read_model(path) == model
    assert detect_board(path) == board
    assert load_board("auto", path)["name"] == board


def test_no_device_tree_means_generic(tmp_path: Path) -> None:
    assert read_model(tmp_path / "missing") == ""
    assert detect_board(tmp_path / "missing") == "generic"


def test_config_with_board_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTBRIDGE_DT_MODEL", str(model_file(tmp_path, "Raspberry Pi 5 Model B")))
    ini = tmp_path / "printbridge.conf"
    ini.write_text("[daemon]\nboard = auto\nstate_dir = state\n\n[led]\nline = 22\n\n"
                   "[printer:Office]\nport = emulated:\n")
    cfg = load_config(ini)
    assert cfg.board == "rpi5" and cfg.cpu_class == "high"
    assert cfg.gpio["led"] == {"chip": "pinctrl-rp1", "line": "22", "active_low": False}
    assert cfg.gpio["button"]["bias"] == "pull-up"
    assert cfg.ports["discover"] == ["usb", "usblp"]
    assert cfg.network["interfaces"] == ["eth0", "wlan0"]
    assert [p.name for p in cfg.printers] == ["Office"]


def test_emulator_keys_still_work(tmp_path: Path) -> None:
    cfg = load_config(None, "emulator", {"state_dir": tmp_path})
    assert cfg.board == "emulator" and cfg.listen == "127.0.0.1" and cfg.ipp_port == 8631
    assert cfg.gpio == {} and cfg.cpu_class == "pc"
    assert cfg.printers[0].port == "emulated:"
