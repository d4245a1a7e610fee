"""Where the redirector sends a browser, and which addresses a shortener chain may reach."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.canonical import InvalidURL, canonicalize
from parley.core.links.target import redirect_target
from parley.services.redirects import public_address


@pytest.mark.parametrize(
    ("posted", "target"),
    [
        ("evil.example/x", "http://evil.example/x"),
        ("www.example.com", "http://www.example.com/"),
        (
            "HTTPS://User:pw@Example.COM:8443/a b/ü?q=1 2#top",
            "https://example.com:8443/a%20b/%C3%BC?q=1%202#top",
        ),
        # Browsers read "\" as "/": the host is good.example, and the target says so plainly.
        ("http:\\\\good.example\\@evil.example/", "http://good.example/@evil.example/"),
        ("http://good.example@evil.example/", "http://evil.example/"),
        ("https://ｅｘａｍｐｌｅ.com/%2F", "https://example.com/%2F"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://[::1]:99/", "http://[::1]:99/"),
        ("localhost:8080/x", "http://localhost:8080/x"),
        ("http://example.com?a\\b", "http://example.com/?a%5Cb"),
        ("  http://example.com/\n", "http://example.com/"),
    ],
)
def test_targets_are_unambiguous_and_land_where_the_check_looked(posted: str, target: str) -> None:
    assert redirect_target(posted) == target
    assert canonicalize(target) == canonicalize(posted)


@pytest.mark.parametrize(
    "posted",
    [
        "javascript:alert(1)",
        "ftp://example.com/",
        "http://",
        "data:text/html,hi",
        "http://a.com:99999/",
    ],
)
def test_no_target_for_what_is_not_a_web_link(posted: str) -> None:
    with pytest.raises(InvalidURL):
        redirect_target(posted)


# The characters URL tricks are made of, so that most examples are URLs of some kind.
URLISH = st.text(alphabet="htps:/\\@.%#?&=[]:-_aAeé0127fFｅ。 \t", max_size=40)


@given(st.one_of(URLISH, st.builds("http://a.b{}".format, URLISH), st.text(max_size=40)))
def test_any_target_is_ascii_without_spaces_and_checks_the_same(text: str) -> None:
    try:
        target = redirect_target(text)
    except InvalidURL:
        return
    assert target.isascii() and not any(c.isspace() or ord(c) < 32 for c in target)
    assert target.startswith(("http://", "https://"))
    assert canonicalize(target) == canonicalize(text)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "ff02::1",
    ],
)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert not public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert public_address(ipaddress.ip_address(address))
