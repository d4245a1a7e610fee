"""URL canonicalization: Google's published examples, our additions, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.canonical import (
    InvalidURL,
    canonical_parts,
    canonicalize,
    split_canonical,
)

# Every example published with the Safe Browsing v4 canonicalization rules
# (developers.google.com/safe-browsing/v4/urls-hashing#canonicalization), in the page's order.
# "\x01\x80" there means two raw bytes, so that input is given as bytes.
GOOGLE_EXAMPLES: list[tuple[str | bytes, str]] = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    (b"http://\x01\x80.com/", "http://%01%80.com/"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]


@pytest.mark.parametrize(("url", "expected"), GOOGLE_EXAMPLES)
def test_google_published_examples(url: str | bytes, expected: str) -> None:
    assert canonicalize(url) == expected


# Beyond Safe Browsing: what DESIGN.md asks for (IDN, ports, userinfo) and what browsers do.
OUR_EXAMPLES: list[tuple[str, str]] = [
    ("http://www.google.com:80/", "http://www.google.com/"),
    ("https://www.google.com:443/", "https://www.google.com/"),
    ("https://www.google.com:8443/x", "https://www.google.com/x"),
    ("http://www.google.com:/", "http://www.google.com/"),
    ("www.google.com:1234/x", "http://www.google.com/x"),
    ("HTTP://Example.COM/Path", "http://example.com/Path"),
    ("http://user:pass@example.com/", "http://example.com/"),
    ("http://good.example@evil.example/", "http://evil.example/"),
    ("http://a@b@evil.example/", "http://evil.example/"),
    ("http:\\\\evil.example\\@good.example/", "http://evil.example/@good.example/"),
    ("http:/evil.example/x", "http://evil.example/x"),
    ("http:///evil.example/x", "http://evil.example/x"),
    ("http://evil.example?@good.example/", "http://evil.example/?@good.example/"),
    ("http://ｅｘａｍｐｌｅ．ｃｏｍ/", "http://example.com/"),
    ("http://example。com/", "http://example.com/"),
    ("http://EXAMPLE．com./", "http://example.com/"),
    ("http://bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
    ("http://ＢÜＣＨＥＲ.example/", "http://xn--bcher-kva.example/"),
    ("http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/"),
    ("http://XN--BCHER-KVA.example/", "http://xn--bcher-kva.example/"),
    ("http://example.com/über", "http://example.com/%C3%BCber"),
    ("http://0xC0A80101/", "http://192.168.1.1/"),
    ("http://0300.0250.1.1/", "http://192.168.1.1/"),
    ("http://0xc0.0xa8.0x1.0x1/", "http://192.168.1.1/"),
    ("http://192.168.257/", "http://192.168.1.1/"),
    ("http://192.11010305/", "http://192.168.1.1/"),
    ("http://3232235777/", "http://192.168.1.1/"),
    ("http://１９２．１６８．１．１/", "http://192.168.1.1/"),
    ("http://256.1.1.1/", "http://256.1.1.1/"),
    ("http://08.1.1.1/", "http://08.1.1.1/"),
    ("http://[::FFFF:192.168.1.1]:80/", "http://192.168.1.1/"),
    ("http://[2001:DB8:0:0::1]:8080/x", "http://[2001:db8::1]/x"),
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://example.com/x/../bad", "http://example.com/bad"),
    ("http://example.com/x//../bad", "http://example.com/x/bad"),
    ("http://example.com/../../a", "http://example.com/a"),
    ("http://example.com/a/.", "http://example.com/a/"),
    ("http://example.com/%2e%2e/a", "http://example.com/a"),
    ("http://example.com/a?b=../c#d", "http://example.com/a?b=../c"),
    ("http://example.com/%7e", "http://example.com/~"),
    ("http://example.com/%0a", "http://example.com/%0A"),
]


@pytest.mark.parametrize(("url", "expected"), OUR_EXAMPLES)
def test_additions_beyond_safe_browsing(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "mailto:a@example.com", "ftp://example.com/", "http://", ""]
)
def test_non_web_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        canonicalize(url)


def test_split_canonical_round_trips() -> None:
    for url in ["http://a.example/b/c?d=e", "https://a.example/", "http://a.example/q?"]:
        parts = canonical_parts(url)
        assert split_canonical(str(parts)) == parts


URL_TEXT = st.lists(
    st.sampled_from(
        [
            *"abcXYZ019.-_/\\?#%@:;=&+~!$'()*,[] \t\n",
            "%2e",
            "%2F",
            "%25",
            "%3F",
            "%23",
            "%40",
            "%41",
            "%C3%BC",
            "%80",
            "..",
            "//",
            "ü",
            "ｅ",
            "．",
            "。",
            "İ",
            "ß",
            "\u200d",
            "\x00",
            "\x7f",
        ]
    ),
    max_size=40,
).map("".join)


@given(
    scheme=st.sampled_from(["", "http://", "HTTPS://", "http:", "http:\\\\"]),
    host=URL_TEXT,
    rest=URL_TEXT,
)
def test_canonicalization_is_idempotent(scheme: str, host: str, rest: str) -> None:
    try:
        once = canonicalize(scheme + host + rest)
    except InvalidURL:
        return
    assert canonicalize(once) == once


@given(url=st.binary(max_size=60))
def test_canonicalization_of_any_bytes_is_idempotent(url: bytes) -> None:
    try:
        once = canonicalize(b"http://" + url)
    except InvalidURL:
        return
    assert once.isascii()
    assert canonicalize(once) == once
