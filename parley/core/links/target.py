"""Where to send a browser for a link as posted: the same place the link was checked for.

A redirect must not be read one way by the checker and another by the browser. Sending the text
as posted is not safe: `http:\\\\good.example\\@evil.example/` is good.example to a browser, but
once an HTTP library percent-encodes the backslashes for the Location header it becomes a URL
whose host is evil.example. So the target is rebuilt from the posted text in one unambiguous
ASCII form: scheme added when missing, userinfo dropped, the canonical host (punycode, dotted
quad), the port as posted, and path, query and fragment as posted with only what a URL cannot
hold percent-encoded (existing escapes are kept: `%2F` must stay `%2F`). Then it is canonicalized
again, and refused unless it lands on the same canonical URL as the text as posted.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from parley.core.links.canonical import InvalidURL, canonical_parts, canonicalize

__all__ = ["redirect_target"]

_SCHEME_RE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_AFTER_SCHEME_RE: Final = re.compile(r"^:[0-9]+(?:[/?#]|$)")
# Hosts a browser opens as they are: DNS names (underscores occur in real ones) and IP literals.
_OPENABLE_HOST_RE: Final = re.compile(r"^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$")
_PATH_SAFE: Final = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE: Final = _PATH_SAFE + "?"
_MAX_PORT: Final = 65535


def redirect_target(url: str) -> str:
    """The absolute http(s) URL to redirect to for `url` as posted; `InvalidURL` if none is safe."""
    # What browsers do first: drop surrounding whitespace and controls, and any tab or newline.
    text = url.strip("".join(map(chr, range(33))))
    text = text.replace("\t", "").replace("\r", "").replace("\n", "")
    parts = canonical_parts(text)  # refuses other schemes and host-less text
    if not _OPENABLE_HOST_RE.fullmatch(parts.host):
        raise InvalidURL(f"not a host a browser can open: {parts.host!r}")

    rest = text
    match = _SCHEME_RE.match(text)
    if match and not _PORT_AFTER_SCHEME_RE.match(text[match.end() - 1 :]):
        rest = text[match.end() :]
    rest, hash_sign, fragment = rest.partition("#")
    before_query, question, query = rest.lstrip("/\\").partition("?")
    authority, slash, path = before_query.replace("\\", "/").partition("/")
    host_and_port = authority.rpartition("@")[2]
    port = _port(host_and_port)

    try:
        target = f"{parts.scheme}://{parts.host}{port}{quote(slash + path, safe=_PATH_SAFE) or '/'}"
        if question:
            target += "?" + quote(query, safe=_QUERY_SAFE)
        if hash_sign:
            target += "#" + quote(fragment, safe=_QUERY_SAFE + "#")
    except UnicodeEncodeError:  # a lone surrogate: no browser could send it either
        raise InvalidURL(f"not encodable: {url!r}") from None
    if canonicalize(target) != str(parts):
        raise InvalidURL(f"no unambiguous form of {url!r} to send a browser to")
    return target


def _port(host_and_port: str) -> str:
    """The port the authority names, as ":8080", or "" when it names none."""
    if host_and_port.startswith("["):
        after = host_and_port.partition("]")[2]
    else:
        after = host_and_port.partition(":")[1] + host_and_port.partition(":")[2]
    digits = after.removeprefix(":")
    if not after or not digits:
        return ""
    if not digits.isascii() or not digits.isdigit() or int(digits) > _MAX_PORT:
        raise InvalidURL(f"not a port: {digits!r}")
    return f":{int(digits)}"
