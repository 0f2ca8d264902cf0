"""The paper loaded, per tray: IPP media-ready / media-col-ready (RFC 8011 §5.2.11, PWG
5100.7 §6.3), set from printbridge.conf (``media_ready``), IPP Set-Printer-Attributes
(RFC 3380 §4.1) and the web settings page, defaulting by country (Letter in the US and
Canada, A4 elsewhere); media-default follows it, and so does SNMP's prtInputTable
(RFC 3805 §2.2.2)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from firmware.config import load_config
from firmware.ipp import DelimiterTag, Operation, Status, ValueTag
from firmware.media import (
    A4,
    LETTER,
    environment_country,
    locale_country,
    paper_for,
    parse_media_ready,
)
from firmware.system import System
from tests.daemon import Daemon
from tests.ipp.client import request, send
from tests.ipp.test_operations import ADMIN, Client, add_admin
from tests.snmp import netsnmp
from tests.web.browser import Browser

OK = Status.SUCCESSFUL_OK
NOT_SUPPORTED = Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
LEGAL = "na_legal_8.5x14in"
A5 = "iso_a5_148x210mm"
#: prtInputMediaName, prtInputMediaDimFeedDirDeclared (length) and
#: prtInputMediaDimXFeedDirDeclared (width), in micrometres, of device 1's tray 1.
SNMP_NAME = ".1.3.6.1.2.1.43.8.2.1.12.1.1"
SNMP_LENGTH = ".1.3.6.1.2.1.43.8.2.1.4.1.1"
SNMP_WIDTH = ".1.3.6.1.2.1.43.8.2.1.5.1.1"
MEDIA = ["media-ready", "media-col-ready", "media-default", "media-col-default",
         "printer-settable-attributes-supported"]
#: No locale in the daemon's environment: the paper comes from the configuration only.
NO_LOCALE = ("LC_ALL", "LC_PAPER", "LANG")


# -- the country's paper (pure functions)
@pytest.mark.parametrize(("country", "paper"), [
    ("US", LETTER), ("CA", LETTER), ("us", LETTER), ("DE", A4), ("GB", A4), ("FR", A4),
    ("", A4)])
def test_paper_for_country(country: str, paper: str) -> None:
    assert paper_for(country, {}) == paper


@pytest.mark.parametrize(("environ", "paper"), [
    ({}, A4),
    ({"LANG": "en_US.UTF-8"}, LETTER),
    ({"LANG": "fr_CA.UTF-8"}, LETTER),
    ({"LANG": "en_GB.UTF-8"}, A4),
    ({"LANG": "C.UTF-8"}, A4),
    ({"LANG": "POSIX"}, A4),
    ({"LANG": "de_DE.UTF-8", "LC_PAPER": "en_US.UTF-8"}, LETTER),  # LC_PAPER is the one
    ({"LANG": "en_US.UTF-8", "LC_PAPER": "de_DE.UTF-8"}, A4),
    ({"LC_ALL": "de_DE.UTF-8", "LC_PAPER": "en_US.UTF-8"}, A4),  # LC_ALL overrides it
    ({"LC_ALL": "", "LC_PAPER": "", "LANG": "en_CA"}, LETTER),  # empty is unset
])
def test_paper_for_locale(environ: dict[str, str], paper: str) -> None:
    assert paper_for("", environ) == paper


def test_country_wins_over_locale() -> None:
    assert paper_for("DE", {"LANG": "en_US.UTF-8"}) == A4
    assert paper_for("US", {"LC_ALL": "de_DE.UTF-8"}) == LETTER


def test_locale_names() -> None:
    assert locale_country("en_US.UTF-8") == "US"
    assert locale_country("sr_RS@latin") == "RS"
    assert locale_country("ast_ES.UTF-8") == "ES"
    assert locale_country("de") == "" and locale_country("C") == ""
    assert environment_country({"LC_PAPER": "en_CA.UTF-8"}) == "CA"
    with pytest.raises(ValueError, match="two-letter"):
        paper_for("USA", {})


def test_media_ready_setting_syntax() -> None:
    assert parse_media_ready(LETTER) == {"": LETTER}
    assert parse_media_ready(f" main = {LETTER} , manual={A5}") == {"main": LETTER,
                                                                    "manual": A5}
    for bad in ("", "letter", f"={A4}", f"{A4}, {LETTER}", f"main={A4}, main={A5}"):
        with pytest.raises(ValueError):
            parse_media_ready(bad)


# -- configuration -> the printer model
def _system(tmp_path: Path, printer: str = "", daemon: str = "") -> System:
    tmp_path.mkdir(parents=True, exist_ok=True)
    conf = tmp_path / "printbridge.conf"
    conf.write_text(f"[daemon]\nstate_dir = {tmp_path / 'state'}\n{daemon}\n"
                    f"[printer:P]\nport = emulated:\nrate = 0\n{printer}\n")
    return System(load_config(conf, "emulator"))


def test_config_country(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NO_LOCALE:
        monkeypatch.delenv(name, raising=False)
    printer = _system(tmp_path / "us", daemon="country = us").default_printer
    assert [t.media for t in printer.trays] == [LETTER]
    assert printer.capabilities.default_media == LETTER  # media-default follows
    printer = _system(tmp_path / "none").default_printer
    assert [t.media for t in printer.trays] == [A4]
    monkeypatch.setenv("LC_PAPER", "en_CA.UTF-8")
    assert _system(tmp_path / "ca").default_printer.trays[0].media == LETTER
    with pytest.raises(ValueError, match=r"\[daemon\] country"):
        _system(tmp_path / "bad", daemon="country = Germany")


def test_config_media_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            caplog: pytest.LogCaptureFixture) -> None:
    _no_locale(monkeypatch)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    printer = _system(tmp_path / "a", f"media_ready = main={A5}").default_printer
    assert printer.trays[0].media == A5 and printer.capabilities.default_media == A5
    # default_media fixes media-default and is what the tray holds without media_ready.
    printer = _system(tmp_path / "b", f"default_media = {LEGAL}").default_printer
    assert printer.trays[0].media == LEGAL and printer.capabilities.default_media == LEGAL
    printer = _system(tmp_path / "c", f"default_media = {A4}\nmedia_ready = {A5}"
                      ).default_printer
    assert printer.trays[0].media == A5 and printer.capabilities.default_media == A4
    # A size the driver does not print: logged, the default loaded instead.
    with caplog.at_level(logging.WARNING, "firmware.system"):
        printer = _system(tmp_path / "d", "media_ready = iso_a3_297x420mm").default_printer
    assert printer.trays[0].media == LETTER
    assert "iso_a3_297x420mm is not supported" in caplog.text
    # A receipt printer has no Letter: its roll stays loaded.
    printer = _system(tmp_path / "e", "language = escpos").default_printer
    assert printer.trays[0].media == "om_receipt-80_80x297mm"
    assert printer.trays[0].media_type == "continuous"
    with pytest.raises(ValueError, match="printer P: media_ready = letter"):
        _system(tmp_path / "f", "media_ready = letter")


# -- over the wire
def _attrs(daemon: Daemon) -> dict[str, Any]:
    reply = Client(daemon)(Operation.GET_PRINTER_ATTRIBUTES, requested_attributes=MEDIA)
    assert reply.status == OK
    return {name: reply.find(name) for name in MEDIA}


def _ready_size(attrs: dict[str, Any]) -> tuple[str, int, int]:
    col = attrs["media-col-ready"][0]
    size = col.value("media-size")
    return col.value("media-source"), size.value("x-dimension"), size.value("y-dimension")


def _snmp(daemon: Daemon) -> tuple[str, int, int]:
    values = netsnmp.get(netsnmp.V2C, f"udp:127.0.0.1:{daemon.snmp_port}",
                         SNMP_NAME, SNMP_LENGTH, SNMP_WIDTH)
    name = values[SNMP_NAME].split(":", 1)[1].strip().strip('"')
    return name, netsnmp.integer(values[SNMP_WIDTH]), netsnmp.integer(values[SNMP_LENGTH])


def _no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemons started here inherit no paper locale from the machine running them."""
    for name in NO_LOCALE:
        monkeypatch.delenv(name, raising=False)


