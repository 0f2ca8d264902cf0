"""Hotplug: a queue for every printer plugged in, with the same name after a reboot.

Enabled by a ``[hotplug]`` section in ``printbridge.conf``::

    [hotplug]
    enabled = yes           ; default yes once the section is there
    discover = usb, usblp   ; port kinds to scan (default: the board's [ports] discover)
    interval = 5            ; seconds between scans without udev (60 with it, as a safety net)
    udev = auto             ; auto | yes | no: wake up on udev events (needs pyudev)
    location = Office       ; copied to every new printer, as is info
    quirks = no-status      ; any other key is a printer option for every new printer

What it does:

* every scan (:func:`hal.discovery.discover`) lists the printers attached now, each with
  a stable key (serial number, else port path: see :mod:`hal.discovery`);
* a printer whose key is new, that answered with an IEEE 1284 device ID and that no
  configured printer already drives becomes a queue: named after its make and model
  (``HP_LaserJet_1020``, then ``HP_LaserJet_1020-2`` for a second one), with the
  printer's make, model and device ID, added through :meth:`System.add_printer`;
* the key → name (and URI) mapping is kept in ``<state_dir>/hotplug.json``, and at start
  every remembered printer gets its queue back before the spool is loaded — so its
  queued jobs, name, UUID and counters survive a reboot even if it is switched off;
* an unplugged printer needs nothing from here: its worker's port fails, the printer
  goes ``stopped`` with ``offline-report``, jobs wait, and printing resumes when the port
  opens again.  A scan that sees a known printer come or go only asks its worker to
  look now rather than at its next status poll.

Printers configured by hand keep working beside hotplug; give them specific URIs (a
wildcard ``usb:`` would compete with hotplug queues for the same printer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware.aio import wait_event
from firmware.config import PrinterConfig
from firmware.spool import atomic_write
from hal.discovery import DISCOVERABLE, Found, Selector, discover
from hal.options import truthy
from hal.udev import DeviceWatcher

if TYPE_CHECKING:
    from firmware.system import System

log = logging.getLogger(__name__)

SECTION = "hotplug"
MAPPING_FILE = "hotplug.json"
#: Keys of the [hotplug] section that are not printer options.
OWN_KEYS = {"enabled", "discover", "interval", "udev", "location", "info"}



def queue_name(make_and_model: str, taken: set[str]) -> str:
    """A printer name from its make and model, safe in an IPP resource path
    (``/ipp/print/NAME``): letters, digits, ``_`` and ``-``; unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", make_and_model).strip("_")[:60] or "Printer"
    name, number = base, 1
    lowered = {t.lower() for t in taken}
    while name.lower() in lowered:
        number += 1
        name = f"{base}-{number}"
    return name


