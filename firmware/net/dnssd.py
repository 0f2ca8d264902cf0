"""DNS-SD advertisement over multicast DNS (RFC 6762, RFC 6763) with python-zeroconf.

Per printer, under one instance name (the Bonjour Printing Specification asks for the
same name on every protocol of a printer):

=========================== ============================================================
``_ipp._tcp``               the IPP port; subtypes ``_print`` (PWG 5100.14, IPP
                            Everywhere) and ``_universal`` (AirPrint); the TXT record
                            of :mod:`firmware.net.txt`
``_ipps._tcp``              when the attributes offer TLS (``uri-security-supported``
                            has ``tls``; IPPS shares the IPP port)
``_http._tcp``              the web page (same port), subtype ``_printer``, ``path=/``
``_printer._tcp``           LPD: the LPD port and ``rp`` = queue when LPD is on; port 0
                            without TXT otherwise, which only defends the name
``_pdl-datastream._tcp``    raw 9100, when it is on (default printer only)
=========================== ============================================================

python-zeroconf registers one type per instance name; a subtype (RFC 6763 §7.1) is a
second PTR record pointing at the same instance, so each one is registered as an alias
:class:`ServiceInfo` with a registry key of its own and no probing of its own.

Names (RFC 6762 §8, §9):

* Start-up probing: the host name (an ``A`` question with our records in the authority
  section, RFC 6762 §8.1) and every instance name (python-zeroconf's probe) are probed
  together; a taken name is replaced by the next of :mod:`firmware.net.names` and the
  probe repeated.  The names in use are kept in the state directory.
* After announcing (§9): a record arriving for one of our names with different data is a
  conflict.  The §8.2 tie-break decides who yields — the lexicographically earlier rdata
  loses — so that two printbridges never both rename; the loser takes the next name,
  the winner re-announces.
* Goodbyes (§10.1) on a clean stop, and for an address we no longer have while another
  one remains; none when the last address vanishes (nothing can be sent) nor for a name
  lost in a conflict (the goodbye would delete the other device's record).
* New addresses (a lease after link-local, a renumbering): new sockets, and every record
  announced again with the new address records (§8.4, §10.2).

Only the configured interfaces are used: zeroconf binds one socket per interface
address; its sockets get ``IP_MULTICAST_ALL=0`` (only groups they joined) and, with a
single interface, ``SO_BINDTODEVICE`` to it.  With the emulator board that is ``lo``:
multicast there never leaves the machine.  mDNS runs over IPv4; AAAA records for the
IPv6 link-local addresses are added only when the HTTP server listens on ``::``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeroconf import (
    DNSAddress,
    DNSOutgoing,
    DNSQuestion,
    IPVersion,
    NonUniqueNameException,
    RecordUpdate,
    RecordUpdateListener,
    ServiceInfo,
    Zeroconf,
    current_time_millis,
)
from zeroconf.asyncio import AsyncZeroconf
from zeroconf.const import (
    _CLASS_IN,
    _CLASS_UNIQUE,
    _FLAGS_AA,
    _FLAGS_QR_QUERY,
    _FLAGS_QR_RESPONSE,
    _TYPE_A,
    _TYPE_SRV,
)

from firmware.events import Event, EventKind
from firmware.ipp.printer_attributes import PrinterAttributes
from firmware.net import txt as txtmod
from firmware.net.addresses import AddressWatcher, Snapshot
from firmware.net.names import NameStore, host_label, next_host_name, next_service_name
from firmware.net.names import service_name as clean_service_name
from firmware.net.settings import NetworkSettings

if TYPE_CHECKING:
    from firmware.printer import Printer
    from firmware.system import System

log = logging.getLogger(__name__)

IPP = "_ipp._tcp.local."
IPPS = "_ipps._tcp.local."
HTTP = "_http._tcp.local."
LPD = "_printer._tcp.local."
RAW = "_pdl-datastream._tcp.local."

#: Linux <linux/in.h>; Python 3.11's socket module lacks the constant.
IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)
IFF_MULTICAST = 0x1000  # <linux/if.h>
#: How long records we sent count as ours when they come back (multicast loopback of an
#: announcement still running when the data changed).
OWN_RECORD_GRACE = 10.0
HOST_TTL = 120  # RFC 6762 §10: records with the host name in them


@dataclass(slots=True)
class ServiceSpec:
    """One service type of a printer."""

    type_: str
    port: int
    txt: dict[str, str]
    subtypes: tuple[str, ...] = ()


@dataclass(slots=True)
class PrinterAd:
    """What is advertised for one printer."""

    printer: Printer
    attributes: PrinterAttributes
    base: str
    name: str
    specs: list[ServiceSpec] = field(default_factory=list)
    infos: list[ServiceInfo] = field(default_factory=list)
    registered: bool = False
    conflict: bool = False


def _listen_is_wildcard(listen: str) -> bool:
    return listen in ("", "0.0.0.0", "::")


def interface_has_multicast(name: str) -> bool:
    """IFF_MULTICAST (0x1000) in the interface's flags (lo has none by default)."""
    try:
        flags = int(Path(f"/sys/class/net/{name}/flags").read_text(), 16)
    except (OSError, ValueError):
        return True  # unknown: do not complain
    return bool(flags & IFF_MULTICAST)


