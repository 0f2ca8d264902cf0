"""``printbridge`` — the daemon and its field diagnostics."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any, BinaryIO

from firmware import __version__
from firmware.config import DEFAULT_CONFIG_PATH, Config, host_port, load_config


def _add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help=f"config file (default {DEFAULT_CONFIG_PATH})")
    parser.add_argument("--board", help="board profile (default: from config, else emulator)")
    parser.add_argument("--state-dir", type=Path, help="state directory (spool, output, socket)")


def _config(args: argparse.Namespace, **overrides: Any) -> Config:
    path = args.config
    if path is None and DEFAULT_CONFIG_PATH.is_file():
        path = DEFAULT_CONFIG_PATH
    overrides["state_dir"] = args.state_dir
    return load_config(path, args.board, overrides)


def cmd_run(args: argparse.Namespace) -> int:
    config = _config(
        args,
        listen=args.listen,
        ipp_port=args.ipp_port,
        snmp_port=args.snmp_port,
        raw_port=args.raw_port,
        lpd_port=args.lpd_port,
    )
    level = logging.DEBUG if args.verbose else getattr(logging, config.log_level.upper(), 20)
    logging.getLogger().setLevel(level)
    from firmware.daemon import serve

    asyncio.run(serve(config))
    return 0


def _call(args: argparse.Namespace, request: dict[str, Any],
          document: BinaryIO | None = None) -> dict[str, Any]:
    from firmware.admin import call

    return call(_config(args).socket_path, request, document=document)


def _level(level: int) -> str:
    return {-2: "unknown", -3: "some remaining"}.get(level, f"{level}%")


def format_status(status: dict[str, Any]) -> str:
    up = int(status["uptime"])
    lines = [
        f"Printbridge {status['version']} on board {status['board']}, "
        f"up {up // 3600}:{up // 60 % 60:02d}:{up % 60:02d}",
        f"IPP and web: http://{host_port(status['listen'], status['ipp_port'])}/",
    ]
    if status.get("mdns_host"):
        lines.append(f"Bonjour:    {status['mdns_host']}")
    if not status.get("ready", True):
        lines.append("Starting: not every service is listening yet")
    for p in status["printers"]:
        lines.append(f"Printer {p['name']}: {p['state']} ({', '.join(p['reasons'])})")
        lines.append(f"  port      {p['port']} ({'connected' if p['connected'] else 'absent'})")
        if p["device_id"]:
            lines.append(f"  device id {p['device_id']}")
        supplies = ", ".join(f"{s['name']} {_level(s['level'])}" for s in p["supplies"])
        lines.append(f"  supplies  {supplies}")
        trays = ", ".join(f"{t['source']}: {t['media']}, {_level(t['level']).rstrip('%')} sheets"
                          for t in p["trays"])
        lines.append(f"  media     {trays}")
        c = p["counters"]
        lines.append(f"  counters  {c['impressions']} impressions, {c['sheets']} sheets, "
                     f"{c['jobs']} jobs")
        queued = [j for j in p["jobs"] if j["state"] in
                  ("pending", "pending-held", "processing", "processing-stopped")]
        lines.append(f"  queued    {len(queued)} job(s)")
        for j in queued:
            lines.append(f"    {j['id']:>5} {j['state']:<19} {j['size']:>10} B  {j['name']}")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    status = _call(args, {"command": "status"})["status"]
    print(json.dumps(status, indent=2) if args.json else format_status(status))
    return 0


def cmd_emulate(args: argparse.Namespace) -> int:
    value = args.value
    if args.action in ("toner", "paper") and value is None:
        print(f"printbridge emulate {args.action} needs a number", file=sys.stderr)
        return 2
    _call(args, {"command": "emulate", "printer": args.printer, "action": args.action,
                 "value": value})
    return 0


#: ``printbridge printer ACTION``: the admin socket's printer actions (firmware.admin).
PRINTER_COMMANDS = ("pause", "resume", "enable", "disable", "hold-new-jobs",
                    "release-held-new-jobs", "restart", "purge", "identify")
#: ``printbridge job ACTION ID``.
JOB_COMMANDS = ("cancel", "hold", "release")


def cmd_printer(args: argparse.Namespace) -> int:
    _call(args, {"command": args.action, "printer": args.printer})
    return 0


def cmd_job(args: argparse.Namespace) -> int:
    _call(args, {"command": args.action, "job": args.job})
    return 0


def cmd_print(args: argparse.Namespace) -> int:
    with open(args.file, "rb") as document:
        reply = _call(args, {"command": "print", "printer": args.printer,
                             "name": args.file.name, "format": args.format},
                      document=document)
    print(f"job {reply['job_id']} accepted")
    return 0


def _snmp_error_state(conditions: Any) -> str:
    """hrPrinterDetectedErrorState for port conditions, from the SNMP agent's own table."""
    try:
        from firmware.snmp.host_resources import CONDITION_BITS, ERROR_STATE_BITS
    except ImportError:
        return ""
    bits, names = 0, set()
    for condition in conditions:
        if (name := CONDITION_BITS.get(condition)) is not None:
            bits |= 0x8000 >> ERROR_STATE_BITS[name]
            names.add(name)
    return f"{bits >> 8:02x} {bits & 0xFF:02x}" + (f" ({', '.join(sorted(names))})"
                                                  if names else "")


