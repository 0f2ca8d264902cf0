"""Configuration: built-in defaults < board profile < ``printbridge.conf`` < command line."""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.boards import load_board
from firmware.media import check_country
from hal.options import NO, YES

DEFAULT_CONFIG_PATH = Path("/etc/printbridge/printbridge.conf")


def host_port(host: str, port: int) -> str:
    """``host:port`` as a URI writes it (RFC 3986 §3.2.2: an IPv6 literal in brackets),
    so the dual-stack ``::`` shows as ``[::]:631``, not ``:::631``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def yes_no(section: str, key: str, value: Any) -> bool:
    """A yes/no setting; anything else is a configuration error naming the setting."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"[{section}] {key} = {value!r}: expected yes or no")


@dataclass(slots=True)
class PrinterConfig:
    name: str
    port: str = "emulated:"
    make_and_model: str = ""
    info: str = ""
    location: str = ""
    geo_location: str = ""
    driver: str = "auto"
    #: Who may print: "open" (anyone, like a home printer) or "authenticated".
    policy: str = "open"
    options: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Config:
    board: str = "emulator"
    state_dir: Path = Path("/var/lib/printbridge")
    listen: str = "0.0.0.0"
    ipp_port: int = 631
    snmp_port: int = 161
    raw_port: int = 9100
    lpd_port: int = 515
    history: int = 100
    status_interval: float = 1.0
    write_timeout: float = 0.5
    log_level: str = "info"
    contact: str = ""
    #: Where the printer is (ISO 3166 two-letter code, upper case; "" unknown): the paper
    #: loaded unless ``media_ready`` says (Letter in US and CA, A4 elsewhere).  Without
    #: it the service's locale (LC_ALL, LC_PAPER, LANG) decides (firmware.media.paper_for).
    country: str = ""
    network: dict[str, Any] = field(default_factory=dict)
    #: The board's CPU class (``low``, ``mid``, ``high``, ``pc``) for sizing buffers/workers.
    cpu_class: str = "pc"
    #: Status LED and button lines from the board (``[led]``, ``[button]``: chip, line,
    #: active_low, bias), overridable by the INI file's sections of the same names.
    gpio: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Which printer ports the board has (``[ports]``: discover, serial).
    ports: dict[str, Any] = field(default_factory=dict)
    printers: list[PrinterConfig] = field(default_factory=list)
    #: Sections of the INI file the core does not interpret (snmp, security ...), for the
    #: subsystems that own them.
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def socket_path(self) -> Path:
        return self.state_dir / "printbridge.sock"


_INT_KEYS = {"ipp_port", "snmp_port", "raw_port", "lpd_port", "history"}
_FLOAT_KEYS = {"status_interval", "write_timeout"}
GPIO_SECTIONS = ("led", "button")
_PRINTER_KEYS = {"port", "make_and_model", "info", "location", "geo_location", "driver",
                 "policy"}


def _set_daemon_key(cfg: Config, key: str, value: Any, base: Path) -> None:
    if key == "state_dir":
        path = Path(str(value)).expanduser()
        cfg.state_dir = path if path.is_absolute() else (base / path)
    elif key in _INT_KEYS:
        setattr(cfg, key, int(value))
    elif key in _FLOAT_KEYS:
        setattr(cfg, key, float(value))
    elif key in {"listen", "log_level", "contact"}:
        setattr(cfg, key, str(value))
    elif key == "country":
        try:
            cfg.country = check_country(str(value))
        except ValueError as exc:
            raise ValueError(f"[daemon] country = {value!r}: {exc}") from None
    else:
        raise ValueError(f"unknown setting [daemon] {key}")


def _printer(cfg: Config, name: str) -> PrinterConfig:
    for printer in cfg.printers:
        if printer.name == name:
            return printer
    printer = PrinterConfig(name=name)
    cfg.printers.append(printer)
    return printer


def load_config(
    path: Path | None = None,
    board: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Build the effective configuration.

    Relative paths in the board profile are relative to the current directory (``make
    run`` keeps its state in ``./var``); relative paths in the INI file are relative to
    the file.
    """
    parser = configparser.ConfigParser(interpolation=None)
    if path is not None:
        if not path.is_file():
            raise ValueError(f"config file not found: {path}")
        parser.read(path)
    board_name = board or parser.get("daemon", "board", fallback=None) or "emulator"
    profile = load_board(board_name)  # "auto" comes back as the detected board
    cfg = Config(board=str(profile.get("name", board_name)))
    cfg.cpu_class = str(profile.get("cpu_class", cfg.cpu_class))
    cfg.gpio = {k: dict(profile[k]) for k in GPIO_SECTIONS if isinstance(profile.get(k), dict)}
    cfg.ports = dict(profile.get("ports", {}))
    cwd = Path.cwd()
    for key, value in profile.get("daemon", {}).items():
        _set_daemon_key(cfg, key, value, cwd)
    cfg.network = dict(profile.get("network", {}))
    for entry in profile.get("printers", []):
        printer = _printer(cfg, entry["name"])
        for key in _PRINTER_KEYS & entry.keys():
            setattr(printer, key, str(entry[key]))
        printer.options.update({k: str(v) for k, v in entry.get("options", {}).items()})

    base = path.parent.resolve() if path else cwd
    ini_printers = [s for s in parser.sections() if s.startswith("printer:")]
    if ini_printers:
        # Printers named in the config file replace the board's example printer.
        cfg.printers = [p for p in cfg.printers if f"printer:{p.name}" in ini_printers]
    for section in parser.sections():
        items = dict(parser.items(section))
        if section == "daemon":
            for key, value in items.items():
                if key != "board":
                    _set_daemon_key(cfg, key, value, base)
        elif section == "network":
            cfg.network.update(items)
        elif section in GPIO_SECTIONS:
            cfg.gpio.setdefault(section, {}).update(items)
        elif section.startswith("printer:"):
            printer = _printer(cfg, section.split(":", 1)[1].strip())
            for key, value in items.items():
                if key in _PRINTER_KEYS:
                    setattr(printer, key, value)
                else:
                    printer.options[key] = value
        else:
            cfg.sections[section] = items
    for key, value in (overrides or {}).items():
        if value is not None:
            _set_daemon_key(cfg, key, value, cwd)
    if not cfg.printers:
        raise ValueError("no printer configured: add a [printer:NAME] section")
    return cfg