class Hotplug:
    def __init__(self, system: System, settings: dict[str, str]) -> None:
        self.system = system
        self.settings = settings
        board_kinds = (getattr(system.config, "ports", None) or {}).get("discover")
        kinds = settings.get("discover")
        if kinds:
            self.kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        elif board_kinds:
            self.kinds = [str(k) for k in board_kinds]
        else:
            self.kinds = ["usb"]
        unknown = set(self.kinds) - set(DISCOVERABLE)
        if unknown:
            raise ValueError(f"[hotplug] discover: unknown kinds {sorted(unknown)}; "
                             f"known: {sorted(DISCOVERABLE)}")
        self.udev_mode = settings.get("udev", "auto")
        self.interval = float(settings.get("interval", "5"))
        self.options = {k: v for k, v in settings.items() if k not in OWN_KEYS}
        self.path: Path = system.config.state_dir / MAPPING_FILE
        self.known: dict[str, dict[str, Any]] = self._load()
        self.present: set[str] = set()
        self.watcher: DeviceWatcher | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unidentified: set[str] = set()

    @classmethod
    def from_config(cls, system: System) -> Hotplug | None:
        settings = system.config.sections.get(SECTION)
        if settings is None or not truthy(settings.get("enabled", "yes")):
            return None
        return cls(system, dict(settings))

    # -- the mapping key -> queue
    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            log.error("%s is damaged; printers will be named afresh", self.path)
            return {}
        return {str(k): dict(v) for k, v in data.get("printers", {}).items()}

    def _save(self) -> None:
        atomic_write(self.path, json.dumps({"printers": self.known}, indent=1).encode())

    def _config_for(self, entry: dict[str, Any]) -> PrinterConfig:
        return PrinterConfig(
            name=entry["name"],
            port=entry["uri"],
            make_and_model=entry.get("make_and_model", ""),
            info=self.settings.get("info", "") or entry.get("make_and_model", ""),
            location=self.settings.get("location", ""),
            options={**self.options, "device_id": entry.get("device_id", "")},
        )

    def restore(self) -> None:
        """Queues for every printer seen before (call before ``System.start``)."""
        for key, entry in self.known.items():
            if entry["name"] in self.system.printers:
                log.warning("hotplug: %s is also configured by hand; %s is not restored",
                            entry["name"], key)
                continue
            self.system.add_printer(self._config_for(entry), start=False)
            log.info("hotplug: printer %s (%s) restored", entry["name"], key)
        for printer in self.system.printers.values():
            if printer.port_uri.rstrip(":/") in self.kinds:
                log.warning("hotplug: printer %s uses the wildcard URI %r, which competes "
                            "with hotplug queues for the same printer", printer.name,
                            printer.port_uri)

    # -- running
    async def start(self) -> None:
        self.watcher = DeviceWatcher(self.udev_mode)
        if self.watcher.active:
            loop = asyncio.get_running_loop()
            loop.add_reader(self.watcher.fileno(), self._on_udev)
        self._task = asyncio.create_task(self._run(), name="hotplug")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.watcher is not None and self.watcher.active:
            asyncio.get_running_loop().remove_reader(self.watcher.fileno())
            self.watcher.close()

    def _on_udev(self) -> None:
        assert self.watcher is not None
        events = self.watcher.drain()
        if events:
            log.debug("hotplug: udev: %s", "; ".join(events))
            self._wake.set()

    async def _run(self) -> None:
        interval = 60.0 if self.watcher is not None and self.watcher.active else self.interval
        while True:
            self._wake.clear()
            try:
                await self.scan()
            except Exception:
                log.exception("hotplug: scan failed")
            await wait_event(self._wake, interval)
            if self.watcher is not None and self.watcher.active:
                await asyncio.sleep(0.5)  # let udev's burst of events for one plug settle

    def _held_keys(self) -> set[str]:
        """Devices our own ports have open (not to be disturbed by a scan)."""
        return {key for w in self.system.workers.values()
                if (key := getattr(w.port, "device_key", ""))}

    def _claimed(self, found: Found) -> bool:
        """Whether a printer configured by hand already names this device."""
        for printer in self.system.printers.values():
            if printer.port_uri == found.uri:
                return True
            sel = Selector.from_uri(printer.port_uri)
            specific = sel.serial or sel.location or sel.make or sel.model
            if sel.scheme == found.kind and specific and sel.matches(
                    device_id=found.ieee1284, serial=found.serial, location=found.location):
                return True
        return False

    async def scan(self) -> list[str]:
        """Look at what is attached; returns the names of queues added."""
        skip = set(self.known) | self._held_keys()
        loop = asyncio.get_running_loop()
        found: list[Found] = await loop.run_in_executor(
            None, lambda: discover(self.kinds, skip_keys=skip, options=self.options))
        now_present = {f.key for f in found}
        for key in (now_present ^ self.present) & set(self.known):
            worker = self.system.workers.get(self.known[key]["name"])
            if worker is not None:  # came or went: let its worker look now
                worker.request_poll()
        self.present = now_present
        added = []
        for item in found:
            if item.key in skip or item.key in self.known:
                continue
            if not item.identified or not item.uri:
                if item.key not in self._unidentified:
                    self._unidentified.add(item.key)
                    log.info("hotplug: %s (%s) did not identify itself%s; not queued",
                             item.key, item.detail, f": {item.error}" if item.error else "")
                continue
            if self._claimed(item):
                continue
            taken = set(self.system.printers) | {e["name"] for e in self.known.values()}
            name = queue_name(item.make_and_model, taken)
            entry = {"name": name, "uri": item.uri, "make_and_model": item.make_and_model,
                     "device_id": item.device_id}
            # The name is on disk before the queue exists: a client that sees the queue
            # (or a power cut right after) can rely on it keeping that name.
            self.known[item.key] = entry
            await loop.run_in_executor(self.system.spool.executor, self._save)
            self.system.add_printer(self._config_for(entry), start=True)
            log.info("hotplug: new printer %s: %s on %s (%s)", name, item.make_and_model,
                     item.uri, item.key)
            added.append(name)
        return added
