"""The SSRF-safe transport of webhook deliveries.

Server-side request forgery: unless the instance allows private targets
(``EVIDENCE_WEBHOOK_ALLOW_PRIVATE``), an endpoint whose host is or resolves to a loopback,
private, link-local (cloud metadata), shared (CGNAT), multicast, unspecified or reserved
address is refused at registration (:func:`webhooks.urls.check_url`), and every delivery
connection checks again with the same policy (see :class:`PublicOnlyAdapter`).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from webhooks.urls import BlockedAddressError, SendError, blocked_reason, resolve_public


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
    "resolve_public",
]
