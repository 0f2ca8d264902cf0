"""The SNMP agent: Printer MIB (RFC 3805), Host Resources MIB (RFC 2790), IF-MIB
(RFC 2863), SNMPv2-MIB (RFC 3418) and the PWG Port Monitor MIB, read from the live printer
model; SNMPv1/v2c communities and SNMPv3 USM users; coldStart and printerV2Alert traps.

:class:`firmware.snmp.agent.SnmpAgent` is the entry point the daemon starts.
"""
