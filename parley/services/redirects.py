"""One step of a shortener's redirect chain, fetched without letting a link aim the server at
its own network (SSRF).

Each step resolves the host itself, refuses the request unless every address is public, then
connects to exactly that address (the URL carries the IP; Host and TLS SNI carry the name, so
certificates are still verified against the name). Nothing is resolved twice, so DNS rebinding
between the check and the connection is impossible. No redirect is followed by httpx: the caller
checks each hop against the link rules before it asks for the next one.

Anyone may ask for a check, so the follower must not become a port scanner: the node makes at
most `max_concurrent` outbound fetches at once (a check that waits longer than `slot_wait` for
one is told `busy`), and every way a hop can fail on the network (refused, reset, timeout, DNS,
TLS, a name that resolves to a refused address) is the one reason `unreachable`. Only what the
URL itself shows is told apart: an address literal the registries refuse is `unsafe_address`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Final

import httpx

from parley.core.links.addresses import IPAddress, contactable
from parley.core.links.canonical import InvalidURL, canonical_host

__all__ = [
    "ChainBroken",
    "IPAddress",
    "RedirectFollower",
    "public_address",
    "real_transport",
    "system_resolve",
]

log = logging.getLogger(__name__)
Resolver = Callable[[str, int], Awaitable[list[str]]]

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
# HEAD is what we want (no body); some servers refuse it and only redirect a GET.
_RETRY_WITH_GET_FROM: Final = 400
_USER_AGENT: Final = "Parley-LinkCheck/1 (+https://github.com/parley)"


class ChainBroken(Exception):
    """The chain could not be followed further; `reason` is a stable code for the API."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for a host name."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def public_address(ip: IPAddress) -> bool:
    """Whether an address is on the public internet (core.links.addresses decides)."""
    return contactable(ip)


@cache
def _tls() -> ssl.SSLContext:
    """The system's CA bundle, loaded once a process: loading it takes some 20 ms of CPU, and
    a context serves any number of transports (every node a process starts, in the tests)."""
    return httpx.create_ssl_context(trust_env=False)


def real_transport() -> httpx.AsyncBaseTransport:
    """No pooled connections: a pooled connection to an IP could be reused for another name on
    that IP, with the first name's TLS session. No proxy either: the address we checked must be
    the one we connect to."""
    return httpx.AsyncHTTPTransport(
        verify=_tls(), limits=httpx.Limits(max_keepalive_connections=0), trust_env=False
    )


class RedirectFollower:
    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        max_concurrent: int = 16,
        slot_wait: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.slot_wait = slot_wait
        self._slots = asyncio.Semaphore(max_concurrent)
        # Hooks tests replace: name resolution, and which addresses may be contacted.
        self.resolve: Resolver = system_resolve
        self.address_allowed: Callable[[IPAddress], bool] = self.default_address_policy
        # The transport, not a client: a client works out where a redirect leads even when it
        # does not follow it, and raises on a Location it cannot parse, which we must judge
        # ourselves. Tests pass one that answers without a network (httpx.MockTransport).
        self.transport = transport or real_transport()

    def default_address_policy(self, ip: IPAddress) -> bool:
        return self.allow_private or public_address(ip)

    async def close(self) -> None:
        await self.transport.aclose()

    async def next_hop(self, url: str) -> str | None:
        """The absolute URL `url` redirects to, or None when it answers without redirecting.
        Raises `ChainBroken` when it cannot or must not be asked."""
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, UnicodeError, ValueError) as error:
            raise ChainBroken("bad_redirect", f"not a URL: {error}") from None
        if target.scheme not in ("http", "https"):
            raise ChainBroken("unsupported_scheme", f"not http(s): {target.scheme!r}")
        host = target.raw_host.decode("ascii")
        if not host:
            raise ChainBroken("bad_redirect", "a URL without a host")
        secure = target.scheme == "https"
        try:
            async with asyncio.timeout(self.slot_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise ChainBroken("busy", "no outbound slot free") from None
        try:
            return await self._fetch(target, host, secure)
        finally:
            self._slots.release()

    async def _fetch(self, target: httpx.URL, host: str, secure: bool) -> str | None:
        address = await self._address(host, target.port or (443 if secure else 80))
        pinned = target.copy_with(host=address)
        headers = {"Host": target.netloc.decode("ascii"), "User-Agent": _USER_AGENT}
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        extensions: dict[str, object] = {"timeout": timeouts}
        if secure and _ip(host) is None:
            # TLS for a name: SNI and certificate verification use the name, not the address.
            extensions["sni_hostname"] = host
        location = await self._ask("HEAD", pinned, headers, extensions)
        if location is None:
            return None
        try:
            return str(target.join(location))
        except (httpx.InvalidURL, UnicodeError, ValueError) as error:
            raise ChainBroken("bad_redirect", f"unusable Location: {error}") from None

    async def _ask(
        self, method: str, url: httpx.URL, headers: dict[str, str], extensions: dict[str, object]
    ) -> str | None:
        """The Location of a redirect answer, None for any other answer. The body is never read."""
        request = httpx.Request(method, url, headers=headers, extensions=extensions)
        try:
            response = await self.transport.handle_async_request(request)
        except (httpx.HTTPError, OSError) as error:
            raise ChainBroken("unreachable", f"{type(error).__name__}: {error}") from None
        await response.aclose()
        if response.status_code in REDIRECTS:
            location: str | None = response.headers.get("location")
            if not location:
                raise ChainBroken("bad_redirect", f"{response.status_code} without a Location")
            return location
        if method == "HEAD" and response.status_code >= _RETRY_WITH_GET_FROM:
            return await self._ask("GET", url, headers, extensions)
        return None

    async def _address(self, host: str, port: int) -> str:
        """The one address to connect to; every address the name has must be allowed."""
        literal = _literal(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                found = [ip for ip in map(_ip, await self.resolve(host, port)) if ip is not None]
            except OSError as error:
                raise ChainBroken("unreachable", f"{host}: {error}") from None
            if not found:
                raise ChainBroken("unreachable", f"{host} has no address")
        refused = [ip for ip in found if not self.address_allowed(ip)]
        if refused:
            # A literal is refused for what the URL says; a name for what DNS said, which an
            # anonymous caller must not learn (which internal names exist): "unreachable".
            reason = "unsafe_address" if literal is not None else "unreachable"
            raise ChainBroken(reason, f"{host} is a non-public address ({refused[0]})")
        return str(found[0])


def _literal(host: str) -> IPAddress | None:
    """The address a host names by itself, in any spelling a resolver reads as one
    ("2130706433", "0x7f.1"), without asking DNS."""
    found = _ip(host)
    if found is not None:
        return found
    try:
        return _ip(canonical_host(host))
    except InvalidURL:
        return None


def _ip(text: str) -> IPAddress | None:
    try:
        # A scoped IPv6 address (fe80::1%eth0) is link-local whatever its scope.
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