def _driver_label(device_id: str) -> str:
    """The driver printbridge would pick for a device ID, and why."""
    from hal.ieee1284 import DeviceId

    tokens = DeviceId.parse(device_id).command_set
    cmd = ", ".join(tokens) or "none"
    try:
        from firmware.pipeline.drivers import driver_class_for
    except ImportError:  # no document pipeline on this build
        return f"(by command set: {cmd})"
    cls = driver_class_for(device_id)
    if {t.upper() for t in tokens} & set(cls.commands):
        return f"{cls.name} (from CMD: {cmd})"
    return f"{cls.name} (the default: no driver speaks CMD: {cmd})"


def _probe_all(args: argparse.Namespace) -> int:
    """``printbridge probe`` without a URI: every printer attached, as hotplug sees them."""
    from firmware.reasons import reasons_for
    from hal.discovery import DISCOVERABLE, discover

    kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else list(DISCOVERABLE)
    found = discover(kinds, options=dict(kv.split("=", 1) for kv in args.option))
    if args.json:
        print(json.dumps([{
            "uri": f.uri, "key": f.key, "kind": f.kind, "port": f.detail,
            "device_id": f.device_id, "make_and_model": f.make_and_model,
            "status_byte": f.status_byte,
            "conditions": sorted(c.value for c in f.status.conditions) if f.status else None,
            "reasons": reasons_for(f.status.conditions) if f.status else None,
            "quirks": sorted(f.quirks), "driver": _driver_label(f.device_id) if f.device_id
            else None, "error": f.error,
        } for f in found], indent=2))
        return 0
    if not found:
        print(f"no printers found ({', '.join(kinds)})")
        return 0
    print(f"{len(found)} printer(s) found ({', '.join(kinds)})")
    for f in found:
        print()
        print(f.uri or f"({f.key})")
        print(f"  port       {f.detail}")
        print(f"  key        {f.key}")
        print(f"  device id  {f.device_id or '(none)'}")
        if f.device_id:
            print(f"  make/model {f.make_and_model}")
        if f.status is not None:
            conditions = ", ".join(sorted(c.value for c in f.status.conditions)) or "ready"
            byte = f"0x{f.status_byte:02x}: " if f.status_byte is not None else ""
            print(f"  status     {byte}{conditions}")
            print(f"  reasons    {', '.join(reasons_for(f.status.conditions)) or 'none'}")
            if snmp := _snmp_error_state(f.status.conditions):
                print(f"  SNMP       hrPrinterDetectedErrorState {snmp}")
        print(f"  quirks     {', '.join(sorted(f.quirks)) or 'none'}")
        if f.device_id:
            print(f"  driver     {_driver_label(f.device_id)}")
        if f.error:
            print(f"  note       {f.error}")
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from hal.port import PortError
    from hal.registry import create_port

    if args.uri is None:
        return _probe_all(args)
    port = create_port(args.uri, dict(kv.split("=", 1) for kv in args.option))
    try:
        port.open()
        status = port.status()
        device_id = port.device_id()
    except PortError as exc:
        print(f"{args.uri}: {exc}", file=sys.stderr)
        return 1
    finally:
        port.close()
    from firmware.reasons import reasons_for

    print(f"URI        {args.uri}")
    print(f"device id  {device_id or '(none)'}")
    print(f"conditions {', '.join(sorted(c.value for c in status.conditions)) or 'ready'}")
    print(f"reasons    {', '.join(reasons_for(status.conditions)) or 'none'}")
    if device_id:
        print(f"driver     {_driver_label(device_id)}")
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    """Set a user's password (the first user becomes an administrator)."""
    import getpass

    from firmware.users import ADMIN_GROUP, UserDB

    if args.stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"New password for {args.user}: ")
        if getpass.getpass("Again: ") != password:
            print("printbridge: the passwords differ", file=sys.stderr)
            return 1
    groups = {ADMIN_GROUP} if args.admin else None
    user = UserDB(_config(args).state_dir / "users").set_password(args.user, password, groups)
    print(f"password set for {user.name} (groups: {', '.join(sorted(user.groups)) or 'none'})")
    return 0


