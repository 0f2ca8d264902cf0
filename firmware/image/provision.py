"""``printbridge provision``: turn an installed /opt/printbridge into a running appliance.

Run as root by the first boot (``firstboot.sh``, hooked on the kernel command line),
at every later boot by ``printbridge-setup.service`` (only when ``printbridge.txt``
changed), and by the .deb's postinst.  Every step is idempotent:

1. System files: the ``printbridge`` user (group ``printbridge``, member of ``lp`` and,
   where they exist, ``dialout`` and ``gpio``), the systemd units (``systemd/``), the udev
   rules, a modules-load.d file, the state directory.
2. ``printbridge.txt`` from the boot partition (``/boot/firmware`` or ``/boot``):
   ``/etc/printbridge/printbridge.conf`` (board, printer name and port; the Wi-Fi
   country as ``[daemon] country``, which sets the paper loaded), the ``admin`` user's
   password (``firmware.users.UserDB``), the host name, Wi-Fi (a NetworkManager keyfile
   or wpa_supplicant.conf, whichever the system uses; the regulatory country as
   ``cfg80211.ieee80211_regdom=`` on the kernel command line, as Raspberry Pi Imager
   does), a static address, and the dhcpcd block for the board's interfaces.
3. The secrets (admin password, Wi-Fi passphrase) are blanked in printbridge.txt once
   applied, and the file's SHA-256 is recorded so the next boot knows whether the user
   edited it.
4. ``systemctl enable printbridge.service printbridge-setup.service``.

Commands (useradd, chown, systemctl) go through :attr:`Provisioner.runner`, so tests can
run the whole thing against a directory standing in for ``/``.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import io
import ipaddress
import logging
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
TXT = "printbridge.txt"
USER = "printbridge"
STATE_DIR = "/var/lib/printbridge"
CONF = "/etc/printbridge/printbridge.conf"
APPLIED = "/etc/printbridge/printbridge.txt.sha256"
UNITS = ("printbridge.service", "printbridge-setup.service")
BOOT_DIRS = ("/boot/firmware", "/boot")
SECRETS = ("admin_password", "wifi_passphrase")
KEYS = ("printer_name", "printer_port", "hostname", "wifi_country", "wifi_ssid",
        "wifi_passphrase", "admin_password", "static_address", "gateway", "dns", "board")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

Runner = Callable[[Sequence[str]], None]


class ProvisionError(Exception):
    """printbridge.txt says something that cannot be applied."""


def parse_txt(text: str) -> tuple[dict[str, str], list[str]]:
    """``key = value`` lines; '#' starts a comment line.  Returns (settings, warnings)."""
    settings: dict[str, str] = {}
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")  # Notepad may add a byte-order mark
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower()
        if not sep:
            warnings.append(f"line {number}: no '=' in {line!r}; ignored")
        elif key not in KEYS:
            warnings.append(f"line {number}: unknown setting {key!r}; ignored")
        else:
            settings[key] = value.strip()
    return settings, warnings


def validate(settings: dict[str, str]) -> None:
    """Raise :class:`ProvisionError` listing every setting that cannot be applied."""
    errors = []
    get = settings.get
    if get("printer_name") and not _NAME.match(get("printer_name", "")):
        errors.append("printer_name: letters, digits, - and _ only (at most 63)")
    if get("hostname") and not _HOST.match(get("hostname", "")):
        errors.append("hostname: lower-case letters, digits and - only")
    if get("wifi_country") and not re.fullmatch(r"[A-Za-z]{2}", get("wifi_country", "")):
        errors.append("wifi_country: a two-letter country code such as GB or US")
    if get("wifi_ssid") and not get("wifi_country"):
        errors.append("wifi_country is required to use Wi-Fi")
    passphrase = get("wifi_passphrase", "")
    if passphrase and not 8 <= len(passphrase) <= 63:
        errors.append("wifi_passphrase: 8 to 63 characters (WPA2-PSK)")
    if get("admin_password") and len(get("admin_password", "")) < 8:
        errors.append("admin_password: at least 8 characters")
    if get("static_address"):
        try:
            iface = ipaddress.IPv4Interface(get("static_address", ""))
            if iface.network.prefixlen == 32:
                errors.append("static_address: give the prefix length, e.g. 192.168.1.50/24")
        except ValueError:
            errors.append("static_address: an IPv4 address with prefix, e.g. 192.168.1.50/24")
    for key in ("gateway", "dns"):
        for item in filter(None, (x.strip() for x in get(key, "").split(","))):
            try:
                ipaddress.IPv4Address(item)
            except ValueError:
                errors.append(f"{key}: {item!r} is not an IPv4 address")
    if errors:
        raise ProvisionError("; ".join(errors))


def scrub(text: str) -> str:
    """printbridge.txt with the secrets' values removed (comments and layout kept)."""
    out = []
    for line in text.splitlines(keepends=True):
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and key in SECRETS and line.split("=", 1)[1].strip():
            ending = "\r\n" if line.endswith("\r\n") else "\n"
            line = f"{key} ={ending}"
        out.append(line)
    return "".join(out)


