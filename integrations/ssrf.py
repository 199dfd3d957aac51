"""The SSRF guard of outbound webhooks: which URLs and addresses we send to.

``resolve_target(url)`` parses the URL (http or https, a host, no user or password in
it), resolves the host once and checks every address it resolves to; the sender then
connects to that checked address (``integrations.webhook_http``), never resolving the
name again, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot redirect it. Refused: loopback, private, link-local, multicast,
reserved, unspecified and shared (CGNAT, 100.64.0.0/10) addresses, the cloud metadata
addresses, anything else not globally routable, and the same hidden in IPv6 forms
(IPv4-mapped, IPv4-compatible, IPv4-translated, 6to4, NAT64; Teredo is refused outright).

``settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS`` (tests and local use only) skips the address
checks, never the URL's. Pure functions apart from the DNS look-up; no Django models.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 ::ffff:0:a.b.c.d

# Reasons (``details.reason`` of a 400 ``webhook_url_refused``, and the error of a refused attempt).
REASON_MESSAGES = {
    "scheme": "The URL must start with http:// or https://.",
    "userinfo": "The URL must not contain a user name or password.",
    "host": "The URL must name a host.",
    "port": "The URL's port is not valid.",
    "unresolvable": "The URL's host name does not resolve.",
    "metadata": "The URL points at a cloud metadata address.",
    "unspecified": "The URL points at an unspecified address (0.0.0.0 or ::).",
    "loopback": "The URL points at a loopback address.",
    "link_local": "The URL points at a link-local address.",
    "multicast": "The URL points at a multicast address.",
    "shared": "The URL points at a shared (carrier-grade NAT) address.",
    "private": "The URL points at a private address.",
    "reserved": "The URL points at a reserved address.",
    "tunnel": "The URL points at a tunnelling (Teredo or local NAT64) address.",
    "not_global": "The URL points at an address that is not publicly routable.",
}


class TargetRefused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.message = REASON_MESSAGES[reason]
        super().__init__(self.message)


@dataclass(frozen=True)
class Target:
    """Where to send: the checked ``address`` to connect to, and the URL's parts for the
    request (``host`` for the Host header and TLS)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, translated, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64_WELL_KNOWN or address in IPV4_TRANSLATED:
        return low32
    if address in IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves
        return low32
    return None


def address_refusal(address: IPAddress | str) -> str | None:
    """Why ``address`` may not be sent to (a key of REASON_MESSAGES), or None."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link_local"
        inner = embedded_ipv4(ip)
        if inner is not None:
            return address_refusal(inner)
        if ip.teredo is not None or ip in NAT64_LOCAL:
            return "tunnel"
    if ip in METADATA_ADDRESSES:
        return "metadata"
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link_local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_ADDRESS_SPACE, "shared"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "private"),
        (not ip.is_global, "not_global"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL without user information."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("port" if "port" in str(exc).lower() else "host") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetRefused("scheme")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise TargetRefused("userinfo")
    host = parts.hostname
    if not host:
        raise TargetRefused("host")
    if port == 0:
        raise TargetRefused("port")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or SCHEMES[scheme], path


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise TargetRefused("unresolvable") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        try:
            ip = ipaddress.ip_address(str(info[4][0]))  # a scoped one (fe80::1%eth0) keeps its scope
        except ValueError:
            continue
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise TargetRefused("unresolvable")
    return addresses


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """The URL's target, its host resolved once; every address it resolves to must pass
    ``address_refusal``. ``allow_private`` (tests, local use) lets loopback, private and
    the other internal addresses through, never a cloud metadata address. Raises
    TargetRefused."""
    scheme, host, port, path = parse_url(url)
    addresses = _resolve(host, port)
    for ip in addresses:
        reason = address_refusal(ip)
        if reason is not None and (not allow_private or reason == "metadata"):
            raise TargetRefused(reason)
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