EMULATE_ACTIONS = ["paper-out", "jam", "offline", "cover-open", "error", "unplug", "clear",
                   "toner", "paper"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printbridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"printbridge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daemon")
    _add_config_args(run)
    run.add_argument("--listen", help="address to listen on")
    for name in ("ipp", "snmp", "raw", "lpd"):
        run.add_argument(f"--{name}-port", type=int, help=f"{name.upper()} port")
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="show the running daemon's printers and jobs")
    _add_config_args(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    emulate = sub.add_parser("emulate", help="inject a fault into the emulated printer")
    _add_config_args(emulate)
    emulate.add_argument("action", choices=EMULATE_ACTIONS)
    emulate.add_argument("value", type=int, nargs="?", help="level for toner, sheets for paper")
    emulate.add_argument("--printer", help="printer name (default: the first)")
    emulate.set_defaults(func=cmd_emulate)

    printer = sub.add_parser("printer", help="act on a printer of the running daemon, as "
                             "IPP and the web pages do (pause, hold-new-jobs, identify ...)")
    _add_config_args(printer)
    printer.add_argument("action", choices=PRINTER_COMMANDS)
    printer.add_argument("--printer", help="printer name (default: the first)")
    printer.set_defaults(func=cmd_printer)

    job = sub.add_parser("job", help="cancel, hold or release a job of the running daemon")
    _add_config_args(job)
    job.add_argument("action", choices=JOB_COMMANDS)
    job.add_argument("job", type=int, help="job ID")
    job.set_defaults(func=cmd_job)

    prt = sub.add_parser("print", help="spool a local file on the running daemon")
    _add_config_args(prt)
    prt.add_argument("file", type=Path)
    prt.add_argument("--printer", help="printer name (default: the first)")
    prt.add_argument("--format", default="application/octet-stream", help="MIME type")
    prt.set_defaults(func=cmd_print)

    passwd = sub.add_parser("passwd", help="set a user's password for the web pages and IPP")
    _add_config_args(passwd)
    passwd.add_argument("user")
    passwd.add_argument("--admin", action="store_true", help="make the user an administrator")
    passwd.add_argument("--stdin", action="store_true", help="read the password from stdin")
    passwd.set_defaults(func=cmd_passwd)

    probe = sub.add_parser("probe", help="list attached printers, or open one port URI and "
                                          "show its device ID and status")
    probe.add_argument("uri", nargs="?", help="port URI, e.g. emulated: or usb://... "
                                              "(default: list every printer attached)")
    probe.add_argument("-o", "--option", action="append", default=[], help="KEY=VALUE")
    probe.add_argument("--kinds", help="port kinds to list (default: usb,usblp,parallel)")
    probe.add_argument("--json", action="store_true", help="machine-readable list")
    probe.set_defaults(func=cmd_probe)

    from firmware.image import provision as provision_mod

    provision = sub.add_parser("provision", help="install units and apply printbridge.txt "
                               "from the boot partition (root; the image's first boot)")
    provision_mod.add_arguments(provision)
    provision.set_defaults(func=provision_mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from firmware.logbuffer import BUFFER

    logging.getLogger().addHandler(BUFFER)
    try:
        return int(args.func(args))
    except (ConnectionError, RuntimeError, ValueError) as exc:
        print(f"printbridge: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
