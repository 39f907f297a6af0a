"""common.netguard: user-chosen destinations never reach the platform's own network."""
import socket

import pytest

from common.netguard import Allowed, Refused, resolve

IMAP_PORTS = {143, 993}


def fake_dns(table):
    """getaddrinfo answering from a table (name -> addresses), like a resolver under an attacker's control."""
    def getaddrinfo(host, port, type=0):
        if host not in table:
            raise socket.gaierror("Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]]
    return getaddrinfo


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "127.1", "10.0.0.5",
                                  "172.16.3.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1",
                                  "::ffff:127.0.0.1", "fe80::1", "224.0.0.1", "100.64.0.1", "fd00::1"])
def test_internal_destinations_are_refused(host):
    with pytest.raises(Refused, match="private network"):
        resolve(host, 993, ports=IMAP_PORTS)


def test_a_public_name_resolves_to_the_checked_address():
    dns = fake_dns({"imap.example.com": ["93.184.216.34"]})
    assert resolve("imap.example.com", 993, ports=IMAP_PORTS, getaddrinfo=dns) == "93.184.216.34"


def test_a_name_with_any_internal_answer_is_refused():
    dns = fake_dns({"evil.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(Refused, match="private network"):
        resolve("evil.example.com", 993, ports=IMAP_PORTS, getaddrinfo=dns)


def test_only_imap_ports_by_default():
    dns = fake_dns({"imap.example.com": ["93.184.216.34"]})
    with pytest.raises(Refused, match="Port 4222 is not allowed; use 143 or 993"):
        resolve("imap.example.com", 4222, ports=IMAP_PORTS, getaddrinfo=dns)


def test_unknown_and_malformed_names_say_so():
    with pytest.raises(Refused, match="could not be found"):
        resolve("no-such-host.invalid", 993, ports=IMAP_PORTS, getaddrinfo=fake_dns({}))
    for bad in ("", "  ", "a\nb", "x" * 300):
        with pytest.raises(Refused, match="empty or malformed"):
            resolve(bad, 993)
    with pytest.raises(Refused, match="port"):
        resolve("imap.example.com", 70000)


def test_the_operator_can_allow_names_addresses_and_networks_with_any_port():
    allowed = Allowed.parse("dovecot.internal, 127.0.0.1, 192.168.0.0/16")
    dns = fake_dns({"dovecot.internal": ["10.9.9.9"], "lan.example": ["192.168.7.7"]})
    assert resolve("dovecot.internal", 10143, allowed, IMAP_PORTS, dns) == "10.9.9.9"
    assert resolve("127.0.0.1", 10143, allowed, IMAP_PORTS) == "127.0.0.1"
    assert resolve("lan.example", 993, allowed, IMAP_PORTS, dns) == "192.168.7.7"
    with pytest.raises(Refused):
        resolve("10.0.0.1", 993, allowed, IMAP_PORTS)


def test_allowed_entries_are_checked():
    assert Allowed.parse("") == Allowed()
    assert Allowed.parse(["A.Example.", " "]).names == frozenset({"a.example"})
    with pytest.raises(ValueError, match="not a host name"):
        Allowed.parse("http://x/")
