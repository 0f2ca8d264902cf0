"""How a setting says yes or no, for every layer: port options (``usb:…?reattach=no``),
board profiles (TOML booleans) and printbridge.conf (INI text) alike.

It lives in the lowest layer so the hardware layer can use it without importing the
firmware (``firmware.config`` takes it from here).
"""

from __future__ import annotations

YES = frozenset({"1", "yes", "true", "on"})
NO = frozenset({"0", "no", "false", "off"})


def truthy(value: object, default: bool = False) -> bool:
    """``value`` says yes (:data:`YES`, or ``True``); ``None`` is ``default``; anything
    else is no.  Use :func:`firmware.config.yes_no` where a typo must be an error."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in YES
