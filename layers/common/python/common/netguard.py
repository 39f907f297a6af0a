"""Guard for addresses a user can point the platform at (an IMAP host, a webhook URL): they must not
reach the platform's own network (loopback, private ranges, link-local and the cloud metadata
service, multicast, reserved), unless the operator allows them explicitly.

The name is resolved once here and the caller connects to the address that was checked, so a DNS
answer that changes between the check and the connection (rebinding) cannot slip through.
"""
import ipaddress
import socket
from dataclasses import dataclass

# Ranges Python's ipaddress does not flag as private but that are not the public internet either.
EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "0.0.0.0/8", "192.0.0.0/24",
                                                   "198.18.0.0/15", "64:ff9b::/96", "2002::/16")]


class Refused(ValueError):
    """The destination is not allowed; the message says why in words a user can act on."""


@dataclass(frozen=True)
class Allowed:
    """The operator's exceptions: host names, addresses and networks (e.g. from a template parameter)."""
    names: frozenset = frozenset()
    networks: tuple = ()

    @classmethod
    def parse(cls, entries):
        """From "imap.internal.example, 10.1.2.3, 192.168.0.0/16" (a string or a list); bad entries raise."""
        if isinstance(entries, str):
            entries = entries.split(",")
        names, networks = set(), []
        for entry in (e.strip() for e in entries or ()):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not _is_hostname(entry):
                    raise ValueError(f"not a host name, address or network: {entry!r}") from None
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows_name(self, host):
        return host.lower().rstrip(".") in self.names

    def allows_address(self, address):
        return any(address.version == net.version and address in net for net in self.networks)


def _is_hostname(text):
    labels = text.rstrip(".").split(".")
    return len(text) <= 253 and all(
        0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        and not label.startswith("-") and not label.endswith("-") for label in labels)


def is_internal(address):
    """True for addresses that belong to this platform's side of the network, not the internet."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified or not address.is_global
            or any(address.version == net.version and address in net for net in EXTRA_BLOCKED))


def resolve(host, port, allowed=Allowed(), ports=None, getaddrinfo=socket.getaddrinfo):
    """The checked address (text) to connect to for host:port, or Refused.

    `ports`: the ports a user may choose (None = any); hosts the operator allowed may use any port.
    """
    host = (host or "").strip()
    if not host or len(host) > 253 or any(c.isspace() or ord(c) < 32 for c in host):
        raise Refused("The server name is empty or malformed.")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise Refused("The port must be a number from 1 to 65535.")
    by_name = allowed.allows_name(host)
    try:
        infos = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"The server name {host} could not be found; check its spelling.") from None
    candidates = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if by_name or allowed.allows_address(address) or not is_internal(address):
            candidates.append(address)
        else:
            # One internal answer is enough to refuse: the name may be crafted to reach us.
            raise Refused(f"{host} points to an address inside a private network; only servers on the "
                          "internet can be used.")
    if not candidates:
        raise Refused(f"The server name {host} could not be found; check its spelling.")
    exempt = by_name or all(allowed.allows_address(a) for a in candidates)
    if ports is not None and port not in ports and not exempt:
        raise Refused(f"Port {port} is not allowed; use {' or '.join(str(p) for p in sorted(ports))}.")
    return str(candidates[0])
