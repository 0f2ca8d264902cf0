"""The SNMP agent: a pysnmp 7 engine on the daemon's asyncio loop.

- Transport: UDP on ``config.listen`` : ``config.snmp_port`` (IPv6 when the listen address
  is one), bound before the agent reports itself started.
- Security: SNMPv1/v2c read-only communities (RFC 3584 community-based model) and SNMPv3
  USM users (RFC 3414; SHA-1/SHA-2 authentication of RFC 7860, AES privacy of RFC 3826,
  AES-192/256 as net-snmp does them, DES); ``v3_only`` registers no community at all.
  A user whose privacy cipher fails a round trip through pysnmp at start is left out,
  with the reason logged (:mod:`firmware.snmp.crypto_compat` first gives pysnmp's
  ciphers what they need on the cryptography Debian bookworm ships, 38.0.4).
- Access control (VACM, RFC 3415): one read view over the whole tree; an *explicit* write
  view that excludes everything, because pysnmp grants access when a view name has no
  entries at all; and explicit deny entries for security levels below a user's, because
  pysnmp's VACM falls back to any level when no exact entry matches.
- Engine ID (RFC 3411 §5) and snmpEngineBoots (RFC 3414 §2.2) are kept in the state
  directory, so managers' cached engine IDs and USM timeliness survive restarts.
- MIB: the sorted OID table of :mod:`firmware.snmp.mib` over the modules of this package,
  answered by :class:`firmware.snmp.instrum.TableInstrumController`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from firmware.events import Event, EventKind
from firmware.snmp import crypto_compat
from firmware.snmp.context import AgentContext
from firmware.snmp.host_resources import HostResourcesMib
from firmware.snmp.if_mib import IfMib
from firmware.snmp.instrum import TableInstrumController
from firmware.snmp.mib import MibTable
from firmware.snmp.ppm_mib import PortMonitorMib
from firmware.snmp.printer_mib import PrinterMib
from firmware.snmp.settings import SnmpSettings, UsmUser, load_settings
from firmware.snmp.snmpv2_mib import SnmpV2Mib
from firmware.spool import atomic_write

if TYPE_CHECKING:
    from firmware.snmp.traps import TrapSender
    from firmware.system import System

log = logging.getLogger(__name__)

#: snmpEngineID prefix: RFC 3411 format bit, enterprise 20408 (pysnmp), format 5 (octets).
ENGINE_ID_PREFIX = bytes.fromhex("80004fb805")
ENGINE_FILE = "snmp-engine.json"

READ_VIEW = "pb-all"
NO_VIEW = "pb-none"
ALL: tuple[int, ...] = (1, 3, 6, 1)
LEVELS = ("noAuthNoPriv", "authNoPriv", "authPriv")


def build_mib(ctx: AgentContext) -> MibTable:
    return MibTable([SnmpV2Mib(ctx), IfMib(), HostResourcesMib(ctx), PrinterMib(ctx),
                     PortMonitorMib(ctx)])


class SnmpAgent:
    """Start with :meth:`start` after the System has started; :meth:`stop` on shutdown."""

    def __init__(self, system: System, settings: SnmpSettings | None = None) -> None:
        self.system = system
        self.settings = settings or load_settings(system.config.sections.get("snmp"),
                                                  system.config.contact)
        self.ctx = AgentContext(system, self.settings)
        self.table = build_mib(self.ctx)
        self.engine: Any = None  # pysnmp SnmpEngine (imported lazily)
        self.traps: TrapSender | None = None
        self.address: tuple[str, int] | None = None
        self._transport: Any = None
        self._domain: tuple[int, ...] = ()
        self._unsubscribe: Callable[[], None] | None = None
        #: Users left out of the USM because their privacy protocol cannot work here.
        self.refused_users: list[str] = []

    # -- lifecycle
    async def start(self) -> None:
        if not self.settings.enabled:
            log.info("SNMP agent disabled ([snmp] enabled = no)")
            return
        config = self.system.config
        family = socket.AF_INET6 if ":" in config.listen else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((config.listen or "0.0.0.0", config.snmp_port))
        except OSError as exc:
            sock.close()
            log.error("SNMP agent not started: cannot bind UDP %s:%d: %s",
                      config.listen, config.snmp_port, exc)
            return
        sock.setblocking(False)
        self.address = sock.getsockname()[:2]
        self.engine = self._configure_engine()
        self.ctx.engine = self.engine
        await self._open_transport(sock, family)
        self._unsubscribe = self.system.events.subscribe(self._on_event)
        self.table.refresh()
        if self.settings.trap_destinations:
            self.traps = self._configure_traps(family)
            if self.traps is not None:
                self.traps.start()
        communities = len(self.settings.active_communities)
        log.info("SNMP agent on udp %s:%d: %d read-only communities, %d SNMPv3 users, "
                 "%d trap destinations", self.address[0], self.address[1], communities,
                 len(self.settings.users) - len(self.refused_users),
                 len(self.settings.trap_destinations) if self.traps is not None else 0)

    async def stop(self) -> None:
        if self.traps is not None:
            self.traps.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.engine is not None:
            with contextlib.suppress(Exception):
                self.engine.close_dispatcher()
            self.engine = None
        if self._transport is not None:
            with contextlib.suppress(Exception):
                self._transport.close_transport()

    def _on_event(self, event: Event) -> None:
        if event.kind == EventKind.PRINTER_CONFIG_CHANGED:
            changes = self.ctx.config_changes
            changes[event.printer] = changes.get(event.printer, 0) + 1

    # -- engine
    def _engine_identity(self) -> tuple[bytes, int]:
        """The persistent engine ID and this start's snmpEngineBoots."""
        path = self.system.config.state_dir / ENGINE_FILE
        try:
            saved = json.loads(path.read_text())
            engine_id = bytes.fromhex(saved["engine_id"])
            boots = int(saved["boots"]) + 1
        except (OSError, ValueError, KeyError, TypeError):
            engine_id, boots = ENGINE_ID_PREFIX + os.urandom(8), 1
        boots = min(boots, 2**31 - 1)  # RFC 3414 §2.2.2: latches at the maximum
        atomic_write(path, json.dumps({"engine_id": engine_id.hex(), "boots": boots}).encode())
        return engine_id, boots

    def _configure_engine(self) -> Any:
        from pysnmp.entity import config as snmp_config
        from pysnmp.entity import engine as snmp_engine
        from pysnmp.entity.rfc3413 import cmdrsp, context

        crypto_compat.install()  # SNMPv3 privacy with cryptography < 47 (bookworm: 38)
        engine = snmp_engine.SnmpEngine()
        engine_id, boots = self._engine_identity()
        builder = engine.get_mib_builder()
        (id_symbol, boots_symbol) = builder.import_symbols(
            "__SNMP-FRAMEWORK-MIB", "snmpEngineID", "snmpEngineBoots")
        id_symbol.syntax = id_symbol.syntax.clone(engine_id)
        engine.snmpEngineID = id_symbol.syntax
        boots_symbol.syntax = boots_symbol.syntax.clone(boots)

        (security_level,) = builder.import_symbols("SNMP-FRAMEWORK-MIB", "SnmpSecurityLevel")
        snmp_config.add_context(engine, "")
        snmp_config.add_vacm_view(engine, READ_VIEW, "included", ALL, "")
        # The explicit empty view: an entry that excludes the whole tree.
        snmp_config.add_vacm_view(engine, NO_VIEW, "excluded", ALL, "")

        def access(group: str, model: int, level: str, read: str, notify: str) -> None:
            snmp_config.add_vacm_access(engine, group, "", model, security_level(level),
                                        "exact", read, NO_VIEW, notify)

        for n, community in enumerate(self.settings.active_communities, start=1):
            name = f"pb-c{n}"
            snmp_config.add_v1_system(engine, name, community)
            for model in (1, 2):  # SNMPv1 (CUPS) and SNMPv2c
                snmp_config.add_vacm_group(engine, "pb-community", model, name)
        for model in (1, 2):
            access("pb-community", model, "noAuthNoPriv", READ_VIEW, READ_VIEW)

        self.refused_users = [user.name for user in self.settings.users
                              if not self._add_user(engine, user)]
        for group_level in ("authNoPriv", "authPriv"):
            group = f"pb-users-{group_level}"
            for level in LEVELS:
                allowed = LEVELS.index(level) >= LEVELS.index(group_level)
                view = READ_VIEW if allowed else NO_VIEW
                access(group, 3, level, view, view)

        snmp_context = context.SnmpContext(engine)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", TableInstrumController(self.table))
        for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder,
                          cmdrsp.BulkCommandResponder, cmdrsp.SetCommandResponder):
            responder(engine, snmp_context)
        return engine

    @staticmethod
    def _add_user(engine: Any, user: UsmUser) -> bool:
        """Add ``user`` to the engine's USM; False (and logged) if its privacy cannot work."""
        from pysnmp.entity import config as snmp_config

        auth = {
            "md5": snmp_config.USM_AUTH_HMAC96_MD5,
            "sha": snmp_config.USM_AUTH_HMAC96_SHA,
            "sha224": snmp_config.USM_AUTH_HMAC128_SHA224,
            "sha256": snmp_config.USM_AUTH_HMAC192_SHA256,
            "sha384": snmp_config.USM_AUTH_HMAC256_SHA384,
            "sha512": snmp_config.USM_AUTH_HMAC384_SHA512,
        }[user.auth_protocol]
        priv = {
            None: snmp_config.USM_PRIV_NONE,
            "aes": snmp_config.USM_PRIV_CFB128_AES,
            "aes128": snmp_config.USM_PRIV_CFB128_AES,
            # net-snmp's AES-192/256 extend the key as Blumenthal's draft does.
            "aes192": snmp_config.USM_PRIV_CFB192_AES_BLUMENTHAL,
            "aes256": snmp_config.USM_PRIV_CFB256_AES_BLUMENTHAL,
            "des": snmp_config.USM_PRIV_CBC56_DES,
        }[user.priv_protocol]
        if user.priv_protocol is not None:
            problem = crypto_compat.privacy_problem(priv)
            if problem is not None:
                # pysnmp would take the user and fail each of its authPriv messages as a
                # decryptionError (managers report "Decryption error"; our log nothing).
                # Left out, the user is an unknown user name, and the log says why.
                log.error("SNMPv3 user %s not added: %s privacy does not work here (%s)",
                          user.name, user.priv_protocol.upper(), problem)
                return False
        snmp_config.add_v3_user(engine, user.name, auth, user.auth_key, priv, user.priv_key)
        snmp_config.add_vacm_group(engine, f"pb-users-{user.security_level}", 3, user.name)
        return True

    async def _open_transport(self, sock: socket.socket, family: int) -> None:
        from pysnmp.carrier.asyncio.dgram import udp, udp6
        from pysnmp.entity import config as snmp_config

        loop = asyncio.get_running_loop()
        transport: Any
        if family == socket.AF_INET6:
            transport, self._domain = udp6.Udp6Transport(loop=loop), udp6.DOMAIN_NAME
        else:
            transport, self._domain = udp.UdpTransport(loop=loop), udp.DOMAIN_NAME
        # The socket is bound already (bind errors surface in start()); asyncio wraps it.
        await loop.create_datagram_endpoint(lambda: transport, sock=sock)
        snmp_config.add_transport(self.engine, self._domain, transport)
        self._transport = transport
        # pysnmp's BER decoder lets some malformed datagrams raise out of its receive
        # callback; such a datagram is dropped quietly, as RFC 3412 §7.2 asks.
        inner = transport._callback_function

        def guarded(*args: Any) -> None:
            try:
                inner(*args)
            except Exception as exc:
                log.debug("snmp: dropped a malformed message (%s)", type(exc).__name__)

        transport._callback_function = guarded

    def _configure_traps(self, family: int) -> TrapSender | None:
        from pysnmp.entity import config as snmp_config

        from firmware.snmp.traps import TrapSender

        settings = self.settings
        ipv6 = family == socket.AF_INET6
        destinations = []
        for destination in settings.trap_destinations:
            if (":" in destination.host) == ipv6:
                destinations.append(destination)
            else:
                log.warning("SNMP trap destination %s is not reachable over the agent's "
                            "address family; skipped", destination.host)
        if settings.v3_only:
            name = settings.trap_user or settings.users[0].name
            user = next(u for u in settings.users if u.name == name)
            if name in self.refused_users:
                log.error("SNMP traps not sent: their user %s was not added (see above)", name)
                return None
            return TrapSender(self.ctx, self.engine, self._domain, destinations, name,
                              user.security_level, 3)
        community = settings.trap_community or settings.communities[0]
        if community in settings.communities:
            security_name = f"pb-c{settings.communities.index(community) + 1}"
        else:
            # A community only for traps: it may notify, and read nothing.
            security_name = "pb-trap"
            (level,) = self.engine.get_mib_builder().import_symbols(
                "SNMP-FRAMEWORK-MIB", "SnmpSecurityLevel")
            snmp_config.add_v1_system(self.engine, security_name, community)
            for model in (1, 2):
                snmp_config.add_vacm_group(self.engine, "pb-trap-only", model, security_name)
                snmp_config.add_vacm_access(self.engine, "pb-trap-only", "", model,
                                            level("noAuthNoPriv"), "exact", NO_VIEW, NO_VIEW,
                                            READ_VIEW)
        return TrapSender(self.ctx, self.engine, self._domain, destinations, security_name,
                          "noAuthNoPriv", 1)
