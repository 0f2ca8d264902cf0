"""Board profiles: data files in ``boards/`` describing a board's ports and defaults."""

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


def load_board(name: str) -> dict[str, Any]:
    for directory in board_dirs():
        path = directory / f"{name}.toml"
        if path.is_file():
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            data.setdefault("name", name)
            return data
    raise ValueError(f"unknown board {name!r}; known boards: {', '.join(available()) or 'none'}")
