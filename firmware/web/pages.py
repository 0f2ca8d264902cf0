"""The web pages: status, jobs, settings, network, security, maintenance.

Server-side templates (Jinja2, autoescaped), no JavaScript, usable on a phone.  Reading
needs nothing; every change needs an admin session and the session's CSRF token.  All
values come from the printer model at request time.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from firmware.alerts import alert_text
from firmware.config import host_port
from firmware.logbuffer import BUFFER
from firmware.reasons import REASON_TEXT, is_error
from firmware.system import System
from firmware.testpage import clock
from firmware.users import UserDB
from firmware.web.session import COOKIE, LIFETIME, Session, SessionKeeper

HERE = Path(__file__).resolve().parent
NAV = [("/", "Status"), ("/jobs", "Jobs"), ("/settings", "Settings"), ("/network", "Network"),
       ("/security", "Security"), ("/maintenance", "Maintenance")]
WEB_KEY = web.AppKey("web-ui", "WebUI")
#: The maintenance page's queue buttons and what each says once done.
QUEUE_ACTIONS = {"pause": "Printing paused", "resume": "Printing resumed",
                 "hold-new-jobs": "New jobs are held",
                 "release-held-new-jobs": "Held new jobs released"}


def level_text(level: int, unit: str = "%") -> str:
    return {-2: "unknown", -3: "some left", -1: "other"}.get(level, f"{level}{unit}")


def size_text(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


def media_text(name: str) -> str:
    """iso_a4_210x297mm -> "A4 (210x297mm)"."""
    parts = name.split("_")
    if len(parts) == 3:
        return f"{parts[1].replace('-', ' ').title()} ({parts[2]})"
    return name


class WebUI:
    def __init__(self, system: System) -> None:
        self.system = system
        self.users = UserDB(system.config.state_dir / "users")
        self.sessions = SessionKeeper(system.config.state_dir / "web-secret")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals.update(level_text=level_text, size_text=size_text,
                                media_text=media_text)

    # -- plumbing
    def session(self, request: web.Request) -> Session | None:
        session = self.sessions.check(request.cookies.get(COOKIE))
        if session is None:
            return None
        user = self.users.load().get(session.user)
        return session if user is not None and user.is_admin else None

    def render(self, request: web.Request, template: str, title: str, **values: Any
               ) -> web.Response:
        session = self.session(request)
        printer = self.system.default_printer
        up = int(time.time() - self.system.start_time)
        page = self.env.get_template(template).render(
            title=title, printer=printer, nav=NAV, active=request.path, session=session,
            csrf=self.sessions.csrf_token(session) if session else "",
            message=request.query.get("message", ""), version=self.system.version,
            board=self.system.config.board, uptime=f"{up // 3600}h {up // 60 % 60:02d}m",
            **values,
        )
        return web.Response(text=page, content_type="text/html")

    @staticmethod
    async def form(request: web.Request) -> Any:
        """The posted form; a body that is not a form is a client error, not ours."""
        try:
            return await request.post()
        except (UnicodeDecodeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=f"malformed form: {exc}\n") from None

    async def admin_form(self, request: web.Request) -> tuple[Session, Any]:
        """The posted form, after checking the admin session and the CSRF token."""
        form = await self.form(request)
        session = self.session(request)
        if session is None:
            raise web.HTTPUnauthorized(text="log in as an administrator first\n")
        if not self.sessions.csrf_ok(session, form.get("csrf")):  # type: ignore[arg-type]
            raise web.HTTPForbidden(text="missing or wrong CSRF token\n")
        return session, form

    @staticmethod
    def back(path: str, message: str) -> web.HTTPSeeOther:
        return web.HTTPSeeOther(f"{path}?message={quote(message)}")

    # -- pages
    async def status(self, request: web.Request) -> web.Response:
        printer = self.system.default_printer
        reasons = [{"text": REASON_TEXT.get(r, r), "error": is_error(r)}
                   for r in printer.reasons if r != "none"]
        state_text = {
            "idle": "Ready to print", "processing": "Printing", "stopped": "Stopped",
        }[printer.state.keyword]
        alerts = []
        for alert in reversed(printer.alerts):
            event = alert.condition is None  # power-up: an event, not a condition
            alerts.append({"index": alert.index, "active": alert.active and not event,
                           "text": alert_text(alert),
                           "raised": clock(alert.raised),
                           "cleared": "—" if event else clock(alert.cleared)})
        return self.render(request, "status.html", "Status", reasons=reasons,
                           state_text=state_text, alerts=alerts)

    async def jobs(self, request: web.Request) -> web.Response:
        printer = self.system.default_printer
        queued = sorted((j for j in printer.jobs.values() if j.active), key=lambda j: j.order)
        history = [j for j in reversed(printer.jobs.values()) if not j.active]
        return self.render(request, "jobs.html", "Jobs", queued=queued, history=history)

    async def settings(self, request: web.Request) -> web.Response:
        cfg = self.system.config
        listen = cfg.listen
        protocols = [("IPP", host_port(listen, cfg.ipp_port)),
                     ("Raw 9100", host_port(listen, cfg.raw_port) if cfg.raw_port else "off"),
                     ("LPD", host_port(listen, cfg.lpd_port) if cfg.lpd_port else "off"),
                     ("SNMP", host_port(listen, cfg.snmp_port) if cfg.snmp_port else "off")]
        return self.render(request, "settings.html", "Settings", protocols=protocols)

    async def network(self, request: web.Request) -> web.Response:
        import netifaces

        wanted = self.system.config.network.get("interfaces") or netifaces.interfaces()
        if isinstance(wanted, str):
            wanted = [w.strip() for w in wanted.split(",") if w.strip()]
        addresses = []
        for iface in wanted:
            try:
                info = netifaces.ifaddresses(iface)
            except ValueError:
                continue
            addrs = [a["addr"] for fam in (netifaces.AF_INET, netifaces.AF_INET6)
                     for a in info.get(fam, [])]
            addresses.append((iface, addrs))
        printer = self.system.default_printer
        return self.render(
            request, "network.html", "Network",
            hostname=self.system.mdns_host or socket.gethostname(),
            dnssd_name=getattr(printer, "dnssd_name", None) or printer.name,
            mode=self.system.config.network.get("mode", "dhcp"), addresses=addresses,
            printer_uri=f"ipp://{request.host}{self.system.printer_path(printer)}",
        )

    async def security(self, request: web.Request) -> web.Response:
        snmp = self.system.config.sections.get("snmp", {})
        users = sorted(k.split(".", 1)[1] for k in snmp if k.startswith("user."))
        return self.render(
            request, "security.html", "Security",
            tls_text=(f"IPPS and HTTPS on the same port; certificate SHA-256 fingerprint "
                      f"{self.system.tls_fingerprint}" if self.system.tls_enabled
                      else "IPPS/HTTPS is not enabled on this printer."),
            snmp_communities=f"{len(snmp.get('communities', 'public').split(','))} configured",
            snmp_users=", ".join(users) or "none",
        )

    async def maintenance(self, request: web.Request) -> web.Response:
        return self.render(request, "maintenance.html", "Maintenance")

    # -- login
    async def login_form(self, request: web.Request) -> web.Response:
        return self.render(request, "login.html", "Log in", has_admin=self.users.has_admin(),
                           next=request.query.get("next", "/"))

    async def login(self, request: web.Request) -> web.Response:
        form = await self.form(request)
        user = self.users.authenticate(str(form.get("user", "")), str(form.get("password", "")))
        target = str(form.get("next", "/"))
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if user is None or not user.is_admin:
            raise self.back("/login", "Wrong user name or password")
        response = web.HTTPSeeOther(target)
        response.set_cookie(COOKIE, self.sessions.issue(user.name), max_age=LIFETIME,
                            httponly=True, samesite="Strict", path="/")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        await self.admin_form(request)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        raise response

    # -- actions
    async def job_action(self, request: web.Request) -> web.Response:
        await self.admin_form(request)
        job = self.system.find_job(int(request.match_info["job"]))
        if job is None:
            raise web.HTTPNotFound(text="no such job\n")
        action = request.match_info["action"]
        done = {
            "cancel": self.system.cancel_job,
            "hold": self.system.hold_job,
            "release": self.system.release_job,
        }[action]
        ok = await done(job)
        raise self.back("/jobs", f"Job {job.id}: {action} {'done' if ok else 'not possible'}")

    async def save_settings(self, request: web.Request) -> web.Response:
        """The settings form: the printer's descriptive text and, per tray, the paper
        loaded (``media.SOURCE``), each through the System method IPP's
        Set-Printer-Attributes uses too.  Fields not posted stay as they are."""
        _, form = await self.admin_form(request)
        printer = self.system.default_printer
        values = {key: str(form[key]).strip()[:127]
                  for key in ("location", "info", "organization", "geo_location")
                  if key in form}
        if values.get("geo_location") and not values["geo_location"].startswith("geo:"):
            raise web.HTTPBadRequest(text="the geo location must be a geo: URI\n")
        posted = [(tray, str(form.get(f"media.{tray.source}", tray.media)).strip())
                  for tray in printer.trays]
        ready = {tray.source: media for tray, media in posted if media != tray.media}
        if ready:
            try:
                await self.system.set_media_ready(printer, ready)
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{exc}\n") from None
        if values:
            await self.system.set_identity(printer, **values)
        raise self.back("/settings", "Settings saved")

    async def change_password(self, request: web.Request) -> web.Response:
        session, form = await self.admin_form(request)
        if self.users.authenticate(session.user, str(form.get("current", ""))) is None:
            raise self.back("/security", "The current password is wrong")
        try:
            self.users.set_password(session.user, str(form.get("new", "")))
        except ValueError as exc:
            raise self.back("/security", str(exc)) from None
        raise self.back("/security", "Password changed")

    async def test_page(self, request: web.Request) -> web.Response:
        session, _ = await self.admin_form(request)
        job = await self.system.print_test_page(self.system.default_printer,
                                                user=session.user, origin="web")
        raise self.back("/maintenance", f"Test page sent as job {job.id}")

    async def identify(self, request: web.Request) -> web.Response:
        await self.admin_form(request)
        self.system.identify(self.system.default_printer)
        raise self.back("/maintenance", "The printer shows itself")

    async def restart(self, request: web.Request) -> web.Response:
        await self.admin_form(request)
        await self.system.restart_printer(self.system.default_printer)
        raise self.back("/maintenance", "Printer restarted")

    async def queue_action(self, request: web.Request) -> web.Response:
        """Pause / resume printing, hold / release new jobs: the System methods IPP's
        Pause-Printer, Resume-Printer, Hold-New-Jobs and Release-Held-New-Jobs call."""
        await self.admin_form(request)
        printer = self.system.default_printer
        action = request.match_info["action"]
        if action in ("pause", "resume"):
            await self.system.set_paused(printer, action == "pause")
        else:
            await self.system.set_hold_new_jobs(printer, action == "hold-new-jobs")
        raise self.back("/maintenance", QUEUE_ACTIONS[action])

    async def log(self, request: web.Request) -> web.Response:
        if self.session(request) is None:
            raise web.HTTPUnauthorized(text="log in as an administrator first\n")
        return web.Response(text=BUFFER.text(), content_type="text/plain", headers={
            "Content-Disposition": 'attachment; filename="printbridge.log"'})

    async def style(self, request: web.Request) -> web.Response:
        return web.Response(body=(HERE / "style.css").read_bytes(), content_type="text/css",
                            headers={"Cache-Control": "max-age=3600"})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_web_routes(app: web.Application, system: System) -> WebUI:
    ui = WebUI(system)
    app[WEB_KEY] = ui
    get, post = app.router.add_get, app.router.add_post
    get("/", ui.status)
    get("/jobs", ui.jobs)
    get("/settings", ui.settings)
    get("/network", ui.network)
    get("/security", ui.security)
    get("/maintenance", ui.maintenance)
    get("/maintenance/log", ui.log)
    get("/login", ui.login_form)
    get("/static/style.css", ui.style)
    post("/login", ui.login)
    post("/logout", ui.logout)
    post(r"/jobs/{job:\d+}/{action:cancel|hold|release}", ui.job_action)
    post("/settings", ui.save_settings)
    post("/security/password", ui.change_password)
    post("/maintenance/test-page", ui.test_page)
    post("/maintenance/identify", ui.identify)
    post("/maintenance/restart", ui.restart)
    post(r"/maintenance/{action:pause|resume|hold-new-jobs|release-held-new-jobs}",
         ui.queue_action)
    return ui