def srv_rdata(priority: int, weight: int, port: int, target: str) -> bytes:
    """SRV rdata in uncompressed, lower-cased form for the RFC 6762 §8.2 comparison."""
    labels = b"".join(bytes([len(p)]) + p for p in
                      (part.encode() for part in target.lower().rstrip(".").split(".")))
    return struct.pack("!HHH", priority, weight, port) + labels + b"\x00"


class _ConflictListener(RecordUpdateListener):
    """Feeds every record zeroconf receives to :meth:`Advertiser._record_seen`."""

    def __init__(self, advertiser: Advertiser) -> None:
        self.advertiser = advertiser

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        for update in records:
            self.advertiser._record_seen(update.new)

    def async_update_records_complete(self) -> None:
        pass


class Advertiser:
    """Keeps the DNS-SD records of every printer in line with the model and addresses."""

    def __init__(self, system: System, settings: NetworkSettings, watcher: AddressWatcher,
                 store: NameStore) -> None:
        self.system = system
        self.settings = settings
        self.watcher = watcher
        self.store = store
        config = system.config
        self.host_base = host_label(settings.hostname or socket.gethostname())
        self.hostname = store.host(self.host_base)
        self.zc: AsyncZeroconf | None = None
        self.addresses: tuple[str, ...] = ()  # IPv4, what zeroconf is bound to
        self.addresses6: tuple[str, ...] = ()  # IPv6 link-local, AAAA only
        self.interfaces: tuple[str, ...] = ()
        self.ads: dict[str, PrinterAd] = {}
        for printer in system.printers.values():
            self._add_ad(printer)
        self.state = "starting"
        #: The host name (fqdn) a §9 conflict was seen for; "" for none.  A conflict
        #: seen while that name was still being probed, and then given up, is stale.
        self._host_conflict = ""
        #: printer name -> re-announce even if its records did not change
        self._dirty: dict[str, bool] = {}
        self._new: set[str] = set()
        self._addresses_changed = True
        self._own: dict[tuple[str, bytes], float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = system.events.subscribe(self._on_event)
        watcher.subscribe(self._on_addresses)
        self.lpd_port = config.lpd_port
        self.raw_port = config.raw_port
        self.announcements = 0  # count of (re-)announcements, for tests and status
        #: Called once a host name is claimed (at start, after a renaming): the TLS
        #: certificate names it (firmware.net.network).
        self.on_hostname: Callable[[], None] | None = None

    def _add_ad(self, printer: Printer) -> PrinterAd:
        base = clean_service_name(printer.name)
        ad = PrinterAd(printer, PrinterAttributes(self.system, printer), base,
                       self.store.service(printer.name, base))
        self.ads[printer.name] = ad
        self._set_model_name(ad)
        return ad

    # -- inputs (synchronous callbacks: only flag and wake)
    def _on_event(self, event: Event) -> None:
        if event.kind != EventKind.PRINTER_CONFIG_CHANGED:
            return
        if event.printer in self.ads:
            self._dirty.setdefault(event.printer, False)
            self._wake.set()
        elif event.printer in self.system.printers:  # added at run time (hotplug)
            self._new.add(event.printer)
            self._wake.set()

    def _on_addresses(self, snapshot: Snapshot) -> None:
        self._addresses_changed = True
        self._wake.set()

    def _record_seen(self, record: Any) -> None:
        """RFC 6762 §9: a record for one of our unique names with other data.

        §8.2's tie-break decides: the lexicographically earlier data loses and the loser
        picks a new name.  The winner announces its records again: their cache-flush
        bit (§10.2) replaces the loser's in every cache at once."""
        if record.ttl == 0 or self.zc is None:
            return
        now = time.monotonic()
        if record.type == _TYPE_A and record.key == self.fqdn.lower():
            theirs = record.address
            if self._is_own("A", theirs, now):
                return
            ours = min((socket.inet_aton(a) for a in self.addresses), default=b"")
            if ours < theirs:
                if self._host_conflict != self.fqdn:
                    log.warning("dnssd: host name %s is also used by %s: renaming",
                                self.fqdn, socket.inet_ntoa(theirs))
                    self._host_conflict = self.fqdn
            else:
                for ad in self.ads.values():
                    if ad.registered:
                        self._dirty[ad.printer.name] = True
            self._wake.set()
            return
        if record.type != _TYPE_SRV:
            return
        for ad in self.ads.values():
            if not ad.registered:
                continue
            for info in ad.infos:
                if info.key != record.key or info.port is None:
                    continue
                theirs = srv_rdata(record.priority, record.weight, record.port, record.server)
                if self._is_own(record.key, theirs, now):
                    return
                ours = srv_rdata(info.priority, info.weight, info.port, self.fqdn)
                if ours < theirs:
                    if not ad.conflict:
                        log.warning("dnssd: %r is also announced by %s: renaming",
                                    info.name, record.server)
                        ad.conflict = True
                else:
                    self._dirty[ad.printer.name] = True
                self._wake.set()
                return

    def _is_own(self, key: str, rdata: bytes, now: float) -> bool:
        expiry = self._own.get((key, rdata))
        if key == "A" and socket.inet_ntoa(rdata) in self.addresses:
            return True
        return expiry is not None and expiry > now

    def _remember_own(self, infos: Iterable[ServiceInfo]) -> None:
        """Our records, so that their loopback copies are not taken for a conflict; the
        previous data stays 'ours' for OWN_RECORD_GRACE seconds."""
        now = time.monotonic()
        self._own = {k: v for k, v in self._own.items() if v > now}
        for info in infos:
            if info.port is not None:
                rdata = srv_rdata(info.priority, info.weight, info.port, self.fqdn)
                self._own[(info.key, rdata)] = float("inf")
        for address in self.addresses:
            self._own[("A", socket.inet_aton(address))] = float("inf")

    def _age_own(self) -> None:
        """Make every remembered record expire OWN_RECORD_GRACE seconds from now."""
        until = time.monotonic() + OWN_RECORD_GRACE
        self._own = {k: min(v, until) for k, v in self._own.items()}

    # -- lifecycle
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dnssd")

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close(goodbye=True)
        self.state = "stopped"

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            self._wake.clear()
            try:
                await self._reconcile()
                backoff = 1.0
            except asyncio.CancelledError:
                raise
            except Exception:
                # Start afresh (new sockets, probing again) after a pause.
                log.exception("dnssd: advertisement failed; restarting in %.0f s", backoff)
                with contextlib.suppress(Exception):
                    await self._close(goodbye=False)
                self.state = "restarting"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)
                self._addresses_changed = True
                continue
            await self._wake.wait()

    # -- what to advertise
    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.local."

    def _wanted_addresses(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """(IPv4, IPv6 link-local, interface names) to advertise, given ``listen``: a
        specific listen address is the only one worth advertising; AAAA records only
        when the HTTP server listens on IPv6 (``::``)."""
        listen = self.system.config.listen
        v4: list[str] = []
        v6: list[str] = []
        names: list[str] = []
        for iface in self.watcher.snapshot:
            mine = [a for a in iface.ipv4 if _listen_is_wildcard(listen) or a == listen]
            if mine:
                names.append(iface.name)
                v4.extend(mine)
                if listen == "::":
                    v6.extend(iface.ipv6_link_local)
        return tuple(v4), tuple(v6), tuple(names)

    def _specs(self, ad: PrinterAd) -> list[ServiceSpec]:
        config = self.system.config
        host = f"{self.hostname}.local:{config.ipp_port}"
        txt = txtmod.printer_txt(ad.attributes, host)
        specs = [ServiceSpec(IPP, config.ipp_port, txt, ("_print", "_universal"))]
        if "TLS" in txt:
            specs.append(ServiceSpec(IPPS, config.ipp_port, txt, ("_print", "_universal")))
        specs.append(ServiceSpec(HTTP, config.ipp_port, {"path": "/"}, ("_printer",)))
        if self.lpd_port:
            specs.append(ServiceSpec(LPD, self.lpd_port, txtmod.lpd_txt(txt, ad.printer.name)))
        else:
            specs.append(ServiceSpec(LPD, 0, {}))
        if self.raw_port and ad.printer is self.system.default_printer:
            specs.append(ServiceSpec(RAW, self.raw_port, txtmod.raw_txt(txt)))
        return specs

    def _infos(self, ad: PrinterAd, name: str) -> tuple[list[ServiceInfo], list[ServiceInfo]]:
        """(one ServiceInfo per type, one alias per subtype) for instance ``name``."""
        mains: list[ServiceInfo] = []
        aliases: list[ServiceInfo] = []
        addresses = [*self.addresses, *self.addresses6]
        for spec in ad.specs:
            instance = f"{name}.{spec.type_}"
            main = ServiceInfo(spec.type_, instance, port=spec.port, properties=spec.txt,
                               server=self.fqdn, parsed_addresses=addresses)
            mains.append(main)
            for sub in spec.subtypes:
                alias = ServiceInfo(f"{sub}._sub.{spec.type_}", instance, port=spec.port,
                                    properties=spec.txt, server=self.fqdn,
                                    parsed_addresses=addresses)
                alias.key = f"{main.key}#{sub}"  # a registry slot of its own
                aliases.append(alias)
        return mains, aliases

    def _set_model_name(self, ad: PrinterAd) -> None:
        """The advertised name on the model (IPP printer-dns-sd-name, the web page)."""
        identity = ad.printer.identity
        before = identity.dnssd_name or ad.printer.name
        identity.dnssd_name = ad.name
        if ad.name != before:
            ad.printer.changed(EventKind.PRINTER_CONFIG_CHANGED)

    # -- the work
    async def _reconcile(self) -> None:
        if self._addresses_changed:
            self._addresses_changed = False
            v4, v6, names = self._wanted_addresses()
            if not v4:
                if self.zc is not None:
                    log.warning("dnssd: no usable address on %s: advertisement paused",
                                ", ".join(self.settings.interfaces) or "any interface")
                    await self._close(goodbye=False)
                elif self.watcher.ipv4 and self.state != "waiting for an address":
                    log.warning("dnssd: listening on %s only, which is not an address of %s: "
                                "nothing to advertise", self.system.config.listen,
                                ", ".join(self.settings.interfaces) or "any interface")
                self.state = "waiting for an address"
                self.addresses, self.addresses6, self.interfaces = (), (), ()
                return
            if self.zc is None:
                self.addresses, self.addresses6, self.interfaces = v4, v6, names
                await self._open()
                return
            if (v4, v6, names) != (self.addresses, self.addresses6, self.interfaces):
                await self._readdress(v4, v6, names)
        for name in sorted(self._new):
            self._new.discard(name)
            ad = self._add_ad(self.system.printers[name])
            if self.zc is not None:
                ad.specs = self._specs(ad)
                await self._claim(ad)
                await self._register(ad)
        if self.zc is None:
            return
        if self._host_conflict:
            # Only if it is still about the name in use: a conflict noticed during the
            # start-up probe was resolved by the probe's own renaming (RFC 6762 §8.1).
            stale = self._host_conflict != self.fqdn
            self._host_conflict = ""
            if not stale:
                await self._rename_host()
        for ad in self.ads.values():
            if ad.conflict:
                ad.conflict = False
                await self._rename_service(ad)
        dirty, self._dirty = self._dirty, {}
        for name, force in dirty.items():
            await self._update(self.ads[name], force)
        self.state = "advertising"

    async def _readdress(self, v4: tuple[str, ...], v6: tuple[str, ...],
                         names: tuple[str, ...]) -> None:
        """New addresses: new sockets, new address records, announced on every socket
        (RFC 6762 §8.4; the cache-flush bit replaces the old address records, §10.2)."""
        assert self.zc is not None
        log.info("dnssd: addresses now %s: re-announcing", ", ".join(v4 + v6))
        added = set(v4) - set(self.addresses)
        removed = [a for a in self.addresses if a not in v4]
        self._age_own()
        self.addresses, self.addresses6, self.interfaces = v4, v6, names
        self.state = "re-announcing"
        if added:
            # Records first, silently: zeroconf announces every registration when it
            # opens the socket for a new address, so the new data goes out once.
            for ad in self.ads.values():
                await self._update(ad, force=True, announce=False)
        await self.zc.zeroconf.async_update_interfaces(list(v4), IPVersion.V4Only)
        self._restrict_sockets()
        if removed:
            self._goodbye_addresses(removed)
        if added:
            self.announcements += 1
            log.info("dnssd: re-announced %s", ", ".join(repr(a.name) for a in self.ads.values()))
        else:  # only an address went: announce what is left
            for ad in self.ads.values():
                await self._update(ad, force=True)

    def _goodbye_addresses(self, removed: list[str]) -> None:
        """RFC 6762 §10.1: a goodbye (TTL 0) for each address we no longer have.  The
        cache-flush bit of the next announcement cannot do it when the old address was
        announced less than a second ago (§10.2 keeps such records); the bit is clear
        here so that the goodbye touches nothing but that one record."""
        assert self.zc is not None
        out = DNSOutgoing(_FLAGS_QR_RESPONSE | _FLAGS_AA)
        for address in removed:
            out.add_answer_at_time(DNSAddress(self.fqdn, _TYPE_A, _CLASS_IN, 0,
                                              socket.inet_aton(address)), 0)
        self.zc.zeroconf.async_send(out)

    async def _open(self) -> None:
        log.info("dnssd: starting on %s (%s) as %s", ", ".join(self.interfaces),
                 ", ".join(self.addresses), self.fqdn)
        for name in self.interfaces:
            if interface_has_multicast(name):
                continue
            if name == "lo":
                log.info(
                    "dnssd: lo has no MULTICAST flag: Linux still loops mDNS back on it, so "
                    "clients on this machine bound to 127.0.0.1 (python-zeroconf) find the "
                    "printer, but avahi and Bonjour ignore loopback; nothing leaves the "
                    "machine")
            else:
                log.warning("dnssd: %s has no MULTICAST flag: mDNS may not reach the link",
                            name)
        self.zc = AsyncZeroconf(interfaces=list(self.addresses), ip_version=IPVersion.V4Only)
        self._restrict_sockets()
        self.zc.zeroconf.async_add_listener(_ConflictListener(self), None)
        await self.zc.zeroconf.async_wait_for_start()
        self.state = "probing"
        for ad in self.ads.values():
            ad.specs = self._specs(ad)
        # RFC 6762 §8.1: probe every name before announcing any; host and services
        # together, each one repeating with its next name until it is free.
        await asyncio.gather(self._claim_host(), *(self._claim(ad) for ad in self.ads.values()))
        for ad in self.ads.values():
            await self._register(ad)
        self.state = "advertising"

    async def _close(self, goodbye: bool) -> None:
        zc, self.zc = self.zc, None
        if zc is None:
            return
        if not goodbye:  # nothing can be sent: drop the records silently
            infos = zc.zeroconf.registry.async_get_service_infos()
            zc.zeroconf.registry.async_remove(infos)
        else:
            log.info("dnssd: sending goodbyes")
        for ad in self.ads.values():
            ad.registered = False
            ad.infos = []
        with contextlib.suppress(Exception):
            await asyncio.wait_for(zc.async_close(), 5)

    def _restrict_sockets(self) -> None:
        """Only the configured interfaces: see the module docstring."""
        assert self.zc is not None
        device = self.interfaces[0].encode() if len(self.interfaces) == 1 else b""
        for reader in self.zc.zeroconf.engine.readers:
            sock = reader.sock
            try:
                if sock.family == socket.AF_INET:
                    sock.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device)
            except OSError as exc:
                log.warning("dnssd: could not restrict %s to %s: %s", sock, device, exc)

    async def _claim_host(self) -> None:
        while await self._host_taken_after_probe():
            new = next_host_name(self.hostname, self.host_base)
            log.warning("dnssd: host name %s is taken: trying %s.local.", self.fqdn, new)
            self.hostname = new
        self.store.set_host(self.host_base, self.hostname)
        self.system.mdns_host = self.fqdn.rstrip(".")
        if self.on_hostname is not None:
            try:
                self.on_hostname()
            except Exception:
                log.exception("dnssd: host name listener failed")

    async def _host_taken_after_probe(self) -> bool:
        """Probe the host name (RFC 6762 §8.1): three QU questions 250 ms apart with our
        address records in the authority section; taken if anyone answers with others."""
        assert self.zc is not None
        zc = self.zc.zeroconf
        fqdn = self.fqdn
        await asyncio.sleep(random.uniform(0, 0.25))
        for _ in range(3):
            if self._host_taken(zc, fqdn):
                return True
            out = DNSOutgoing(_FLAGS_QR_QUERY)
            out.add_question(DNSQuestion(fqdn, _TYPE_A, _CLASS_IN | _CLASS_UNIQUE))
            for address in self.addresses:
                # (add_authorative_answer() is typed for PTR records only)
                out.authorities.append(DNSAddress(fqdn, _TYPE_A, _CLASS_IN | _CLASS_UNIQUE,
                                                  HOST_TTL, socket.inet_aton(address)))
            zc.async_send(out)
            await asyncio.sleep(0.25)
        return self._host_taken(zc, fqdn)

    def _host_taken(self, zc: Zeroconf, fqdn: str) -> bool:
        now = current_time_millis()  # zeroconf's clock (monotonic), not time.time()
        for record in zc.cache.async_all_by_details(fqdn, _TYPE_A, _CLASS_IN):
            if isinstance(record, DNSAddress) and not record.is_expired(now):
                if socket.inet_ntoa(record.address) not in self.addresses:
                    return True
        return False

    async def _claim(self, ad: PrinterAd) -> None:
        """Probe ``ad.name`` for every type; on a conflict move to the next name."""
        assert self.zc is not None
        while True:
            mains, _ = self._infos(ad, ad.name)
            results = await asyncio.gather(
                *(self.zc.zeroconf.async_check_service(info, False) for info in mains),
                return_exceptions=True)
            taken = [info.type for info, r in zip(mains, results, strict=True)
                     if isinstance(r, NonUniqueNameException)]
            errors = [r for r in results if isinstance(r, BaseException)
                      and not isinstance(r, NonUniqueNameException)]
            if errors:
                raise errors[0]
            if not taken:
                return
            new = next_service_name(ad.name, ad.base)
            log.warning("dnssd: %r is taken (%s): trying %r", ad.name, ", ".join(taken), new)
            ad.name = new

    async def _register(self, ad: PrinterAd) -> None:
        """Announce ``ad`` under its (probed) name (RFC 6762 §8.3)."""
        assert self.zc is not None
        mains, aliases = self._infos(ad, ad.name)
        self._remember_own(mains)
        for info in [*mains, *aliases]:
            await self.zc.zeroconf.async_register_service(info, cooperating_responders=True)
        ad.infos = [*mains, *aliases]
        ad.registered = True
        self.announcements += 1
        self.store.set_service(ad.printer.name, ad.base, ad.name)
        self._set_model_name(ad)
        log.info("dnssd: advertising %r (%s) at %s:%d on %s", ad.name,
                 ", ".join(s.type_.removesuffix(".local.") for s in ad.specs), self.fqdn,
                 self.system.config.ipp_port, ", ".join(self.addresses))

    async def _update(self, ad: PrinterAd, force: bool, announce: bool = True) -> None:
        """Bring ``ad``'s records up to date and announce them (RFC 6762 §8.4) if they
        changed, or always with ``force`` (new addresses, a conflict we won).  Without
        ``announce`` only the registry changes (the caller has them announced)."""
        assert self.zc is not None
        zc = self.zc.zeroconf
        if not ad.registered:
            return
        specs = self._specs(ad)
        if specs == ad.specs and not force:
            return  # a configuration change that does not show in DNS-SD
        ad.specs = specs
        mains, aliases = self._infos(ad, ad.name)
        new = {info.key: info for info in [*mains, *aliases]}
        old = {info.key: info for info in ad.infos}
        for key in old.keys() - new.keys():  # a type went (TLS turned off): goodbye to it
            await zc.async_unregister_service(old[key])
        for key in new.keys() - old.keys():  # a type came (TLS turned on): probe it first
            if key in {m.key for m in mains}:
                try:
                    await zc.async_check_service(new[key], False)
                except NonUniqueNameException:
                    log.warning("dnssd: %r is taken: renaming", new[key].name)
                    ad.conflict = True
                    self._wake.set()
                    ad.infos = [i for i in ad.infos if i.key in new]
                    return
        self._remember_own(mains)
        for key, info in new.items():
            if key not in old:
                await zc.async_register_service(info, cooperating_responders=True)
            elif announce:
                await zc.async_update_service(info)
            else:
                zc.registry.async_update(info)
        ad.infos = list(new.values())
        if announce:
            self.announcements += 1
            log.info("dnssd: re-announced %r", ad.name)

    async def _rename_service(self, ad: PrinterAd) -> None:
        """Lost a §9 conflict: drop our records silently, probe the next name."""
        assert self.zc is not None
        self.state = "renaming"
        self.zc.zeroconf.registry.async_remove(ad.infos)
        ad.registered = False
        ad.infos = []
        ad.name = next_service_name(ad.name, ad.base)
        await self._claim(ad)
        await self._register(ad)

    async def _rename_host(self) -> None:
        """Lost a §9 host-name conflict: probe the next host name, re-announce all."""
        self.state = "renaming"
        self._age_own()
        self.hostname = next_host_name(self.hostname, self.host_base)
        await self._claim_host()
        for ad in self.ads.values():
            await self._update(ad, force=True)

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "hostname": self.fqdn,
            "addresses": [*self.addresses, *self.addresses6],
            "interfaces": list(self.interfaces),
            "announcements": self.announcements,
            "printers": {
                name: {"name": ad.name, "registered": ad.registered,
                       "types": [s.type_ for s in ad.specs],
                       "txt": ad.specs[0].txt if ad.specs else {}}
                for name, ad in self.ads.items()
            },
        }
