"""The SSRF-safe transport of webhook deliveries.

Server-side request forgery: unless the instance allows private targets
(``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``), an endpoint whose host is or resolves to a loopback,
private, link-local (cloud metadata), shared (CGNAT), multicast, unspecified or reserved
address is refused at registration (:func:`check_public_url`), and every delivery connection
checks again (see :class:`PublicOnlyAdapter`).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from evidence_chain.errors import ValidationError


class SendError(Exception):
    """The POST did not get an HTTP response (refused, timed out, TLS, DNS)."""


class BlockedAddressError(SendError):
    """The endpoint's host is, or resolves to, an address webhooks may not be sent to."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215


def blocked_reason(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` ("loopback", "private", ...); None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge it as such.
        if address.ipv4_mapped is not None:
            return blocked_reason(address.ipv4_mapped)
        if address in _NAT64:  # DNS64 answers these for every IPv4-only name
            return blocked_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        for embedded in (address.sixtofour, address.teredo[1] if address.teredo else None):
            if embedded is not None and (reason := blocked_reason(embedded)) is not None:
                return reason
        if address in _LOCAL_NAT64:
            return "private"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.0.0/16 (cloud metadata: 169.254.169.254), fe80::/10
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared (carrier-grade NAT)"
    if address.is_reserved:
        return "reserved"  # 240.0.0.0/4 and the IPv6 blocks IANA has not allocated
    if address.is_private:
        return "private"  # RFC 1918, fc00::/7, and the other special-purpose blocks
    if not address.is_global:
        return "non-public"
    return None


def resolve_public(host: str, port: int) -> list[str]:
    """Resolve ``host`` once and return its addresses, all of them public; BlockedAddressError
    naming the first that is not (socket.gaierror when the name does not resolve)."""
    host = host.strip("[]")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0])
        reason = blocked_reason(ipaddress.ip_address(text))
        if reason is not None:
            try:
                ipaddress.ip_address(host)
                where = f"{host} is"
            except ValueError:
                where = f"{host} resolves to"
            article = "an" if reason[0] in "aeiou" else "a"
            raise BlockedAddressError(
                f"{where} {article} {reason} address; webhooks are sent only to public addresses"
            )
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    return addresses


def check_public_url(url: str) -> None:
    """ValidationError when the URL's host is, or now resolves to, a non-public address.

    A name that does not resolve yet is accepted: every delivery checks again when it connects.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        resolve_public(host, parts.port or (443 if parts.scheme == "https" else 80))
    except BlockedAddressError as exc:
        raise ValidationError(
            f"url is refused: {exc}", details={"field": "url", "host": host}
        ) from None
    except UnicodeError:
        raise ValidationError("url has an invalid host name", details={"field": "url"}) from None
    except OSError:
        return


def _connect_public(conn: HTTPConnection) -> socket.socket:
    """The socket of a delivery connection: resolved once, validated, then connected by IP."""
    try:
        addresses = resolve_public(conn._dns_host, int(conn.port or 0))
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    error: Exception | None = None
    for address in addresses:
        try:
            return create_connection(
                (address, int(conn.port or 0)),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            error = ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            )
            error.__cause__ = exc
        except OSError as exc:
            error = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
    assert error is not None
    raise error


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self)


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_public(self)


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections go only to public addresses.

    Why here, and not as a check of the URL before the POST: checking a name and then letting
    the HTTP client resolve it again to connect is open to DNS rebinding (a name with a short
    TTL answers a public address to the check and 127.0.0.1 or 169.254.169.254 to the
    connect). So the check is the connection: each new socket resolves the host exactly once,
    refuses if any answer is not public, and connects to one of those very addresses, by IP.
    Only the socket's destination changes: the Host header, TLS SNI and certificate checks
    still use the URL's host name. A kept-alive connection is reused only for the same host
    and port, and was validated when it was opened. Redirects are not followed by the caller
    (a redirect would be a new URL to check).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with pools whose connections validate their peer address."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


class Transport(Protocol):
    """Sends one POST and returns the HTTP status code; raises SendError without a response."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST ``body`` to ``url``."""
        ...


class RequestsTransport:
    """The real transport: ``requests``, one keep-alive session per thread, no redirects; only
    to public addresses unless ``allow_private``."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._local = threading.local()
        self.allow_private = allow_private

    def _session(self) -> Any:
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never route deliveries through an environment proxy
            if not self.allow_private:
                session.mount("http://", PublicOnlyAdapter())
                session.mount("https://", PublicOnlyAdapter())
            self._local.session = session
        return session

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST without following redirects; the response body is not read beyond 64 KiB."""
        import requests

        try:
            with self._session().post(
                url,
                data=body,
                headers=dict(headers),
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                response.raw.read(65536, decode_content=False)
                return int(response.status_code)
        except requests.Timeout as exc:
            raise SendError(f"timed out after {timeout:g} s: {exc}") from None
        except (requests.RequestException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None


__all__ = [
    "BlockedAddressError",
    "PublicOnlyAdapter",
    "RequestsTransport",
    "SendError",
    "Transport",
    "blocked_reason",
    "check_public_url",
    "resolve_public",
]
