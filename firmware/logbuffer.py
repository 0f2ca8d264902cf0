"""The last log lines in memory, for the web page's "download the log" (a Pi often has
no persistent journal)."""

from __future__ import annotations

import logging
from collections import deque


class LogBuffer(logging.Handler):
    def __init__(self, lines: int = 2000) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=lines)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line must never break the daemon
            self.handleError(record)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


#: Installed on the root logger by the daemon.
BUFFER = LogBuffer()