def default_runner(argv: Sequence[str]) -> None:
    log.info("+ %s", " ".join(argv))
    subprocess.run(list(argv), check=True)


def data_dir(name: str) -> Path:
    """Installed data (``<prefix>/share/printbridge/NAME``) or the source tree's."""
    for base in (Path(sys.prefix) / "share" / "printbridge", HERE.parent.parent):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"no {name}/ directory installed")


@dataclass
class Provisioner:
    root: Path = Path("/")
    boot: Path | None = None
    runner: Runner = default_runner
    #: Install units/udev rules into /etc (the image); False when a package ships them.
    system_files: bool = True
    notes: list[str] = field(default_factory=list)

    def at(self, path: str) -> Path:
        """``path`` (absolute, in the target system) under :attr:`root`."""
        return self.root / path.lstrip("/")

    def note(self, text: str) -> None:
        log.info("%s", text)
        self.notes.append(text)

    def run(self, *argv: str) -> None:
        self.runner(list(argv))

    def _root_args(self) -> list[str]:
        return [] if self.root == Path("/") else ["--root", str(self.root)]

    # -- finding things
    def find_boot(self) -> Path | None:
        if self.boot is not None:
            return self.boot
        for candidate in BOOT_DIRS:
            path = self.at(candidate)
            if (path / TXT).is_file() or (path / "cmdline.txt").is_file():
                return path
        return None

    def _groups(self) -> set[str]:
        try:
            text = self.at("/etc/group").read_text()
        except OSError:
            return set()
        return {line.split(":", 1)[0] for line in text.splitlines() if line}

    def _has_user(self) -> bool:
        try:
            text = self.at("/etc/passwd").read_text()
        except OSError:
            return False
        return any(line.split(":", 1)[0] == USER for line in text.splitlines())

    # -- 1. system files
    def install_system(self) -> None:
        groups = self._groups()
        if "gpio" not in groups:
            self.run("groupadd", *self._root_args(), "--system", "gpio")
        if not self._has_user():
            self.run("useradd", *self._root_args(), "--system", "--user-group",
                     "--home-dir", STATE_DIR, "--no-create-home",
                     "--shell", "/usr/sbin/nologin", "--comment", "Printbridge daemon", USER)
        extra = ["lp", "gpio"] + [g for g in ("dialout",) if g in groups]
        self.run("usermod", *self._root_args(), "--append", "--groups", ",".join(extra), USER)
        if self.system_files:
            units = self.at("/etc/systemd/system")
            units.mkdir(parents=True, exist_ok=True)
            for unit in UNITS:
                shutil.copyfile(data_dir("systemd") / unit, units / unit)
            rules = self.at("/etc/udev/rules.d")
            rules.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(FILES / "60-printbridge.rules", rules / "60-printbridge.rules")
            modules = self.at("/etc/modules-load.d")
            modules.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(FILES / "modules-load.conf", modules / "printbridge.conf")
        state = self.at(STATE_DIR)
        state.mkdir(parents=True, exist_ok=True)
        state.chmod(0o750)
        self.run("chown", f"{USER}:{USER}", str(state))
        self.at("/etc/printbridge").mkdir(parents=True, exist_ok=True)
        if not self.at(CONF).exists():
            self.write_config({})

    # -- 2. printbridge.txt
    def write_config(self, settings: dict[str, str]) -> None:
        """Merge the settings into printbridge.conf (other keys and sections are kept)."""
        path = self.at(CONF)
        parser = configparser.ConfigParser(interpolation=None)
        if path.exists():
            parser.read(path)
        if not parser.has_section("daemon"):
            parser.add_section("daemon")
        parser.set("daemon", "board", settings.get("board") or
                   parser.get("daemon", "board", fallback="auto"))
        parser.set("daemon", "state_dir", parser.get("daemon", "state_dir", fallback=STATE_DIR))
        if settings.get("wifi_country"):
            # The country Wi-Fi is licensed in is where the printer is: its paper size
            # (Letter in US and CA, A4 elsewhere; firmware.media.paper_for).
            parser.set("daemon", "country", settings["wifi_country"].upper())
        printers = [s for s in parser.sections() if s.startswith("printer:")]
        name = settings.get("printer_name") or (printers[0].split(":", 1)[1] if printers
                                                 else "Printbridge")
        section = f"printer:{name}"
        if printers and section not in printers and len(printers) == 1:
            items = dict(parser.items(printers[0]))
            parser.remove_section(printers[0])
            parser.add_section(section)
            for key, value in items.items():
                parser.set(section, key, value)
        elif not parser.has_section(section):
            parser.add_section(section)
        if settings.get("printer_port"):
            parser.set(section, "port", settings["printer_port"])
        elif not parser.has_option(section, "port"):
            parser.set(section, "port", "usb:")
        out = io.StringIO()
        out.write("# Written by `printbridge provision` from printbridge.txt on the boot "
                  "partition;\n# keys set there win at the next boot, others stay.  See "
                  "printbridge.conf.example.\n\n")
        parser.write(out)
        path.write_text(out.getvalue())
        path.chmod(0o640)
        self.run("chown", f"root:{USER}", str(path))

    def set_admin_password(self, password: str) -> None:
        from firmware.users import ADMIN_GROUP, UserDB

        path = self.at(STATE_DIR) / "users"
        UserDB(path).set_password("admin", password, {ADMIN_GROUP})
        self.run("chown", f"{USER}:{USER}", str(path))
        self.note("admin password set")

    def set_hostname(self, name: str) -> None:
        self.at("/etc/hostname").write_text(name + "\n")
        hosts = self.at("/etc/hosts")
        lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
        lines = [x for x in lines if not x.startswith("127.0.1.1")] + [f"127.0.1.1\t{name}"]
        hosts.write_text("\n".join(lines) + "\n")
        self.note(f"host name {name}")

    def set_cmdline_arg(self, boot: Path, key: str, value: str) -> None:
        """Set ``key=value`` in cmdline.txt, which stays a single line."""
        path = boot / "cmdline.txt"
        if not path.exists():
            return
        words = [w for w in path.read_text().split() if not w.startswith(key + "=")]
        path.write_text(" ".join([*words, f"{key}={value}"]) + "\n")

    def network(self, settings: dict[str, str], profile: dict[str, Any]) -> None:
        net = profile.get("network", {})
        wifi_if = str(net.get("wifi", "") or "wlan0")
        wired = [i for i in net.get("interfaces", []) if i != net.get("wifi")]
        static_if = wired[0] if wired else (wifi_if if net.get("wifi") else "eth0")
        static = settings.get("static_address", "")
        ssid = settings.get("wifi_ssid", "")
        nm = self.at("/etc/NetworkManager").is_dir()
        dhcpcd = self.at("/etc/dhcpcd.conf").exists()
        if dhcpcd:
            self._dhcpcd(net.get("interfaces", []), static_if, settings)
        if nm:
            self._nm(static_if, wifi_if, settings)
        if not (nm or dhcpcd) and (ssid or static):
            self.note("neither NetworkManager nor dhcpcd found: network settings not applied")
        if ssid and not nm:
            self._wpa_supplicant(settings)
        country = settings.get("wifi_country", "").upper()
        if country:
            boot = self.find_boot()
            if boot is not None:
                self.set_cmdline_arg(boot, "cfg80211.ieee80211_regdom", country)
            rfkill = self.at("/var/lib/systemd/rfkill")
            for state in rfkill.glob("*:wlan") if rfkill.is_dir() else []:
                state.write_text("0\n")  # Raspberry Pi OS blocks Wi-Fi until a country is set
            self.note(f"Wi-Fi country {country}")

    def _dhcpcd(self, interfaces: list[str], static_if: str, settings: dict[str, str]) -> None:
        static = ""
        if settings.get("static_address"):
            static = f"interface {static_if}\nstatic ip_address={settings['static_address']}\n"
            if settings.get("gateway"):
                static += f"static routers={settings['gateway']}\n"
            if settings.get("dns"):
                dns = " ".join(x.strip() for x in settings["dns"].split(","))
                static += f"static domain_name_servers={dns}\n"
        block = (FILES / "dhcpcd.conf.in").read_text().format(
            interfaces=" ".join(interfaces) or "*", static=static)
        if not interfaces:
            block = block.replace("allowinterfaces *\n", "")
        path = self.at("/etc/dhcpcd.conf")
        text = path.read_text()
        text = re.sub(r"# BEGIN printbridge.*?# END printbridge\n?", "", text, flags=re.S)
        path.write_text(text.rstrip("\n") + "\n\n" + block)
        self.note(f"dhcpcd: {'static ' + settings['static_address'] if static else 'DHCP'}"
                  f" on {static_if if static else ', '.join(interfaces) or 'all interfaces'}")

    def _nm_keyfile(self, name: str, body: str) -> None:
        directory = self.at("/etc/NetworkManager/system-connections")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.nmconnection"
        path.write_text(body)
        path.chmod(0o600)  # NetworkManager ignores keyfiles others can read

    def _ipv4(self, settings: dict[str, str]) -> str:
        if not settings.get("static_address"):
            return "[ipv4]\nmethod=auto\n"
        address = settings["static_address"]
        if settings.get("gateway"):
            address += "," + settings["gateway"]
        text = f"[ipv4]\nmethod=manual\naddress1={address}\n"
        if settings.get("dns"):
            text += "dns=" + "".join(x.strip() + ";" for x in settings["dns"].split(",")) + "\n"
        return text

    def _nm(self, static_if: str, wifi_if: str, settings: dict[str, str]) -> None:
        nm_dir = self.at("/etc/NetworkManager/system-connections")
        ssid = settings.get("wifi_ssid", "")
        if ssid:
            psk = settings.get("wifi_passphrase", "")
            old = nm_dir / "printbridge-wifi.nmconnection"
            if not psk and old.exists():  # empty value: keep the passphrase we had
                match = re.search(r"^psk=(.*)$", old.read_text(), re.M)
                psk = match.group(1) if match else ""
            security = f"[wifi-security]\nkey-mgmt=wpa-psk\npsk={psk}\n\n" if psk else ""
            ipv4 = self._ipv4(settings) if static_if == wifi_if else "[ipv4]\nmethod=auto\n"
            self._nm_keyfile("printbridge-wifi", (
                f"[connection]\nid=printbridge-wifi\n"
                f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'printbridge-wifi')}\n"
                f"type=wifi\ninterface-name={wifi_if}\nautoconnect=true\n\n"
                f"[wifi]\nmode=infrastructure\nssid={ssid}\n\n{security}{ipv4}\n"
                "[ipv6]\nmethod=auto\n"))
            self.note(f"Wi-Fi {ssid!r} on {wifi_if} (NetworkManager)")
        wired = nm_dir / "printbridge-wired.nmconnection"
        if settings.get("static_address") and static_if != wifi_if:
            self._nm_keyfile("printbridge-wired", (
                f"[connection]\nid=printbridge-wired\n"
                f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'printbridge-wired')}\n"
                f"type=ethernet\ninterface-name={static_if}\nautoconnect=true\n"
                "autoconnect-priority=10\n\n" + self._ipv4(settings) + "\n[ipv6]\nmethod=auto\n"))
            self.note(f"static {settings['static_address']} on {static_if} (NetworkManager)")
        elif "static_address" in settings and not settings["static_address"] and wired.exists():
            wired.unlink()  # static address removed: back to DHCP

    def _wpa_supplicant(self, settings: dict[str, str]) -> None:
        path = self.at("/etc/wpa_supplicant/wpa_supplicant.conf")
        path.parent.mkdir(parents=True, exist_ok=True)
        psk = settings.get("wifi_passphrase", "")
        if not psk and path.exists():
            match = re.search(r'^\s*psk="(.*)"$', path.read_text(), re.M)
            psk = match.group(1) if match else ""
        network = f'network={{\n\tssid="{settings["wifi_ssid"]}"\n'
        network += f'\tpsk="{psk}"\n}}\n' if psk else "\tkey_mgmt=NONE\n}\n"
        path.write_text("ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\n"
                        f"update_config=1\ncountry={settings.get('wifi_country', '').upper()}\n\n"
                        + network)
        path.chmod(0o600)
        self.note(f"Wi-Fi {settings['wifi_ssid']!r} (wpa_supplicant)")

    def apply_txt(self, text: str) -> dict[str, str]:
        from firmware.boards import load_board

        settings, warnings = parse_txt(text)
        for warning in warnings:
            self.note(f"printbridge.txt: {warning}")
        validate(settings)
        try:
            profile = load_board(settings.get("board") or "auto")
        except ValueError as exc:
            raise ProvisionError(f"board: {exc}") from None
        self.write_config(settings)
        if settings.get("admin_password"):
            self.set_admin_password(settings["admin_password"])
        if settings.get("hostname"):
            self.set_hostname(settings["hostname"])
        self.network(settings, profile)
        return settings

    # -- 4.
    def enable(self) -> None:
        self.run("systemctl", *self._root_args(), "enable", *UNITS)

    # -- the whole thing
    def provision(self, *, if_changed: bool = False, first_boot: bool = False) -> bool:
        """Everything above; False when ``if_changed`` and printbridge.txt is unchanged."""
        boot = self.find_boot()
        txt = boot / TXT if boot else None
        text = ""
        if txt is not None and txt.exists():  # newline="": keep a Windows editor's CRLF
            with open(txt, encoding="utf-8", errors="replace", newline="") as fh:
                text = fh.read()
        applied = self.at(APPLIED)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if if_changed and applied.exists() and applied.read_text().strip() == digest:
            return False
        full = not if_changed or first_boot
        if full:
            self.install_system()
        error: ProvisionError | None = None
        if text:
            try:
                self.apply_txt(text)
            except ProvisionError as exc:  # still install and enable; say what is wrong
                error = exc
                self.note(f"printbridge.txt not applied: {exc}")
            else:
                scrubbed = scrub(text)
                if scrubbed != text and txt is not None:
                    with open(txt, "w", encoding="utf-8", newline="") as fh:
                        fh.write(scrubbed)
                    self.note("secrets removed from printbridge.txt")
                digest = hashlib.sha256(scrubbed.encode()).hexdigest()
                applied.parent.mkdir(parents=True, exist_ok=True)
                applied.write_text(digest + "\n")
        if full:
            self.enable()
        if error is not None:
            raise error
        return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="printbridge provision", description=__doc__.split(
        "\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("/"), help="target root (default /)")
    parser.add_argument("--boot", type=Path, help="boot partition (default: found)")
    parser.add_argument("--if-changed", action="store_true",
                        help="only apply printbridge.txt, and only if it changed")
    parser.add_argument("--first-boot", action="store_true", help="called by firstboot.sh")
    parser.add_argument("--no-system-files", action="store_true",
                        help="units and udev rules come from a package")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    prov = Provisioner(root=args.root, boot=args.boot,
                       system_files=not args.no_system_files)
    try:
        changed = prov.provision(if_changed=args.if_changed, first_boot=args.first_boot)
    except (ProvisionError, subprocess.CalledProcessError, OSError) as exc:
        print(f"printbridge provision: {exc}", file=sys.stderr)
        return 1
    print("printbridge.txt unchanged" if not changed else "provisioned")
    return 0
