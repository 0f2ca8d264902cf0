"""Board profiles: data files in ``boards/`` describing a board's ports and defaults.

Board ``auto`` picks the profile from the device tree: the kernel exposes the root node's
``model`` property (what the firmware's device tree calls the board, e.g. ``Raspberry Pi 4
Model B Rev 1.4``) as the NUL-terminated string ``/proc/device-tree/model``.  Each profile
lists in ``models`` the model-string prefixes it covers; no match (a PC, another SBC, no
device tree) means the ``generic`` profile.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any


def board_dirs() -> list[Path]:
    """Where profiles are looked for: ``$PRINTBRIDGE_BOARDS``, the source tree, the install."""
    dirs = []
    if env := os.environ.get("PRINTBRIDGE_BOARDS"):
        dirs.append(Path(env))
    dirs.append(Path(__file__).resolve().parent.parent / "boards")
    dirs.append(Path(sys.prefix) / "share" / "printbridge" / "boards")
    return [d for d in dirs if d.is_dir()]


def available() -> list[str]:
    return sorted({p.stem for d in board_dirs() for p in d.glob("*.toml")})


#: Where the kernel shows the device tree's model string; ``$PRINTBRIDGE_DT_MODEL`` points
#: elsewhere (tests, a board whose firmware gets the name wrong).
DT_MODEL = Path("/proc/device-tree/model")
AUTO = "auto"
FALLBACK = "generic"


def read_model(path: Path | None = None) -> str:
    """The device tree's model string, or "" without a device tree."""
    if path is None:
        path = Path(os.environ.get("PRINTBRIDGE_DT_MODEL") or DT_MODEL)
    try:
        return path.read_bytes().split(b"\0", 1)[0].decode(errors="replace").strip()
    except OSError:
        return ""


def detect_board(model_path: Path | None = None) -> str:
    """The profile whose ``models`` prefixes match the device tree's model (the longest
    prefix wins), else ``generic``."""
    model = read_model(model_path)
    best, best_len = FALLBACK, 0
    if model:
        for name in available():
            if name == AUTO:
                continue
            for prefix in _raw(name).get("models", []):
                if model.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = name, len(prefix)
    return best


def _raw(name: str) -> dict[str, Any]:
    for directory in board_dirs():
        path = directory / f"{name}.toml"
        if path.is_file():
            with open(path, "rb") as fh:
                return tomllib.load(fh)
    return {}


def load_board(name: str, model_path: Path | None = None) -> dict[str, Any]:
    """The profile called ``name``; ``auto`` resolves through :func:`detect_board` (the
    result's ``name`` is the detected board, ``detected_model`` what the device tree said)."""
    if name == AUTO:
        data = load_board(detect_board(model_path))
        data["detected_model"] = read_model(model_path)
        return data
    for directory in board_dirs():
        path = directory / f"{name}.toml"
        if path.is_file():
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            data.setdefault("name", name)
            return data
    raise ValueError(f"unknown board {name!r}; known boards: {', '.join(available()) or 'none'}")
