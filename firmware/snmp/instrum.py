"""The pysnmp instrumentation controller over :class:`firmware.snmp.mib.MibTable`.

pysnmp's command responders (RFC 3413 §3.2) call ``read_variables``, ``read_next_variables``
and ``write_variables`` with an ``acFun`` that applies View-based Access Control (RFC 3415
§3.2).  Instead of pysnmp's tree of one Python object per instance, this controller
answers from the sorted table: GET by ``bisect_left``, GETNEXT/GETBULK by ``bisect_right``.

Writes are refused: every object is read-only here (RFC 3805's read-write objects are
implemented read-only, which its MIB-2 compliance statement permits).  The write view is
an explicit empty view, so VACM answers ``noAccess`` (RFC 3416 §4.2.5, step 2 — SNMPv1
managers see ``noSuchName``, RFC 3584 §4.4); should a write view ever be configured, the
controller still answers ``notWritable``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from firmware.snmp import mib
from firmware.snmp.mib import END_OF_MIB_VIEW, NO_SUCH_INSTANCE, NO_SUCH_OBJECT, MibTable

VarBind = tuple[Any, Any]

_EXCEPTIONS = (NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW)


def _peer_of(context: dict[str, Any]) -> Callable[[], tuple[str, int] | None]:
    engine = context.get("snmpEngine")

    def peer() -> tuple[str, int] | None:
        try:
            request = engine.observer.get_execution_context("rfc3412.receiveMessage:request")
            address = request["transportAddress"]
            return str(address[0]), int(address[1])
        except Exception:  # not inside a request (or no engine): no peer
            return None

    return peer


class TableInstrumController(AbstractMibInstrumController):
    def __init__(self, table: MibTable) -> None:
        self.table = table

    @staticmethod
    def _denied(context: dict[str, Any], name: Any, value: Any) -> bool:
        """True when the VACM read view excludes ``name`` (RFC 3415 §3.2: notInView).

        Other VACM outcomes (no group, no access entry) raise AuthorizationError, which
        pysnmp answers as ``authorizationError``.
        """
        check = context.get("acFun")
        if check is None:
            return False
        return bool(check("read", (name, value), **context))

    def read_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        """GetRequest (RFC 3416 §4.2.1)."""
        self.table.refresh()
        token = mib.set_request_peer(_peer_of(context))
        try:
            answer = []
            for idx, (name, _) in enumerate(var_binds):
                context["idx"] = idx
                value = self.table.get(tuple(name))
                real = not any(value is e for e in _EXCEPTIONS)
                if self._denied(context, name, value if real else None):
                    value = NO_SUCH_OBJECT
                answer.append((name, value))
            return answer
        finally:
            mib.reset_request_peer(token)

    def read_next_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        """GetNextRequest (RFC 3416 §4.2.2); GetBulkRequest (§4.2.3) repeats it."""
        self.table.refresh()
        token = mib.set_request_peer(_peer_of(context))
        try:
            answer = []
            for idx, (name, _) in enumerate(var_binds):
                context["idx"] = idx

                def accept(found: mib.OID, value: Any) -> bool:
                    try:
                        return not self._denied(context, found, value)
                    except smi_error.NoAccessError:  # Counter64 to SNMPv1 (RFC 3584 §4.2.2.1)
                        return False

                found = self.table.next(tuple(name), accept)
                answer.append(found if found is not None else (name, END_OF_MIB_VIEW))
            return answer
        finally:
            mib.reset_request_peer(token)

    def write_variables(self, *var_binds: VarBind, **context: Any) -> list[VarBind]:
        """SetRequest (RFC 3416 §4.2.5): always refused, nothing changes."""
        check = context.get("acFun")
        for idx, (name, value) in enumerate(var_binds):
            context["idx"] = idx
            if check is None or check("write", (name, value), **context):
                raise smi_error.NoAccessError(name=name, idx=idx)
            raise smi_error.NotWritableError(name=name, idx=idx)
        return []
