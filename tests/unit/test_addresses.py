"""Which addresses a link check may contact: every entry of the IANA special-purpose registries is
refused, at both ends of its range, and so is every IPv6 address that carries one of them."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.addresses import contactable, embedded_ipv4, special_range

# The registries as published (iana-ipv4-special-registry, iana-ipv6-special-registry), written
# out here independently of the module's own table.
IPV4_REGISTRY = [
    "0.0.0.0/8",
    "0.0.0.0/32",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "224.0.0.0/4",  # the multicast registry
]
IPV6_REGISTRY = [
    "::1/128",
    "::/128",
    "::ffff:0:0/96",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:2::/48",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:10::/28",
    "2001:20::/28",
    "2001:30::/28",
    "2001:db8::/32",
    "2002::/16",
    "2620:4f:8000::/48",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",  # multicast
    "fec0::/10",  # site-local, deprecated
]
PUBLIC = ["93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001::1"]


# Wrappers that reach exactly the IPv4 address inside: their middle (128.0.0.0) is public.
TRANSPARENT = ("::ffff:0:0/96", "64:ff9b::/96")


def _ends(network: str) -> list[str]:
    net = ipaddress.ip_network(network)
    ends = [str(net.network_address), str(net.broadcast_address)]
    if network in TRANSPARENT:
        return ends
    middle = ipaddress.ip_address(int(net.network_address) + net.num_addresses // 2)
    return [*ends, str(middle)]


@pytest.mark.parametrize("network", IPV4_REGISTRY + IPV6_REGISTRY)
def test_every_registry_entry_is_refused_at_both_ends(network: str) -> None:
    for address in _ends(network):
        ip = ipaddress.ip_address(address)
        assert not contactable(ip), address
        assert special_range(ip) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_contactable(address: str) -> None:
    assert contactable(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("address", "inside", "name"),
    [
        ("64:ff9b::127.0.0.1", "127.0.0.1", "Loopback"),  # NAT64, the finding
        ("64:ff9b::a9fe:a9fe", "169.254.169.254", "Link Local"),
        ("64:ff9b:1:7f00:0:100::", "127.0.0.1", "Loopback"),  # local-use NAT64, /48 layout
        ("::127.0.0.1", "127.0.0.1", "Loopback"),  # IPv4-compatible, the finding
        ("::10.0.0.1", "10.0.0.1", "Private-Use"),
        ("::ffff:192.168.1.1", "192.168.1.1", "Private-Use"),
        ("::ffff:0:10.1.2.3", "10.1.2.3", "Private-Use"),  # SIIT IPv4-translated
        ("2002:a00:1::", "10.0.0.1", "Private-Use"),  # 6to4
        # Teredo: the client address is stored inverted (here 127.0.0.1).
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1", "Loopback"),
    ],
)
def test_embedded_ipv4_addresses_are_judged_by_what_they_carry(
    address: str, inside: str, name: str
) -> None:
    ip = ipaddress.ip_address(address)
    assert embedded_ipv4(ip) == ipaddress.IPv4Address(inside)
    found = special_range(ip)
    assert found is not None and found.name == name
    assert not contactable(ip)


def test_nat64_and_mapped_forms_of_a_public_address_reach_it_the_rest_are_refused() -> None:
    public = "93.184.215.14"
    assert contactable(ipaddress.ip_address(f"64:ff9b::{public}"))
    assert contactable(ipaddress.ip_address(f"::ffff:{public}"))
    for wrapped in (f"::{public}", "2002:5db8:d70e::", "64:ff9b:1:5db8:d7:e00::"):
        assert not contactable(ipaddress.ip_address(wrapped)), wrapped


def test_outside_global_unicast_is_reserved() -> None:
    for address in ("1::1", "4000::1", "8000::1", "e000::1"):
        assert not contactable(ipaddress.ip_address(address))


@given(st.sampled_from(IPV4_REGISTRY).flatmap(lambda n: st.ip_addresses(network=n)))
def test_no_wrapping_makes_a_special_ipv4_address_contactable(ip: ipaddress.IPv4Address) -> None:
    value = int(ip)
    for wrapped in (
        value,
        0xFFFF << 32 | value,  # mapped
        0x64FF9B << 96 | value,  # NAT64
        value,  # compatible (::a.b.c.d)
        0x2002 << 112 | value << 80,  # 6to4
    ):
        assert not contactable(ipaddress.IPv6Address(wrapped)), ipaddress.IPv6Address(wrapped)
    assert not contactable(ip)
