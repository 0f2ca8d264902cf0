"""``printbridge provision`` against a directory standing in for the target's ``/``; the
commands it would run (useradd, chown, systemctl) are recorded, not run."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest

from firmware.config import load_config
from firmware.image.provision import (
    APPLIED,
    Provisioner,
    ProvisionError,
    parse_txt,
    scrub,
)
from firmware.media import LETTER, paper_for
from firmware.users import UserDB

TEMPLATE = (Path(__file__).resolve().parent.parent.parent / "firmware/image/files/printbridge.txt")
CMDLINE = "console=tty1 root=PARTUUID=5e3da3da-02 rootfstype=ext4 rootwait quiet\n"


def fill(**values: str) -> str:
    """The template with some settings filled in, as a user would in Notepad (CRLF)."""
    lines = []
    for line in TEMPLATE.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.startswith("#") and key in values:
            line = f"{key} = {values[key]}"
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\nlp:x:7:\ndialout:x:20:\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (root / "etc/dhcpcd.conf").write_text("# A sample configuration for dhcpcd.\nhostname\n")
    (root / "etc/NetworkManager/system-connections").mkdir(parents=True)
    rfkill = root / "var/lib/systemd/rfkill"
    rfkill.mkdir(parents=True)
    (rfkill / "platform-3f300000.mmcnr:wlan").write_text("1\n")
    boot = root / "boot/firmware"
    boot.mkdir(parents=True)
    (boot / "cmdline.txt").write_text(CMDLINE)
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\0")
    monkeypatch.setenv("PRINTBRIDGE_DT_MODEL", str(model))
    return root


class Recorder:
    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str]) -> None:
        self.commands.append(list(argv))

    def names(self) -> list[str]:
        return [c[0] for c in self.commands]


def provisioner(root: Path) -> tuple[Provisioner, Recorder]:
    rec = Recorder()
    return Provisioner(root=root, runner=rec), rec


def test_first_boot(target: Path) -> None:
    txt = target / "boot/firmware/printbridge.txt"
    txt.write_text(fill(printer_name="Office", printer_port="serial:/dev/ttyUSB0?baud=9600",
                        hostname="office-printer", wifi_country="gb", wifi_ssid="Home Net",
                        wifi_passphrase="correct horse", admin_password="s3cret-pass",
                        static_address="192.168.1.50/24", gateway="192.168.1.1",
                        dns="192.168.1.1, 9.9.9.9"), newline="")
    prov, rec = provisioner(target)
    assert prov.provision(first_boot=True)
    root_args = ["--root", str(target)]
    assert ["groupadd", *root_args, "--system", "gpio"] in rec.commands
    useradd = next(c for c in rec.commands if c[0] == "useradd")
    assert useradd[-1] == "printbridge" and "--system" in useradd
    assert ["usermod", *root_args, "--append", "--groups", "lp,gpio,dialout",
            "printbridge"] in rec.commands
    assert rec.commands[-1] == ["systemctl", *root_args, "enable", "printbridge.service",
                                "printbridge-setup.service"]
    # system files
    for path in ("etc/systemd/system/printbridge.service",
                 "etc/systemd/system/printbridge-setup.service",
                 "etc/udev/rules.d/60-printbridge.rules", "etc/modules-load.d/printbridge.conf"):
        assert (target / path).is_file(), path
    # printbridge.conf
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(target / "etc/printbridge/printbridge.conf")
    assert conf.get("daemon", "board") == "auto"
    assert conf.get("daemon", "state_dir") == "/var/lib/printbridge"
    assert conf.get("printer:Office", "port") == "serial:/dev/ttyUSB0?baud=9600"
    assert conf.get("daemon", "country") == "GB"  # the paper size follows (A4)
    # the admin password, through firmware.users.UserDB
    users = UserDB(target / "var/lib/printbridge/users")
    admin = users.authenticate("admin", "s3cret-pass")
    assert admin is not None and admin.is_admin
    assert ["chown", "printbridge:printbridge", str(target / "var/lib/printbridge/users")] \
        in rec.commands
    # host name, Wi-Fi (NetworkManager keyfile), static address, country
    assert (target / "etc/hostname").read_text() == "office-printer\n"
    assert "127.0.1.1\toffice-printer" in (target / "etc/hosts").read_text()
    assert "raspberrypi" not in (target / "etc/hosts").read_text()
    wifi = target / "etc/NetworkManager/system-connections/printbridge-wifi.nmconnection"
    assert stat.S_IMODE(wifi.stat().st_mode) == 0o600
    text = wifi.read_text()
    assert "ssid=Home Net\n" in text and "psk=correct horse\n" in text
    assert "interface-name=wlan0" in text and "method=auto" in text
    wired = (target / "etc/NetworkManager/system-connections/printbridge-wired.nmconnection")
    assert "address1=192.168.1.50/24,192.168.1.1\n" in wired.read_text()
    assert "dns=192.168.1.1;9.9.9.9;\n" in wired.read_text()
    assert "interface-name=eth0" in wired.read_text()
    dhcpcd = (target / "etc/dhcpcd.conf").read_text()
    assert dhcpcd.startswith("# A sample configuration for dhcpcd.\nhostname\n")
    assert "allowinterfaces eth0 wlan0\n" in dhcpcd
    assert "interface eth0\nstatic ip_address=192.168.1.50/24\nstatic routers=192.168.1.1\n" \
           "static domain_name_servers=192.168.1.1 9.9.9.9\n" in dhcpcd
    cmdline = (target / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == CMDLINE.rstrip("\n") + " cfg80211.ieee80211_regdom=GB\n"
    assert (target / "var/lib/systemd/rfkill/platform-3f300000.mmcnr:wlan").read_text() == "0\n"
    # secrets gone from the FAT file, layout (CRLF) kept, the hash recorded
    after = txt.read_bytes().decode()
    assert "s3cret-pass" not in after and "correct horse" not in after
    assert "\r\nadmin_password =\r\n" in after and "\r\nwifi_ssid = Home Net\r\n" in after
    assert (target / APPLIED.lstrip("/")).read_text().strip()


def test_later_edits_apply_at_the_next_boot(target: Path) -> None:
    txt = target / "boot/firmware/printbridge.txt"
    txt.write_text(fill(printer_name="Office", printer_port="usb://HP/LaserJet%201020",
                        wifi_country="DE", wifi_ssid="Home", wifi_passphrase="first-pass",
                        static_address="10.0.0.5/24", admin_password="first-pass"))
    prov, rec = provisioner(target)
    prov.provision(first_boot=True)
    # next boot, nothing edited: printbridge-setup.service does nothing
    prov, rec = provisioner(target)
    assert not prov.provision(if_changed=True)
    assert rec.commands == []
    # the user renames the printer, drops the static address, keeps Wi-Fi as it was
    txt.write_text(fill(printer_name="Upstairs", printer_port="", wifi_country="DE",
                        wifi_ssid="Home", static_address=""))
    prov, rec = provisioner(target)
    assert prov.provision(if_changed=True)
    assert "useradd" not in rec.names() and "systemctl" not in rec.names()
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(target / "etc/printbridge/printbridge.conf")
    assert [s for s in conf.sections() if s.startswith("printer:")] == ["printer:Upstairs"]
    assert conf.get("printer:Upstairs", "port") == "usb://HP/LaserJet%201020"  # empty: kept
    dhcpcd = (target / "etc/dhcpcd.conf").read_text()
    assert dhcpcd.count("# BEGIN printbridge") == 1 and "static ip_address" not in dhcpcd
    nm = target / "etc/NetworkManager/system-connections"
    assert not (nm / "printbridge-wired.nmconnection").exists()
    assert "psk=first-pass" in (nm / "printbridge-wifi.nmconnection").read_text()  # kept
    assert (target / "boot/firmware/cmdline.txt").read_text().count("regdom") == 1
    assert UserDB(target / "var/lib/printbridge/users").authenticate("admin", "first-pass")


def test_bad_settings_are_reported_but_the_install_completes(target: Path) -> None:
    txt = target / "boot/firmware/printbridge.txt"
    txt.write_text(fill(wifi_ssid="Home", admin_password="short", static_address="1.2.3.4"))
    prov, rec = provisioner(target)
    with pytest.raises(ProvisionError) as err:
        prov.provision(first_boot=True)
    message = str(err.value)
    assert "wifi_country is required" in message and "admin_password" in message
    assert "static_address" in message
    assert rec.commands[-1][-3:] == ["enable", "printbridge.service", "printbridge-setup.service"]
    assert not (target / APPLIED.lstrip("/")).exists()  # retried at the next boot
    assert "short" in txt.read_text()  # not applied, so not scrubbed


def test_zero2w_has_no_wired_interface(target: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "zero"
    model.write_bytes(b"Raspberry Pi Zero 2 W Rev 1.0\0")
    monkeypatch.setenv("PRINTBRIDGE_DT_MODEL", str(model))
    (target / "etc/NetworkManager").rename(target / "etc/no-nm")  # a dhcpcd system
    (target / "boot/firmware/printbridge.txt").write_text(fill(
        wifi_country="US", wifi_ssid="Shop", wifi_passphrase="12345678",
        static_address="192.168.7.9/24"))
    prov, _ = provisioner(target)
    prov.provision(first_boot=True)
    dhcpcd = (target / "etc/dhcpcd.conf").read_text()
    assert "allowinterfaces wlan0\n" in dhcpcd and "interface wlan0\nstatic" in dhcpcd
    wpa = (target / "etc/wpa_supplicant/wpa_supplicant.conf").read_text()
    assert "country=US\n" in wpa and 'ssid="Shop"' in wpa and 'psk="12345678"' in wpa
    conf = load_config(target / "etc/printbridge/printbridge.conf", "generic")
    assert conf.country == "US" and paper_for(conf.country, {}) == LETTER


def test_parse_and_scrub() -> None:
    settings, warnings = parse_txt("\ufeffprinter_name = A\nbogus = 1\njust words\n# c = d\n")
    assert settings == {"printer_name": "A"}
    assert len(warnings) == 2 and "bogus" in warnings[0]
    assert scrub("admin_password = x\r\nwifi_passphrase=\r\n# admin_password = y\r\n") == \
        "admin_password =\r\nwifi_passphrase=\r\n# admin_password = y\r\n"