def test_config_over_ipp_and_snmp(make_daemon: type[Daemon],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    netsnmp.require_tools()
    _no_locale(monkeypatch)
    daemon = make_daemon(options={"media_ready": LEGAL}, extra_config=netsnmp.SNMP_CONFIG)
    daemon.start()
    attrs = _attrs(daemon)
    assert attrs["media-ready"] == [LEGAL]
    assert _ready_size(attrs) == ("main", 21590, 35560)
    assert attrs["media-default"] == [LEGAL]
    assert attrs["media-col-default"][0].value("media-size").value("y-dimension") == 35560
    assert {"media-ready", "media-col-ready"} <= set(attrs["printer-settable-attributes-"
                                                           "supported"])
    assert _snmp(daemon) == (LEGAL, 215900, 355600)
    assert daemon.status()["trays"][0]["media"] == LEGAL


def _set(daemon: Daemon, **attrs: Any) -> Any:
    return Client(daemon)(Operation.SET_PRINTER_ATTRIBUTES, group=(DelimiterTag.PRINTER, {
        name.replace("_", "-"): value for name, value in attrs.items()}))


def test_ipp_sets_media(make_daemon: type[Daemon], monkeypatch: pytest.MonkeyPatch) -> None:
    netsnmp.require_tools()
    _no_locale(monkeypatch)
    daemon = make_daemon(extra_config=netsnmp.SNMP_CONFIG)
    add_admin(daemon)
    daemon.start()
    assert _attrs(daemon)["media-ready"] == [A4]
    # Only the administrator, as for every printer setting.
    msg = request(Operation.SET_PRINTER_ATTRIBUTES, daemon.uri)
    msg.add_group(DelimiterTag.PRINTER).add("media-ready", ValueTag.KEYWORD, [LETTER])
    anonymous = send(daemon.ipp_port, msg)
    assert anonymous.http_status != 200 or anonymous.status != OK
    assert send(daemon.ipp_port, msg, tls=True, auth=(ADMIN[0], "wrong")).http_status == 401
    assert _attrs(daemon)["media-ready"] == [A4]

    assert _set(daemon, media_ready=[LETTER]).status == OK
    attrs = _attrs(daemon)
    assert attrs["media-ready"] == [LETTER] and attrs["media-default"] == [LETTER]
    assert _ready_size(attrs) == ("main", 21590, 27940)
    assert _snmp(daemon) == (LETTER, 215900, 279400)

    # Sizes the driver does not print are refused, the attribute named, nothing changed.
    a3 = "iso_a3_297x420mm"
    for bad, named in (
            ({"media_ready": [a3]}, "media-ready"),
            ({"media_ready": [A4, A5]}, "media-ready"),  # one tray
            ({"media_col_ready": [{"media-size": {"x-dimension": 29700,
                                                  "y-dimension": 42000}}]}, "media-col-ready"),
            ({"media_col_ready": [{"media-size-name": A5, "media-source": "tray-9"}]},
             "media-col-ready"),
            ({"media_col_ready": [{"media-size-name": A5, "media-type": "labels"}]},
             "media-col-ready"),
            ({"media_ready": [A5], "media_col_ready": [{"media-size-name": a3}]},
             "media-col-ready")):
        reply = _set(daemon, **bad)
        assert reply.status == NOT_SUPPORTED, bad
        unsupported = reply.message.group(DelimiterTag.UNSUPPORTED)
        assert unsupported is not None and list(unsupported) == [named], bad
    assert _attrs(daemon)["media-ready"] == [LETTER]

    # media-col-ready: the size by its dimensions, the tray by media-source.
    reply = _set(daemon, media_col_ready=[{
        "media-size": {"x-dimension": 14800, "y-dimension": 21000}, "media-source": "main",
        "media-type": "stationery"}])
    assert reply.status == OK
    assert _attrs(daemon)["media-ready"] == [A5]
    assert _set(daemon, media_col_ready=[{"media-size-name": LEGAL}]).status == OK
    assert _attrs(daemon)["media-ready"] == [LEGAL]

    supported = Client(daemon)(Operation.GET_PRINTER_SUPPORTED_VALUES)
    assert supported.status == OK, supported.find("status-message")
    assert A5 in supported.find("media-ready")

    # It survives a restart.
    daemon.stop()
    daemon.start()
    attrs = _attrs(daemon)
    assert attrs["media-ready"] == [LEGAL] and attrs["media-default"] == [LEGAL]
    assert _snmp(daemon) == (LEGAL, 215900, 355600)
    # ... until printbridge.conf says otherwise: then the file wins.
    daemon.stop()
    daemon.config.write_text(daemon.config.read_text().replace(
        "port = emulated:", f"port = emulated:\nmedia_ready = main={A5}"))
    daemon.start()
    assert _attrs(daemon)["media-ready"] == [A5]


def test_web_sets_media(make_daemon: type[Daemon], monkeypatch: pytest.MonkeyPatch) -> None:
    _no_locale(monkeypatch)
    daemon = make_daemon()
    add_admin(daemon)
    daemon.start()
    browser = Browser(daemon.ipp_port)
    page = browser.request("/settings")[1]
    assert '<select name="media.main"' in page and "Letter (8.5x11in)" in page
    assert f'<option value="{A4}" selected>' in page
    assert browser.request("/settings", {"media.main": LETTER, "csrf": "x"})[0] == 401
    assert browser.login(ADMIN[1]) == 303
    csrf = browser.csrf("/settings")
    assert browser.request("/settings", {"media.main": LETTER})[0] == 403  # no CSRF token
    status, _, location = browser.request("/settings", {"csrf": csrf, "media.main": LETTER,
                                                        "location": "Hall"})
    assert status == 303 and "Settings%20saved" in location
    attrs = _attrs(daemon)
    assert attrs["media-ready"] == [LETTER] and attrs["media-default"] == [LETTER]
    page = browser.request("/settings")[1]
    assert f'<option value="{LETTER}" selected>' in page and 'value="Hall"' in page
    # A size the printer does not take is refused; fields not posted stay as they were.
    status, body, _ = browser.request("/settings", {"csrf": csrf,
                                                    "media.main": "iso_a3_297x420mm"})
    assert status == 400 and "not supported" in body
    assert browser.request("/settings", {"csrf": csrf, "media.main": A5})[0] == 303
    assert _attrs(daemon)["media-ready"] == [A5]
    assert 'value="Hall"' in browser.request("/settings")[1]


def _us(daemon: Daemon) -> Daemon:
    daemon.config.write_text(daemon.config.read_text().replace(
        "[daemon]\n", "[daemon]\ncountry = US\n", 1))
    return daemon


def test_us_prints_letter(make_daemon: type[Daemon],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A box in the US has Letter ready, and a job that names no media prints on it."""
    from PIL import Image

    _no_locale(monkeypatch)
    daemon = _us(make_daemon()).start()
    attrs = _attrs(daemon)
    assert attrs["media-ready"] == [LETTER] and attrs["media-default"] == [LETTER]
    out = io.BytesIO()
    Image.new("L", (200, 200), 0).save(out, "JPEG")
    job = Client(daemon).print_job(out.getvalue(), document_format="image/jpeg")
    daemon.wait_job(job)
    assert b"\x1b&l2A" in daemon.output(job)  # PCL page size 2: Letter
    assert b"\x1b&l26A" not in daemon.output(job)
    # The locale of the service says the same when the configuration does not.
    monkeypatch.setenv("LC_PAPER", "en_US.UTF-8")
    assert _attrs(make_daemon().start())["media-ready"] == [LETTER]
