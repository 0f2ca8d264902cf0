"""Network bring-up and DNS-SD advertisement.

One module per concern:

============== ===========================================================================
``settings``   the ``[network]`` configuration (board profile, then printbridge.conf)
``addresses``  the usable addresses of the configured interfaces, polled with netifaces
``dhcp``       dhcpcd as a child (DHCP, RFC 3927 link-local fallback), static addresses
``names``      DNS-SD instance and host names: rules, conflict renaming, persistence
``txt``        the Bonjour / IPP Everywhere TXT record, derived from the IPP attributes
``dnssd``      the mDNS responder side: services, probing, conflicts, goodbyes
``network``    ties them together for the daemon (start after HTTP, stop before it)
============== ===========================================================================
"""

from firmware.net.network import Network, start_network

__all__ = ["Network", "start_network"]
